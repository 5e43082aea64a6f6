"""Runs the Spark steps of tests/spark.rs in one Spark session, so that Spark starts once.

usage: spark_jobs.py PLAN.json

PLAN is a JSON list of steps, run in order:

* {"job": [ARG, ...]}: contrib/spark/accesslens_spark.py with those arguments (the hits
  job, or `merge ...`);
* {"sketches": [STATE_DIR, SESSIONS_PARQUET]}: Spark's estimates, per channel, of the
  state's visitor sketches, of its own sketches of the sessions table
  (`hll_sketch_agg(cast(visitor as string), 12)`) and of their union.

Prints a JSON list with one result per step: {"ok": bool, "error": text, "stdout": text,
"stderr": text, "rows": [[...], ...] (sketches only), "seconds": wall time}. A step that
fails does not stop the next ones.
"""

import contextlib
import glob
import io
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "contrib" / "spark"))

import accesslens_spark as job  # noqa: E402

SKETCHES = """
    with ours as (select channel, sum(sessions) sessions, hll_union_agg(visitors_hll) s
                  from state group by channel),
         theirs as (select channel, hll_sketch_agg(cast(visitor as string), 12) s
                    from sessions group by channel)
    select channel, sessions, hll_sketch_estimate(ours.s), hll_sketch_estimate(theirs.s),
           hll_sketch_estimate(hll_union(ours.s, theirs.s))
    from ours join theirs using (channel) order by channel"""


def sketches(spark, state: str, sessions: str) -> list:
    """The sessions open at the end of the run are in `open/` (no later run continued them)."""
    columns = ["channel", "sessions", "visitors_hll"]
    counted = (
        spark.read.option("basePath", state)
        .parquet(state + "/date=*/run=*/channels.parquet")
        .select(*columns)
    )
    if glob.glob(state + "/date=*/run=*/open/channels.parquet"):
        counted = counted.unionByName(
            spark.read.parquet(state + "/date=*/run=*/open/channels.parquet").select(*columns)
        )
    counted.createOrReplaceTempView("state")
    spark.read.parquet(sessions).createOrReplaceTempView("sessions")
    return [[str(v) for v in r] for r in spark.sql(SKETCHES).collect()]


def step(spark, plan: dict) -> dict:
    out, err = io.StringIO(), io.StringIO()
    result = {"ok": True, "error": "", "rows": []}
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if "job" in plan:
                job.run(plan["job"], spark)
            else:
                result["rows"] = sketches(spark, *plan["sketches"])
    except job.JobError as e:
        result.update(ok=False, error=str(e))
    except SystemExit as e:
        result.update(ok=False, error=f"exit {e.code}")
    except Exception:  # noqa: BLE001 - the test shows whatever went wrong
        result.update(ok=False, error=traceback.format_exc())
    result.update(
        stdout=out.getvalue(), stderr=err.getvalue(), seconds=time.monotonic() - started
    )
    return result


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    started = time.monotonic()
    spark = job.spark_session("accesslens tests")
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark started in {time.monotonic() - started:.1f} s", file=sys.stderr)
    try:
        results = [step(spark, p) for p in plan]
    finally:
        spark.stop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
