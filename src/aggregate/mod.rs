//! Aggregate: sessions and hits → report tables.
//!
//! Each shard of visitors is folded into a [`Partial`]: counts keyed by dictionary ids, with
//! an associative, commutative [`Merge`], so shards can be combined in any order and any
//! grouping with the same result (and runs later, once keys are strings). Because a visitor
//! lives in exactly one shard, distinct-visitor counts per page, referrer or status are exact
//! sums across shards. [`finish`] turns the merged partial into rows with text keys, in a
//! fixed order: largest first, ties by key.
//!
//! One file per report family: `traffic` (summary), `pages` (pages, entry and exit pages),
//! `sources` (referrers, referring sites), `errors` (errors, status codes), `visitors`
//! (visitors, robots, sessions). With `--state`, `dated` also keeps the counts of hits per
//! date, counted by the same functions ([`Partial::add_hits`]).

pub mod acquisition;
pub mod attribution;
pub mod audience;
pub mod dated;
pub mod errors;
pub mod journeys;
pub mod loyalty;
pub mod pages;
pub mod site_search;
pub mod sources;
pub mod time;
pub mod traffic;
pub mod visitors;

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;

use rayon::prelude::*;
use rustc_hash::FxBuildHasher;

use crate::enrich::{BeaconScreen, Dictionaries, Hit, Lookups, Method, PathKind};
use crate::error::{Error, Result};
use crate::sessionize::{self, CARRIED, SessionRules, ShardPieces, ViewMark};
use attribution::AttributionRules;
use journeys::{JourneyRules, Vocabulary};

/// A map with a fast hash for the small integer keys used here.
pub type IdMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// Partial results that combine associatively.
pub trait Merge {
    fn merge(&mut self, other: Self);
}

impl<K: Hash + Eq, V: Merge> Merge for IdMap<K, V> {
    fn merge(&mut self, other: Self) {
        if self.len() < other.len() {
            let smaller = std::mem::replace(self, other);
            return self.merge(smaller);
        }
        for (k, v) in other {
            match self.entry(k) {
                std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().merge(v),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
    }
}

impl Merge for u64 {
    fn merge(&mut self, other: Self) {
        *self += other;
    }
}

impl<T> Merge for Vec<T> {
    fn merge(&mut self, mut other: Self) {
        self.append(&mut other);
    }
}

/// One page view of a visitor, as sessions need it.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub ts_ms: i64,
    pub offset_min: i16,
    pub request: u32,
    pub path: u32,
    pub referrer: u32,
    /// Carried from an earlier run's open sessions (`--continue-from`).
    pub carried: bool,
}

/// A page view per the definitions: a human GET of a page answered 2xx or 304. A request
/// whose method the format does not log counts as a GET: nearly every request such logs
/// hold is one, and counting none would leave every report of visits empty.
#[inline]
pub fn is_page_view(method: Method, kind: PathKind, status: u16) -> bool {
    matches!(method, Method::Get | Method::NotLogged)
        && kind == PathKind::Page
        && ((200..300).contains(&status) || status == 304)
}

/// Everything the reports count, for some set of visitors.
#[derive(Default)]
pub struct Partial {
    pub traffic: traffic::Traffic,
    pub pages: pages::Pages,
    pub sources: sources::Sources,
    pub errors: errors::Errors,
    pub visitors: visitors::Visitors,
    pub acquisitions: acquisition::Acquisitions,
    pub attribution: attribution::Attribution,
    pub audience: audience::Audience,
    pub loyalty: loyalty::Loyalty,
    pub journeys: journeys::Journeys,
    pub site_search: site_search::SiteSearches,
    pub time: time::Time,
    /// Sessions made only of carried page views (`--continue-from`): an earlier run's open
    /// sessions that this run's hits did not continue. The state counts them (this run
    /// takes over all the open sessions it read); the reports do not.
    pub carried_sessions: Vec<Session>,
    /// The hits of the sessions still open at the end of the input (`--state`), per visitor.
    pub open: Vec<OpenTail>,
    /// The same counts per date, for `--state` (see [`dated`]); `None` without it.
    pub dated: Option<dated::Dated>,
}

/// What a later run needs to continue a visitor's open sessions: their page views, and the
/// beacons that may give them a screen. The hits are in time order, unmarked.
#[derive(Debug, Clone)]
pub struct OpenTail {
    pub visitor: u32,
    /// The log-clock day (days since 1970) on which the first of them started.
    pub day: i32,
    pub hits: Vec<Hit>,
}

impl Merge for Partial {
    fn merge(&mut self, other: Self) {
        self.traffic.merge(other.traffic);
        self.pages.merge(other.pages);
        self.sources.merge(other.sources);
        self.errors.merge(other.errors);
        self.visitors.merge(other.visitors);
        self.acquisitions.merge(other.acquisitions);
        self.attribution.merge(other.attribution);
        self.audience.merge(other.audience);
        self.loyalty.merge(other.loyalty);
        self.journeys.merge(other.journeys);
        self.site_search.merge(other.site_search);
        self.time.merge(other.time);
        self.carried_sessions.merge(other.carried_sessions);
        self.open.merge(other.open);
        match (&mut self.dated, other.dated) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
    }
}

/// Buffers reused from visitor to visitor.
#[derive(Default)]
pub struct Scratch {
    hits: HitScratch,
    sessions: Vec<Range<usize>>,
    ids: Vec<u32>,
    goal_targets: Vec<(u32, i64)>,
    dated: dated::DatedScratch,
    acquisition: acquisition::AcquisitionScratch,
    audience: audience::AudienceScratch,
    loyalty: loyalty::LoyaltyScratch,
    journeys: journeys::JourneyScratch,
    site_search: site_search::SearchScratch,
    time: time::TimeScratch,
    /// A visitor's own hits, when some of its hits are carried.
    own: Vec<Hit>,
    built: Vec<Session>,
}

/// Buffers of [`Partial::add_hits`]: what it leaves (a human's page views and beacon
/// screens) and what it uses.
#[derive(Default)]
pub struct HitScratch {
    pub views: Vec<View>,
    pub beacons: Vec<(i64, BeaconScreen)>,
    pairs: Vec<(u32, u16)>,
    statuses: Vec<(u16, u64, u64)>,
}

/// A session as the aggregation sees it: ids, not text.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub visitor: u32,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The UTC offset logged with its first page view, in minutes.
    pub offset_min: i16,
    /// Its place among the visitor's sessions in the period: 1 for the first.
    pub number: u32,
    /// Whole days since the visitor's previous session ended (none for the first).
    pub days_since_last: Option<u32>,
    pub entry: u32,
    pub exit: u32,
    pub page_views: u32,
    pub referrer: u32,
    /// Its place among the visitor's sessions that start at the same millisecond (0 but
    /// for a session a source change cut at the very moment another began, under `ua`).
    pub same_start: u32,
    /// Id into [`Lookups::acquisitions`].
    pub acquisition: u32,
    /// The first goal the session reached.
    pub goal: Option<u16>,
    /// Conversion value (millionths): the values of the distinct goal pages it reached.
    pub value_micro: i64,
    /// Screen resolution (id into [`Lookups::resolutions`]) and colour depth from a beacon.
    pub resolution: Option<u32>,
    pub color_depth: Option<u8>,
}

impl Session {
    pub fn duration_ms(&self) -> i64 {
        self.end_ms - self.start_ms
    }
    pub fn bounce(&self) -> bool {
        self.page_views == 1
    }
    /// GA4's engaged session: over 10 seconds, 2+ page views, or a conversion.
    pub fn engaged(&self) -> bool {
        self.duration_ms() > 10_000 || self.page_views >= 2 || self.goal.is_some()
    }
}

/// What aggregation needs besides the hits.
pub struct Context<'a> {
    pub dicts: &'a Dictionaries,
    pub lookups: &'a Lookups,
    pub sessions: &'a SessionRules,
    pub attribution: &'a AttributionRules,
    pub journeys: &'a JourneyRules,
    pub carry: &'a CarryRules,
    /// Whether to keep the counts per date too, for `--state`.
    pub dated: bool,
}

/// Sessions across runs: which visitors have carried hits, and which sessions are open.
#[derive(Debug, Clone, Default)]
pub struct CarryRules {
    /// Visitors with hits carried from an earlier run's open sessions, sorted.
    pub carried: Vec<u32>,
    /// Sessions whose last page view is at or after this time (UTC ms) are open: a page view
    /// of a later log could continue them. `None`: none is (no `--state`).
    pub open_from_ms: Option<i64>,
}

impl CarryRules {
    fn has_carried(&self, visitor: u32) -> bool {
        !self.carried.is_empty() && self.carried.binary_search(&visitor).is_ok()
    }
}

impl Partial {
    /// Adds one visitor's hits, sorted by time.
    ///
    /// Hits carried from an earlier run (marked [`CARRIED`]) join the visitor's page views
    /// and beacons, so its sessions are cut as one run over both logs would cut them; every
    /// count made per hit (hits, bytes, statuses, pages' hits, beacons) takes only the run's
    /// own hits. Sessions with a page view of this run are reported whole; those made only
    /// of carried page views go to [`Partial::carried_sessions`].
    pub fn add_visitor(
        &mut self,
        ctx: &Context<'_>,
        vocabulary: &Vocabulary,
        visitor: u32,
        hits: &[Hit],
        scratch: &mut Scratch,
    ) {
        let carried = ctx.carry.has_carried(visitor);
        let mut own_buf = std::mem::take(&mut scratch.own);
        let own: &[Hit] = if carried {
            own_buf.clear();
            own_buf.extend(hits.iter().filter(|h| h.status & CARRIED == 0));
            &own_buf
        } else {
            hits
        };
        self.add_visitor_hits(ctx, vocabulary, visitor, hits, own, scratch);
        scratch.own = own_buf;
    }

    fn add_visitor_hits(
        &mut self,
        ctx: &Context<'_>,
        vocabulary: &Vocabulary,
        visitor: u32,
        hits: &[Hit],
        own: &[Hit],
        scratch: &mut Scratch,
    ) {
        let lookups = ctx.lookups;
        let bot = self.add_hits(lookups, visitor, hits, own, &mut scratch.hits);
        if bot.is_some() {
            if let Some(dated) = &mut self.dated {
                dated.add_hits(lookups, visitor, own, false, &mut scratch.dated);
            }
            return;
        }
        // Page views → sessions.
        let marks = scratch.hits.views.iter().map(|v| ViewMark {
            ts_ms: v.ts_ms,
            offset_min: v.offset_min,
            source: ctx
                .sessions
                .split_on_source_change
                .then(|| lookups.view_source(v.request, v.referrer))
                .flatten(),
        });
        ctx.sessions.cut(marks, &mut scratch.sessions);
        scratch.built.clear();
        let mut previous_start = None;
        let mut same_start = 0;
        for range in &scratch.sessions {
            let views = &scratch.hits.views[range.clone()];
            let (first, last) = (views[0], views[views.len() - 1]);
            let (goal, value_micro) = conversion(views, lookups, &mut scratch.goal_targets);
            same_start = if previous_start == Some(first.ts_ms) {
                same_start + 1
            } else {
                0
            };
            previous_start = Some(first.ts_ms);
            scratch.built.push(Session {
                visitor,
                start_ms: first.ts_ms,
                end_ms: last.ts_ms,
                offset_min: first.offset_min,
                number: 0,
                days_since_last: None,
                entry: first.path,
                exit: last.path,
                page_views: views.len() as u32,
                referrer: first.referrer,
                same_start,
                acquisition: lookups.session_acquisition(first.request, first.referrer),
                goal,
                value_micro,
                resolution: None,
                color_depth: None,
            });
        }
        audience::attach_beacons(
            &mut scratch.built,
            &scratch.hits.beacons,
            ctx.sessions.timeout_ms,
        );
        if let Some(open_from) = ctx.carry.open_from_ms {
            self.keep_open_tail(ctx, visitor, hits, open_from, scratch);
        }
        // The reported sessions, numbered; those made only of carried page views set aside
        // (with their page views).
        let first_session = self.visitors.sessions.len();
        let mut kept_views = 0;
        let mut kept_ranges = 0;
        if let Some(dated) = &mut self.dated {
            // Every hit of the run's own, on its date; the visitor's sessions, carried or
            // not, say whether it is a visitor.
            let has_sessions = !scratch.built.is_empty();
            dated.add_hits(lookups, visitor, own, has_sessions, &mut scratch.dated);
        }
        for (i, session) in scratch.built.iter().enumerate() {
            let range = scratch.sessions[i].clone();
            let views = &scratch.hits.views[range.clone()];
            if views.iter().all(|v| v.carried) {
                self.carried_sessions.push(*session);
                // The state counts them (see `carried_sessions`), in every session-based
                // count it keeps per date.
                if let Some(dated) = &mut self.dated {
                    dated.add_sessions(
                        lookups,
                        visitor,
                        std::slice::from_ref(session),
                        views,
                        std::slice::from_ref(&(0..views.len())),
                        ctx.carry.open_from_ms,
                        &mut scratch.dated,
                    );
                }
                continue;
            }
            let reported = &self.visitors.sessions[first_session..];
            let session = Session {
                number: reported.len() as u32 + 1,
                days_since_last: reported
                    .last()
                    .map(|previous| loyalty::days_between(previous.end_ms, session.start_ms)),
                ..*session
            };
            self.visitors.sessions.push(session);
            if kept_views != range.start {
                scratch.hits.views.copy_within(range.clone(), kept_views);
            }
            scratch.sessions[kept_ranges] = kept_views..kept_views + range.len();
            kept_views += range.len();
            kept_ranges += 1;
        }
        scratch.hits.views.truncate(kept_views);
        scratch.sessions.truncate(kept_ranges);
        if own.is_empty() {
            return;
        }
        let hits = own;
        let sessions = &self.visitors.sessions[first_session..];
        for session in sessions {
            self.pages.add_session(session);
            self.traffic.add_session(session);
        }
        let views = &scratch.hits.views;
        let session_views = || scratch.sessions.iter().map(|r| &views[r.clone()]);
        self.sources
            .add_visitor(lookups, sessions, &mut scratch.ids);
        self.acquisitions
            .add_visitor(sessions, lookups, &mut scratch.acquisition);
        self.attribution.add_visitor(
            sessions,
            |s| lookups.acquisition(s.acquisition).channel,
            ctx.attribution,
        );
        self.pages.add_views(session_views(), &mut scratch.ids);
        self.audience.add_visitor(
            visitor,
            hits.len(),
            sessions,
            lookups,
            &mut scratch.audience,
        );
        self.loyalty.add_visitor(sessions, &mut scratch.loyalty);
        self.journeys.add_visitor(
            sessions,
            session_views(),
            vocabulary,
            ctx.journeys,
            &mut scratch.journeys,
        );
        self.site_search
            .add_visitor(sessions, session_views(), lookups, &mut scratch.site_search);
        self.time
            .add_human(&scratch.hits.views, sessions, &mut scratch.time);
        self.visitors
            .add_human(visitor, hits, scratch.hits.views.len(), first_session);
        self.traffic
            .add_human(scratch.hits.views.len(), scratch.sessions.len());
        if let Some(dated) = &mut self.dated {
            let sessions = &self.visitors.sessions[first_session..];
            dated.add_sessions(
                lookups,
                visitor,
                sessions,
                &scratch.hits.views,
                &scratch.sessions,
                ctx.carry.open_from_ms,
                &mut scratch.dated,
            );
        }
    }

    /// Counts one visitor's hits (sorted by time) in what needs no session: all traffic, the
    /// hours, and a bot's hits or a human's page hits, beacons, statuses and errors, of
    /// `own`: `hits` without those carried from an earlier run (marked [`CARRIED`]). A
    /// human's page views and beacon screens, of all `hits`, are left in `scratch`. Returns
    /// the visitor's bot id, for a bot.
    pub fn add_hits(
        &mut self,
        lookups: &Lookups,
        visitor: u32,
        hits: &[Hit],
        own: &[Hit],
        scratch: &mut HitScratch,
    ) -> Option<u32> {
        let bot = lookups.bot_of(visitor);
        if !own.is_empty() {
            self.traffic.add_hits(own);
            self.time.add_hits(own, bot.is_some());
        }
        if let Some(bot) = bot {
            if !own.is_empty() {
                self.errors.add_bot_hits(own);
                self.visitors.add_bot(bot, own);
                self.traffic.add_bot_hits(own);
            }
            return Some(bot);
        }
        self.traffic.add_human_hits(own);
        scratch.views.clear();
        scratch.beacons.clear();
        for hit in hits {
            let request = lookups.request(hit.request);
            let carried = hit.status & CARRIED != 0;
            let status = hit.status & !CARRIED;
            match request.kind {
                PathKind::Page if !carried => self.pages.add_hit(request.path, hit.response_us),
                PathKind::Beacon => {
                    let screen = request.screen;
                    if !carried {
                        self.traffic.add_beacon(screen.invalid);
                    }
                    if screen.resolution.is_some() || screen.color_depth.is_some() {
                        scratch.beacons.push((hit.ts_ms, screen));
                    }
                }
                PathKind::Page | PathKind::Asset => {}
            }
            if is_page_view(request.method, request.kind, status) {
                scratch.views.push(View {
                    ts_ms: hit.ts_ms,
                    offset_min: hit.offset_min,
                    request: hit.request,
                    path: request.path,
                    referrer: hit.referrer,
                    carried,
                });
            }
        }
        if !own.is_empty() {
            self.errors
                .add_human_hits(lookups, own, &mut scratch.pairs, &mut scratch.statuses);
        }
        None
    }

    /// Keeps the hits a later run needs to continue the visitor's open sessions (those whose
    /// last page view is at or after `open_from`): their page views, and the beacons that
    /// would attach to them were they the visitor's first sessions (see
    /// [`audience::attach_beacons`]): those after the first open session's start, and those
    /// up to a timeout before it that the session before did not take.
    fn keep_open_tail(
        &mut self,
        ctx: &Context<'_>,
        visitor: u32,
        hits: &[Hit],
        open_from: i64,
        scratch: &Scratch,
    ) {
        let Some(k) = scratch.built.iter().position(|s| s.end_ms >= open_from) else {
            return;
        };
        let open = &scratch.built[k];
        let previous = k.checked_sub(1).map(|p| &scratch.built[p]);
        let timeout = ctx.sessions.timeout_ms;
        let first_view = scratch.sessions[k].start;
        let lookups = ctx.lookups;
        let mut tail = Vec::new();
        let mut view = 0;
        for hit in hits {
            let request = lookups.request(hit.request);
            let status = hit.status & !CARRIED;
            if is_page_view(request.method, request.kind, status) {
                if view >= first_view {
                    tail.push(Hit { status, ..*hit });
                }
                view += 1;
            } else if request.kind == PathKind::Beacon
                && (request.screen.resolution.is_some() || request.screen.color_depth.is_some())
            {
                let ts = hit.ts_ms;
                let takes = ts >= open.start_ms
                    || (open.start_ms - ts <= timeout
                        && previous.is_none_or(|p| ts >= p.start_ms && ts - p.end_ms > timeout));
                if takes {
                    tail.push(Hit { status, ..*hit });
                }
            }
        }
        self.open.push(OpenTail {
            visitor,
            day: loyalty::start_day(open),
            hits: tail,
        });
    }
}

/// The first goal a session's page views reach, and the summed value of the distinct goal
/// pages (a reloaded thank-you page is counted once).
fn conversion(
    views: &[View],
    lookups: &Lookups,
    goal_targets: &mut Vec<(u32, i64)>,
) -> (Option<u16>, i64) {
    goal_targets.clear();
    let mut goal = None;
    for v in views {
        let request = lookups.request(v.request);
        if let Some(target) = request.goal_target {
            goal = goal.or(request.goal);
            goal_targets.push((target, request.value_micro.unwrap_or(0)));
        }
    }
    goal_targets.sort_unstable();
    goal_targets.dedup();
    let value = goal_targets
        .iter()
        .fold(0i64, |sum, &(_, v)| sum.saturating_add(v));
    (goal, value)
}

/// Sessionizes and aggregates all shards in parallel.
///
/// Two parallel passes: the first sorts each shard and, when journeys must choose which
/// pages to name, counts human page views per path while the shard is still in cache; the
/// second cuts and aggregates the sessions. A shard spilled to disk is read back in each
/// pass that needs it rather than kept, so memory holds one such shard per thread.
pub fn aggregate(shards: Vec<ShardPieces>, ctx: &Context<'_>) -> Result<Partial> {
    enum Shard {
        Sorted(Vec<Hit>),
        Pending(ShardPieces),
    }
    let ties = sessionize::TieOrder::new(ctx.dicts);
    let counting = Vocabulary::needs_counts(ctx.lookups, ctx.journeys.max_pages);
    let paths = if counting { ctx.lookups.paths.len() } else { 0 };
    let (shards, by_path) = shards
        .into_par_iter()
        .try_fold(
            || (Vec::new(), vec![0u64; paths]),
            |(mut shards, mut by_path), mut shard| {
                if shard.is_spilled() {
                    // Counted piece by piece from the file; sorted when aggregated.
                    if counting {
                        shard.for_each_piece(|piece, _| {
                            for hit in piece {
                                let hit = std::slice::from_ref(hit);
                                Vocabulary::count(ctx.lookups, hit[0].visitor, hit, &mut by_path);
                            }
                        })?;
                    }
                    shards.push(Shard::Pending(shard));
                    return Ok((shards, by_path));
                }
                let hits = sessionize::sorted_shard(shard.take_hits()?, &ties);
                if counting {
                    sessionize::for_each_visitor(&hits, |visitor, hits| {
                        Vocabulary::count(ctx.lookups, visitor, hits, &mut by_path);
                    });
                }
                shards.push(Shard::Sorted(hits));
                Ok::<_, Error>((shards, by_path))
            },
        )
        .try_reduce(
            || (Vec::new(), vec![0u64; paths]),
            |(mut shards, mut by_path), (more, counts)| {
                shards.extend(more);
                by_path.iter_mut().zip(counts).for_each(|(a, b)| *a += b);
                Ok((shards, by_path))
            },
        )?;
    let vocabulary = Vocabulary::build(
        counting.then_some(&by_path[..]),
        ctx.lookups,
        ctx.journeys.max_pages,
    );
    shards
        .into_par_iter()
        .try_fold(
            || {
                let partial = Partial {
                    dated: ctx.dated.then(dated::Dated::default),
                    ..Partial::default()
                };
                (partial, Scratch::default())
            },
            |(mut partial, mut scratch), shard| {
                let hits = match shard {
                    Shard::Sorted(hits) => hits,
                    Shard::Pending(mut shard) => {
                        sessionize::sorted_shard(shard.take_hits()?, &ties)
                    }
                };
                sessionize::for_each_visitor(&hits, |visitor, hits| {
                    partial.add_visitor(ctx, &vocabulary, visitor, hits, &mut scratch);
                });
                Ok::<_, Error>((partial, scratch))
            },
        )
        .map(|folded| folded.map(|(partial, _)| partial))
        .try_reduce(Partial::default, |mut a, b| {
            a.merge(b);
            Ok(a)
        })
}

/// Every report, as rows with text keys, in output order.
pub struct Reports {
    pub summary: traffic::SummaryRow,
    pub pages: Vec<pages::PageRow>,
    pub entry_pages: Vec<pages::EntryRow>,
    pub exit_pages: Vec<pages::ExitRow>,
    pub referrers: Vec<sources::ReferrerRow>,
    pub referring_sites: Vec<sources::SiteRow>,
    pub errors: Vec<errors::ErrorRow>,
    pub status_codes: Vec<errors::StatusRow>,
    pub visitors: Vec<visitors::VisitorRow>,
    pub robots: Vec<visitors::RobotRow>,
    /// Sessions in output order; [`visitors::session_row`] gives their text.
    pub sessions: Vec<Session>,
    pub acquisition: acquisition::AcquisitionReports,
    pub attribution: Vec<attribution::AttributionRow>,
    pub audience: audience::AudienceReports,
    pub loyalty: loyalty::LoyaltyReports,
    pub paths: Vec<journeys::PathRow>,
    pub transitions: Vec<journeys::TransitionRow>,
    pub internal_search: Vec<site_search::SearchRow>,
    pub traffic_by_hour: Vec<time::TimeRow>,
    pub traffic_by_day: Vec<time::TimeRow>,
}

/// Turns the merged partial into report rows.
pub fn finish(mut partial: Partial, lookups: &Lookups, read: &traffic::ReadTotals) -> Reports {
    let mut sessions = std::mem::take(&mut partial.visitors.sessions);
    let mut summary = traffic::finish(&partial.traffic, read);
    summary.internal_searches = partial.site_search.searches;
    summary.search_sessions = partial.site_search.sessions;
    // The three largest sorts, side by side.
    let (((), (paths, transitions)), visitor_rows) = rayon::join(
        || {
            rayon::join(
                || visitors::sort_sessions(&mut sessions, lookups),
                || journeys::finish(&partial.journeys, &lookups.paths, summary.sessions),
            )
        },
        || visitors::finish_visitors(&partial.visitors, lookups),
    );
    let (pages, entry_pages, exit_pages) = pages::finish(&partial.pages, lookups, summary.sessions);
    let (referrers, referring_sites) = sources::finish(&partial.sources, lookups);
    let (errors, status_codes) = errors::finish(&partial.errors, lookups);
    let acquisition = acquisition::finish(&partial.acquisitions, lookups, summary.sessions);
    let (traffic_by_hour, traffic_by_day) = time::finish(&partial.time);
    let audience = audience::finish(&partial.audience, lookups, summary.sessions);
    let loyalty = loyalty::finish(&partial.loyalty, summary.sessions, summary.visitors);
    Reports {
        summary,
        pages,
        entry_pages,
        exit_pages,
        referrers,
        referring_sites,
        errors,
        status_codes,
        visitors: visitor_rows,
        robots: visitors::finish_robots(&partial.visitors, lookups),
        sessions,
        acquisition,
        attribution: attribution::finish(&partial.attribution),
        audience,
        loyalty,
        paths,
        transitions,
        internal_search: site_search::finish(&partial.site_search, lookups),
        traffic_by_hour,
        traffic_by_day,
    }
}

/// Adds 1 to `count(key)` for each distinct key in `keys` (which it sorts and dedups).
pub(crate) fn count_distinct<K: Ord + Copy>(keys: &mut Vec<K>, mut count: impl FnMut(K)) {
    keys.sort_unstable();
    keys.dedup();
    for &k in keys.iter() {
        count(k);
    }
}

/// Response bytes of some hits. Sums saturate instead of overflowing: a log can claim any
/// size, and with only non-negative terms a saturated sum is the same in any order.
pub fn bytes_of(hits: &[Hit]) -> u64 {
    hits.iter().fold(0u64, |sum, h| sum.saturating_add(h.bytes))
}

/// `num / den`, or `None` when `den` is zero.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Sorts rows by a count, largest first, then by key; the order every table uses.
pub(crate) fn sort_rows<T>(
    rows: &mut [T],
    count: impl Fn(&T) -> u64,
    tie: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    rows.sort_unstable_by(|a, b| count(b).cmp(&count(a)).then_with(|| tie(a, b)));
}
