//! The reports that need a visitor's whole history, across runs: `visitors`, `sessions`,
//! `visitor_types`, `visit_frequency`, `visit_recency`, `retention`, `attribution`, `paths`
//! and `transitions`, and the summary's `returning_visitors`.
//!
//! Their counts do not add up over dates: a session's number, its days since the visitor's
//! last visit and the touchpoints of a conversion look back across the whole period. So the
//! state keeps what they are computed from, per date:
//!
//! - `visits`: one row per session, on the date it started (open ones in `open/`): its
//!   visitor, start and end to the millisecond, page views, entry and exit, where it came
//!   from, its goal and value, its screen, and (layout 5 on) its page views' paths;
//! - `visitor_hits`: per visitor with a session in the run, its hits, bytes and first and
//!   last hit on the date, and who it is (address, user agent and what they classify as).
//!
//! `merge` gathers the visits of the partitions that count, numbers each visitor's sessions
//! in time order and computes the tables with `analyze`'s own functions ([`Loyalty`],
//! [`Attribution`]). Nothing in them is estimated: visitors are told apart by their hash.
//!
//! Since layout 5 each visit also holds its page views' paths, in order, from which `merge`
//! computes `paths` and `transitions` as `analyze` does ([`Journeys`]): the pages they name
//! are the period's most viewed, counted from those same page views.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, BooleanArray, DictionaryArray, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray,
};
use rayon::prelude::*;

use super::{channel_id, merge::Partition};
use crate::aggregate::acquisition::Keyed;
use crate::aggregate::attribution::{self, Attribution, AttributionRow, AttributionRules};
use crate::aggregate::dated::HumanHits;
use crate::aggregate::journeys::{
    self, JourneyRules, Journeys, OTHER, PathKey, PathRow, TransitionRow, Vocabulary,
};
use crate::aggregate::loyalty::{self, Loyalty, LoyaltyReports, LoyaltyScratch};
use crate::aggregate::visitors::{SessionRow, VisitorRow, session_row};
use crate::aggregate::{IdMap, Merge, Session};
use crate::enrich::channel::Channel;
use crate::enrich::{Lookups, Text};
use crate::error::Result;
use crate::output::parquet::{read_table, read_table_as_dictionaries, session_acquisition};
use crate::output::table::Table;

/// The file of a partition's sessions.
pub const VISITS: &str = "visits";
/// The file of a partition's visitors' hits.
pub const VISITOR_HITS: &str = "visitor_hits";

/// The `visits` rows of sessions (in table order), with where each one's page views are in
/// `pages` (path ids).
pub fn visits_table(visits: &[(Session, Range<usize>)], pages: &[u32], lookups: &Lookups) -> Table {
    let rows: Vec<SessionRow<'_>> = visits
        .iter()
        .map(|(s, _)| session_row(s, lookups))
        .collect();
    let ss = || visits.iter().map(|(s, _)| s);
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
        .str_lists(
            "pages",
            visits.iter().map(|(_, range)| {
                pages[range.clone()]
                    .iter()
                    .map(|&p| &*lookups.paths[p as usize])
            }),
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

/// The text columns of `visits`, read as dictionaries: a month of sessions holds each
/// distinct page, referrer or campaign once, and a key per row.
const VISIT_TEXTS: [&str; 15] = [
    "pages",
    "entry_page",
    "exit_page",
    "referrer",
    "referrer_host",
    "channel",
    "source",
    "medium",
    "campaign",
    "term",
    "content",
    "search_engine",
    "keyword",
    "goal",
    "resolution",
];

/// The columns of `visitor_hits` that name a user agent, in [`Agent`]'s order, read as
/// dictionaries.
const AGENT_TEXTS: [&str; 6] = [
    "user_agent",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device",
];

/// A text column read as a dictionary: each row's key into the distinct values.
struct Texts {
    keys: Int32Array,
    values: StringArray,
}

impl Texts {
    fn read(batch: &RecordBatch, name: &str, path: &Path) -> Result<Texts> {
        let column = super::merge::column::<DictionaryArray<Int32Type>>(batch, name, path)?;
        Texts::of(column, name, path)
    }

    /// The texts of a dictionary array (the column `name`, or its items), checked.
    fn of(column: &DictionaryArray<Int32Type>, name: &str, path: &Path) -> Result<Texts> {
        let values = column
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| super::merge::invalid(path, format!("{name}: not text")))?
            .clone();
        let keys = column.keys().clone();
        if let Some(k) = keys
            .iter()
            .flatten()
            .find(|&k| usize::try_from(k).map_or(true, |k| k >= values.len()))
        {
            return Err(super::merge::invalid(
                path,
                format!("{name}: dictionary key {k} out of range"),
            ));
        }
        Ok(Texts { keys, values })
    }

    fn get(&self, i: usize) -> Option<&str> {
        self.keys
            .is_valid(i)
            .then(|| self.values.value(self.keys.value(i) as usize))
    }

    /// The row's key into the values, -1 for a null.
    fn key(&self, i: usize) -> i32 {
        if self.keys.is_valid(i) {
            self.keys.value(i)
        } else {
            -1
        }
    }

    /// The text of a column without nulls (empty for a null).
    fn value(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }
}

/// A batch of `visits` rows: the columns the `sessions` table copies.
struct VisitColumns {
    entry: Texts,
    exit: Texts,
    referrer: Texts,
    referrer_host: Texts,
    referrer_internal: BooleanArray,
    source: Texts,
    medium: Texts,
    campaign: Texts,
    term: Texts,
    content: Texts,
    search_engine: Texts,
    keyword: Texts,
    goal: Texts,
    resolution: Texts,
    color_depth: Int64Array,
    /// Each session's page views (none in layout 4).
    pages: Option<PageLists>,
}

/// A batch's `pages` column: the paths of each row's page views, as keys into the batch's
/// distinct paths (`items`, never null).
struct PageLists {
    lists: ListArray,
    items: Texts,
    /// Each of `items`' values as a page of the period's journeys: its id, or [`OTHER`].
    pages: Vec<u32>,
}

impl PageLists {
    fn read(batch: &RecordBatch, path: &Path) -> Result<Option<PageLists>> {
        if batch.column_by_name("pages").is_none() {
            return Ok(None);
        }
        let lists = column::<ListArray>(batch, "pages", path)?;
        let items = lists
            .values()
            .as_any()
            .downcast_ref::<DictionaryArray<Int32Type>>()
            .ok_or_else(|| super::merge::invalid(path, "pages: not a list of texts"))?;
        let items = Texts::of(items, "pages", path)?;
        if items.keys.null_count() > 0 {
            return Err(super::merge::invalid(path, "pages: a null path"));
        }
        Ok(Some(PageLists {
            lists,
            items,
            pages: Vec::new(),
        }))
    }

    /// The keys of row `i`'s page views.
    fn row(&self, i: usize) -> &[i32] {
        let offsets = self.lists.value_offsets();
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        &self.items.keys.values()[start..end]
    }
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

/// A user agent and what it classifies as, as `visitor_hits` names them. Few are distinct,
/// so each is kept once and visitors point at it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Agent {
    user_agent: Text,
    browser: Text,
    /// The major version, as in `browsers`.
    browser_version: Text,
    os: Text,
    os_version: Text,
    device: Text,
}

/// A visitor's hits over the dates merged, and who it is: its address (the batch and row
/// of the `visitor_hits` row with its earliest hit) and its user agent (an index into
/// [`History::agents`]).
#[derive(Debug, Clone, Copy)]
struct Seen {
    hits: u64,
    bytes: u64,
    first_ms: i64,
    last_ms: i64,
    batch: u32,
    row: u32,
    agent: u32,
}

impl Seen {
    fn add(&mut self, o: &Seen) {
        self.hits += o.hits;
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
    }
}

/// How `merge` computes the history's tables.
#[derive(Debug, Clone, Copy)]
pub struct HistoryRules {
    pub attribution: AttributionRules,
    /// `None`: no `paths` and `transitions` (a partition's visits lack the page views).
    pub journeys: Option<JourneyRules>,
}

/// Everything `merge` computes from the visits.
pub struct History {
    batches: Vec<VisitColumns>,
    /// The `ip` columns of the partitions' `visitor_hits`.
    ips: Vec<StringArray>,
    agents: Vec<Agent>,
    /// Every session, numbered, in the `sessions` table's order.
    visits: Vec<Visit>,
    /// The visitors with a session (by the index in `Session::visitor`); `None` for one
    /// not in `visitor_hits`, of a state written otherwise: nothing is known of it.
    visitors: Vec<Option<Seen>>,
    pub visitor_rows: Vec<VisitorRow>,
    pub loyalty: LoyaltyReports,
    pub attribution: Vec<AttributionRow>,
    /// The `paths` and `transitions` rows, when the rules ask for them.
    pub journeys: Option<(Vec<PathRow>, Vec<TransitionRow>)>,
    /// Visitors with a session.
    pub visitor_count: u64,
    /// Of them, those with more than one.
    pub returning: u64,
}

/// Who a visitor is: its address and user agent, empty when unknown.
fn identity<'a>(
    ips: &'a [StringArray],
    agents: &'a [Agent],
    seen: Option<&Seen>,
) -> (&'a str, Option<&'a Agent>) {
    match seen {
        Some(s) => (
            ips[s.batch as usize].value(s.row as usize),
            Some(&agents[s.agent as usize]),
        ),
        None => ("", None),
    }
}

impl History {
    fn identity(&self, visitor: u32) -> (&str, Option<&Agent>) {
        identity(
            &self.ips,
            &self.agents,
            self.visitors[visitor as usize].as_ref(),
        )
    }

    /// The `sessions` rows of `range` (in table order).
    pub fn session_rows(&self, range: std::ops::Range<usize>) -> Vec<SessionRow<'_>> {
        self.visits[range]
            .par_iter()
            .map(|v| {
                let c = &self.batches[v.batch as usize];
                let i = v.row as usize;
                let s = &v.session;
                let (ip, agent) = self.identity(s.visitor);
                let class = |f: fn(&Agent) -> &Text| agent.map_or("", |a| &**f(a));
                SessionRow {
                    visitor_hash: v.hash,
                    same_start: s.same_start,
                    ip,
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    duration_s: s.duration_ms() as f64 / 1000.0,
                    page_views: u64::from(s.page_views),
                    bounce: s.bounce(),
                    engaged: s.engaged(),
                    entry_page: c.entry.value(i),
                    exit_page: c.exit.value(i),
                    referrer: c.referrer.get(i),
                    referrer_host: c.referrer_host.get(i),
                    referrer_internal: c
                        .referrer_internal
                        .is_valid(i)
                        .then(|| c.referrer_internal.value(i)),
                    channel: Channel::ALL[s.acquisition as usize].name(),
                    source: c.source.value(i),
                    medium: c.medium.value(i),
                    campaign: c.campaign.get(i),
                    term: c.term.get(i),
                    content: c.content.get(i),
                    search_engine: c.search_engine.get(i),
                    keyword: c.keyword.get(i),
                    converted: s.goal.is_some(),
                    goal: c.goal.get(i),
                    value: s.value_micro as f64 / 1e6,
                    browser: class(|a| &a.browser),
                    os: class(|a| &a.os),
                    device: class(|a| &a.device),
                    resolution: c.resolution.get(i),
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
    /// system (and version) and device: summed per user agent, then per what it classifies
    /// as.
    pub fn agent_hits(&self) -> AgentHits {
        let mut per_agent = vec![0u64; self.agents.len()];
        // A visitor unknown to `visitor_hits` has no hits, under empty names.
        let mut unknown = false;
        for seen in &self.visitors {
            match seen {
                Some(s) => per_agent[s.agent as usize] += s.hits,
                None => unknown = true,
            }
        }
        let mut hits = AgentHits::default();
        let empty = || Text::from("");
        if unknown {
            hits.browsers.insert((empty(), empty()), 0);
            hits.systems.insert((empty(), empty()), 0);
            hits.devices.insert(empty(), 0);
        }
        for (a, n) in self.agents.iter().zip(per_agent) {
            *hits
                .browsers
                .entry((a.browser.clone(), a.browser_version.clone()))
                .or_default() += n;
            *hits
                .systems
                .entry((a.os.clone(), a.os_version.clone()))
                .or_default() += n;
            *hits.devices.entry(a.device.clone()).or_default() += n;
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

/// What one partition's files hold: its visits; its visitors' hits, with the batch of its
/// own `ip` columns and the index of its own user agents that say who they are.
struct Read {
    batches: Vec<(VisitColumns, Vec<Visit>)>,
    ips: Vec<StringArray>,
    agents: Vec<Agent>,
    seen: Vec<(u64, Seen)>,
}

/// The directories of a partition whose `visits` count: its own, and its `open/` when the
/// sessions open at the end of its run count here.
fn visit_dirs(p: &Partition) -> impl Iterator<Item = std::path::PathBuf> {
    let open = p.open_counted.then(|| p.dir.join(super::carry::OPEN_DIR));
    std::iter::once(p.dir.clone()).chain(open)
}

/// Reads a partition's `visits` (and those of its `open/` when they count) and its
/// `visitor_hits`.
fn read_partition(p: &Partition) -> Result<Read> {
    let mut batches = Vec::new();
    for dir in visit_dirs(p) {
        let path = dir.join(format!("{VISITS}.parquet"));
        for batch in read_table_as_dictionaries(&dir, VISITS, &VISIT_TEXTS)? {
            batches.push(read_visits(&batch?, &path)?);
        }
    }
    let path = p.dir.join(format!("{VISITOR_HITS}.parquet"));
    let mut read = Read {
        batches,
        ips: Vec::new(),
        agents: Vec::new(),
        seen: Vec::new(),
    };
    let mut agent_ids: IdMap<Agent, u32> = IdMap::default();
    let batches = read_table_as_dictionaries(&p.dir, VISITOR_HITS, &AGENT_TEXTS)?
        .collect::<Result<Vec<_>>>()?;
    for batch in &batches {
        let int = |name| super::merge::column::<Int64Array>(batch, name, &path);
        let (hash, hits, bytes, first, last) = (
            int("visitor")?,
            int("hits")?,
            int("bytes")?,
            int("first_ms")?,
            int("last_ms")?,
        );
        let mut names = Vec::with_capacity(AGENT_TEXTS.len());
        for name in AGENT_TEXTS {
            names.push(Texts::read(batch, name, &path)?);
        }
        let b = read.ips.len() as u32;
        read.ips
            .push(super::merge::column::<StringArray>(batch, "ip", &path)?.clone());
        read.seen.reserve(batch.num_rows());
        // Each distinct combination of the batch's dictionary keys is looked up by its
        // texts once.
        let mut by_keys: IdMap<[i32; 6], u32> = IdMap::default();
        for i in 0..batch.num_rows() {
            let keys: [i32; 6] = std::array::from_fn(|c| names[c].key(i));
            let agent = *by_keys.entry(keys).or_insert_with(|| {
                let [user_agent, browser, browser_version, os, os_version, device] =
                    std::array::from_fn(|c| Text::from(names[c].value(i)));
                let agent = Agent {
                    user_agent,
                    browser,
                    browser_version,
                    os,
                    os_version,
                    device,
                };
                *agent_ids.entry(agent).or_insert_with_key(|a| {
                    read.agents.push(a.clone());
                    (read.agents.len() - 1) as u32
                })
            });
            let seen = Seen {
                hits: hits.value(i).max(0) as u64,
                bytes: bytes.value(i).max(0) as u64,
                first_ms: first.value(i),
                last_ms: last.value(i),
                batch: b,
                row: i as u32,
                agent,
            };
            read.seen.push((hash.value(i) as u64, seen));
        }
    }
    Ok(read)
}

fn read_visits(batch: &RecordBatch, path: &Path) -> Result<(VisitColumns, Vec<Visit>)> {
    let int = |name| column::<Int64Array>(batch, name, path);
    let text = |name| Texts::read(batch, name, path);
    let (hash, same_start, start, end, offset, page_views, value) = (
        int("visitor")?,
        int("same_start")?,
        int("start_ms")?,
        int("end_ms")?,
        int("utc_offset_min")?,
        int("page_views")?,
        int("value_micro")?,
    );
    let channel = text("channel")?;
    // Each distinct channel named once.
    let channels: Vec<u32> = channel
        .values
        .iter()
        .map(|name| {
            let name = name.unwrap_or("");
            Channel::ALL
                .iter()
                .find(|c| c.name() == name)
                .map(|&c| channel_id(c))
                .ok_or_else(|| super::merge::invalid(path, format!("unknown channel {name:?}")))
        })
        .collect::<Result<_>>()?;
    let columns = VisitColumns {
        entry: text("entry_page")?,
        exit: text("exit_page")?,
        referrer: text("referrer")?,
        referrer_host: text("referrer_host")?,
        referrer_internal: column::<BooleanArray>(batch, "referrer_internal", path)?,
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
        pages: PageLists::read(batch, path)?,
    };
    // Each visit's page views are its `page_views`: journeys count them as sessions do.
    let mismatch = |pages: &PageLists| {
        (0..batch.num_rows()).find(|&i| pages.row(i).len() as i64 != page_views.value(i))
    };
    if let Some(i) = columns.pages.as_ref().and_then(mismatch) {
        return Err(super::merge::invalid(
            path,
            format!("row {i}: pages do not match page_views"),
        ));
    }
    let mut visits = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let Some(&acquisition) = channel
            .keys
            .is_valid(i)
            .then(|| &channels[channel.keys.value(i) as usize])
        else {
            return Err(super::merge::invalid(path, format!("row {i}: no channel")));
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
                acquisition,
                goal: columns.goal.keys.is_valid(i).then_some(0),
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

/// Memory the history takes per session, in bytes: measured on a month of generated daily
/// states (2,116,796 sessions of 3.1 page views on average, 905,021 visitors, 412,860
/// paths), 1.14 GB beyond the counted tables, rounded up. Texts are held once per distinct
/// value, so this hardly depends on their length.
const BYTES_PER_SESSION: u64 = 560;

/// Fails before anything is read when the sessions of `partitions` (counted from their
/// files' footers) would take more than `limit` bytes.
pub fn check_memory(partitions: &[Partition], limit: u64) -> Result<()> {
    let mut sessions = 0u64;
    for dir in partitions.iter().flat_map(visit_dirs) {
        sessions += read_table(&dir, VISITS, &["visitor"], Some(1))?.rows as u64;
    }
    let need = sessions.saturating_mul(BYTES_PER_SESSION);
    if need > limit {
        const MB: u64 = 1 << 20;
        return Err(crate::error::Error::HistoryTooLarge {
            sessions,
            need_mb: need.div_ceil(MB),
            limit_mb: limit / MB,
        });
    }
    Ok(())
}

/// Visitors folded per task: few enough tasks to keep both cores busy and their partial
/// sums cheap to merge, the same split whatever the thread count.
const VISITORS_PER_TASK: usize = 4096;

/// What visitors add up to.
#[derive(Default)]
struct Folded {
    loyalty: Loyalty,
    credit: Attribution,
    /// By the visits' path (see [`Steps::paths_of`]).
    paths: Keyed<u32>,
    returning: u64,
}

impl Merge for Folded {
    fn merge(&mut self, o: Self) {
        self.loyalty.merge(o.loyalty);
        self.credit.merge(o.credit);
        self.paths.merge(o.paths);
        self.returning += o.returning;
    }
}

/// The period's journeys but the paths' counts: the transitions and path exits of every
/// visit, the distinct paths, each visit's path, and the named pages' texts.
struct Steps {
    journeys: Journeys,
    keys: Vec<PathKey>,
    names: Vec<Text>,
    /// Per batch and row, the visit's path: an index into `keys`.
    paths_of: Vec<Vec<u32>>,
}

/// Counts every visit's page views, the batches side by side: transitions and path
/// exits, and each visit's path (by batch and row). Paths are counted per visitor later, to
/// count each visitor once. The batches' pages must be named ([`name_pages`]).
fn count_steps(batches: &[VisitColumns], rules: &JourneyRules, names: Vec<Text>) -> Steps {
    let every_page = Vocabulary::all();
    // Per batch: its counts, its distinct paths and each row's index into them. Maps of one
    // batch stay in cache, where a thread's would not.
    let counted: Vec<(Journeys, Vec<PathKey>, Vec<u32>)> = batches
        .par_iter()
        .map(|b| {
            let lists = b.pages.as_ref().expect("journeys need every batch's pages");
            let mut j = Journeys::default();
            let rows = lists.lists.len();
            let mut ids: IdMap<PathKey, u32> = IdMap::default();
            ids.reserve(rows / 2);
            j.path_exits.reserve(rows / 2);
            j.transitions.reserve(rows);
            let mut keys = Vec::with_capacity(rows / 2);
            let mut steps = Vec::new();
            let rows = (0..rows)
                .map(|i| {
                    steps.clear();
                    steps.extend(lists.row(i).iter().map(|&k| lists.pages[k as usize]));
                    let key = j.add_steps(&steps, &every_page, rules);
                    *ids.entry(key).or_insert_with(|| {
                        keys.push(key);
                        (keys.len() - 1) as u32
                    })
                })
                .collect();
            (j, keys, rows)
        })
        .collect();
    // Each batch's paths into the period's.
    let mut journeys = Journeys::default();
    let mut ids: IdMap<PathKey, u32> = IdMap::default();
    let mut keys = Vec::new();
    let mut remaps = Vec::with_capacity(counted.len());
    let mut paths_of = Vec::with_capacity(counted.len());
    for (j, local, rows) in counted {
        journeys.merge(j);
        let remap: Vec<u32> = local
            .into_iter()
            .map(|key| {
                *ids.entry(key).or_insert_with(|| {
                    keys.push(key);
                    (keys.len() - 1) as u32
                })
            })
            .collect();
        remaps.push(remap);
        paths_of.push(rows);
    }
    paths_of
        .par_iter_mut()
        .zip(&remaps)
        .for_each(|(rows, remap)| rows.iter_mut().for_each(|p| *p = remap[*p as usize]));
    Steps {
        journeys,
        keys,
        names,
        paths_of,
    }
}

/// Names the pages of the period's journeys: the `max_pages` with the most page views in
/// `batches`' sessions ([`journeys::most_viewed`], as `analyze` names them).
/// Sets each batch's [`PageLists::pages`]; returns the paths' texts by page id.
fn name_pages(batches: &mut [VisitColumns], max_pages: usize) -> Vec<Text> {
    // Page views per distinct path of each batch (the batches side by side), then per path.
    let per_batch: Vec<Vec<u64>> = batches
        .par_iter()
        .map(|b| {
            let lists = b.pages.as_ref().expect("checked by the caller");
            let mut views = vec![0u64; lists.items.values.len()];
            let offsets = lists.lists.value_offsets();
            let (start, end) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            for &k in &lists.items.keys.values()[start..end] {
                views[k as usize] += 1;
            }
            views
        })
        .collect();
    let mut ids: IdMap<Text, u32> = IdMap::default();
    let mut names: Vec<Text> = Vec::new();
    let mut views: Vec<u64> = Vec::new();
    for (b, counts) in batches.iter_mut().zip(per_batch) {
        let lists = b.pages.as_mut().expect("checked by the caller");
        lists.pages = lists
            .items
            .values
            .iter()
            .zip(counts)
            .map(|(text, n)| {
                let id = *ids
                    .entry(Text::from(text.unwrap_or("")))
                    .or_insert_with_key(|t| {
                        names.push(t.clone());
                        views.push(0);
                        (names.len() - 1) as u32
                    });
                views[id as usize] += n;
                id
            })
            .collect();
    }
    drop(ids);
    let mut named = vec![false; names.len()];
    for p in journeys::most_viewed(&views, |p| &names[p as usize], max_pages) {
        named[p as usize] = true;
    }
    for b in batches {
        let lists = b.pages.as_mut().expect("checked by the caller");
        for p in &mut lists.pages {
            if !named[*p as usize] {
                *p = OTHER;
            }
        }
    }
    names
}

/// The visits of every batch in one vector, each marked with its batch; copied in parallel
/// (a month's sessions are a few hundred megabytes).
fn flatten(batches: Vec<Vec<Visit>>) -> Vec<Visit> {
    let mut starts = Vec::with_capacity(batches.len());
    let mut total = 0;
    for b in &batches {
        starts.push(total);
        total += b.len();
    }
    let mut all = Vec::new();
    (0..total)
        .into_par_iter()
        .map(|i| {
            let b = starts.partition_point(|&s| s <= i) - 1;
            Visit {
                batch: b as u32,
                ..batches[b][i - starts[b]]
            }
        })
        .collect_into_vec(&mut all);
    all
}

/// Sums each visitor's hits over dates and runs, sorts the visits by visitor then time and
/// numbers each visitor's sessions: gives where each visitor's visits start (and, last, their
/// end) and what is known of each visitor.
fn number_visits(
    visits: &mut [Visit],
    mut seen: Vec<(u64, Seen)>,
    agents: &[Agent],
    ips: &[StringArray],
) -> (Vec<usize>, Vec<Option<Seen>>) {
    // A visitor's hits summed over dates and runs; who it is from its earliest hit, ties by
    // user agent and address, as `analyze` chooses (a visitor known by a cookie or a user
    // name may come from several), whatever order the runs were written in.
    seen.par_sort_unstable_by(|(a, x), (b, y)| {
        a.cmp(b).then(x.first_ms.cmp(&y.first_ms)).then_with(|| {
            let who = |s: &Seen| {
                let agent: &str = &agents[s.agent as usize].user_agent;
                (agent, ips[s.batch as usize].value(s.row as usize))
            };
            who(x).cmp(&who(y))
        })
    });
    seen.dedup_by(|later, first| {
        let same = later.0 == first.0;
        if same {
            first.1.add(&later.1);
        }
        same
    });
    // Each visitor's sessions in time order, numbered as `analyze` numbers them.
    visits.par_sort_unstable_by_key(|v| (v.hash, v.session.start_ms, v.session.same_start));
    let mut starts = Vec::new();
    let mut visitors: Vec<Option<Seen>> = Vec::new();
    // Both are in hash order: who each visitor is comes from a walk along `seen`.
    let mut known = seen.iter().peekable();
    for i in 0..visits.len() {
        let (previous, v) = match i.checked_sub(1) {
            Some(p) if visits[p].hash == visits[i].hash => {
                (Some(visits[p].session), &mut visits[i])
            }
            _ => {
                starts.push(i);
                let hash = visits[i].hash;
                while known.next_if(|(h, _)| *h < hash).is_some() {}
                visitors.push(known.next_if(|(h, _)| *h == hash).map(|(_, s)| *s));
                (None, &mut visits[i])
            }
        };
        let s = &mut v.session;
        s.visitor = (starts.len() - 1) as u32;
        s.number = previous.map_or(1, |p| p.number + 1);
        s.days_since_last = previous.map(|p| loyalty::days_between(p.end_ms, s.start_ms));
    }
    starts.push(visits.len());
    (starts, visitors)
}

/// Computes the history tables from the partitions that count (in date order).
pub fn merge(partitions: &[Partition], rules: &HistoryRules) -> Result<History> {
    let reads: Vec<Read> = partitions
        .par_iter()
        .map(read_partition)
        .collect::<Result<_>>()?;
    let count = |f: fn(&Read) -> usize| reads.iter().map(f).sum::<usize>();
    let mut batches = Vec::new();
    let mut ips = Vec::new();
    let mut agents: Vec<Agent> = Vec::new();
    let mut agent_ids: IdMap<Agent, u32> = IdMap::default();
    let mut visit_batches = Vec::new();
    let mut seen = Vec::with_capacity(count(|r| r.seen.len()));
    for read in reads {
        for (columns, rows) in read.batches {
            batches.push(columns);
            visit_batches.push(rows);
        }
        let first_batch = ips.len() as u32;
        ips.extend(read.ips);
        let global: Vec<u32> = read
            .agents
            .into_iter()
            .map(|a| {
                *agent_ids.entry(a).or_insert_with_key(|a| {
                    agents.push(a.clone());
                    (agents.len() - 1) as u32
                })
            })
            .collect();
        seen.extend(read.seen.into_iter().map(|(hash, s)| {
            let s = Seen {
                batch: first_batch + s.batch,
                agent: global[s.agent as usize],
                ..s
            };
            (hash, s)
        }));
    }
    drop(agent_ids);
    let mut visits = flatten(visit_batches);
    // Journeys take every visit's page views.
    let journey_rules = rules
        .journeys
        .filter(|_| batches.iter().all(|b| b.pages.is_some()));
    // The journeys' counts beside the numbering of visits: they need the visits' page
    // views alone, in the order they were read.
    let names = journey_rules.map(|r| name_pages(&mut batches, r.max_pages));
    let (steps, (starts, visitors)) = rayon::join(
        || {
            journey_rules
                .zip(names)
                .map(|(r, names)| count_steps(&batches, &r, names))
        },
        || number_visits(&mut visits, seen, &agents, &ips),
    );

    // The visitors side by side, a share per task: their rows, each share's in its own
    // slot, and their loyalty, attribution credit and paths, summed per thread then
    // together (sums: the same whatever the split).
    let mut row_shares: Vec<Vec<VisitorRow>> = Vec::new();
    row_shares.resize_with(visitors.len().div_ceil(VISITORS_PER_TASK), Vec::new);
    let total = starts[..visitors.len()]
        .par_chunks(VISITORS_PER_TASK)
        .zip(row_shares.par_iter_mut())
        .enumerate()
        .fold(Folded::default, |mut f, (n, (share, rows))| {
            let first_visitor = n * VISITORS_PER_TASK;
            let ends = &starts[first_visitor + 1..first_visitor + share.len() + 1];
            rows.reserve_exact(share.len());
            let mut scratch = LoyaltyScratch::default();
            let mut distinct_paths = Vec::new();
            let mut sessions: Vec<Session> = Vec::new();
            let mut days: Vec<i32> = Vec::new();
            for (&start, &end) in share.iter().zip(ends) {
                let group = &visits[start..end];
                sessions.clear();
                sessions.extend(group.iter().map(|v| v.session));
                f.loyalty.add_visitor(&sessions, &mut scratch);
                f.credit.add_visitor(
                    &sessions,
                    |s| Channel::ALL[s.acquisition as usize],
                    &rules.attribution,
                );
                if let Some(steps) = &steps {
                    let path = |v: &Visit| steps.paths_of[v.batch as usize][v.row as usize];
                    f.paths.add_indexed(
                        &sessions,
                        |i, _| Some(path(&group[i])),
                        &mut distinct_paths,
                    );
                }
                let (first, last) = (&sessions[0], &sessions[sessions.len() - 1]);
                let seen = visitors[first.visitor as usize];
                let (ip, agent) = identity(&ips, &agents, seen.as_ref());
                let class =
                    |f: fn(&Agent) -> &Text| agent.map_or_else(|| Text::from(""), |a| f(a).clone());
                days.clear();
                days.extend(sessions.iter().map(loyalty::start_day));
                days.sort_unstable();
                days.dedup();
                f.returning += u64::from(sessions.len() > 1);
                rows.push(VisitorRow {
                    visitor: group[0].hash as i64,
                    ip: Text::from(ip),
                    user_agent: class(|a| &a.user_agent),
                    browser: class(|a| &a.browser),
                    os: class(|a| &a.os),
                    device: class(|a| &a.device),
                    sessions: sessions.len() as u64,
                    page_views: sessions.iter().map(|s| u64::from(s.page_views)).sum(),
                    hits: seen.map_or(0, |s| s.hits),
                    bytes: seen.map_or(0, |s| s.bytes),
                    first_ms: seen.map_or(first.start_ms, |s| s.first_ms),
                    last_ms: seen.map_or(last.end_ms, |s| s.last_ms),
                    returning: sessions.len() > 1,
                    active_days: days.len() as u64,
                    days_since_previous_visit: last.days_since_last,
                });
            }
            f
        })
        .reduce(Folded::default, |mut a, b| {
            a.merge(b);
            a
        });
    let mut visitor_rows = row_shares.concat();
    drop(row_shares);
    let sessions = visits.len() as u64;
    let visitor_count = visitors.len() as u64;
    // The paths' rows beside the sorts.
    let (journeys, ()) = rayon::join(
        || {
            steps.map(|steps| {
                let keys = &steps.keys;
                let paths = (total.paths.by.iter()).map(|(&id, m)| (&keys[id as usize], m));
                journeys::finish_with(paths, &steps.journeys, &steps.names, sessions)
            })
        },
        || {
            crate::aggregate::visitors::sort_visitor_rows(&mut visitor_rows);
            // The `sessions` table's order.
            visits.par_sort_unstable_by_key(|v| (v.session.start_ms, v.hash, v.session.same_start));
        },
    );
    Ok(History {
        batches,
        ips,
        agents,
        visits,
        visitors,
        visitor_rows,
        loyalty: loyalty::finish(&total.loyalty, sessions, visitor_count),
        attribution: attribution::finish(&total.credit),
        journeys,
        visitor_count,
        returning: total.returning,
    })
}
