//! Sessionize: hits → visitors' time-ordered hits → sessions.
//!
//! Hits arrive in whatever order files and threads produce them. They are partitioned into
//! [`Shards`] by visitor, so a visitor's hits all land in one shard and shards are processed
//! independently and in parallel. Within a shard, hits are sorted by (visitor, time) and ties
//! in time are broken by the hit's content (request text, status, size, referrer text), so
//! the order, and every session, is the same whatever the file order, thread count or chunk
//! boundaries. Sessions are then cut by [`SessionRules`] on the visitor's page views; gaps are
//! compared in milliseconds.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Mutex;

use crate::enrich::{Dictionaries, Hit};

/// Number of in-memory shards. Only a unit of parallel work: results never depend on it.
pub const SHARDS: usize = 64;

/// Hits partitioned by visitor id.
pub struct Shards {
    pieces: Vec<Mutex<Vec<Vec<Hit>>>>,
}

impl Default for Shards {
    fn default() -> Self {
        Shards {
            pieces: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }
}

impl Shards {
    /// Adds a chunk's hits (with run-wide ids).
    pub fn add(&self, hits: Vec<Hit>) {
        let mut parts: Vec<Vec<Hit>> = (0..SHARDS)
            .map(|_| Vec::with_capacity(hits.len() / SHARDS + hits.len() / (4 * SHARDS) + 4))
            .collect();
        for hit in hits {
            parts[hit.visitor as usize % SHARDS].push(hit);
        }
        for (shard, part) in self.pieces.iter().zip(parts) {
            if !part.is_empty() {
                shard.lock().unwrap_or_else(|p| p.into_inner()).push(part);
            }
        }
    }

    /// The shards, each a list of pieces to be joined when it is processed.
    pub fn into_pieces(self) -> Vec<Vec<Vec<Hit>>> {
        self.pieces
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect()
    }
}

/// Joins a shard's pieces and sorts them by visitor, time, then content.
pub fn sorted_shard(pieces: Vec<Vec<Hit>>, dicts: &Dictionaries) -> Vec<Hit> {
    let mut hits = pieces.concat();
    hits.sort_unstable_by(|a, b| {
        a.visitor
            .cmp(&b.visitor)
            .then(a.ts_ms.cmp(&b.ts_ms))
            .then_with(|| content_order(a, b, dicts))
    });
    hits
}

/// A total order on what a hit says, for hits of one visitor at the same millisecond.
fn content_order(a: &Hit, b: &Hit, dicts: &Dictionaries) -> Ordering {
    let text = |a: u32, b: u32, d: &crate::enrich::intern::Interner| {
        if a == b {
            Ordering::Equal
        } else {
            d.get(a).cmp(d.get(b))
        }
    };
    text(a.request, b.request, &dicts.requests)
        .then(a.status.cmp(&b.status))
        .then(a.bytes.cmp(&b.bytes))
        .then_with(|| text(a.referrer, b.referrer, &dicts.referrers))
        .then(a.offset_min.cmp(&b.offset_min))
}

/// Calls `each` with every visitor's hits (a sorted shard holds each visitor contiguously).
pub fn for_each_visitor(hits: &[Hit], mut each: impl FnMut(u32, &[Hit])) {
    for run in hits.chunk_by(|a, b| a.visitor == b.visitor) {
        each(run[0].visitor, run);
    }
}

/// Session rule presets: every analytics tool counts visits differently, and users must be
/// able to reconcile with the one they know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionPreset {
    /// Google Analytics 4: 30 minutes of inactivity.
    #[default]
    Ga4,
    /// AWStats: 60 minutes of inactivity.
    Awstats,
}

impl SessionPreset {
    pub fn name(self) -> &'static str {
        match self {
            SessionPreset::Ga4 => "ga4",
            SessionPreset::Awstats => "awstats",
        }
    }

    pub fn default_timeout_ms(self) -> i64 {
        match self {
            SessionPreset::Ga4 => 30 * 60 * 1000,
            SessionPreset::Awstats => 60 * 60 * 1000,
        }
    }
}

/// How page views are cut into sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    pub preset: SessionPreset,
    /// A gap longer than this (in milliseconds) starts a new session; an equal gap does not.
    pub timeout_ms: i64,
}

impl Default for SessionRules {
    fn default() -> Self {
        let preset = SessionPreset::default();
        SessionRules {
            preset,
            timeout_ms: preset.default_timeout_ms(),
        }
    }
}

impl SessionRules {
    /// Cuts time-ordered page-view timestamps into sessions: index ranges into `times`.
    pub fn cut(&self, times: impl IntoIterator<Item = i64>, out: &mut Vec<Range<usize>>) {
        out.clear();
        let mut start = 0;
        let mut prev: Option<i64> = None;
        let mut len = 0;
        for (i, t) in times.into_iter().enumerate() {
            if let Some(p) = prev {
                if t - p > self.timeout_ms {
                    out.push(start..i);
                    start = i;
                }
            }
            prev = Some(t);
            len = i + 1;
        }
        if len > start {
            out.push(start..len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn cut(times: &[i64]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        SessionRules::default().cut(times.iter().copied(), &mut out);
        out
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn thirty_minutes_exactly_stays_one_millisecond_more_cuts() {
        assert_eq!(cut(&[]), Vec::<Range<usize>>::new());
        assert_eq!(cut(&[0]), [0..1]);
        assert_eq!(cut(&[0, 30 * MIN]), [0..2]);
        assert_eq!(cut(&[0, 30 * MIN + 1]), [0..1, 1..2]);
        assert_eq!(
            cut(&[0, 10 * MIN, 40 * MIN, 71 * MIN, 72 * MIN]),
            [0..3, 3..5]
        );
    }

    #[test]
    fn awstats_preset_waits_an_hour() {
        let rules = SessionRules {
            preset: SessionPreset::Awstats,
            timeout_ms: SessionPreset::Awstats.default_timeout_ms(),
        };
        let mut out = Vec::new();
        rules.cut([0, 59 * MIN, 120 * MIN], &mut out);
        assert_eq!(out, [0..2, 2..3]);
    }
}
