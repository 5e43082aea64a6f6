//! What went wrong: the `errors` and `status_codes` tables.
//!
//! An error is a human hit answered 400 or above. For each (path, status) the referrers that
//! sent people there are counted, so a broken inbound link shows the page that links to it.

use super::{IdMap, Merge, count_distinct, sort_rows};
use crate::enrich::channel::Channel;
use crate::enrich::{Hit, Lookups, Text};

/// Counts for one (path, status) error.
#[derive(Debug, Clone, Default)]
pub struct ErrorCounts {
    pub hits: u64,
    pub visitors: u64,
    pub referred_hits: u64,
    /// Hits per referrer id.
    pub referrers: IdMap<u32, u64>,
    /// Hits per channel of the referrer (Direct when there is none).
    pub channels: IdMap<Channel, u64>,
}

impl Merge for ErrorCounts {
    fn merge(&mut self, o: Self) {
        self.hits += o.hits;
        self.visitors += o.visitors;
        self.referred_hits += o.referred_hits;
        self.referrers.merge(o.referrers);
        self.channels.merge(o.channels);
    }
}

/// Counts for one status code.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusCounts {
    pub hits: u64,
    pub bytes: u64,
    pub human_hits: u64,
    pub bot_hits: u64,
    pub visitors: u64,
}

impl Merge for StatusCounts {
    fn merge(&mut self, o: Self) {
        self.hits += o.hits;
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.human_hits += o.human_hits;
        self.bot_hits += o.bot_hits;
        self.visitors += o.visitors;
    }
}

#[derive(Default)]
pub struct Errors {
    /// Keyed by (path id, status).
    pub errors: IdMap<(u32, u16), ErrorCounts>,
    pub statuses: IdMap<u16, StatusCounts>,
}

impl Merge for Errors {
    fn merge(&mut self, other: Self) {
        self.errors.merge(other.errors);
        self.statuses.merge(other.statuses);
    }
}

impl Errors {
    pub fn add_bot_hits(&mut self, hits: &[Hit]) {
        // A visitor's hits mostly share a status: one map entry per run of them.
        for run in hits.chunk_by(|a, b| a.status == b.status) {
            let s = self.statuses.entry(run[0].status).or_default();
            s.hits += run.len() as u64;
            s.bytes = run.iter().fold(s.bytes, |b, h| b.saturating_add(h.bytes));
            s.bot_hits += run.len() as u64;
        }
    }

    /// A human visitor's hits; counts the visitor once per status and per error.
    /// `statuses` and `pairs` are scratch buffers.
    pub fn add_human_hits(
        &mut self,
        lookups: &Lookups,
        hits: &[Hit],
        pairs: &mut Vec<(u32, u16)>,
        statuses: &mut Vec<(u16, u64, u64)>,
    ) {
        pairs.clear();
        statuses.clear();
        for hit in hits {
            // (status, hits, bytes): a visitor sees few distinct statuses.
            match statuses.iter_mut().find(|s| s.0 == hit.status) {
                Some(s) => {
                    s.1 += 1;
                    s.2 = s.2.saturating_add(hit.bytes);
                }
                None => statuses.push((hit.status, 1, hit.bytes)),
            }
            if hit.status >= 400 {
                let key = (lookups.request(hit.request).path, hit.status);
                let e = self.errors.entry(key).or_default();
                e.hits += 1;
                let referrer = lookups.referrer(hit.referrer);
                *e.channels
                    .entry(lookups.acquisition(referrer.acquisition).channel)
                    .or_default() += 1;
                if !referrer.text.is_empty() {
                    e.referred_hits += 1;
                    *e.referrers.entry(referrer.canonical).or_default() += 1;
                }
                pairs.push(key);
            }
        }
        // One map entry per distinct status of the visitor, not one per hit.
        for &(status, n, bytes) in statuses.iter() {
            let s = self.statuses.entry(status).or_default();
            s.hits += n;
            s.bytes = s.bytes.saturating_add(bytes);
            s.human_hits += n;
            s.visitors += 1;
        }
        count_distinct(pairs, |k| self.errors.entry(k).or_default().visitors += 1);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    pub path: Text,
    pub status: u16,
    pub hits: u64,
    pub visitors: u64,
    pub referred_hits: u64,
    pub top_referrer: Option<Text>,
    pub top_referrer_hits: u64,
    pub top_referrer_internal: Option<bool>,
    /// The channel that sent most of the hits (by their referrer).
    pub top_channel: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    pub status: u16,
    pub class: &'static str,
    pub hits: u64,
    pub bytes: u64,
    pub human_hits: u64,
    pub bot_hits: u64,
    pub visitors: u64,
}

pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

pub fn finish(errors: &Errors, lookups: &Lookups) -> (Vec<ErrorRow>, Vec<StatusRow>) {
    let mut error_rows: Vec<ErrorRow> = errors
        .errors
        .iter()
        .map(|(&(path, status), e)| {
            let top = top_referrer(e.referrers.iter().map(|(&r, &n)| {
                let r = lookups.referrer(r);
                (n, &r.text, r.internal)
            }));
            ErrorRow {
                path: lookups.paths[path as usize].clone(),
                status,
                hits: e.hits,
                visitors: e.visitors,
                referred_hits: e.referred_hits,
                top_referrer: top.map(|(_, r, _)| r.clone()),
                top_referrer_hits: top.map_or(0, |(n, _, _)| n),
                top_referrer_internal: top.map(|(_, _, internal)| internal),
                top_channel: top_channel(e.channels.iter().map(|(&c, &n)| (c, n))).name(),
            }
        })
        .collect();
    sort_errors(&mut error_rows);
    let status_rows = status_rows(errors.statuses.iter().map(|(&s, c)| (s, c)));
    (error_rows, status_rows)
}

/// The referrer with most hits, of (hits, text, internal); ties go to the smallest text,
/// for a stable answer.
pub fn top_referrer<'a>(
    referrers: impl Iterator<Item = (u64, &'a Text, bool)>,
) -> Option<(u64, &'a Text, bool)> {
    referrers.max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
}

/// The channel that sent most hits, Direct when none; ties go to the first channel.
pub fn top_channel(channels: impl Iterator<Item = (Channel, u64)>) -> Channel {
    channels
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map_or(Channel::Direct, |(c, _)| c)
}

/// Errors in table order: most hits first, then by path and status.
pub fn sort_errors(rows: &mut [ErrorRow]) {
    sort_rows(
        rows,
        |r| r.hits,
        |a, b| a.path.cmp(&b.path).then(a.status.cmp(&b.status)),
    );
}

/// The `status_codes` rows of counts per status, in table order.
pub fn status_rows<'a>(statuses: impl Iterator<Item = (u16, &'a StatusCounts)>) -> Vec<StatusRow> {
    let mut status_rows: Vec<StatusRow> = statuses
        .map(|(status, s)| StatusRow {
            status,
            class: status_class(status),
            hits: s.hits,
            bytes: s.bytes,
            human_hits: s.human_hits,
            bot_hits: s.bot_hits,
            visitors: s.visitors,
        })
        .collect();
    sort_rows(&mut status_rows, |r| r.hits, |a, b| a.status.cmp(&b.status));
    status_rows
}
