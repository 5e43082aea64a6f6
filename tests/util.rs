//! Helpers shared by the integration tests: run the real `accesslens` binary as a process,
//! and read its Parquet output back with DuckDB (the Python package, as users do).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every table a run writes, in file-name order.
pub const TABLES: [&str; 35] = [
    "attribution",
    "browsers",
    "campaigns",
    "channels",
    "color_depths",
    "devices",
    "entry_pages",
    "errors",
    "exit_pages",
    "goals",
    "inputs",
    "internal_search",
    "landing_pages_by_channel",
    "malformed_samples",
    "operating_systems",
    "pages",
    "paths",
    "referrers",
    "referring_sites",
    "resolutions",
    "retention",
    "robots",
    "search_engines",
    "search_keywords",
    "sessions",
    "sources",
    "status_codes",
    "summary",
    "traffic_by_day",
    "traffic_by_hour",
    "transitions",
    "visit_frequency",
    "visit_recency",
    "visitor_types",
    "visitors",
];

/// Browser user agents the hand-made logs use.
pub const FIREFOX_WIN: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0";
pub const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
pub const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) \
                                 AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 \
                                 Mobile/15E148 Safari/604.1";

/// Site, goal and goal-value settings of the generated traffic (`accesslens::synth`).
pub const GENERATED_SITE_ARGS: [&str; 6] = accesslens::synth::SITE_ARGS;

/// Settings for the hand-made shop logs: the site's own domain (`mysite.test`) and a purchase
/// goal whose value is the thank-you URL's `value` parameter.
pub const SHOP_ARGS: [&str; 6] = [
    "--site-domain",
    "mysite.test",
    "--goal",
    "purchase=/checkout/thank-you",
    "--goal-value-param",
    "value",
];

/// The compiled `accesslens` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_accesslens"))
}

/// Path of a committed fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs `accesslens` with `args` and returns its output, whatever the exit code.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("accesslens binary runs")
}

/// Runs `accesslens analyze <inputs> --out <dir> <extra>`, asserting success.
pub fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.arg("analyze");
    cmd.args(inputs);
    cmd.arg("--out").arg(out).arg("--quiet");
    cmd.args(extra);
    let output = cmd.output().expect("accesslens binary runs");
    assert!(
        output.status.success(),
        "accesslens failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a DuckDB query through the Python `duckdb` package and returns the rows, each value
/// rendered by Python's `str()` (`NULL` for nulls). `{out}` in `sql` is replaced by `out`, so
/// queries read `'{out}/pages.parquet'`. Round floats in SQL before comparing them.
pub fn duckdb_rows(out: &Path, sql: &str) -> Vec<Vec<String>> {
    let sql = sql.replace("{out}", &out.display().to_string());
    const SCRIPT: &str = r#"
import sys
try:
    import duckdb
except ImportError:
    sys.stderr.write("the duckdb Python package is missing: python3 -m pip install -r tests/requirements.txt\n")
    sys.exit(3)
for row in duckdb.sql(sys.argv[1]).fetchall():
    print("\t".join("NULL" if v is None else str(v) for v in row))
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(&sql)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "duckdb query failed: {sql}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// One value from a query that returns one row of one column.
pub fn duckdb_value(out: &Path, sql: &str) -> String {
    let rows = duckdb_rows(out, sql);
    assert_eq!(rows.len(), 1, "expected one row from {sql}, got {rows:?}");
    assert_eq!(
        rows[0].len(),
        1,
        "expected one column from {sql}, got {rows:?}"
    );
    rows[0][0].clone()
}

/// Rewrites a Parquet file without `columns` (zstd, as accesslens writes), with pyarrow: a
/// table as an older version wrote it.
pub fn drop_columns(file: &Path, columns: &[&str]) {
    const SCRIPT: &str = "import sys, pyarrow.parquet as pq\n\
                          t = pq.read_table(sys.argv[1])\n\
                          pq.write_table(t.drop_columns(sys.argv[2:]), sys.argv[1], compression='zstd')";
    let status = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(file)
        .args(columns)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "dropping {columns:?} from {}",
        file.display()
    );
}

/// Writes `contents` to `name` inside `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

/// Writes the seeded generator's traffic as the logs of `servers` load-balanced servers,
/// `server-1.log` ... in `dir`, and returns their paths.
pub fn server_logs(
    dir: &Path,
    opts: &accesslens::synth::SynthOptions,
    servers: usize,
) -> Vec<PathBuf> {
    let mut logs = vec![Vec::new(); servers];
    accesslens::synth::generate_split(opts, &mut logs).expect("generate server logs");
    logs.iter()
        .enumerate()
        .map(|(i, log)| write_file(dir, &format!("server-{}.log", i + 1), log))
        .collect()
}

/// Every file under `dir`, as (path relative to `dir`, bytes), in path order.
pub fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                found.push((name, std::fs::read(&path).expect("read file")));
            }
        }
    }
    found.sort();
    found
}

/// The tables `accesslens merge` counts from the sessions and hits of each date.
pub const COUNTED_TABLES: [&str; 24] = [
    "browsers",
    "campaigns",
    "channels",
    "color_depths",
    "devices",
    "entry_pages",
    "errors",
    "exit_pages",
    "goals",
    "internal_search",
    "landing_pages_by_channel",
    "operating_systems",
    "pages",
    "referrers",
    "referring_sites",
    "resolutions",
    "robots",
    "search_engines",
    "search_keywords",
    "sources",
    "status_codes",
    "summary",
    "traffic_by_day",
    "traffic_by_hour",
];

/// The tables of a visitor's whole history, which `merge` computes from the visits.
pub const HISTORY_TABLES: [&str; 9] = [
    "attribution",
    "paths",
    "retention",
    "sessions",
    "transitions",
    "visit_frequency",
    "visit_recency",
    "visitor_types",
    "visitors",
];

/// Every table `accesslens merge` writes.
pub fn merged_tables() -> impl Iterator<Item = &'static str> {
    COUNTED_TABLES.into_iter().chain(HISTORY_TABLES)
}
