//! Mergeable state (`analyze --state DIR`) and `accesslens merge`: the daily logs of
//! `fixtures/known/days/` analysed one run per file and merged must give the tables that one
//! run over all of them gives; the same state merged twice counts once; states that share
//! only some inputs are refused; a rerun replaces the state of its files. On generated
//! traffic, the merged visitor counts stay within the stated error of the exact ones.
//!
//! The hand-made days (UTC, site `mysite.test`, goal `/checkout/thank-you` with a value):
//!
//! | date | file | sessions |
//! |---|---|---|
//! | 10-10 | `2026-10-10.log` | A google "red shoes" → /, /shop, thank-you 50 (a 404 and an asset between); B direct bounce; C newsletter email → /, /shop (a beacon 390x844, 24 bits); a Googlebot hit |
//! | 10-11 | `2026-10-11.log` | A direct bounce; B from blog.example.org → /shop, thank-you 20; D google "boots" bounce |
//! | 10-11 | `2026-10-11.server2.log` | E bing "shoe care" → /blog, /shop |
//! | 10-12 | `2026-10-12.log` | C newsletter bounce; A google "red shoes" → /, /shop |
//!
//! No session crosses midnight, so per-day runs cut the same sessions as one run.

use std::path::{Path, PathBuf};
use std::process::Output;

use accesslens::synth::SynthOptions;

use crate::util::{
    CHROME_MAC, GENERATED_SITE_ARGS, SHOP_ARGS, analyze, duckdb_rows, fixture, merged_tables, run,
    server_logs,
};

fn day(name: &str) -> PathBuf {
    fixture("known/days").join(name)
}

fn all_days() -> Vec<PathBuf> {
    [
        "2026-10-10.log",
        "2026-10-11.log",
        "2026-10-11.server2.log",
        "2026-10-12.log",
    ]
    .iter()
    .map(|n| day(n))
    .collect()
}

/// `analyze FILES --state STATE` with the shop settings (its reports go to a scratch dir).
fn analyze_state(files: &[PathBuf], state: &Path, extra: &[&str]) {
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = state.with_extension("out");
    let mut args = SHOP_ARGS.to_vec();
    args.extend_from_slice(&["--state", state.to_str().unwrap()]);
    args.extend_from_slice(extra);
    analyze(&inputs, &out, &args);
}

/// `merge STATES --out OUT EXTRA`, as a process.
fn merge_output(states: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["merge"];
    args.extend(states.iter().map(|s| s.to_str().unwrap()));
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    run(&args)
}

/// `merge STATES --out OUT EXTRA`, asserting success; returns standard output.
fn merge(states: &[&Path], out: &Path, extra: &[&str]) -> String {
    let output = merge_output(states, out, extra);
    assert!(
        output.status.success(),
        "merge failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A table's rows in file order, as DuckDB renders them; `visitors` left out when asked.
fn rows(out: &Path, table: &str, with_visitors: bool) -> Vec<Vec<String>> {
    let columns = if with_visitors {
        "*"
    } else {
        "columns(lambda c: c <> 'visitors')"
    };
    duckdb_rows(
        out,
        &format!("select {columns} from '{{out}}/{table}.parquet'"),
    )
}

/// Every merged table of `b` equals `a`'s, row for row and in order.
fn assert_same_tables(a: &Path, b: &Path, with_visitors: bool) {
    assert_tables_equal(a, b, merged_tables(), with_visitors);
}

/// Each of `tables` in `b` equals `a`'s, row for row and in order.
fn assert_tables_equal<'t>(
    a: &Path,
    b: &Path,
    tables: impl IntoIterator<Item = &'t str>,
    with_visitors: bool,
) {
    for table in tables {
        assert_eq!(
            rows(a, table, with_visitors),
            rows(b, table, with_visitors),
            "table {table}: {} and {} differ",
            a.display(),
            b.display()
        );
    }
}

/// One run per daily file into one state directory, merged.
fn daily_state(dir: &Path) -> PathBuf {
    let state = dir.join("state");
    for file in all_days() {
        analyze_state(&[file], &state, &[]);
    }
    state
}

#[test]
fn merging_daily_states_gives_the_tables_of_one_run_over_all_days() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let merged = dir.path().join("merged");
    let said = merge(&[&state], &merged, &[]);
    assert!(
        said.contains("merged 4 partitions (2026-10-10 to 2026-10-12): 9 sessions"),
        "{said}"
    );

    let all = dir.path().join("all");
    let inputs = all_days();
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    analyze(&inputs, &all, &SHOP_ARGS);
    // Small counts: the sketches are exact, so visitors are equal too.
    assert_same_tables(&all, &merged, true);

    // Counted by hand (see the module docs).
    assert_eq!(
        duckdb_rows(
            &merged,
            "select channel, sessions, visitors, page_views, bounces, conversions, value
             from '{out}/channels.parquet'"
        ),
        [
            ["Organic Search", "4", "3", "8", "1", "1", "50.0"],
            ["Direct", "2", "2", "2", "2", "0", "0.0"],
            ["Email", "2", "1", "3", "1", "0", "0.0"],
            ["Referral", "1", "1", "2", "0", "1", "20.0"],
        ]
    );
    // Each visitor's whole history: A came on all three days, B and C on two, D and E once;
    // A converted in its first session (Organic Search), B in its second (Referral), after
    // a Direct bounce.
    assert_eq!(
        duckdb_rows(
            &merged,
            "select visitor_type, sessions from '{out}/visitor_types.parquet'"
        ),
        [["new", "5"], ["returning", "4"]]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select sessions_per_visitor, visitors from '{out}/visit_frequency.parquet'"
        ),
        [
            ["1", "2"],
            ["2", "2"],
            ["3-5", "1"],
            ["6-10", "0"],
            ["11+", "0"]
        ]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select session_number, count(*) from '{out}/sessions.parquet'
             group by all order by all"
        ),
        [["1", "5"], ["2", "3"], ["3", "1"]]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select model, channel, conversions from '{out}/attribution.parquet'
             where model in ('first_click', 'last_click') order by all"
        ),
        [
            ["first_click", "Direct", "1.0"],
            ["first_click", "Organic Search", "1.0"],
            ["last_click", "Organic Search", "1.0"],
            ["last_click", "Referral", "1.0"],
        ]
    );
    // The routes, from each session's page views kept in the state: A's sessions of the 10th
    // and 12th and C's of the 10th went / → /shop, four bounced on /.
    assert_eq!(
        duckdb_rows(
            &merged,
            "select path, steps, sessions, visitors, exits, conversions
             from '{out}/paths.parquet'"
        ),
        [
            ["/", "1", "4", "4", "4", "0"],
            ["/ → /shop", "2", "2", "2", "2", "0"],
            ["/ → /shop → /checkout/thank-you", "3", "1", "1", "1", "1"],
            ["/blog → /shop", "2", "1", "1", "1", "0"],
            ["/shop → /checkout/thank-you", "2", "1", "1", "1", "1"],
        ]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select coalesce(from_page, '(entrance)'), coalesce(to_page, '(exit)'), transitions
             from '{out}/transitions.parquet'"
        ),
        [
            ["(entrance)", "/", "7"],
            ["/", "(exit)", "4"],
            ["/", "/shop", "3"],
            ["/shop", "(exit)", "3"],
            ["/checkout/thank-you", "(exit)", "2"],
            ["/shop", "/checkout/thank-you", "2"],
            ["(entrance)", "/blog", "1"],
            ["(entrance)", "/shop", "1"],
            ["/blog", "/shop", "1"],
        ]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select path, sessions, bounces, round(bounce_rate, 4), round(share, 4)
             from '{out}/entry_pages.parquet'"
        ),
        [
            ["/", "7", "4", "0.5714", "0.7778"],
            ["/blog", "1", "0", "0.0", "0.1111"],
            ["/shop", "1", "0", "0.0", "0.1111"],
        ]
    );
    // The estimate is labelled as such.
    let estimates = duckdb_rows(
        &merged,
        "select value::varchar from parquet_kv_metadata('{out}/channels.parquet')
         where key::varchar = 'accesslens.estimates'",
    );
    assert!(
        estimates[0][0].contains("relative standard error"),
        "{estimates:?}"
    );
    let totals = duckdb_rows(
        &merged,
        "select json_extract(decode(value), '$.sessions')::int,
                json_extract(decode(value), '$.visitors_estimate')::int,
                json_array_length(json_extract(decode(value), '$.partitions'))
         from parquet_kv_metadata('{out}/channels.parquet')
         where key::varchar = 'accesslens.merged'",
    );
    assert_eq!(totals, [["9", "5", "4"]]);
    assert_eq!(merged_median(&merged), summary_median(&all));

    // The tables counted from hits, by hand: 19 lines, one of them Googlebot's; 15 page
    // views; A's 404 on /missing, sent from the site's own /shop (an internal referrer: no
    // channel but Direct); C's beacon.
    assert_eq!(
        duckdb_rows(
            &merged,
            "select lines, hits, bot_hits, human_hits, page_views, visitors,
                    returning_visitors, sessions, beacon_hits, inputs,
                    first_ts::varchar, last_ts::varchar
             from '{out}/summary.parquet'"
        ),
        [[
            "19",
            "19",
            "1",
            "18",
            "15",
            "5",
            "3",
            "9",
            "1",
            "4",
            "2026-10-10 10:00:00+00",
            "2026-10-12 20:01:30+00"
        ]]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select path, status, hits, visitors, top_referrer, top_referrer_internal, top_channel
             from '{out}/errors.parquet'"
        ),
        [[
            "/missing",
            "404",
            "1",
            "1",
            "https://mysite.test/shop",
            "True",
            "Direct"
        ]]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select path, hits, page_views, visitors, entries, exits, bounces
             from '{out}/pages.parquet'"
        ),
        [
            ["/", "7", "7", "4", "7", "4", "4"],
            ["/shop", "5", "5", "4", "1", "3", "0"],
            ["/checkout/thank-you", "2", "2", "2", "0", "2", "0"],
            ["/blog", "1", "1", "1", "1", "0", "0"],
            ["/missing", "1", "0", "0", "0", "0", "0"],
        ]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select date::varchar, hits, bot_hits, page_views, sessions, visitors
             from '{out}/traffic_by_day.parquet'"
        ),
        [
            ["2026-10-10", "10", "1", "6", "3", "3"],
            ["2026-10-11", "6", "0", "6", "4", "4"],
            ["2026-10-12", "3", "0", "3", "2", "2"],
        ]
    );
    // The time range is exact, and says so.
    let range = duckdb_rows(
        &merged,
        "select decode(value) from parquet_kv_metadata('{out}/pages.parquet')
         where key::varchar = 'accesslens.time_range'",
    );
    assert_eq!(
        range,
        [[r#"{"first":"2026-10-10T10:00:00.000Z","last":"2026-10-12T20:01:30.000Z"}"#]]
    );
}

#[test]
fn the_html_report_renders_a_merged_directory() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let merged = dir.path().join("merged");
    merge(&[&state], &merged, &[]);
    let html = dir.path().join("report.html");
    let output = run(&[
        "report",
        merged.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    for (kpi, value) in [("sessions", "9"), ("page_views", "15"), ("visitors", "5")] {
        let at = format!("data-kpi=\"{kpi}\" data-value=\"{value}\"");
        assert!(page.contains(&at), "{at} not in the page");
    }
    // A, B and C came back; the tables of each visitor's history are there.
    assert!(
        page.contains("3 returning"),
        "returning visitors not in the page"
    );
    assert!(!page.contains("No <code>visitors.parquet</code> here"));
    // Tables a merge does not write say so instead of failing the page.
    assert!(page.contains("No <code>inputs.parquet</code> here"));
    // The routes, merged from the page views of each day's sessions.
    assert!(!page.contains("No <code>paths.parquet</code> here"));
    assert!(page.contains("/ → /shop → /checkout/thank-you"));
    // Tables it writes are there: the error page and its referrer.
    assert!(page.contains("/missing") && page.contains("https://mysite.test/shop"));
}

/// `median_session_s` of a merged directory's metadata.
fn merged_median(out: &Path) -> String {
    duckdb_rows(
        out,
        "select json_extract(decode(value), '$.median_session_s')::double
         from parquet_kv_metadata('{out}/channels.parquet')
         where key::varchar = 'accesslens.merged'",
    )[0][0]
        .clone()
}

fn summary_median(out: &Path) -> String {
    duckdb_rows(out, "select median_session_s from '{out}/summary.parquet'")[0][0].clone()
}

#[test]
fn the_state_is_hive_partitioned_by_date_and_run_with_visitor_sketches() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    // Two servers' logs of 10-11 are two runs of that date, kept side by side. The sessions
    // still open at the end of each run are in its open/ (no run continued them).
    assert_eq!(
        duckdb_rows(
            &state,
            "select date::varchar, count(distinct run), sum(sessions), bool_and(octet_length(visitors_hll) > 0)
             from read_parquet(['{out}/*/*/channels.parquet', '{out}/*/*/open/channels.parquet'],
                               hive_partitioning = true)
             group by date order by date"
        ),
        [
            ["2026-10-10", "1", "3", "True"],
            ["2026-10-11", "2", "4", "True"],
            ["2026-10-12", "1", "2", "True"],
        ]
    );
}

#[test]
fn the_same_state_merged_twice_or_copied_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let once = dir.path().join("once");
    merge(&[&state], &once, &[]);
    let twice = dir.path().join("twice");
    merge(&[&state, &state], &twice, &[]);
    assert_same_tables(&once, &twice, true);

    // A copy is another directory with the same inputs: the newest counts, once.
    let copy = dir.path().join("copy");
    analyze_state(&[day("2026-10-10.log")], &copy, &[]);
    let output = merge_output(&[&state, &copy], &dir.path().join("copied"), &[]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("skipped: a newer partition of the same inputs counts"),
        "{stderr}"
    );
    assert_same_tables(&once, &dir.path().join("copied"), true);

    // The same log rotated and compressed (logrotate's `access.log.1` → `access.log.2.gz`)
    // is the same input: its fingerprint is of the decoded log.
    let packed = dir.path().join("access.log.2.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&packed).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut encoder, &std::fs::read(day("2026-10-10.log")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let rotated = dir.path().join("rotated");
    analyze_state(&[packed], &rotated, &[]);
    let output = merge_output(&[&state, &rotated], &dir.path().join("rotated-merged"), &[]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("skipped: a newer partition of the same inputs counts"),
        "{stderr}"
    );
    assert_same_tables(&once, &dir.path().join("rotated-merged"), true);
}

#[test]
fn states_sharing_only_some_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let daily = daily_state(dir.path());
    // One run over two days: its 10-10 partition holds both files, the daily one only one.
    let both = dir.path().join("both");
    analyze_state(&[day("2026-10-10.log"), day("2026-10-11.log")], &both, &[]);
    let out = dir.path().join("merged");
    let output = merge_output(&[&daily, &both], &out, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("2026-10-10")
            && stderr.contains("2026-10-10.log")
            && stderr.contains("twice"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused merge writes nothing");
}

#[test]
fn rerunning_a_day_replaces_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // First 10-11 from one server only, then again with both: the second run replaces the
    // first (they share a file), on every date.
    analyze_state(&[day("2026-10-11.log")], &state, &[]);
    analyze_state(
        &[day("2026-10-11.log"), day("2026-10-11.server2.log")],
        &state,
        &[],
    );
    let runs = std::fs::read_dir(state.join("date=2026-10-11"))
        .unwrap()
        .count();
    assert_eq!(runs, 1);
    let merged = dir.path().join("merged");
    let said = merge(&[&state], &merged, &[]);
    assert!(said.contains("4 sessions"), "{said}");

    // The same files again with other settings: the new settings count.
    analyze_state(
        &[day("2026-10-11.log"), day("2026-10-11.server2.log")],
        &state,
        &["--goal", "blog=/blog"],
    );
    let merged = dir.path().join("merged2");
    merge(&[&state], &merged, &[]);
    assert_eq!(
        duckdb_rows(
            &merged,
            "select goal, conversions from '{out}/goals.parquet'"
        ),
        [["blog", "1"], ["purchase", "1"]]
    );
    // A rerun over fewer files replaces the state of the files it shares, and says what
    // it dropped.
    let output = crate::util::bin()
        .args([
            "analyze",
            day("2026-10-11.log").to_str().unwrap(),
            "-q",
            "--out",
        ])
        .arg(dir.path().join("fewer"))
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("also counted") && stderr.contains("2026-10-11.server2.log"),
        "{stderr}"
    );
    let mut left: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [".accesslens.lock", "date=2026-10-11"],
        "no staging directory is left"
    );
}

#[test]
fn since_and_until_choose_whole_dates() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let merged = dir.path().join("merged");
    merge(
        &[&state],
        &merged,
        &["--since", "2026-10-11", "--until", "2026-10-11"],
    );
    let one_day = dir.path().join("one_day");
    analyze(
        &[&day("2026-10-11.log"), &day("2026-10-11.server2.log")],
        &one_day,
        &SHOP_ARGS,
    );
    assert_same_tables(&one_day, &merged, true);
}

#[test]
fn bad_merge_requests_exit_with_the_documented_codes() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let out = dir.path().join("out");
    let s = state.to_str().unwrap();
    let o = out.to_str().unwrap();
    // A date must be a whole day.
    let output = run(&["merge", s, "--out", o, "--since", "2026-10-11T08:00"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--since"));
    // No partition in range, or none at all.
    let output = run(&["merge", s, "--out", o, "--since", "2027-01-01"]);
    assert_eq!(output.status.code(), Some(1));
    let output = run(&["merge", dir.path().to_str().unwrap(), "--out", o]);
    assert_eq!(output.status.code(), Some(1));
    // A partition records whole files: no state of part of one.
    let log = day("2026-10-10.log");
    let output = run(&[
        "analyze",
        log.to_str().unwrap(),
        "--out",
        o,
        "--state",
        s,
        "--since",
        "2026-10-10T12:00",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not with --state"));
    // Standard input has no fingerprint: no state for it.
    let output = run(&["analyze", "-", "--out", o, "--state", s]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--state"));
}

#[test]
fn merged_visitor_estimates_stay_within_the_stated_error() {
    let dir = tempfile::tempdir().unwrap();
    // About 30 hours of generated traffic (+09:00 clock): three dates, thousands of visitors.
    let opts = SynthOptions {
        lines: 150_000,
        seed: 3,
        ..SynthOptions::default()
    };
    let logs = server_logs(dir.path(), &opts, 1);
    let inputs: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();
    let all = dir.path().join("all");
    let state = dir.path().join("state");
    let site = [
        &GENERATED_SITE_ARGS[..],
        &["--state", state.to_str().unwrap()],
    ]
    .concat();
    analyze(&inputs, &all, &site);
    let dates = std::fs::read_dir(&state).unwrap().count();
    assert!(dates >= 2, "{dates} dates");
    let merged = dir.path().join("merged");
    merge(&[&state], &merged, &[]);
    // Sums are exact, and so are the rates and averages computed from them, and the median
    // of the merged duration histograms.
    assert_same_tables(&all, &merged, false);
    // Thousands of visitors, folded in shares side by side: one thread or three, the
    // same rows, estimates included.
    for threads in ["1", "3"] {
        let again = dir.path().join(format!("merged-j{threads}"));
        merge(&[&state], &again, &["-j", threads]);
        assert_same_tables(&merged, &again, true);
    }
    assert_eq!(merged_median(&merged), summary_median(&all));
    // Visitors counted from every session are exact.
    let exact = ["summary", "visitor_types", "visit_frequency", "retention"];
    assert_tables_equal(&all, &merged, exact, true);

    let mut large = 0;
    // Every table with an estimated visitors column (those of a visitor's history and the
    // summary's count are exact: compared with the other columns above).
    let exact_tables = [
        "entry_pages",
        "exit_pages",
        "summary",
        "visitors",
        "sessions",
        "attribution",
        "retention",
        "visitor_types",
        "visit_frequency",
        "visit_recency",
        "paths",
        "transitions",
    ];
    for table in merged_tables().filter(|t| !exact_tables.contains(t)) {
        let exact = duckdb_rows(
            &all,
            &format!("select visitors from '{{out}}/{table}.parquet'"),
        );
        let estimated = duckdb_rows(
            &merged,
            &format!("select visitors from '{{out}}/{table}.parquet'"),
        );
        for (e, m) in exact.iter().zip(&estimated) {
            let (e, m): (f64, f64) = (e[0].parse().unwrap(), m[0].parse().unwrap());
            if e <= 100.0 {
                assert_eq!(e, m, "table {table}: small counts are exact");
            } else {
                large += 1;
                // 3.3% is two standard errors; allow three.
                assert!(
                    (m - e).abs() / e <= 0.05,
                    "table {table}: {m} visitors estimated, {e} exact"
                );
            }
        }
    }
    assert!(large >= 5, "only {large} rows with more than 100 visitors");
}

#[test]
fn a_rerun_that_fails_to_commit_keeps_the_state_it_would_replace() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    analyze_state(&[day("2026-10-10.log")], &state, &[]);
    let kept = state.join("date=2026-10-10");
    let before: Vec<_> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), 1);
    // A partition the commit cannot read, listed after the one the rerun replaces.
    let broken = state.join("date=2026-10-11/run=broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("_manifest.json"), b"{ not json").unwrap();

    let output = crate::util::bin()
        .args([
            "analyze",
            day("2026-10-10.log").to_str().unwrap(),
            "-q",
            "--out",
        ])
        .arg(dir.path().join("rerun"))
        .arg("--state")
        .arg(&state)
        .args(SHOP_ARGS)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "the broken manifest fails the run"
    );
    let after: Vec<_> = std::fs::read_dir(&kept)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert_eq!(after, before, "the old partition is still there");
    assert!(before[0].join("_manifest.json").is_file());
}

/// Two servers' states of one day add up only if they were counted alike: one run reading
/// conversion values and one not cannot be summed.
#[test]
fn states_counted_with_other_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    analyze_state(&[day("2026-10-11.log")], &first, &[]);
    let second = dir.path().join("second");
    let inputs = [day("2026-10-11.server2.log")];
    let out = second.with_extension("out");
    let args: Vec<&str> = SHOP_ARGS
        .iter()
        .copied()
        .filter(|a| *a != "--goal-value-param" && *a != "value")
        .chain(["--state", second.to_str().unwrap()])
        .collect();
    analyze(&[inputs[0].as_path()], &out, &args);
    let merged = dir.path().join("merged");
    let output = merge_output(&[&first, &second], &merged, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Both values said, in the order the partitions are named.
    let said = |values| stderr.contains(&format!("different goal_value_param ({values})"));
    assert!(
        said("\"value\" and none") || said("none and \"value\""),
        "{stderr}"
    );
    assert!(!merged.exists(), "a refused merge writes nothing");
}

/// Servers' nightly runs started together into one state directory take turns to commit:
/// every run's partitions land whole, and the state merges as if the runs had been one
/// after the other.
#[test]
fn runs_started_together_into_one_state_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let together = dir.path().join("together");
    let children: Vec<_> = all_days()
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let mut args: Vec<String> = vec!["analyze".into(), file.display().to_string()];
            args.extend(SHOP_ARGS.iter().map(|a| a.to_string()));
            args.extend([
                "-q".into(),
                "--out".into(),
                dir.path().join(format!("out{i}")).display().to_string(),
                "--state".into(),
                together.display().to_string(),
            ]);
            crate::util::bin().args(&args).spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let one_by_one = daily_state(dir.path());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    merge(&[&together], &a, &[]);
    merge(&[&one_by_one], &b, &[]);
    assert_same_tables(&a, &b, true);
    assert!(together.join(".accesslens.lock").is_file());
}

/// What a date range takes of a run whose session goes on past midnight: hits by their own
/// date, sessions (and their page views) by the date they started, and what the run read on
/// its first date.
#[test]
fn a_session_past_midnight_counts_its_hits_by_date_and_itself_on_its_first() {
    let dir = tempfile::tempdir().unwrap();
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0";
    let line = |ip: &str, time: &str, path: &str, status: u16| {
        format!("{ip} - - [{time} +0000] \"GET {path} HTTP/1.1\" {status} 100 \"-\" \"{ua}\"\n")
    };
    // X: /, a stylesheet, then /shop and a 404 after midnight, one session; Y: / on the 11th.
    let log = dir.path().join("access.log");
    let text = [
        line("203.0.113.1", "10/Oct/2026:23:50:00", "/", 200),
        line("203.0.113.1", "10/Oct/2026:23:55:00", "/style.css", 200),
        line("203.0.113.1", "11/Oct/2026:00:05:00", "/shop", 200),
        line("203.0.113.1", "11/Oct/2026:00:06:00", "/missing", 404),
        line("203.0.113.2", "11/Oct/2026:10:00:00", "/", 200),
    ]
    .concat();
    std::fs::write(&log, text).unwrap();
    let state = dir.path().join("state");
    let all = dir.path().join("all");
    analyze(
        &[&log],
        &all,
        &[&SHOP_ARGS[..], &["--state", state.to_str().unwrap()]].concat(),
    );
    let merged = dir.path().join("merged");
    merge(&[&state], &merged, &[]);
    assert_same_tables(&all, &merged, true);

    let summary = |out: &Path| {
        duckdb_rows(
            out,
            "select lines, hits, sessions, page_views, first_ts::varchar
             from '{out}/summary.parquet'",
        )
    };
    let page_views = |out: &Path| {
        duckdb_rows(
            out,
            "select path, hits, page_views, entries, exits from '{out}/pages.parquet'",
        )
    };
    let days = |out: &Path| {
        duckdb_rows(
            out,
            "select date::varchar, hits, page_views, sessions from '{out}/traffic_by_day.parquet'",
        )
    };
    let first = dir.path().join("first");
    merge(&[&state], &first, &["--until", "2026-10-10"]);
    // The 10th: its two hits, X's session with both its page views, the run's five lines.
    assert_eq!(
        summary(&first),
        [["5", "2", "1", "2", "2026-10-10 23:50:00+00"]]
    );
    assert_eq!(
        page_views(&first),
        [["/", "1", "1", "1", "0"], ["/shop", "0", "1", "0", "1"]]
    );
    assert_eq!(days(&first), [["2026-10-10", "2", "1", "1"]]);
    let second = dir.path().join("second");
    merge(&[&state], &second, &["--since", "2026-10-11"]);
    // The 11th: three hits, Y's session; no lines (the run began on the 10th).
    assert_eq!(
        summary(&second),
        [["0", "3", "1", "1", "2026-10-11 00:05:00+00"]]
    );
    assert_eq!(
        page_views(&second),
        [
            ["/", "1", "1", "1", "1"],
            ["/missing", "1", "0", "0", "0"],
            ["/shop", "1", "0", "0", "0"]
        ]
    );
    assert_eq!(days(&second), [["2026-10-11", "3", "2", "1"]]);
    assert_eq!(
        duckdb_rows(
            &second,
            "select path, status, hits from '{out}/errors.parquet'"
        ),
        [["/missing", "404", "1"]]
    );
}

/// A partition of an older layout (written before the tables counted from hits) is refused
/// by name, with what to do; a new run over its input replaces it.
#[test]
fn states_of_an_older_layout_are_refused_until_analyzed_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let log = day("2026-10-10.log");
    analyze_state(std::slice::from_ref(&log), &state, &[]);
    let manifests = manifests(&state);
    assert!(!manifests.is_empty());
    for m in &manifests {
        set_layout(m, 2);
    }
    let merged = dir.path().join("merged");
    let output = merge_output(&[&state], &merged, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let partition = manifests[0].parent().unwrap().display().to_string();
    assert!(stderr.contains(&partition), "{stderr}");
    assert!(
        stderr.contains("state layout 2")
            && stderr.contains("analyze --state")
            && stderr.contains("2026-10-10.log"),
        "{stderr}"
    );
    assert!(!merged.exists(), "a refused merge writes nothing");
    // Analyzing the file again replaces its old partitions.
    analyze_state(&[log], &state, &[]);
    merge(&[&state], &merged, &[]);
    for m in self::manifests(&state) {
        let text = std::fs::read_to_string(m).unwrap();
        assert!(text.contains("\"accesslens_state\": 6"), "{text}");
    }
}

/// Rewrites a manifest of this version's layout (6) as one of an older layout.
fn set_layout(manifest: &Path, layout: u32) {
    let text = std::fs::read_to_string(manifest).unwrap();
    let current = "\"accesslens_state\": 6";
    assert!(text.contains(current), "{text}");
    let older = format!("\"accesslens_state\": {layout}");
    std::fs::write(manifest, text.replace(current, &older)).unwrap();
}

/// A partition of layout 3 (before `visits`) merges, without the tables of a visitor's
/// whole history, and says so.
#[test]
fn states_without_visits_merge_without_the_visitor_history() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    for m in manifests(&state) {
        set_layout(&m, 3);
        let partition = m.parent().unwrap();
        std::fs::remove_file(partition.join("visits.parquet")).unwrap();
        std::fs::remove_file(partition.join("visitor_hits.parquet")).unwrap();
    }
    let merged = dir.path().join("merged");
    let output = merge_output(&[&state], &merged, &[]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("without visits") && stderr.contains("analyze --state"),
        "{stderr}"
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("9 sessions, about 5 visitors (estimated)"),
        "{said}"
    );
    assert!(merged.join("channels.parquet").is_file());
    for table in ["visitors", "sessions", "attribution", "retention"] {
        assert!(!merged.join(format!("{table}.parquet")).exists(), "{table}");
    }
    assert_eq!(
        duckdb_rows(
            &merged,
            "select visitors, returning_visitors is null from '{out}/summary.parquet'"
        ),
        [["5", "True"]]
    );
}

/// `paths` and `transitions` are computed at merge from each session's page views: their
/// depth and the pages they name are chosen for the period (the most viewed over all its
/// dates), as one run over all the logs with the same settings chooses them.
#[test]
fn merged_paths_name_the_most_viewed_pages_of_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let merged = dir.path().join("merged");
    let settings = ["--path-pages", "1", "--path-depth", "2"];
    merge(&[&state], &merged, &settings);
    let all = dir.path().join("all");
    let inputs = all_days();
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    analyze(&inputs, &all, &[&SHOP_ARGS[..], &settings].concat());
    assert_tables_equal(&all, &merged, ["paths", "transitions"], true);
    // Only / is named (7 page views; /shop has 5). A went / → /shop twice: one visitor.
    assert_eq!(
        duckdb_rows(
            &merged,
            "select path, sessions, visitors, exits, conversions from '{out}/paths.parquet'"
        ),
        [
            ["/", "4", "4", "4", "0"],
            ["/ → (other)", "3", "2", "2", "1"],
            ["(other) → (other)", "2", "2", "2", "1"],
        ]
    );

    // Partitions analyzed with other settings: merge must be told which to use.
    let mixed = dir.path().join("mixed");
    let days = all_days();
    analyze_state(&days[..1], &mixed, &["--path-pages", "1"]);
    analyze_state(&days[1..], &mixed, &[]);
    let out = dir.path().join("mixed-out");
    let output = merge_output(&[&mixed], &out, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("path_pages") && stderr.contains("--path-pages"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused merge writes nothing");
    merge(&[&mixed], &out, &["--path-pages", "1000"]);
    let default = dir.path().join("default");
    merge(&[&state], &default, &[]);
    assert_tables_equal(&default, &out, ["paths", "transitions"], true);
}

/// A partition of layout 4 (visits without their page views) merges with the visitor
/// history but without `paths` and `transitions`, and says so.
#[test]
fn states_without_page_views_merge_without_paths() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    set_layout(&manifests(&state)[0], 4);
    let merged = dir.path().join("merged");
    let output = merge_output(&[&state], &merged, &[]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lack their page views") && stderr.contains("analyze --state"),
        "{stderr}"
    );
    for table in ["paths", "transitions"] {
        assert!(!merged.join(format!("{table}.parquet")).exists(), "{table}");
    }
    assert!(merged.join("visitors.parquet").is_file());
}

/// The manifests of a state directory's partitions.
fn manifests(state: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for date in std::fs::read_dir(state).unwrap() {
        let date = date.unwrap().path();
        if !date.is_dir() {
            continue;
        }
        for run in std::fs::read_dir(&date).unwrap() {
            let manifest = run.unwrap().path().join("_manifest.json");
            if manifest.is_file() {
                found.push(manifest);
            }
        }
    }
    found.sort();
    found
}

/// `merge --no-history` reads no session: the counted tables are those of a full merge, the
/// seven of a visitor's history are not written, and the summary says its visitors are
/// estimated and its returning visitors unknown.
#[test]
fn a_merge_without_the_history_writes_the_counted_tables_alone() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let full = dir.path().join("full");
    merge(&[&state], &full, &[]);
    let counted = dir.path().join("counted");
    let said = merge(&[&state], &counted, &["--no-history"]);
    assert!(
        said.contains("9 sessions, about 5 visitors (estimated)"),
        "{said}"
    );
    for table in crate::util::HISTORY_TABLES {
        assert!(
            !counted.join(format!("{table}.parquet")).exists(),
            "{table}"
        );
    }
    // The user-agent tables' hits are summed from each date's own counts, as in a state
    // without visits: here, where every visitor has a page view on each date it is seen,
    // they are the same.
    let counted_tables = crate::util::COUNTED_TABLES.into_iter();
    assert_tables_equal(
        &full,
        &counted,
        counted_tables.filter(|&t| t != "summary"),
        true,
    );
    assert_eq!(
        duckdb_rows(
            &counted,
            "select sessions, visitors, returning_visitors is null from '{out}/summary.parquet'"
        ),
        [["9", "5", "True"]]
    );
    let estimates = duckdb_rows(
        &counted,
        "select value::varchar from parquet_kv_metadata('{out}/summary.parquet')
         where key::varchar = 'accesslens.estimates'",
    );
    assert!(estimates[0][0].contains("--no-history"), "{estimates:?}");
}

/// A merge whose visitor history would take more memory than it may stops before reading
/// a session, says how much it would need and what to do, and writes nothing; without the
/// history it goes through.
#[test]
fn a_history_larger_than_the_memory_allowed_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = daily_state(dir.path());
    let merged = dir.path().join("merged");
    let args = |extra: &[&str]| merge_output(&[&state], &merged, extra);
    let refused = args(&["--max-memory", "1K"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("visitor history of 9 sessions") && stderr.contains("--no-history"),
        "{stderr}"
    );
    assert!(!merged.exists(), "a refused merge writes nothing");
    assert!(
        args(&["--max-memory", "1K", "--no-history"])
            .status
            .success()
    );
    assert!(merged.join("channels.parquet").is_file());
    assert!(args(&["--max-memory", "64M"]).status.success());
    assert!(merged.join("sessions.parquet").is_file());
    let bad = args(&["--max-memory", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A visitor known by its cookie reaches two servers from two addresses. Merged, it is
/// described by its earliest hit, as one run over both logs describes it, even though the
/// server that saw that hit wrote its state first.
#[test]
fn a_merged_visitor_is_described_by_its_earliest_hit() {
    let dir = tempfile::tempdir().unwrap();
    let format = r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %{sid}C"#;
    let line = |ip: &str, time: &str, path: &str| {
        format!(
            r#"{ip} - - [10/Oct/2026:{time} +0000] "GET {path} HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)" A"#
        ) + "\n"
    };
    let early = crate::util::write_file(
        dir.path(),
        "web2.log",
        line("203.0.113.9", "13:55:00", "/").as_bytes(),
    );
    let late = crate::util::write_file(
        dir.path(),
        "web1.log",
        line("198.51.100.1", "14:00:00", "/shop").as_bytes(),
    );
    let settings = ["--log-format", format, "--visitor-key", "cookie:sid"];
    let state = dir.path().join("state");
    for log in [&early, &late] {
        let out = dir.path().join(log.file_stem().unwrap());
        let args = [&settings[..], &["--state", state.to_str().unwrap()]].concat();
        analyze(&[log.as_path()], &out, &args);
    }
    let merged = dir.path().join("merged");
    merge(&[&state], &merged, &[]);
    let all = dir.path().join("all");
    analyze(&[late.as_path(), early.as_path()], &all, &settings);
    let who = "select ip, user_agent, hits from '{out}/visitors.parquet'";
    assert_eq!(
        duckdb_rows(&merged, who),
        [["203.0.113.9", "Mozilla/5.0 (X11; Linux x86_64)", "2"]]
    );
    assert_eq!(duckdb_rows(&merged, who), duckdb_rows(&all, who));
}

/// A fleet's servers each keep a state directory of their own: merged in either order, with
/// one thread or several, the tables are the same, row for row, estimates included.
#[test]
fn states_merge_to_the_same_tables_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        lines: 30_000,
        seed: 5,
        ..SynthOptions::default()
    };
    let logs = server_logs(dir.path(), &opts, 3);
    let states: Vec<PathBuf> = logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let state = dir.path().join(format!("state-{i}"));
            let out = dir.path().join(format!("out-{i}"));
            let site = [
                &GENERATED_SITE_ARGS[..],
                &["--state", state.to_str().unwrap()],
            ]
            .concat();
            analyze(&[log.as_path()], &out, &site);
            state
        })
        .collect();
    let [a, b, c] = [&states[0], &states[1], &states[2]].map(PathBuf::as_path);
    let forward = dir.path().join("forward");
    let said = merge(&[a, b, c], &forward, &[]);
    assert!(said.contains("sessions"), "{said}");
    for (name, order, extra) in [
        ("backward", [c, b, a], &["-j", "1"][..]),
        ("shuffled", [b, c, a], &["-j", "3"][..]),
    ] {
        let again = dir.path().join(name);
        merge(&order, &again, extra);
        assert_same_tables(&forward, &again, true);
    }
}

/// Pages' response times add up across daily partitions as one run counts them; a
/// partition of layout 5 (before them) merges as one without response times.
#[test]
fn merged_pages_keep_response_times_and_older_partitions_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let hit = |agent: &str, day: u32, second: u32, path: &str, taken: &str| {
        format!(
            "10.0.0.1 - - [{day}/Oct/2026:10:00:{second:02} +0000] \"GET {path} HTTP/1.1\" 200 5 \"-\" \"{agent}\" {taken} -\n"
        )
    };
    let line = |day, second, path, taken| hit(CHROME_MAC, day, second, path, taken);
    // A bot's hit and an asset's are not the pages'.
    let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let first = crate::util::write_file(
        dir.path(),
        "10.log",
        [
            line(10, 0, "/a", "0.010"),
            line(10, 1, "/a", "0.030"),
            line(10, 2, "/app.css", "1.000"),
            hit(bot, 10, 3, "/a", "9.000"),
        ]
        .concat()
        .as_bytes(),
    );
    let second = crate::util::write_file(
        dir.path(),
        "11.log",
        [line(11, 0, "/a", "0.200"), line(11, 1, "/b", "0.005")]
            .concat()
            .as_bytes(),
    );
    let nginx = ["--format", "nginx"];
    let one = dir.path().join("one");
    analyze(&[&first, &second], &one, &[&SHOP_ARGS[..], &nginx].concat());
    let state = dir.path().join("state");
    for file in [&first, &second] {
        analyze_state(std::slice::from_ref(file), &state, &nginx);
    }
    let merged = dir.path().join("merged");
    let output = merge_output(&[&state], &merged, &[]);
    let said = "a state written before pages kept response times";
    assert!(output.status.success() && !String::from_utf8_lossy(&output.stderr).contains(said));
    let query = "select path, hits, round(avg_response_ms, 3), max_response_ms \
                 from '{out}/pages.parquet' order by path";
    let want = [["/a", "3", "80.0", "200.0"], ["/b", "1", "5.0", "5.0"]];
    let want = want.map(|r| r.map(str::to_owned).to_vec()).to_vec();
    assert_eq!(duckdb_rows(&one, query), want, "one run");
    assert_eq!(duckdb_rows(&merged, query), want, "merged");

    // The first day's partition as layout 5 wrote it: no response columns in `pages`.
    let manifest = manifests(&state)
        .into_iter()
        .find(|m| m.to_string_lossy().contains("2026-10-10"))
        .unwrap();
    set_layout(&manifest, 5);
    crate::util::drop_columns(
        &manifest.with_file_name("pages.parquet"),
        &["response_hits", "response_us", "max_response_us"],
    );
    let older = dir.path().join("older");
    let output = merge_output(&[&state], &older, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The older partition is named, and its times are left out.
    let named = manifest.parent().unwrap().display().to_string();
    assert!(
        stderr.contains(&format!("accesslens: {named}: {said}")),
        "{stderr}"
    );
    assert_eq!(
        duckdb_rows(&older, query),
        [["/a", "3", "200.0", "200.0"], ["/b", "1", "5.0", "5.0"]]
    );
}
