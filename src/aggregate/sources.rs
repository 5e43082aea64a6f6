//! Referring sites: the `referrers` and `referring_sites` tables.
//!
//! A session's referrer is the referrer of its entry page view; it counts here when it is
//! external (present, and not the site's own). The channel shown is the one a session
//! arriving from that referrer without campaign tags gets.

use super::acquisition::{Keyed, Rates, SessionMetrics};
use super::{IdMap, Merge, Session, sort_rows};
use crate::enrich::{Lookups, Text};

/// Sessions per external referrer id and per host id.
#[derive(Default)]
pub struct Sources {
    pub referrers: Keyed<u32>,
    pub hosts: Keyed<u32>,
}

impl Merge for Sources {
    fn merge(&mut self, other: Self) {
        self.referrers.merge(other.referrers);
        self.hosts.merge(other.hosts);
    }
}

impl Sources {
    /// One visitor's sessions.
    pub fn add_visitor(&mut self, lookups: &Lookups, sessions: &[Session], scratch: &mut Vec<u32>) {
        let external = |s: &Session| {
            let r = lookups.referrer(s.referrer);
            r.is_external().then_some(r.canonical)
        };
        self.referrers.add_visitor(sessions, external, scratch);
        self.hosts.add_visitor(
            sessions,
            |s| external(s).and_then(|r| lookups.referrer(r).host),
            scratch,
        );
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReferrerRow {
    pub referrer: Text,
    pub host: Option<Text>,
    pub channel: &'static str,
    pub metrics: SessionMetrics,
    pub rates: Rates,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow {
    pub host: Text,
    pub channel: &'static str,
    pub metrics: SessionMetrics,
    pub rates: Rates,
    pub referrers: u64,
}

pub fn finish(sources: &Sources, lookups: &Lookups) -> (Vec<ReferrerRow>, Vec<SiteRow>) {
    // Every referrer of a host has the same channel (the host decides the source); keep the
    // channel of its first referrer in id order, and count its distinct URLs.
    let mut per_host: IdMap<u32, (u64, u32)> = IdMap::default();
    let mut referrers: Vec<ReferrerRow> = sources
        .referrers
        .by
        .iter()
        .map(|(&id, m)| {
            let r = lookups.referrer(id);
            if let Some(h) = r.host {
                let entry = per_host.entry(h).or_insert((0, id));
                entry.0 += 1;
                entry.1 = entry.1.min(id);
            }
            ReferrerRow {
                referrer: r.text.clone(),
                host: r.host.map(|h| lookups.hosts[h as usize].clone()),
                channel: lookups.acquisition(r.acquisition).channel.name(),
                metrics: *m,
                rates: m.rates(),
            }
        })
        .collect();
    let mut sites: Vec<SiteRow> = sources
        .hosts
        .by
        .iter()
        .map(|(&h, m)| {
            let (urls, first) = per_host.get(&h).copied().unwrap_or((0, 0));
            SiteRow {
                host: lookups.hosts[h as usize].clone(),
                channel: lookups
                    .acquisition(lookups.referrer(first).acquisition)
                    .channel
                    .name(),
                metrics: *m,
                rates: m.rates(),
                referrers: urls,
            }
        })
        .collect();
    sort_rows(
        &mut referrers,
        |r| r.metrics.sessions,
        |a, b| a.referrer.cmp(&b.referrer),
    );
    sort_rows(
        &mut sites,
        |r| r.metrics.sessions,
        |a, b| a.host.cmp(&b.host),
    );
    (referrers, sites)
}
