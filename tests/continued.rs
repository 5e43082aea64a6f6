//! Sessions across daily runs (`analyze --state --continue-from`): a visit that crosses
//! midnight from one day's log into the next is one session, counted on the date it
//! started, as one run over both logs counts it.
//!
//! The hand-made days (UTC, millisecond times, site `mysite.test`, goal
//! `/checkout/thank-you` with a value; the session timeout is 30 minutes):
//!
//! | visitor | 10-10 (`day1.log`) | 10-11 (`day2.log`) | one run over both |
//! |---|---|---|---|
//! | A | google "red shoes" → / 23:40, /shop 23:50 | thank-you (value 30) 00:20:00.000, exactly 30 minutes later | one session of 10-10: 3 page views, 40 minutes, converted |
//! | B | direct / 23:45, /shop 23:50 | /blog 00:20:00.001, 1 ms past the timeout | two sessions, one each day |
//! | C | newsletter email → / 23:59:59.999 | a beacon 390x844 00:00:00.500, /shop 00:29:59.998, 1 ms within | one session of 10-10: 2 page views, Email, 390x844 |
//! | D | direct / 22:00 (over long before midnight) | | one session |
//! | E | blog.example.org → /blog 23:35 (open at the end of the day) | | one session, never continued |
//! | F | | direct / 08:00 | one session of 10-11 |
//!
//! So 7 sessions in all (5 of 10-10, 2 of 10-11); per-day runs without `--continue-from`
//! count 9 (A and C cut in two).

use std::path::{Path, PathBuf};

use accesslens::synth::SynthOptions;

use crate::util::{
    GENERATED_SITE_ARGS, SHOP_ARGS, analyze, duckdb_rows, merged_tables, run, server_logs,
};

/// The hand-made logs' format: times in milliseconds since 1970.
const FORMAT: &str = r#"%h %l %u %{msec}t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0";
const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1";

/// 2026-10-10T00:00:00Z, in ms.
const OCT_10: i64 = 1_791_590_400_000;
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;

/// A log line at `ms`.
fn line(ip: &str, ms: i64, path: &str, referrer: &str, agent: &str) -> String {
    format!("{ip} - - {ms} \"GET {path} HTTP/1.1\" 200 100 \"{referrer}\" \"{agent}\"\n")
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.concat()).unwrap();
    path
}

/// The two days of the module docs.
fn days(dir: &Path) -> (PathBuf, PathBuf) {
    let (d1, d2) = (OCT_10, OCT_10 + DAY);
    let (a, b, c) = ("198.51.100.1", "198.51.100.2", "198.51.100.3");
    let day1 = [
        line("198.51.100.4", d1 + 22 * HOUR, "/", "-", CHROME),
        line(
            "198.51.100.5",
            d1 + 23 * HOUR + 35 * MIN,
            "/blog",
            "https://blog.example.org/post",
            FIREFOX,
        ),
        line(
            a,
            d1 + 23 * HOUR + 40 * MIN,
            "/",
            "https://www.google.com/search?q=red+shoes",
            FIREFOX,
        ),
        line(b, d1 + 23 * HOUR + 45 * MIN, "/", "-", CHROME),
        line(
            a,
            d1 + 23 * HOUR + 50 * MIN,
            "/shop",
            "https://mysite.test/",
            FIREFOX,
        ),
        line(
            b,
            d1 + 23 * HOUR + 50 * MIN,
            "/shop",
            "https://mysite.test/",
            CHROME,
        ),
        line(
            c,
            d2 - 1,
            "/?utm_source=newsletter&utm_medium=email&utm_campaign=oct",
            "-",
            IPHONE,
        ),
    ];
    let day2 = [
        line(c, d2 + 500, "/collect?res=390x844&cd=24", "-", IPHONE),
        line(b, d2 + 20 * MIN + 1, "/blog", "-", CHROME),
        line(
            a,
            d2 + 20 * MIN,
            "/checkout/thank-you?order=1&value=30",
            "https://mysite.test/shop",
            FIREFOX,
        ),
        line(
            c,
            d2 + 30 * MIN - 2,
            "/shop",
            "https://mysite.test/",
            IPHONE,
        ),
        line("198.51.100.6", d2 + 8 * HOUR, "/", "-", FIREFOX),
    ];
    (write(dir, "day1.log", &day1), write(dir, "day2.log", &day2))
}

/// The shop settings and the millisecond format.
fn settings() -> Vec<&'static str> {
    [&SHOP_ARGS[..], &["--log-format", FORMAT]].concat()
}

/// `analyze FILES --out OUT --state STATE EXTRA` with the shop settings; returns stderr.
fn analyze_state(files: &[&Path], out: &Path, state: &Path, extra: &[&str]) -> String {
    let mut args = settings();
    args.extend_from_slice(&["--state", state.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let output = analyze(files, out, &args);
    String::from_utf8(output.stderr).unwrap()
}

/// `merge STATES --out OUT`, asserting success; returns standard output.
fn merge(states: &[&Path], out: &Path) -> String {
    let mut args = vec!["merge"];
    args.extend(states.iter().map(|s| s.to_str().unwrap()));
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let output = run(&args);
    assert!(
        output.status.success(),
        "merge failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A table's rows, but the columns `apart`.
fn rows(out: &Path, table: &str, apart: &[&str]) -> Vec<Vec<String>> {
    let apart: Vec<String> = ["''"]
        .into_iter()
        .map(str::to_owned)
        .chain(apart.iter().map(|c| format!("'{c}'")))
        .collect();
    duckdb_rows(
        out,
        &format!(
            "select columns(lambda c: c not in ({})) from '{{out}}/{table}.parquet'",
            apart.join(", ")
        ),
    )
}

fn assert_same_tables(a: &Path, b: &Path, with_visitors: bool) {
    let apart: &[&str] = if with_visitors { &[] } else { &["visitors"] };
    assert_same_tables_but(a, b, apart, &[]);
}

/// Every merged table of `b` equals `a`'s, but the columns `apart` of every table and the
/// columns `table_apart` of those tables.
fn assert_same_tables_but(a: &Path, b: &Path, apart: &[&str], table_apart: &[(&str, &str)]) {
    for table in merged_tables() {
        let mut columns = apart.to_vec();
        columns.extend(
            table_apart
                .iter()
                .filter(|(t, _)| *t == table)
                .map(|(_, c)| c),
        );
        assert_eq!(
            rows(a, table, &columns),
            rows(b, table, &columns),
            "table {table}: {} and {} differ",
            a.display(),
            b.display()
        );
    }
}

/// Sessions of a merged directory (from its metadata).
fn merged_sessions(out: &Path) -> String {
    duckdb_rows(
        out,
        "select json_extract(decode(value), '$.sessions')::int
         from parquet_kv_metadata('{out}/channels.parquet')
         where key::varchar = 'accesslens.merged'",
    )[0][0]
        .clone()
}

/// Day 1 with `--state`, then day 2 with `--state --continue-from` the same directory (as a
/// nightly job does); returns the state directory.
fn continued_state(dir: &Path, day1: &Path, day2: &Path) -> PathBuf {
    let state = dir.join("state");
    analyze_state(&[day1], &dir.join("out1"), &state, &[]);
    let s = state.to_str().unwrap();
    analyze_state(&[day2], &dir.join("out2"), &state, &["--continue-from", s]);
    state
}

#[test]
fn a_visit_across_midnight_is_one_session_when_the_next_day_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, day2) = days(dir.path());
    let state = dir.path().join("state");
    analyze_state(&[&day1], &dir.path().join("out1"), &state, &[]);
    // Day 1 keeps its open sessions (A, B, C, E: last page view within 30 minutes of its
    // last hit, 23:59:59.999) apart, with their hits.
    let open = duckdb_rows(
        &state,
        "select count(*), count(distinct visitor) from '{out}/*/*/open/open_hits.parquet'",
    );
    assert_eq!(open, [["6", "4"]]);
    assert_eq!(
        duckdb_rows(
            &state,
            "select sum(sessions) from '{out}/*/*/open/totals.parquet'
             union all select sum(sessions) from '{out}/*/*/totals.parquet'"
        ),
        [["4"], ["1"]]
    );
    // The open sessions' page views are apart too, in every table that counts them; the
    // hits (all 7 page views) are counted once, in the partition itself.
    for table in ["traffic_by_hour", "pages"] {
        assert_eq!(
            duckdb_rows(
                &state,
                &format!(
                    "select sum(hits), sum(page_views) from '{{out}}/*/*/open/{table}.parquet'
                     union all
                     select sum(hits), sum(page_views) from '{{out}}/*/*/{table}.parquet'"
                )
            ),
            [["0", "6"], ["7", "1"]],
            "{table}"
        );
    }
    assert_eq!(
        duckdb_rows(
            &state,
            "select lines, hits, human_hits from '{out}/*/*/open/summary.parquet'
             union all select lines, hits, human_hits from '{out}/*/*/summary.parquet'"
        ),
        [["0", "0", "0"], ["7", "7", "7"]]
    );
    // Tables counted from hits alone have no open part.
    let open_dir = std::fs::read_dir(state.join("date=2026-10-10"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("open");
    for table in [
        "errors",
        "error_referrers",
        "error_channels",
        "status_codes",
        "robots",
    ] {
        assert!(
            !open_dir.join(format!("{table}.parquet")).exists(),
            "{table}"
        );
    }
    assert!(open_dir.join("totals.parquet").is_file());

    let s = state.to_str().unwrap();
    let out2 = dir.path().join("out2");
    let said = analyze_state(
        &[&day2],
        &out2,
        &state,
        &["--continue-from", s, "--emit", "hits"],
    );
    assert!(said.is_empty(), "-q: nothing said: {said}");
    let merged = dir.path().join("merged");
    let printed = merge(&[&state], &merged);
    assert!(
        printed.contains("merged 3 partitions (2026-10-10 to 2026-10-11): 7 sessions"),
        "{printed}"
    );

    // The same tables as one run over both files, visitors included (small counts are
    // exact).
    let all = dir.path().join("all");
    analyze(&[&day1, &day2], &all, &settings());
    assert_same_tables(&all, &merged, true);
    assert_eq!(merged_sessions(&merged), "7");

    // The README's DuckDB query over the state applies the same rule.
    let by_sql = duckdb_rows(
        &state,
        "with continued as (
           select date, unnest(continues).run as run
           from read_json('{out}/*/*/_manifest.json',
                          columns = {date: 'DATE', continues: 'STRUCT(run VARCHAR)[]'})),
         closed as (
           select date, run, channel, sessions
           from read_parquet('{out}/*/*/channels.parquet', hive_partitioning = true)),
         open as (
           select date, run, channel, sessions
           from read_parquet('{out}/*/*/open/channels.parquet', hive_partitioning = true) o
           where not exists (select 1 from continued c where c.date = o.date and c.run = o.run))
         select channel, sum(sessions)::bigint from (from closed union all from open)
         group by all order by all",
    );
    assert_eq!(
        by_sql,
        duckdb_rows(
            &merged,
            "select channel, sessions from '{out}/channels.parquet' order by channel"
        )
    );

    // Counted by hand: A is one Organic Search session (3 page views, 40 minutes, the
    // conversion), C one Email session whose beacon came after midnight, B two Direct ones.
    assert_eq!(
        duckdb_rows(
            &merged,
            "select channel, sessions, page_views, bounces, round(avg_session_s, 3),
                    conversions, value
             from '{out}/channels.parquet'"
        ),
        [
            ["Direct", "4", "5", "3", "75.0", "0", "0.0"],
            ["Email", "1", "2", "0", "1799.999", "0", "0.0"],
            ["Organic Search", "1", "3", "0", "2400.0", "1", "30.0"],
            ["Referral", "1", "1", "1", "0.0", "0", "0.0"],
        ]
    );
    assert_eq!(
        duckdb_rows(
            &merged,
            "select resolution, device, sessions from '{out}/resolutions.parquet'
             where resolution is not null"
        ),
        [["390x844", "smartphone", "1"]]
    );

    // Day 2's own report shows the sessions it continued whole (A and C, started on 10-10),
    // not E (which it took over but did not continue); its hits are its own five.
    assert_eq!(
        duckdb_rows(
            &out2,
            "select hits, human_hits, page_views, sessions, conversions from '{out}/summary.parquet'"
        ),
        [["5", "5", "7", "4", "1"]]
    );
    assert_eq!(
        duckdb_rows(
            &out2,
            "select strftime(start, '%d %H:%M:%S.%g'), entry_page, exit_page, page_views,
                    channel, round(duration_s, 3)
             from '{out}/sessions.parquet' order by start"
        ),
        [
            [
                "10 23:40:00.000",
                "/",
                "/checkout/thank-you",
                "3",
                "Organic Search",
                "2400.0"
            ],
            ["10 23:59:59.999", "/", "/shop", "2", "Email", "1799.999"],
            ["11 00:20:00.001", "/blog", "/blog", "1", "Direct", "0.0"],
            ["11 08:00:00.000", "/", "/", "1", "Direct", "0.0"],
        ]
    );
    assert_eq!(
        duckdb_rows(&out2, "select count(*) from '{out}/hits/*/*.parquet'"),
        [["5"]],
        "the hits table holds the run's own hits"
    );
    let continues = duckdb_rows(
        &out2,
        "select value::varchar from parquet_kv_metadata('{out}/summary.parquet')
         where key::varchar = 'accesslens.continues'",
    );
    assert!(continues[0][0].contains("day1.log"), "{continues:?}");

    // Day 2 wrote the sessions it continued into 10-10, beside day 1's partition, whose
    // open sessions merge then left out.
    let runs = duckdb_rows(
        &state,
        "select count(distinct run) from read_parquet('{out}/date=2026-10-10/*/channels.parquet',
                hive_partitioning = true)",
    );
    assert_eq!(runs, [["2"]]);
    let open = duckdb_rows(
        &merged,
        "select json_extract_string(decode(value), '$.partitions[*].open')::varchar
         from parquet_kv_metadata('{out}/channels.parquet')
         where key::varchar = 'accesslens.merged'",
    );
    assert!(open[0][0].contains("continued"), "{open:?}");
}

#[test]
fn without_the_next_day_the_open_sessions_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, _) = days(dir.path());
    let state = dir.path().join("state");
    analyze_state(&[&day1], &dir.path().join("out1"), &state, &[]);
    let merged = dir.path().join("merged");
    merge(&[&state], &merged);
    let alone = dir.path().join("alone");
    analyze(&[&day1], &alone, &settings());
    assert_same_tables(&alone, &merged, true);
    assert_eq!(merged_sessions(&merged), "5");
}

#[test]
fn running_day_two_again_counts_what_it_continued_once() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, day2) = days(dir.path());
    let state = continued_state(dir.path(), &day1, &day2);
    let once = dir.path().join("once");
    merge(&[&state], &once);

    // Again, the same way: it replaces its partitions, the one of 10-10 included.
    let s = state.to_str().unwrap();
    let out = dir.path().join("again");
    analyze_state(&[&day2], &out, &state, &["--continue-from", s]);
    let again = dir.path().join("merged-again");
    merge(&[&state], &again);
    assert_same_tables(&once, &again, true);
    assert_eq!(merged_sessions(&again), "7");
    let runs = std::fs::read_dir(state.join("date=2026-10-10"))
        .unwrap()
        .count();
    assert_eq!(runs, 2, "day 1's run and day 2's");

    // Without --continue-from, day 2 no longer continues day 1: the visits are cut at
    // midnight (9 sessions), each counted once.
    analyze_state(&[&day2], &out, &state, &[]);
    let cut = dir.path().join("cut");
    merge(&[&state], &cut);
    assert_eq!(merged_sessions(&cut), "9");
    let runs = std::fs::read_dir(state.join("date=2026-10-10"))
        .unwrap()
        .count();
    assert_eq!(runs, 1, "day 2 no longer writes into 10-10");
}

/// A beacon belongs to the session it follows within the timeout, else to the next one if
/// that starts within the timeout: the beacons a later run needs are carried, the others not.
#[test]
fn beacons_go_with_the_open_session_they_belong_to() {
    let dir = tempfile::tempdir().unwrap();
    let (d1, d2) = (OCT_10, OCT_10 + DAY);
    let g = "198.51.100.9";
    let beacon =
        |ms: i64, res: &str| line(g, ms, &format!("/collect?res={res}&cd=24"), "-", IPHONE);
    // A session at 23:00 (closed at the end of the day), its beacon at 23:20; a beacon at
    // 23:40, 40 minutes after it, that belongs to the session starting 23:45 (open), which
    // goes on after midnight.
    let day1 = write(
        dir.path(),
        "g1.log",
        &[
            line(g, d1 + 23 * HOUR, "/", "-", IPHONE),
            beacon(d1 + 23 * HOUR + 20 * MIN, "1280x720"),
            beacon(d1 + 23 * HOUR + 40 * MIN, "390x844"),
            line(g, d1 + 23 * HOUR + 45 * MIN, "/", "-", IPHONE),
            line("198.51.100.10", d2 - 1000, "/", "-", FIREFOX),
        ],
    );
    let day2 = write(
        dir.path(),
        "g2.log",
        &[line(
            g,
            d2 + 10 * MIN,
            "/shop",
            "https://mysite.test/",
            IPHONE,
        )],
    );
    let state = continued_state(dir.path(), &day1, &day2);
    let merged = dir.path().join("merged");
    merge(&[&state], &merged);
    let all = dir.path().join("all");
    analyze(&[&day1, &day2], &all, &settings());
    assert_same_tables(&all, &merged, true);
    assert_eq!(
        duckdb_rows(
            &merged,
            "select resolution, sessions, page_views from '{out}/resolutions.parquet'
             where device = 'smartphone' order by resolution"
        ),
        [["1280x720", "1", "1"], ["390x844", "1", "2"]]
    );
}

#[test]
fn a_state_given_twice_is_continued_once() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, day2) = days(dir.path());
    let state = dir.path().join("state");
    analyze_state(&[&day1], &dir.path().join("out1"), &state, &[]);
    let copy = dir.path().join("copy");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&state)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let next = dir.path().join("next");
    let said = analyze_state(
        &[&day2],
        &dir.path().join("out2"),
        &next,
        &[
            "--continue-from",
            state.to_str().unwrap(),
            "--continue-from",
            copy.to_str().unwrap(),
        ],
    );
    assert!(said.is_empty(), "{said}");
    let merged = dir.path().join("merged");
    merge(&[&state, &next], &merged);
    let all = dir.path().join("all");
    analyze(&[&day1, &day2], &all, &settings());
    assert_same_tables(&all, &merged, true);
}

#[test]
fn a_chain_of_generated_days_merges_to_the_sessions_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    // About 30 hours of generated traffic (+09:00 clock), cut into one file per log date.
    let opts = SynthOptions {
        lines: 60_000,
        seed: 11,
        ..SynthOptions::default()
    };
    let log = &server_logs(dir.path(), &opts, 1)[0];
    // Dates in the order they first appear (the log is in time order, nearly). Lines may
    // hold bytes that are not UTF-8, and a malformed line no date: it stays with the line
    // before.
    let mut by_date: Vec<(String, Vec<u8>)> = Vec::new();
    let mut date = String::new();
    for line in std::fs::read(log).unwrap().split_inclusive(|&b| b == b'\n') {
        if let Some(at) = line.iter().position(|&b| b == b'[')
            && line.len() > at + 12
            && line[at + 12] == b':'
        {
            date = String::from_utf8_lossy(&line[at + 1..at + 12]).replace('/', "-");
        }
        let at = match by_date.iter().position(|(d, _)| *d == date) {
            Some(at) => at,
            None => {
                by_date.push((date.clone(), Vec::new()));
                by_date.len() - 1
            }
        };
        by_date[at].1.extend_from_slice(line);
    }
    assert!(by_date.len() >= 2, "{} dates", by_date.len());
    // Each night the day's file, continuing the state of the nights before.
    let state = dir.path().join("state");
    let s = state.to_str().unwrap();
    let mut files = Vec::new();
    for (n, (date, text)) in by_date.iter().enumerate() {
        let file = dir.path().join(format!("{date}.log"));
        std::fs::write(&file, text).unwrap();
        let args = [
            &GENERATED_SITE_ARGS[..],
            &["--state", s, "--continue-from", s],
        ]
        .concat();
        analyze(&[&file], &dir.path().join(format!("out{n}")), &args);
        files.push(file);
    }
    // Each night but the first wrote the sessions it continued into the date before.
    let continued = duckdb_rows(
        &state,
        "select count(*) from (select date from read_parquet('{out}/*/*/channels.parquet',
                hive_partitioning = true) group by date having count(distinct run) = 2)",
    );
    assert_eq!(continued, [[(by_date.len() - 1).to_string()]]);
    let merged = dir.path().join("merged");
    merge(&[&state], &merged);
    let all = dir.path().join("all");
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    analyze(&inputs, &all, &GENERATED_SITE_ARGS);
    // Counts, rates and averages are exact, of hits and of sessions, and so is every table
    // of a visitor's whole history (the hits of a visitor, or of a user agent, whose asset
    // hits are in one day's file and page views in another's included); the visitors of
    // other tables are estimates past a few hundred.
    assert_same_tables_but(&all, &merged, &["visitors"], &[]);
    assert_eq!(
        duckdb_rows(&merged, "select visitors from '{out}/summary.parquet'"),
        duckdb_rows(&all, "select visitors from '{out}/summary.parquet'")
    );
    let sessions = duckdb_rows(&all, "select sessions from '{out}/summary.parquet'");
    assert_eq!(merged_sessions(&merged), sessions[0][0]);
}

#[test]
fn open_sessions_continue_only_under_the_same_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, day2) = days(dir.path());
    let state = dir.path().join("state");
    analyze_state(&[&day1], &dir.path().join("out1"), &state, &[]);
    let before = crate::util::files_under(&state);
    let s = state.to_str().unwrap();
    let out = dir.path().join("out2");
    let mut args = vec!["analyze", day2.to_str().unwrap(), "-q", "--out"];
    args.push(out.to_str().unwrap());
    args.extend(settings());
    args.extend([
        "--state",
        s,
        "--continue-from",
        s,
        "--session-timeout",
        "45m",
    ]);
    let output = run(&args);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--continue-from")
            && stderr.contains("session_timeout_ms (1800000 there, 2700000 here)"),
        "{stderr}"
    );
    assert_eq!(
        crate::util::files_under(&state),
        before,
        "the state is as it was"
    );

    // And only into a state.
    let output = run(&[
        "analyze",
        day2.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--continue-from",
        s,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs --state"));
}

#[test]
fn analysing_day_one_again_after_day_two_continued_it() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, day2) = days(dir.path());
    let state = continued_state(dir.path(), &day1, &day2);
    let s = state.to_str().unwrap();

    // The same file again: its open sessions are the same, day 2's continuation holds.
    let said = analyze_state(&[&day1], &dir.path().join("out1"), &state, &[]);
    assert!(!said.contains("warning"), "{said}");
    merge(&[&state], &dir.path().join("same"));

    // Day 1 again with another server's log of that day: other open sessions (G's too).
    let server2 = write(
        dir.path(),
        "day1.server2.log",
        &[line(
            "198.51.100.7",
            OCT_10 + 23 * HOUR + 58 * MIN,
            "/",
            "-",
            FIREFOX,
        )],
    );
    let said = analyze_state(&[&day1, &server2], &dir.path().join("out1"), &state, &[]);
    assert!(
        said.contains("warning") && said.contains("day2.log") && said.contains("--continue-from"),
        "{said}"
    );
    let refused = dir.path().join("refused");
    let output = run(&["merge", s, "--out", refused.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("day2.log") && stderr.contains("again with --continue-from"),
        "{stderr}"
    );
    assert!(!refused.exists());

    // Day 2 again, continuing the new day 1: the merge is one run over the three files.
    analyze_state(
        &[&day2],
        &dir.path().join("out2"),
        &state,
        &["--continue-from", s],
    );
    let merged = dir.path().join("merged");
    merge(&[&state], &merged);
    let all = dir.path().join("all");
    analyze(&[&day1, &server2, &day2], &all, &settings());
    assert_same_tables(&all, &merged, true);
}

#[test]
fn two_runs_that_continued_the_same_open_sessions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (day1, day2) = days(dir.path());
    let first = dir.path().join("first");
    analyze_state(&[&day1], &dir.path().join("out1"), &first, &[]);
    // Two states of day 2's logs, each continuing day 1.
    let other = write(
        dir.path(),
        "day2.server2.log",
        &[line(
            "198.51.100.8",
            OCT_10 + DAY + 5 * MIN,
            "/",
            "-",
            CHROME,
        )],
    );
    let f = first.to_str().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    analyze_state(
        &[&day2],
        &dir.path().join("outa"),
        &a,
        &["--continue-from", f],
    );
    analyze_state(
        &[&other],
        &dir.path().join("outb"),
        &b,
        &["--continue-from", f],
    );
    let out = dir.path().join("merged");
    let output = run(&[
        "merge",
        f,
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("both continued") && stderr.contains("day1.log"),
        "{stderr}"
    );
    // In one directory, the second run sees the first one's continuation and leaves it.
    let one = dir.path().join("one");
    analyze_state(&[&day1], &dir.path().join("out1"), &one, &[]);
    let o = one.to_str().unwrap();
    analyze_state(
        &[&day2],
        &dir.path().join("outa"),
        &one,
        &["--continue-from", o],
    );
    let said = analyze_state(
        &[&other],
        &dir.path().join("outb"),
        &one,
        &["--continue-from", o],
    );
    assert!(said.contains("continued already"), "{said}");
    merge(&[&one], &out);
    // 7 sessions, and the other server's one.
    assert_eq!(merged_sessions(&out), "8");
}

/// A log that goes on past midnight leaves open a session that started the day before: its
/// page views of the second date are apart in that date's `open/`, and the run that
/// continues it counts them whole, on both dates.
#[test]
fn an_open_session_with_page_views_on_two_dates_is_continued_on_both() {
    let dir = tempfile::tempdir().unwrap();
    let d2 = OCT_10 + DAY;
    let h = "198.51.100.7";
    let first = write(
        dir.path(),
        "first.log",
        &[
            line(h, d2 - 10 * MIN, "/", "-", FIREFOX),
            line(h, d2 + 5 * MIN, "/shop", "https://mysite.test/", FIREFOX),
        ],
    );
    let second = write(
        dir.path(),
        "second.log",
        &[
            line(
                h,
                d2 + 20 * MIN,
                "/blog",
                "https://mysite.test/shop",
                FIREFOX,
            ),
            line("198.51.100.8", d2 + 3 * HOUR, "/", "-", CHROME),
        ],
    );
    let state = dir.path().join("state");
    analyze_state(&[&first], &dir.path().join("out1"), &state, &[]);
    // The session started on the 10th; its page view of the 11th is in the 11th's `open/`.
    assert_eq!(
        duckdb_rows(
            &state,
            "select date::varchar, sum(page_views), sum(sessions), sum(hits)
             from read_parquet('{out}/*/*/open/traffic_by_hour.parquet', hive_partitioning = true)
             group by all order by all"
        ),
        [["2026-10-10", "1", "1", "0"], ["2026-10-11", "1", "0", "0"]]
    );
    let s = state.to_str().unwrap();
    analyze_state(
        &[&second],
        &dir.path().join("out2"),
        &state,
        &["--continue-from", s],
    );
    let merged = dir.path().join("merged");
    let printed = merge(&[&state], &merged);
    assert!(printed.contains(": 2 sessions"), "{printed}");
    let all = dir.path().join("all");
    analyze(&[&first, &second], &all, &settings());
    assert_same_tables(&all, &merged, true);
}
