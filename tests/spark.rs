//! The Spark job in `contrib/spark/` gives the same tables as accesslens: accesslens writes
//! the hits table of a few servers' logs (`--emit hits`), the job rebuilds sessions and
//! reports from it in Spark's local mode, and every row of every table it writes must equal
//! accesslens's own. Besides generated traffic, hand-written lines place page views
//! milliseconds either side of the 30-minute timeout, a session across midnight and across
//! two files, two page views at the same millisecond, bots, assets and errors. Spark also
//! reads the visitor sketches that `analyze --state` writes, and unions them with its own.
//!
//! Needs Java 17+ and `python3 -m pip install -r tests/requirements-spark.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use accesslens::synth::SynthOptions;

use crate::util::{
    FIREFOX_WIN, GENERATED_SITE_ARGS, SAFARI_IPHONE, analyze, duckdb_rows, server_logs, write_file,
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
    cmd.args(args);
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

#[test]
fn spark_job_gives_accesslens_tables() {
    let probe = python(&["-c", "import pyspark"], false);
    assert!(
        probe.status.success(),
        "pyspark is missing: python3 -m pip install -r tests/requirements-spark.txt"
    );
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        lines: 3_000,
        seed: 17,
        disorder_ms: 1_500,
        ..SynthOptions::default()
    };
    let mut files = server_logs(dir.path(), &opts, 3);
    files.extend(edge_logs(dir.path()));
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = dir.path().join("accesslens");
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

    let job = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/spark/accesslens_spark.py");
    let spark_out = dir.path().join("spark");
    let run = python(
        &[
            job.to_str().unwrap(),
            out.join("hits").to_str().unwrap(),
            spark_out.to_str().unwrap(),
            "--check-buckets",
            "16",
        ],
        true,
    );
    assert!(
        run.status.success(),
        "the Spark job failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let compare = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spark_compare.py");
    let mut args = vec![
        compare.to_str().unwrap(),
        out.to_str().unwrap(),
        spark_out.to_str().unwrap(),
    ];
    args.extend(TABLES);
    let compared = python(&args, false);
    assert!(
        compared.status.success(),
        "Spark's tables differ from accesslens's:\n{}{}",
        String::from_utf8_lossy(&compared.stdout),
        String::from_utf8_lossy(&compared.stderr)
    );
}

/// Reads the state's channel sketches with Spark, and Spark's own sketches of the same
/// sessions: `hll_sketch_agg(cast(visitor as string), 12)` over the sessions table. The
/// sessions open at the end of the run are in `open/` (no later run continued them).
const SKETCH_CHECK: &str = r#"
import glob, sys
from pyspark.sql import SparkSession
state, sessions = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.getOrCreate()
columns = ["channel", "sessions", "visitors_hll"]
counted = spark.read.option("basePath", state) \
    .parquet(state + "/date=*/run=*/channels.parquet").select(*columns)
if glob.glob(state + "/date=*/run=*/open/channels.parquet"):
    counted = counted.unionByName(
        spark.read.parquet(state + "/date=*/run=*/open/channels.parquet").select(*columns))
counted.createOrReplaceTempView("state")
spark.read.parquet(sessions).createOrReplaceTempView("sessions")
rows = spark.sql("""
    with ours as (select channel, sum(sessions) sessions, hll_union_agg(visitors_hll) s
                  from state group by channel),
         theirs as (select channel, hll_sketch_agg(cast(visitor as string), 12) s
                    from sessions group by channel)
    select channel, sessions, hll_sketch_estimate(ours.s), hll_sketch_estimate(theirs.s),
           hll_sketch_estimate(hll_union(ours.s, theirs.s))
    from ours join theirs using (channel) order by channel""").collect()
for r in rows:
    print("\t".join(str(v) for v in r))
"#;

#[test]
fn spark_reads_the_state_sketches_and_unions_them_with_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        lines: 3_000,
        seed: 17,
        ..SynthOptions::default()
    };
    let files = server_logs(dir.path(), &opts, 1);
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = dir.path().join("accesslens");
    let state = dir.path().join("state");
    analyze(
        &inputs,
        &out,
        &[
            &GENERATED_SITE_ARGS[..],
            &["--state", state.to_str().unwrap()],
        ]
        .concat(),
    );
    let run = python(
        &[
            "-c",
            SKETCH_CHECK,
            state.to_str().unwrap(),
            out.join("sessions.parquet").to_str().unwrap(),
        ],
        true,
    );
    assert!(
        run.status.success(),
        "the Spark sketch check failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let spark: Vec<Vec<String>> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    // Small counts are exact: Spark's estimate of our sketches, of its own and of their
    // union are all the exact visitor count (a union of two different hashings would be
    // about twice as large).
    let exact = duckdb_rows(
        &out,
        "select channel, sessions, visitors, visitors, visitors
         from '{out}/channels.parquet' order by channel",
    );
    assert!(exact.len() >= 3, "{exact:?}");
    assert_eq!(spark, exact);
}
