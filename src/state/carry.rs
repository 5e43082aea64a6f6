//! Sessions across runs: what a run leaves open for the next, and `--continue-from`.
//!
//! A session belongs to the date it started. A run with `--state` cannot know whether a
//! later log continues the sessions still open at the end of its input (their last page
//! view within the session timeout of its last hit), so it counts them apart, in each
//! partition's `open/` (the same report files), and keeps the hits that make them in
//! `open/open_hits.parquet`: their page views, and the beacons that give them a screen.
//!
//! A later run given `--continue-from` picks the runs whose input ended where its own
//! begins (the last hit within a session timeout of its first), reads their open hits back
//! into its own sessions ([`crate::ingest::CarriedHit`]), and so cuts the sessions one run
//! over both logs would cut. It takes over all the open sessions it read: it counts them,
//! continued or not, in its own partitions (on the dates they started), and its manifests
//! list the runs it continued (`continues`, with their `open_digest`). `merge` leaves out
//! the `open/` of a run that a counted partition of the same date continued, and counts it
//! otherwise, so a state without the next day is complete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::{Array, BinaryArray, Int64Array, TimestampMicrosecondArray};

use super::merge::{column, invalid};
use super::{Continued, InputRecord, Manifest, partitions_under, read_manifest};
use crate::aggregate::OpenTail;
use crate::enrich::{Dictionaries, Identity, Lookups};
use crate::error::{Error, Result};
use crate::ingest::CarriedHit;
use crate::output::parquet::read_table;
use crate::output::table::Table;

/// The sub-directory of a partition that holds its open part.
pub const OPEN_DIR: &str = "open";

/// The open hits' file in [`OPEN_DIR`].
pub const OPEN_HITS: &str = "open_hits";

/// One hit of an open session, as `open_hits` holds it: the visitor's hash (as in the
/// `sessions` table) and what a later run reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHitRow {
    pub visitor: i64,
    pub hit: CarriedHit,
}

impl OpenHitRow {
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (&self.hit, &other.hit);
        self.visitor
            .cmp(&other.visitor)
            .then_with(|| {
                (&a.client, &a.user_agent, &a.ident).cmp(&(&b.client, &b.user_agent, &b.ident))
            })
            .then(a.ts_ms.cmp(&b.ts_ms))
            .then_with(|| {
                (&a.request, a.status, a.bytes, &a.referrer).cmp(&(
                    &b.request,
                    b.status,
                    b.bytes,
                    &b.referrer,
                ))
            })
            .then(a.offset_min.cmp(&b.offset_min))
    }
}

/// The open tails as rows with their texts, per date (of the visitor's first open session),
/// each date's rows by visitor and time.
pub fn open_rows(
    tails: &[OpenTail],
    dicts: &Dictionaries,
    lookups: &Lookups,
) -> BTreeMap<i32, Vec<OpenHitRow>> {
    let mut by_day: BTreeMap<i32, Vec<OpenHitRow>> = BTreeMap::new();
    for tail in tails {
        let (client, agent) = dicts.visitors.key(tail.visitor);
        let ident = match dicts.visitors.identity(tail.visitor) {
            Identity::Named(ident) => dicts.idents.get(ident).to_vec(),
            Identity::Client(_) | Identity::ClientAgent(..) => Vec::new(),
        };
        let client = dicts.clients.get(client);
        let agent = dicts.agents.get(agent);
        let visitor = lookups.visitor(tail.visitor).hash as i64;
        let rows = by_day.entry(tail.day).or_default();
        rows.extend(tail.hits.iter().map(|h| OpenHitRow {
            visitor,
            hit: CarriedHit {
                client: client.to_vec(),
                user_agent: agent.to_vec(),
                ident: ident.clone(),
                ts_ms: h.ts_ms,
                offset_min: h.offset_min,
                request: dicts.requests.get(h.request).to_vec(),
                referrer: dicts.referrers.get(h.referrer).to_vec(),
                status: h.status,
                bytes: h.bytes,
            },
        }));
    }
    for rows in by_day.values_mut() {
        rows.sort_by(OpenHitRow::order);
    }
    by_day
}

/// XXH3-64 of every open hit (dates in order, rows in order), as 16 hex digits: what a run
/// that continues them records, so that `merge` can tell whether the open sessions it
/// finds are still those. `None` when there are none.
pub fn digest(open: &BTreeMap<i32, Vec<OpenHitRow>>) -> Option<String> {
    if open.values().all(Vec::is_empty) {
        return None;
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let text = |h: &mut xxhash_rust::xxh3::Xxh3, bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for (day, rows) in open {
        h.update(&day.to_le_bytes());
        for row in rows {
            let c = &row.hit;
            h.update(&row.visitor.to_le_bytes());
            text(&mut h, &c.client);
            text(&mut h, &c.user_agent);
            text(&mut h, &c.ident);
            h.update(&c.ts_ms.to_le_bytes());
            h.update(&c.offset_min.to_le_bytes());
            text(&mut h, &c.request);
            text(&mut h, &c.referrer);
            h.update(&c.status.to_le_bytes());
            h.update(&c.bytes.to_le_bytes());
        }
    }
    Some(format!("{:016x}", h.digest()))
}

/// The columns of `open_hits`: texts as bytes, exactly as the run interned them.
pub fn open_hits_table(rows: &[OpenHitRow]) -> Table {
    let hit = || rows.iter().map(|r| &r.hit);
    Table::default()
        .int("visitor", rows.iter().map(|r| r.visitor))
        .time("ts", hit().map(|h| h.ts_ms))
        .int("offset_min", hit().map(|h| i64::from(h.offset_min)))
        .binary("client", hit().map(|h| h.client.as_slice()))
        .binary("user_agent", hit().map(|h| h.user_agent.as_slice()))
        .binary("ident", hit().map(|h| h.ident.as_slice()))
        .binary("request", hit().map(|h| h.request.as_slice()))
        .binary("referrer", hit().map(|h| h.referrer.as_slice()))
        .int("status", hit().map(|h| i64::from(h.status)))
        // The logged size's bits: a log can claim more than an Int64 holds.
        .int("bytes", hit().map(|h| h.bytes as i64))
}

/// Reads a partition's `open/open_hits.parquet` back, rows in file order.
pub fn read_open_hits(partition: &Path) -> Result<Vec<OpenHitRow>> {
    let dir = partition.join(OPEN_DIR);
    let path = dir.join(format!("{OPEN_HITS}.parquet"));
    let mut rows = Vec::new();
    for batch in read_table(&dir, OPEN_HITS, &[], None)? {
        let batch = batch?;
        let bin = |name| column::<BinaryArray>(&batch, name, &path);
        let int = |name| column::<Int64Array>(&batch, name, &path);
        let ts = column::<TimestampMicrosecondArray>(&batch, "ts", &path)?;
        let (client, agent, ident, request, referrer) = (
            bin("client")?,
            bin("user_agent")?,
            bin("ident")?,
            bin("request")?,
            bin("referrer")?,
        );
        let (visitor, offset, status, bytes) = (
            int("visitor")?,
            int("offset_min")?,
            int("status")?,
            int("bytes")?,
        );
        for i in 0..batch.num_rows() {
            let bad = |what: &str| invalid(&path, format!("row {i}: bad {what}"));
            if ts.is_null(i) {
                return Err(bad("ts"));
            }
            rows.push(OpenHitRow {
                visitor: visitor.value(i),
                hit: CarriedHit {
                    client: client.value(i).to_vec(),
                    user_agent: agent.value(i).to_vec(),
                    ident: ident.value(i).to_vec(),
                    ts_ms: ts.value(i).div_euclid(1000),
                    offset_min: i16::try_from(offset.value(i)).map_err(|_| bad("offset_min"))?,
                    request: request.value(i).to_vec(),
                    referrer: referrer.value(i).to_vec(),
                    status: u16::try_from(status.value(i))
                        .ok()
                        .filter(|&s| s < crate::sessionize::CARRIED)
                        .ok_or_else(|| bad("status"))?,
                    bytes: bytes.value(i) as u64,
                },
            });
        }
    }
    Ok(rows)
}

/// What `--continue-from` is to match: this run's inputs, hits and definitions.
pub struct ContinueRequest<'a> {
    /// State directories, `date=…` directories or partitions.
    pub paths: &'a [PathBuf],
    pub inputs: &'a [InputRecord],
    /// The first and last time of this run's hits.
    pub span: Option<(i64, i64)>,
    pub timeout_ms: i64,
    pub definitions: &'a serde_json::Value,
    pub goals: &'a [(String, String)],
}

/// The open sessions a run continues.
#[derive(Debug, Default)]
pub struct Continuation {
    pub hits: Vec<CarriedHit>,
    /// The runs they came from, for the manifests.
    pub continues: Vec<Continued>,
    /// What was continued, one line per run (for the terminal).
    pub said: Vec<String>,
    /// What the user should know.
    pub warnings: Vec<String>,
}

/// The files of some inputs, comma-separated.
pub fn files(inputs: &[InputRecord]) -> String {
    inputs
        .iter()
        .map(|i| i.file.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds, checks and reads the open sessions this run continues: those of every run under
/// `paths` that left open sessions, ended within a session timeout of this run's first hit,
/// shares no input with this run, and that no other run has continued yet. A run that
/// shares an input with this one is this one's earlier state (to be replaced): what it
/// continued is free again.
pub fn read_continuation(req: &ContinueRequest<'_>) -> Result<Continuation> {
    let mut out = Continuation::default();
    let Some((first, _)) = req.span else {
        return Ok(out);
    };
    let ours: HashSet<&str> = req.inputs.iter().map(|i| i.fingerprint.as_str()).collect();
    let shares_ours = |m: &Manifest| {
        m.inputs
            .iter()
            .any(|i| ours.contains(i.fingerprint.as_str()))
    };
    // Every partition, by run.
    let mut runs: BTreeMap<String, Vec<(PathBuf, Manifest)>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for path in req.paths {
        if !path.exists() {
            out.warnings.push(format!(
                "--continue-from: {} does not exist: no open sessions continued from it",
                path.display()
            ));
            continue;
        }
        for dir in partitions_under(path)? {
            let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            if !seen.insert(key) {
                continue;
            }
            let manifest = read_manifest(&dir)?;
            runs.entry(manifest.run.clone())
                .or_default()
                .push((dir, manifest));
        }
    }
    // A run's date given twice (a copy of the state): the newest copy.
    for partitions in runs.values_mut() {
        partitions.sort_by(|(a_dir, a), (b_dir, b)| {
            a.date
                .cmp(&b.date)
                .then(b.written_at_ms.cmp(&a.written_at_ms))
                .then(a_dir.cmp(b_dir))
        });
        partitions.dedup_by(|later, first| later.1.date == first.1.date);
    }
    // Runs continued by a run that stays.
    let mut continued_by: HashMap<&str, Vec<&Manifest>> = HashMap::new();
    for partitions in runs.values() {
        let (_, m) = &partitions[0];
        if shares_ours(m) {
            continue;
        }
        for c in &m.continues {
            continued_by.entry(c.run.as_str()).or_default().push(m);
        }
    }
    for (run, partitions) in &runs {
        let (dir, m) = &partitions[0];
        let (Some(digest_wanted), Some(last)) = (&m.open_digest, m.last_hit_ms) else {
            continue;
        };
        if shares_ours(m) || (last - first).abs() > req.timeout_ms {
            continue;
        }
        if let Some(by) = continued_by.get(run.as_str()) {
            out.warnings.push(format!(
                "--continue-from: the open sessions of {} were continued already, by the run \
                 over {}: not continued again",
                files(&m.inputs),
                files(&by[0].inputs)
            ));
            continue;
        }
        if let Some(what) =
            super::merge::definition_differs(&m.definitions, &m.goals, req.definitions, req.goals)
        {
            let shown = |d| super::merge::shown_definition(d, &what);
            let values = match (shown(&m.definitions), shown(req.definitions)) {
                (Some(there), Some(here)) => format!(" ({there} there, {here} here)"),
                _ => String::new(),
            };
            return Err(Error::ContinueMismatch {
                dir: dir.display().to_string(),
                what: format!("{what}{values}"),
            });
        }
        // Every date's open hits, checked against the digest of all of them: a state given
        // in part (one date of it) would continue some of the run's open sessions only.
        let mut open = BTreeMap::new();
        for (dir, m) in partitions {
            if m.open.as_ref().is_some_and(|o| o.hits > 0) {
                let day = super::merge::parse_date(&m.date)
                    .ok_or_else(|| invalid(dir, format!("bad date {:?}", m.date)))?;
                open.insert(day, read_open_hits(dir)?);
            }
        }
        if digest(&open).as_ref() != Some(digest_wanted) {
            return Err(invalid(
                dir,
                "its open hits do not add up to its run's open_digest: give --continue-from \
                 the whole state directory (every date of the run), as written",
            ));
        }
        let before = out.hits.len();
        out.hits
            .extend(open.into_values().flatten().map(|row| row.hit));
        if last > first {
            out.warnings.push(format!(
                "--continue-from: the logs of {} end {:.3} s after this run's begin: sessions \
                 are continued exactly only when a log begins where the one before ended",
                files(&m.inputs),
                (last - first) as f64 / 1000.0
            ));
        }
        let sessions: u64 = partitions
            .iter()
            .filter_map(|(_, m)| m.open.as_ref())
            .map(|o| o.sessions)
            .sum();
        out.said.push(format!(
            "continuing {sessions} open session{} ({} hits) of {}",
            if sessions == 1 { "" } else { "s" },
            out.hits.len() - before,
            files(&m.inputs)
        ));
        out.continues.push(Continued {
            run: run.clone(),
            inputs: m.inputs.clone(),
            open_digest: digest_wanted.clone(),
        });
    }
    Ok(out)
}
