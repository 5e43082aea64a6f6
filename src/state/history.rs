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
use crate::aggregate::{IdMap, Session};
use crate::enrich::channel::Channel;
use crate::enrich::{Lookups, Text};
use crate::error::{Error, Result};
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

fn invalid(path: &Path, reason: impl Into<String>) -> Error {
    Error::State {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn column<T: Clone + 'static>(batch: &RecordBatch, name: &str, path: &Path) -> Result<T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .cloned()
        .ok_or_else(|| invalid(path, format!("no column {name:?} of the expected type")))
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

/// Who a visitor is, from the first date it has hits on.
#[derive(Debug, Clone)]
struct Visitor {
    ip: Text,
    user_agent: Text,
    browser: Text,
    browser_version: Text,
    os: Text,
    os_version: Text,
    device: Text,
    hits: u64,
    bytes: u64,
    first_ms: i64,
    last_ms: i64,
}

/// Everything `merge` computes from the visits.
pub struct History {
    batches: Vec<VisitColumns>,
    /// Every session, numbered, in the `sessions` table's order.
    visits: Vec<Visit>,
    /// Visitors (by the index in `Session::visitor`) and their hashes.
    visitors: Vec<(u64, Visitor)>,
    pub visitor_rows: Vec<VisitorRow>,
    pub loyalty: LoyaltyReports,
    pub attribution: Vec<AttributionRow>,
    /// Visitors with a session.
    pub visitor_count: u64,
    /// Of them, those with more than one.
    pub returning: u64,
}

impl History {
    /// The `sessions` rows of `range` (in table order).
    pub fn session_rows(&self, range: std::ops::Range<usize>) -> Vec<SessionRow<'_>> {
        self.visits[range]
            .iter()
            .map(|v| {
                let c = &self.batches[v.batch as usize];
                let i = v.row as usize;
                let s = &v.session;
                let who = &self.visitors[s.visitor as usize].1;
                let referrer = opt(&c.referrer, i);
                SessionRow {
                    visitor_hash: v.hash,
                    same_start: s.same_start,
                    ip: &who.ip,
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    duration_s: s.duration_ms() as f64 / 1000.0,
                    page_views: u64::from(s.page_views),
                    bounce: s.bounce(),
                    engaged: s.engaged(),
                    entry_page: c.entry.value(i),
                    exit_page: c.exit.value(i),
                    referrer,
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
                    browser: &who.browser,
                    os: &who.os,
                    device: &who.device,
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
        let mut hits = AgentHits::default();
        for (_, v) in &self.visitors {
            let key = (v.browser.clone(), v.browser_version.clone());
            *hits.browsers.entry(key).or_default() += v.hits;
            let key = (v.os.clone(), v.os_version.clone());
            *hits.systems.entry(key).or_default() += v.hits;
            *hits.devices.entry(v.device.clone()).or_default() += v.hits;
        }
        hits
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

/// What one partition's files hold.
struct Read {
    batches: Vec<(VisitColumns, Vec<Visit>)>,
    visitors: Vec<(u64, Visitor)>,
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
    let mut visitors = Vec::new();
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
        let (ip, agent, browser, os, device) = (
            text("ip")?,
            text("user_agent")?,
            text("browser")?,
            text("os")?,
            text("device")?,
        );
        let (browser_version, os_version) = (text("browser_version")?, text("os_version")?);
        for i in 0..batch.num_rows() {
            visitors.push((
                hash.value(i) as u64,
                Visitor {
                    ip: Text::from(ip.value(i)),
                    user_agent: Text::from(agent.value(i)),
                    browser: Text::from(browser.value(i)),
                    browser_version: Text::from(browser_version.value(i)),
                    os: Text::from(os.value(i)),
                    os_version: Text::from(os_version.value(i)),
                    device: Text::from(device.value(i)),
                    hits: hits.value(i).max(0) as u64,
                    bytes: bytes.value(i).max(0) as u64,
                    first_ms: first.value(i),
                    last_ms: last.value(i),
                },
            ));
        }
    }
    Ok(Read { batches, visitors })
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
            return Err(invalid(
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

/// Computes the history tables from the partitions that count (in date order).
pub fn merge(partitions: &[Partition], rules: &AttributionRules) -> Result<History> {
    let reads: Vec<Read> = partitions
        .par_iter()
        .map(read_partition)
        .collect::<Result<_>>()?;
    let mut batches = Vec::new();
    let mut visits = Vec::new();
    // A visitor's hits summed over dates; who it is from its first date (partitions are in
    // date order).
    let mut by_hash: IdMap<u64, Visitor> = IdMap::default();
    for read in reads {
        for (columns, mut rows) in read.batches {
            let b = batches.len() as u32;
            rows.iter_mut().for_each(|v| v.batch = b);
            batches.push(columns);
            visits.append(&mut rows);
        }
        for (hash, v) in read.visitors {
            match by_hash.entry(hash) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    let e = e.get_mut();
                    e.hits += v.hits;
                    e.bytes = e.bytes.saturating_add(v.bytes);
                    e.first_ms = e.first_ms.min(v.first_ms);
                    e.last_ms = e.last_ms.max(v.last_ms);
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
    }
    // Each visitor's sessions in time order, numbered as `analyze` numbers them.
    visits.par_sort_unstable_by_key(|v| (v.hash, v.session.start_ms, v.session.same_start));
    let mut visitors: Vec<(u64, Visitor)> = Vec::new();
    let mut loyalty = Loyalty::default();
    let mut scratch = LoyaltyScratch::default();
    let mut credit = Attribution::default();
    let mut visitor_rows = Vec::new();
    let mut returning = 0;
    let mut first = 0;
    while first < visits.len() {
        let hash = visits[first].hash;
        let end = first + visits[first..].partition_point(|v| v.hash == hash);
        let index = visitors.len() as u32;
        let group = &mut visits[first..end];
        let mut previous: Option<&Session> = None;
        let mut sessions: Vec<Session> = Vec::with_capacity(group.len());
        for (n, v) in group.iter_mut().enumerate() {
            v.session.visitor = index;
            v.session.number = n as u32 + 1;
            v.session.days_since_last =
                previous.map(|p| loyalty::days_between(p.end_ms, v.session.start_ms));
            sessions.push(v.session);
            previous = sessions.last();
        }
        loyalty.add_visitor(&sessions, &mut scratch);
        credit.add_visitor(&sessions, |s| Channel::ALL[s.acquisition as usize], rules);
        let who = by_hash.remove(&hash).unwrap_or_else(|| Visitor {
            ip: Text::from(""),
            user_agent: Text::from(""),
            browser: Text::from(""),
            browser_version: Text::from(""),
            os: Text::from(""),
            os_version: Text::from(""),
            device: Text::from(""),
            hits: 0,
            bytes: 0,
            first_ms: sessions[0].start_ms,
            last_ms: sessions[sessions.len() - 1].end_ms,
        });
        let mut days: Vec<i32> = sessions.iter().map(loyalty::start_day).collect();
        days.sort_unstable();
        days.dedup();
        returning += u64::from(sessions.len() > 1);
        visitor_rows.push(VisitorRow {
            visitor: hash as i64,
            ip: who.ip.clone(),
            user_agent: who.user_agent.clone(),
            browser: who.browser.clone(),
            os: who.os.clone(),
            device: who.device.clone(),
            sessions: sessions.len() as u64,
            page_views: sessions.iter().map(|s| u64::from(s.page_views)).sum(),
            hits: who.hits,
            bytes: who.bytes,
            first_ms: who.first_ms,
            last_ms: who.last_ms,
            returning: sessions.len() > 1,
            active_days: days.len() as u64,
            days_since_previous_visit: sessions[sessions.len() - 1].days_since_last,
        });
        visitors.push((hash, who));
        first = end;
    }
    crate::aggregate::visitors::sort_visitor_rows(&mut visitor_rows);
    // The `sessions` table's order.
    visits.par_sort_unstable_by_key(|v| (v.session.start_ms, v.hash, v.session.same_start));
    let sessions = visits.len() as u64;
    let visitor_count = visitors.len() as u64;
    Ok(History {
        batches,
        visits,
        visitors,
        visitor_rows,
        loyalty: loyalty::finish(&loyalty, sessions, visitor_count),
        attribution: attribution::finish(&credit),
        visitor_count,
        returning,
    })
}
