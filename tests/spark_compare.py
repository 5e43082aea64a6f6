"""Compares the tables the Spark job wrote with accesslens's own, row by row.

usage: spark_compare.py RUST_OUT SPARK_OUT TABLE...

For each table, every column the Spark job wrote is read from both sides (Spark's
OUT/<table>/*.parquet, accesslens's OUT/<table>.parquet) and compared in row order; floats
to 1e-9 relative. Prints the first difference of each table and exits 1 when any differ.
"""

import math
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def compare(rust_out: str, spark_out: str, table: str) -> list:
    spark = ds.dataset(f"{spark_out}/{table}", format="parquet").to_table()
    rust = pq.read_table(f"{rust_out}/{table}.parquet")
    problems = []
    missing = [c for c in spark.column_names if c not in rust.column_names]
    if missing:
        return [f"{table}: columns {missing} are not in accesslens's table"]
    if spark.num_rows != rust.num_rows:
        problems.append(f"{table}: {rust.num_rows} rows in accesslens, {spark.num_rows} in Spark")
    rust_rows = rust.select(spark.column_names).to_pylist()
    spark_rows = spark.to_pylist()
    for i, (r, s) in enumerate(zip(rust_rows, spark_rows)):
        diff = {c: (r[c], s[c]) for c in spark.column_names if not close(r[c], s[c])}
        if diff:
            problems.append(f"{table} row {i}: (accesslens, spark) differ in {diff}")
            break
    if rust.num_rows == 0:
        problems.append(f"{table}: empty, the test data should fill it")
    return problems


def main() -> int:
    rust_out, spark_out, *tables = sys.argv[1:]
    problems = [p for t in tables for p in compare(rust_out, spark_out, t)]
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
