//! Sessionize: hits → visitors' time-ordered hits → sessions.
//!
//! Hits arrive in whatever order files and threads produce them. They are partitioned into
//! [`Shards`] by visitor, so a visitor's hits all land in one shard and shards are processed
//! independently and in parallel. Within a shard, hits are sorted by (visitor, time) and ties
//! in time are broken by the hit's content (request text, status, size, referrer text), so
//! the order, and every session, is the same whatever the file order, thread count or chunk
//! boundaries. Sessions are then cut by [`SessionRules`] on the visitor's page views; gaps are
//! compared in milliseconds.

pub mod spill;

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Mutex;

use crate::enrich::{Dictionaries, Hit, NO_CONNECTION};
use crate::error::Result;
pub use spill::SpillOptions;

/// Number of in-memory shards. Only a unit of parallel work: results never depend on it.
pub const SHARDS: usize = 64;

/// Marks, in a hit's `status`, a hit carried from an earlier run's open sessions
/// (`--continue-from`): it joins its visitor's sessions but is counted in no per-hit table.
/// Statuses have three digits, so the bit is free.
pub const CARRIED: u16 = 0x8000;

/// The input index of the pieces of carried hits.
pub const CARRIED_INPUT: u32 = u32::MAX;

/// Hits partitioned by visitor id. Each piece is one chunk's hits of one shard, so all its
/// hits come from one input: the piece records which (for the hits table's `source_file`),
/// at no cost per hit. Past the memory budget, shards spill to disk ([`spill`]).
pub struct Shards {
    pieces: Vec<Mutex<ShardPieces>>,
    spill: Option<spill::Spill>,
    /// The first and last time of the hits read from the inputs (not the carried ones).
    span: Mutex<Option<(i64, i64)>>,
}

/// A shard's pieces, and the input (index in input order) each piece was read from; with
/// the file of the pieces it spilled, if any.
#[derive(Default)]
pub struct ShardPieces {
    pub hits: Vec<Vec<Hit>>,
    pub inputs: Vec<u32>,
    /// Hits in `hits`.
    held: usize,
    /// The file holding the pieces written out.
    file: Option<spill::SpillFile>,
}

impl Default for Shards {
    fn default() -> Self {
        Shards::new(None)
    }
}

impl Shards {
    /// Shards that keep every hit in memory (`None`) or spill past a budget.
    pub fn new(spill: Option<SpillOptions>) -> Shards {
        Shards {
            pieces: (0..SHARDS)
                .map(|_| Mutex::new(ShardPieces::default()))
                .collect(),
            spill: spill.map(spill::Spill::new),
            span: Mutex::new(None),
        }
    }

    /// Adds a chunk's hits (with run-wide ids), read from input number `input`
    /// ([`CARRIED_INPUT`] for hits carried from an earlier run, which are not in
    /// [`Shards::span`]).
    pub fn add(&self, hits: Vec<Hit>, input: u32) {
        let mut parts: Vec<Vec<Hit>> = (0..SHARDS)
            .map(|_| Vec::with_capacity(hits.len() / SHARDS + hits.len() / (4 * SHARDS) + 4))
            .collect();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for hit in hits {
            first = first.min(hit.ts_ms);
            last = last.max(hit.ts_ms);
            parts[hit.visitor as usize % SHARDS].push(hit);
        }
        if first <= last && input != CARRIED_INPUT {
            let mut span = self.span.lock().unwrap_or_else(|p| p.into_inner());
            *span = Some(span.map_or((first, last), |(a, b)| (a.min(first), b.max(last))));
        }
        for (index, (shard, part)) in self.pieces.iter().zip(parts).enumerate() {
            if !part.is_empty() {
                let added = part.len();
                let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
                shard.hits.push(part);
                shard.inputs.push(input);
                shard.held += added;
                if let Some(spill) = &self.spill {
                    spill.hold(added);
                    if spill.should_spill(shard.held) {
                        spill.write(index, &mut shard);
                    }
                }
            }
        }
    }

    /// The first and last time (UTC ms) of the hits read from the inputs so far.
    pub fn span(&self) -> Option<(i64, i64)> {
        *self.span.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The error of a spill write that failed, if one did: reading stops on it rather than
    /// holding the rest of the input in memory (a failed write keeps its hits in memory).
    pub fn spill_error(&self) -> Result<()> {
        match self.spill.as_ref().and_then(spill::Spill::take_error) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The shards, each a list of pieces to be joined when it is processed, and the bytes
    /// of hits spilled to disk; or the error of a spill that failed.
    pub fn into_pieces(self) -> Result<(Vec<ShardPieces>, u64)> {
        let spilled = self.spill.map_or(Ok(0), spill::Spill::finish)?;
        let pieces = self
            .pieces
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        Ok((pieces, spilled))
    }
}

impl ShardPieces {
    /// Whether some of the shard's hits are on disk.
    pub fn is_spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Takes all the shard's pieces, reading back (and removing) its file.
    pub fn take_hits(&mut self) -> Result<Vec<Vec<Hit>>> {
        let mut pieces = Vec::new();
        if let Some(file) = self.file.take() {
            spill::read_pieces(&file, |piece, _| pieces.push(piece))?;
        }
        pieces.append(&mut self.hits);
        self.inputs.clear();
        self.held = 0;
        Ok(pieces)
    }

    /// Calls `each` with every piece and its input, reading spilled pieces back one at a
    /// time.
    pub fn for_each_piece(&self, mut each: impl FnMut(&[Hit], u32)) -> Result<()> {
        for (piece, &input) in self.hits.iter().zip(&self.inputs) {
            each(piece, input);
        }
        match &self.file {
            Some(file) => spill::read_pieces(file, |piece, input| each(&piece, input)),
            None => Ok(()),
        }
    }

    /// The spilled hits that `keep` accepts, as pieces with their inputs.
    pub fn read_spilled(&self, keep: impl Fn(&Hit) -> bool) -> Result<Vec<(Vec<Hit>, u32)>> {
        let mut kept = Vec::new();
        if let Some(file) = &self.file {
            spill::read_pieces(file, |mut piece, input| {
                piece.retain(|h| keep(h));
                if !piece.is_empty() {
                    kept.push((piece, input));
                }
            })?;
        }
        Ok(kept)
    }
}

/// Joins a shard's pieces and sorts them by visitor, time, then content.
///
/// A counting sort groups the hits by visitor (a shard's visitor ids are all `≡ shard (mod
/// SHARDS)`, so `id / SHARDS` is a dense index), keeping each visitor's hits in input order;
/// then each visitor's hits are sorted by time with an adaptive sort, which costs about one
/// comparison a hit for hits that are already in order, as one log's hits mostly are.
pub fn sorted_shard(pieces: Vec<Vec<Hit>>, ties: &TieOrder<'_>) -> Vec<Hit> {
    let slot = |h: &Hit| h.visitor as usize / SHARDS;
    let total: usize = pieces.iter().map(Vec::len).sum();
    let slots = pieces.iter().flatten().map(slot).max().map_or(0, |m| m + 1);
    let mut starts = vec![0usize; slots + 1];
    for h in pieces.iter().flatten() {
        starts[slot(h) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut hits = vec![Hit::default(); total];
    for h in pieces.into_iter().flatten() {
        let at = &mut next[slot(&h)];
        hits[*at] = h;
        *at += 1;
    }
    for w in starts.windows(2) {
        let visitor = &mut hits[w[0]..w[1]];
        if visitor.len() > 1 {
            visitor.sort_by(|a, b| {
                a.ts_ms
                    .cmp(&b.ts_ms)
                    .then_with(|| content_order(a, b, ties))
            });
        }
    }
    hits
}

/// What breaks ties between a visitor's hits at the same millisecond: the request and
/// referrer texts, compared by their first eight bytes where those differ (page and asset
/// requests mostly do) and in full only where they do not.
pub struct TieOrder<'a> {
    dicts: &'a Dictionaries,
    requests: Vec<u64>,
    referrers: Vec<u64>,
}

impl<'a> TieOrder<'a> {
    pub fn new(dicts: &'a Dictionaries) -> TieOrder<'a> {
        let prefixes = |d: &crate::enrich::intern::Interner| -> Vec<u64> {
            (0..d.len() as u32)
                .map(|id| prefix_key(d.get(id)))
                .collect()
        };
        TieOrder {
            dicts,
            requests: prefixes(&dicts.requests),
            referrers: prefixes(&dicts.referrers),
        }
    }
}

/// The first eight bytes as a big-endian number, zero-padded: where two texts' keys differ,
/// they compare as the texts do (a text that ends sorts before any longer one it begins).
fn prefix_key(text: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = text.len().min(8);
    b[..n].copy_from_slice(&text[..n]);
    u64::from_be_bytes(b)
}

/// A total order on what a hit says, for hits of one visitor at the same millisecond.
pub fn content_order(a: &Hit, b: &Hit, ties: &TieOrder<'_>) -> Ordering {
    let text = |a: u32, b: u32, keys: &[u64], d: &crate::enrich::intern::Interner| {
        if a == b {
            Ordering::Equal
        } else {
            keys[a as usize]
                .cmp(&keys[b as usize])
                .then_with(|| d.get(a).cmp(d.get(b)))
        }
    };
    let dicts = ties.dicts;
    text(a.request, b.request, &ties.requests, &dicts.requests)
        .then(a.status.cmp(&b.status))
        .then(a.bytes.cmp(&b.bytes))
        .then_with(|| text(a.referrer, b.referrer, &ties.referrers, &dicts.referrers))
        .then(a.offset_min.cmp(&b.offset_min))
        .then(a.response_us.cmp(&b.response_us))
        .then_with(|| {
            let connection = |id| (id != NO_CONNECTION).then(|| dicts.connections.get(id));
            connection(a.connection).cmp(&connection(b.connection))
        })
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
    /// Universal Analytics and Matomo: 30 minutes of inactivity, a new traffic source, or
    /// midnight in the log's time zone.
    Ua,
    /// AWStats: 60 minutes of inactivity.
    Awstats,
}

impl SessionPreset {
    pub fn name(self) -> &'static str {
        match self {
            SessionPreset::Ga4 => "ga4",
            SessionPreset::Ua => "ua",
            SessionPreset::Awstats => "awstats",
        }
    }

    pub fn default_timeout_ms(self) -> i64 {
        match self {
            SessionPreset::Ga4 | SessionPreset::Ua => 30 * 60 * 1000,
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
    /// A page view from another campaign or external source starts a new session.
    pub split_on_source_change: bool,
    /// A page view on another calendar day (in the log's time zone) starts a new session.
    pub split_at_midnight: bool,
}

impl Default for SessionRules {
    fn default() -> Self {
        SessionRules::preset(SessionPreset::default())
    }
}

/// What session cutting needs to know of a page view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewMark {
    pub ts_ms: i64,
    /// The logged UTC offset, in minutes.
    pub offset_min: i16,
    /// The traffic source the page view arrived from, when it names one (campaign tags or an
    /// external referrer); `None` for direct and internal navigation, which never change it.
    pub source: Option<u32>,
}

impl ViewMark {
    fn local_day(&self) -> i64 {
        (self.ts_ms + i64::from(self.offset_min) * 60_000).div_euclid(86_400_000)
    }
}

impl SessionRules {
    /// A preset's rules.
    pub fn preset(preset: SessionPreset) -> SessionRules {
        let ua = preset == SessionPreset::Ua;
        SessionRules {
            preset,
            timeout_ms: preset.default_timeout_ms(),
            split_on_source_change: ua,
            split_at_midnight: ua,
        }
    }

    /// Cuts a visitor's time-ordered page views into sessions: index ranges into `views`.
    pub fn cut(&self, views: impl IntoIterator<Item = ViewMark>, out: &mut Vec<Range<usize>>) {
        out.clear();
        let mut start = 0;
        let mut prev: Option<ViewMark> = None;
        let mut source: Option<u32> = None;
        let mut len = 0;
        for (i, view) in views.into_iter().enumerate() {
            if let Some(p) = prev {
                let new_session = view.ts_ms - p.ts_ms > self.timeout_ms
                    || (self.split_at_midnight && view.local_day() != p.local_day())
                    || (self.split_on_source_change
                        && view.source.is_some()
                        && view.source != source);
                if new_session {
                    out.push(start..i);
                    start = i;
                    source = None;
                }
            }
            if view.source.is_some() {
                source = view.source;
            }
            prev = Some(view);
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
    use crate::enrich::NO_RESPONSE_TIME;

    const MIN: i64 = 60_000;

    fn at(ts_ms: i64) -> ViewMark {
        ViewMark {
            ts_ms,
            offset_min: 0,
            source: None,
        }
    }

    fn cut_with(rules: SessionRules, views: &[ViewMark]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        rules.cut(views.iter().copied(), &mut out);
        out
    }

    fn cut(times: &[i64]) -> Vec<Range<usize>> {
        cut_with(
            SessionRules::default(),
            &times.iter().map(|&t| at(t)).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn shards_sort_like_a_full_comparison_sort() {
        let mut dicts = Dictionaries::default();
        // Texts that differ in their first eight bytes, and texts that share them.
        let requests: Vec<u32> = [
            "GET /b",
            "GET /a",
            "GET /products/2",
            "GET /products/10",
            "GET /",
            "GET /products/1",
        ]
        .iter()
        .map(|r| dicts.requests.intern(r.as_bytes()))
        .collect();
        let referrers: Vec<u32> = ["-", "https://x.test/", "https://x.test/a"]
            .iter()
            .map(|r| dicts.referrers.intern(r.as_bytes()))
            .collect();
        // Interned against their text order, so that ids cannot stand in for it.
        let connections: Vec<u32> = ["shop.test", "blog.test\nTLSv1.3\n10.0.0.1", "blog.test"]
            .iter()
            .map(|v| dicts.connections.intern(v.as_bytes()))
            .chain([NO_CONNECTION])
            .collect();
        // A small deterministic generator: visitors of one shard, times with many ties.
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let pieces: Vec<Vec<Hit>> = (0..5)
            .map(|_| {
                (0..200)
                    .map(|_| Hit {
                        ts_ms: next(20) as i64 * 1000,
                        bytes: next(3),
                        visitor: (next(9) as u32) * SHARDS as u32 + 3,
                        request: requests[next(6) as usize],
                        referrer: referrers[next(3) as usize],
                        status: [200, 404][next(2) as usize],
                        response_us: [NO_RESPONSE_TIME, 5, 3][next(3) as usize],
                        connection: connections[next(4) as usize],
                        offset_min: 0,
                    })
                    .collect()
            })
            .collect();
        // The expected order compares the texts themselves.
        let mut expected = pieces.concat();
        expected.sort_unstable_by(|a, b| {
            a.visitor
                .cmp(&b.visitor)
                .then(a.ts_ms.cmp(&b.ts_ms))
                .then_with(|| {
                    dicts
                        .requests
                        .get(a.request)
                        .cmp(dicts.requests.get(b.request))
                })
                .then(a.status.cmp(&b.status))
                .then(a.bytes.cmp(&b.bytes))
                .then_with(|| {
                    dicts
                        .referrers
                        .get(a.referrer)
                        .cmp(dicts.referrers.get(b.referrer))
                })
                .then(a.response_us.cmp(&b.response_us))
                .then_with(|| {
                    let connection = |id| (id != NO_CONNECTION).then(|| dicts.connections.get(id));
                    connection(a.connection).cmp(&connection(b.connection))
                })
        });
        let ties = TieOrder::new(&dicts);
        assert_eq!(sorted_shard(pieces, &ties), expected);
        assert_eq!(sorted_shard(Vec::new(), &ties), Vec::new());
    }

    #[test]
    fn prefix_keys_order_as_the_texts_do_where_they_differ() {
        let texts: [&[u8]; 7] = [b"", b"a", b"ab", b"ab\0", b"abcdefgh", b"abcdefgz", b"b"];
        for x in texts {
            for y in texts {
                let (kx, ky) = (prefix_key(x), prefix_key(y));
                if kx != ky {
                    assert_eq!(kx.cmp(&ky), x.cmp(y), "{x:?} vs {y:?}");
                }
            }
        }
        assert_eq!(prefix_key(b"abcdefgh"), prefix_key(b"abcdefghij"));
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
        let views: Vec<ViewMark> = [0, 59 * MIN, 120 * MIN].map(at).to_vec();
        assert_eq!(
            cut_with(SessionRules::preset(SessionPreset::Awstats), &views),
            [0..2, 2..3]
        );
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn ua_cuts_at_local_midnight() {
        // 23:50 and 00:10 in UTC+9 are 14:50 and 15:10 UTC: one session under ga4, two under ua.
        let day = 86_400_000 * 20_000;
        let views = [
            ViewMark {
                ts_ms: day + 14 * 60 * MIN + 50 * MIN,
                offset_min: 540,
                source: None,
            },
            ViewMark {
                ts_ms: day + 15 * 60 * MIN + 10 * MIN,
                offset_min: 540,
                source: None,
            },
        ];
        assert_eq!(cut_with(SessionRules::default(), &views), [0..2]);
        assert_eq!(
            cut_with(SessionRules::preset(SessionPreset::Ua), &views),
            [0..1, 1..2]
        );
        // Midnight UTC is not midnight in UTC+9.
        let views = [at(day - 10 * MIN), at(day + 10 * MIN)].map(|v| ViewMark {
            offset_min: 540,
            ..v
        });
        assert_eq!(
            cut_with(SessionRules::preset(SessionPreset::Ua), &views),
            [0..2]
        );
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn ua_cuts_when_the_source_changes_but_not_on_direct_or_internal_views() {
        let v = |min: i64, source: Option<u32>| ViewMark {
            ts_ms: min * MIN,
            offset_min: 0,
            source,
        };
        // Campaign 7, then internal clicks, then campaign 7 again, then campaign 8, then direct.
        let views = [
            v(0, Some(7)),
            v(1, None),
            v(2, Some(7)),
            v(3, Some(8)),
            v(4, None),
        ];
        let ua = SessionRules::preset(SessionPreset::Ua);
        assert_eq!(cut_with(ua, &views), [0..3, 3..5]);
        assert_eq!(cut_with(SessionRules::default(), &views), [0..5]);
        // A direct session interrupted by a campaign arrival.
        let views = [v(0, None), v(1, Some(3)), v(2, None)];
        assert_eq!(cut_with(ua, &views), [0..1, 1..3]);
    }

    #[test]
    fn a_failed_spill_is_reported_at_once_and_loses_no_hit() {
        // The spill directory would be inside a regular file: every write fails.
        let file = tempfile::NamedTempFile::new().unwrap();
        let shards = Shards::new(Some(SpillOptions {
            dir: file.path().join("spill"),
            budget: 1,
        }));
        let hit = |visitor: u32| Hit {
            ts_ms: 0,
            bytes: 1,
            visitor,
            request: 0,
            referrer: 0,
            status: 200,
            ..Hit::default()
        };
        // 200 hits of one shard: 8 KB, over the 4 KiB a spill waits for.
        shards.add((0..200).map(|i| hit(i * SHARDS as u32)).collect(), 0);
        let err = shards.spill_error().unwrap_err().to_string();
        assert!(err.contains("spill"), "{err}");
        assert!(shards.spill_error().is_ok(), "reported once");
        let (mut pieces, spilled) = shards.into_pieces().unwrap();
        assert_eq!(spilled, 0);
        let held: usize = pieces[0].take_hits().unwrap().iter().map(Vec::len).sum();
        assert_eq!(held, 200, "the hits stayed in memory");
    }
}
