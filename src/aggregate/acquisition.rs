//! Acquisition: where sessions came from and what they were worth. The `channels`, `sources`,
//! `campaigns`, `search_engines`, `search_keywords`, `landing_pages_by_channel` and `goals`
//! tables.
//!
//! Every table here counts the same [`SessionMetrics`] under a different key, so that a
//! channel, a campaign and a keyword can be compared column for column.

use std::hash::Hash;

use super::{IdMap, Merge, Session, count_distinct, ratio, sort_rows};
use crate::enrich::channel::Channel;
use crate::enrich::{Lookups, Text};

/// What a set of sessions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionMetrics {
    pub sessions: u64,
    pub visitors: u64,
    pub page_views: u64,
    pub bounces: u64,
    pub engaged: u64,
    pub duration_ms: u64,
    pub conversions: u64,
    /// Conversion value in millionths.
    pub value_micro: i64,
}

impl Merge for SessionMetrics {
    fn merge(&mut self, o: Self) {
        self.sessions += o.sessions;
        self.visitors += o.visitors;
        self.page_views += o.page_views;
        self.bounces += o.bounces;
        self.engaged += o.engaged;
        self.duration_ms += o.duration_ms;
        self.conversions += o.conversions;
        self.value_micro = self.value_micro.saturating_add(o.value_micro);
    }
}

impl SessionMetrics {
    pub fn add(&mut self, s: &Session) {
        self.sessions += 1;
        self.page_views += u64::from(s.page_views);
        self.bounces += u64::from(s.bounce());
        self.engaged += u64::from(s.engaged());
        self.duration_ms += s.duration_ms().max(0) as u64;
        self.conversions += u64::from(s.goal.is_some());
        self.value_micro = self.value_micro.saturating_add(s.value_micro);
    }

    /// The rates and averages every acquisition table shows.
    pub fn rates(&self) -> Rates {
        Rates {
            bounce_rate: ratio(self.bounces, self.sessions),
            engagement_rate: ratio(self.engaged, self.sessions),
            avg_session_s: ratio(self.duration_ms, self.sessions).map(|ms| ms / 1000.0),
            conversion_rate: ratio(self.conversions, self.sessions),
            value: self.value_micro as f64 / 1e6,
        }
    }
}

/// Derived columns of [`SessionMetrics`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub bounce_rate: Option<f64>,
    pub engagement_rate: Option<f64>,
    pub avg_session_s: Option<f64>,
    pub conversion_rate: Option<f64>,
    pub value: f64,
}

/// [`SessionMetrics`] per key, with each visitor counted once per key.
#[derive(Debug)]
pub struct Keyed<K> {
    pub by: IdMap<K, SessionMetrics>,
}

impl<K> Default for Keyed<K> {
    fn default() -> Self {
        Keyed {
            by: IdMap::default(),
        }
    }
}

impl<K: Hash + Eq> Merge for Keyed<K> {
    fn merge(&mut self, other: Self) {
        self.by.merge(other.by);
    }
}

impl<K: Hash + Eq + Ord + Copy> Keyed<K> {
    /// Adds one visitor's sessions under `key` (sessions without a key are skipped).
    pub fn add_visitor(
        &mut self,
        sessions: &[Session],
        key: impl Fn(&Session) -> Option<K>,
        scratch: &mut Vec<K>,
    ) {
        self.add_indexed(sessions, |_, s| key(s), scratch);
    }

    /// Adds all of one visitor's sessions under one key.
    pub fn add_all(&mut self, sessions: &[Session], key: K) {
        if sessions.is_empty() {
            return;
        }
        let m = self.by.entry(key).or_default();
        sessions.iter().for_each(|s| m.add(s));
        m.visitors += 1;
    }

    /// [`Keyed::add_visitor`] with the session's index among `sessions` given to `key`.
    pub fn add_indexed(
        &mut self,
        sessions: &[Session],
        key: impl Fn(usize, &Session) -> Option<K>,
        scratch: &mut Vec<K>,
    ) {
        // Most visitors' sessions share one key (one session, or one channel): one map entry.
        let first = sessions.first().and_then(|s| key(0, s));
        if let Some(k) = first
            && sessions
                .iter()
                .enumerate()
                .skip(1)
                .all(|(i, s)| key(i, s) == Some(k))
        {
            return self.add_all(sessions, k);
        }
        scratch.clear();
        for (i, s) in sessions.iter().enumerate() {
            if let Some(k) = key(i, s) {
                self.by.entry(k).or_default().add(s);
                scratch.push(k);
            }
        }
        count_distinct(scratch, |k| self.by.entry(k).or_default().visitors += 1);
    }
}

/// Conversions per goal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoalCounts {
    pub conversions: u64,
    pub visitors: u64,
    pub value_micro: i64,
}

impl Merge for GoalCounts {
    fn merge(&mut self, o: Self) {
        self.conversions += o.conversions;
        self.visitors += o.visitors;
        self.value_micro = self.value_micro.saturating_add(o.value_micro);
    }
}

#[derive(Debug, Default)]
pub struct Acquisitions {
    pub channels: Keyed<Channel>,
    /// (source label, medium label).
    pub sources: Keyed<(u32, u32)>,
    /// Acquisition ids that carry campaign tags.
    pub campaigns: Keyed<u32>,
    /// Search engine label.
    pub engines: Keyed<u32>,
    /// (engine label, keyword label).
    pub keywords: Keyed<(u32, u32)>,
    /// (entry path, channel).
    pub landing: Keyed<(u32, Channel)>,
    pub goals: IdMap<u16, GoalCounts>,
}

impl Merge for Acquisitions {
    fn merge(&mut self, o: Self) {
        self.channels.merge(o.channels);
        self.sources.merge(o.sources);
        self.campaigns.merge(o.campaigns);
        self.engines.merge(o.engines);
        self.keywords.merge(o.keywords);
        self.landing.merge(o.landing);
        self.goals.merge(o.goals);
    }
}

/// Buffers reused from visitor to visitor.
#[derive(Default)]
pub struct AcquisitionScratch {
    channels: Vec<Channel>,
    pairs: Vec<(u32, u32)>,
    ids: Vec<u32>,
    landing: Vec<(u32, Channel)>,
    goals: Vec<u16>,
}

impl Acquisitions {
    /// One visitor's sessions.
    pub fn add_visitor(
        &mut self,
        sessions: &[Session],
        lookups: &Lookups,
        scratch: &mut AcquisitionScratch,
    ) {
        let acq = |s: &Session| lookups.acquisition(s.acquisition);
        self.channels
            .add_visitor(sessions, |s| Some(acq(s).channel), &mut scratch.channels);
        self.sources.add_visitor(
            sessions,
            |s| Some((acq(s).source, acq(s).medium)),
            &mut scratch.pairs,
        );
        self.campaigns.add_visitor(
            sessions,
            |s| acq(s).campaign.map(|_| s.acquisition),
            &mut scratch.ids,
        );
        self.engines.add_visitor(
            sessions,
            |s| lookups.referrer(s.referrer).engine,
            &mut scratch.ids,
        );
        self.keywords.add_visitor(
            sessions,
            |s| {
                let r = lookups.referrer(s.referrer);
                r.engine.zip(r.keyword)
            },
            &mut scratch.pairs,
        );
        self.landing.add_visitor(
            sessions,
            |s| Some((s.entry, acq(s).channel)),
            &mut scratch.landing,
        );

        scratch.goals.clear();
        for s in sessions {
            if let Some(goal) = s.goal {
                let g = self.goals.entry(goal).or_default();
                g.conversions += 1;
                g.value_micro = g.value_micro.saturating_add(s.value_micro);
                scratch.goals.push(goal);
            }
        }
        count_distinct(&mut scratch.goals, |g| {
            self.goals.entry(g).or_default().visitors += 1
        });
    }
}

/// A row of any acquisition table: its key columns, then the shared metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsRow<K> {
    pub key: K,
    pub metrics: SessionMetrics,
    pub rates: Rates,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CampaignKey {
    pub source: Text,
    pub medium: Text,
    pub campaign: Text,
    pub term: Option<Text>,
    pub content: Option<Text>,
    pub channel: &'static str,
}

/// One row of the `goals` table.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalRow {
    pub goal: String,
    pub pattern: String,
    pub conversions: u64,
    pub visitors: u64,
    pub conversion_rate: Option<f64>,
    pub value: f64,
}

/// Every acquisition table, as rows.
pub struct AcquisitionReports {
    pub channels: Vec<MetricsRow<&'static str>>,
    pub sources: Vec<MetricsRow<(Text, Text)>>,
    pub campaigns: Vec<MetricsRow<CampaignKey>>,
    pub search_engines: Vec<MetricsRow<Text>>,
    pub search_keywords: Vec<MetricsRow<(Text, Text)>>,
    pub landing_pages: Vec<MetricsRow<(Text, &'static str)>>,
    pub goals: Vec<GoalRow>,
}

pub(super) fn rows<K: Copy, R: Ord>(keyed: &Keyed<K>, key: impl Fn(K) -> R) -> Vec<MetricsRow<R>> {
    let mut rows: Vec<MetricsRow<R>> = keyed
        .by
        .iter()
        .map(|(&k, m)| MetricsRow {
            key: key(k),
            metrics: *m,
            rates: m.rates(),
        })
        .collect();
    sort_rows(&mut rows, |r| r.metrics.sessions, |a, b| a.key.cmp(&b.key));
    rows
}

pub fn finish(a: &Acquisitions, lookups: &Lookups, sessions: u64) -> AcquisitionReports {
    let label = |id: u32| lookups.labels[id as usize].clone();
    let mut goals: Vec<GoalRow> = lookups
        .goals
        .goals
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let c = a.goals.get(&(i as u16)).copied().unwrap_or_default();
            GoalRow {
                goal: g.name.clone(),
                pattern: g.pattern.clone(),
                conversions: c.conversions,
                visitors: c.visitors,
                conversion_rate: ratio(c.conversions, sessions),
                value: c.value_micro as f64 / 1e6,
            }
        })
        .collect();
    sort_rows(&mut goals, |r| r.conversions, |a, b| a.goal.cmp(&b.goal));
    AcquisitionReports {
        channels: rows(&a.channels, |c| c.name()),
        sources: rows(&a.sources, |(s, m)| (label(s), label(m))),
        campaigns: rows(&a.campaigns, |id| {
            let acq = lookups.acquisition(id);
            CampaignKey {
                source: label(acq.source),
                medium: label(acq.medium),
                campaign: acq
                    .campaign
                    .map(label)
                    .unwrap_or_else(|| Text::from(crate::enrich::lookups::NOT_SET)),
                term: acq.term.map(label),
                content: acq.content.map(label),
                channel: acq.channel.name(),
            }
        }),
        search_engines: rows(&a.engines, label),
        search_keywords: rows(&a.keywords, |(e, k)| (label(e), label(k))),
        landing_pages: rows(&a.landing, |(p, c)| {
            (lookups.paths[p as usize].clone(), c.name())
        }),
        goals,
    }
}
