//! `accesslens merge`: date partitions written by `analyze --state` → report tables.
//!
//! Which partitions count, date by date (the idempotence rule):
//!
//! - partitions whose input fingerprint sets are identical saw the same logs: the newest
//!   (by `written_at_ms`) counts, the others are skipped;
//! - partitions with disjoint input sets add up (two servers' logs of one day);
//! - partitions that share some inputs but not all are refused: adding them would count the
//!   shared file twice, and dropping one would lose the other's files.
//!
//! A partition's `open/` (the sessions open at the end of its run) counts unless a counted
//! partition of the same date continued that run (`continues`), in which case that run
//! counts those sessions whole. Two runs that continued the same open sessions, or one that
//! continued them as they no longer are (the earlier logs analyzed again since), are refused.
//!
//! Counts are summed exactly; visitor sketches are unioned, so `visitors` becomes an
//! estimate; rates and averages are computed from the sums, as `analyze` computes them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::{Array, BinaryArray, BooleanArray, Int64Array, RecordBatch, StringArray};
use datasketches::hll::{HllSketch, HllUnion};
use hdrhistogram::Histogram;
use rayon::prelude::*;

use super::history::{History, HistoryRules};
use super::{Fold, KeyKind, LG_K, MANIFEST, Manifest, Report, channel_named, date_text};
use crate::aggregate::acquisition::{
    AcquisitionReports, CampaignKey, GoalRow, MetricsRow, SessionMetrics,
};
use crate::aggregate::attribution::AttributionRules;
use crate::aggregate::audience::{self, AudienceReports, AudienceRow};
use crate::aggregate::errors::{
    ErrorRow, StatusCounts, StatusRow, sort_errors, status_rows, top_channel, top_referrer,
};
use crate::aggregate::journeys::JourneyRules;
use crate::aggregate::pages::{self, EntryRow, ExitRow, PageCounts, PageRow};
use crate::aggregate::site_search::{self, SearchRow, TermCounts};
use crate::aggregate::sources::{ReferrerRow, SiteRow};
use crate::aggregate::time::{self, Bucket, BucketKey, DAY_MS, HOUR_MS, Time, TimeRow};
use crate::aggregate::traffic::{self, ReadTotals, SummaryRow, Traffic};
use crate::aggregate::visitors::{BotCounts, RobotRow, robot_rows};
use crate::aggregate::{IdMap, ratio, sort_rows};
use crate::enrich::Text;
use crate::enrich::agent::bot_kind;
use crate::enrich::channel::Channel;
use crate::error::{Error, Result};
use crate::output::parquet::read_table;

/// What `merge` was asked to do.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// State directories (`analyze --state DIR`), or single `date=…` partitions.
    pub states: Vec<PathBuf>,
    /// First and last date to merge (days since 1970-01-01), both included.
    pub since: Option<i32>,
    pub until: Option<i32>,
    /// Whether to compute the tables of a visitor's whole history (`--no-history`: not).
    pub history: bool,
    /// Bytes the history may take (`None`: no bound).
    pub max_memory: Option<u64>,
    /// Page views per sequence in `paths`, and pages named in `paths` and `transitions`
    /// (`None`: those the partitions were written with).
    pub path_depth: Option<usize>,
    pub path_pages: Option<usize>,
}

/// A date partition found on disk.
#[derive(Debug, Clone)]
pub struct Partition {
    pub dir: PathBuf,
    pub day: i32,
    pub manifest: Manifest,
    /// Whether its `open/` counts (set by [`open_parts`]).
    pub open_counted: bool,
}

/// Every merged report, as the rows `analyze` writes.
pub struct Merged {
    /// The partitions that counted, in date order.
    pub partitions: Vec<Partition>,
    /// Partitions skipped because a newer one of the same inputs counted.
    pub skipped: Vec<Partition>,
    pub sessions: u64,
    /// Estimated.
    pub visitors: u64,
    /// The median session duration, seconds (as `summary.median_session_s`).
    pub median_session_s: Option<f64>,
    pub summary: SummaryRow,
    pub acquisition: AcquisitionReports,
    pub pages: Vec<PageRow>,
    pub entry_pages: Vec<EntryRow>,
    pub exit_pages: Vec<ExitRow>,
    pub referrers: Vec<ReferrerRow>,
    pub referring_sites: Vec<SiteRow>,
    pub errors: Vec<ErrorRow>,
    pub status_codes: Vec<StatusRow>,
    pub robots: Vec<RobotRow>,
    pub internal_search: Vec<SearchRow>,
    pub traffic_by_hour: Vec<TimeRow>,
    pub traffic_by_day: Vec<TimeRow>,
    pub audience: AudienceReports,
    /// The reports of a visitor's whole history, when every partition keeps its visits
    /// (layout 4 on); `None` when one does not.
    pub history: Option<History>,
    /// A partition without visits, when `history` is `None`.
    pub without_history: Option<PathBuf>,
    /// A partition whose visits lack their page views, when the history has no `paths`
    /// and `transitions`.
    pub without_journeys: Option<PathBuf>,
    /// A partition written before pages kept response times, when another has them: the
    /// merged times are of the newer partitions only.
    pub without_response_times: Option<PathBuf>,
}

pub(super) fn invalid(path: &Path, reason: impl Into<String>) -> Error {
    Error::State {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// `YYYY-MM-DD` → days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let days = crate::parse::time::days_from_civil(i64::from(y), m, d);
    // A date that does not exist (2026-02-30) does not come back the same.
    (date_text(days as i32) == text).then_some(days as i32)
}

/// Every partition at or under the given paths (state directories, `date=…` directories or
/// single partitions).
pub fn discover(states: &[PathBuf]) -> Result<Vec<Partition>> {
    let mut found = Vec::new();
    for state in states {
        let dirs = super::partitions_under(state)?;
        if dirs.is_empty() {
            return Err(invalid(
                state,
                "no partitions (date=YYYY-MM-DD/run=…/ with a manifest); is it a directory \
                 written by analyze --state?",
            ));
        }
        for dir in dirs {
            let manifest = super::read_manifest(&dir)?;
            let day = parse_date(&manifest.date).ok_or_else(|| {
                invalid(&dir.join(MANIFEST), format!("bad date {:?}", manifest.date))
            })?;
            found.push(Partition {
                dir,
                day,
                manifest,
                open_counted: false,
            });
        }
    }
    // A partition named twice (`merge S S`, or S and S/date=…) is one partition.
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    found.dedup_by(|a, b| {
        a.dir == b.dir
            || matches!((a.dir.canonicalize(), b.dir.canonicalize()), (Ok(x), Ok(y)) if x == y)
    });
    Ok(found)
}

/// Applies the idempotence rule (see the module docs). Returns the partitions that count,
/// in date order, and those skipped.
pub fn choose(mut found: Vec<Partition>) -> Result<(Vec<Partition>, Vec<Partition>)> {
    // Newest first, so the first of identical input sets is the one that counts.
    found.sort_by(|a, b| {
        a.day
            .cmp(&b.day)
            .then(b.manifest.written_at_ms.cmp(&a.manifest.written_at_ms))
            .then(a.dir.cmp(&b.dir))
    });
    let mut kept: Vec<(Partition, HashSet<String>)> = Vec::new();
    let mut skipped = Vec::new();
    for p in found {
        let inputs: HashSet<String> = p
            .manifest
            .inputs
            .iter()
            .map(|i| i.fingerprint.clone())
            .collect();
        let same_day = kept.iter().filter(|(k, _)| k.day == p.day);
        let mut duplicate = false;
        for (k, k_inputs) in same_day {
            if *k_inputs == inputs {
                duplicate = true;
                break;
            }
            if let Some(shared) = p
                .manifest
                .inputs
                .iter()
                .find(|i| k_inputs.contains(&i.fingerprint))
            {
                return Err(Error::StateOverlap {
                    date: p.manifest.date.clone(),
                    first: k.dir.display().to_string(),
                    second: p.dir.display().to_string(),
                    file: shared.file.clone(),
                });
            }
        }
        if duplicate {
            skipped.push(p);
        } else {
            kept.push((p, inputs));
        }
    }
    Ok((kept.into_iter().map(|(p, _)| p).collect(), skipped))
}

/// The definitions that change what a merged row counts: partitions must agree on them.
const COMPARED: [&str; 8] = [
    "sessions",
    "session_timeout_ms",
    "visitor_key",
    "site_domains",
    "beacon_paths",
    "goal_value_param",
    "text_encoding",
    "tz",
];

/// Refuses a partition of a layout older than [`super::MERGE_MIN_LAYOUT`]: it lacks tables
/// `merge` writes, which only a new run over its logs can give.
fn check_layouts(partitions: &[Partition]) -> Result<()> {
    match partitions
        .iter()
        .find(|p| p.manifest.accesslens_state < super::MERGE_MIN_LAYOUT)
    {
        Some(p) => Err(Error::State {
            path: p.dir.display().to_string(),
            reason: format!(
                "state layout {} lacks the tables counted from hits (summary, pages, errors, \
                 status_codes, robots, traffic_by_hour, ...) that merge needs since layout {}: \
                 run `accesslens analyze --state` again over its inputs ({})",
                p.manifest.accesslens_state,
                super::MERGE_MIN_LAYOUT,
                super::carry::files(&p.manifest.inputs)
            ),
        }),
        None => Ok(()),
    }
}

/// The first definition that differs between two runs' (`goals` for the goals), if any.
pub(crate) fn definition_differs(
    a: &serde_json::Value,
    a_goals: &[(String, String)],
    b: &serde_json::Value,
    b_goals: &[(String, String)],
) -> Option<String> {
    COMPARED
        .iter()
        .find(|&&k| a.get(k) != b.get(k))
        .map(|k| (*k).to_owned())
        .or_else(|| (a_goals != b_goals).then(|| "goals".to_owned()))
}

/// A definition's value as a message shows it (JSON: strings quoted), `none` when absent;
/// `None` for the goals, a list too long to be worth repeating.
pub(crate) fn shown_definition(definitions: &serde_json::Value, key: &str) -> Option<String> {
    (key != "goals").then(|| {
        definitions
            .get(key)
            .filter(|v| !v.is_null())
            .map_or_else(|| "none".to_owned(), |v| v.to_string())
    })
}

fn check_definitions(partitions: &[Partition]) -> Result<()> {
    let Some(first) = partitions.first() else {
        return Ok(());
    };
    for p in &partitions[1..] {
        let differs = definition_differs(
            &p.manifest.definitions,
            &p.manifest.goals,
            &first.manifest.definitions,
            &first.manifest.goals,
        );
        if let Some(what) = differs {
            let values = match (
                shown_definition(&first.manifest.definitions, &what),
                shown_definition(&p.manifest.definitions, &what),
            ) {
                (Some(a), Some(b)) => format!(" ({a} and {b})"),
                _ => String::new(),
            };
            return Err(Error::StateMismatch {
                first: first.dir.display().to_string(),
                second: p.dir.display().to_string(),
                what: format!("{what}{values}"),
            });
        }
    }
    Ok(())
}

/// Decides, for each counted partition, whether its `open/` counts: it does unless a counted
/// partition of the same date (of another run) continued its run. Refuses two runs that
/// continued the same run, and a run that continued open sessions that are no longer those
/// counted (another digest, or the state of those logs replaced by a run over other inputs).
pub fn open_parts(partitions: &mut [Partition]) -> Result<()> {
    let stale = |continuer: &Partition, continued: &Partition| Error::ContinuedStale {
        continuer: super::carry::files(&continuer.manifest.inputs),
        continued: super::carry::files(&continued.manifest.inputs),
        dir: continued.dir.display().to_string(),
    };
    let mut counted = Vec::with_capacity(partitions.len());
    for p in partitions.iter() {
        let same_day = || partitions.iter().filter(|q| q.day == p.day);
        // A continued run's logs analyzed again over other inputs.
        for c in &p.manifest.continues {
            let fingerprints: HashSet<&str> =
                c.inputs.iter().map(|i| i.fingerprint.as_str()).collect();
            if let Some(other) = same_day().find(|q| {
                q.manifest.run != c.run
                    && q.manifest.run != p.manifest.run
                    && q.manifest
                        .inputs
                        .iter()
                        .any(|i| fingerprints.contains(i.fingerprint.as_str()))
            }) {
                return Err(stale(p, other));
            }
        }
        if p.manifest.open.is_none() {
            counted.push(false);
            continue;
        }
        let continuers: Vec<(&Partition, &super::Continued)> = same_day()
            .filter(|q| q.manifest.run != p.manifest.run)
            .filter_map(|q| {
                q.manifest
                    .continues
                    .iter()
                    .find(|c| c.run == p.manifest.run)
                    .map(|c| (q, c))
            })
            .collect();
        match continuers.as_slice() {
            [] => counted.push(true),
            [(q, c)] => {
                if Some(&c.open_digest) != p.manifest.open_digest.as_ref() {
                    return Err(stale(q, p));
                }
                counted.push(false);
            }
            [(a, _), (b, _), ..] => {
                return Err(Error::ContinuedTwice {
                    run: p.manifest.run.clone(),
                    continued: super::carry::files(&p.manifest.inputs),
                    first: a.dir.display().to_string(),
                    second: b.dir.display().to_string(),
                });
            }
        }
    }
    for (p, counted) in partitions.iter_mut().zip(counted) {
        p.open_counted = counted;
    }
    Ok(())
}

/// Sums (or least or greatest values) and sketch union of one key.
struct Acc {
    /// In [`Report::counts`] order.
    counts: Vec<i64>,
    visitors: Option<HllUnion>,
    /// Session durations, in `totals` only.
    durations: Option<Histogram<u64>>,
}

impl Acc {
    fn new(report: Report) -> Acc {
        Acc {
            counts: report
                .counts()
                .iter()
                .map(|&(_, fold)| match fold {
                    Fold::Sum => 0,
                    Fold::Min => i64::MAX,
                    Fold::Max => i64::MIN,
                })
                .collect(),
            visitors: report
                .has_visitors()
                .then(|| HllUnion::new(LG_K).expect("lg_k 12 is valid")),
            durations: None,
        }
    }

    fn add(&mut self, report: Report, i: usize, value: i64) {
        let c = &mut self.counts[i];
        *c = match report.counts()[i].1 {
            Fold::Sum => c.saturating_add(value),
            Fold::Min => (*c).min(value),
            Fold::Max => (*c).max(value),
        };
    }

    fn absorb(&mut self, report: Report, other: Acc) {
        for (i, &v) in other.counts.iter().enumerate() {
            self.add(report, i, v);
        }
        if let (Some(u), Some(o)) = (&mut self.visitors, &other.visitors) {
            u.update(&o.to_sketch(super::HLL_TYPE));
        }
        match (&mut self.durations, other.durations) {
            (Some(h), Some(o)) => h.add(&o).expect("histograms of one configuration add"),
            (none @ None, Some(o)) => *none = Some(o),
            (_, None) => {}
        }
    }

    /// The visitor estimate (0 for a report without visitors): the composite estimate, a
    /// function of the union's registers (or coupons) alone. A union's plain estimate may
    /// carry on one input's HIP estimator, which depends on the order the sketches were
    /// unioned in, and so on the thread count; Spark's `hll_sketch_estimate` of the same
    /// union would differ by up to a percent.
    fn estimate(&self) -> u64 {
        self.visitors
            .as_ref()
            .map_or(0, |v| v.composite_estimate().round().max(0.0) as u64)
    }

    /// Count column `name` (0 when the report has none).
    fn get(&self, report: Report, name: &str) -> i64 {
        report
            .counts()
            .iter()
            .position(|&(n, _)| n == name)
            .map_or(0, |i| self.counts[i])
    }

    fn count(&self, report: Report, name: &str) -> u64 {
        self.get(report, name).max(0) as u64
    }

    /// The session metrics of a report counted from sessions, visitors estimated.
    fn metrics(&self, report: Report) -> SessionMetrics {
        let c = |name| self.count(report, name);
        SessionMetrics {
            sessions: c("sessions"),
            visitors: self.estimate(),
            page_views: c("page_views"),
            bounces: c("bounces"),
            engaged: c("engaged_sessions"),
            duration_ms: c("duration_ms"),
            conversions: c("conversions"),
            value_micro: self.get(report, "value_micro"),
        }
    }
}

type Key = Vec<Option<Text>>;
type Accs = IdMap<Key, Acc>;

/// One report over the partitions: keys → sums and unions. Each worker reads its share of
/// the partitions into one map (a sketch joins a union as it is read); the workers' maps are
/// merged at the end, union into union, which costs a copy of each sketch.
fn merge_report(report: Report, partitions: &[Partition]) -> Result<Accs> {
    partitions
        .par_iter()
        .try_fold(Accs::default, |accs, p| {
            let layout = p.manifest.accesslens_state;
            let accs = read_partition(report, &p.dir, layout, accs)?;
            if p.open_counted && report.open() {
                read_partition(report, &p.dir.join(super::carry::OPEN_DIR), layout, accs)
            } else {
                Ok(accs)
            }
        })
        .try_reduce(Accs::default, |a, b| {
            Ok(if a.len() < b.len() {
                merge_accs(report, b, a)
            } else {
                merge_accs(report, a, b)
            })
        })
}

fn merge_accs(report: Report, mut into: Accs, from: Accs) -> Accs {
    for (k, v) in from {
        match into.entry(k) {
            std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().absorb(report, v),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }
    into
}

pub(super) fn column<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| invalid(path, format!("no column {name:?} of the expected type")))
}

/// Adds a partition's rows of `report` to `accs`.
/// `layout` is the partition's: a count column newer than it is absent.
fn read_partition(report: Report, dir: &Path, layout: u32, mut accs: Accs) -> Result<Accs> {
    let path = dir.join(format!("{}.parquet", report.name()));
    for batch in read_table(dir, report.name(), &[], None)? {
        let batch = batch?;
        let keys: Vec<KeyColumn<'_>> = report
            .keys()
            .iter()
            .map(|&(name, kind)| match kind {
                KeyKind::Text | KeyKind::OptText => {
                    column::<StringArray>(&batch, name, &path).map(KeyColumn::Text)
                }
                KeyKind::Int | KeyKind::OptInt => {
                    column::<Int64Array>(&batch, name, &path).map(KeyColumn::Int)
                }
                KeyKind::Bool => column::<BooleanArray>(&batch, name, &path).map(KeyColumn::Bool),
            })
            .collect::<Result<_>>()?;
        // A count column newer than the partition's layout is absent: nothing to add.
        let counts: Vec<Option<&Int64Array>> = report
            .counts()
            .iter()
            .map(|&(name, _)| {
                if layout < super::RESPONSE_TIMES_MIN_LAYOUT
                    && super::RESPONSE_TIMES_COUNTS.contains(&name)
                {
                    Ok(None)
                } else {
                    column::<Int64Array>(&batch, name, &path).map(Some)
                }
            })
            .collect::<Result<_>>()?;
        let sketches = if report.has_visitors() {
            Some(column::<BinaryArray>(&batch, "visitors_hll", &path)?)
        } else {
            None
        };
        let durations = if report == Report::Totals {
            Some(column::<BinaryArray>(&batch, "duration_ms_hist", &path)?)
        } else {
            None
        };
        for i in 0..batch.num_rows() {
            let key: Key = keys.iter().map(|c| c.get(i)).collect();
            let acc = accs.entry(key).or_insert_with(|| Acc::new(report));
            for (c, column) in counts.iter().enumerate() {
                if let Some(column) = column {
                    acc.add(report, c, column.value(i));
                }
            }
            if let (Some(sketches), Some(union)) = (sketches, &mut acc.visitors) {
                let sketch = HllSketch::deserialize(sketches.value(i))
                    .map_err(|e| invalid(&path, format!("row {i}: visitors_hll: {e}")))?;
                union.update(&sketch);
            }
            if let Some(durations) = durations {
                let h = acc.durations.get_or_insert_with(super::new_histogram);
                super::add_encoded_histogram(h, durations.value(i)).ok_or_else(|| {
                    invalid(
                        &path,
                        format!("row {i}: duration_ms_hist: not value/count pairs"),
                    )
                })?;
            }
        }
    }
    Ok(accs)
}

enum KeyColumn<'a> {
    Text(&'a StringArray),
    Int(&'a Int64Array),
    Bool(&'a BooleanArray),
}

impl KeyColumn<'_> {
    fn get(&self, i: usize) -> Option<Text> {
        match self {
            KeyColumn::Text(a) => a.is_valid(i).then(|| Text::from(a.value(i))),
            KeyColumn::Int(a) => a.is_valid(i).then(|| Text::from(a.value(i).to_string())),
            KeyColumn::Bool(a) => a
                .is_valid(i)
                .then(|| Text::from(if a.value(i) { "true" } else { "false" })),
        }
    }
}

/// Finds, checks and merges the partitions.
pub fn merge(options: &MergeOptions) -> Result<Merged> {
    let found: Vec<Partition> = discover(&options.states)?
        .into_iter()
        .filter(|p| options.since.is_none_or(|s| p.day >= s))
        .filter(|p| options.until.is_none_or(|u| p.day <= u))
        .collect();
    let (mut partitions, skipped) = choose(found)?;
    if partitions.is_empty() {
        return Err(Error::NoState {
            what: options
                .states
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    check_layouts(&partitions)?;
    check_definitions(&partitions)?;
    open_parts(&mut partitions)?;
    // The history, when asked for, takes every partition's visits: one without them (an
    // older layout) leaves it out, and is named.
    let without_history = if options.history {
        partitions
            .iter()
            .find(|p| p.manifest.accesslens_state < super::HISTORY_MIN_LAYOUT)
            .map(|p| p.dir.clone())
    } else {
        None
    };
    let older = |p: &&Partition| p.manifest.accesslens_state < super::RESPONSE_TIMES_MIN_LAYOUT;
    let without_response_times = partitions
        .iter()
        .find(older)
        .filter(|_| !partitions.iter().all(|p| older(&p)))
        .map(|p| p.dir.clone());
    let mut without_journeys = None;
    let rules = if options.history && without_history.is_none() {
        if let Some(limit) = options.max_memory {
            super::history::check_memory(&partitions, limit)?;
        }
        without_journeys = partitions
            .iter()
            .find(|p| p.manifest.accesslens_state < super::JOURNEYS_MIN_LAYOUT)
            .map(|p| p.dir.clone());
        let journeys = match without_journeys {
            Some(_) => None,
            None => Some(journey_rules(&partitions, options)?),
        };
        Some(HistoryRules {
            attribution: attribution_rules(&partitions)?,
            journeys,
        })
    } else {
        None
    };
    // The counted tables and the visitor history side by side: each has stretches that
    // keep one thread busy, which the other fills.
    let (merged, history) = rayon::join(
        || {
            Report::ALL
                .par_iter()
                .map(|&r| merge_report(r, &partitions).map(|accs| (r.name(), accs)))
                .collect::<Result<BTreeMap<&'static str, Accs>>>()
        },
        || {
            rules
                .map(|rules| super::history::merge(&partitions, &rules))
                .transpose()
        },
    );
    let (mut merged, history) = (merged?, history?);
    let mut take = |r: Report| merged.remove(r.name()).unwrap_or_default();
    let totals = take(Report::Totals);
    let total = totals.values().next();
    let sessions = total.map_or(0, |t| t.count(Report::Totals, "sessions"));
    let visitors = total.map_or(0, Acc::estimate);
    let median_session_s = total
        .and_then(|t| t.durations.as_ref())
        .filter(|_| sessions > 0)
        .map(|h| h.value_at_quantile(0.5) as f64 / 1000.0);
    let where_ = partitions[0].dir.clone();
    let bad = |what: &str| invalid(&where_, format!("unknown {what}"));
    let text = |k: &Key, i: usize| k[i].clone().unwrap_or_else(|| Text::from(""));
    let int = |k: &Key, i: usize| -> Result<i64> {
        k[i].as_deref()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| bad("number"))
    };
    let channel = |k: &Key, i: usize| channel_named(&text(k, i)).ok_or_else(|| bad("channel"));

    let mut summary = summary(
        take(Report::Summary).values().next(),
        total,
        median_session_s,
    );
    if let Some(history) = &history {
        // Exact, where the sketches estimate.
        summary.visitors = history.visitor_count;
        summary.returning_visitors = Some(history.returning);
    }

    let channels = metric_rows(Report::Channels, take(Report::Channels), |k| channel(k, 0))?;
    let sources = metric_rows(Report::Sources, take(Report::Sources), |k| {
        Ok((text(k, 0), text(k, 1)))
    })?;
    let campaigns = metric_rows(Report::Campaigns, take(Report::Campaigns), |k| {
        Ok(CampaignKey {
            source: text(k, 0),
            medium: text(k, 1),
            campaign: text(k, 2),
            term: k[3].clone(),
            content: k[4].clone(),
            channel: channel(k, 5)?,
        })
    })?;
    let search_engines = metric_rows(Report::SearchEngines, take(Report::SearchEngines), |k| {
        Ok(text(k, 0))
    })?;
    let search_keywords = metric_rows(Report::SearchKeywords, take(Report::SearchKeywords), |k| {
        Ok((text(k, 0), text(k, 1)))
    })?;
    let landing_pages = metric_rows(Report::LandingPages, take(Report::LandingPages), |k| {
        Ok((text(k, 0), channel(k, 1)?))
    })?;
    let mut goals: Vec<GoalRow> = take(Report::Goals)
        .into_iter()
        .map(|(k, acc)| {
            let m = acc.metrics(Report::Goals);
            GoalRow {
                goal: text(&k, 0).to_string(),
                pattern: text(&k, 1).to_string(),
                conversions: m.sessions,
                visitors: m.visitors,
                conversion_rate: ratio(m.sessions, sessions),
                value: m.value_micro as f64 / 1e6,
            }
        })
        .collect();
    sort_rows(&mut goals, |r| r.conversions, |a, b| a.goal.cmp(&b.goal));

    let mut entry_pages: Vec<EntryRow> = take(Report::EntryPages)
        .into_iter()
        .map(|(k, acc)| {
            let m = acc.metrics(Report::EntryPages);
            EntryRow {
                path: text(&k, 0),
                sessions: m.sessions,
                bounces: m.bounces,
                bounce_rate: ratio(m.bounces, m.sessions),
                share: ratio(m.sessions, sessions),
                page_views: m.page_views,
                avg_session_s: ratio(m.duration_ms, m.sessions).map(|ms| ms / 1000.0),
            }
        })
        .collect();
    sort_rows(&mut entry_pages, |r| r.sessions, |a, b| a.path.cmp(&b.path));

    let mut per_host: HashMap<Text, u64> = HashMap::new();
    let mut referrers = Vec::new();
    for (k, acc) in take(Report::Referrers) {
        if let Some(host) = &k[1] {
            *per_host.entry(host.clone()).or_default() += 1;
        }
        let metrics = acc.metrics(Report::Referrers);
        referrers.push(ReferrerRow {
            referrer: text(&k, 0),
            host: k[1].clone(),
            channel: channel(&k, 2)?,
            metrics,
            rates: metrics.rates(),
        });
    }
    sort_rows(
        &mut referrers,
        |r| r.metrics.sessions,
        |a, b| a.referrer.cmp(&b.referrer),
    );
    let mut referring_sites = Vec::new();
    for (k, acc) in take(Report::ReferringSites) {
        let metrics = acc.metrics(Report::ReferringSites);
        let host = text(&k, 0);
        referring_sites.push(SiteRow {
            referrers: per_host.get(&host).copied().unwrap_or(0),
            host,
            channel: channel(&k, 1)?,
            metrics,
            rates: metrics.rates(),
        });
    }
    sort_rows(
        &mut referring_sites,
        |r| r.metrics.sessions,
        |a, b| a.host.cmp(&b.host),
    );

    let resolutions = audience_rows(
        Report::Resolutions,
        take(Report::Resolutions),
        sessions,
        |k| Ok((k[0].clone(), text(k, 1))),
    )?;
    let color_depths = audience_rows(
        Report::ColorDepths,
        take(Report::ColorDepths),
        sessions,
        |k| {
            let bits = match &k[0] {
                Some(t) => Some(t.parse::<i64>().map_err(|_| bad("color_depth"))?),
                None => None,
            };
            Ok((bits, text(k, 1)))
        },
    )?;
    let mut browsers = audience_rows(Report::Browsers, take(Report::Browsers), sessions, |k| {
        Ok((text(k, 0), text(k, 1)))
    })?;
    let mut operating_systems = audience_rows(
        Report::OperatingSystems,
        take(Report::OperatingSystems),
        sessions,
        |k| Ok((text(k, 0), text(k, 1))),
    )?;
    let mut devices = audience_rows(Report::Devices, take(Report::Devices), sessions, |k| {
        Ok(text(k, 0))
    })?;
    if let Some(h) = &history {
        // A visitor's hits of every date, those of runs where it had no page view too.
        let hits = h.agent_hits();
        set_hits(&mut browsers, &hits.browsers);
        set_hits(&mut operating_systems, &hits.systems);
        set_hits(&mut devices, &hits.devices);
    }

    // Pages (and exit pages, which are pages' exits).
    let page_counts: Vec<(Text, PageCounts)> = take(Report::Pages)
        .into_iter()
        .map(|(k, acc)| {
            let c = |name| acc.count(Report::Pages, name);
            let counts = PageCounts {
                hits: c("hits"),
                page_views: c("page_views"),
                visitors: acc.estimate(),
                entries: c("entries"),
                exits: c("exits"),
                bounces: c("bounces"),
                entry_page_views: 0,
                entry_duration_ms: 0,
                timed_views: c("timed_views"),
                time_on_page_ms: c("time_on_page_ms"),
                response_hits: c("response_hits"),
                response_us: c("response_us"),
                max_response_us: c("max_response_us"),
            };
            (text(&k, 0), counts)
        })
        .collect();
    let (pages, _, exit_pages) =
        pages::finish_rows(page_counts.iter().map(|(p, c)| (p.clone(), c)), sessions);

    // Errors, with their referrers' and channels' hits.
    type ErrorKey = (Text, i64);
    let mut error_referrers: HashMap<ErrorKey, Vec<(u64, Text, bool)>> = HashMap::new();
    for (k, acc) in take(Report::ErrorReferrers) {
        let hits = acc.count(Report::ErrorReferrers, "hits");
        let internal = k[3].as_deref() == Some("true");
        error_referrers
            .entry((text(&k, 0), int(&k, 1)?))
            .or_default()
            .push((hits, text(&k, 2), internal));
    }
    let mut error_channels: HashMap<ErrorKey, Vec<(Channel, u64)>> = HashMap::new();
    for (k, acc) in take(Report::ErrorChannels) {
        let name = text(&k, 2);
        let c = Channel::ALL
            .iter()
            .copied()
            .find(|c| c.name() == &*name)
            .ok_or_else(|| bad("channel"))?;
        error_channels
            .entry((text(&k, 0), int(&k, 1)?))
            .or_default()
            .push((c, acc.count(Report::ErrorChannels, "hits")));
    }
    let mut errors = Vec::new();
    for (k, acc) in take(Report::Errors) {
        let key = (text(&k, 0), int(&k, 1)?);
        let refs = error_referrers
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let top = top_referrer(refs.iter().map(|(n, t, internal)| (*n, t, *internal)));
        let chans = error_channels
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or_default();
        errors.push(ErrorRow {
            path: key.0.clone(),
            status: u16::try_from(key.1).map_err(|_| bad("status"))?,
            hits: acc.count(Report::Errors, "hits"),
            visitors: acc.estimate(),
            referred_hits: acc.count(Report::Errors, "referred_hits"),
            top_referrer: top.map(|(_, r, _)| r.clone()),
            top_referrer_hits: top.map_or(0, |(n, _, _)| n),
            top_referrer_internal: top.map(|(_, _, internal)| internal),
            top_channel: top_channel(chans.iter().copied()).name(),
        });
    }
    sort_errors(&mut errors);

    let statuses: Vec<(u16, StatusCounts)> = take(Report::StatusCodes)
        .into_iter()
        .map(|(k, acc)| {
            let c = |name| acc.count(Report::StatusCodes, name);
            let status = u16::try_from(int(&k, 0)?).map_err(|_| bad("status"))?;
            let counts = StatusCounts {
                hits: c("hits"),
                bytes: c("bytes"),
                human_hits: c("human_hits"),
                bot_hits: c("bot_hits"),
                visitors: acc.estimate(),
            };
            Ok((status, counts))
        })
        .collect::<Result<_>>()?;
    let status_codes = status_rows(statuses.iter().map(|(s, c)| (*s, c)));

    let bots: Vec<(String, &'static str, BotCounts)> = take(Report::Robots)
        .into_iter()
        .map(|(k, acc)| {
            let counts = BotCounts {
                hits: acc.count(Report::Robots, "hits"),
                bytes: acc.count(Report::Robots, "bytes"),
                visitors: acc.estimate(),
                first_ms: acc.get(Report::Robots, "first_ms"),
                last_ms: acc.get(Report::Robots, "last_ms"),
            };
            (text(&k, 0).to_string(), bot_kind(&text(&k, 1)), counts)
        })
        .collect();
    let robots = robot_rows(bots.iter().map(|(n, kind, c)| (n.clone(), *kind, c)));

    let mut time = Time::default();
    for (k, acc) in take(Report::TrafficByHour) {
        let c = |name| acc.count(Report::TrafficByHour, name);
        let key = time_key(int(&k, 0)?, int(&k, 1)?, HOUR_MS).ok_or_else(|| bad("hour"))?;
        time.hours.insert(
            key,
            Bucket {
                hits: c("hits"),
                bot_hits: c("bot_hits"),
                bytes: c("bytes"),
                page_views: c("page_views"),
                sessions: c("sessions"),
                visitors: acc.estimate(),
            },
        );
    }
    for (k, acc) in take(Report::TrafficByDay) {
        let key = time_key(int(&k, 0)?, int(&k, 1)?, DAY_MS).ok_or_else(|| bad("day"))?;
        time.day_visitors.insert(key, acc.estimate());
    }
    let (traffic_by_hour, traffic_by_day) = time::finish(&time);

    let terms: Vec<(Text, TermCounts)> = take(Report::InternalSearch)
        .into_iter()
        .map(|(k, acc)| {
            let c = |name| acc.count(Report::InternalSearch, name);
            let counts = TermCounts {
                searches: c("searches"),
                sessions: c("sessions"),
                visitors: acc.estimate(),
                exits: c("exits"),
                no_result_views: c("no_result_views"),
                refinements: c("refinements"),
                conversions: c("conversions"),
            };
            (text(&k, 0), counts)
        })
        .collect();
    let internal_search = site_search::rows(terms.iter().map(|(t, c)| (t.clone(), c)));

    Ok(Merged {
        partitions,
        skipped,
        sessions,
        visitors,
        median_session_s,
        summary,
        acquisition: AcquisitionReports {
            channels,
            sources,
            campaigns,
            search_engines,
            search_keywords,
            landing_pages,
            goals,
        },
        pages,
        entry_pages,
        exit_pages,
        referrers,
        referring_sites,
        errors,
        status_codes,
        robots,
        internal_search,
        traffic_by_hour,
        traffic_by_day,
        audience: AudienceReports {
            browsers,
            operating_systems,
            devices,
            resolutions,
            color_depths,
        },
        history,
        without_history,
        without_journeys,
        without_response_times,
    })
}

/// The attribution lookback the partitions were analysed with: all must agree.
fn attribution_rules(partitions: &[Partition]) -> Result<AttributionRules> {
    const KEY: &str = "attribution_lookback_ms";
    let lookback = |p: &Partition| p.manifest.definitions.get(KEY).and_then(|v| v.as_i64());
    let first = &partitions[0];
    if let Some(p) = partitions[1..]
        .iter()
        .find(|p| lookback(p) != lookback(first))
    {
        return Err(Error::StateMismatch {
            first: first.dir.display().to_string(),
            second: p.dir.display().to_string(),
            what: KEY.to_owned(),
        });
    }
    Ok(
        lookback(first).map_or_else(AttributionRules::default, |lookback_ms| AttributionRules {
            lookback_ms,
        }),
    )
}

/// The journeys' settings: those asked for, else those the partitions agree on.
fn journey_rules(partitions: &[Partition], options: &MergeOptions) -> Result<JourneyRules> {
    let defaults = JourneyRules::default();
    let agreed = |(key, flag): (&'static str, &'static str),
                  asked: Option<usize>,
                  default: usize|
     -> Result<usize> {
        if let Some(n) = asked {
            return Ok(n);
        }
        let value = |p: &Partition| p.manifest.definitions.get(key).and_then(|v| v.as_u64());
        let first = &partitions[0];
        if let Some(p) = partitions[1..].iter().find(|p| value(p) != value(first)) {
            return Err(Error::JourneysMismatch {
                first: first.dir.display().to_string(),
                second: p.dir.display().to_string(),
                key,
                flag,
            });
        }
        Ok(value(first).map_or(default, |n| n as usize))
    };
    Ok(JourneyRules {
        depth: agreed(
            ("path_depth", "path-depth"),
            options.path_depth,
            defaults.depth,
        )?,
        max_pages: agreed(
            ("path_pages", "path-pages"),
            options.path_pages,
            defaults.max_pages,
        )?,
    })
}

/// A bucket key of `traffic_by_hour` or `traffic_by_day` from its local start (ms) and
/// offset, when the start is a whole hour or day.
fn time_key(start_local_ms: i64, offset: i64, unit_ms: i64) -> Option<BucketKey> {
    let offset = i16::try_from(offset).ok()?;
    (start_local_ms.rem_euclid(unit_ms) == 0).then(|| (start_local_ms.div_euclid(unit_ms), offset))
}

/// The merged `summary`: what the run read and its hits from the state's `summary`, its
/// sessions from `totals`, computed as `analyze` computes them. Returning visitors need each
/// visitor's sessions of the whole period, which the state does not keep: unknown.
fn summary(read: Option<&Acc>, totals: Option<&Acc>, median_session_s: Option<f64>) -> SummaryRow {
    let r = |name| read.map_or(0, |a| a.count(Report::Summary, name));
    let time = |name| read.map(|a| a.get(Report::Summary, name));
    let m = totals
        .map(|t| t.metrics(Report::Totals))
        .unwrap_or_default();
    let traffic = Traffic {
        hits: r("hits"),
        bytes: r("bytes"),
        bot_hits: r("bot_hits"),
        bot_bytes: r("bot_bytes"),
        human_hits: r("human_hits"),
        page_views: m.page_views,
        visitors: m.visitors,
        sessions: m.sessions,
        bounces: m.bounces,
        engaged: m.engaged,
        duration_ms: m.duration_ms,
        conversions: m.conversions,
        value_micro: m.value_micro,
        beacon_hits: r("beacon_hits"),
        beacon_invalid: r("beacon_invalid"),
        first_ms: time("first_ms").filter(|&t| t != i64::MAX),
        last_ms: time("last_ms").filter(|&t| t != i64::MIN),
        ..Traffic::default()
    };
    let totals_read = ReadTotals {
        inputs: r("inputs"),
        input_bytes: r("input_bytes"),
        lines: r("lines"),
        blank_lines: r("blank_lines"),
        malformed: r("malformed"),
        out_of_range: 0,
    };
    let mut row = traffic::finish(&traffic, &totals_read);
    // The median of the merged histograms, as `traffic::finish` computes it from one.
    row.median_session_s = median_session_s;
    row.returning_visitors = None;
    row.internal_searches = r("internal_searches");
    row.search_sessions = totals.map_or(0, |t| t.count(Report::Totals, "search_sessions"));
    row
}

fn metric_rows<R: Ord>(
    report: Report,
    accs: Accs,
    key: impl Fn(&Key) -> Result<R>,
) -> Result<Vec<MetricsRow<R>>> {
    let mut rows = accs
        .into_iter()
        .map(|(k, acc)| {
            let metrics = acc.metrics(report);
            Ok(MetricsRow {
                key: key(&k)?,
                metrics,
                rates: metrics.rates(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    sort_rows(&mut rows, |r| r.metrics.sessions, |a, b| a.key.cmp(&b.key));
    Ok(rows)
}

/// Rows of an audience report: session metrics and, for the user-agent reports, hits.
/// Replaces the `hits` of user-agent rows by those summed per visitor.
fn set_hits<K: Ord>(rows: &mut Vec<AudienceRow<K>>, hits: &BTreeMap<K, u64>) {
    for row in rows.iter_mut() {
        row.hits = hits.get(&row.key).copied().unwrap_or(0);
    }
    rows.retain(|r| r.metrics.sessions > 0 || r.hits > 0);
}

fn audience_rows<R: Ord>(
    report: Report,
    accs: Accs,
    sessions: u64,
    key: impl Fn(&Key) -> Result<R>,
) -> Result<Vec<AudienceRow<R>>> {
    let mut groups = BTreeMap::new();
    for (k, acc) in accs {
        groups.insert(key(&k)?, (acc.metrics(report), acc.count(report, "hits")));
    }
    Ok(audience::to_rows(groups, sessions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::InputRecord;

    fn partition(dir: &str, date: &str, written: i64, inputs: &[&str]) -> Partition {
        Partition {
            dir: PathBuf::from(dir),
            day: parse_date(date).unwrap(),
            manifest: Manifest {
                accesslens_state: 1,
                version: String::new(),
                date: date.into(),
                run: String::new(),
                written_at_ms: written,
                inputs: inputs
                    .iter()
                    .map(|f| InputRecord {
                        file: format!("{f}.log"),
                        fingerprint: (*f).into(),
                    })
                    .collect(),
                definitions: serde_json::Value::Null,
                goals: Vec::new(),
                tables: Vec::new(),
                visitors_hll: String::new(),
                first_hit_ms: None,
                last_hit_ms: None,
                open_from_ms: None,
                open_digest: None,
                open: None,
                continues: Vec::new(),
            },
            open_counted: false,
        }
    }

    /// A partition of run `run` (over `inputs`) with open sessions of digest `open`, that
    /// continued `continues` (run, inputs, digest).
    fn with_open(
        dir: &str,
        run: &str,
        inputs: &[&str],
        open: Option<&str>,
        continues: &[(&str, &[&str], &str)],
    ) -> Partition {
        let mut p = partition(dir, "2026-10-10", 0, inputs);
        p.manifest.run = run.into();
        p.manifest.open_digest = open.map(Into::into);
        p.manifest.open = open.map(|_| crate::state::OpenPart {
            sessions: 1,
            hits: 1,
        });
        p.manifest.continues = continues
            .iter()
            .map(|&(run, inputs, digest)| crate::state::Continued {
                run: run.into(),
                inputs: partition("x", "2026-10-10", 0, inputs).manifest.inputs,
                open_digest: digest.into(),
            })
            .collect();
        p
    }

    fn counted(mut partitions: Vec<Partition>) -> Result<Vec<bool>> {
        open_parts(&mut partitions)?;
        Ok(partitions.iter().map(|p| p.open_counted).collect())
    }

    #[test]
    fn open_sessions_count_unless_a_run_of_the_same_date_continued_them() {
        let day1 = || with_open("d1", "r1", &["a"], Some("h1"), &[]);
        // Alone, day 1's open sessions count.
        assert_eq!(counted(vec![day1()]).unwrap(), [true]);
        // Continued by day 2 (which has open sessions of its own, counted).
        let day2 = with_open("d2", "r2", &["b"], Some("h2"), &[("r1", &["a"], "h1")]);
        assert_eq!(counted(vec![day1(), day2]).unwrap(), [false, true]);
        // Continued as they were before day 1 was analyzed again.
        let stale = with_open("d2", "r2", &["b"], None, &[("r1", &["a"], "old")]);
        let err = counted(vec![day1(), stale]).unwrap_err().to_string();
        assert!(err.contains("b.log") && err.contains("again"), "{err}");
        // Continued by a run over day 1's file and another since replaced by both.
        let replaced = with_open("d1", "r1b", &["a", "c"], Some("h3"), &[]);
        let day2 = with_open("d2", "r2", &["b"], None, &[("r1", &["a"], "h1")]);
        let err = counted(vec![replaced, day2]).unwrap_err().to_string();
        assert!(err.contains("b.log") && err.contains("c.log"), "{err}");
        // Continued twice.
        let twice = vec![
            day1(),
            with_open("d2", "r2", &["b"], None, &[("r1", &["a"], "h1")]),
            with_open("d3", "r3", &["c"], None, &[("r1", &["a"], "h1")]),
        ];
        let err = counted(twice).unwrap_err().to_string();
        assert!(
            err.contains("both continued") && err.contains("a.log"),
            "{err}"
        );
    }

    #[test]
    fn merged_visitor_estimates_do_not_depend_on_the_union_order() {
        // Six dates of 300 visitors each, a third of them seen the date before (1,300 in
        // all): the union passes from coupons to registers on the way, where a plain
        // estimate would carry on the HIP estimator of whichever sketch was unioned first.
        let days: Vec<HllSketch> = (0..6u64)
            .map(|d| {
                let mut s = HllSketch::new(LG_K, crate::state::HLL_TYPE).unwrap();
                for v in d * 200..d * 200 + 300 {
                    s.update_with_coupon(crate::state::visitor_coupon(v));
                }
                s
            })
            .collect();
        let report = Report::Channels;
        let acc = |order: &[usize]| {
            let mut acc = Acc::new(report);
            for &i in order {
                let mut one = Acc::new(report);
                one.visitors
                    .as_mut()
                    .expect("channels have visitors")
                    .update(&days[i]);
                acc.absorb(report, one);
            }
            acc
        };
        let forward = acc(&[0, 1, 2, 3, 4, 5]).estimate();
        assert_eq!(acc(&[5, 4, 3, 2, 1, 0]).estimate(), forward);
        assert_eq!(acc(&[3, 0, 5, 1, 4, 2]).estimate(), forward);
        let mut tree = acc(&[4, 5, 3]);
        tree.absorb(report, acc(&[1, 0, 2]));
        assert_eq!(tree.estimate(), forward);
        assert!(forward.abs_diff(1_300) < 65, "{forward}");
    }

    #[test]
    fn attribution_looks_back_as_the_runs_did_and_they_must_agree() {
        let with = |lookback: i64, dir: &str| {
            let mut p = partition(dir, "2026-10-10", 1, &[dir]);
            p.manifest.definitions = serde_json::json!({ "attribution_lookback_ms": lookback });
            p
        };
        const DAY: i64 = 86_400_000;
        let same = [with(7 * DAY, "a"), with(7 * DAY, "b")];
        assert_eq!(attribution_rules(&same).unwrap().lookback_ms, 7 * DAY);
        let differ = [with(7 * DAY, "a"), with(30 * DAY, "b")];
        match attribution_rules(&differ) {
            Err(Error::StateMismatch { second, what, .. }) => {
                assert_eq!(
                    (second.as_str(), what.as_str()),
                    ("b", "attribution_lookback_ms")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dates_parse_and_impossible_ones_do_not() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(date_text(parse_date("2026-10-10").unwrap()), "2026-10-10");
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-1-01"), None);
    }

    #[test]
    fn identical_inputs_count_once_newest_first_disjoint_add_overlap_fails() {
        let (kept, skipped) = choose(vec![
            partition("a", "2026-10-10", 1, &["x", "y"]),
            partition("b", "2026-10-10", 2, &["y", "x"]),
            partition("c", "2026-10-10", 0, &["z"]),
            partition("d", "2026-10-11", 0, &["x"]),
        ])
        .unwrap();
        let dirs: Vec<_> = kept.iter().map(|p| p.dir.to_str().unwrap()).collect();
        assert_eq!(dirs, ["b", "c", "d"]);
        assert_eq!(skipped[0].dir, PathBuf::from("a"));

        let err = choose(vec![
            partition("a", "2026-10-10", 1, &["x", "y"]),
            partition("b", "2026-10-10", 2, &["y"]),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("y.log") && err.contains("2026-10-10"), "{err}");
    }
}
