//! The same tables for people and tools that do not read Parquet: `--csv DIR` writes every
//! table as CSV, `--json FILE` writes the summary (and the run's metadata) as one JSON object.
//!
//! Both are written from the very batches the Parquet files are written from, so the numbers
//! are the same. Values are written as:
//!
//! | Arrow type | CSV and JSON |
//! |---|---|
//! | Utf8 | the text (CSV: quoted when it is empty or holds `,`, `"`, a line break, or leading/trailing space) |
//! | Int64 | decimal integer |
//! | Float64 | shortest decimal that reads back to the same number |
//! | Boolean | `true` / `false` |
//! | Timestamp(µs, UTC) | `2026-10-10T13:55:36.000000Z` |
//! | Timestamp(µs) | `2026-10-10T13:00:00.000000` (wall clock, no zone) |
//! | Date32 | `2026-10-10` |
//! | null | empty field (CSV), `null` (JSON) |

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

use super::json_string;
use super::parquet::TableSpec;
use crate::error::{Error, Result};
use crate::parse::time::{civil_from_days, format_utc};

/// Rows per batch while exporting.
const BATCH_ROWS: usize = 16 * 1024;

/// One value of a table, borrowed from its batch.
pub(super) enum Value<'a> {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'a str),
    /// Microseconds since the epoch, and whether they are UTC (or wall-clock time).
    Time(i64, bool),
    Date(i32),
}

/// The value at `row` of `column`.
pub(super) fn value(column: &dyn Array, row: usize) -> Value<'_> {
    if column.is_null(row) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Utf8 => Value::Text(column.as_string::<i32>().value(row)),
        DataType::Int64 => Value::Int(column.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Value::Float(column.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Value::Bool(column.as_boolean().value(row)),
        DataType::Date32 => Value::Date(column.as_primitive::<Date32Type>().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, zone) => Value::Time(
            column.as_primitive::<TimestampMicrosecondType>().value(row),
            zone.is_some(),
        ),
        other => unreachable!("tables use no {other} column"),
    }
}

/// Writes a time as ISO 8601 with microseconds, `Z` when it is UTC.
fn write_time(out: &mut String, us: i64, utc: bool) {
    let text = format_utc(us.div_euclid(1000));
    let _ = write!(
        out,
        "{}T{}.{:06}{}",
        &text[..10],
        &text[11..],
        us.rem_euclid(1_000_000),
        if utc { "Z" } else { "" }
    );
}

/// Writes a value as its text (no quoting).
pub(super) fn write_plain(out: &mut String, v: &Value<'_>) {
    match *v {
        Value::Null => {}
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Text(t) => out.push_str(t),
        Value::Time(us, utc) => write_time(out, us, utc),
        Value::Date(days) => {
            let (y, mo, d) = civil_from_days(i64::from(days));
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}");
        }
    }
}

/// Writes a value as a CSV field (RFC 4180).
fn write_csv_field(out: &mut String, v: &Value<'_>) {
    match *v {
        Value::Text(t)
            if t.is_empty()
                || t.contains([',', '"', '\n', '\r'])
                || t.starts_with(char::is_whitespace)
                || t.ends_with(char::is_whitespace) =>
        {
            out.push('"');
            out.push_str(&t.replace('"', "\"\""));
            out.push('"');
        }
        _ => write_plain(out, v),
    }
}

/// Writes a value as JSON.
fn write_json_value(out: &mut String, v: &Value<'_>) {
    match *v {
        Value::Null => out.push_str("null"),
        Value::Float(f) if !f.is_finite() => out.push_str("null"),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => write_plain(out, v),
        Value::Text(t) => out.push_str(&json_string(t)),
        Value::Time(..) | Value::Date(_) => {
            let mut text = String::new();
            write_plain(&mut text, v);
            out.push_str(&json_string(&text));
        }
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::OutputFile {
        path: path.display().to_string(),
        source,
    }
}

/// Writes one table as `dir/<name>.csv`: a header, then its rows.
fn write_csv_table(dir: &Path, table: &TableSpec<'_>) -> Result<()> {
    let path = dir.join(format!("{}.csv", table.name));
    let error = io_error(&path);
    let mut out = BufWriter::new(File::create(&path).map_err(&error)?);
    let mut line = String::new();
    let mut start = 0;
    loop {
        let end = (start + BATCH_ROWS).min(table.rows);
        let batch = table.batch(start..end);
        if start == 0 {
            let names: Vec<&str> = batch
                .schema_ref()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            writeln!(out, "{}", names.join(",")).map_err(&error)?;
        }
        write_csv_rows(&batch, &mut line);
        out.write_all(line.as_bytes()).map_err(&error)?;
        start = end;
        if start >= table.rows {
            break;
        }
    }
    out.into_inner()
        .map_err(|e| error(e.into_error()))?
        .sync_all()
        .map_err(&error)
}

fn write_csv_rows(batch: &RecordBatch, out: &mut String) {
    out.clear();
    for row in 0..batch.num_rows() {
        for (i, column) in batch.columns().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_csv_field(out, &value(column.as_ref(), row));
        }
        out.push('\n');
    }
}

/// Writes every table as CSV into `dir` (a staging directory).
pub fn write_csv(dir: &Path, tables: &[TableSpec<'_>]) -> Result<()> {
    use rayon::prelude::*;
    tables
        .par_iter()
        .try_for_each(|table| write_csv_table(dir, table))
}

/// The summary table's one row (`batch`) and the run's metadata as a JSON object:
/// `{"summary": {column: value, …}, "version": …, "inputs": […], "time_range": {…},
/// "definitions": {…}}`. `metadata` values are JSON already, but for the version.
pub fn summary_json(batch: &RecordBatch, metadata: &[(String, String)]) -> String {
    let mut out = String::from("{\n  \"summary\": {");
    for (i, (field, column)) in batch
        .schema_ref()
        .fields()
        .iter()
        .zip(batch.columns())
        .enumerate()
    {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&json_string(field.name()));
        out.push_str(": ");
        if batch.num_rows() == 0 {
            out.push_str("null");
        } else {
            write_json_value(&mut out, &value(column.as_ref(), 0));
        }
    }
    out.push_str("\n  }");
    for (key, json) in metadata {
        let key = key.strip_prefix("accesslens.").unwrap_or(key);
        let _ = write!(out, ",\n  {}: ", json_string(key));
        if key == "version" {
            out.push_str(&json_string(json));
        } else {
            out.push_str(json);
        }
    }
    out.push_str("\n}\n");
    out
}

/// Writes `text` to `path` atomically: a temporary file beside it, flushed, then renamed.
pub fn write_file_atomically(path: &Path, text: &str) -> Result<()> {
    let error = io_error(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.accesslens-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(v: Value<'_>) -> String {
        let mut out = String::new();
        write_csv_field(&mut out, &v);
        out
    }

    fn json(v: Value<'_>) -> String {
        let mut out = String::new();
        write_json_value(&mut out, &v);
        out
    }

    #[test]
    fn values() {
        assert_eq!(csv(Value::Text("plain")), "plain");
        assert_eq!(csv(Value::Text("a,b")), "\"a,b\"");
        assert_eq!(csv(Value::Text("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv(Value::Text("two\nlines")), "\"two\nlines\"");
        assert_eq!(csv(Value::Text(" padded")), "\" padded\"");
        assert_eq!(csv(Value::Null), "");
        // An empty text is quoted, so that it reads back as empty, not as null.
        assert_eq!(csv(Value::Text("")), "\"\"");
        assert_eq!(csv(Value::Int(-42)), "-42");
        assert_eq!(csv(Value::Float(0.1)), "0.1");
        assert_eq!(csv(Value::Float(2.0)), "2");
        assert_eq!(csv(Value::Bool(true)), "true");
        // 2024-03-10 09:00:03.5 UTC, and as wall-clock time.
        assert_eq!(
            csv(Value::Time(1_710_061_203_500_000, true)),
            "2024-03-10T09:00:03.500000Z"
        );
        assert_eq!(
            csv(Value::Time(1_710_061_203_500_000, false)),
            "2024-03-10T09:00:03.500000"
        );
        assert_eq!(csv(Value::Time(-1, true)), "1969-12-31T23:59:59.999999Z");
        assert_eq!(csv(Value::Date(19_792)), "2024-03-10");
        assert_eq!(json(Value::Null), "null");
        assert_eq!(json(Value::Float(f64::NAN)), "null");
        assert_eq!(json(Value::Text("a\"b")), "\"a\\\"b\"");
        assert_eq!(json(Value::Date(0)), "\"1970-01-01\"");
        assert_eq!(json(Value::Bool(false)), "false");
    }
}
