//! A small column-by-column builder for Arrow record batches, so each report's schema reads
//! as a list of (name, values) in column order: the contract documented in the README.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// A batch of a table under construction, column by column.
#[derive(Default)]
pub struct Table {
    fields: Vec<Field>,
    columns: Vec<ArrayRef>,
}

/// Counts are unsigned inside; Parquet gets signed 64-bit, which BI tools read correctly.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Table {
    fn push(mut self, name: &str, data_type: DataType, nullable: bool, column: ArrayRef) -> Table {
        self.fields.push(Field::new(name, data_type, nullable));
        self.columns.push(column);
        self
    }

    pub fn str<'a>(self, name: &str, values: impl Iterator<Item = &'a str>) -> Table {
        let column = Arc::new(StringArray::from_iter_values(values));
        self.push(name, DataType::Utf8, false, column)
    }

    /// A string column whose values are formatted straight into the column's buffer.
    pub fn formatted<T>(
        self,
        name: &str,
        rows: impl Iterator<Item = T>,
        format: impl Fn(T, &mut StringBuilder) -> std::fmt::Result,
    ) -> Table {
        let mut builder = StringBuilder::new();
        for row in rows {
            format(row, &mut builder).expect("formatting into memory cannot fail");
            builder.append_value("");
        }
        self.push(name, DataType::Utf8, false, Arc::new(builder.finish()))
    }

    pub fn opt_str<'a>(self, name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Table {
        let column = Arc::new(values.collect::<StringArray>());
        self.push(name, DataType::Utf8, true, column)
    }

    /// A column of lists of strings (never null, nor their items).
    pub fn str_lists<'a, L: Iterator<Item = &'a str>>(
        self,
        name: &str,
        lists: impl Iterator<Item = L>,
    ) -> Table {
        let item = Arc::new(Field::new("item", DataType::Utf8, false));
        let mut builder = ListBuilder::new(StringBuilder::new()).with_field(Arc::clone(&item));
        for list in lists {
            for value in list {
                builder.values().append_value(value);
            }
            builder.append(true);
        }
        self.push(
            name,
            DataType::List(item),
            false,
            Arc::new(builder.finish()),
        )
    }

    /// A binary column (sketches), never null.
    pub fn binary<'a>(self, name: &str, values: impl Iterator<Item = &'a [u8]>) -> Table {
        let column = Arc::new(BinaryArray::from_iter_values(values));
        self.push(name, DataType::Binary, false, column)
    }

    /// A count column (Int64).
    pub fn count(self, name: &str, values: impl Iterator<Item = u64>) -> Table {
        let column = Arc::new(Int64Array::from_iter_values(values.map(count)));
        self.push(name, DataType::Int64, false, column)
    }

    pub fn int(self, name: &str, values: impl Iterator<Item = i64>) -> Table {
        let column = Arc::new(Int64Array::from_iter_values(values));
        self.push(name, DataType::Int64, false, column)
    }

    pub fn opt_int(self, name: &str, values: impl Iterator<Item = Option<i64>>) -> Table {
        let column = Arc::new(values.collect::<Int64Array>());
        self.push(name, DataType::Int64, true, column)
    }

    /// A calendar date (days since 1970-01-01).
    pub fn date(self, name: &str, days: impl Iterator<Item = i32>) -> Table {
        let column = Arc::new(Date32Array::from_iter_values(days));
        self.push(name, DataType::Date32, false, column)
    }

    /// A wall-clock time without a time zone (microseconds), from milliseconds of local time.
    pub fn local_time(self, name: &str, values: impl Iterator<Item = i64>) -> Table {
        let column = values.map(|ms| ms.saturating_mul(1000)).collect::<Vec<_>>();
        let data_type = DataType::Timestamp(TimeUnit::Microsecond, None);
        self.push(
            name,
            data_type,
            false,
            Arc::new(TimestampMicrosecondArray::from(column)),
        )
    }

    pub fn float(self, name: &str, values: impl Iterator<Item = f64>) -> Table {
        let column = Arc::new(Float64Array::from_iter_values(values));
        self.push(name, DataType::Float64, false, column)
    }

    pub fn opt_float(self, name: &str, values: impl Iterator<Item = Option<f64>>) -> Table {
        let column = Arc::new(values.collect::<Float64Array>());
        self.push(name, DataType::Float64, true, column)
    }

    pub fn bool(self, name: &str, values: impl Iterator<Item = bool>) -> Table {
        let column = Arc::new(values.map(Some).collect::<BooleanArray>());
        self.push(name, DataType::Boolean, false, column)
    }

    pub fn opt_bool(self, name: &str, values: impl Iterator<Item = Option<bool>>) -> Table {
        let column = Arc::new(values.collect::<BooleanArray>());
        self.push(name, DataType::Boolean, true, column)
    }

    /// A UTC timestamp column, microsecond precision, from milliseconds.
    pub fn time(self, name: &str, values: impl Iterator<Item = i64>) -> Table {
        self.opt_time_inner(name, values.map(Some), false)
    }

    pub fn opt_time(self, name: &str, values: impl Iterator<Item = Option<i64>>) -> Table {
        self.opt_time_inner(name, values, true)
    }

    fn opt_time_inner(
        self,
        name: &str,
        values: impl Iterator<Item = Option<i64>>,
        nullable: bool,
    ) -> Table {
        let column = values
            .map(|ms| ms.map(|ms| ms.saturating_mul(1000)))
            .collect::<TimestampMicrosecondArray>()
            .with_timezone("UTC");
        let data_type = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        self.push(name, data_type, nullable, Arc::new(column))
    }

    /// This table's columns, then `other`'s (built from the same rows).
    pub fn append(mut self, other: Table) -> Table {
        self.fields.extend(other.fields);
        self.columns.extend(other.columns);
        self
    }

    pub fn into_batch(self) -> RecordBatch {
        let schema = Arc::new(Schema::new(self.fields));
        RecordBatch::try_new(schema, self.columns)
            .expect("every column of a table has the same length")
    }
}
