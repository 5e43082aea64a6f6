//! The `accesslens` binary as a process: exit codes and messages for command-line mistakes
//! and failed runs, the all-or-nothing output directory, unusual inputs (empty, binary,
//! standard input, missing, a directory), the help and version text, the terminal overview,
//! a closed standard output, tables that do not depend on threads, chunk and window sizes or
//! memory-mapping, and line accounting on random logs.
//!
//! Every test writes its small inputs into its own temporary directory; generated inputs
//! come from a seeded generator, so they are the same on every run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use crate::util::{
    CHROME_MAC, FIREFOX_WIN, SAFARI_IPHONE, TABLES, bin, duckdb_rows, duckdb_value, write_file,
};

const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const CURL: &str = "curl/8.5.0";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a small seeded generator for reproducible inputs.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A combined-format line at `secs` seconds after 2024-03-01 00:00:00 UTC. `referrer` and
/// `agent` are written as given (`-` for none).
fn combined(
    ip: &str,
    secs: u64,
    request: &str,
    status: u16,
    bytes: u64,
    referrer: &str,
    agent: &str,
) -> String {
    format!(
        "{ip} - - [{}] \"{request}\" {status} {bytes} \"{referrer}\" \"{agent}\"",
        clf_time(secs)
    )
}

/// `dd/Mar/2024:HH:MM:SS +0000` for `secs` seconds after 2024-03-01 00:00:00 UTC.
fn clf_time(secs: u64) -> String {
    assert!(secs < 31 * 86_400, "generated times stay in March");
    format!(
        "{:02}/Mar/2024:{:02}:{:02}:{:02} +0000",
        1 + secs / 86_400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

/// Six hits: two human visitors and a bot. Alice (Firefox) views `/`, loads a stylesheet and
/// views `/pricing` within two minutes: one session. Bob (iPhone) views `/`, then `/about`
/// two hours later: two sessions. Googlebot fetches `/`.
/// Totals: hits 6, human hits 5, page views 4, visitors 2, sessions 3.
fn small_log() -> String {
    [
        combined(
            "203.0.113.10",
            0,
            "GET / HTTP/1.1",
            200,
            5000,
            "https://www.google.com/",
            FIREFOX_WIN,
        ),
        combined(
            "198.51.100.7",
            30,
            "GET / HTTP/1.1",
            200,
            5000,
            "https://news.example.org/item",
            SAFARI_IPHONE,
        ),
        combined(
            "203.0.113.10",
            60,
            "GET /static/site.css HTTP/1.1",
            200,
            1000,
            "-",
            FIREFOX_WIN,
        ),
        combined("192.0.2.1", 90, "GET / HTTP/1.1", 200, 5000, "-", GOOGLEBOT),
        combined(
            "203.0.113.10",
            120,
            "GET /pricing HTTP/1.1",
            200,
            3000,
            "-",
            FIREFOX_WIN,
        ),
        combined(
            "198.51.100.7",
            7230,
            "GET /about HTTP/1.1",
            200,
            2000,
            "-",
            SAFARI_IPHONE,
        ),
    ]
    .map(|line| line + "\n")
    .concat()
}

/// A command running the binary with standard input closed, so no test waits on a terminal.
fn accesslens(args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// Runs the binary with `args` and returns its output, whatever the exit code.
fn run(args: &[&str]) -> Output {
    accesslens(args).output().expect("accesslens binary runs")
}

/// A path as a command-line argument (temporary directories have UTF-8 paths).
fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// The names in `dir`, sorted, hidden ones included.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("directory is readable")
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// The file names a successful run leaves in `--out`.
fn table_files() -> Vec<String> {
    TABLES.iter().map(|t| format!("{t}.parquet")).collect()
}

/// A temporary directory with `small_log()` written to `access.log` in it.
fn dir_with_small_log() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = write_file(dir.path(), "access.log", small_log().as_bytes());
    (dir, log)
}

/// Runs `analyze <inputs> --out <out> --quiet <extra>` and asserts that it succeeded.
fn analyze_ok(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["analyze"];
    args.extend(inputs.iter().map(|p| arg(p)));
    args.extend(["--out", arg(out), "--quiet"]);
    args.extend(extra);
    let output = run(&args);
    assert_exit(&output, 0);
    output
}

/// Line accounting as the README defines it: `\n` ends a line (a trailing `\r` is part of
/// the terminator), a last line without one still counts, and a line of nothing but spaces,
/// tabs, carriage returns, vertical tabs and form feeds is blank.
/// Returns (line count, 1-based numbers of the non-blank lines).
fn count_lines(bytes: &[u8]) -> (u64, Vec<u64>) {
    let mut segments: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop();
    }
    let non_blank = segments
        .iter()
        .zip(1..)
        .filter(|(line, _)| {
            !line
                .iter()
                .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c'))
        })
        .map(|(_, number)| number)
        .collect();
    (segments.len() as u64, non_blank)
}

// ---------------------------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_lines_exit_0_with_a_warning_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = small_log();
    text.insert_str(
        text.find('\n').unwrap() + 1,
        "this is not a log line\n\n203.0.113.10 - - [no time] \"GET / HTTP/1.1\" 200 1\n",
    );
    let log = write_file(dir.path(), "access.log", text.as_bytes());
    let out = dir.path().join("out");

    let output = analyze_ok(&[&log], &out, &[]);

    let err = stderr(&output);
    assert!(err.contains("warning"), "{err}");
    assert!(err.contains("2 malformed lines"), "{err}");
    assert!(
        err.contains(&format!("{}:2:", log.display())),
        "the warning names the file and line 2: {err}"
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select lines, blank_lines, malformed, hits from '{out}/summary.parquet'"
        ),
        [["9", "1", "2", "6"]]
    );
}

#[test]
fn command_line_mistakes_exit_2_and_write_nothing() {
    let (dir, log) = dir_with_small_log();
    let out = dir.path().join("out");
    let (log, out) = (arg(&log), arg(&out));
    let cases: [(&[&str], &str); 7] = [
        (&["analyze", "--out", out], "<FILES>"),
        (&["analyze", log], "--out"),
        (&["analyze", log, "--out", out, "--bogus"], "--bogus"),
        (
            &["analyze", log, "--out", out, "--format", "bogus"],
            "--format",
        ),
        (
            &["analyze", log, "--out", out, "--session-timeout", "30"],
            "--session-timeout",
        ),
        (
            &["analyze", log, "--out", out, "--session-timeout", "0m"],
            "--session-timeout",
        ),
        (&["analyze", "-", "-", "--out", out], "standard input"),
    ];
    for (args, mention) in cases {
        let output = run(args);
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(
            err.contains(mention),
            "{args:?}: stderr should name {mention:?}: {err}"
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
        assert_eq!(
            entries(dir.path()),
            ["access.log"],
            "{args:?} wrote something"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Failed runs write nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_input_exits_1_and_creates_no_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let out = dir.path().join("out");

    let output = run(&["analyze", arg(&missing), "--out", arg(&out), "--quiet"]);

    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(err.contains(arg(&missing)), "{err}");
    assert!(!out.exists(), "--out was created by a failed run");
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn failed_run_leaves_a_previous_run_untouched() {
    let (dir, log) = dir_with_small_log();
    let out = dir.path().join("out");
    analyze_ok(&[&log], &out, &[]);
    let summary_before = std::fs::read(out.join("summary.parquet")).unwrap();

    let missing = dir.path().join("nope.log");
    let output = run(&["analyze", arg(&missing), "--out", arg(&out), "--quiet"]);

    assert_exit(&output, 1);
    assert!(stderr(&output).contains(arg(&missing)));
    assert_eq!(entries(&out), table_files(), "no staging directory is left");
    assert_eq!(
        std::fs::read(out.join("summary.parquet")).unwrap(),
        summary_before
    );
}

#[test]
fn one_missing_input_of_two_fails_the_whole_run() {
    let (dir, log) = dir_with_small_log();
    let missing = dir.path().join("nope.log");
    let out = dir.path().join("out");

    for inputs in [[&log, &missing], [&missing, &log]] {
        let output = run(&[
            "analyze",
            arg(inputs[0]),
            arg(inputs[1]),
            "--out",
            arg(&out),
            "--quiet",
        ]);
        assert_exit(&output, 1);
        let err = stderr(&output);
        assert!(err.contains(arg(&missing)), "{err}");
        assert!(!err.contains("warning"), "{err}");
        assert!(!out.exists(), "--out was created by a failed run");
    }
}

#[test]
fn keep_going_skips_a_missing_input_with_a_warning() {
    let (dir, log) = dir_with_small_log();
    let missing = dir.path().join("nope.log");
    let out = dir.path().join("out");

    let output = analyze_ok(&[&missing, &log], &out, &["--keep-going"]);

    let err = stderr(&output);
    assert!(err.contains("warning"), "{err}");
    assert!(err.contains(arg(&missing)), "{err}");
    assert_eq!(
        duckdb_rows(&out, "select file, lines, hits from '{out}/inputs.parquet'"),
        [[arg(&log), "6", "6"]]
    );
    assert_eq!(entries(&out), table_files());
}

#[test]
fn keep_going_with_no_readable_input_exits_1_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let out = dir.path().join("out");

    let output = run(&[
        "analyze",
        arg(&missing),
        "--out",
        arg(&out),
        "--quiet",
        "--keep-going",
    ]);

    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains(arg(&missing)),
        "stderr should say which input was skipped and why: {err}"
    );
    assert!(!out.exists(), "--out was created by a failed run");
}

#[test]
fn an_empty_directory_or_a_pattern_matching_nothing_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join(".hidden"), b"not a log\n").unwrap();
    let out = dir.path().join("out");

    let output = run(&["analyze", arg(&logs), "--out", arg(&out), "--quiet"]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains(&format!("directory {} has none", logs.display())),
        "{err}"
    );
    assert!(!out.exists(), "--out was created by a failed run");

    let pattern = logs.join("access.log*");
    let output = run(&["analyze", arg(&pattern), "--out", arg(&out), "--quiet"]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains(&format!("pattern {} has none", pattern.display())),
        "{err}"
    );
}

/// A directory stands for the files in it, a quoted pattern for the files it matches, and
/// a file named twice is read once.
#[test]
fn directories_and_patterns_expand_to_their_files_each_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = small_log();
    let (a, b) = log.split_at(log.find('\n').unwrap() + 1);
    std::fs::write(logs.join("access.log"), b).unwrap();
    std::fs::write(logs.join("access.log.1"), a).unwrap();
    std::fs::write(logs.join("error.log"), b"").unwrap();

    let inputs = |out: &Path| {
        duckdb_rows(
            out,
            "select file, lines from '{out}/inputs.parquet' order by file",
        )
    };
    let by_dir = dir.path().join("by-dir");
    analyze_ok(&[&logs], &by_dir, &[]);
    let by_pattern = dir.path().join("by-pattern");
    let pattern = logs.join("access.log*");
    analyze_ok(&[&pattern, &logs.join("access.log")], &by_pattern, &[]);

    let name = |f: &str| logs.join(f).display().to_string();
    assert_eq!(
        inputs(&by_dir),
        [
            [
                name("access.log"),
                (small_log().lines().count() - 1).to_string()
            ],
            [name("access.log.1"), "1".to_owned()],
            [name("error.log"), "0".to_owned()],
        ]
    );
    assert_eq!(inputs(&by_pattern), inputs(&by_dir)[..2].to_vec());
    let hits = |out: &Path| duckdb_value(out, "select hits from '{out}/summary.parquet'");
    // Fingerprints follow content: the empty error.log and the two logs differ.
    assert_eq!(
        duckdb_value(
            &by_dir,
            "select count(distinct fingerprint) from '{out}/inputs.parquet'"
        ),
        "3"
    );
    assert_eq!(
        duckdb_value(
            &by_dir,
            "select fingerprint from '{out}/inputs.parquet' where file like '%error.log'"
        ),
        format!("0-{:016x}", xxhash_rust::xxh3::xxh3_64(&0u64.to_le_bytes()))
    );
    assert_eq!(hits(&by_pattern), "6");
    assert_eq!(hits(&by_dir), "6");
}

#[test]
fn hundreds_of_files_are_read_under_a_small_descriptor_limit() {
    // 300 rotated files, plain and gzip, with 48 descriptors allowed: inputs are checked up
    // front but opened only when read, a few at a time.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let line = |i: usize| {
        format!(
            "192.0.2.{} - - [10/Mar/2024:10:{:02}:00 +0000] \"GET /p{i} HTTP/1.1\" 200 10 \"-\" \"curl/8.0\"\n",
            i % 200,
            i % 60
        )
    };
    for i in 0..300 {
        let text = format!("{}{}", line(2 * i), line(2 * i + 1));
        if i % 3 == 0 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
            std::fs::write(
                logs.join(format!("access.log.{i}.gz")),
                gz.finish().unwrap(),
            )
            .unwrap();
        } else {
            std::fs::write(logs.join(format!("access.log.{i}")), text).unwrap();
        }
    }
    let out = dir.path().join("out");
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 48 && exec \"$0\" analyze \"$1\" --out \"$2\" --quiet")
        .arg(env!("CARGO_BIN_EXE_accesslens"))
        .arg(&logs)
        .arg(&out)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(
        duckdb_rows(
            &out,
            "select count(*), sum(lines), sum(hits) from '{out}/inputs.parquet'"
        ),
        [["300", "600", "600"]]
    );
    assert_eq!(
        duckdb_value(&out, "select hits from '{out}/summary.parquet'"),
        "600"
    );
}

#[test]
fn output_that_is_a_regular_file_exits_1_naming_it() {
    let (dir, log) = dir_with_small_log();
    let file = write_file(dir.path(), "file.txt", b"keep me\n");

    for out in [file.clone(), file.join("out")] {
        let output = run(&["analyze", arg(&log), "--out", arg(&out), "--quiet"]);
        assert_exit(&output, 1);
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "cannot write to the output directory {}",
                out.display()
            )),
            "{err}"
        );
        assert_eq!(entries(dir.path()), ["access.log", "file.txt"]);
        assert_eq!(std::fs::read(&file).unwrap(), b"keep me\n");
    }
}

#[test]
fn a_new_run_replaces_the_previous_tables() {
    let (dir, log) = dir_with_small_log();
    let out = dir.path().join("out");
    analyze_ok(&[&log], &out, &[]);
    assert_eq!(
        duckdb_rows(&out, "select hits, sessions from '{out}/summary.parquet'"),
        [["6", "3"]]
    );

    let one_hit = combined("192.0.2.9", 0, "GET / HTTP/1.1", 200, 10, "-", CHROME_MAC) + "\n";
    let other = write_file(dir.path(), "other.log", one_hit.as_bytes());
    analyze_ok(&[&other], &out, &[]);

    assert_eq!(
        duckdb_rows(
            &out,
            "select s.hits, s.sessions, i.file \
             from '{out}/summary.parquet' s, '{out}/inputs.parquet' i"
        ),
        [["1", "1", arg(&other)]]
    );
    assert_eq!(entries(&out), table_files(), "no staging directory is left");
}

// ---------------------------------------------------------------------------------------------
// Unusual inputs
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_file_writes_every_table_empty() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_file(dir.path(), "empty.log", b"");
    let out = dir.path().join("out");

    analyze_ok(&[&log], &out, &[]);

    assert_eq!(entries(&out), table_files());
    let counts = TABLES
        .map(|t| format!("select '{t}', count(*) from '{{out}}/{t}.parquet'"))
        .join(" union all ");
    let mut rows = duckdb_rows(&out, &counts);
    rows.sort();
    let expected: Vec<Vec<String>> = TABLES
        .iter()
        .map(|t| {
            let n = match *t {
                "summary" | "inputs" => "1",
                _ => "0",
            };
            vec![(*t).to_owned(), n.to_owned()]
        })
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(
        duckdb_rows(
            &out,
            "select s.lines, s.blank_lines, s.malformed, s.hits, s.bytes, s.human_hits, \
             s.bot_hits, s.bot_bytes, s.page_views, s.visitors, s.sessions, s.bounces, \
             s.bounce_rate, s.engaged_sessions, s.engagement_rate, s.avg_session_s, \
             s.median_session_s, s.pages_per_session, s.first_ts, s.last_ts, s.inputs, \
             s.input_bytes, \
             i.file, i.bytes, i.lines, i.blank_lines, i.hits, i.malformed \
             from '{out}/summary.parquet' s, '{out}/inputs.parquet' i"
        ),
        [[
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "NULL",
            "0",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "1",
            "0", // summary
            arg(&log),
            "0",
            "0",
            "0",
            "0",
            "0" // inputs
        ]]
    );
}

#[test]
fn binary_file_is_all_malformed_or_blank() {
    let mut rng = Rng(0x5EED_0B1A);
    let bytes: Vec<u8> = (0..64 * 1024).map(|_| rng.next_u64() as u8).collect();
    assert!(bytes.contains(&0), "the input holds NUL bytes");
    let (lines, non_blank) = count_lines(&bytes);
    let malformed = non_blank.len() as u64;
    assert!(malformed > 100, "enough lines to fill the samples");

    let dir = tempfile::tempdir().unwrap();
    let log = write_file(dir.path(), "random.bin", &bytes);
    let out = dir.path().join("out");
    // No format reads such bytes: detection refuses them, so the format is named.
    let output = analyze_ok(&[&log], &out, &["--format", "combined"]);

    assert!(
        stderr(&output).contains(&format!("{}:{}:", log.display(), non_blank[0])),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select lines, blank_lines, malformed, hits, input_bytes, \
             (select count(*) from '{out}/malformed_samples.parquet'), \
             (select string_agg(line::varchar, ',' order by line) \
              from '{out}/malformed_samples.parquet') \
             from '{out}/summary.parquet'"
        ),
        [[
            lines.to_string(),
            (lines - malformed).to_string(),
            malformed.to_string(),
            "0".to_owned(),
            bytes.len().to_string(),
            "100".to_owned(),
            non_blank[..100]
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ]]
    );
}

#[test]
fn standard_input_gives_the_same_summary_as_the_file() {
    let (dir, log) = dir_with_small_log();
    let from_file = dir.path().join("from-file");
    let from_stdin = dir.path().join("from-stdin");
    analyze_ok(&[&log], &from_file, &[]);

    let mut child = bin()
        .args(["analyze", "-", "--out", arg(&from_stdin), "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("accesslens binary runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(small_log().as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 0);

    // Every column of both summaries as text (timestamps in UTC).
    let summaries = duckdb_rows(
        dir.path(),
        "SET TimeZone = 'UTC'; \
         select 1, columns(*)::varchar from '{out}/from-file/summary.parquet' \
         union all \
         select 2, columns(*)::varchar from '{out}/from-stdin/summary.parquet' order by 1",
    );
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0][5], "6", "hits");
    assert_eq!(summaries[1][1..], summaries[0][1..]);
    let len = small_log().len().to_string();
    assert_eq!(
        duckdb_rows(&from_stdin, "select * from '{out}/inputs.parquet'"),
        [[
            "-",
            "combined",
            len.as_str(),
            "6",
            "0",
            "6",
            "0",
            "0",
            "NULL"
        ]]
    );
}

// ---------------------------------------------------------------------------------------------
// Help, version, overview
// ---------------------------------------------------------------------------------------------

#[test]
fn help_mentions_every_documented_option() {
    let top = run(&["--help"]);
    assert_exit(&top, 0);
    assert!(stdout(&top).contains("analyze"), "{}", stdout(&top));

    // The README's Usage table, and the values it lists.
    let documented = [
        "<FILES>",
        "-o, --out",
        "-f, --format",
        "combined",
        "common",
        "--site-domain",
        "--sessions",
        "ga4",
        "awstats",
        "--session-timeout",
        "-j, --threads",
        "--top",
        "-q, --quiet",
        "--keep-going",
        "--no-mmap",
    ];
    for args in [
        &["analyze", "--help"][..],
        &["analyze", "-h"],
        &["help", "analyze"],
    ] {
        let output = run(args);
        assert_exit(&output, 0);
        let help = stdout(&output);
        for option in documented {
            assert!(help.contains(option), "{args:?} lacks {option}:\n{help}");
        }
        for hidden in ["--chunk-size", "--window-size"] {
            assert!(!help.contains(hidden), "{args:?} shows {hidden}:\n{help}");
        }
    }
}

#[test]
fn version_is_the_crate_version() {
    let expected = format!("accesslens {}\n", env!("CARGO_PKG_VERSION"));
    for args in [["--version"], ["-V"]] {
        let output = run(&args);
        assert_exit(&output, 0);
        assert_eq!(stdout(&output), expected, "{args:?}");
    }
}

/// Runs `analyze` inside `dir` with relative paths (so the `--out` path in the overview is
/// short) and returns the output, asserting success.
fn analyze_in(dir: &Path, args: &[&str]) -> Output {
    let output = accesslens(&[&["analyze"][..], args].concat())
        .current_dir(dir)
        .output()
        .expect("accesslens binary runs");
    assert_exit(&output, 0);
    output
}

#[test]
fn overview_shows_totals_and_throughput() {
    let (dir, _log) = dir_with_small_log();

    let output = analyze_in(dir.path(), &["access.log", "--out", "out"]);

    let text = stdout(&output);
    for figure in [
        "· 6 lines\nanalysed in ",
        " lines/s",
        "hits 6 ",
        "visitors 2 ",
        "sessions 3 ",
        "page views 4\n",
    ] {
        assert!(text.contains(figure), "overview lacks {figure:?}:\n{text}");
    }
    assert!(text.contains("Reports written to out"), "{text}");
    // Without --format, the format detected is said on standard error; nothing else is.
    assert_eq!(
        stderr(&output),
        "accesslens: access.log: format combined (6/6 sample lines)\n"
    );
}

#[test]
fn overview_fits_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("/articles/{}", "very-long-slug-".repeat(8));
    let mut text = small_log();
    for (i, agent) in [FIREFOX_WIN, CHROME_MAC, SAFARI_IPHONE].iter().enumerate() {
        let secs = 100 + i as u64;
        let request = format!("GET {long}{i} HTTP/1.1");
        let referrer = format!("https://a-rather-long-host-name-{i}.example.org/some/page");
        text += &combined(
            "192.0.2.77",
            secs,
            &request,
            200,
            123_456_789,
            &referrer,
            agent,
        );
        text += "\n";
        text += &combined("192.0.2.78", secs, &request, 404, 10, &referrer, agent);
        text += "\n";
    }
    text += &combined("192.0.2.79", 200, "GET / HTTP/1.1", 200, 1 << 30, "-", CURL);
    text += "\nnot a log line\n";
    // Wide characters (two columns each) in a page's name.
    let wide = format!("GET /상품/{} HTTP/1.1", "위젯".repeat(30));
    for i in 0..3 {
        text += &combined("192.0.2.80", 300 + i, &wide, 200, 10, "-", FIREFOX_WIN);
        text += "\n";
    }
    write_file(dir.path(), "a.log", text.as_bytes());
    write_file(dir.path(), "b.log", small_log().as_bytes());

    let output = analyze_in(dir.path(), &["a.log", "b.log", "--out", "out"]);

    let overview = stdout(&output);
    assert!(overview.contains("Reports written to out"), "{overview}");
    assert!(overview.contains("/상품/위젯위젯"), "{overview}");
    let too_wide: Vec<(usize, &str)> = overview
        .lines()
        .map(|line| (unicode_width::UnicodeWidthStr::width(line), line))
        .filter(|(width, _)| *width > 80)
        .collect();
    assert!(
        too_wide.is_empty(),
        "lines wider than 80 columns: {too_wide:#?}"
    );
}

#[test]
fn quiet_prints_nothing() {
    let (dir, _log) = dir_with_small_log();

    let output = analyze_in(dir.path(), &["access.log", "--out", "out", "--quiet"]);

    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    assert_eq!(entries(&dir.path().join("out")), table_files());
}

/// Styling only where it shows: never into a pipe or file unless asked, never with NO_COLOR
/// unless asked, and the text is the same with it stripped.
#[test]
fn colour_only_on_request_or_on_a_terminal() {
    let (dir, _log) = dir_with_small_log();
    let plain = analyze_in(dir.path(), &["access.log", "--out", "a"]);
    assert!(!stdout(&plain).contains('\x1b'), "a pipe gets no escapes");
    let never = analyze_in(
        dir.path(),
        &["access.log", "--out", "b", "--color", "never"],
    );
    assert!(!stdout(&never).contains('\x1b'));
    let mut forced = accesslens(&["analyze", "access.log", "--out", "c", "--color", "always"]);
    let forced = forced
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_exit(&forced, 0);
    let styled = stdout(&forced);
    assert!(styled.contains("\x1b[1mChannels\x1b[0m"), "{styled}");
    // Without its escapes, the styled overview is the plain one (but for the run time).
    let strip = |text: &str| {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('\x1b') {
            out.push_str(&rest[..i]);
            let end = rest[i..].find('m').map_or(rest.len(), |m| i + m + 1);
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    };
    let without_time = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("analysed in") && !l.starts_with("Reports written"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(without_time(&strip(&styled)), without_time(&stdout(&plain)));
}

#[test]
fn closed_stdout_is_not_a_failure() {
    let (dir, log) = dir_with_small_log();
    let out = dir.path().join("out");

    let mut child = accesslens(&["analyze", arg(&log), "--out", arg(&out)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("accesslens binary runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();

    assert_exit(&output, 0);
    assert_eq!(
        stderr(&output),
        format!(
            "accesslens: {}: format combined (6/6 sample lines)\n",
            log.display()
        )
    );
    assert_eq!(entries(&out), table_files());
}

// ---------------------------------------------------------------------------------------------
// Same tables whatever the threads, chunks, windows or reads
// ---------------------------------------------------------------------------------------------

/// `lines` combined-format lines: eighteen visitor keys (three of them bots), varied paths,
/// query strings, methods, statuses and referrers, times increasing by 0 to 40 seconds (so
/// some hits share a timestamp and some gaps cut sessions).
fn generated_log(lines: usize, seed: u64) -> String {
    const IPS: [&str; 6] = [
        "203.0.113.10",
        "203.0.113.11",
        "198.51.100.7",
        "198.51.100.8",
        "192.0.2.44",
        "2001:db8::1",
    ];
    const AGENTS: [&str; 5] = [FIREFOX_WIN, CHROME_MAC, SAFARI_IPHONE, GOOGLEBOT, CURL];
    const TARGETS: [&str; 10] = [
        "/",
        "/pricing",
        "/pricing?plan=pro",
        "/features",
        "/static/app.css",
        "/img/hero.png",
        "/collect?sr=1920x1080",
        "/missing",
        "http://www.mysite.test/docs",
        "/shop#top",
    ];
    const METHODS: [&str; 4] = ["GET", "GET", "GET", "POST"];
    const STATUSES: [u16; 8] = [200, 200, 200, 200, 304, 301, 404, 500];
    const REFERRERS: [&str; 5] = [
        "-",
        "-",
        "https://www.google.com/",
        "https://news.example.org/item?id=7",
        "https://www.mysite.test/pricing",
    ];
    let mut rng = Rng(seed);
    let mut secs = 0;
    let mut text = String::with_capacity(lines * 220);
    for _ in 0..lines {
        secs += rng.below(41);
        let ip = rng.pick(&IPS);
        // Three agents per IP: a key's agent depends on the IP, so there are 18 keys.
        let agent = AGENTS
            [(IPS.iter().position(|i| *i == ip).unwrap() + rng.below(3) as usize) % AGENTS.len()];
        let request = format!(
            "{} {}{} HTTP/1.1",
            rng.pick(&METHODS),
            rng.pick(&TARGETS),
            if rng.below(4) == 0 { "/deep" } else { "" }
        );
        text += &combined(
            ip,
            secs,
            &request,
            rng.pick(&STATUSES),
            rng.below(50_000),
            rng.pick(&REFERRERS),
            agent,
        );
        text.push('\n');
    }
    text
}

#[test]
fn tables_do_not_depend_on_threads_chunks_windows_or_mmap() {
    let dir = tempfile::tempdir().unwrap();
    let text = generated_log(10_000, 7);
    assert!(
        text.len() >= 1 << 20,
        "large enough to be memory-mapped unless --no-mmap"
    );
    let log = write_file(dir.path(), "generated.log", text.as_bytes());
    let runs: [(&str, &[&str]); 4] = [
        ("a-threads-1", &["--threads", "1"]),
        ("b-threads-4", &["--threads", "4"]),
        (
            "c-tiny-chunks",
            &[
                "--threads",
                "4",
                "--chunk-size",
                "1000",
                "--window-size",
                "5000",
            ],
        ),
        (
            "d-no-mmap",
            &[
                "--threads",
                "3",
                "--no-mmap",
                "--chunk-size",
                "1000",
                "--window-size",
                "5000",
            ],
        ),
    ];
    let children: Vec<_> = runs
        .iter()
        .map(|(name, extra)| {
            let out = dir.path().join(name);
            let mut args = vec!["analyze", arg(&log), "--out", arg(&out), "--quiet"];
            args.extend(["--site-domain", "mysite.test"]);
            args.extend(*extra);
            accesslens(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("accesslens binary runs")
        })
        .collect();
    for child in children {
        assert_exit(&child.wait_with_output().unwrap(), 0);
    }

    // Every row of every table of every run, in file order, as text.
    let query = runs
        .iter()
        .flat_map(|(name, _)| {
            TABLES.map(|t| {
                format!(
                    "select '{name}' as run, '{t}' as t, file_row_number as n, \
                     cast(x as varchar) as row \
                     from read_parquet('{{out}}/{name}/{t}.parquet', file_row_number = true) x"
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" union all ");
    let rows = duckdb_rows(
        dir.path(),
        &format!("SET TimeZone = 'UTC'; {query} order by run, t, n"),
    );
    let tables_of = |run: &str| -> Vec<Vec<String>> {
        rows.iter()
            .filter(|r| r[0] == run)
            .map(|r| r[1..].to_vec())
            .collect()
    };
    let baseline = tables_of(runs[0].0);
    let count = |table: &str| baseline.iter().filter(|r| r[0] == table).count();
    assert_eq!(count("summary"), 1);
    assert_eq!(count("inputs"), 1);
    assert!(
        baseline
            .iter()
            .any(|r| r[0] == "summary" && r[2].contains("'lines': 10000,"))
    );
    for table in [
        "sessions",
        "pages",
        "referrers",
        "errors",
        "robots",
        "visitors",
    ] {
        assert!(count(table) > 1, "{table} has rows to compare");
    }
    for (name, _) in &runs[1..] {
        let tables = tables_of(name);
        for table in TABLES {
            let pick = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
                rows.iter().filter(|r| r[0] == table).cloned().collect()
            };
            assert_eq!(
                pick(&tables),
                pick(&baseline),
                "{table} differs between {} and {name}",
                runs[0].0
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property: every line is exactly one of hit, malformed or blank
// ---------------------------------------------------------------------------------------------

/// What a random log holds, counted while it is written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Written {
    lines: u64,
    valid: u64,
    malformed: u64,
    blank: u64,
}

/// A random small log: valid lines, malformed lines of several kinds and blank lines, with
/// `\n` or `\r\n` endings and sometimes no final line terminator.
fn random_log(rng: &mut Rng) -> (String, Written) {
    let mut written = Written::default();
    let mut text = String::new();
    let count = 1 + rng.below(60);
    for i in 0..count {
        let ip = format!("192.0.2.{}", rng.below(5));
        let secs = i * 30;
        let valid = combined(&ip, secs, "GET /x HTTP/1.1", 200, 512, "-", FIREFOX_WIN);
        let line = match rng.below(10) {
            0..=5 => {
                written.valid += 1;
                valid
            }
            6 | 7 => {
                written.malformed += 1;
                match rng.below(6) {
                    0 => format!("garbage line {i} without fields"),
                    1 => valid.replace("/Mar/", "/Foo/"),
                    2 => valid.replace("\" 200 512 ", "\" 20 512 "),
                    3 => valid.replace(" 512 ", " 5x2 "),
                    4 => valid.replace("\"-\"", "-"),
                    _ => valid[..valid.find(" 200 ").unwrap()].to_owned(),
                }
            }
            _ => {
                written.blank += 1;
                rng.pick(&["", " ", "\t", "  \t  "]).to_string()
            }
        };
        written.lines += 1;
        text += &line;
        let last = i + 1 == count;
        if !(last && !line.is_empty() && rng.below(2) == 0) {
            text += if rng.below(3) == 0 { "\r\n" } else { "\n" };
        }
    }
    (text, written)
}

#[test]
fn prop_every_line_is_a_hit_a_malformed_line_or_blank() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = 0..10u64;
    let mut expected = Vec::new();
    let mut children = Vec::new();
    for seed in seeds.clone() {
        let (text, written) = random_log(&mut Rng(seed));
        let log = write_file(dir.path(), &format!("seed-{seed:02}.log"), text.as_bytes());
        let out = dir.path().join(format!("out-{seed:02}"));
        let args = ["analyze", arg(&log), "--out", arg(&out), "--quiet"];
        children.push(
            accesslens(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("accesslens binary runs"),
        );
        expected.push(written);
    }
    for child in children {
        assert_exit(&child.wait_with_output().unwrap(), 0);
    }
    let total = |kind: fn(&Written) -> u64| expected.iter().map(kind).sum::<u64>();
    assert!(total(|w| w.valid) > 0, "valid lines are written");
    assert!(total(|w| w.malformed) > 0, "malformed lines are written");
    assert!(total(|w| w.blank) > 0, "blank lines are written");

    let rows = duckdb_rows(
        dir.path(),
        "select lines, hits, malformed, blank_lines \
         from read_parquet('{out}/out-*/summary.parquet', filename = true) order by filename",
    );
    assert_eq!(rows.len(), expected.len());
    for ((seed, row), written) in seeds.zip(&rows).zip(&expected) {
        let [lines, hits, malformed, blank] = [0, 1, 2, 3].map(|i| row[i].parse::<u64>().unwrap());
        assert_eq!(lines, hits + malformed + blank, "seed {seed}: {row:?}");
        let got = Written {
            lines,
            valid: hits,
            malformed,
            blank,
        };
        assert_eq!(got, *written, "seed {seed}");
    }
}

#[test]
fn since_and_until_keep_the_lines_of_a_day_on_their_own_clock_or_in_utc() {
    let dir = tempfile::tempdir().unwrap();
    let line = |when: &str, path: &str| {
        format!("192.0.2.9 - - [{when}] \"GET {path} HTTP/1.1\" 200 10 \"-\" \"{FIREFOX_WIN}\"\n")
    };
    let log = [
        line("09/Oct/2026:23:59:59 +0900", "/a"), // 9th locally; 14:59:59Z on the 9th
        line("10/Oct/2026:00:00:00 +0900", "/b"), // 10th locally; 15:00Z on the 9th
        line("10/Oct/2026:23:30:00 +0900", "/c"), // 10th locally; 14:30Z on the 10th
        line("11/Oct/2026:00:00:00 +0900", "/d"), // 11th locally; 15:00Z on the 10th
        line("10/Oct/2026:20:00:00 +0000", "/e"), // 10th locally and in UTC
        "not a log line\n".to_owned(),
    ]
    .concat();
    let input = write_file(dir.path(), "access.log", log.as_bytes());
    let read = |name: &str, range: &[&str]| {
        let out = dir.path().join(name);
        analyze_ok(&[&input], &out, range);
        (
            duckdb_rows(
                &out,
                "select hits, out_of_range, malformed, lines from '{out}/summary.parquet'",
            ),
            duckdb_rows(
                &out,
                "select string_agg(path, ' ' order by path) from '{out}/pages.parquet'",
            ),
            duckdb_value(&out, "select out_of_range from '{out}/inputs.parquet'"),
        )
    };

    let (summary, pages, per_file) =
        read("local", &["--since", "2026-10-10", "--until", "2026-10-10"]);
    assert_eq!(summary, [["3", "2", "1", "6"]]);
    assert_eq!(pages, [["/b /c /e"]]);
    assert_eq!(per_file, "2");

    let (summary, pages, _) = read(
        "utc",
        &[
            "--since",
            "2026-10-10T00:00Z",
            "--until",
            "2026-10-11T00:00:00+00:00",
        ],
    );
    assert_eq!(summary, [["3", "2", "1", "6"]]);
    assert_eq!(pages, [["/c /d /e"]]);

    // Open-ended, and a time of day: from 23:30 on the 10th (its own clock) on.
    let (summary, pages, _) = read("open", &["--since", "2026-10-10T23:30"]);
    assert_eq!(summary, [["2", "3", "1", "6"]]);
    assert_eq!(pages, [["/c /d"]]);

    let (summary, _, _) = read("all", &[]);
    assert_eq!(summary, [["5", "0", "1", "6"]]);
}

#[test]
fn a_bad_or_empty_time_range_exits_2_naming_the_option() {
    let (dir, log) = dir_with_small_log();
    let out = dir.path().join("out");
    for (args, message) in [
        (&["--since", "yesterday"][..], "--since"),
        (&["--until", "2026-02-30"][..], "--until"),
        (
            &["--since", "2026-10-10", "--until", "2026-10-09"][..],
            "not after --since",
        ),
    ] {
        let output = run(&[&["analyze", arg(&log), "--out", arg(&out)][..], args].concat());
        assert_exit(&output, 2);
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert!(!out.exists());
    }
}

#[test]
fn tz_puts_utc_and_unzoned_logs_on_the_named_clock() {
    let dir = tempfile::tempdir().unwrap();
    // W3C times are UTC: 23:30 UTC on the 10th is 08:30 on the 11th at +09:00.
    let w3c = "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)\n\
               2026-10-10 23:30:00 192.0.2.1 GET /a 200 Mozilla/5.0+(X11;+Linux+x86_64)\n";
    // HAProxy dates are the server's clock with no zone: 13:55:36 at +02:00 is 11:55:36Z.
    let haproxy = "192.0.2.2:51234 [10/Oct/2026:13:55:36.120] www app/web1 0/0/1/12/13 200 \
                   5120 - - ---- 3/3/0/0/0 0/0 \"GET /b HTTP/1.1\"\n";
    // A combined line keeps its own offset whatever --tz says.
    let combined =
        "192.0.2.3 - - [10/Oct/2026:13:00:00 +0100] \"GET /c HTTP/1.1\" 200 5 \"-\" \"curl/8.0\"\n";
    // IIS's date-local and time-local are the server's clock, as HAProxy's dates: 09:00 at
    // +02:00 is 07:00Z; the header after them is UTC again.
    let iis = "#Fields: date-local time-local c-ip cs-method cs-uri-stem sc-status cs(User-Agent)\n\
               2026-10-10 09:00:00 192.0.2.4 GET /d 200 Mozilla/5.0+(X11;+Linux+x86_64)\n\
               #Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)\n\
               2026-10-10 20:00:00 192.0.2.5 GET /e 200 Mozilla/5.0+(X11;+Linux+x86_64)\n";
    let iis = write_file(dir.path(), "iis.log", iis.as_bytes());
    let w3c = write_file(dir.path(), "w3c.log", w3c.as_bytes());
    let haproxy = write_file(dir.path(), "haproxy.log", haproxy.as_bytes());
    let combined = write_file(dir.path(), "combined.log", combined.as_bytes());
    let hours = |out: &Path| {
        duckdb_rows(
            out,
            "SET TimeZone = 'UTC'; select strftime(hour_utc, '%d %H'), \
             strftime(hour_local, '%d %H'), utc_offset_min, hits \
             from '{out}/traffic_by_hour.parquet' order by hour_utc",
        )
    };
    let plain = dir.path().join("plain");
    let output = analyze_ok(&[&w3c, &haproxy, &combined, &iis], &plain, &[]);
    // Without --tz the server's clock is read as UTC, and the inputs that log it are named
    // (iis.log for its first header only, so in part).
    let unzoned = "are the server's clock with no zone written";
    assert!(
        stderr(&output).contains(&format!(
            "warning: the times of {}, {} (in part: {}: 1 of its 2 hits) {unzoned}",
            haproxy.display(),
            iis.display(),
            iis.display()
        )),
        "{}",
        stderr(&output)
    );
    let output = analyze_ok(&[&w3c, &combined], &dir.path().join("utc"), &[]);
    assert!(!stderr(&output).contains(unzoned), "{}", stderr(&output));
    // Lines out of --since's range are not hits: iis.log's local one (09:00) is not named.
    let output = analyze_ok(
        &[&w3c, &haproxy, &combined, &iis],
        &dir.path().join("since"),
        &["--since", "2026-10-10T10:00:00Z"],
    );
    assert!(
        stderr(&output).contains(&format!(
            "warning: the times of {} {unzoned}",
            haproxy.display()
        )),
        "{}",
        stderr(&output)
    );
    let output = analyze_ok(&[&haproxy], &dir.path().join("haproxy"), &[]);
    assert!(
        stderr(&output).contains(&format!("warning: the times logged {unzoned}")),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        hours(&plain),
        [
            ["10 09", "10 09", "0", "1"],
            ["10 12", "10 13", "60", "1"],
            ["10 13", "10 13", "0", "1"],
            ["10 20", "10 20", "0", "1"],
            ["10 23", "10 23", "0", "1"],
        ]
    );
    let plus_two = dir.path().join("tz");
    let output = analyze_ok(
        &[&w3c, &haproxy, &combined, &iis],
        &plus_two,
        &["--tz", "+02:00"],
    );
    assert!(!stderr(&output).contains(unzoned), "{}", stderr(&output));
    assert_eq!(
        hours(&plus_two),
        [
            ["10 07", "10 09", "120", "1"],
            ["10 11", "10 13", "120", "1"],
            ["10 12", "10 13", "60", "1"],
            ["10 20", "10 22", "120", "1"],
            ["10 23", "11 01", "120", "1"],
        ]
    );
    let output = run(&[
        "analyze",
        arg(&w3c),
        "--tz",
        "Europe/Berlin",
        "--out",
        arg(&plus_two),
    ]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("daylight saving"),
        "{}",
        stderr(&output)
    );
}

/// Runs `accesslens ARGS` with the reader held after mapping its first window (a test hook
/// in the environment, using the directory `hold`), cuts `log` to `len` bytes under the
/// mapping, lets the reader go on, and returns what the run did; `None` when the binary is
/// a release build, which does not have the hook.
fn run_truncated_while_mapped(
    args: &[&str],
    hold: &Path,
    log: &Path,
    len: u64,
) -> Option<std::process::Output> {
    if !cfg!(debug_assertions) {
        eprintln!("skipped: the hold hook is in debug builds only (cargo test without --release)");
        return None;
    }
    for signal in ["mapped", "go"] {
        let _ = std::fs::remove_file(hold.join(signal));
    }
    let child = accesslens(args)
        .env("ACCESSLENS_TEST_HOLD_MAPPED", hold)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("accesslens binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !hold.join("mapped").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the reader never mapped the log"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(log)
        .unwrap()
        .set_len(len)
        .unwrap();
    std::fs::write(hold.join("go"), b"").unwrap();
    Some(child.wait_with_output().unwrap())
}

/// A log emptied by another process while it is memory-mapped and read (logrotate's
/// `copytruncate` at the wrong moment): the run stops with exit status 1, saying which file
/// shrank and that `--no-mmap` reads it, instead of dying of SIGBUS. The reader is held
/// after mapping its first window (a test hook in the environment) while the file is
/// emptied, so the truncation always lands under the mapping.
#[test]
fn a_log_truncated_while_mapped_fails_naming_it_and_the_way_around() {
    let dir = tempfile::tempdir().unwrap();
    let text = generated_log(10_000, 11);
    assert!(text.len() >= 1 << 20, "large enough to be memory-mapped");
    let log = write_file(dir.path(), "access.log", text.as_bytes());
    let hold = dir.path().join("hold");
    std::fs::create_dir(&hold).unwrap();
    let out = dir.path().join("out");
    let Some(output) = run_truncated_while_mapped(
        &["analyze", arg(&log), "--out", arg(&out), "--quiet"],
        &hold,
        &log,
        0,
    ) else {
        return;
    };
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert_eq!(
        err,
        format!(
            "accesslens: {}: the file shrank while it was being read (truncated by another process, as log rotation with copytruncate does); rerun with --no-mmap to read it without memory-mapping\n",
            arg(&log)
        )
    );
    // Nothing was written: the output directory this run created is gone with its staging
    // directory.
    assert!(!out.exists(), "{:?}", entries(&out));
    // An output directory that was there before stays, empty of the run's files.
    let before = dir.path().join("before");
    std::fs::create_dir(&before).unwrap();
    std::fs::write(&log, text.as_bytes()).unwrap();
    let Some(output) = run_truncated_while_mapped(
        &["analyze", arg(&log), "--out", arg(&before), "--quiet"],
        &hold,
        &log,
        100,
    ) else {
        return;
    };
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("the file shrank"),
        "{}",
        stderr(&output)
    );
    assert!(entries(&before).is_empty(), "{:?}", entries(&before));

    // Without the hold, the same command reads the file (now refilled) as always.
    std::fs::write(&log, text.as_bytes()).unwrap();
    analyze_ok(&[&log], &dir.path().join("again"), &[]);
}

/// Hits spilled to disk before a mapped log shrinks are not left behind when the SIGBUS
/// guard stops the run: the output directory the run created is gone, spill and all.
#[test]
fn a_run_stopped_by_a_shrinking_log_leaves_no_spilled_hits() {
    let dir = tempfile::tempdir().unwrap();
    // Read first, with read() (too small to be mapped), and spilled past a tiny budget.
    let small = generated_log(4_000, 12);
    assert!(small.len() < 1 << 20, "small enough to be read, not mapped");
    let first = write_file(dir.path(), "a.log", small.as_bytes());
    let text = generated_log(10_000, 11);
    let log = write_file(dir.path(), "b.log", text.as_bytes());
    let hold = dir.path().join("hold");
    std::fs::create_dir(&hold).unwrap();
    let out = dir.path().join("out");
    let Some(output) = run_truncated_while_mapped(
        &[
            "analyze",
            arg(&first),
            arg(&log),
            "--out",
            arg(&out),
            "--quiet",
            "--threads",
            "1",
            "--hit-memory",
            "1K",
        ],
        &hold,
        &log,
        0,
    ) else {
        return;
    };
    assert_exit(&output, 1);
    assert!(
        stderr(&output).contains("the file shrank"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists(), "left behind: {:?}", files_under_all(&out));
}

/// Every path under `dir`, hidden ones included.
fn files_under_all(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            found.push(e.path().display().to_string());
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
    found
}
