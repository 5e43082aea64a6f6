//! The Spark job in `contrib/spark/` gives the same tables as accesslens.
//!
//! - Hits: accesslens writes the hits table of a few servers' logs (`--emit hits`), the job
//!   rebuilds sessions and reports from it in Spark's local mode, and every row of every table
//!   it writes must equal accesslens's own. Besides generated traffic, hand-written lines
//!   place page views milliseconds either side of the 30-minute timeout, a session across
//!   midnight and across two files, two page views at the same millisecond, bots, assets and
//!   errors.
//! - Sketches: Spark reads the visitor sketches that `analyze --state` writes, and unions them
//!   with its own.
//! - Roll-ups: a day of generated traffic cut at midnight into two days' logs, the second
//!   continuing the first's open sessions (`--continue-from`) and leaving its own open, a
//!   second server's day and a third day, each analysed into one state directory, plus a copy
//!   of the first day's state written later; `merge` with the job and `accesslens merge` over
//!   the same partitions give the same 24 tables, columns, types, rows and totals, the older
//!   copy counted once; states that share only some inputs, that were counted with other
//!   goals, of an older layout, that both continued the same open sessions, or that continued
//!   sessions since analyzed again are refused, in the same words.
//!
//! Spark starts once for all of them (`tests/spark_jobs.py` runs every step in one session):
//! it is the slowest part of the tests. Needs Java 17+ and
//! `python3 -m pip install -r tests/requirements-spark.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use accesslens::parse::Format;
use accesslens::synth::SynthOptions;
use serde_json::{Value, json};

use crate::util::{
    COUNTED_TABLES, FIREFOX_WIN, GENERATED_SITE_ARGS, HISTORY_TABLES, SAFARI_IPHONE, analyze,
    duckdb_rows, files_under, run, server_logs, write_file,
};

/// The tables the job writes.
const TABLES: [&str; 7] = [
    "sessions",
    "entry_pages",
    "exit_pages",
    "channels",
    "referring_sites",
    "search_keywords",
    "errors",
];

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// A combined-format line at `time` (with milliseconds).
fn line(
    client: &str,
    time: &str,
    target: &str,
    status: u16,
    referrer: &str,
    agent: &str,
) -> String {
    format!(
        "{client} - - [{time} +0000] \"GET {target} HTTP/1.1\" {status} 512 \"{referrer}\" \"{agent}\"\n"
    )
}

/// Two files of one server pair with the edge cases; the first visitor's sessions are
/// checked on accesslens's side, so the data is known to exercise them.
fn edge_logs(dir: &Path) -> Vec<PathBuf> {
    let v = |time: &str, target: &str, status: u16, referrer: &str| {
        line("198.51.100.7", time, target, status, referrer, FIREFOX_WIN)
    };
    let a = [
        v(
            "10/Oct/2026:23:40:00.000",
            "/?utm_source=newsletter&utm_medium=email&utm_campaign=october",
            200,
            "-",
        ),
        v(
            "10/Oct/2026:23:40:00.000",
            "/style.css",
            200,
            "https://example.com/",
        ),
        v(
            "11/Oct/2026:00:40:00.001",
            "/products/1",
            200,
            "https://www.google.com/search?q=trail+shoes",
        ),
        v(
            "11/Oct/2026:01:45:00.000",
            "/missing",
            404,
            "https://blog.example.org/post",
        ),
        line(
            "203.0.113.5",
            "11/Oct/2026:08:00:00.000",
            "/products",
            200,
            "-",
            SAFARI_IPHONE,
        ),
        line(
            "66.249.66.1",
            "11/Oct/2026:08:00:00.500",
            "/missing",
            404,
            "-",
            GOOGLEBOT,
        ),
    ]
    .concat();
    let b = [
        // Exactly 30 minutes after 23:40: the same session, across midnight and files.
        v(
            "11/Oct/2026:00:10:00.000",
            "/products",
            200,
            "https://example.com/",
        ),
        // 29:59.999 after 00:40:00.001, two page views at the same millisecond.
        v(
            "11/Oct/2026:01:10:00.000",
            "/checkout/thank-you?order=1&value=49.90",
            200,
            "https://example.com/cart",
        ),
        v(
            "11/Oct/2026:01:10:00.000",
            "/about",
            200,
            "https://example.com/",
        ),
        // 30 minutes and 2 ms later: a new session.
        v(
            "11/Oct/2026:01:40:00.002",
            "/contact",
            200,
            "https://news.ycombinator.com/item?id=1",
        ),
        v("11/Oct/2026:01:45:01.000", "/missing", 404, "-"),
        line(
            "203.0.113.5",
            "11/Oct/2026:08:29:59.999",
            "/about",
            200,
            "https://example.com/",
            SAFARI_IPHONE,
        ),
        line(
            "203.0.113.5",
            "11/Oct/2026:08:30:00.000",
            "/logo.png",
            200,
            "https://example.com/",
            SAFARI_IPHONE,
        ),
        line(
            "66.249.66.1",
            "11/Oct/2026:08:00:01.000",
            "/",
            200,
            "-",
            GOOGLEBOT,
        ),
    ]
    .concat();
    vec![
        write_file(dir, "edge-a.log", a.as_bytes()),
        write_file(dir, "edge-b.log", b.as_bytes()),
    ]
}

fn python(args: &[&str], spark: bool) -> std::process::Output {
    let mut cmd = Command::new("python3");
    // tests/spark_jobs.py imports the job: no __pycache__ left in the source tree.
    cmd.args(args).env("PYTHONDONTWRITEBYTECODE", "1");
    if spark {
        // Two cores and few shuffle partitions: the data is small, startup dominates.
        cmd.env(
            "PYSPARK_SUBMIT_ARGS",
            "--master local[2] --conf spark.sql.shuffle.partitions=2 \
             --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false pyspark-shell",
        );
    }
    cmd.output().expect("python3 runs")
}

fn repo_file(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .to_str()
        .unwrap()
        .to_owned()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What `tests/spark_jobs.py` says of one step.
#[derive(Debug)]
struct Outcome {
    ok: bool,
    error: String,
    stdout: String,
    stderr: String,
    rows: Vec<Vec<String>>,
}

/// Runs the steps (see `tests/spark_jobs.py`) in one Spark session.
fn run_spark(dir: &Path, steps: &[Value]) -> Vec<Outcome> {
    let plan = write_file(
        dir,
        "plan.json",
        Value::from(steps.to_vec()).to_string().as_bytes(),
    );
    let ran = python(&[&repo_file("tests/spark_jobs.py"), text(&plan)], true);
    assert!(
        ran.status.success(),
        "the Spark steps failed:\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let results: Vec<Value> =
        serde_json::from_slice(&ran.stdout).expect("spark_jobs.py prints JSON");
    let field = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_owned();
    // Where the time goes (`cargo test spark -- --nocapture`).
    eprintln!("{}", String::from_utf8_lossy(&ran.stderr).trim_end());
    for (step, r) in steps.iter().zip(&results) {
        eprintln!(
            "{:6.1} s  {step}",
            r["seconds"].as_f64().unwrap_or_default()
        );
    }
    results
        .iter()
        .map(|r| Outcome {
            ok: r["ok"].as_bool() == Some(true),
            error: field(r, "error"),
            stdout: field(r, "stdout"),
            stderr: field(r, "stderr"),
            rows: serde_json::from_value(r["rows"].clone()).unwrap_or_default(),
        })
        .collect()
}

/// `tests/spark_compare.py ARGS`, asserting that the tables are the same.
fn assert_same_tables(args: &[&str]) {
    let mut all = vec![repo_file("tests/spark_compare.py")];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let compared = python(&all, false);
    assert!(
        compared.status.success(),
        "Spark's tables differ from accesslens's:\n{}{}",
        String::from_utf8_lossy(&compared.stdout),
        String::from_utf8_lossy(&compared.stderr)
    );
}

#[test]
fn spark_jobs_give_accesslens_tables() {
    let probe = python(&["-c", "import pyspark"], false);
    assert!(
        probe.status.success(),
        "pyspark is missing: python3 -m pip install -r tests/requirements-spark.txt"
    );
    let dir = tempfile::tempdir().unwrap();
    let hits = Hits::prepare(&dir.path().join("hits"));
    let sketches = Sketches::prepare(&dir.path().join("sketches"));
    let rollup = Rollup::prepare(&dir.path().join("rollup"));
    let mut steps = vec![hits.step(), sketches.step()];
    steps.extend(rollup.steps());
    let outcomes = run_spark(dir.path(), &steps);
    hits.check(&outcomes[0]);
    sketches.check(&outcomes[1]);
    rollup.check(&outcomes[2..]);
}

/// The hits job over generated servers' logs and the hand-written edge cases.
struct Hits {
    out: PathBuf,
    spark_out: PathBuf,
}

impl Hits {
    fn prepare(dir: &Path) -> Hits {
        std::fs::create_dir_all(dir).unwrap();
        let opts = SynthOptions {
            lines: 3_000,
            seed: 17,
            disorder_ms: 1_500,
            ..SynthOptions::default()
        };
        let mut files = server_logs(dir, &opts, 3);
        files.extend(edge_logs(dir));
        let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let out = dir.join("accesslens");
        analyze(
            &inputs,
            &out,
            &[
                &GENERATED_SITE_ARGS[..],
                &["--emit", "hits", "--hit-buckets", "16"],
            ]
            .concat(),
        );

        // The edge cases cut the sessions they should.
        let sessions = duckdb_rows(
            &out,
            "select entry_page, exit_page, page_views, channel, coalesce(keyword, '-'), value
             from '{out}/sessions.parquet' where ip = '198.51.100.7' order by start",
        );
        assert_eq!(
            sessions,
            [
                ["/", "/products", "2", "Email", "-", "0.0"],
                [
                    "/products/1",
                    "/checkout/thank-you",
                    "3",
                    "Organic Search",
                    "trail shoes",
                    "49.9"
                ],
                ["/contact", "/contact", "1", "Organic Social", "-", "0.0"],
            ]
        );
        Hits {
            out,
            spark_out: dir.join("spark"),
        }
    }

    fn step(&self) -> Value {
        let hits = self.out.join("hits");
        json!({"job": [text(&hits), text(&self.spark_out), "--check-buckets", "16"]})
    }

    fn check(&self, outcome: &Outcome) {
        assert!(outcome.ok, "the Spark job failed:\n{}", outcome.error);
        let mut args = vec![text(&self.out), text(&self.spark_out)];
        args.extend(TABLES);
        assert_same_tables(&args);
    }
}

/// The state's visitor sketches, read by Spark and unioned with Spark's own sketches of the
/// same sessions (`hll_sketch_agg(cast(visitor as string), 12)` over the sessions table).
struct Sketches {
    out: PathBuf,
    state: PathBuf,
}

impl Sketches {
    fn prepare(dir: &Path) -> Sketches {
        std::fs::create_dir_all(dir).unwrap();
        let opts = SynthOptions {
            lines: 3_000,
            seed: 17,
            ..SynthOptions::default()
        };
        let files = server_logs(dir, &opts, 1);
        let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let out = dir.join("accesslens");
        let state = dir.join("state");
        analyze(
            &inputs,
            &out,
            &[&GENERATED_SITE_ARGS[..], &["--state", text(&state)]].concat(),
        );
        Sketches { out, state }
    }

    fn step(&self) -> Value {
        let sessions = self.out.join("sessions.parquet");
        json!({"sketches": [text(&self.state), text(&sessions)]})
    }

    fn check(&self, outcome: &Outcome) {
        assert!(
            outcome.ok,
            "the Spark sketch check failed:\n{}",
            outcome.error
        );
        // Small counts are exact: Spark's estimate of our sketches, of its own and of their
        // union are all the exact visitor count (a union of two different hashings would be
        // about twice as large).
        let exact = duckdb_rows(
            &self.out,
            "select channel, sessions, visitors, visitors, visitors
             from '{out}/channels.parquet' order by channel",
        );
        assert!(exact.len() >= 3, "{exact:?}");
        assert_eq!(outcome.rows, exact);
    }
}

/// The log lines of `log` by the date of their timestamp (`[10/Oct/2026:…`), in the order
/// the dates first appear; a line without a date stays with the line before (or, before
/// the first date, with the line after).
fn split_by_date(log: &Path) -> Vec<(String, Vec<u8>)> {
    let mut by_date: Vec<(String, Vec<u8>)> = Vec::new();
    let mut current = None;
    let mut before = Vec::new();
    for line in std::fs::read(log).unwrap().split_inclusive(|&b| b == b'\n') {
        if let Some(at) = line.iter().position(|&b| b == b'[')
            && line.len() > at + 12
            && line[at + 12] == b':'
        {
            let date = String::from_utf8_lossy(&line[at + 1..at + 12]).into_owned();
            current = Some(match by_date.iter().position(|(d, _)| *d == date) {
                Some(at) => at,
                None => {
                    by_date.push((date, std::mem::take(&mut before)));
                    by_date.len() - 1
                }
            });
        }
        match current {
            Some(at) => by_date[at].1.extend_from_slice(line),
            None => before.extend_from_slice(line),
        }
    }
    by_date
}

/// Daily states merged by the job and by `accesslens merge`.
struct Rollup {
    dir: PathBuf,
    /// A day of generated traffic cut at midnight: 10-10 (`day1`), then 10-11 (`day2`),
    /// which continued day 1's open sessions (`--continue-from`) and left its own open, not
    /// continued; a second server's 10-11, a 10-12, two visitors of 10-09 and one of them
    /// again on 10-11, each in a run of its own.
    state: PathBuf,
    /// Day 1 again, later: the same inputs, so the newer partition counts, once (and is the
    /// one day 2 continued: the same run).
    copy: PathBuf,
    day2: PathBuf,
    /// `accesslens merge`'s tables, and what it printed.
    rust_out: PathBuf,
    rust_said: String,
    /// The states merged by each refusal step, and what `accesslens merge` said of them.
    refused: Vec<(&'static str, Vec<PathBuf>, String)>,
}

impl Rollup {
    /// Both merges' arguments: a date range, and a few pages named in the journeys, so that
    /// most are `(other)` and the most viewed are chosen (ties by path).
    const ARGS: [&str; 4] = ["--until", "2026-10-11", "--path-pages", "12"];

    fn prepare(dir: &Path) -> Rollup {
        let generated_as = |format, name: &str, seed: u64, lines: u64, start_ms: i64| {
            let sub = dir.join(name);
            std::fs::create_dir_all(&sub).unwrap();
            let opts = SynthOptions {
                lines,
                seed,
                start_ms,
                format,
                ..SynthOptions::default()
            };
            server_logs(&sub, &opts, 1).remove(0)
        };
        let generated = |name: &str, seed, lines, start_ms| {
            generated_as(Format::Combined, name, seed, lines, start_ms)
        };
        // 2026-10-10T00:00Z, 09:00 on the logs' +09:00 clock.
        let oct_10 = SynthOptions::default().start_ms;
        let hour = 3_600_000;
        // 09:00 to about 01:00 (+09:00), cut at midnight into two days' files.
        let night = generated("night", 31, 16_000, oct_10);
        let days = split_by_date(&night);
        assert_eq!(days.len(), 2, "the night spans two dates");
        let day1 = write_file(dir, "day1.log", &days[0].1);
        let day2 = write_file(dir, "day2.log", &days[1].1);
        // In nginx's layout: its pages have response times (detected as nginx).
        let server2 = generated_as(Format::Nginx, "server2", 33, 4_000, oct_10 + 24 * hour);
        let day3 = generated("day3", 34, 4_000, oct_10 + 48 * hour);
        // One page view five minutes after day 1's midnight (+09:00).
        let late = write_file(
            dir,
            "late.log",
            format!(
                "203.0.113.9 - - [11/Oct/2026:00:05:00 +0900] \"GET / HTTP/1.1\" 200 512 \"-\" \"{FIREFOX_WIN}\"\n"
            )
            .as_bytes(),
        );

        // Two visitors of 10-09 (+09:00), one of whom comes back on 10-11 (in a run of its
        // own): a cohort with days none of it came back on, and a return after whole days.
        let page_view = |ip: &str, day: u32| {
            format!(
                "{ip} - - [{day:02}/Oct/2026:12:00:00 +0900] \"GET / HTTP/1.1\" 200 512 \"-\" \
                 \"{SAFARI_IPHONE}\"\n"
            )
        };
        let early = write_file(
            dir,
            "early.log",
            (page_view("203.0.113.7", 9) + &page_view("203.0.113.8", 9)).as_bytes(),
        );
        let back = write_file(dir, "back.log", page_view("203.0.113.7", 11).as_bytes());

        let analyze_state = |files: &[&PathBuf], state: &Path, extra: &[&str]| {
            let inputs: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
            let args = [&GENERATED_SITE_ARGS[..], &["--state", text(state)], extra].concat();
            analyze(&inputs, &state.with_extension("out"), &args);
        };
        let state = dir.join("state");
        let continuing = ["--continue-from", text(&state)];
        analyze_state(&[&day1], &state, &[]);
        analyze_state(&[&day2], &state, &continuing);
        analyze_state(&[&server2], &state, &[]);
        analyze_state(&[&day3], &state, &[]);
        analyze_state(&[&early], &state, &[]);
        analyze_state(&[&back], &state, &[]);
        let copy = dir.join("copy");
        analyze_state(&[&day1], &copy, &[]);

        // Refused: partitions sharing some inputs but not all (day 1 and day 2's first
        // file in one run) ...
        let both = dir.join("both");
        analyze_state(&[&day1, &day2], &both, &[]);
        // ... counted with another goal ...
        let goals = dir.join("goals");
        analyze_state(&[&day3], &goals, &["--goal", "blog=/blog"]);
        // ... counted with another session timeout (a definition whose values are said) ...
        let timeout = dir.join("timeout");
        analyze_state(&[&day3], &timeout, &["--session-timeout", "45m"]);
        // ... of layout 2 (day 1's partition, its manifest saying so) ...
        let old = dir.join("old");
        copy_tree(&copy, &old);
        for entry in files_named(&old, "_manifest.json") {
            let mut manifest: Value =
                serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
            manifest["accesslens_state"] = json!(2);
            std::fs::write(&entry, manifest.to_string()).unwrap();
        }
        // ... two runs that continued day 1's open sessions ...
        let twice = dir.join("twice");
        analyze_state(&[&late], &twice, &["--continue-from", text(&copy)]);
        // ... and day 1's state replaced, after day 2 continued it, by a run over more files.
        let stale = dir.join("stale");
        copy_tree(&state, &stale);
        analyze_state(&[&day1, &late], &stale, &[]);
        let refusals = [
            ("overlap", vec![state.clone(), both]),
            ("mismatch", vec![state.clone(), goals]),
            ("layout", vec![old]),
            ("twice", vec![state.clone(), twice]),
            ("stale", vec![stale]),
            ("timeout", vec![state.clone(), timeout]),
        ];
        let refused = refusals
            .into_iter()
            .map(|(name, states)| {
                let out = dir.join(format!("{name}.rust"));
                let mut args = vec!["merge"];
                args.extend(states.iter().map(|s| text(s)));
                args.extend(["--out", text(&out)]);
                let merged = run(&args);
                assert_eq!(merged.status.code(), Some(1), "{name}: {merged:?}");
                assert!(!out.exists(), "a refused merge writes nothing");
                let said = String::from_utf8_lossy(&merged.stderr).into_owned();
                (name, states, said)
            })
            .collect();

        let mut rollup = Rollup {
            dir: dir.to_owned(),
            state,
            copy,
            day2,
            rust_out: dir.join("accesslens"),
            rust_said: String::new(),
            refused,
        };
        let mut args = vec!["merge"];
        args.extend(rollup.merged_states());
        args.extend(Rollup::ARGS);
        args.extend(["--out", text(&rollup.rust_out)]);
        let merged = run(&args);
        assert!(
            merged.status.success(),
            "accesslens merge failed:\n{}",
            String::from_utf8_lossy(&merged.stderr)
        );
        rollup.rust_said = String::from_utf8_lossy(&merged.stdout).into_owned()
            + &String::from_utf8_lossy(&merged.stderr);
        rollup
    }

    /// The states merged: `state` named twice (it counts once) and the later copy.
    fn merged_states(&self) -> [&str; 3] {
        [text(&self.state), text(&self.state), text(&self.copy)]
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn steps(&self) -> Vec<Value> {
        let mut merge = vec!["merge"];
        merge.extend(self.merged_states());
        merge.extend(Rollup::ARGS);
        let spark_out = self.out("spark");
        merge.extend(["--out", text(&spark_out)]);
        let mut steps = vec![json!({ "job": merge })];
        for (name, states, _) in &self.refused {
            let mut args = vec!["merge"];
            args.extend(states.iter().map(|s| text(s)));
            let out = self.out(&format!("{name}.spark"));
            args.extend(["--out", text(&out)]);
            steps.push(json!({ "job": args }));
        }
        steps
    }

    fn check(&self, outcomes: &[Outcome]) {
        let (merged, refused) = outcomes.split_first().expect("the roll-up steps");
        assert!(merged.ok, "the Spark roll-up failed:\n{}", merged.error);
        let spark_out = self.out("spark");
        // Every table `accesslens merge` counts, with the same columns, types, rows and
        // totals, visitor estimates included: both union the same sketches and estimate
        // from the union's registers alone; and the tables of the visitors' whole history,
        // row for row, with the summary's exact visitors and returning visitors and the user
        // agents' hits counted from `visitor_hits`.
        let mut args = vec!["--merged", text(&self.rust_out), text(&spark_out)];
        args.extend(COUNTED_TABLES);
        args.extend(HISTORY_TABLES);
        assert_same_tables(&args);
        // Among them the pages' response times, of the second server's nginx log alone.
        let timed = duckdb_rows(
            &self.rust_out,
            "select count(*) filter (where avg_response_ms > 0), count(*) filter (where avg_response_ms is null)
             from '{out}/pages.parquet'",
        );
        assert!(timed[0][0] != "0" && timed[0][1] != "0", "{timed:?}");
        // The same summary line and the same skipped partition: the older 10-10.
        let said = |s: &str, out: &Path| s.replace(text(out), "OUT");
        assert_eq!(
            said(&format!("{}{}", merged.stdout, merged.stderr), &spark_out),
            said(&self.rust_said, &self.rust_out)
        );
        assert!(
            self.rust_said.contains("(2026-10-09 to 2026-10-11)")
                && self
                    .rust_said
                    .contains(&format!("{}/date=2026-10-10/", text(&self.state)))
                && self.rust_said.contains("skipped"),
            "{}",
            self.rust_said
        );
        // The data covers both cases of open sessions: day 1's, continued by day 2 (and
        // counted there), and day 2's, which no run continued, counted where they are.
        let merged_json = || -> Value {
            let rows = duckdb_rows(
                &self.rust_out,
                "select decode(value) from parquet_kv_metadata('{out}/summary.parquet')
                 where key::varchar = 'accesslens.merged'",
            );
            serde_json::from_str(&rows[0][0]).unwrap()
        };
        let merged_json = merged_json();
        let opens: Vec<(&str, &str)> = merged_json["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| Some((p["date"].as_str()?, p["open"].as_str()?)))
            .collect();
        assert!(
            opens.contains(&("2026-10-10", "continued"))
                && opens.contains(&("2026-10-11", "counted")),
            "{opens:?}"
        );
        // Enough visitors that the estimates of the whole period come from registers.
        let visitors = merged_json["visitors_estimate"].as_u64().unwrap();
        assert!(visitors > 500, "{visitors}");

        // Each refusal as `accesslens merge` words it, and nothing written.
        assert_eq!(refused.len(), self.refused.len());
        let expected = [
            ("overlap", "twice"),
            ("mismatch", "different goals"),
            ("layout", "state layout 2"),
            ("twice", "both continued"),
            ("stale", "analyzed again since"),
            (
                "timeout",
                "different session_timeout_ms (1800000 and 2700000)",
            ),
        ];
        for ((outcome, (name, _, rust_said)), (_, phrase)) in
            refused.iter().zip(&self.refused).zip(expected)
        {
            assert!(!outcome.ok, "{name}: Spark merged what accesslens refuses");
            assert_eq!(&format!("error: {}\n", outcome.error), rust_said, "{name}");
            assert!(rust_said.contains(phrase), "{name}: {rust_said}");
            let out = self.out(&format!("{name}.spark"));
            assert!(!out.exists(), "{name}: a refused merge writes nothing");
        }
        // Naming the date and the shared file: day 2's, whose run wrote a partition of 10-10
        // too (the sessions it continued).
        let overlap = &self.refused[0].2;
        assert!(
            overlap.contains("2026-10-10") && overlap.contains(text(&self.day2)),
            "{overlap}"
        );
    }
}

/// Copies the directory tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    let copied = Command::new("cp")
        .args(["-R", text(from), text(to)])
        .status()
        .expect("cp runs");
    assert!(copied.success());
}

/// The files named `name` under `dir`.
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .map(|(path, _)| dir.join(path))
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .collect()
}
