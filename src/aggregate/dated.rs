//! The counts of the reports counted from hits, date by date: what `analyze --state` keeps
//! of them (see [`crate::state`]).
//!
//! Each date is the log's own (as in `traffic_by_day`). A visitor's hits are cut by their
//! date and each piece is counted by the very function that counts the run's tables
//! ([`Partial::add_hits`]): hits, bytes, bots, beacons, statuses, errors and the hits of
//! pages and of user agents. Only the run's own hits count so: hits carried from an earlier
//! run's open sessions (`--continue-from`) were counted by that run. A visitor's sessions
//! are counted on the date they started: the page views, entries, exits, bounces and time on
//! page of `pages`, and `internal_search`; the page views and sessions of an hour, and the
//! visitors of an hour or a day, on the date of that hour or day. Counts of sessions still
//! open at the end of the run are kept apart (a [`Part`] whose flag is set), as the state
//! keeps them apart in `open/`; counts of hits never are. Distinct visitors cannot be summed
//! over dates, so instead of a count each row keeps the sketch coupons of the visitors it
//! counted once; the state turns them into HLL sketches.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::ops::Range;

use datasketches::hll::Coupon;

use super::errors::{ErrorCounts, StatusCounts};
use super::pages::PageCounts;
use super::site_search::{SearchScratch, TermCounts};
use super::time::{Bucket, BucketKey, DAY_MS, TimeScratch, local_index};
use super::traffic::Traffic;
use super::visitors::BotCounts;
use super::{HitScratch, IdMap, Merge, Partial, Session, View, loyalty};
use crate::enrich::{Hit, Lookups};

/// Counts under a key, and the coupons of the visitors counted there (a visitor once per
/// date and key; a visitor whose offset changes within a date may come twice, which a
/// sketch ignores).
#[derive(Debug, Default)]
pub struct Visited<C> {
    pub counts: C,
    pub visitors: Vec<Coupon>,
}

impl<C: Merge> Merge for Visited<C> {
    fn merge(&mut self, o: Self) {
        self.counts.merge(o.counts);
        self.visitors.merge(o.visitors);
    }
}

/// Everything counted on one date.
#[derive(Default)]
pub struct Day {
    /// Hits, bytes, bots, humans, beacons, first and last hit (no session counts).
    pub traffic: Traffic,
    pub pages: IdMap<u32, Visited<PageCounts>>,
    /// Keyed by (path id, status).
    pub errors: IdMap<(u32, u16), Visited<ErrorCounts>>,
    pub statuses: IdMap<u16, Visited<StatusCounts>>,
    /// Keyed by bot id; the "visitors" are the bot's visitor keys.
    pub bots: IdMap<u32, Visited<BotCounts>>,
    pub hours: IdMap<BucketKey, Visited<Bucket>>,
    pub day_visitors: IdMap<BucketKey, Vec<Coupon>>,
    /// Keyed by search-term id.
    pub terms: IdMap<u32, Visited<TermCounts>>,
    /// Human hits per user-agent id, of visitors with a session in the run.
    pub agent_hits: IdMap<u32, u64>,
    /// The hits of each human visitor key, with page views or not (the `visitors` table's
    /// hits, bytes, first and last hit, for those with a session in the merged period).
    pub humans: Vec<HumanHits>,
    /// Internal searches, and sessions with one (by their start date).
    pub searches: u64,
    pub search_sessions: u64,
}

impl Merge for Day {
    fn merge(&mut self, o: Self) {
        let mut traffic = o.traffic;
        self.traffic.take_hit_counts(&mut traffic);
        self.pages.merge(o.pages);
        self.errors.merge(o.errors);
        self.statuses.merge(o.statuses);
        self.bots.merge(o.bots);
        self.hours.merge(o.hours);
        self.day_visitors.merge(o.day_visitors);
        self.terms.merge(o.terms);
        self.agent_hits.merge(o.agent_hits);
        self.humans.merge(o.humans);
        self.searches += o.searches;
        self.search_sessions += o.search_sessions;
    }
}

/// A visitor's hits on one date: what the `visitors` table sums over dates.
#[derive(Debug, Clone, Copy)]
pub struct HumanHits {
    pub visitor: u32,
    pub hits: u64,
    pub bytes: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// Where counts go: a date (days since 1970-01-01, log's clock) and whether they are of
/// sessions still open at the end of the run.
pub type Part = (i32, bool);

/// The days, the open sessions' counts apart.
#[derive(Default)]
pub struct Dated {
    pub days: BTreeMap<Part, Day>,
    /// Every session's page views, for the state's `visits`.
    pub sequences: Sequences,
}

/// Who a session is: its visitor, its start and its place among the visitor's sessions
/// that start at that millisecond (unique, see [`super::visitors::sort_sessions`]).
pub type SessionKey = (u32, i64, u32);

/// The key of a session.
pub fn session_key(s: &Session) -> SessionKey {
    (s.visitor, s.start_ms, s.same_start)
}

/// Each session's page views (path ids, in order), one flat list: what `merge` needs for
/// the paths and transitions of a period.
#[derive(Debug, Default)]
pub struct Sequences {
    /// Per session, its key and where its pages end in `paths` (they start where the
    /// previous session's end).
    pub ends: Vec<(SessionKey, usize)>,
    pub paths: Vec<u32>,
}

impl Sequences {
    fn add(&mut self, sessions: &[Session], views: &[View], ranges: &[Range<usize>]) {
        for (s, r) in sessions.iter().zip(ranges) {
            self.paths.extend(views[r.clone()].iter().map(|v| v.path));
            self.ends.push((session_key(s), self.paths.len()));
        }
    }

    /// Where each session's pages are in `paths`, by its key.
    pub fn index(&self) -> IdMap<SessionKey, Range<usize>> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&(key, end)| {
                let range = start..end;
                start = end;
                (key, range)
            })
            .collect()
    }
}

impl Merge for Sequences {
    fn merge(&mut self, mut o: Self) {
        let offset = self.paths.len();
        self.paths.append(&mut o.paths);
        self.ends
            .extend(o.ends.into_iter().map(|(key, end)| (key, end + offset)));
    }
}

impl Merge for Dated {
    fn merge(&mut self, o: Self) {
        self.sequences.merge(o.sequences);
        for (day, counts) in o.days {
            match self.days.entry(day) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(counts),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(counts);
                }
            }
        }
    }
}

/// Buffers reused from visitor to visitor: the visitor's counts of one date, before they
/// join that date's.
#[derive(Default)]
pub struct DatedScratch {
    partial: Partial,
    hits: HitScratch,
    ids: Vec<u32>,
    search: SearchScratch,
    time: TimeScratch,
}

/// The log's own date of a hit.
#[inline]
fn hit_day(h: &Hit) -> i32 {
    local_index(h.ts_ms, h.offset_min, DAY_MS) as i32
}

/// Hits sorted by time, cut into runs on one date each: (date, run). A hit in the same date
/// as the one before costs a comparison, not a division.
fn by_date(hits: &[Hit]) -> impl Iterator<Item = (i32, &[Hit])> {
    let mut rest = hits;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let day = hit_day(first);
        let offset_ms = i64::from(first.offset_min) * 60_000;
        let end_utc = (i64::from(day) + 1) * DAY_MS - offset_ms;
        let len = rest
            .iter()
            .position(|h| h.ts_ms >= end_utc || h.offset_min != first.offset_min)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(len);
        rest = tail;
        Some((day, run))
    })
}

/// Moves the counts of `from` into `into`, with the visitor's coupon under every key it
/// counted the visitor in.
fn fold<K: Hash + Eq, C: Merge + Default>(
    into: &mut IdMap<K, Visited<C>>,
    from: &mut IdMap<K, C>,
    coupon: Coupon,
    counted: impl Fn(&C) -> bool,
) {
    // Most visitors have no error or search, and a drain walks the whole table.
    if from.is_empty() {
        return;
    }
    for (k, c) in from.drain() {
        let v = into.entry(k).or_default();
        if counted(&c) {
            v.visitors.push(coupon);
        }
        v.counts.merge(c);
    }
    // A crawler's hundreds of pages would leave a table every later visitor walks.
    if from.capacity() > 64 {
        from.shrink_to(16);
    }
}

impl Dated {
    fn day(&mut self, part: Part) -> &mut Day {
        self.days.entry(part).or_default()
    }

    /// One visitor's own hits (sorted by time, none carried), on their dates. `is_visitor`:
    /// whether it is a human with page views (those of carried hits too), whose hits count
    /// in its user agent's row.
    pub fn add_hits(
        &mut self,
        lookups: &Lookups,
        visitor: u32,
        hits: &[Hit],
        is_visitor: bool,
        s: &mut DatedScratch,
    ) {
        let coupon = crate::state::visitor_coupon(lookups.visitor(visitor).hash);
        let p = &mut s.partial;
        // A key without page views is no visitor: its hits count in no agent's row.
        let agent = is_visitor.then(|| lookups.visitor(visitor).agent);
        // Every human's hits, page views or not: another run may hold its sessions.
        let human = lookups.bot_of(visitor).is_none();
        for (date, piece) in by_date(hits) {
            p.add_hits(lookups, visitor, piece, piece, &mut s.hits);
            let day = self.day((date, false));
            day.traffic.take_hit_counts(&mut p.traffic);
            fold(&mut day.pages, &mut p.pages.by_path, coupon, |c| {
                c.visitors > 0
            });
            fold(&mut day.errors, &mut p.errors.errors, coupon, |c| {
                c.visitors > 0
            });
            fold(&mut day.statuses, &mut p.errors.statuses, coupon, |c| {
                c.visitors > 0
            });
            fold(&mut day.bots, &mut p.visitors.bots, coupon, |c| {
                c.visitors > 0
            });
            if let Some(agent) = agent {
                *day.agent_hits.entry(agent).or_default() += piece.len() as u64;
            }
            if human {
                let counts = HumanHits {
                    visitor,
                    hits: piece.len() as u64,
                    bytes: super::bytes_of(piece),
                    first_ms: piece[0].ts_ms,
                    last_ms: piece[piece.len() - 1].ts_ms,
                };
                // A logged offset that goes back and forth gives a date twice.
                match day.humans.last_mut() {
                    Some(h) if h.visitor == visitor => {
                        h.hits += counts.hits;
                        h.bytes = h.bytes.saturating_add(counts.bytes);
                        h.first_ms = h.first_ms.min(counts.first_ms);
                        h.last_ms = h.last_ms.max(counts.last_ms);
                    }
                    _ => day.humans.push(counts),
                }
            }
        }
        // The hours' hits, on their own date.
        self.take_hours((false, coupon), &mut s.partial.time);
    }

    /// A human visitor's sessions (in time order), its page views and each session's range
    /// of them; those whose last page view is at or after `open_from_ms` apart, as open.
    #[allow(clippy::too_many_arguments)]
    pub fn add_sessions(
        &mut self,
        lookups: &Lookups,
        visitor: u32,
        sessions: &[Session],
        views: &[View],
        ranges: &[Range<usize>],
        open_from_ms: Option<i64>,
        s: &mut DatedScratch,
    ) {
        if sessions.is_empty() {
            return;
        }
        self.sequences.add(sessions, views, ranges);
        let coupon = crate::state::visitor_coupon(lookups.visitor(visitor).hash);
        // A session ends before the next starts: the open ones are the last.
        let k = open_from_ms
            .and_then(|from| sessions.iter().position(|x| x.end_ms >= from))
            .unwrap_or(sessions.len());
        for (open, range) in [(false, 0..k), (true, k..sessions.len())] {
            if range.is_empty() {
                continue;
            }
            let group = &sessions[range.clone()];
            let group_ranges = &ranges[range];
            let group_views =
                &views[group_ranges[0].start..group_ranges[group_ranges.len() - 1].end];
            // The closed ones begin at the first page view: no copy.
            let offset = group_ranges[0].start;
            let shifted: std::borrow::Cow<'_, [Range<usize>]> = if offset == 0 {
                group_ranges.into()
            } else {
                group_ranges
                    .iter()
                    .map(|r| r.start - offset..r.end - offset)
                    .collect::<Vec<_>>()
                    .into()
            };
            self.add_session_group(lookups, (open, coupon), group, group_views, &shifted, s);
        }
    }

    /// Sessions all open or all closed (`who.0`), of the visitor of coupon `who.1`.
    fn add_session_group(
        &mut self,
        lookups: &Lookups,
        who: (bool, Coupon),
        sessions: &[Session],
        views: &[View],
        ranges: &[Range<usize>],
        s: &mut DatedScratch,
    ) {
        let (open, coupon) = who;
        let p = &mut s.partial;
        p.time.add_human(views, sessions, &mut s.time);
        // Sessions by their start date (in time order, so each date's are together, but
        // for a logged offset that goes back).
        let mut first = 0;
        while first < sessions.len() {
            let day = loyalty::start_day(&sessions[first]);
            let mut end = first + 1;
            while end < sessions.len() && loyalty::start_day(&sessions[end]) == day {
                end += 1;
            }
            let group = &sessions[first..end];
            let group_views = || ranges[first..end].iter().map(|r| &views[r.clone()]);
            for session in group {
                p.pages.add_session(session);
            }
            p.pages.add_views(group_views(), &mut s.ids);
            p.site_search
                .add_visitor(group, group_views(), lookups, &mut s.search);
            let counts = self.day((day, open));
            fold(&mut counts.pages, &mut p.pages.by_path, coupon, |c| {
                c.visitors > 0
            });
            fold(&mut counts.terms, &mut p.site_search.by_term, coupon, |c| {
                c.visitors > 0
            });
            counts.searches += std::mem::take(&mut p.site_search.searches);
            counts.search_sessions += std::mem::take(&mut p.site_search.sessions);
            first = end;
        }
        self.take_hours((open, coupon), &mut s.partial.time);
    }

    /// Moves the hours and days counted in `time` to their own dates, in the open or the
    /// closed part (`who.0`), with the visitor's coupon `who.1`.
    fn take_hours(&mut self, who: (bool, Coupon), time: &mut super::time::Time) {
        let (open, coupon) = who;
        for (key, bucket) in time.hours.drain() {
            let hours = &mut self.day((key.0.div_euclid(24) as i32, open)).hours;
            let v = hours.entry(key).or_default();
            if bucket.visitors > 0 {
                v.visitors.push(coupon);
            }
            v.counts.merge(bucket);
        }
        for (key, _) in time.day_visitors.drain() {
            let days = &mut self.day((key.0 as i32, open)).day_visitors;
            days.entry(key).or_default().push(coupon);
        }
        if time.hours.capacity() > 64 {
            time.hours.shrink_to(16);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(ts_ms: i64, offset_min: i16) -> Hit {
        Hit {
            ts_ms,
            bytes: 0,
            visitor: 0,
            request: 0,
            referrer: 0,
            status: 200,
            offset_min,
            ..Hit::default()
        }
    }

    #[test]
    fn hits_are_cut_at_midnight_of_their_own_clock() {
        const H: i64 = 3_600_000;
        let day = 20_000 * DAY_MS;
        // At +09:00, 14:59 UTC is 23:59 local and 15:00 UTC the next local day; an offset
        // that changes starts a run of its own.
        let hits = [
            hit(day + 14 * H, 540),
            hit(day + 15 * H - 1, 540),
            hit(day + 15 * H, 540),
            hit(day + 16 * H, 540),
            hit(day + 16 * H + 1, 0),
        ];
        let runs: Vec<(i32, usize)> = by_date(&hits).map(|(d, r)| (d, r.len())).collect();
        assert_eq!(runs, [(20_000, 2), (20_001, 2), (20_000, 1)]);
        for (d, run) in by_date(&hits) {
            assert!(run.iter().all(|h| hit_day(h) == d));
        }
        assert_eq!(by_date(&[]).count(), 0);
    }
}
