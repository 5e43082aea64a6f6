//! The reports that need a visitor's whole history, across runs: `visitors`, `sessions`,
//! `visitor_types`, `visit_frequency`, `visit_recency`, `retention`, `attribution`, and the
//! summary's `returning_visitors`.
//!
//! Their counts do not add up over dates: a session's number, its days since the visitor's
//! last visit and the touchpoints of a conversion look back across the whole period. So the
//! state keeps what they are computed from, per date:
//!
//! - `visits`: one row per session, on the date it started (open ones in `open/`): its
//!   visitor, start and end to the millisecond, page views, entry and exit, where it came
//!   from, its goal and value, and its screen;
//! - `visitor_hits`: per visitor with a session in the run, its hits, bytes and first and
//!   last hit on the date, and who it is (address, user agent and what they classify as).
//!
//! `merge` gathers the visits of the partitions that count, numbers each visitor's sessions
//! in time order and computes the tables with `analyze`'s own functions ([`Loyalty`],
//! [`Attribution`]). Nothing in them is estimated: visitors are told apart by their hash.

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::{Array, BooleanArray, Int64Array, RecordBatch, StringArray};
use rayon::prelude::*;

use super::{channel_id, merge::Partition};
use crate::aggregate::attribution::{self, Attribution, AttributionRow, AttributionRules};
use crate::aggregate::dated::HumanHits;
use crate::aggregate::loyalty::{self, Loyalty, LoyaltyReports, LoyaltyScratch};
use crate::aggregate::visitors::{SessionRow, VisitorRow, session_row};
use crate::aggregate::{IdMap, Merge, Session};
use crate::enrich::channel::Channel;
use crate::enrich::{Lookups, Text};
use crate::error::Result;
use crate::output::parquet::{read_table, session_acquisition};
use crate::output::table::Table;

/// The file of a partition's sessions.
pub const VISITS: &str = "visits";
/// The file of a partition's visitors' hits.
pub const VISITOR_HITS: &str = "visitor_hits";

/// The `visits` rows of sessions (in table order).
pub fn visits_table(sessions: &[Session], lookups: &Lookups) -> Table {
    let rows: Vec<SessionRow<'_>> = sessions.iter().map(|s| session_row(s, lookups)).collect();
    let ss = || sessions.iter();
    Table::default()
        .int("visitor", rows.iter().map(|r| r.visitor_hash as i64))
        .int("same_start", ss().map(|s| i64::from(s.same_start)))
        .int("start_ms", ss().map(|s| s.start_ms))
        .int("end_ms", ss().map(|s| s.end_ms))
        .int("utc_offset_min", ss().map(|s| i64::from(s.offset_min)))
        .int("page_views", ss().map(|s| i64::from(s.page_views)))
        .str("entry_page", rows.iter().map(|r| r.entry_page))
        .str("exit_page", rows.iter().map(|r| r.exit_page))
        .opt_str("referrer", rows.iter().map(|r| r.referrer))
        .opt_str("referrer_host", rows.iter().map(|r| r.referrer_host))
        .opt_bool(
            "referrer_internal",
            rows.iter().map(|r| r.referrer_internal),
        )
        .append(session_acquisition(&rows))
        .opt_str("goal", rows.iter().map(|r| r.goal))
        .int("value_micro", ss().map(|s| s.value_micro))
        .opt_str("resolution", rows.iter().map(|r| r.resolution))
        .opt_int(
            "color_depth",
            rows.iter().map(|r| r.color_depth.map(i64::from)),
        )
}

/// The `visitor_hits` rows of one date.
pub fn visitor_hits_table(humans: &[HumanHits], lookups: &Lookups) -> Table {
    let who = || humans.iter().map(|h| lookups.visitor(h.visitor));
    let agents = || humans.iter().map(|h| lookups.agent_of(h.visitor));
    Table::default()
        .int("visitor", who().map(|v| v.hash as i64))
        .str("ip", who().map(|v| &*lookups.clients[v.client as usize]))
        .str(
            "user_agent",
            who().map(|v| &*lookups.agent_texts[v.agent as usize]),
        )
        .str("browser", agents().map(|a| &*a.browser))
        .str("browser_version", agents().map(|a| &*a.browser_major))
        .str("os", agents().map(|a| &*a.os))
        .str("os_version", agents().map(|a| &*a.os_version))
        .str("device", agents().map(|a| &*a.device))
        .int("hits", humans.iter().map(|h| super::count(h.hits)))
        .int("bytes", humans.iter().map(|h| super::count(h.bytes)))
        .int("first_ms", humans.iter().map(|h| h.first_ms))
        .int("last_ms", humans.iter().map(|h| h.last_ms))
}

/// A column of `batch`, owned (an Arrow array is shared, not copied).
fn column<T: Clone + 'static>(batch: &RecordBatch, name: &str, path: &Path) -> Result<T> {
    super::merge::column::<T>(batch, name, path).cloned()
}

/// A batch of `visits` rows: the columns the `sessions` table copies.
struct VisitColumns {
    entry: StringArray,
    exit: StringArray,
    referrer: StringArray,
    referrer_host: StringArray,
    referrer_internal: BooleanArray,
    channel: StringArray,
    source: StringArray,
    medium: StringArray,
    campaign: StringArray,
    term: StringArray,
    content: StringArray,
    search_engine: StringArray,
    keyword: StringArray,
    goal: StringArray,
    resolution: StringArray,
    color_depth: Int64Array,
}

fn opt(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// One session, as the history needs it, and where its row is.
#[derive(Debug, Clone, Copy)]
struct Visit {
    /// The visitor's hash.
    hash: u64,
    session: Session,
    /// Its batch and row in [`History::batches`].
    batch: u32,
    row: u32,
}

/// The `visitor_hits` columns that say who a visitor is.
struct IdentityColumns {
    ip: StringArray,
    user_agent: StringArray,
    browser: StringArray,
    browser_version: StringArray,
    os: StringArray,
    os_version: StringArray,
    device: StringArray,
}

/// A visitor's hits over the dates merged, and where its identity is: the batch and row of
/// its first date's `visitor_hits`.
#[derive(Debug, Clone, Copy)]
struct Seen {
    hits: u64,
    bytes: u64,
    first_ms: i64,
    last_ms: i64,
    batch: u32,
    row: u32,
}

impl Seen {
    fn add(&mut self, o: &Seen) {
        self.hits += o.hits;
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
    }
}

/// Who a visitor is, borrowed from its `visitor_hits` row.
struct Identity<'a> {
    ip: &'a str,
    user_agent: &'a str,
    browser: &'a str,
    browser_version: &'a str,
    os: &'a str,
    os_version: &'a str,
    device: &'a str,
}

/// Everything `merge` computes from the visits.
pub struct History {
    batches: Vec<VisitColumns>,
    identities: Vec<IdentityColumns>,
    /// Every session, numbered, in the `sessions` table's order.
    visits: Vec<Visit>,
    /// The visitors with a session (by the index in `Session::visitor`).
    visitors: Vec<Option<Seen>>,
    pub visitor_rows: Vec<VisitorRow>,
    pub loyalty: LoyaltyReports,
    pub attribution: Vec<AttributionRow>,
    /// Visitors with a session.
    pub visitor_count: u64,
    /// Of them, those with more than one.
    pub returning: u64,
}

fn identity_of<'a>(identities: &'a [IdentityColumns], seen: Option<&Seen>) -> Identity<'a> {
    match seen {
        Some(seen) => {
            let c = &identities[seen.batch as usize];
            let i = seen.row as usize;
            Identity {
                ip: c.ip.value(i),
                user_agent: c.user_agent.value(i),
                browser: c.browser.value(i),
                browser_version: c.browser_version.value(i),
                os: c.os.value(i),
                os_version: c.os_version.value(i),
                device: c.device.value(i),
            }
        }
        // Not in `visitor_hits`: a state written otherwise; nothing known.
        None => Identity {
            ip: "",
            user_agent: "",
            browser: "",
            browser_version: "",
            os: "",
            os_version: "",
            device: "",
        },
    }
}

impl History {
    fn identity(&self, visitor: u32) -> Identity<'_> {
        identity_of(&self.identities, self.visitors[visitor as usize].as_ref())
    }

    /// The `sessions` rows of `range` (in table order).
    pub fn session_rows(&self, range: std::ops::Range<usize>) -> Vec<SessionRow<'_>> {
        self.visits[range]
            .iter()
            .map(|v| {
                let c = &self.batches[v.batch as usize];
                let i = v.row as usize;
                let s = &v.session;
                let who = self.identity(s.visitor);
                SessionRow {
                    visitor_hash: v.hash,
                    same_start: s.same_start,
                    ip: who.ip,
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    duration_s: s.duration_ms() as f64 / 1000.0,
                    page_views: u64::from(s.page_views),
                    bounce: s.bounce(),
                    engaged: s.engaged(),
                    entry_page: c.entry.value(i),
                    exit_page: c.exit.value(i),
                    referrer: opt(&c.referrer, i),
                    referrer_host: opt(&c.referrer_host, i),
                    referrer_internal: c
                        .referrer_internal
                        .is_valid(i)
                        .then(|| c.referrer_internal.value(i)),
                    channel: Channel::ALL[s.acquisition as usize].name(),
                    source: c.source.value(i),
                    medium: c.medium.value(i),
                    campaign: opt(&c.campaign, i),
                    term: opt(&c.term, i),
                    content: opt(&c.content, i),
                    search_engine: opt(&c.search_engine, i),
                    keyword: opt(&c.keyword, i),
                    converted: s.goal.is_some(),
                    goal: opt(&c.goal, i),
                    value: s.value_micro as f64 / 1e6,
                    browser: who.browser,
                    os: who.os,
                    device: who.device,
                    resolution: opt(&c.resolution, i),
                    color_depth: c
                        .color_depth
                        .is_valid(i)
                        .then(|| c.color_depth.value(i).clamp(0, 255) as u8),
                    session_number: s.number,
                    days_since_last_visit: s.days_since_last,
                }
            })
            .collect()
    }

    /// The hits of the visitors with a session, per browser (and major version), operating
    /// system (and version) and device.
    pub fn agent_hits(&self) -> AgentHits {
        let mut browsers: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        let mut systems: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        let mut devices: BTreeMap<&str, u64> = BTreeMap::new();
        for (v, seen) in self.visitors.iter().enumerate() {
            let n = seen.map_or(0, |s| s.hits);
            let who = self.identity(v as u32);
            *browsers
                .entry((who.browser, who.browser_version))
                .or_default() += n;
            *systems.entry((who.os, who.os_version)).or_default() += n;
            *devices.entry(who.device).or_default() += n;
        }
        let pair = |((a, b), n): ((&str, &str), u64)| ((Text::from(a), Text::from(b)), n);
        AgentHits {
            browsers: browsers.into_iter().map(pair).collect(),
            systems: systems.into_iter().map(pair).collect(),
            devices: devices
                .into_iter()
                .map(|(d, n)| (Text::from(d), n))
                .collect(),
        }
    }

    /// Sessions in the `sessions` table.
    pub fn sessions(&self) -> usize {
        self.visits.len()
    }
}

/// Human hits per user-agent row.
#[derive(Default)]
pub struct AgentHits {
    pub browsers: BTreeMap<(Text, Text), u64>,
    pub systems: BTreeMap<(Text, Text), u64>,
    pub devices: BTreeMap<Text, u64>,
}

/// What one partition's files hold: its visits, and its visitors' hits with the batch (of
/// the partition's own) that says who they are.
struct Read {
    batches: Vec<(VisitColumns, Vec<Visit>)>,
    identities: Vec<(IdentityColumns, Vec<(u64, Seen)>)>,
}

/// Reads a partition's `visits` (and those of its `open/` when they count) and its
/// `visitor_hits`.
fn read_partition(p: &Partition) -> Result<Read> {
    let mut batches = Vec::new();
    let open = p.dir.join(super::carry::OPEN_DIR);
    let dirs = std::iter::once(p.dir.as_path()).chain(p.open_counted.then_some(open.as_path()));
    for dir in dirs {
        let path = dir.join(format!("{VISITS}.parquet"));
        for batch in read_table(dir, VISITS, &[], None)? {
            batches.push(read_visits(&batch?, &path)?);
        }
    }
    let path = p.dir.join(format!("{VISITOR_HITS}.parquet"));
    let mut identities = Vec::new();
    for batch in read_table(&p.dir, VISITOR_HITS, &[], None)? {
        let batch = batch?;
        let int = |name| column::<Int64Array>(&batch, name, &path);
        let text = |name| column::<StringArray>(&batch, name, &path);
        let (hash, hits, bytes, first, last) = (
            int("visitor")?,
            int("hits")?,
            int("bytes")?,
            int("first_ms")?,
            int("last_ms")?,
        );
        let columns = IdentityColumns {
            ip: text("ip")?,
            user_agent: text("user_agent")?,
            browser: text("browser")?,
            browser_version: text("browser_version")?,
            os: text("os")?,
            os_version: text("os_version")?,
            device: text("device")?,
        };
        let rows = (0..batch.num_rows())
            .map(|i| {
                let seen = Seen {
                    hits: hits.value(i).max(0) as u64,
                    bytes: bytes.value(i).max(0) as u64,
                    first_ms: first.value(i),
                    last_ms: last.value(i),
                    batch: 0,
                    row: i as u32,
                };
                (hash.value(i) as u64, seen)
            })
            .collect();
        identities.push((columns, rows));
    }
    Ok(Read {
        batches,
        identities,
    })
}

fn read_visits(batch: &RecordBatch, path: &Path) -> Result<(VisitColumns, Vec<Visit>)> {
    let int = |name| column::<Int64Array>(batch, name, path);
    let text = |name| column::<StringArray>(batch, name, path);
    let (hash, same_start, start, end, offset, page_views, value) = (
        int("visitor")?,
        int("same_start")?,
        int("start_ms")?,
        int("end_ms")?,
        int("utc_offset_min")?,
        int("page_views")?,
        int("value_micro")?,
    );
    let columns = VisitColumns {
        entry: text("entry_page")?,
        exit: text("exit_page")?,
        referrer: text("referrer")?,
        referrer_host: text("referrer_host")?,
        referrer_internal: column::<BooleanArray>(batch, "referrer_internal", path)?,
        channel: text("channel")?,
        source: text("source")?,
        medium: text("medium")?,
        campaign: text("campaign")?,
        term: text("term")?,
        content: text("content")?,
        search_engine: text("search_engine")?,
        keyword: text("keyword")?,
        goal: text("goal")?,
        resolution: text("resolution")?,
        color_depth: int("color_depth")?,
    };
    let mut visits = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let channel = columns.channel.value(i);
        let Some(channel) = Channel::ALL.iter().find(|c| c.name() == channel) else {
            return Err(super::merge::invalid(
                path,
                format!("row {i}: unknown channel {channel:?}"),
            ));
        };
        visits.push(Visit {
            hash: hash.value(i) as u64,
            session: Session {
                visitor: 0,
                start_ms: start.value(i),
                end_ms: end.value(i),
                offset_min: offset.value(i).clamp(-1440, 1440) as i16,
                number: 0,
                days_since_last: None,
                entry: 0,
                exit: 0,
                page_views: page_views.value(i).clamp(0, i64::from(u32::MAX)) as u32,
                referrer: 0,
                same_start: same_start.value(i).clamp(0, i64::from(u32::MAX)) as u32,
                acquisition: channel_id(*channel),
                goal: columns.goal.is_valid(i).then_some(0),
                value_micro: value.value(i),
                resolution: None,
                color_depth: None,
            },
            batch: 0,
            row: i as u32,
        });
    }
    Ok((columns, visits))
}

/// What the visitors of one thread's share add up to.
#[derive(Default)]
struct Folded {
    loyalty: Loyalty,
    credit: Attribution,
    rows: Vec<VisitorRow>,
    returning: u64,
    scratch: LoyaltyScratch,
    sessions: Vec<Session>,
    days: Vec<i32>,
}

impl Folded {
    fn merge(mut self, mut o: Folded) -> Folded {
        self.loyalty.merge(o.loyalty);
        self.credit.merge(o.credit);
        self.rows.append(&mut o.rows);
        self.returning += o.returning;
        self
    }
}

/// Computes the history tables from the partitions that count (in date order).
pub fn merge(partitions: &[Partition], rules: &AttributionRules) -> Result<History> {
    let reads: Vec<Read> = partitions
        .par_iter()
        .map(read_partition)
        .collect::<Result<_>>()?;
    let mut batches = Vec::new();
    let mut identities = Vec::new();
    let mut visits = Vec::new();
    // A visitor's hits summed over dates; who it is from its first date (partitions are in
    // date order).
    let mut by_hash: IdMap<u64, Seen> = IdMap::default();
    for read in reads {
        for (columns, mut rows) in read.batches {
            let b = batches.len() as u32;
            rows.iter_mut().for_each(|v| v.batch = b);
            batches.push(columns);
            visits.append(&mut rows);
        }
        for (columns, rows) in read.identities {
            let b = identities.len() as u32;
            identities.push(columns);
            for (hash, seen) in rows {
                by_hash
                    .entry(hash)
                    .and_modify(|e| e.add(&seen))
                    .or_insert(Seen { batch: b, ..seen });
            }
        }
    }
    // Each visitor's sessions in time order, numbered as `analyze` numbers them.
    visits.par_sort_unstable_by_key(|v| (v.hash, v.session.start_ms, v.session.same_start));
    let mut starts = Vec::new();
    for i in 0..visits.len() {
        let (previous, v) = match i.checked_sub(1) {
            Some(p) if visits[p].hash == visits[i].hash => {
                (Some(visits[p].session), &mut visits[i])
            }
            _ => {
                starts.push(i);
                (None, &mut visits[i])
            }
        };
        let s = &mut v.session;
        s.visitor = (starts.len() - 1) as u32;
        s.number = previous.map_or(1, |p| p.number + 1);
        s.days_since_last = previous.map(|p| loyalty::days_between(p.end_ms, s.start_ms));
    }
    starts.push(visits.len());
    let visitors: Vec<Option<Seen>> = starts[..starts.len() - 1]
        .iter()
        .map(|&i| by_hash.get(&visits[i].hash).copied())
        .collect();
    drop(by_hash);
    // The visitors side by side: their loyalty, attribution credit and rows.
    let folded = starts
        .par_windows(2)
        .fold(Folded::default, |mut f, w| {
            let group = &visits[w[0]..w[1]];
            f.sessions.clear();
            f.sessions.extend(group.iter().map(|v| v.session));
            let sessions = &f.sessions;
            f.loyalty.add_visitor(sessions, &mut f.scratch);
            f.credit
                .add_visitor(sessions, |s| Channel::ALL[s.acquisition as usize], rules);
            let (first, last) = (&sessions[0], &sessions[sessions.len() - 1]);
            let seen = visitors[first.visitor as usize];
            let who = identity_of(&identities, seen.as_ref());
            f.days.clear();
            f.days.extend(sessions.iter().map(loyalty::start_day));
            f.days.sort_unstable();
            f.days.dedup();
            f.returning += u64::from(sessions.len() > 1);
            f.rows.push(VisitorRow {
                visitor: group[0].hash as i64,
                ip: Text::from(who.ip),
                user_agent: Text::from(who.user_agent),
                browser: Text::from(who.browser),
                os: Text::from(who.os),
                device: Text::from(who.device),
                sessions: sessions.len() as u64,
                page_views: sessions.iter().map(|s| u64::from(s.page_views)).sum(),
                hits: seen.map_or(0, |s| s.hits),
                bytes: seen.map_or(0, |s| s.bytes),
                first_ms: seen.map_or(first.start_ms, |s| s.first_ms),
                last_ms: seen.map_or(last.end_ms, |s| s.last_ms),
                returning: sessions.len() > 1,
                active_days: f.days.len() as u64,
                days_since_previous_visit: last.days_since_last,
            });
            f
        })
        .reduce(Folded::default, Folded::merge);
    let mut visitor_rows = folded.rows;
    crate::aggregate::visitors::sort_visitor_rows(&mut visitor_rows);
    // The `sessions` table's order.
    visits.par_sort_unstable_by_key(|v| (v.session.start_ms, v.hash, v.session.same_start));
    let sessions = visits.len() as u64;
    let visitor_count = visitors.len() as u64;
    Ok(History {
        batches,
        identities,
        visits,
        visitors,
        visitor_rows,
        loyalty: loyalty::finish(&folded.loyalty, sessions, visitor_count),
        attribution: attribution::finish(&folded.credit),
        visitor_count,
        returning: folded.returning,
    })
}
