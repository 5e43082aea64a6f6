//! `--csv DIR` and `--json FILE`: the same rows and numbers as the Parquet tables, read back
//! with DuckDB (CSV) and Python's json module against pyarrow (JSON).

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::util::*;

/// How a CSV field is read back to compare with a Parquet column of DuckDB type `ty`.
fn read_back(ty: &str, column: &str) -> String {
    let c = format!("c.\"{column}\"");
    match ty {
        "VARCHAR" => c,
        "BIGINT" | "DOUBLE" | "BOOLEAN" | "DATE" | "TIMESTAMP" => format!("{c}::{ty}"),
        "TIMESTAMP WITH TIME ZONE" => format!("{c}::TIMESTAMPTZ"),
        other => panic!("column {column}: no CSV comparison for type {other}"),
    }
}

#[test]
fn csv_tables_equal_the_parquet_tables() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let csv = dir.path().join("csv");
    analyze(
        &[&fixture("sample.log")],
        &out,
        &[
            "--config",
            &fixture("../accesslens.example.toml").display().to_string(),
            "--csv",
            &csv.display().to_string(),
        ],
    );
    let mut compared_rows = 0;
    for table in TABLES {
        let parquet = format!("{}/{table}.parquet", out.display());
        let csv_file = csv.join(format!("{table}.csv"));
        assert!(csv_file.exists(), "{table}.csv was not written");
        let columns = duckdb_rows(
            &out,
            &format!("select column_name, column_type from (describe select * from '{parquet}')"),
        );
        let header = std::fs::read_to_string(&csv_file).unwrap();
        let header = header.lines().next().unwrap_or_default();
        let names: Vec<&str> = columns.iter().map(|c| c[0].as_str()).collect();
        assert_eq!(header, names.join(","), "{table}.csv header");

        let same = columns
            .iter()
            .map(|c| {
                format!(
                    "p.\"{0}\" is not distinct from {1}",
                    c[0],
                    read_back(&c[1], &c[0])
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        let sql = format!(
            "with p as (select row_number() over () as n, * from '{parquet}'), \
             c as (select row_number() over () as n, * from read_csv('{}', header = true, \
                   all_varchar = true, quote = '\"', escape = '\"', \
                   allow_quoted_nulls = false)) \
             select (select count(*) from p), (select count(*) from c), \
                    count(*) filter (where not ({same})) \
             from p join c using (n)",
            csv_file.display()
        );
        let rows = duckdb_rows(&out, &sql);
        let (p, c, different) = (&rows[0][0], &rows[0][1], &rows[0][2]);
        assert_eq!(
            (p, different),
            (c, &"0".to_owned()),
            "{table}: rows, rows that differ"
        );
        compared_rows += p.parse::<u64>().unwrap();
    }
    assert!(
        compared_rows > 1_000,
        "the sample fills the tables: {compared_rows} rows"
    );
}

#[test]
fn json_summary_equals_the_summary_table() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let json = dir.path().join("summary.json");
    analyze(
        &[&fixture("sample.log")],
        &out,
        &[
            "--site-domain",
            "example.com",
            "--json",
            &json.display().to_string(),
        ],
    );
    let script = r#"
import json, sys
import pyarrow.parquet as pq
doc = json.load(open(sys.argv[1]))
row = pq.read_table(sys.argv[2]).to_pylist()[0]
assert list(doc["summary"]) == list(row), (list(doc["summary"]), list(row))
for key, value in row.items():
    got = doc["summary"][key]
    if hasattr(value, "isoformat"):
        value = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert got == value, (key, got, value)
assert doc["inputs"] == [sys.argv[3]], doc["inputs"]
assert doc["definitions"]["sessions"] == "ga4"
assert doc["definitions"]["site_domains"] == ["example.com"]
print(doc["summary"]["sessions"])
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&json)
        .arg(out.join("summary.parquet"))
        .arg(fixture("sample.log"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sessions = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        sessions.trim(),
        duckdb_value(&out, "select sessions from '{out}/summary.parquet'")
    );
}

#[test]
fn csv_beside_the_parquet_and_an_unwritable_json() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    // The same directory for both: one staging directory, every file once.
    analyze(
        &[&fixture("sample.log")],
        &out,
        &["--csv", &out.display().to_string()],
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2 * TABLES.len(), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");

    // A JSON file in a directory that does not exist: the run fails, names the file, and
    // leaves the previous output as it was.
    let before = std::fs::metadata(out.join("summary.parquet"))
        .unwrap()
        .modified()
        .unwrap();
    let missing = dir.path().join("no-such-dir").join("summary.json");
    let output = run(&[
        "analyze",
        &fixture("sample.log").display().to_string(),
        "--out",
        &out.display().to_string(),
        "--json",
        &missing.display().to_string(),
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("summary.json"), "{stderr}");
    let after = std::fs::metadata(out.join("summary.parquet"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "a failed run keeps the previous tables");
    assert!(Path::new(&out).join("summary.csv").exists());
}
