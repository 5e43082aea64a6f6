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
//! - Roll-ups: three days of generated logs (one date with two servers' runs), each analysed
//!   into one state directory, plus a copy of one day's state written later; `merge` with the
//!   job and `accesslens merge` over the same partitions give the same tables, columns, types,
//!   rows and totals, the older copy counted once; states that share only some inputs, or that
//!   were counted with other goals, are refused.
//!
//! Spark starts once for all of them (`tests/spark_jobs.py` runs every step in one session):
//! it is the slowest part of the tests. Needs Java 17+ and
//! `python3 -m pip install -r tests/requirements-spark.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use accesslens::synth::SynthOptions;
use serde_json::{Value, json};

use crate::util::{
    FIREFOX_WIN, GENERATED_SITE_ARGS, SAFARI_IPHONE, analyze, duckdb_rows, run, server_logs,
    write_file,
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

/// The tables `merge` writes.
const MERGED: [&str; 12] = [
    "campaigns",
    "channels",
    "color_depths",
    "entry_pages",
    "goals",
    "landing_pages_by_channel",
    "referrers",
    "referring_sites",
    "resolutions",
    "search_engines",
    "search_keywords",
    "sources",
];

/// Daily states merged by the job and by `accesslens merge`.
struct Rollup {
    dir: PathBuf,
    /// One run per log: 10-10, 10-11 (two servers, two runs) and 10-12.
    state: PathBuf,
    /// 10-10's log again, later: the same inputs, so the newer partition counts, once.
    copy: PathBuf,
    /// One run over 10-10's log and a 10-11 log: shares some of `state`'s inputs.
    both: PathBuf,
    /// 10-12's log counted with another goal.
    goals: PathBuf,
    first_log: PathBuf,
    /// `accesslens merge`'s tables, what it printed and the partition it skipped.
    rust_out: PathBuf,
    rust_said: String,
}

impl Rollup {
    const ARGS: [&str; 2] = ["--until", "2026-10-11"];

    fn prepare(dir: &Path) -> Rollup {
        // A day of generated traffic each from 09:00 (+09:00), so each log's sessions start on
        // two or three dates: fewer than 384 visitors a partition, whose sketches hold them as
        // coupons, and more in all, so that the unions pass from coupons to registers.
        let log = |name: &str, seed: u64, day: i64| {
            let sub = dir.join(name);
            std::fs::create_dir_all(&sub).unwrap();
            let opts = SynthOptions {
                lines: 12_000,
                seed,
                start_ms: SynthOptions::default().start_ms + day * 86_400_000,
                ..SynthOptions::default()
            };
            server_logs(&sub, &opts, 1).remove(0)
        };
        let logs = [
            log("10-10", 31, 0),
            log("10-11a", 32, 1),
            log("10-11b", 33, 1),
            log("10-12", 34, 2),
        ];
        let analyze_state = |files: &[&PathBuf], state: &Path, extra: &[&str]| {
            let inputs: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
            let args = [&GENERATED_SITE_ARGS[..], &["--state", text(state)], extra].concat();
            analyze(&inputs, &state.with_extension("out"), &args);
        };
        let state = dir.join("state");
        for log in &logs {
            analyze_state(&[log], &state, &[]);
        }
        let copy = dir.join("copy");
        analyze_state(&[&logs[0]], &copy, &[]);
        let both = dir.join("both");
        analyze_state(&[&logs[0], &logs[1]], &both, &[]);
        let goals = dir.join("goals");
        analyze_state(&[&logs[3]], &goals, &["--goal", "blog=/blog"]);

        let mut rollup = Rollup {
            dir: dir.to_owned(),
            state,
            copy,
            both,
            goals,
            first_log: logs[0].clone(),
            rust_out: dir.join("accesslens"),
            rust_said: String::new(),
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
        let refused = |states: [&Path; 2], out: &str| {
            let out = self.out(out);
            json!({"job": ["merge", text(states[0]), text(states[1]), "--out", text(&out)]})
        };
        vec![
            json!({ "job": merge }),
            refused([&self.state, &self.both], "overlap"),
            refused([&self.state, &self.goals], "mismatch"),
        ]
    }

    fn check(&self, outcomes: &[Outcome]) {
        let [merged, overlap, mismatch] = outcomes else {
            panic!("three roll-up steps: {outcomes:?}")
        };
        assert!(merged.ok, "the Spark roll-up failed:\n{}", merged.error);
        let spark_out = self.out("spark");
        // The same tables and the same totals, visitor estimates included: both union the
        // same sketches and estimate from the union's registers alone.
        let mut args = vec!["--merged", text(&self.rust_out), text(&spark_out)];
        args.extend(MERGED);
        assert_same_tables(&args);
        // The same summary line and the same skipped partition: the older 10-10.
        let said = |s: &str, out: &Path| s.replace(text(out), "OUT");
        assert_eq!(
            said(&format!("{}{}", merged.stdout, merged.stderr), &spark_out),
            said(&self.rust_said, &self.rust_out)
        );
        assert!(
            self.rust_said.contains("(2026-10-10 to 2026-10-11)")
                && self
                    .rust_said
                    .contains(&format!("{}/date=2026-10-10/", text(&self.state)))
                && self.rust_said.contains("skipped"),
            "{}",
            self.rust_said
        );
        // Enough visitors that the estimates of the whole period come from registers.
        let visitors = duckdb_rows(
            &self.rust_out,
            "select json_extract(decode(value), '$.visitors_estimate')::int
             from parquet_kv_metadata('{out}/channels.parquet')
             where key::varchar = 'accesslens.merged'",
        );
        assert!(visitors[0][0].parse::<u64>().unwrap() > 500, "{visitors:?}");

        // Refused, naming the date and the shared file, and nothing written.
        assert!(!overlap.ok);
        assert!(
            overlap.error.contains("2026-10-10")
                && overlap.error.contains(text(&self.first_log))
                && overlap.error.contains("twice"),
            "{}",
            overlap.error
        );
        assert!(
            !self.out("overlap").exists(),
            "a refused merge writes nothing"
        );
        assert!(!mismatch.ok);
        assert!(
            mismatch.error.contains("different goals"),
            "{}",
            mismatch.error
        );
        assert!(!self.out("mismatch").exists());
    }
}
