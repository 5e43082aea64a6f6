//! State: a run's partial results, kept so that runs combine later without their logs.
//!
//! `analyze --state DIR` writes one partition per date on which the run has hits (the log's
//! own clock): `DIR/date=YYYY-MM-DD/run=ID/`, where `ID` names the run's set of inputs (by
//! content fingerprint). A partition holds `_manifest.json` (the inputs, the definitions in
//! force) and one Parquet file per mergeable report. A date may hold several runs: two
//! servers' logs, or two rotated files that both reach past midnight. A run replaces every
//! partition in `DIR` that shares an input with it (see [`commit`]).
//!
//! The layout is table-driven: each [`Report`] names its file, its key columns and its count
//! columns (with how each adds up: a sum, or the least or greatest value), and whether its
//! rows carry an Apache DataSketches HLL sketch of their visitors. Rates and averages are
//! never stored: [`merge`] sums the counts and unions the sketches, then computes them as
//! `analyze` does. A new mergeable report is a new entry in [`Report`] and its rows.
//!
//! Each count belongs to exactly one date: reports counted from sessions
//! ([`Source::Sessions`]) to the date the session started; counts of hits to the hit's date
//! (see [`crate::aggregate::dated`]); hours and days to their own; what the run read (lines,
//! malformed lines, inputs) to the run's first date, in `summary`, so that merging sums each
//! run's once. Reports that need a visitor's whole history (visitors, sessions numbered per
//! visitor, returning visitors, retention, attribution) are computed from every session,
//! kept per date in `visits` ([`history`]), and so are paths and transitions, from each
//! session's page views there.
//!
//! Sessions still open at the end of the run's input (their last page view within the
//! session timeout of its last hit) are counted apart, in the partition's `open/`, with the
//! hits a later run needs to continue them ([`carry`]): `merge` counts them there unless a
//! later run continued them (and counts them whole in its own partitions). `open/` holds
//! every count of sessions ([`Report::open`]); counts of hits are in the partition itself
//! only, and hits carried from an earlier run are in none of them.

pub mod carry;
pub mod history;
pub mod merge;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use datasketches::hash::value::raw_bytes;
use datasketches::hll::{Coupon, HllSketch, HllType};
use hdrhistogram::Histogram;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::aggregate::acquisition::SessionMetrics;
use crate::aggregate::dated::{Dated, Day, session_key};
use crate::aggregate::time::{DAY_MS, HOUR_MS};
use crate::aggregate::traffic::ReadTotals;
use crate::aggregate::visitors::session_order;
use crate::aggregate::{IdMap, Session, loyalty, sort_rows};
use crate::enrich::channel::Channel;
use crate::enrich::{Lookups, Text};
use crate::error::{Error, Result};
use crate::ingest::FileStats;
use crate::output::parquet::{Purpose, TableSpec, write_tables};
use crate::output::table::Table;

/// log2 of the sketches' register count: 4096 registers, the default of DataSketches and
/// of Spark's `hll_sketch_agg`.
pub const LG_K: u8 = 12;

/// Register width: 8 bits, as Spark's `hll_sketch_agg` writes them.
pub const HLL_TYPE: HllType = HllType::Hll8;

/// The manifest's name in each date partition (a leading `_`: Spark and Hive skip it).
pub const MANIFEST: &str = "_manifest.json";

/// The lock file in a state directory (a leading `.`: Spark, Hive and `merge` skip it).
pub const LOCK: &str = ".accesslens.lock";

/// The layout version written into every manifest. Version 2 added the open sessions
/// (`open/`, the manifest's `open`, `open_digest`, `continues` and hit times); version 3 the
/// tables counted from hits, `summary`, the user-agent tables and `totals.search_sessions`;
/// version 4 `visits` and `visitor_hits`, from which `merge` computes the reports of a
/// visitor's whole history (see [`history`]); version 5 each session's page views in
/// `visits`, from which `merge` computes `paths` and `transitions`; version 6 the pages'
/// response times ([`RESPONSE_TIMES_COUNTS`]).
pub const LAYOUT: u32 = 6;

/// The oldest layout whose `pages` count response times ([`RESPONSE_TIMES_COUNTS`]).
pub const RESPONSE_TIMES_MIN_LAYOUT: u32 = 6;

/// The count columns [`RESPONSE_TIMES_MIN_LAYOUT`] added to `pages`: a partition of an older
/// layout has none, which `merge` reads as no hit with a logged response time.
pub const RESPONSE_TIMES_COUNTS: [&str; 3] = ["response_hits", "response_us", "max_response_us"];

/// The oldest layout with `visits` and `visitor_hits`.
pub const HISTORY_MIN_LAYOUT: u32 = 4;

/// The oldest layout whose `visits` hold each session's page views.
pub const JOURNEYS_MIN_LAYOUT: u32 = 5;

/// The oldest layout whose manifests this version reads: to replace its partitions, or to
/// continue its open sessions (layout 1 has none).
pub const MIN_LAYOUT: u32 = 1;

/// The oldest layout `merge` reads: older partitions lack tables it writes.
pub const MERGE_MIN_LAYOUT: u32 = 3;

/// What the visitor sketches hold, for the manifest and the Parquet metadata.
pub const SKETCH_CONTRACT: &str = "Apache DataSketches HLL_8, lg_k 12, of the visitor column's \
    signed decimal text hashed as UTF-8 bytes (Spark: hll_sketch_agg(cast(visitor as string), 12) \
    over the sessions table)";

/// What a merged visitor count is, for the merged tables' metadata and the README.
pub const ESTIMATE_NOTE: &str = "visitors columns are estimates: the union of daily HLL \
    sketches (lg_k 12), relative standard error 1.6% (within 3.3% for 95% of counts); counts \
    below a few hundred are exact but for hash collisions (about 1 in 10^4)";

/// What is exact in merged tables of partitions that keep their visits.
pub const HISTORY_NOTE: &str = "the summary's visitors and returning_visitors, and the visitors, \
    sessions, visitor_types, visit_frequency, visit_recency, retention, attribution, paths and \
    transitions tables, are computed from every session of the period (the partitions' visits), \
    not estimated";

/// Why a merged summary's `returning_visitors` is null (partitions without visits).
pub const RETURNING_NOTE: &str = "null, not estimated: whether a visitor returned takes its \
    sessions of the whole period, and the state keeps visitors only as sketches per date, whose \
    unions count distinct visitors but not how many sessions each had";

/// Why a merged summary's `returning_visitors` is null (`merge --no-history`).
pub const NO_HISTORY_NOTE: &str = "null, not estimated: whether a visitor returned takes its \
    sessions of the whole period, which `merge --no-history` does not read";

/// How a key column is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Utf8, never null.
    Text,
    /// Utf8, nullable.
    OptText,
    /// Int64, never null.
    Int,
    /// Int64, nullable.
    OptInt,
    /// Boolean, never null.
    Bool,
}

/// How a count column of one key adds up over dates and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    Sum,
    Min,
    Max,
}

/// Where a report's rows are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// From the run's sessions, on the date each started ([`RunState::collect`]).
    Sessions,
    /// From the hits and sessions while they are aggregated ([`crate::aggregate::dated`]).
    Hits,
}

/// A report kept per date and merged: its file, key columns and count columns are its
/// entry in the tables below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Channels,
    Sources,
    Campaigns,
    SearchEngines,
    SearchKeywords,
    LandingPages,
    EntryPages,
    Referrers,
    ReferringSites,
    Resolutions,
    ColorDepths,
    Goals,
    Browsers,
    OperatingSystems,
    Devices,
    /// Every session under one key: the denominators of shares and rates.
    Totals,
    /// The summary's counts of lines, hits, bytes, bots and beacons.
    Summary,
    Pages,
    Errors,
    /// The hits of each error per (canonical) referrer, for its top referrer.
    ErrorReferrers,
    /// The hits of each error per channel of the referrer, for its top channel.
    ErrorChannels,
    StatusCodes,
    Robots,
    TrafficByHour,
    /// Only the visitors of each day: its counts are the sums of its hours.
    TrafficByDay,
    InternalSearch,
}

use Fold::{Max, Min, Sum};
use KeyKind::{Bool, Int, OptInt, OptText, Text as Str};

/// The count columns of a report counted from sessions: [`SessionMetrics`] but visitors.
const SESSION_COUNTS: [(&str, Fold); 7] = [
    ("sessions", Sum),
    ("page_views", Sum),
    ("bounces", Sum),
    ("engaged_sessions", Sum),
    ("duration_ms", Sum),
    ("conversions", Sum),
    ("value_micro", Sum),
];

/// The same, and the human hits of the row's user agents.
const AGENT_COUNTS: [(&str, Fold); 8] = [
    ("sessions", Sum),
    ("page_views", Sum),
    ("bounces", Sum),
    ("engaged_sessions", Sum),
    ("duration_ms", Sum),
    ("conversions", Sum),
    ("value_micro", Sum),
    ("hits", Sum),
];

/// The same, and the sessions with an internal search.
const TOTAL_COUNTS: [(&str, Fold); 8] = [
    ("sessions", Sum),
    ("page_views", Sum),
    ("bounces", Sum),
    ("engaged_sessions", Sum),
    ("duration_ms", Sum),
    ("conversions", Sum),
    ("value_micro", Sum),
    ("search_sessions", Sum),
];

const TIME_KEYS: [(&str, KeyKind); 2] = [("start_local_ms", Int), ("utc_offset_min", Int)];

impl Report {
    pub const ALL: [Report; 26] = [
        Report::Channels,
        Report::Sources,
        Report::Campaigns,
        Report::SearchEngines,
        Report::SearchKeywords,
        Report::LandingPages,
        Report::EntryPages,
        Report::Referrers,
        Report::ReferringSites,
        Report::Resolutions,
        Report::ColorDepths,
        Report::Goals,
        Report::Browsers,
        Report::OperatingSystems,
        Report::Devices,
        Report::Totals,
        Report::Summary,
        Report::Pages,
        Report::Errors,
        Report::ErrorReferrers,
        Report::ErrorChannels,
        Report::StatusCodes,
        Report::Robots,
        Report::TrafficByHour,
        Report::TrafficByDay,
        Report::InternalSearch,
    ];

    /// The file name in a partition: the report table's name.
    pub fn name(self) -> &'static str {
        match self {
            Report::Channels => "channels",
            Report::Sources => "sources",
            Report::Campaigns => "campaigns",
            Report::SearchEngines => "search_engines",
            Report::SearchKeywords => "search_keywords",
            Report::LandingPages => "landing_pages_by_channel",
            Report::EntryPages => "entry_pages",
            Report::Referrers => "referrers",
            Report::ReferringSites => "referring_sites",
            Report::Resolutions => "resolutions",
            Report::ColorDepths => "color_depths",
            Report::Goals => "goals",
            Report::Browsers => "browsers",
            Report::OperatingSystems => "operating_systems",
            Report::Devices => "devices",
            Report::Totals => "totals",
            Report::Summary => "summary",
            Report::Pages => "pages",
            Report::Errors => "errors",
            Report::ErrorReferrers => "error_referrers",
            Report::ErrorChannels => "error_channels",
            Report::StatusCodes => "status_codes",
            Report::Robots => "robots",
            Report::TrafficByHour => "traffic_by_hour",
            Report::TrafficByDay => "traffic_by_day",
            Report::InternalSearch => "internal_search",
        }
    }

    /// Where its rows are counted.
    pub fn source(self) -> Source {
        match self {
            Report::Summary
            | Report::Pages
            | Report::Errors
            | Report::ErrorReferrers
            | Report::ErrorChannels
            | Report::StatusCodes
            | Report::Robots
            | Report::TrafficByHour
            | Report::TrafficByDay
            | Report::InternalSearch => Source::Hits,
            _ => Source::Sessions,
        }
    }

    /// Key columns, in the report table's order.
    pub fn keys(self) -> &'static [(&'static str, KeyKind)] {
        match self {
            Report::Channels => &[("channel", Str)],
            Report::Sources => &[("source", Str), ("medium", Str)],
            Report::Campaigns => &[
                ("source", Str),
                ("medium", Str),
                ("campaign", Str),
                ("term", OptText),
                ("content", OptText),
                ("channel", Str),
            ],
            Report::SearchEngines => &[("engine", Str)],
            Report::SearchKeywords => &[("engine", Str), ("keyword", Str)],
            Report::LandingPages => &[("path", Str), ("channel", Str)],
            Report::EntryPages | Report::Pages => &[("path", Str)],
            Report::Referrers => &[("referrer", Str), ("host", OptText), ("channel", Str)],
            Report::ReferringSites => &[("host", Str), ("channel", Str)],
            Report::Resolutions => &[("resolution", OptText), ("device", Str)],
            Report::ColorDepths => &[("color_depth", OptInt), ("device", Str)],
            Report::Goals => &[("goal", Str), ("pattern", Str)],
            Report::Browsers => &[("browser", Str), ("version", Str)],
            Report::OperatingSystems => &[("os", Str), ("version", Str)],
            Report::Devices => &[("device", Str)],
            Report::Totals | Report::Summary => &[],
            Report::Errors => &[("path", Str), ("status", Int)],
            Report::ErrorReferrers => &[
                ("path", Str),
                ("status", Int),
                ("referrer", Str),
                ("internal", Bool),
            ],
            Report::ErrorChannels => &[("path", Str), ("status", Int), ("channel", Str)],
            Report::StatusCodes => &[("status", Int)],
            Report::Robots => &[("bot", Str), ("kind", Str)],
            Report::TrafficByHour | Report::TrafficByDay => &TIME_KEYS,
            Report::InternalSearch => &[("term", Str)],
        }
    }

    /// Count columns, after the keys, and how each adds up.
    pub fn counts(self) -> &'static [(&'static str, Fold)] {
        match self {
            Report::Browsers | Report::OperatingSystems | Report::Devices => &AGENT_COUNTS,
            Report::Totals => &TOTAL_COUNTS,
            Report::Summary => &[
                ("lines", Sum),
                ("blank_lines", Sum),
                ("malformed", Sum),
                ("inputs", Sum),
                ("input_bytes", Sum),
                ("hits", Sum),
                ("bytes", Sum),
                ("human_hits", Sum),
                ("bot_hits", Sum),
                ("bot_bytes", Sum),
                ("beacon_hits", Sum),
                ("beacon_invalid", Sum),
                ("internal_searches", Sum),
                ("first_ms", Min),
                ("last_ms", Max),
            ],
            Report::Pages => &[
                ("hits", Sum),
                ("page_views", Sum),
                ("entries", Sum),
                ("exits", Sum),
                ("bounces", Sum),
                ("timed_views", Sum),
                ("time_on_page_ms", Sum),
                ("response_hits", Sum),
                ("response_us", Sum),
                ("max_response_us", Max),
            ],
            Report::Errors => &[("hits", Sum), ("referred_hits", Sum)],
            Report::ErrorReferrers | Report::ErrorChannels => &[("hits", Sum)],
            Report::StatusCodes => &[
                ("hits", Sum),
                ("bytes", Sum),
                ("human_hits", Sum),
                ("bot_hits", Sum),
            ],
            Report::Robots => &[
                ("hits", Sum),
                ("bytes", Sum),
                ("first_ms", Min),
                ("last_ms", Max),
            ],
            Report::TrafficByHour => &[
                ("hits", Sum),
                ("bot_hits", Sum),
                ("bytes", Sum),
                ("page_views", Sum),
                ("sessions", Sum),
            ],
            Report::TrafficByDay => &[],
            Report::InternalSearch => &[
                ("searches", Sum),
                ("sessions", Sum),
                ("exits", Sum),
                ("no_result_views", Sum),
                ("refinements", Sum),
                ("conversions", Sum),
            ],
            _ => &SESSION_COUNTS,
        }
    }

    /// Whether its rows carry a `visitors_hll` sketch.
    pub fn has_visitors(self) -> bool {
        !matches!(
            self,
            Report::Summary | Report::ErrorReferrers | Report::ErrorChannels
        )
    }

    /// Whether it has counts of sessions, and so a file in `open/` for the sessions open at
    /// the end of the run: every report but those counted from hits alone. (The counts of
    /// hits of `summary`, `pages`, `traffic_by_hour` and the user-agent tables are 0 there.)
    pub fn open(self) -> bool {
        !matches!(
            self,
            Report::Errors
                | Report::ErrorReferrers
                | Report::ErrorChannels
                | Report::StatusCodes
                | Report::Robots
        )
    }

    /// The session's key in this report, as ids (`None`: the session is not counted here).
    fn key_ids(self, s: &Session, lookups: &Lookups, agents: &AgentGroups) -> Option<[u32; 2]> {
        let acq = lookups.acquisition(s.acquisition);
        let referrer = lookups.referrer(s.referrer);
        let agent = || lookups.visitor(s.visitor).agent;
        let device = || u32::from(lookups.agent_devices[agent() as usize]);
        let external = || referrer.is_external().then_some(referrer.canonical);
        match self {
            Report::Channels => Some([channel_id(acq.channel), 0]),
            Report::Sources => Some([acq.source, acq.medium]),
            Report::Campaigns => acq.campaign.map(|_| [s.acquisition, 0]),
            Report::SearchEngines => referrer.engine.map(|e| [e, 0]),
            Report::SearchKeywords => referrer.engine.zip(referrer.keyword).map(|(e, k)| [e, k]),
            Report::LandingPages => Some([s.entry, channel_id(acq.channel)]),
            Report::EntryPages => Some([s.entry, 0]),
            Report::Referrers => external().map(|r| [r, 0]),
            Report::ReferringSites => external().and_then(|r| {
                let canonical = lookups.referrer(r);
                let channel = lookups.acquisition(canonical.acquisition).channel;
                canonical.host.map(|h| [h, channel_id(channel)])
            }),
            Report::Resolutions => Some([s.resolution.map_or(0, |r| r + 1), device()]),
            Report::ColorDepths => Some([s.color_depth.map_or(0, |c| u32::from(c) + 1), device()]),
            Report::Goals => s.goal.map(|g| [u32::from(g), 0]),
            Report::Browsers | Report::OperatingSystems | Report::Devices => {
                agents.of(self, agent()).map(|a| [a, 0])
            }
            Report::Totals => Some([0, 0]),
            _ => None,
        }
    }

    /// The key columns' values of ids from [`Report::key_ids`] (an `OptInt` as its decimal
    /// text).
    fn key_texts(self, ids: [u32; 2], lookups: &Lookups) -> Vec<Option<Text>> {
        let label = |id: u32| Some(lookups.labels[id as usize].clone());
        let channel = |id: u32| Some(Text::from(Channel::ALL[id as usize].name()));
        let device = |id: u32| Some(lookups.devices[id as usize].clone());
        let [a, b] = ids;
        let agent = || &lookups.agents[a as usize];
        match self {
            Report::Channels => vec![channel(a)],
            Report::Sources | Report::SearchKeywords => vec![label(a), label(b)],
            Report::Campaigns => {
                let acq = lookups.acquisition(a);
                vec![
                    label(acq.source),
                    label(acq.medium),
                    Some(
                        acq.campaign
                            .map(|c| lookups.labels[c as usize].clone())
                            .unwrap_or_else(|| Text::from(crate::enrich::lookups::NOT_SET)),
                    ),
                    acq.term.and_then(label),
                    acq.content.and_then(label),
                    Some(Text::from(acq.channel.name())),
                ]
            }
            Report::SearchEngines => vec![label(a)],
            Report::LandingPages => vec![Some(lookups.paths[a as usize].clone()), channel(b)],
            Report::EntryPages => vec![Some(lookups.paths[a as usize].clone())],
            Report::Referrers => {
                let r = lookups.referrer(a);
                vec![
                    Some(r.text.clone()),
                    r.host.map(|h| lookups.hosts[h as usize].clone()),
                    Some(Text::from(
                        lookups.acquisition(r.acquisition).channel.name(),
                    )),
                ]
            }
            Report::ReferringSites => vec![Some(lookups.hosts[a as usize].clone()), channel(b)],
            Report::Resolutions => vec![
                a.checked_sub(1)
                    .map(|r| lookups.resolutions[r as usize].clone()),
                device(b),
            ],
            Report::ColorDepths => vec![
                a.checked_sub(1).map(|c| Text::from(c.to_string())),
                device(b),
            ],
            Report::Goals => {
                let goal = &lookups.goals.goals[a as usize];
                vec![
                    Some(Text::from(goal.name.as_str())),
                    Some(Text::from(goal.pattern.as_str())),
                ]
            }
            Report::Browsers => vec![
                Some(agent().browser.clone()),
                Some(agent().browser_major.clone()),
            ],
            Report::OperatingSystems => {
                vec![Some(agent().os.clone()), Some(agent().os_version.clone())]
            }
            Report::Devices => vec![Some(agent().device.clone())],
            _ => Vec::new(),
        }
    }
}

/// For the user-agent reports, each agent's representative: the first agent with the same
/// row key (browser and version; OS and version; device), so that a row is one key.
struct AgentGroups {
    browsers: Vec<u32>,
    systems: Vec<u32>,
    devices: Vec<u32>,
}

impl AgentGroups {
    fn new(lookups: &Lookups) -> AgentGroups {
        fn first_of<K: std::hash::Hash + Eq>(
            lookups: &Lookups,
            key: impl Fn(&crate::enrich::AgentInfo) -> K,
        ) -> Vec<u32> {
            let mut first: IdMap<K, u32> = IdMap::default();
            (0..lookups.agents.len() as u32)
                .map(|id| *first.entry(key(&lookups.agents[id as usize])).or_insert(id))
                .collect()
        }
        AgentGroups {
            browsers: first_of(lookups, |a| (a.browser.clone(), a.browser_major.clone())),
            systems: first_of(lookups, |a| (a.os.clone(), a.os_version.clone())),
            devices: first_of(lookups, |a| a.device.clone()),
        }
    }

    fn of(&self, report: Report, agent: u32) -> Option<u32> {
        let reps = match report {
            Report::Browsers => &self.browsers,
            Report::OperatingSystems => &self.systems,
            Report::Devices => &self.devices,
            _ => return None,
        };
        reps.get(agent as usize).copied()
    }
}

/// A channel's place in [`Channel::ALL`].
fn channel_id(channel: Channel) -> u32 {
    Channel::ALL.iter().position(|&c| c == channel).unwrap_or(0) as u32
}

/// The channel named `name` (as [`Channel::name`] writes it).
pub fn channel_named(name: &str) -> Option<&'static str> {
    Channel::ALL.iter().map(|c| c.name()).find(|&n| n == name)
}

/// The counts and the visitor sketch of the sessions under one key on one date.
pub struct Cell {
    pub metrics: SessionMetrics,
    pub visitors: HllSketch,
    /// Human hits on that date, in the user-agent reports.
    pub hits: u64,
}

impl Cell {
    fn new() -> Cell {
        Cell {
            metrics: SessionMetrics::default(),
            visitors: HllSketch::new(LG_K, HLL_TYPE).expect("lg_k 12 is valid"),
            hits: 0,
        }
    }
}

/// The sketch coupon of a visitor: its hash's signed decimal text, hashed as raw UTF-8 bytes,
/// which is what DataSketches in Java (and so Spark) does with a string.
pub fn visitor_coupon(visitor_hash: u64) -> Coupon {
    let text = (visitor_hash as i64).to_string();
    Coupon::from_value(raw_bytes::from_str(&text))
}

/// A sketch of the visitors of some coupons, serialized.
fn sketch_of(coupons: &[Coupon]) -> Vec<u8> {
    let mut sketch = HllSketch::new(LG_K, HLL_TYPE).expect("lg_k 12 is valid");
    for &c in coupons {
        sketch.update_with_coupon(c);
    }
    sketch.serialize()
}

// Where counts go: a date (days since 1970-01-01, log's clock), and whether they are of
// open sessions (counted in the partition's `open/`).
use crate::aggregate::dated::Part;

/// One report's cells, per part.
type ByPart = BTreeMap<Part, IdMap<[u32; 2], Cell>>;

/// Every mergeable report's cells, per part: those counted from sessions on the date the
/// sessions started, those counted from hits as [`Dated`] dates them; the open sessions'
/// apart.
pub struct RunState {
    reports: Vec<(Report, ByPart)>,
    /// Session durations (ms) per part, for the `totals` file.
    durations: BTreeMap<Part, Histogram<u64>>,
    /// The sessions per part, in the `sessions` table's order, with where their page views
    /// are in `pages`, for the `visits` file.
    visits: BTreeMap<Part, Vec<(Session, Range<usize>)>>,
    /// The sessions' page views (path ids).
    pages: Vec<u32>,
    dated: Dated,
    /// What the run read: recorded once, on its first date.
    read: ReadTotals,
}

impl RunState {
    /// Counts `sessions` (any order) under every report's key, on their start date, those
    /// whose last page view is at or after `open_from_ms` apart, as open; beside the counts
    /// `dated` kept while the hits were aggregated.
    pub fn collect(
        sessions: &[Session],
        mut dated: Dated,
        read: &ReadTotals,
        lookups: &Lookups,
        open_from_ms: Option<i64>,
    ) -> RunState {
        let agents = AgentGroups::new(lookups);
        let coupons: Vec<(Part, Coupon)> = sessions
            .par_iter()
            .map(|s| {
                let open = open_from_ms.is_some_and(|from| s.end_ms >= from);
                (
                    (loyalty::start_day(s), open),
                    visitor_coupon(lookups.visitor(s.visitor).hash),
                )
            })
            .collect();
        let parts: Vec<Part> = {
            let mut d: Vec<Part> = coupons.iter().map(|&(d, _)| d).collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        let reports = Report::ALL
            .par_iter()
            .filter(|r| r.source() == Source::Sessions)
            .map(|&report| {
                let mut by_day = ByPart::new();
                for (s, &(part, coupon)) in sessions.iter().zip(&coupons) {
                    if let Some(key) = report.key_ids(s, lookups, &agents) {
                        let cell = by_day
                            .entry(part)
                            .or_default()
                            .entry(key)
                            .or_insert_with(Cell::new);
                        cell.metrics.add(s);
                        cell.visitors.update_with_coupon(coupon);
                    }
                }
                // Every configured goal has a row, as in `analyze`, converted or not.
                if report == Report::Goals {
                    for &part in &parts {
                        let cells = by_day.entry(part).or_default();
                        for g in 0..lookups.goals.goals.len() as u32 {
                            cells.entry([g, 0]).or_insert_with(Cell::new);
                        }
                    }
                }
                // The agents' hits, on the date of each hit.
                for (&day, counts) in &dated.days {
                    for (&agent, &hits) in &counts.agent_hits {
                        if let Some(a) = agents.of(report, agent) {
                            let cells = by_day.entry(day).or_default();
                            cells.entry([a, 0]).or_insert_with(Cell::new).hits += hits;
                        }
                    }
                }
                (report, by_day)
            })
            .collect();
        let mut durations = BTreeMap::new();
        for (s, &(part, _)) in sessions.iter().zip(&coupons) {
            let h: &mut Histogram<u64> = durations.entry(part).or_insert_with(new_histogram);
            let ms = s.duration_ms().max(0) as u64;
            if h.record(ms).is_err() {
                h.saturating_record(ms);
            }
        }
        let sequences = std::mem::take(&mut dated.sequences);
        let mut pages_of = sequences.index();
        let mut visits: BTreeMap<Part, Vec<(Session, Range<usize>)>> = BTreeMap::new();
        for (s, &(part, _)) in sessions.iter().zip(&coupons) {
            // Every session's page views were kept; were one's not, `merge` would refuse
            // its partition (its pages would not match its page views), naming it.
            let pages = pages_of.remove(&session_key(s)).unwrap_or_default();
            visits.entry(part).or_default().push((*s, pages));
        }
        for sessions in visits.values_mut() {
            sessions.sort_unstable_by_key(|(s, _)| session_order(s, lookups));
        }
        RunState {
            reports,
            durations,
            visits,
            pages: sequences.paths,
            dated,
            read: *read,
        }
    }

    /// The dates with hits or sessions.
    pub fn days(&self) -> Vec<i32> {
        let mut days: Vec<i32> = self
            .reports
            .iter()
            .flat_map(|(_, by_day)| by_day.keys().map(|&(day, _)| day))
            .chain(self.dated.days.keys().map(|&(day, _)| day))
            .collect();
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The open sessions that started on `day`.
    pub fn open_sessions(&self, day: i32) -> u64 {
        self.reports
            .iter()
            .find(|(r, _)| *r == Report::Totals)
            .and_then(|(_, by)| by.get(&(day, true)))
            .and_then(|cells| cells.values().next())
            .map_or(0, |cell| cell.metrics.sessions)
    }

    /// Whether `day` has counts of open sessions: some started on it, or have page views on it.
    pub fn has_open(&self, day: i32) -> bool {
        self.reports
            .iter()
            .any(|(_, by)| by.get(&(day, true)).is_some_and(|c| !c.is_empty()))
            || self.dated.days.contains_key(&(day, true))
    }

    /// One report's rows of one part: largest first (by the first count), ties by key.
    /// `first_day`: the part is the run's first date (closed), which holds what it read.
    fn rows(
        &self,
        report: Report,
        part: Part,
        first_day: bool,
        lookups: &Lookups,
    ) -> Vec<StateRow> {
        let mut rows = match report.source() {
            Source::Sessions => {
                let cells = self
                    .reports
                    .iter()
                    .find(|(r, _)| *r == report)
                    .and_then(|(_, by_day)| by_day.get(&part));
                session_rows(report, cells, lookups)
            }
            Source::Hits => {
                let read = first_day.then_some(&self.read);
                match self.dated.days.get(&part) {
                    Some(counts) => hit_rows(report, counts, read, lookups),
                    // The first date of a run whose only counts there are of open sessions
                    // still holds what the run read.
                    None if read.is_some() => hit_rows(report, &Day::default(), read, lookups),
                    None => Vec::new(),
                }
            }
        };
        if report == Report::Totals {
            let row = match rows.first_mut() {
                Some(row) => row,
                None => {
                    // A date with hits but no session start (or open counts but no open
                    // session start): totals of nothing.
                    rows.push(StateRow {
                        key: Vec::new(),
                        counts: vec![0; 7],
                        sketch: Some(Cell::new().visitors.serialize()),
                        durations: None,
                    });
                    &mut rows[0]
                }
            };
            let searched = self.dated.days.get(&part).map_or(0, |d| d.search_sessions);
            row.counts.push(count(searched));
            let h = self.durations.get(&part).map(encode_histogram);
            row.durations = Some(h.unwrap_or_default());
        }
        let first = |r: &StateRow| r.counts.first().map_or(0, |&n| n.max(0) as u64);
        sort_rows(&mut rows, first, |a, b| a.key.cmp(&b.key));
        rows
    }
}

/// A count as the state stores it (signed, as every Parquet count here).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The rows of a report counted from sessions.
fn session_rows(
    report: Report,
    cells: Option<&IdMap<[u32; 2], Cell>>,
    lookups: &Lookups,
) -> Vec<StateRow> {
    cells
        .into_iter()
        .flatten()
        .map(|(&ids, cell)| {
            let m = &cell.metrics;
            let mut counts = vec![
                count(m.sessions),
                count(m.page_views),
                count(m.bounces),
                count(m.engaged),
                count(m.duration_ms),
                count(m.conversions),
                m.value_micro,
            ];
            if report.counts() == AGENT_COUNTS {
                counts.push(count(cell.hits));
            }
            StateRow {
                key: report.key_texts(ids, lookups),
                counts,
                sketch: Some(cell.visitors.serialize()),
                durations: None,
            }
        })
        .collect()
}

/// The rows of a report counted from hits, on the date `counts` holds; `read` on the run's
/// first date.
fn hit_rows(
    report: Report,
    counts: &Day,
    read: Option<&ReadTotals>,
    lookups: &Lookups,
) -> Vec<StateRow> {
    let text = |t: &Text| Some(t.clone());
    let int = |n: i64| Some(Text::from(n.to_string()));
    let path = |id: u32| text(&lookups.paths[id as usize]);
    let row = |key: Vec<Option<Text>>, counts: Vec<i64>, visitors: Option<&[Coupon]>| StateRow {
        key,
        counts,
        sketch: visitors.map(sketch_of),
        durations: None,
    };
    let c = count;
    match report {
        Report::Summary => {
            let t = &counts.traffic;
            let r = read.copied().unwrap_or_default();
            vec![row(
                Vec::new(),
                vec![
                    c(r.lines),
                    c(r.blank_lines),
                    c(r.malformed),
                    c(r.inputs),
                    c(r.input_bytes),
                    c(t.hits),
                    c(t.bytes),
                    c(t.human_hits),
                    c(t.bot_hits),
                    c(t.bot_bytes),
                    c(t.beacon_hits),
                    c(t.beacon_invalid),
                    c(counts.searches),
                    t.first_ms.unwrap_or(i64::MAX),
                    t.last_ms.unwrap_or(i64::MIN),
                ],
                None,
            )]
        }
        Report::Pages => counts
            .pages
            .iter()
            .map(|(&p, v)| {
                let n = &v.counts;
                row(
                    vec![path(p)],
                    vec![
                        c(n.hits),
                        c(n.page_views),
                        c(n.entries),
                        c(n.exits),
                        c(n.bounces),
                        c(n.timed_views),
                        c(n.time_on_page_ms),
                        c(n.response_hits),
                        c(n.response_us),
                        c(n.max_response_us),
                    ],
                    Some(&v.visitors),
                )
            })
            .collect(),
        Report::Errors => counts
            .errors
            .iter()
            .map(|(&(p, status), v)| {
                row(
                    vec![path(p), int(i64::from(status))],
                    vec![c(v.counts.hits), c(v.counts.referred_hits)],
                    Some(&v.visitors),
                )
            })
            .collect(),
        Report::ErrorReferrers => counts
            .errors
            .iter()
            .flat_map(|(&(p, status), v)| {
                v.counts.referrers.iter().map(move |(&r, &hits)| {
                    let r = lookups.referrer(r);
                    row(
                        vec![
                            path(p),
                            int(i64::from(status)),
                            text(&r.text),
                            Some(Text::from(if r.internal { "true" } else { "false" })),
                        ],
                        vec![c(hits)],
                        None,
                    )
                })
            })
            .collect(),
        Report::ErrorChannels => counts
            .errors
            .iter()
            .flat_map(|(&(p, status), v)| {
                v.counts.channels.iter().map(move |(channel, &hits)| {
                    row(
                        vec![
                            path(p),
                            int(i64::from(status)),
                            Some(Text::from(channel.name())),
                        ],
                        vec![c(hits)],
                        None,
                    )
                })
            })
            .collect(),
        Report::StatusCodes => counts
            .statuses
            .iter()
            .map(|(&status, v)| {
                let n = &v.counts;
                row(
                    vec![int(i64::from(status))],
                    vec![c(n.hits), c(n.bytes), c(n.human_hits), c(n.bot_hits)],
                    Some(&v.visitors),
                )
            })
            .collect(),
        Report::Robots => counts
            .bots
            .iter()
            .map(|(&id, v)| {
                let bot = &lookups.bots[id as usize];
                let n = &v.counts;
                row(
                    vec![
                        Some(Text::from(bot.name.as_str())),
                        Some(Text::from(bot.kind)),
                    ],
                    vec![c(n.hits), c(n.bytes), n.first_ms, n.last_ms],
                    Some(&v.visitors),
                )
            })
            .collect(),
        Report::TrafficByHour => counts
            .hours
            .iter()
            .map(|(&(hour, offset), v)| {
                let n = &v.counts;
                row(
                    vec![int(hour * HOUR_MS), int(i64::from(offset))],
                    vec![
                        c(n.hits),
                        c(n.bot_hits),
                        c(n.bytes),
                        c(n.page_views),
                        c(n.sessions),
                    ],
                    Some(&v.visitors),
                )
            })
            .collect(),
        Report::TrafficByDay => counts
            .day_visitors
            .iter()
            .map(|(&(day, offset), coupons)| {
                row(
                    vec![int(day * DAY_MS), int(i64::from(offset))],
                    Vec::new(),
                    Some(coupons),
                )
            })
            .collect(),
        Report::InternalSearch => counts
            .terms
            .iter()
            .map(|(&t, v)| {
                let n = &v.counts;
                row(
                    vec![text(&lookups.search_terms[t as usize])],
                    vec![
                        c(n.searches),
                        c(n.sessions),
                        c(n.exits),
                        c(n.no_result_views),
                        c(n.refinements),
                        c(n.conversions),
                    ],
                    Some(&v.visitors),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One input of a run, as a manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub file: String,
    pub fingerprint: String,
}

/// A date partition's `_manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The layout version ([`LAYOUT`]).
    pub accesslens_state: u32,
    /// The accesslens version that wrote it.
    pub version: String,
    /// `YYYY-MM-DD`, the log's own clock.
    pub date: String,
    /// The run's id: [`run_id`] of its inputs.
    pub run: String,
    /// When it was written (ms since 1970, UTC): among partitions of the same inputs, the
    /// newest counts.
    pub written_at_ms: i64,
    /// The run's inputs that had hits, with their content fingerprints.
    pub inputs: Vec<InputRecord>,
    /// The definitions in force (the `accesslens.definitions` of the run's tables).
    pub definitions: serde_json::Value,
    /// The configured goals: (name, pattern).
    pub goals: Vec<(String, String)>,
    /// The report files in the partition.
    pub tables: Vec<String>,
    /// What the `visitors_hll` columns hold.
    pub visitors_hll: String,
    /// The first and last time (UTC ms) of the run's hits, on every date; `None` in layout 1.
    #[serde(default)]
    pub first_hit_ms: Option<i64>,
    #[serde(default)]
    pub last_hit_ms: Option<i64>,
    /// Sessions whose last page view came at or after this time (UTC ms: the last hit minus
    /// the session timeout) were open when the run ended.
    #[serde(default)]
    pub open_from_ms: Option<i64>,
    /// XXH3-64 of all the run's open hits (on every date), 16 hex digits; `None` when the
    /// run left no open session. A run that continues them records it.
    #[serde(default)]
    pub open_digest: Option<String>,
    /// This partition's `open/`, when it has one.
    #[serde(default)]
    pub open: Option<OpenPart>,
    /// The runs whose open sessions this run continued (`--continue-from`).
    #[serde(default)]
    pub continues: Vec<Continued>,
}

/// A partition's `open/`: the counts of the sessions open at the end of the run that started
/// on its date, and the hits a later run needs to continue them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPart {
    /// Open sessions counted in `open/`'s tables.
    pub sessions: u64,
    /// Rows of `open/open_hits.parquet`.
    pub hits: u64,
}

/// A run whose open sessions a run continued, as it was when they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continued {
    pub run: String,
    pub inputs: Vec<InputRecord>,
    /// Its `open_digest`.
    pub open_digest: String,
}

/// What a run's partitions record besides their counts.
pub struct RunInfo<'a> {
    pub inputs: &'a [InputRecord],
    /// The run's definitions as JSON.
    pub definitions: &'a str,
    /// The first and last time of its hits.
    pub span: Option<(i64, i64)>,
    pub open_from_ms: Option<i64>,
    /// The hits of its open sessions, per date (see [`carry::open_rows`]).
    pub open_hits: &'a BTreeMap<i32, Vec<carry::OpenHitRow>>,
    pub open_digest: Option<String>,
    pub continues: &'a [Continued],
}

/// The id of a set of inputs: XXH3-64 of their sorted fingerprints, one a line, as 16 hex
/// digits. The same files give the same id, whatever their names or order.
pub fn run_id(inputs: &[InputRecord]) -> String {
    let mut fingerprints: Vec<&str> = inputs.iter().map(|i| i.fingerprint.as_str()).collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(fingerprints.join("\n").as_bytes())
    )
}

/// The partitions at or under `path`: `path` itself when it holds a manifest, else its
/// subdirectories that do, else theirs (a state directory holds `date=…/run=…/`).
pub fn partitions_under(path: &Path) -> Result<Vec<PathBuf>> {
    let subdirs = |dir: &Path| -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Input {
            path: dir.display().to_string(),
            source,
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        Ok(dirs)
    };
    let has_manifest = |dir: &Path| dir.join(MANIFEST).is_file();
    if has_manifest(path) {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    for child in subdirs(path)? {
        if has_manifest(&child) {
            found.push(child);
        } else {
            found.extend(subdirs(&child)?.into_iter().filter(|d| has_manifest(d)));
        }
    }
    Ok(found)
}

/// Reads a partition's manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Input {
        path: path.display().to_string(),
        source,
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::State {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    if !(MIN_LAYOUT..=LAYOUT).contains(&manifest.accesslens_state) {
        return Err(Error::State {
            path: path.display().to_string(),
            reason: format!(
                "state layout {} (this accesslens reads {MIN_LAYOUT} to {LAYOUT})",
                manifest.accesslens_state
            ),
        });
    }
    Ok(manifest)
}

/// Moves a run's staged partitions into the state directory. First every partition already
/// there that shares an input (by fingerprint) with the run is moved aside: the run replaces
/// earlier state of the same files, on every date, also dates it no longer writes. Then the
/// new partitions are renamed in. Each partition appears whole or not at all; a run of other
/// inputs is left as it is. Every manifest is read before anything moves, and a move that
/// fails undoes those before it, so a commit that fails leaves the state as it was.
///
/// Runs committing into one state directory at once (one per server, started together)
/// take turns: each holds an exclusive lock on `DIR/.accesslens.lock` from the first
/// manifest read to the last rename, so none reads a partition another is moving.
///
/// Returns the inputs of replaced partitions that the run did not read (a rerun over fewer
/// files): their counts are gone from the state until a run reads them again; and the inputs
/// of runs that continued the open sessions of the state replaced, which this run changed
/// (`open_digest` is this run's): their state holds those sessions as they were.
pub fn commit(
    out: crate::output::OutputDir,
    inputs: &[InputRecord],
    open_digest: Option<&str>,
) -> Result<Committed> {
    let ours: std::collections::HashSet<&str> =
        inputs.iter().map(|i| i.fingerprint.as_str()).collect();
    let run = run_id(inputs);
    let mut dropped = Vec::new();
    let mut stale = Vec::new();
    out.commit_with(|staging, dir| {
        let io = |path: &Path, source| Error::Output {
            path: path.display().to_string(),
            source,
        };
        let lock_path = dir.join(LOCK);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        lock.lock().map_err(|e| io(&lock_path, e))?;
        let aside = staging.join(".replaced");
        std::fs::create_dir_all(&aside).map_err(|e| io(&aside, e))?;
        // Every manifest is read before anything moves: one that cannot be read fails the
        // commit with the state as it was.
        let mut replaced = Vec::new();
        for old in partitions_under(dir)? {
            let manifest = read_manifest(&old)?;
            if manifest
                .inputs
                .iter()
                .any(|i| ours.contains(i.fingerprint.as_str()))
            {
                dropped.extend(
                    manifest
                        .inputs
                        .iter()
                        .filter(|i| !ours.contains(i.fingerprint.as_str()))
                        .map(|i| i.file.clone()),
                );
                replaced.push(old);
            } else {
                // A later run that continued the open sessions of the state replaced now.
                let changed = manifest.continues.iter().any(|c| {
                    c.inputs
                        .iter()
                        .any(|i| ours.contains(i.fingerprint.as_str()))
                        && (c.run != run || Some(c.open_digest.as_str()) != open_digest)
                });
                if changed {
                    stale.extend(manifest.inputs.iter().map(|i| i.file.clone()));
                }
            }
        }
        let staged = partitions_under(staging)?;
        // Moves done so far, (from, to), undone in reverse if a later one fails: the
        // replaced partitions would otherwise be removed with the staging directory.
        let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut moves = || -> Result<()> {
            for (n, old) in replaced.iter().enumerate() {
                let to = aside.join(n.to_string());
                std::fs::rename(old, &to).map_err(|e| io(old, e))?;
                moved.push((old.clone(), to));
            }
            for new in &staged {
                let relative = new
                    .strip_prefix(staging)
                    .expect("under the staging directory");
                let target = dir.join(relative);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                }
                std::fs::rename(new, &target).map_err(|e| io(&target, e))?;
                moved.push((new.clone(), target));
            }
            Ok(())
        };
        if let Err(e) = moves() {
            for (from, to) in moved.iter().rev() {
                let _ = std::fs::rename(to, from);
            }
            return Err(e);
        }
        for old in &replaced {
            if let Some(date_dir) = old.parent() {
                // Empty once its last run is gone.
                let _ = std::fs::remove_dir(date_dir);
            }
        }
        Ok(())
    })?;
    dropped.sort();
    dropped.dedup();
    stale.sort();
    stale.dedup();
    Ok(Committed { dropped, stale })
}

/// What a state commit tells the user.
#[derive(Debug, Default)]
pub struct Committed {
    /// Inputs whose state was replaced without being read again.
    pub dropped: Vec<String>,
    /// Inputs of later runs that continued open sessions this run changed: to analyze again.
    pub stale: Vec<String>,
}

/// `YYYY-MM-DD` of days since 1970-01-01.
pub fn date_text(day: i32) -> String {
    let (y, m, d) = crate::parse::time::civil_from_days(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The inputs a run's partitions record: every input with hits, by fingerprint. Standard
/// input has no fingerprint, so a run reading it cannot keep state.
pub fn input_records(files: &[FileStats]) -> Result<Vec<InputRecord>> {
    let mut records = Vec::new();
    for f in files.iter().filter(|f| f.hits > 0) {
        let Some(fingerprint) = &f.fingerprint else {
            return Err(Error::InvalidOption {
                flag: "--state",
                value: f.file.clone(),
                reason: "standard input has no content fingerprint; give the log as a file".into(),
            });
        };
        records.push(InputRecord {
            file: f.file.clone(),
            fingerprint: fingerprint.clone(),
        });
    }
    records.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint).then(a.file.cmp(&b.file)));
    records.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    Ok(records)
}

/// A state row: key texts, counts (in [`Report::counts`] order) and the serialized sketch.
struct StateRow {
    key: Vec<Option<Text>>,
    counts: Vec<i64>,
    sketch: Option<Vec<u8>>,
    /// The session durations' histogram ([`encode_histogram`]), in `totals` only.
    durations: Option<Vec<u8>>,
}

/// A histogram of session durations as `analyze` keeps it for `median_session_s`: HDR,
/// 3 significant digits. Merging two adds their bucket counts, so the median of merged
/// histograms is the median one histogram of all the sessions gives.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

/// A histogram as bytes: for each bucket with a count, the bucket's highest value and its
/// count, both little-endian u64. Recording each value `count` times into
/// [`new_histogram`] gives the histogram back.
pub fn encode_histogram(h: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for v in h.iter_recorded() {
        bytes.extend_from_slice(&v.value_iterated_to().to_le_bytes());
        bytes.extend_from_slice(&v.count_at_value().to_le_bytes());
    }
    bytes
}

/// Adds the counts of an [`encode_histogram`] to `h`; `None` when the bytes are not pairs.
pub fn add_encoded_histogram(h: &mut Histogram<u64>, bytes: &[u8]) -> Option<()> {
    if !bytes.len().is_multiple_of(16) {
        return None;
    }
    for pair in bytes.chunks_exact(16) {
        let value = u64::from_le_bytes(pair[..8].try_into().ok()?);
        let count = u64::from_le_bytes(pair[8..].try_into().ok()?);
        if h.record_n(value, count).is_err() {
            h.saturating_record_n(value, count);
        }
    }
    Some(())
}

/// Writes `date=YYYY-MM-DD/` under `staging` for every date of `state`: one Parquet file per
/// report and the manifest, and `open/` where sessions were open at the end of the run.
pub fn write(staging: &Path, state: &RunState, lookups: &Lookups, run: &RunInfo<'_>) -> Result<()> {
    let written_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let definitions: serde_json::Value =
        serde_json::from_str(run.definitions).expect("the definitions are JSON");
    let metadata = vec![
        (
            "accesslens.version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        ("accesslens.definitions".to_owned(), definitions.to_string()),
        (
            "accesslens.state".to_owned(),
            serde_json::json!({
                "layout": LAYOUT,
                "partitioning": "date = the log's own date: of the hit for counts of hits, \
                    of the session's start for counts of sessions, of the hour or day in \
                    traffic_by_hour and traffic_by_day; what the run read on its first date",
                "visitors_hll": SKETCH_CONTRACT,
                "value_micro": "conversion value in millionths",
                "duration_ms": "summed session durations, milliseconds",
            })
            .to_string(),
        ),
    ];
    let id = run_id(run.inputs);
    let mut days = state.days();
    days.extend(run.open_hits.keys().copied());
    days.sort_unstable();
    days.dedup();
    let first_day = days.first().copied();
    // Dates side by side: each is a dozen small files, most of the time spent waiting for
    // the disk.
    days.into_par_iter().try_for_each(|day| {
        let dir = staging.join(format!("date={}/run={id}", date_text(day)));
        let io_error = |source| Error::Output {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io_error)?;
        let first = Some(day) == first_day;
        write_part(
            &dir,
            state,
            (day, false),
            first,
            lookups,
            &metadata,
            Vec::new(),
        )?;
        let open_hits = run.open_hits.get(&day).map_or(&[][..], Vec::as_slice);
        let open_sessions = state.open_sessions(day);
        // Also a date with no open session start but the page views or searches of one
        // that started before.
        let open = (state.has_open(day) || !open_hits.is_empty()).then_some(OpenPart {
            sessions: open_sessions,
            hits: open_hits.len() as u64,
        });
        if open.is_some() {
            let open_dir = dir.join(carry::OPEN_DIR);
            std::fs::create_dir_all(&open_dir).map_err(io_error)?;
            let hits_table = TableSpec::new(carry::OPEN_HITS, open_hits, carry::open_hits_table);
            write_part(
                &open_dir,
                state,
                (day, true),
                false,
                lookups,
                &metadata,
                vec![hits_table],
            )?;
        }
        let manifest = Manifest {
            accesslens_state: LAYOUT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            date: date_text(day),
            run: id.clone(),
            written_at_ms,
            inputs: run.inputs.to_vec(),
            definitions: definitions.clone(),
            goals: lookups
                .goals
                .goals
                .iter()
                .map(|g| (g.name.clone(), g.pattern.clone()))
                .collect(),
            tables: Report::ALL
                .iter()
                .map(|r| r.name())
                .chain([history::VISITS, history::VISITOR_HITS])
                .map(str::to_owned)
                .collect(),
            visitors_hll: SKETCH_CONTRACT.to_owned(),
            first_hit_ms: run.span.map(|(first, _)| first),
            last_hit_ms: run.span.map(|(_, last)| last),
            open_from_ms: run.open_from_ms,
            open_digest: run.open_digest.clone(),
            open,
            continues: run.continues.to_vec(),
        };
        let text = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
        std::fs::write(dir.join(MANIFEST), text).map_err(io_error)
    })
}

/// Writes one part's report files into `dir` (and the `extra` tables): every report in the
/// partition itself, those with counts of sessions ([`Report::open`]) in `open/`.
fn write_part<'a>(
    dir: &Path,
    state: &'a RunState,
    part: Part,
    first_day: bool,
    lookups: &Lookups,
    metadata: &[(String, String)],
    extra: Vec<TableSpec<'a>>,
) -> Result<()> {
    let (_, open) = part;
    let tables: Vec<(Report, Vec<StateRow>)> = Report::ALL
        .par_iter()
        .filter(|r| !open || r.open())
        .map(|&report| (report, state.rows(report, part, first_day, lookups)))
        .collect();
    let mut specs: Vec<TableSpec<'_>> = tables
        .iter()
        .map(|(report, rows)| TableSpec::new(report.name(), rows, move |r| table(*report, r)))
        .collect();
    let visits = state.visits.get(&part).map_or(&[][..], Vec::as_slice);
    specs.push(TableSpec::new(history::VISITS, visits, |s| {
        history::visits_table(s, &state.pages, lookups)
    }));
    if !open {
        let humans = state
            .dated
            .days
            .get(&part)
            .map_or(&[][..], |d| &d.humans[..]);
        specs.push(TableSpec::new(history::VISITOR_HITS, humans, |h| {
            history::visitor_hits_table(h, lookups)
        }));
    }
    specs.extend(extra);
    write_tables(dir, specs, metadata, Purpose::State)
}

/// The Arrow columns of state rows: keys, counts, sketch.
fn table(report: Report, rows: &[StateRow]) -> Table {
    let mut t = Table::default();
    for (i, &(name, kind)) in report.keys().iter().enumerate() {
        let values = rows.iter().map(|r| r.key[i].as_deref());
        t = match kind {
            KeyKind::Text => t.str(name, values.map(|v| v.unwrap_or_default())),
            KeyKind::OptText => t.opt_str(name, values),
            KeyKind::Int => t.int(
                name,
                values.map(|v| v.and_then(|v| v.parse().ok()).unwrap_or(0)),
            ),
            KeyKind::OptInt => t.opt_int(name, values.map(|v| v.and_then(|v| v.parse().ok()))),
            KeyKind::Bool => t.bool(name, values.map(|v| v == Some("true"))),
        };
    }
    for (i, &(name, _)) in report.counts().iter().enumerate() {
        t = t.int(name, rows.iter().map(|r| r.counts[i]));
    }
    if report.has_visitors() {
        let sketches = rows.iter().map(|r| r.sketch.as_deref().unwrap_or_default());
        t = t.binary("visitors_hll", sketches);
    }
    if report == Report::Totals {
        let hist = rows
            .iter()
            .map(|r| r.durations.as_deref().unwrap_or_default());
        t = t.binary("duration_ms_hist", hist);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_come_back_bucket_for_bucket_and_merge_to_the_median_of_all() {
        let (mut a, mut b, mut all) = (new_histogram(), new_histogram(), new_histogram());
        for (i, ms) in [0u64, 90_000, 1_234, 600_000, 7, 7, 3_600_000, 45_678]
            .iter()
            .enumerate()
        {
            let h = if i % 2 == 0 { &mut a } else { &mut b };
            h.record(*ms).unwrap();
            all.record(*ms).unwrap();
        }
        let mut merged = new_histogram();
        add_encoded_histogram(&mut merged, &encode_histogram(&a)).unwrap();
        add_encoded_histogram(&mut merged, &encode_histogram(&b)).unwrap();
        assert_eq!(merged.len(), all.len());
        for q in [0.0, 0.25, 0.5, 0.9, 1.0] {
            assert_eq!(merged.value_at_quantile(q), all.value_at_quantile(q));
        }
        assert!(add_encoded_histogram(&mut merged, &[1, 2, 3]).is_none());
    }

    #[test]
    fn a_run_is_named_by_its_inputs_contents_not_their_names_or_order() {
        let input = |file: &str, fingerprint: &str| InputRecord {
            file: file.into(),
            fingerprint: fingerprint.into(),
        };
        let one = run_id(&[input("a.log", "1-aa"), input("b.log", "2-bb")]);
        let other = run_id(&[input("b2.log", "2-bb"), input("a2.log", "1-aa")]);
        assert_eq!(one, other);
        assert_eq!(one.len(), 16);
        assert_ne!(one, run_id(&[input("a.log", "1-aa")]));
    }
}
