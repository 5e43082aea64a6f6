//! The whole run, stage after stage:
//!
//! ```text
//! inputs ─► split ─► parse ─► enrich ─► sessionize ─► aggregate ─► write
//! ```
//!
//! [`run`] prepares the output first (so a bad `--out` fails before any work), ingests the
//! inputs (input, split, parse and interning, in parallel), classifies the distinct values,
//! sessionizes and aggregates shard by shard, and writes the tables atomically.

use std::time::{Duration, Instant};

use crate::aggregate::{self, Reports, traffic::ReadTotals};
use crate::config::Config;
use crate::enrich::{ClientIp, Lookups, VisitorKey};
use crate::error::{Error, Result};
use crate::ingest::{self, FileStats, MalformedSample};
use crate::output::parquet::Purpose;
use crate::output::{self, OutputDir, json_string, json_strings, progress::Progress, rfc3339};
use crate::parse::time::TimeBound;
use crate::sessionize::SpillOptions;
use crate::state::{self, merge::Merged};

/// What a run produced, for the overview and for callers of the library.
pub struct Outcome {
    pub reports: Reports,
    pub files: Vec<FileStats>,
    pub samples: Vec<MalformedSample>,
    /// Inputs skipped under `--keep-going`.
    pub skipped: Vec<String>,
    /// Bytes of hits that waited on disk (over `--hit-memory`).
    pub spilled_bytes: u64,
    /// Inputs whose state a `--state` run replaced without reading them again.
    pub state_dropped: Vec<String>,
    /// Inputs of later runs that continued open sessions this run changed: to analyze again.
    pub state_stale: Vec<String>,
    /// What `--continue-from` continued, one line per earlier run.
    pub continued: Vec<String>,
    /// What the user should know about the run: about `--continue-from`, and a log in which
    /// no hit has a user agent.
    pub warnings: Vec<String>,
    pub elapsed: Duration,
}

/// Runs `analyze` with `config` on a thread pool of `config.threads` workers.
pub fn run(config: &Config) -> Result<Outcome> {
    pool(config.threads)?.install(|| run_on_pool(config))
}

/// A thread pool of `threads` workers.
fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Threads {
            threads,
            reason: e.to_string(),
        })
}

fn run_on_pool(config: &Config) -> Result<Outcome> {
    let started = Instant::now();
    let trace = Trace::from_env(started);
    if let Some(html) = &config.html_file {
        output::html::check_target(html)?;
    }
    let out = OutputDir::prepare(&config.out_dir)?;
    // CSV beside the Parquet files shares their staging directory; elsewhere it has its own.
    let csv_out = match &config.csv_dir {
        Some(dir) if !same_dir(dir, &config.out_dir) => {
            Some(OutputDir::prepare_tagged(dir, "-csv")?)
        }
        _ => None,
    };
    let state_out = match &config.state_dir {
        Some(dir) => Some(OutputDir::prepare_tagged(dir, "-state")?),
        None => None,
    };
    let progress = Progress::new(!config.quiet);

    // Hits past the memory budget wait on disk, in files of the staging area unlinked as
    // soon as they are created.
    let spill = config.hit_memory.map(|budget| SpillOptions {
        dir: out.staging().to_path_buf(),
        budget,
    });
    // Once the inputs are read: the open sessions of the runs whose logs end where these
    // begin (`--continue-from`), to be cut into sessions with this run's hits.
    let mut continuation = state::carry::Continuation::default();
    let goals: Vec<(String, String)> = config
        .enrich
        .goals
        .goals
        .iter()
        .map(|g| (g.name.clone(), g.pattern.clone()))
        .collect();
    let mut carry = |files: &[FileStats], span: Option<(i64, i64)>| {
        if config.continue_from.is_empty() {
            return Ok(Vec::new());
        }
        progress.message("open sessions");
        let inputs = state::input_records(files)?;
        let definitions: serde_json::Value =
            serde_json::from_str(&definitions(config, files)).expect("the definitions are JSON");
        continuation = state::carry::read_continuation(&state::carry::ContinueRequest {
            paths: &config.continue_from,
            inputs: &inputs,
            span,
            timeout_ms: config.sessions.timeout_ms,
            definitions: &definitions,
            goals: &goals,
        })?;
        Ok(std::mem::take(&mut continuation.hits))
    };
    let ingested = ingest::ingest(&config.inputs, &config.ingest, spill, &progress, &mut carry)?;
    trace.stage("ingest");
    progress.message("classifying");
    let lookups = Lookups::build(&ingested.dicts, &config.enrich);
    trace.stage("classify");
    progress.message("sessions");
    // Sessions whose last page view is within the timeout of the input's last hit are open:
    // the state keeps them apart, with their hits.
    let open_from_ms = state_out
        .as_ref()
        .and(ingested.span)
        .map(|(_, last)| last - config.sessions.timeout_ms);
    let carry_rules = aggregate::CarryRules {
        carried: ingested.carried_visitors,
        open_from_ms,
    };
    let context = aggregate::Context {
        dicts: &ingested.dicts,
        lookups: &lookups,
        sessions: &config.sessions,
        attribution: &config.attribution,
        journeys: &config.journeys,
        carry: &carry_rules,
        dated: config.state_dir.is_some(),
    };
    let (shards, spilled_bytes) = ingested.shards.into_pieces()?;
    // The hits table is written while the hits are still in their shards, before
    // aggregation consumes them; the rows come from the hit records and the dictionaries.
    if let Some(buckets) = config.hit_buckets {
        progress.message("hits table");
        let source = output::hits::HitsSource {
            shards: &shards,
            dicts: &ingested.dicts,
            lookups: &lookups,
            files: &ingested.files,
        };
        let metadata = hits_metadata(config, &ingested.files, buckets);
        output::hits::write(out.staging(), &source, buckets, &metadata)?;
        trace.stage("hits");
    }
    let mut partial = aggregate::aggregate(shards, &context)?;
    let carried_sessions = std::mem::take(&mut partial.carried_sessions);
    let open_hits = state::carry::open_rows(&partial.open, &ingested.dicts, &lookups);
    partial.open = Vec::new();
    let dated = partial.dated.take().unwrap_or_default();
    drop(ingested.dicts);
    trace.stage("sessionize+aggregate");

    let read = ReadTotals {
        inputs: ingested.files.len() as u64,
        input_bytes: ingested.files.iter().map(|f| f.bytes).sum(),
        lines: ingested.files.iter().map(|f| f.lines).sum(),
        blank_lines: ingested.files.iter().map(|f| f.blank_lines).sum(),
        malformed: ingested.files.iter().map(|f| f.malformed).sum(),
        out_of_range: ingested.files.iter().map(|f| f.out_of_range).sum(),
    };
    let reports = aggregate::finish(partial, &lookups, &read);
    trace.stage("finish");

    let mut state_inputs = None;
    if let Some(state_out) = &state_out {
        progress.message("state");
        let inputs = state::input_records(&ingested.files)?;
        // The sessions made only of carried page views count in the state, not the reports:
        // this run takes over every open session it read.
        let sessions: std::borrow::Cow<'_, [aggregate::Session]> = if carried_sessions.is_empty() {
            std::borrow::Cow::Borrowed(&reports.sessions)
        } else {
            std::borrow::Cow::Owned([&reports.sessions[..], &carried_sessions[..]].concat())
        };
        let run_state = state::RunState::collect(&sessions, dated, &read, &lookups, open_from_ms);
        trace.stage("state cells");
        let definitions = definitions(config, &ingested.files);
        let open_digest = state::carry::digest(&open_hits);
        state::write(
            state_out.staging(),
            &run_state,
            &lookups,
            &state::RunInfo {
                inputs: &inputs,
                definitions: &definitions,
                span: ingested.span,
                open_from_ms,
                open_hits: &open_hits,
                open_digest: open_digest.clone(),
                continues: &continuation.continues,
            },
        )?;
        state_inputs = Some((inputs, open_digest));
        trace.stage("state files");
    }

    progress.message("writing");
    let tables = output::parquet::tables(&reports, &lookups, &ingested.files, &ingested.samples);
    let metadata = metadata(config, &ingested.files, &reports, &continuation.continues);
    output::parquet::write_tables(out.staging(), tables, &metadata, Purpose::Report)?;
    if config.csv_dir.is_some() {
        let tables =
            output::parquet::tables(&reports, &lookups, &ingested.files, &ingested.samples);
        let staging = csv_out.as_ref().map_or(out.staging(), OutputDir::staging);
        output::export::write_csv(staging, &tables)?;
    }
    if let Some(json_file) = &config.json_file {
        let tables =
            output::parquet::tables(&reports, &lookups, &ingested.files, &ingested.samples);
        let summary = tables
            .iter()
            .find(|t| t.name == "summary")
            .expect("the summary table exists");
        output::export::write_file_atomically(
            json_file,
            &output::export::summary_json(&summary.batch(0..summary.rows), &metadata),
        )?;
    }
    out.commit()?;
    if let Some(csv_out) = csv_out {
        csv_out.commit()?;
    }
    let mut committed = state::Committed::default();
    if let (Some(state_out), Some((inputs, open_digest))) = (state_out, state_inputs) {
        committed = state::commit(state_out, &inputs, open_digest.as_deref())?;
    }
    // From the committed files, so the page shows exactly what the Parquet holds.
    if let Some(html) = &config.html_file {
        progress.message("HTML report");
        output::html::write(&config.out_dir, html, config.html_top)?;
    }
    progress.finish();
    trace.stage("write");

    let mut warnings = continuation.warnings;
    warnings.extend(empty_agent_warning(&reports));
    warnings.extend(agent_not_logged_warning(&ingested.files));
    warnings.extend(method_not_logged_warning(&ingested.files));
    warnings.extend(no_forwarded_warning(config, &ingested.files));
    warnings.extend(unzoned_warning(config, &ingested.files));
    Ok(Outcome {
        reports,
        files: ingested.files,
        samples: ingested.samples,
        skipped: ingested.skipped,
        spilled_bytes,
        state_dropped: committed.dropped,
        state_stale: committed.stale,
        continued: continuation.said,
        warnings,
        elapsed: started.elapsed(),
    })
}

/// When every hit's user agent is logged empty (`"-"`), every hit is a bot: says why the
/// reports of visitors are empty.
fn empty_agent_warning(reports: &Reports) -> Option<String> {
    let without_agent: u64 = reports
        .robots
        .iter()
        .filter(|r| r.bot == crate::enrich::agent::NO_AGENT)
        .map(|r| r.hits)
        .sum();
    (reports.summary.hits > 0 && without_agent == reports.summary.hits).then(|| {
        "every hit's user agent is empty (\"-\"), and a client that sends none counts as a \
         bot: there are no visitors, sessions or channels to report"
            .to_owned()
    })
}

/// Names the inputs whose lines have no user-agent field (a common-format log, which
/// detection reads as combined; HAProxy without captured headers): their visitors are told
/// apart without an agent, and their bots are not recognised.
fn agent_not_logged_warning(files: &[crate::ingest::FileStats]) -> Option<String> {
    let which = no_hit_of(files, |f| f.agents_not_logged == f.hits)?;
    Some(format!(
        "{which} a user-agent field (the format logs none), so crawlers cannot be told from \
         people there and visitors are told apart without it; log the User-Agent header \
         (Apache's or nginx's combined format, a captured header in HAProxy, W3C's \
         cs(User-Agent), Traefik's kept headers) to tell them apart"
    ))
}

/// Names the inputs whose requests have no method (a W3C log without `cs-method`, a
/// `--log-format` with the path alone): their requests are taken as GETs for page views.
fn method_not_logged_warning(files: &[crate::ingest::FileStats]) -> Option<String> {
    let which = no_hit_of(files, |f| f.methods_not_logged == f.hits)?;
    Some(format!(
        "{which} a request method (the format logs none), so each request to a page is \
         counted as a GET: a form's POST answered 200 is a page view there; log the method \
         (W3C's cs-method, Apache's %m or %r, nginx's $request_method or $request) to tell \
         them apart"
    ))
}

/// `no hit has`, `no hit of a.log, b.log has`, …: the inputs with hits where `lacks` holds,
/// as a warning's subject; `None` when there are none.
fn no_hit_of(
    files: &[crate::ingest::FileStats],
    lacks: impl Fn(&crate::ingest::FileStats) -> bool,
) -> Option<String> {
    Some(match inputs_where(files, lacks)? {
        None => "no hit has".to_owned(),
        Some(list) => format!("no hit of {list} has"),
    })
}

/// The inputs with hits where `holds` holds: `None` when there are none, `Some(None)` when
/// they are all the inputs, else their names (`a.log, b.log`, `a.log, b.log, c.log and 2
/// more inputs`).
fn inputs_where(
    files: &[crate::ingest::FileStats],
    holds: impl Fn(&crate::ingest::FileStats) -> bool,
) -> Option<Option<String>> {
    let which: Vec<&str> = files
        .iter()
        .filter(|f| f.hits > 0 && holds(f))
        .map(|f| f.file.as_str())
        .collect();
    Some(match which.len() {
        0 => return None,
        n if n == files.len() => None,
        _ => Some(first_three(&which, ", ")),
    })
}

/// `a, b, c`, or `a, b, c and 2 more inputs`: a list of inputs for a warning, `sep` between.
fn first_three(items: &[impl AsRef<str>], sep: &str) -> String {
    let shown: Vec<&str> = items.iter().take(3).map(AsRef::as_ref).collect();
    match items.len() {
        0..=3 => shown.join(sep),
        n => format!("{} and {} more inputs", shown.join(sep), n - 3),
    }
}

/// Without `--tz`, names the inputs whose times are the server's clock with no zone
/// written (HAProxy's accept dates, W3C's `date-local`): they were taken as UTC.
fn unzoned_warning(config: &Config, files: &[crate::ingest::FileStats]) -> Option<String> {
    if config.ingest.tz.is_some() {
        return None;
    }
    let which = match inputs_where(files, |f| f.unzoned_hits > 0)? {
        None => "the times logged".to_owned(),
        Some(list) => format!("the times of {list}"),
    };
    // A W3C log whose `#Fields:` changes between the server's clock and UTC has both.
    let partial: Vec<String> = files
        .iter()
        .filter(|f| f.unzoned_hits > 0 && f.unzoned_hits < f.hits)
        .map(|f| format!("{}: {} of its {} hits", f.file, f.unzoned_hits, f.hits))
        .collect();
    let partial = match partial.len() {
        0 => String::new(),
        _ => format!(" (in part: {})", first_three(&partial, "; ")),
    };
    Some(format!(
        "{which}{partial} are the server's clock with no zone written (HAProxy's accept dates, \
         W3C's date-local and time-local), and were read as UTC: their hours and days are off \
         by the server's offset from UTC, and so is their order against other inputs' times; \
         give the offset with --tz (--tz +01:00)"
    ))
}

/// With `--client-ip forwarded-for`, names the inputs where no hit had an X-Forwarded-For
/// address: their clients are the logged peers, as without the option.
fn no_forwarded_warning(config: &Config, files: &[crate::ingest::FileStats]) -> Option<String> {
    if config.ingest.client_ip != ClientIp::ForwardedFor {
        return None;
    }
    let which = no_hit_of(files, |f| f.forwarded_clients == 0)?;
    Some(format!(
        "--client-ip forwarded-for: {which} an X-Forwarded-For address (the format does not \
         log the header, or no line's begins with an IP address), so their clients are the \
         addresses the server logged; log the header (nginx: \"$http_x_forwarded_for\", \
         Apache: \"%{{X-Forwarded-For}}i\", with --log-format)"
    ))
}

/// Runs `merge`: reads the state partitions, merges them and writes the tables atomically.
pub fn merge(config: &crate::config::MergeConfig) -> Result<Merged> {
    pool(config.threads)?.install(|| {
        let out = OutputDir::prepare(&config.out_dir)?;
        let merged = state::merge::merge(&config.options)?;
        let metadata = merged_metadata(config, &merged);
        output::parquet::write_tables(
            out.staging(),
            output::parquet::merged_tables(&merged),
            &metadata,
            Purpose::Report,
        )?;
        out.commit()?;
        Ok(merged)
    })
}

/// Key-value metadata of merged tables: the inputs of every partition that counted, their
/// definitions, the dates, and which columns are estimates.
fn merged_metadata(config: &crate::config::MergeConfig, m: &Merged) -> Vec<(String, String)> {
    let mut inputs: Vec<&state::InputRecord> = m
        .partitions
        .iter()
        .flat_map(|p| &p.manifest.inputs)
        .collect();
    inputs.sort_by(|a, b| a.file.cmp(&b.file).then(a.fingerprint.cmp(&b.fingerprint)));
    inputs.dedup();
    let mut definitions = m.partitions[0].manifest.definitions.clone();
    let mut formats: Vec<String> = m
        .partitions
        .iter()
        .filter_map(|p| p.manifest.definitions.get("format")?.as_str())
        .flat_map(|f| f.split(',').map(str::to_owned))
        .collect();
    formats.sort_unstable();
    formats.dedup();
    let day = |d: Option<i32>| d.map_or(serde_json::Value::Null, |d| state::date_text(d).into());
    if let Some(map) = definitions.as_object_mut() {
        map.insert("format".into(), formats.join(",").into());
        map.insert("since".into(), day(config.options.since));
        map.insert("until".into(), day(config.options.until));
    }
    let partitions: Vec<serde_json::Value> = m
        .partitions
        .iter()
        .map(|p| {
            // `open`: whether the partition's open sessions counted here, or in the run
            // that continued them.
            let open = p.manifest.open.as_ref().map(|_| {
                if p.open_counted {
                    "counted"
                } else {
                    "continued"
                }
            });
            serde_json::json!({
                "date": p.manifest.date,
                "dir": p.dir.display().to_string(),
                "inputs": p.manifest.inputs.iter().map(|i| &i.fingerprint).collect::<Vec<_>>(),
                "open": open,
            })
        })
        .collect();
    vec![
        (
            "accesslens.version".into(),
            env!("CARGO_PKG_VERSION").into(),
        ),
        (
            "accesslens.inputs".into(),
            json_strings(inputs.iter().map(|i| i.file.as_str())),
        ),
        (
            "accesslens.time_range".into(),
            time_range(m.summary.first_ms, m.summary.last_ms),
        ),
        ("accesslens.definitions".into(), definitions.to_string()),
        (
            "accesslens.estimates".into(),
            match m.history {
                Some(_) => serde_json::json!({
                    "visitors": state::ESTIMATE_NOTE,
                    "exact": state::HISTORY_NOTE,
                }),
                None => serde_json::json!({
                    "visitors": state::ESTIMATE_NOTE,
                    "returning_visitors": if config.options.history {
                        state::RETURNING_NOTE
                    } else {
                        state::NO_HISTORY_NOTE
                    },
                }),
            }
            .to_string(),
        ),
        (
            "accesslens.merged".into(),
            serde_json::json!({
                "first_date": m.partitions.first().map(|p| &p.manifest.date),
                "last_date": m.partitions.last().map(|p| &p.manifest.date),
                "sessions": m.sessions,
                "visitors_estimate": m.visitors,
                "median_session_s": m.median_session_s,
                "partitions": partitions,
            })
            .to_string(),
        ),
    ]
}

/// Whether two paths name the same directory (as given, or once both exist).
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(a), Ok(b)) if a == b
        )
}

/// Minutes east of UTC as `+02:00`.
fn offset_text(minutes: i16) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A `--since`/`--until` bound as JSON (`null` when not given).
fn bound(bound: Option<TimeBound>) -> String {
    bound.map_or("null".into(), |b| json_string(&b.describe()))
}

/// Key-value metadata of the hits table's files: the definitions and the bucket contract,
/// but not the list of inputs, so that the same logs given in another order give the same
/// bytes.
fn hits_metadata(config: &Config, files: &[FileStats], buckets: u64) -> Vec<(String, String)> {
    vec![
        (
            "accesslens.version".into(),
            env!("CARGO_PKG_VERSION").into(),
        ),
        ("accesslens.definitions".into(), definitions(config, files)),
        (
            "accesslens.hits".into(),
            format!(
                "{{\"partitioning\":\"date = UTC date of ts\",\"visitor_buckets\":{buckets},\
             \"visitor_bucket\":\"xxhash64(visitor_key, seed 42) & {}\",\
             \"order\":\"visitor_bucket, visitor_key, ts, visitor_seq\"}}",
                buckets - 1
            ),
        ),
    ]
}

/// Key-value metadata written into every Parquet file.
fn metadata(
    config: &Config,
    files: &[FileStats],
    reports: &Reports,
    continues: &[state::Continued],
) -> Vec<(String, String)> {
    let definitions = definitions(config, files);
    let time_range = time_range(reports.summary.first_ms, reports.summary.last_ms);
    let mut metadata = vec![
        (
            "accesslens.version".into(),
            env!("CARGO_PKG_VERSION").into(),
        ),
        (
            "accesslens.inputs".into(),
            json_strings(files.iter().map(|f| f.file.as_str())),
        ),
        ("accesslens.time_range".into(), time_range),
        ("accesslens.definitions".into(), definitions),
    ];
    if !continues.is_empty() {
        // The sessions these tables count whole began in these earlier logs.
        let runs: Vec<serde_json::Value> = continues
            .iter()
            .map(|c| {
                serde_json::json!({
                    "run": c.run,
                    "inputs": c.inputs.iter().map(|i| &i.file).collect::<Vec<_>>(),
                })
            })
            .collect();
        metadata.push((
            "accesslens.continues".into(),
            serde_json::Value::from(runs).to_string(),
        ));
    }
    metadata
}

/// `accesslens.time_range`: the first and last hit, RFC 3339.
fn time_range(first: Option<i64>, last: Option<i64>) -> String {
    match (first, last) {
        (Some(first), Some(last)) => {
            format!(
                "{{\"first\":{},\"last\":{}}}",
                json_string(&rfc3339(first)),
                json_string(&rfc3339(last))
            )
        }
        _ => "{\"first\":null,\"last\":null}".to_owned(),
    }
}

/// The visitor key in force (`ip+user_agent`, `ip`, `user`, `cookie:NAME`, followed by
/// ` (ip: X-Forwarded-For)` with `--client-ip forwarded-for`) and how its hash is computed.
fn visitor_key_definition(config: &Config) -> (String, &'static str) {
    let (key, hash) = visitor_key_alone(config);
    match config.ingest.client_ip {
        ClientIp::Remote => (key, hash),
        ClientIp::ForwardedFor => (format!("{key} (ip: X-Forwarded-For)"), hash),
    }
}

fn visitor_key_alone(config: &Config) -> (String, &'static str) {
    const IP_UA: &str = "xxh64 seed 42 of ip + ' ' + user_agent";
    match config.ingest.visitor_key {
        VisitorKey::IpUserAgent => ("ip+user_agent".into(), IP_UA),
        VisitorKey::Ip => ("ip".into(), "xxh64 seed 42 of ip"),
        VisitorKey::User => (
            "user".into(),
            "xxh64 seed 42 of the user; of ip + ' ' + user_agent for lines without one",
        ),
        VisitorKey::Cookie => {
            let name = config
                .ingest
                .custom
                .as_ref()
                .and_then(|c| c.visitor_cookie())
                .or(config.ingest.visitor_cookie.as_deref())
                .unwrap_or_default();
            (
                format!("cookie:{name}"),
                "xxh64 seed 42 of the cookie's value; of ip + ' ' + user_agent for lines without it",
            )
        }
    }
}

/// The format named, or the distinct formats detected, sorted (`combined,w3c`): the same
/// whatever the order of the inputs.
fn formats(config: &Config, files: &[FileStats]) -> String {
    if let Some(format) = config.ingest.format {
        return format.name().to_owned();
    }
    let mut names: Vec<&str> = files.iter().map(|f| f.format.name()).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        names.push(crate::parse::Format::default().name());
    }
    names.join(",")
}

/// The definitions in force, as JSON: written into every Parquet file.
fn definitions(config: &Config, files: &[FileStats]) -> String {
    let s = &config.sessions;
    let (visitor_key, visitor_hash) = visitor_key_definition(config);
    let log_format = match &config.ingest.custom {
        Some(custom) => json_string(custom.source()),
        None => "null".to_owned(),
    };
    format!(
        "{{\"format\":{},\"log_format\":{log_format},\"sessions\":{},\"session_timeout_ms\":{},\
         \"visitor_key\":{},\"visitor_hash\":{},\"site_domains\":{},\
         \"beacon_paths\":{},\"site_search_params\":{},\"path_depth\":{},\"path_pages\":{},\
         \"since\":{},\"until\":{},\"text_encoding\":{},\"tz\":{},\"goal_value_param\":{},\
         \"attribution_lookback_ms\":{},\"bots\":\"excluded from every table but robots, status_codes, the summary's all-traffic columns and the hits of traffic_by_hour and traffic_by_day\"}}",
        json_string(&formats(config, files)),
        json_string(s.preset.name()),
        s.timeout_ms,
        json_string(&visitor_key),
        json_string(visitor_hash),
        json_strings(config.enrich.site.as_slice()),
        json_strings(config.enrich.paths.beacon_paths.iter().map(String::as_str)),
        json_strings(config.enrich.site_search.params.iter().map(String::as_str)),
        config.journeys.depth,
        config.journeys.max_pages,
        bound(config.ingest.range.since),
        bound(config.ingest.range.until),
        json_string(config.enrich.legacy.name()),
        config
            .ingest
            .tz
            .map_or("null".into(), |m| json_string(&offset_text(m))),
        config
            .enrich
            .goals
            .value_param
            .as_deref()
            .map_or("null".into(), json_string),
        config.attribution.lookback_ms,
    )
}

/// Stage timings and resident memory on standard error, when `ACCESSLENS_TRACE` is set:
/// the first thing to look at when a run is slow or large.
struct Trace {
    start: Option<Instant>,
    last: std::cell::Cell<Duration>,
}

impl Trace {
    fn from_env(start: Instant) -> Trace {
        let on = std::env::var_os("ACCESSLENS_TRACE").is_some_and(|v| !v.is_empty());
        Trace {
            start: on.then_some(start),
            last: std::cell::Cell::new(Duration::ZERO),
        }
    }

    fn stage(&self, name: &str) {
        let Some(start) = self.start else { return };
        let now = start.elapsed();
        let took = now - self.last.replace(now);
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .map(|l| l[6..].trim().to_owned())
            })
            .unwrap_or_else(|| "?".into());
        eprintln!(
            "trace: {name:<22} {:>8.3} s  (at {:>7.3} s)  rss {rss}",
            took.as_secs_f64(),
            now.as_secs_f64()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_three_inputs_and_count_the_rest() {
        assert_eq!(first_three(&["a.log"], ", "), "a.log");
        assert_eq!(first_three(&["a", "b", "c"], ", "), "a, b, c");
        assert_eq!(
            first_three(&["a: 1", "b: 2", "c: 3", "d: 4", "e: 5"], "; "),
            "a: 1; b: 2; c: 3 and 2 more inputs"
        );
    }
}
