//! The Parquet files as BI tools see them. The README's Reports section is the contract: each
//! `### `table`` heading and its `| `column` | type | meaning |` rows are parsed here, so the
//! documentation and the files cannot drift apart. DuckDB must describe every table with
//! exactly the documented columns, in order, with the documented types; every column must be
//! zstd-compressed, counts signed 64-bit integers, timestamps microseconds (in UTC, or
//! wall-clock without a zone where documented so) and dates days since the epoch; every
//! file must carry the promised key-value metadata; and pyarrow, what pandas uses, must read
//! the same tables with the same row counts.
//!
//! The input is the committed `fixtures/sample.log` (2000 lines, 3 of them malformed) with
//! `--site-domain example.com`, on which every table has rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::util::{TABLES, analyze, duckdb_rows, fixture};

// ---------------------------------------------------------------------------------------------
// The documented schema
// ---------------------------------------------------------------------------------------------

/// A column type as the README writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Int64,
    Float64,
    Utf8,
    Boolean,
    TimestampMicrosUtc,
    /// Wall-clock time without a zone (the log's own clock).
    TimestampMicros,
    Date32,
}

impl Type {
    fn parse(text: &str) -> Option<Type> {
        Some(match text {
            "Int64" => Type::Int64,
            "Float64" => Type::Float64,
            "Utf8" => Type::Utf8,
            "Boolean" => Type::Boolean,
            "Timestamp(µs, UTC)" => Type::TimestampMicrosUtc,
            "Timestamp(µs)" => Type::TimestampMicros,
            "Date32" => Type::Date32,
            _ => return None,
        })
    }

    /// The type DuckDB's `DESCRIBE` gives.
    fn duckdb(self) -> &'static str {
        match self {
            Type::Int64 => "BIGINT",
            Type::Float64 => "DOUBLE",
            Type::Utf8 => "VARCHAR",
            Type::Boolean => "BOOLEAN",
            Type::TimestampMicrosUtc => "TIMESTAMP WITH TIME ZONE",
            Type::TimestampMicros => "TIMESTAMP",
            Type::Date32 => "DATE",
        }
    }

    /// The type pyarrow gives.
    fn pyarrow(self) -> &'static str {
        match self {
            Type::Int64 => "int64",
            Type::Float64 => "double",
            Type::Utf8 => "string",
            Type::Boolean => "bool",
            Type::TimestampMicrosUtc => "timestamp[us, tz=UTC]",
            Type::TimestampMicros => "timestamp[us]",
            Type::Date32 => "date32[day]",
        }
    }
}

/// One documented table: its name and its columns in order.
#[derive(Debug)]
struct Documented {
    name: String,
    columns: Vec<(String, Type)>,
}

/// The tables of the README's Reports section, in the order it documents them.
fn documented_tables() -> Vec<Documented> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("read README.md");
    let reports = readme
        .split_once("\n## Reports\n")
        .expect("README has a Reports section")
        .1;
    let reports = reports.split("\n## ").next().unwrap_or(reports);

    let mut tables: Vec<Documented> = Vec::new();
    // Tables start at the first `### ` heading; the rows above it document the metadata.
    let tables_start = reports.find("\n### `").expect("README documents tables");
    for line in reports[tables_start..].lines() {
        if let Some(heading) = line.strip_prefix("### `") {
            let (name, _) = heading
                .split_once('`')
                .unwrap_or_else(|| panic!("README heading without a closing backtick: {line}"));
            tables.push(Documented {
                name: name.to_owned(),
                columns: Vec::new(),
            });
        } else if line.starts_with("| `") {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (column, ty) = match cells[..] {
                ["", column, ty, _, ""] => (column.trim_matches('`'), ty),
                _ => panic!("README row is not `| column | type | meaning |`: {line}"),
            };
            let table = tables
                .last_mut()
                .unwrap_or_else(|| panic!("README column `{column}` outside a table section"));
            let ty = Type::parse(ty).unwrap_or_else(|| {
                panic!(
                    "README, table `{}`, column `{column}`: unknown type {ty:?}",
                    table.name
                )
            });
            table.columns.push((column.to_owned(), ty));
        }
    }
    for table in &tables {
        assert!(
            !table.columns.is_empty(),
            "README table `{}` documents no column",
            table.name
        );
    }
    tables
}

// ---------------------------------------------------------------------------------------------
// Runs and queries
// ---------------------------------------------------------------------------------------------

/// A run on the sample log; the output lives as long as this value.
struct SampleRun {
    _dir: TempDir,
    out: PathBuf,
}

fn sample_log() -> PathBuf {
    fixture("sample.log")
}

fn analyze_sample(extra: &[&str]) -> SampleRun {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    analyze(&[&sample_log()], &out, extra);
    SampleRun { _dir: dir, out }
}

/// The sample with the site's domain and a goal the sample reaches, so that every table,
/// `goals` and `attribution` included, has rows.
fn analyze_sample_for_example_com() -> SampleRun {
    analyze_sample(&[
        "--site-domain",
        "example.com",
        "--goal",
        "purchase=/checkout/thank-you",
    ])
}

/// The table a Parquet file holds, from its path in DuckDB's `file_name` column.
const TABLE_OF_FILE: &str = "parse_filename(file_name, true)";

/// Rows of `sql` grouped by their first value (a table name), in query order.
fn by_table(rows: Vec<Vec<String>>) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut tables: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for mut row in rows {
        let table = row.remove(0);
        tables.entry(table).or_default().push(row);
    }
    tables
}

/// Row counts of every documented table, by DuckDB.
fn duckdb_row_counts(out: &Path, tables: &[Documented]) -> BTreeMap<String, u64> {
    let sql = tables
        .iter()
        .map(|t| format!("SELECT '{0}', count(*) FROM '{{out}}/{0}.parquet'", t.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    duckdb_rows(out, &sql)
        .into_iter()
        .map(|row| match &row[..] {
            [table, count] => (table.clone(), count.parse().expect("a count")),
            _ => panic!("unexpected row {row:?}"),
        })
        .collect()
}

/// Asserts that `problems` is empty, listing them all.
#[track_caller]
fn assert_no_problems(problems: &[String], what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_readme_documents_every_table_written() {
    let tables = documented_tables();
    let mut documented: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    documented.sort_unstable();
    assert_eq!(documented, TABLES);

    let run = analyze_sample_for_example_com();
    let mut written: Vec<String> = std::fs::read_dir(&run.out)
        .expect("read the output directory")
        .map(|entry| entry.expect("directory entry").file_name())
        .map(|name| name.into_string().expect("UTF-8 file name"))
        .collect();
    written.sort_unstable();
    let expected: Vec<String> = documented.iter().map(|t| format!("{t}.parquet")).collect();
    assert_eq!(written, expected, "the files in --out");
}

#[test]
fn duckdb_describes_every_table_as_documented() {
    let tables = documented_tables();
    let run = analyze_sample_for_example_com();
    let describe = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT '{0}' AS t, row_number() OVER () AS n, column_name, column_type \
                 FROM (DESCRIBE SELECT * FROM '{{out}}/{0}.parquet')",
                t.name
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sql = format!("SELECT t, column_name, column_type FROM ({describe}) ORDER BY t, n");
    let described = by_table(duckdb_rows(&run.out, &sql));

    let mut problems = Vec::new();
    for table in &tables {
        let name = &table.name;
        let actual: Vec<(&str, &str)> = described
            .get(name)
            .map(|rows| {
                rows.iter()
                    .map(|r| (r[0].as_str(), r[1].as_str()))
                    .collect()
            })
            .unwrap_or_default();
        for i in 0..table.columns.len().max(actual.len()) {
            match (table.columns.get(i), actual.get(i)) {
                (Some((column, ty)), Some(&(found, found_type))) => {
                    if (column.as_str(), ty.duckdb()) != (found, found_type) {
                        problems.push(format!(
                            "table `{name}`, column {}: README documents `{column}` {ty:?} \
                             ({}), DESCRIBE gives `{found}` {found_type}",
                            i + 1,
                            ty.duckdb()
                        ));
                    }
                }
                (Some((column, _)), None) => problems.push(format!(
                    "table `{name}`: README documents column `{column}`, the file lacks it"
                )),
                (None, Some((found, _))) => problems.push(format!(
                    "table `{name}`: the file has column `{found}`, the README does not document it"
                )),
                (None, None) => unreachable!(),
            }
        }
    }
    assert_no_problems(&problems, "DESCRIBE differs from the README");
}

#[test]
fn columns_are_zstd_compressed_with_statistics_signed_64_bit_counts_microsecond_timestamps_and_dates()
 {
    let tables = documented_tables();
    let run = analyze_sample_for_example_com();

    // Per column: its compression, and whether its chunks carry statistics (a null count
    // is written whenever statistics are).
    let compression = by_table(duckdb_rows(
        &run.out,
        &format!(
            "SELECT {TABLE_OF_FILE}, path_in_schema, string_agg(DISTINCT compression, ','), \
             bool_and(stats_null_count IS NOT NULL), bool_or(stats_null_count IS NOT NULL) \
             FROM parquet_metadata('{{out}}/*.parquet') GROUP BY ALL ORDER BY ALL"
        ),
    ));
    let physical = by_table(duckdb_rows(
        &run.out,
        &format!(
            "SELECT {TABLE_OF_FILE}, name, type, converted_type, logical_type \
             FROM parquet_schema('{{out}}/*.parquet') WHERE num_children IS NULL \
             ORDER BY 1, column_id"
        ),
    ));

    let mut problems = Vec::new();
    for table in &tables {
        let name = &table.name;
        let chunks = compression.get(name).map(Vec::as_slice).unwrap_or_default();
        let leaves = physical.get(name).map(Vec::as_slice).unwrap_or_default();
        if leaves.len() != table.columns.len() {
            problems.push(format!(
                "table `{name}`: {} Parquet columns, {} documented",
                leaves.len(),
                table.columns.len()
            ));
        }
        for (column, ty) in &table.columns {
            // The visitor hashes are random bits: stored as they are.
            let codec = if column == "visitor" {
                "UNCOMPRESSED"
            } else {
                "ZSTD"
            };
            // Statistics where an engine can prune by them: not for text.
            let statistics = if *ty == Type::Utf8 { "False" } else { "True" };
            match chunks.iter().find(|c| c[0] == *column) {
                Some(c) if c[1] != codec => problems.push(format!(
                    "table `{name}`, column `{column}`: compression {}, not {codec}",
                    c[1]
                )),
                Some(c) if c[2] != statistics || c[3] != statistics => problems.push(format!(
                    "table `{name}`, column `{column}` ({ty:?}): statistics in all \
                         chunks {}, in some {}; expected {statistics}",
                    c[2], c[3]
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "table `{name}`, column `{column}`: no column chunk in the file"
                )),
            }
            let Some(leaf) = leaves.iter().find(|l| l[0] == *column) else {
                problems.push(format!(
                    "table `{name}`, column `{column}`: not in the Parquet schema"
                ));
                continue;
            };
            let (physical, converted, logical) = (&leaf[1], &leaf[2], &leaf[3]);
            let ok = match ty {
                Type::Int64 => {
                    physical == "INT64"
                        && ["NULL", "INT_64"].contains(&converted.as_str())
                        && (logical == "NULL"
                            || logical.contains("bitWidth=64") && logical.contains("isSigned=1"))
                }
                Type::TimestampMicrosUtc => {
                    physical == "INT64"
                        && converted == "TIMESTAMP_MICROS"
                        && logical.contains("isAdjustedToUTC=1")
                        && logical.contains("MICROS=MicroSeconds()")
                }
                Type::TimestampMicros => {
                    physical == "INT64"
                        && converted == "TIMESTAMP_MICROS"
                        && logical.contains("isAdjustedToUTC=0")
                        && logical.contains("MICROS=MicroSeconds()")
                }
                Type::Date32 => {
                    physical == "INT32" && converted == "DATE" && logical == "DateType()"
                }
                Type::Float64 => physical == "DOUBLE" && converted == "NULL",
                Type::Utf8 => physical == "BYTE_ARRAY" && converted == "UTF8",
                Type::Boolean => physical == "BOOLEAN" && converted == "NULL",
            };
            if !ok {
                problems.push(format!(
                    "table `{name}`, column `{column}`: documented {ty:?}, stored as \
                     {physical} / converted {converted} / logical {logical}"
                ));
            }
        }
    }
    assert_no_problems(&problems, "Parquet column encodings");
}

/// Metadata of every file of a run, by key: the value and whether it is valid JSON.
type Metadata = BTreeMap<String, (String, bool)>;

fn kv_metadata(out: &Path) -> BTreeMap<String, Metadata> {
    let rows = duckdb_rows(
        out,
        &format!(
            "SELECT {TABLE_OF_FILE}, decode(key) AS k, decode(value) AS v, json_valid(v) \
             FROM parquet_kv_metadata('{{out}}/*.parquet') \
             WHERE starts_with(k, 'accesslens.') ORDER BY ALL"
        ),
    );
    by_table(rows)
        .into_iter()
        .map(|(table, rows)| {
            let metadata = rows
                .into_iter()
                .map(|row| match &row[..] {
                    [key, value, json] => (key.clone(), (value.clone(), json == "True")),
                    _ => panic!("unexpected row {row:?}"),
                })
                .collect();
            (table, metadata)
        })
        .collect()
}

/// What the summary file's metadata says, read with DuckDB's JSON functions: the inputs (a
/// JSON list), the definitions' format, session timeout and site domains, and whether the
/// time range's first and last are the summary's first_ts and last_ts.
fn metadata_contents(out: &Path) -> Vec<String> {
    let sql = "SET TimeZone = 'UTC';
        WITH kv AS (
            SELECT decode(key) AS k, decode(value) AS v
            FROM parquet_kv_metadata('{out}/summary.parquet')),
        inputs AS (SELECT v FROM kv WHERE k = 'accesslens.inputs'),
        defs AS (SELECT v FROM kv WHERE k = 'accesslens.definitions'),
        time_range AS (SELECT v FROM kv WHERE k = 'accesslens.time_range'),
        summary AS (SELECT first_ts, last_ts FROM '{out}/summary.parquet')
        SELECT json_type(inputs.v), json_extract_string(inputs.v, '$[*]'),
            json_type(defs.v), json_extract_string(defs.v, '$.format'),
            json_extract(defs.v, '$.session_timeout_ms'),
            json_type(defs.v, '$.site_domains'), json_extract_string(defs.v, '$.site_domains[*]'),
            json_extract_string(time_range.v, '$.first')::TIMESTAMPTZ = summary.first_ts,
            json_extract_string(time_range.v, '$.last')::TIMESTAMPTZ = summary.last_ts
        FROM inputs, defs, time_range, summary";
    let mut rows = duckdb_rows(out, sql);
    assert_eq!(rows.len(), 1, "one row of metadata: {rows:?}");
    rows.remove(0)
}

#[test]
fn every_file_carries_the_documented_metadata() {
    let tables = documented_tables();
    let input = sample_log();
    let inputs_list = format!("['{}']", input.display());
    let keys = [
        "accesslens.definitions",
        "accesslens.inputs",
        "accesslens.time_range",
        "accesslens.version",
    ];
    for (extra, timeout, domains) in [
        (
            &["--site-domain", "example.com"][..],
            "1800000",
            "['example.com']",
        ),
        (
            &[
                "--sessions",
                "awstats",
                "--site-domain",
                "example.com",
                "--site-domain",
                "shop.example.org",
            ][..],
            "3600000",
            "['example.com', 'shop.example.org']",
        ),
    ] {
        let run = analyze_sample(extra);
        let files = kv_metadata(&run.out);
        let summary = &files["summary"];
        for table in &tables {
            let name = &table.name;
            let metadata = files
                .get(name)
                .unwrap_or_else(|| panic!("{name}.parquet has no accesslens metadata ({extra:?})"));
            assert_eq!(
                metadata.keys().map(String::as_str).collect::<Vec<_>>(),
                keys,
                "{name}.parquet: metadata keys ({extra:?})"
            );
            assert_eq!(metadata, summary, "{name}.parquet: metadata ({extra:?})");
        }
        assert_eq!(summary["accesslens.version"].0, env!("CARGO_PKG_VERSION"));
        for key in ["inputs", "time_range", "definitions"] {
            let (value, json) = &summary[&format!("accesslens.{key}")];
            assert!(json, "accesslens.{key} is not JSON: {value}");
        }
        assert_eq!(
            metadata_contents(&run.out),
            [
                "ARRAY",
                &inputs_list,
                "OBJECT",
                "combined",
                timeout,
                "ARRAY",
                domains,
                "True",
                "True"
            ],
            "metadata contents ({extra:?})"
        );
    }
}

/// Row counts and column types of every table as pyarrow reads them: `table\trows` lines, then
/// `table\tcolumn\ttype` lines.
fn pyarrow_tables(out: &Path, tables: &[Documented]) -> Vec<Vec<String>> {
    const SCRIPT: &str = r#"
import sys
try:
    import pyarrow.parquet as pq
except ImportError:
    sys.stderr.write("the pyarrow Python package is missing: python3 -m pip install -r tests/requirements.txt\n")
    sys.exit(3)
out = sys.argv[1]
for name in sys.argv[2:]:
    table = pq.read_table(f"{out}/{name}.parquet")
    print(f"{name}\t{table.num_rows}")
    for field in table.schema:
        print(f"{name}\t{field.name}\t{field.type}")
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(out)
        .args(tables.iter().map(|t| &t.name))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "pyarrow could not read the tables:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn pyarrow_reads_every_table_with_duckdbs_row_counts() {
    let tables = documented_tables();
    let run = analyze_sample_for_example_com();
    let counts = duckdb_row_counts(&run.out, &tables);

    let mut pyarrow_counts = BTreeMap::new();
    let mut pyarrow_columns: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in pyarrow_tables(&run.out, &tables) {
        match &row[..] {
            [table, rows] => {
                pyarrow_counts.insert(table.clone(), rows.parse::<u64>().expect("a count"));
            }
            [table, column, ty] => pyarrow_columns
                .entry(table.clone())
                .or_default()
                .push((column.clone(), ty.clone())),
            _ => panic!("unexpected pyarrow output {row:?}"),
        }
    }
    assert_eq!(pyarrow_counts, counts, "row counts: pyarrow vs DuckDB");

    let mut problems = Vec::new();
    for table in &tables {
        let expected: Vec<(String, String)> = table
            .columns
            .iter()
            .map(|(column, ty)| (column.clone(), ty.pyarrow().to_owned()))
            .collect();
        let actual = pyarrow_columns.remove(&table.name).unwrap_or_default();
        if actual != expected {
            problems.push(format!(
                "table `{}`: pyarrow reads {actual:?}, the README documents {expected:?}",
                table.name
            ));
        }
    }
    assert_no_problems(&problems, "pyarrow schemas differ from the README");
}

#[test]
fn every_table_has_rows_on_the_sample() {
    let tables = documented_tables();
    let run = analyze_sample_for_example_com();
    let counts = duckdb_row_counts(&run.out, &tables);
    let empty: Vec<&String> = counts
        .iter()
        .filter(|&(_, &rows)| rows == 0)
        .map(|(table, _)| table)
        .collect();
    assert!(empty.is_empty(), "empty tables on the sample: {empty:?}");
    assert_eq!(counts.len(), tables.len());
    assert_eq!(counts["summary"], 1);
    assert_eq!(counts["inputs"], 1);
    // The generator reported 2 malformed lines when it wrote the sample (genlog, seed 7).
    assert_eq!(counts["malformed_samples"], 2);
    assert_eq!(
        duckdb_rows(
            &run.out,
            "SELECT lines, malformed, inputs FROM '{out}/summary.parquet'"
        ),
        [["2000", "2", "1"]]
    );
}
