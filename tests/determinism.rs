//! Reports never depend on how the same traffic reaches accesslens: one merged, time-sorted
//! log or the logs of several load-balanced servers, each slightly out of time order; the
//! order of the files on the command line; the thread count, chunk and window sizes, or
//! memory-mapping. Each case runs the binary twice or more and reads every table back with the
//! `parquet` crate's Arrow reader, comparing them row by row and value by value. The tables
//! that describe the input files themselves (`inputs`, `malformed_samples`) legitimately
//! differ when the files differ; there the totals are compared instead.
//!
//! Inputs come from the seeded generator in `accesslens::synth` (the same bytes on every run)
//! and from a few hand-written lines whose sessions are known exactly.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use accesslens::synth::{SynthOptions, generate, generate_split};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::Fields;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::util::{TABLES, analyze, write_file};

/// Tables with one row per input file or per malformed line of a file.
const PER_FILE: [&str; 2] = ["inputs", "malformed_samples"];

/// Tables that describe the traffic, whatever files it came in.
fn traffic_tables() -> impl Iterator<Item = &'static str> {
    TABLES
        .into_iter()
        .filter(|t| !PER_FILE.contains(t) && *t != "summary")
}

/// Lines of generated traffic per case: thousands of sessions, well under a second a run.
const LINES: u64 = 30_000;

/// Servers the generated traffic is spread over.
const SERVERS: usize = 3;

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0";
const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.3 Safari/605.1.15";

// ---------------------------------------------------------------------------------------------
// Reading tables back
// ---------------------------------------------------------------------------------------------

/// A table read back from its Parquet file: the Arrow fields (without the file's key-value
/// metadata, which names the inputs) and the rows, in file order.
struct Table {
    name: String,
    fields: Fields,
    batches: Vec<RecordBatch>,
}

impl Table {
    fn read(out: &Path, name: &str) -> Table {
        let path = out.join(format!("{name}.parquet"));
        let file = File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap_or_else(|e| panic!("{}: not a Parquet file: {e}", path.display()));
        let fields = builder.schema().fields().clone();
        let batches = builder
            .build()
            .and_then(|reader| Ok(reader.collect::<Result<Vec<_>, _>>()?))
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        Table {
            name: name.to_owned(),
            fields,
            batches,
        }
    }

    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The table without `columns`.
    fn without(&self, columns: &[&str]) -> Table {
        let keep: Vec<usize> = (0..self.fields.len())
            .filter(|&i| !columns.contains(&self.fields[i].name().as_str()))
            .collect();
        assert_eq!(
            keep.len() + columns.len(),
            self.fields.len(),
            "{}: not every one of {columns:?} is a column",
            self.name
        );
        Table {
            name: self.name.clone(),
            fields: keep.iter().map(|&i| self.fields[i].clone()).collect(),
            batches: self
                .batches
                .iter()
                .map(|b| b.project(&keep).expect("project columns"))
                .collect(),
        }
    }

    /// The arrays of one column, batch after batch.
    fn arrays(&self, column: &str) -> impl Iterator<Item = &ArrayRef> {
        let name = &self.name;
        self.batches.iter().map(move |b| {
            b.column_by_name(column)
                .unwrap_or_else(|| panic!("{name} has no column {column}"))
        })
    }

    fn ints(&self, column: &str) -> Vec<Option<i64>> {
        self.arrays(column)
            .flat_map(|a| {
                a.as_primitive_opt::<Int64Type>()
                    .unwrap_or_else(|| panic!("{}.{column} is not Int64", self.name))
                    .iter()
            })
            .collect()
    }

    /// Timestamps as microseconds since the epoch.
    fn micros(&self, column: &str) -> Vec<Option<i64>> {
        self.arrays(column)
            .flat_map(|a| {
                a.as_primitive_opt::<TimestampMicrosecondType>()
                    .unwrap_or_else(|| panic!("{}.{column} is not a µs timestamp", self.name))
                    .iter()
            })
            .collect()
    }

    fn floats(&self, column: &str) -> Vec<Option<f64>> {
        self.arrays(column)
            .flat_map(|a| {
                a.as_primitive_opt::<Float64Type>()
                    .unwrap_or_else(|| panic!("{}.{column} is not Float64", self.name))
                    .iter()
            })
            .collect()
    }

    fn strs(&self, column: &str) -> Vec<Option<String>> {
        self.arrays(column)
            .flat_map(|a| {
                a.as_string_opt::<i32>()
                    .unwrap_or_else(|| panic!("{}.{column} is not Utf8", self.name))
                    .iter()
                    .map(|s| s.map(str::to_owned))
            })
            .collect()
    }

    fn bools(&self, column: &str) -> Vec<Option<bool>> {
        self.arrays(column)
            .flat_map(|a| {
                a.as_boolean_opt()
                    .unwrap_or_else(|| panic!("{}.{column} is not Boolean", self.name))
                    .iter()
            })
            .collect()
    }

    /// The one value of a one-row table's Int64 column.
    fn int(&self, column: &str) -> i64 {
        match self.ints(column)[..] {
            [Some(v)] => v,
            ref other => panic!("{}.{column}: expected one value, got {other:?}", self.name),
        }
    }
}

/// Asserts that `a` and `b` hold the same rows in the same order, value for value. Batch
/// boundaries do not matter: both sides are cut wherever either one has a boundary.
#[track_caller]
fn assert_same_rows(a: &Table, b: &Table, case: &str) {
    let name = &a.name;
    assert_eq!(a.fields, b.fields, "{name}: schemas differ ({case})");
    assert_eq!(
        a.num_rows(),
        b.num_rows(),
        "{name}: row counts differ ({case})"
    );
    let mut left = a.batches.iter().cloned();
    let mut right = b.batches.iter().cloned();
    let (mut x, mut y) = (left.next(), right.next());
    let mut row = 0;
    while let (Some(l), Some(r)) = (&x, &y) {
        let n = l.num_rows().min(r.num_rows());
        for (c, field) in a.fields.iter().enumerate() {
            let (p, q) = (l.column(c).slice(0, n), r.column(c).slice(0, n));
            if *p != *q {
                let i = (0..n)
                    .find(|&i| *p.slice(i, 1) != *q.slice(i, 1))
                    .unwrap_or(0);
                panic!(
                    "{name}.{} differs at row {} ({case}):\n{:?}\nvs\n{:?}",
                    field.name(),
                    row + i,
                    p.slice(i, 1),
                    q.slice(i, 1)
                );
            }
        }
        row += n;
        x = if n == l.num_rows() {
            left.next()
        } else {
            Some(l.slice(n, l.num_rows() - n))
        };
        y = if n == r.num_rows() {
            right.next()
        } else {
            Some(r.slice(n, r.num_rows() - n))
        };
    }
}

/// Asserts that the runs in `a` and `b` wrote the same `tables`.
#[track_caller]
fn assert_same_tables<'t>(
    a: &Path,
    b: &Path,
    tables: impl IntoIterator<Item = &'t str>,
    case: &str,
) {
    for table in tables {
        assert_same_rows(&Table::read(a, table), &Table::read(b, table), case);
    }
}

/// Line accounting of a run, from the `inputs` table: bytes, lines, blank lines, hits and
/// malformed lines, each summed over the input files.
fn input_totals(out: &Path) -> [i64; 5] {
    let inputs = Table::read(out, "inputs");
    ["bytes", "lines", "blank_lines", "hits", "malformed"].map(|column| {
        inputs
            .ints(column)
            .into_iter()
            .map(|v| v.expect("counts are never null"))
            .sum()
    })
}

/// The malformed samples without their file and line number: what each line said and why it
/// was rejected, sorted.
fn malformed_texts(out: &Path) -> Vec<(Option<String>, Option<String>)> {
    let samples = Table::read(out, "malformed_samples");
    let mut texts: Vec<_> = samples
        .strs("reason")
        .into_iter()
        .zip(samples.strs("text"))
        .collect();
    texts.sort_unstable();
    texts
}

// ---------------------------------------------------------------------------------------------
// Inputs and runs
// ---------------------------------------------------------------------------------------------

fn traffic(seed: u64, disorder_ms: i64) -> SynthOptions {
    SynthOptions {
        lines: LINES,
        seed,
        disorder_ms,
        ..SynthOptions::default()
    }
}

/// The traffic of `opts` as one log.
fn one_log(opts: &SynthOptions) -> Vec<u8> {
    let mut log = Vec::new();
    generate(opts, &mut log).expect("generate a log");
    log
}

/// The traffic of `opts` as the logs of [`SERVERS`] servers.
fn server_logs(opts: &SynthOptions) -> Vec<Vec<u8>> {
    let mut logs = vec![Vec::new(); SERVERS];
    generate_split(opts, &mut logs).expect("generate server logs");
    logs
}

/// Writes the server logs as `server-1.log`, `server-2.log`, ... in `dir`.
fn write_server_logs(dir: &Path, logs: &[Vec<u8>]) -> Vec<PathBuf> {
    logs.iter()
        .enumerate()
        .map(|(i, log)| write_file(dir, &format!("server-{}.log", i + 1), log))
        .collect()
}

/// Runs `accesslens analyze` on `inputs` with `extra` options into `dir/label`.
fn run(dir: &Path, label: &str, inputs: &[&Path], extra: &[&str]) -> PathBuf {
    let out = dir.join(label);
    analyze(inputs, &out, extra);
    out
}

fn sorted_lines(logs: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = logs
        .iter()
        .flat_map(|log| log.split(|&b| b == b'\n'))
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    lines.sort_unstable();
    lines
}

/// Position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The client IP and user agent of a successful `GET` line, as written in the log.
fn get_ok_key(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let ip = &line[..find(line, b" ")?];
    find(line, b"] \"GET ")?;
    find(line, b"\" 200 ")?;
    let fields = line.strip_suffix(b"\"")?;
    let agent = fields.windows(3).rposition(|w| w == b"\" \"")? + 3;
    Some((ip, &fields[agent..]))
}

/// Number of the reported `visitors` whose successful `GET`s are in more than one of `logs`.
fn visitors_in_several_logs(out: &Path, logs: &[Vec<u8>]) -> usize {
    let mut files_of: HashMap<(&[u8], &[u8]), u32> = HashMap::new();
    for (i, log) in logs.iter().enumerate() {
        for key in log.split(|&b| b == b'\n').filter_map(get_ok_key) {
            *files_of.entry(key).or_default() |= 1 << i;
        }
    }
    let visitors = Table::read(out, "visitors");
    visitors
        .strs("ip")
        .into_iter()
        .zip(visitors.strs("user_agent"))
        .filter(|(ip, ua)| {
            let (Some(ip), Some(ua)) = (ip, ua) else {
                return false;
            };
            files_of
                .get(&(ip.as_bytes(), ua.as_bytes()))
                .is_some_and(|files| files.count_ones() > 1)
        })
        .count()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// The central guarantee: several servers' logs given together, each slightly out of time
/// order, give the same reports as one merged, time-sorted log of the same traffic.
#[test]
fn server_logs_out_of_order_equal_one_sorted_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sorted = one_log(&traffic(101, 0));
    let servers = server_logs(&traffic(101, 5_000));
    assert!(
        sorted_lines(&[&sorted])
            == sorted_lines(&servers.iter().map(Vec::as_slice).collect::<Vec<_>>()),
        "the server logs do not hold the lines of the single log"
    );

    let single = write_file(dir.path(), "merged.log", &sorted);
    let files = write_server_logs(dir.path(), &servers);
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let one = run(dir.path(), "one", &[&single], &[]);
    let split = run(dir.path(), "split", &inputs, &[]);

    // The case is not trivial: many sessions, and visitors whose hits went to several servers.
    let summary = Table::read(&one, "summary");
    let sessions = summary.int("sessions");
    let visitors = summary.int("visitors");
    assert!(sessions > 100, "only {sessions} sessions");
    let spread = visitors_in_several_logs(&one, &servers);
    assert!(
        spread * 2 > usize::try_from(visitors).expect("positive"),
        "only {spread} of {visitors} visitors are in more than one server log"
    );

    let case = "one sorted log vs three out-of-order server logs";
    assert_same_tables(&one, &split, traffic_tables(), case);
    let split_summary = Table::read(&split, "summary");
    assert_same_rows(
        &summary.without(&["inputs"]),
        &split_summary.without(&["inputs"]),
        case,
    );
    assert_eq!(summary.int("inputs"), 1);
    assert_eq!(split_summary.int("inputs"), 3);
    let size = |f: &Vec<u8>| i64::try_from(f.len()).expect("small");
    assert_eq!(summary.int("input_bytes"), size(&sorted));
    assert_eq!(summary.int("lines"), i64::try_from(LINES).expect("small"));

    assert_eq!(input_totals(&one), input_totals(&split), "{case}: inputs");
    assert_eq!(
        input_totals(&split)[0],
        servers.iter().map(size).sum::<i64>()
    );
    let malformed = malformed_texts(&one);
    assert!(
        !malformed.is_empty() && malformed.len() < 100,
        "{} malformed samples: all of them are kept",
        malformed.len()
    );
    assert_eq!(
        malformed.len(),
        usize::try_from(summary.int("malformed")).expect("small")
    );
    assert_eq!(
        malformed,
        malformed_texts(&split),
        "{case}: malformed samples"
    );
}

/// The order of the files on the command line changes nothing but the per-file rows' order.
#[test]
fn file_order_does_not_matter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_server_logs(dir.path(), &server_logs(&traffic(202, 5_000)));
    let [a, b, c] = [&files[0], &files[1], &files[2]].map(PathBuf::as_path);
    let abc = run(dir.path(), "abc", &[a, b, c], &[]);
    let cab = run(dir.path(), "cab", &[c, a, b], &[]);

    let case = "files a, b, c vs c, a, b";
    assert_same_tables(&abc, &cab, traffic_tables().chain(["summary"]), case);

    // The same files, so the same per-file rows, whatever their order.
    let rows = |out: &Path| {
        let inputs = Table::read(out, "inputs");
        let mut rows: Vec<_> = inputs
            .strs("file")
            .into_iter()
            .zip(inputs.ints("bytes"))
            .zip(inputs.ints("lines"))
            .zip(inputs.ints("blank_lines"))
            .zip(inputs.ints("hits"))
            .zip(inputs.ints("malformed"))
            .collect();
        rows.sort_unstable();
        rows
    };
    assert_eq!(rows(&abc), rows(&cab), "{case}: inputs");
    assert_eq!(rows(&abc).len(), 3);
    let samples = |out: &Path| {
        let s = Table::read(out, "malformed_samples");
        let mut rows: Vec<_> = s
            .strs("file")
            .into_iter()
            .zip(s.ints("line"))
            .zip(s.strs("reason"))
            .zip(s.strs("text"))
            .collect();
        rows.sort_unstable();
        rows
    };
    let kept = samples(&abc);
    assert!(
        !kept.is_empty() && kept.len() < 100,
        "{} samples",
        kept.len()
    );
    assert_eq!(kept, samples(&cab), "{case}: malformed samples");
}

/// Threads, chunk and window sizes and memory-mapping change nothing at all, not even the
/// per-file tables.
#[test]
fn threads_chunks_windows_and_mmap_do_not_matter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_server_logs(dir.path(), &server_logs(&traffic(303, 5_000)));
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let base = run(dir.path(), "threads-1", &inputs, &["--threads", "1"]);
    let tiny = ["--chunk-size", "4096", "--window-size", "65536"];
    let variants: [Vec<&str>; 6] = [
        vec!["--threads", "4"],
        vec![],
        tiny.to_vec(),
        [&["--threads", "4"][..], &tiny].concat(),
        vec!["--no-mmap"],
        [&["--no-mmap"][..], &tiny].concat(),
    ];
    for (i, extra) in variants.into_iter().enumerate() {
        let out = run(dir.path(), &format!("variant-{i}"), &inputs, &extra);
        assert_same_tables(&base, &out, TABLES, &format!("--threads 1 vs {extra:?}"));
    }
}

/// With few named pages, which pages journeys name (and which become `(other)`) is decided
/// from the whole run's page views, so it too is the same whatever the threads and chunks.
#[test]
fn bounded_journeys_do_not_depend_on_threads_or_chunks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_server_logs(dir.path(), &server_logs(&traffic(404, 5_000)));
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let few = ["--path-pages", "5", "--path-depth", "4"];
    let base = run(
        dir.path(),
        "one",
        &inputs,
        &[&few[..], &["--threads", "1"]].concat(),
    );
    let tiny = [
        "--threads",
        "4",
        "--chunk-size",
        "4096",
        "--window-size",
        "65536",
    ];
    let out = run(dir.path(), "four", &inputs, &[&few[..], &tiny].concat());
    assert_same_tables(&base, &out, ["paths", "transitions"], "--path-pages 5");
    let others = crate::util::duckdb_value(
        &out,
        "select count(*) from '{out}/transitions.parquet' where from_page = '(other)'",
    );
    assert_ne!(
        others, "0",
        "with 5 named pages, some transitions leave (other)"
    );
}

/// The same log gzip-compressed (two members, as logrotate and `cat a.gz b.gz` make),
/// zstd-compressed, or gzip-compressed on standard input gives the same tables as plain, the
/// summary included (its byte counts are bytes of log text).
#[test]
fn compressed_inputs_give_the_same_tables() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = server_logs(&traffic(505, 0));
    let log = logs.concat();
    let plain = write_file(dir.path(), "access.log", &log);
    let gzip = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let half = log.len() / 2;
    let cut = half + log[half..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let gz = [gzip(&log[..cut]), gzip(&log[cut..])].concat();
    let zst = zstd::stream::encode_all(&log[..], 3).unwrap();
    let gz_file = write_file(dir.path(), "access.log.1.gz", &gz);
    // Recognised by content, whatever the name.
    let zst_file = write_file(dir.path(), "access.log.2", &zst);
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&log).unwrap();
    let bz_file = write_file(dir.path(), "access.log.3.bz2", &bz.finish().unwrap());

    let base = run(dir.path(), "plain", &[&plain], &[]);
    let tables = || TABLES.into_iter().filter(|t| !PER_FILE.contains(t));
    for (label, file) in [("gz", &gz_file), ("zst", &zst_file), ("bz2", &bz_file)] {
        let out = run(dir.path(), label, &[file], &[]);
        assert_same_tables(&base, &out, tables(), label);
        assert_eq!(
            input_totals(&out),
            input_totals(&base),
            "{label}: line accounting"
        );
        assert_eq!(
            malformed_texts(&out),
            malformed_texts(&base),
            "{label}: malformed"
        );
    }

    let from_stdin = dir.path().join("stdin-gz");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_accesslens"))
        .args(["analyze", "-", "--quiet", "--out"])
        .arg(&from_stdin)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("accesslens runs");
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    assert!(child.wait().unwrap().success());
    assert_same_tables(&base, &from_stdin, tables(), "gzip on standard input");
}

/// One `combined` line; `when` is `dd/Mon/yyyy:hh:mm:ss ±hhmm`.
fn line(ip: &str, when: &str, path: &str, agent: &str) -> String {
    format!("{ip} - - [{when}] \"GET {path} HTTP/1.1\" 200 5120 \"-\" \"{agent}\"\n")
}

/// 2024-03-10T10:00:00Z in microseconds since the epoch.
const TEN_AM_US: i64 = 1_710_064_800_000_000;
const MINUTE_US: i64 = 60_000_000;

/// Sessions of hand-written visitors whose page views are spread over two files (server B
/// logs local time, UTC-5): one session across both files when the gap between them is
/// 20 minutes, two sessions when it is 31.
#[test]
fn a_visitor_split_across_two_files_is_sessionized_as_one_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (one, two) = ("198.51.100.7", "198.51.100.8");
    let a = [
        line(one, "10/Mar/2024:10:00:00 +0000", "/a1", FIREFOX),
        line(two, "10/Mar/2024:10:00:00 +0000", "/x1", SAFARI),
        line(two, "10/Mar/2024:10:05:00 +0000", "/x2", SAFARI),
        line(one, "10/Mar/2024:10:40:00 +0000", "/a2", FIREFOX),
    ]
    .concat();
    let b = [
        line(one, "10/Mar/2024:05:20:00 -0500", "/b1", FIREFOX),
        line(one, "10/Mar/2024:05:30:00 -0500", "/css/site.css", FIREFOX),
        line(two, "10/Mar/2024:05:36:00 -0500", "/y1", SAFARI),
        line(two, "10/Mar/2024:05:40:00 -0500", "/y2", SAFARI),
        line(one, "10/Mar/2024:06:00:00 -0500", "/b2", FIREFOX),
    ]
    .concat();
    let a = write_file(dir.path(), "a.log", a.as_bytes());
    let b = write_file(dir.path(), "b.log", b.as_bytes());

    let at = |minutes: i64| Some(TEN_AM_US + minutes * MINUTE_US);
    let s = |v: &str| Some(v.to_owned());
    // ip, start, end, page views, bounce, entry page, exit page
    let session = |ip, start, end, page_views, entry, exit| {
        let bounce = Some(false);
        (
            s(ip),
            at(start),
            at(end),
            Some(page_views),
            bounce,
            s(entry),
            s(exit),
        )
    };
    let expected = vec![
        session(one, 0, 60, 4, "/a1", "/b2"),
        session(two, 0, 5, 2, "/x1", "/x2"),
        session(two, 36, 40, 2, "/y1", "/y2"),
    ];
    for (label, inputs) in [("ab", [&a, &b]), ("ba", [&b, &a])] {
        let out = run(dir.path(), label, &inputs.map(PathBuf::as_path), &[]);
        let t = Table::read(&out, "sessions");
        let (ip, start, end) = (t.strs("ip"), t.micros("start"), t.micros("end"));
        let (page_views, bounce) = (t.ints("page_views"), t.bools("bounce"));
        let (entry, exit) = (t.strs("entry_page"), t.strs("exit_page"));
        let mut sessions: Vec<_> = (0..t.num_rows())
            .map(|i| {
                let (ip, entry, exit) = (ip[i].clone(), entry[i].clone(), exit[i].clone());
                (ip, start[i], end[i], page_views[i], bounce[i], entry, exit)
            })
            .collect();
        sessions.sort_unstable();
        assert_eq!(sessions, expected, "files {label}");

        let summary = Table::read(&out, "summary");
        assert_eq!(summary.int("sessions"), 3, "files {label}");
        assert_eq!(summary.int("visitors"), 2, "files {label}");
        assert_eq!(summary.int("page_views"), 8, "files {label}");
        assert_eq!(summary.int("hits"), 9, "files {label}");
    }
}

/// The same file named twice is read once. A copy of it under another name is another
/// input: every hit is duplicated at the same timestamp, so hits, bytes and page views
/// double, but no gap between page views changes: the same visitors, the same sessions
/// (start, end, entry and exit pages), each now of twice as many page views, so none is a
/// bounce and every one is engaged.
#[test]
fn the_same_file_twice_doubles_hits_but_not_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = one_log(&traffic(404, 0));
    let log = write_file(dir.path(), "access.log", &bytes);
    let copy = write_file(dir.path(), "copy-of-access.log", &bytes);
    let once = run(dir.path(), "once", &[&log], &[]);
    let same_path = run(dir.path(), "same-path", &[&log, &log], &[]);
    assert_same_tables(&once, &same_path, TABLES, "one file named twice");
    let twice = run(dir.path(), "twice", &[&log, &copy], &[]);

    let (s1, s2) = (
        Table::read(&once, "summary"),
        Table::read(&twice, "summary"),
    );
    for doubled in [
        "lines",
        "blank_lines",
        "malformed",
        "hits",
        "bytes",
        "human_hits",
        "bot_hits",
        "bot_bytes",
        "page_views",
        "input_bytes",
    ] {
        assert_eq!(s2.int(doubled), 2 * s1.int(doubled), "summary.{doubled}");
    }
    for same in ["visitors", "sessions"] {
        assert_eq!(s2.int(same), s1.int(same), "summary.{same}");
    }
    let sessions = s1.int("sessions");
    assert!(sessions > 100, "only {sessions} sessions");
    assert!(s1.int("bounces") > 0, "no bounce to lose");
    assert_eq!(s2.int("bounces"), 0);
    assert_eq!(s2.int("engaged_sessions"), sessions);
    assert_eq!(s2.int("inputs"), 2);
    assert_eq!(s2.floats("bounce_rate"), [Some(0.0)]);
    assert_eq!(s2.floats("engagement_rate"), [Some(1.0)]);
    assert_eq!(s2.floats("avg_session_s"), s1.floats("avg_session_s"));
    assert_eq!(s2.floats("median_session_s"), s1.floats("median_session_s"));
    let pages_per_session = s1.floats("pages_per_session")[0].map(|v| 2.0 * v);
    assert_eq!(s2.floats("pages_per_session"), [pages_per_session]);
    for same in ["first_ts", "last_ts"] {
        assert_eq!(s2.micros(same), s1.micros(same), "summary.{same}");
    }

    // Session by session: the same sessions, each of twice the page views.
    let sessions = |out: &Path| {
        let t = Table::read(out, "sessions");
        let (id, start, end) = (t.strs("session_id"), t.micros("start"), t.micros("end"));
        let (entry, exit, referrer) = (
            t.strs("entry_page"),
            t.strs("exit_page"),
            t.strs("referrer"),
        );
        let (page_views, bounce, engaged) =
            (t.ints("page_views"), t.bools("bounce"), t.bools("engaged"));
        let mut rows: Vec<_> = (0..t.num_rows())
            .map(|i| {
                let same = (
                    id[i].clone(),
                    start[i],
                    end[i],
                    entry[i].clone(),
                    exit[i].clone(),
                    referrer[i].clone(),
                );
                (same, page_views[i], bounce[i], engaged[i])
            })
            .collect();
        rows.sort_unstable_by(|x, y| x.0.0.cmp(&y.0.0));
        rows
    };
    let (before, after) = (sessions(&once), sessions(&twice));
    assert_eq!(before.len(), after.len());
    for ((same, page_views, ..), (same_after, page_views_after, bounce, engaged)) in
        before.iter().zip(&after)
    {
        let id = &same.0;
        assert_eq!(same, same_after, "session {id:?}");
        assert_eq!(
            *page_views_after,
            page_views.map(|v| 2 * v),
            "session {id:?}"
        );
        assert_eq!(
            (*bounce, *engaged),
            (Some(false), Some(true)),
            "session {id:?}"
        );
    }

    // Visitor by visitor.
    let visitors = |out: &Path| {
        let t = Table::read(out, "visitors");
        let mut rows: Vec<_> = t
            .ints("visitor")
            .into_iter()
            .zip(t.ints("sessions"))
            .zip(t.ints("page_views"))
            .zip(t.ints("hits"))
            .zip(t.ints("bytes"))
            .map(|((((v, s), pv), hits), bytes)| (v, s, pv, hits, bytes))
            .collect();
        rows.sort_unstable();
        rows
    };
    let double = |v: Option<i64>| v.map(|v| 2 * v);
    let expected: Vec<_> = visitors(&once)
        .into_iter()
        .map(|(v, s, pv, hits, bytes)| (v, s, double(pv), double(hits), double(bytes)))
        .collect();
    assert_eq!(visitors(&twice), expected);
}

/// Hits spilled to disk past `--hit-memory` are read back shard by shard: every table, the
/// bounded journeys (whose named pages are counted from the spilled hits) and the hits table
/// are the same as with every hit in memory, and nothing of the spill is left behind.
#[test]
fn spilling_hits_to_disk_gives_the_same_tables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_server_logs(dir.path(), &server_logs(&traffic(505, 5_000)));
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let common = ["--path-pages", "5", "--emit", "hits", "--hit-buckets", "4"];
    let base = run(
        dir.path(),
        "memory",
        &inputs,
        &[&common[..], &["--threads", "1"]].concat(),
    );
    let expected_hits = crate::util::files_under(&base.join("hits"));
    for threads in ["1", "4"] {
        let out = dir.path().join(format!("spilled-{threads}"));
        let extra = [&common[..], &["--hit-memory", "128K", "--threads", threads]].concat();
        // Not --quiet: the run says that it spilled.
        let output = crate::util::bin()
            .arg("analyze")
            .args(&inputs)
            .arg("--out")
            .arg(&out)
            .args(&extra)
            .output()
            .expect("accesslens runs");
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("waited on disk"),
            "the run says it spilled: {stderr}"
        );
        assert_same_tables(&base, &out, TABLES, &format!("spilled, {threads} threads"));
        assert!(
            crate::util::files_under(&out.join("hits")) == expected_hits,
            "the hits table is byte for byte the same when spilled"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    }
}
