"""Compares the tables the Spark job wrote with accesslens's own, row by row.

usage: spark_compare.py [--merged] RUST_OUT SPARK_OUT TABLE...

For each table, every column the Spark job wrote is read from both sides (Spark's
OUT/<table>/*.parquet, accesslens's OUT/<table>.parquet) and compared in row order; floats
to 1e-9 relative. Prints the first difference of each table and exits 1 when any differ.

With --merged (the job's `merge` against `accesslens merge`), the tables must have the same
columns, types and nullability, every value must be equal (floats too: both compute them
from the same sums), and the job's SPARK_OUT/_merged.json must hold what accesslens wrote as
its `accesslens.merged` metadata and, under their names, its `accesslens.inputs`,
`time_range`, `definitions` and `estimates`.
"""

import json
import math
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def columns(table) -> list:
    return [(f.name, str(f.type), f.nullable) for f in table.schema]


def compare(rust_out: str, spark_out: str, table: str, merged: bool = False) -> list:
    spark = ds.dataset(f"{spark_out}/{table}", format="parquet").to_table()
    rust = pq.read_table(f"{rust_out}/{table}.parquet")
    problems = []
    if merged and columns(spark) != columns(rust):
        return [f"{table}: columns differ: accesslens {columns(rust)}, Spark {columns(spark)}"]
    missing = [c for c in spark.column_names if c not in rust.column_names]
    if missing:
        return [f"{table}: columns {missing} are not in accesslens's table"]
    if spark.num_rows != rust.num_rows:
        problems.append(f"{table}: {rust.num_rows} rows in accesslens, {spark.num_rows} in Spark")
    rust_rows = rust.select(spark.column_names).to_pylist()
    spark_rows = spark.to_pylist()
    for i, (r, s) in enumerate(zip(rust_rows, spark_rows)):
        diff = {
            c: (r[c], s[c])
            for c in spark.column_names
            if (r[c] != s[c] if merged else not close(r[c], s[c]))
        }
        if diff:
            problems.append(f"{table} row {i}: (accesslens, spark) differ in {diff}")
            break
    if rust.num_rows == 0:
        problems.append(f"{table}: empty, the test data should fill it")
    return problems


def compare_merged(rust_out: str, spark_out: str, table: str) -> list:
    """accesslens's metadata against the job's _merged.json: `accesslens.merged`'s fields,
    and `accesslens.inputs`, `time_range`, `definitions` and `estimates` under their names."""
    metadata = pq.read_metadata(f"{rust_out}/{table}.parquet").metadata
    with open(f"{spark_out}/_merged.json") as f:
        spark = json.load(f)
    rust = json.loads(metadata[b"accesslens.merged"])
    for key in ("inputs", "time_range", "definitions", "estimates"):
        rust[key] = json.loads(metadata[f"accesslens.{key}".encode()])
    return [
        f"_merged.json: {key}: accesslens {rust[key]!r}, Spark {spark.get(key)!r}"
        for key in rust
        if rust[key] != spark.get(key)
    ]


def main() -> int:
    args = sys.argv[1:]
    merged = args[0] == "--merged"
    rust_out, spark_out, *tables = args[1:] if merged else args
    problems = [p for t in tables for p in compare(rust_out, spark_out, t, merged)]
    if merged:
        problems += compare_merged(rust_out, spark_out, tables[0])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
