//! Traffic sources: the `referrers` and `referring_sites` tables.
//!
//! A session's source is the referrer of its entry page view, when that referrer is external
//! (present, and not the site's own). Channels, campaigns and keywords build on this.

use super::{IdMap, Merge, Session, count_distinct, ratio, sort_rows};
use crate::enrich::{Lookups, Text};

/// Counts for one source (a referrer URL or a host).
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceCounts {
    pub sessions: u64,
    pub visitors: u64,
    pub page_views: u64,
    pub bounces: u64,
}

impl Merge for SourceCounts {
    fn merge(&mut self, o: Self) {
        self.sessions += o.sessions;
        self.visitors += o.visitors;
        self.page_views += o.page_views;
        self.bounces += o.bounces;
    }
}

impl SourceCounts {
    fn add(&mut self, s: &Session) {
        self.sessions += 1;
        self.page_views += u64::from(s.page_views);
        self.bounces += u64::from(s.bounce());
    }
}

/// Counts per external referrer id and per host id.
#[derive(Default)]
pub struct Sources {
    pub referrers: IdMap<u32, SourceCounts>,
    pub hosts: IdMap<u32, SourceCounts>,
}

impl Merge for Sources {
    fn merge(&mut self, other: Self) {
        self.referrers.merge(other.referrers);
        self.hosts.merge(other.hosts);
    }
}

impl Sources {
    pub fn add_session(&mut self, lookups: &Lookups, s: &Session) {
        let referrer = lookups.referrer(s.referrer);
        if !referrer.is_external() {
            return;
        }
        self.referrers.entry(s.referrer).or_default().add(s);
        if let Some(host) = referrer.host {
            self.hosts.entry(host).or_default().add(s);
        }
    }

    /// Counts a visitor once per distinct external referrer and host of its sessions.
    pub fn add_visitor(&mut self, lookups: &Lookups, sessions: &[Session], scratch: &mut Vec<u32>) {
        scratch.clear();
        scratch.extend(
            sessions
                .iter()
                .map(|s| s.referrer)
                .filter(|&r| lookups.referrer(r).is_external()),
        );
        count_distinct(scratch, |r| {
            self.referrers.entry(r).or_default().visitors += 1
        });
        scratch.clear();
        scratch.extend(
            sessions
                .iter()
                .map(|s| lookups.referrer(s.referrer))
                .filter(|r| r.is_external())
                .filter_map(|r| r.host),
        );
        count_distinct(scratch, |h| self.hosts.entry(h).or_default().visitors += 1);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReferrerRow {
    pub referrer: Text,
    pub host: Option<Text>,
    pub sessions: u64,
    pub visitors: u64,
    pub page_views: u64,
    pub bounces: u64,
    pub bounce_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow {
    pub host: Text,
    pub sessions: u64,
    pub visitors: u64,
    pub page_views: u64,
    pub bounces: u64,
    pub bounce_rate: Option<f64>,
    pub referrers: u64,
}

pub fn finish(sources: &Sources, lookups: &Lookups) -> (Vec<ReferrerRow>, Vec<SiteRow>) {
    let mut urls_per_host: IdMap<u32, u64> = IdMap::default();
    let mut referrers: Vec<ReferrerRow> = sources
        .referrers
        .iter()
        .map(|(&id, c)| {
            let r = lookups.referrer(id);
            if let Some(h) = r.host {
                *urls_per_host.entry(h).or_default() += 1;
            }
            ReferrerRow {
                referrer: r.text.clone(),
                host: r.host.map(|h| lookups.hosts[h as usize].clone()),
                sessions: c.sessions,
                visitors: c.visitors,
                page_views: c.page_views,
                bounces: c.bounces,
                bounce_rate: ratio(c.bounces, c.sessions),
            }
        })
        .collect();
    let mut sites: Vec<SiteRow> = sources
        .hosts
        .iter()
        .map(|(&h, c)| SiteRow {
            host: lookups.hosts[h as usize].clone(),
            sessions: c.sessions,
            visitors: c.visitors,
            page_views: c.page_views,
            bounces: c.bounces,
            bounce_rate: ratio(c.bounces, c.sessions),
            referrers: urls_per_host.get(&h).copied().unwrap_or(0),
        })
        .collect();
    sort_rows(
        &mut referrers,
        |r| r.sessions,
        |a, b| a.referrer.cmp(&b.referrer),
    );
    sort_rows(&mut sites, |r| r.sessions, |a, b| a.host.cmp(&b.host));
    (referrers, sites)
}
