"""Sessions and channel reports from accesslens's hits table, on Spark.

`accesslens analyze LOGS --out OUT --emit hits` writes OUT/hits/date=YYYY-MM-DD/*.parquet,
one row per request. This job rebuilds, from those rows alone, the tables accesslens writes
for the `ga4` session rules: sessions, entry_pages, exit_pages, channels, referring_sites,
search_keywords and errors, with the same definitions, columns and row order, so a fleet's
logs can be reported on a cluster and checked against accesslens on a sample.

The definitions it relies on (see the README's "Definitions"):

* Sessions are cut from page views (the hits table's `page_view`: human GETs of pages
  answered 2xx or 304, a request whose log has no method counting as a GET); a visitor's
  page views, ordered by (ts, visitor_seq), start a new session when the gap to the
  previous one exceeds the timeout, compared in milliseconds (30 min: a gap of exactly
  30 min stays in the session).
* A session's entry page, referrer and acquisition (channel, source, medium, campaign, ...)
  are those of its first page view; accesslens classified them per request and referrer and
  wrote them on every hit, so nothing is re-classified here.
* Errors count human hits answered 400 or above, assets included.

Everything is DataFrame expressions (no Python UDF), so the work stays in the JVM.

`merge` rolls up the daily state that `accesslens analyze --state DIR` keeps, as `accesslens
merge` does, without the logs or the hits: see `merge_states` below.

Usage: spark-submit accesslens_spark.py HITS_DIR OUT_DIR [--timeout-ms MS] [--check-buckets N]
       spark-submit accesslens_spark.py merge STATE_DIR... --out OUT_DIR [--since D] [--until D]
"""

import argparse
import datetime
import json
import math
import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Channels in accesslens's rule order (src/enrich/channel.rs): ties between channels in the
# errors table's top_channel go to the earlier one.
CHANNEL_ORDER = [
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "AI Assistants",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Email",
    "Affiliates",
    "Referral",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
    "Unassigned",
]

DEFAULT_TIMEOUT_MS = 30 * 60 * 1000

REPORTS = [
    "sessions",
    "entry_pages",
    "exit_pages",
    "channels",
    "referring_sites",
    "search_keywords",
    "errors",
]


def spark_session(app: str = "accesslens") -> SparkSession:
    """A session that reads and writes times as UTC microseconds, as accesslens does."""
    return (
        SparkSession.builder.appName(app)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .getOrCreate()
    )


def read_hits(spark: SparkSession, path: str) -> DataFrame:
    """The hits table, with `ts_ms` (UTC milliseconds) beside `ts`."""
    hits = spark.read.option("basePath", path).parquet(path)
    return hits.withColumn("ts_ms", F.expr("unix_micros(ts) div 1000"))


def sessions(hits: DataFrame, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> DataFrame:
    """One row per session, with the columns of accesslens's `sessions` table (but the
    screen columns, which come from beacons)."""
    views = hits.where("page_view")
    by_time = Window.partitionBy("visitor_key").orderBy("ts_ms", "visitor_seq")
    views = (
        views.withColumn("gap", F.col("ts_ms") - F.lag("ts_ms").over(by_time))
        .withColumn(
            "new_session",
            F.when(F.col("gap").isNull() | (F.col("gap") > timeout_ms), 1).otherwise(0),
        )
        .withColumn(
            "session_index",
            F.sum("new_session").over(
                by_time.rowsBetween(Window.unboundedPreceding, Window.currentRow)
            ),
        )
        .withColumn(
            "value_micro",
            F.when(
                F.col("goal").isNotNull(),
                F.coalesce(F.round(F.col("goal_value") * 1e6).cast("long"), F.lit(0)),
            ),
        )
    )
    # The first and last page views: smallest and largest (ts_ms, visitor_seq) structs.
    first = F.min(
        F.struct(
            "ts_ms",
            "visitor_seq",
            F.col("path").alias("entry_page"),
            "referrer",
            "referrer_host",
            "referrer_internal",
            "channel",
            "source",
            "medium",
            "campaign",
            "term",
            "content",
            "search_engine",
            "keyword",
            "referrer_channel",
        )
    ).alias("first")
    last = F.max(F.struct("ts_ms", "visitor_seq", F.col("path").alias("exit_page"))).alias(
        "last"
    )
    first_goal = F.min(
        F.when(F.col("goal").isNotNull(), F.struct("ts_ms", "visitor_seq", "goal"))
    ).alias("first_goal")
    # A goal URL's value counts once per session however often it was viewed.
    goal_pages = F.collect_set(
        F.when(F.col("goal").isNotNull(), F.struct("path", "query", "value_micro"))
    ).alias("goal_pages")
    per_session = views.groupBy("visitor_key", "session_index").agg(
        F.first("visitor_hash").alias("visitor"),
        F.first("client").alias("ip"),
        F.first("browser").alias("browser"),
        F.first("os").alias("os"),
        F.first("device").alias("device"),
        F.count(F.lit(1)).alias("page_views"),
        first,
        last,
        first_goal,
        goal_pages,
    )
    by_start = Window.partitionBy("visitor_key").orderBy("start_ms")
    s = (
        per_session.select(
            "*",
            F.col("first.ts_ms").alias("start_ms"),
            F.col("last.ts_ms").alias("end_ms"),
            F.col("first_goal.goal").alias("goal"),
            F.expr("aggregate(goal_pages, 0L, (sum, g) -> sum + g.value_micro)").alias(
                "value_micro"
            ),
        )
        .withColumn("duration_ms", F.col("end_ms") - F.col("start_ms"))
        .withColumn("session_number", F.row_number().over(by_start))
        .withColumn("previous_end_ms", F.lag("end_ms").over(by_start))
    )
    return s.select(
        F.concat(
            F.lpad(F.lower(F.hex("visitor")), 16, "0"), F.lit("-"), F.col("start_ms").cast("string")
        ).alias("session_id"),
        "visitor",
        "ip",
        F.timestamp_millis("start_ms").alias("start"),
        F.timestamp_millis("end_ms").alias("end"),
        (F.col("duration_ms") / 1000.0).alias("duration_s"),
        "page_views",
        (F.col("page_views") == 1).alias("bounce"),
        (
            (F.col("duration_ms") > 10_000)
            | (F.col("page_views") >= 2)
            | F.col("goal").isNotNull()
        ).alias("engaged"),
        "first.entry_page",
        "last.exit_page",
        "first.referrer",
        "first.referrer_host",
        "first.referrer_internal",
        "first.channel",
        "first.source",
        "first.medium",
        "first.campaign",
        "first.term",
        "first.content",
        "first.search_engine",
        "first.keyword",
        F.col("goal").isNotNull().alias("converted"),
        "goal",
        (F.col("value_micro") / 1e6).alias("value"),
        "browser",
        "os",
        "device",
        F.col("session_number").cast("long").alias("session_number"),
        (F.col("session_number") > 1).alias("returning"),
        F.when(
            F.col("previous_end_ms").isNotNull(),
            F.floor(
                F.greatest(F.col("start_ms") - F.col("previous_end_ms"), F.lit(0)) / 86_400_000
            ).cast("long"),
        ).alias("days_since_last_visit"),
        # Kept for the reports below; dropped from the sessions table.
        F.col("visitor_key").alias("_visitor_key"),
        F.col("first.referrer_channel").alias("_referrer_channel"),
        F.col("duration_ms").alias("_duration_ms"),
        F.col("value_micro").alias("_value_micro"),
        F.col("start_ms").alias("_start_ms"),
    )


def session_metrics() -> list:
    """The metric columns every acquisition table shares, in accesslens's order."""
    sessions = F.count(F.lit(1))
    return [
        sessions.alias("sessions"),
        F.countDistinct("_visitor_key").alias("visitors"),
        F.sum("page_views").alias("page_views"),
        F.sum(F.col("bounce").cast("long")).alias("bounces"),
        (F.sum(F.col("bounce").cast("long")) / sessions).alias("bounce_rate"),
        F.sum(F.col("engaged").cast("long")).alias("engaged_sessions"),
        (F.sum(F.col("engaged").cast("long")) / sessions).alias("engagement_rate"),
        (F.sum(F.greatest("_duration_ms", F.lit(0))) / sessions / 1000.0).alias("avg_session_s"),
        F.sum(F.col("converted").cast("long")).alias("conversions"),
        (F.sum(F.col("converted").cast("long")) / sessions).alias("conversion_rate"),
        (F.sum("_value_micro") / 1e6).alias("value"),
    ]


def largest_first(df: DataFrame, count: str, *keys: str) -> DataFrame:
    """accesslens's row order: the count, largest first, then the key."""
    return df.orderBy(F.col(count).desc(), *[F.col(k).asc() for k in keys])


def reports(hits: DataFrame, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> dict:
    """Every table this job writes, by name."""
    s = sessions(hits, timeout_ms).cache()
    total = s.count()
    out = {}
    out["sessions"] = s.orderBy(
        "_start_ms", F.lpad(F.lower(F.hex("visitor")), 16, "0")
    ).drop(*[c for c in s.columns if c.startswith("_")])

    entries = s.groupBy(F.col("entry_page").alias("path")).agg(
        F.count(F.lit(1)).alias("sessions"),
        F.sum(F.col("bounce").cast("long")).alias("bounces"),
        F.sum("page_views").alias("page_views"),
        F.sum(F.greatest("_duration_ms", F.lit(0))).alias("duration_ms"),
    )
    out["entry_pages"] = largest_first(
        entries.select(
            "path",
            "sessions",
            "bounces",
            (F.col("bounces") / F.col("sessions")).alias("bounce_rate"),
            (F.col("sessions") / F.lit(total)).alias("share"),
            "page_views",
            (F.col("duration_ms") / F.col("sessions") / 1000.0).alias("avg_session_s"),
        ),
        "sessions",
        "path",
    )

    views_per_path = hits.where("page_view").groupBy("path").agg(
        F.count(F.lit(1)).alias("page_views")
    )
    exits = s.groupBy(F.col("exit_page").alias("path")).agg(F.count(F.lit(1)).alias("sessions"))
    out["exit_pages"] = largest_first(
        exits.join(views_per_path, "path").select(
            "path",
            "sessions",
            (F.col("sessions") / F.lit(total)).alias("share"),
            "page_views",
            (F.col("sessions") / F.col("page_views")).alias("exit_rate"),
        ),
        "sessions",
        "path",
    )

    out["channels"] = largest_first(
        s.groupBy("channel").agg(*session_metrics()), "sessions", "channel"
    )

    external = s.where(
        F.col("referrer").isNotNull()
        & ~F.col("referrer_internal")
        & F.col("referrer_host").isNotNull()
    )
    sites = external.groupBy(F.col("referrer_host").alias("host")).agg(
        F.first("_referrer_channel").alias("channel"),
        *session_metrics(),
        F.countDistinct("referrer").alias("referrers"),
    )
    out["referring_sites"] = largest_first(sites, "sessions", "host")

    searched = s.where(F.col("search_engine").isNotNull() & F.col("keyword").isNotNull())
    out["search_keywords"] = largest_first(
        searched.groupBy(F.col("search_engine").alias("engine"), "keyword").agg(
            *session_metrics()
        ),
        "sessions",
        "engine",
        "keyword",
    )

    out["errors"] = errors(hits)
    return out


def errors(hits: DataFrame) -> DataFrame:
    """Human hits answered 400 or above, per path and status, with the referrer and the
    channel that sent most of them."""
    failed = hits.where(~F.col("bot") & (F.col("status") >= 400))
    key = ["path", "status"]
    counts = failed.groupBy(*key).agg(
        F.count(F.lit(1)).alias("hits"),
        F.countDistinct("visitor_key").alias("visitors"),
        F.count("referrer").alias("referred_hits"),
    )
    # The referrer with most hits; ties go to the smallest text.
    per_referrer = (
        failed.where(F.col("referrer").isNotNull())
        .groupBy(*key, "referrer")
        .agg(F.count(F.lit(1)).alias("n"), F.first("referrer_internal").alias("internal"))
    )
    top = (
        per_referrer.withColumn(
            "rank",
            F.row_number().over(
                Window.partitionBy(*key).orderBy(F.col("n").desc(), F.col("referrer").asc())
            ),
        )
        .where("rank = 1")
        .select(
            *key,
            F.col("referrer").alias("top_referrer"),
            F.col("n").alias("top_referrer_hits"),
            F.col("internal").alias("top_referrer_internal"),
        )
    )
    # The channel (of the referrer) with most hits; ties go to the earlier channel.
    order = F.array_position(F.array(*[F.lit(c) for c in CHANNEL_ORDER]), F.col("referrer_channel"))
    per_channel = failed.groupBy(*key, "referrer_channel").agg(
        F.count(F.lit(1)).alias("n"), F.first(order).alias("order")
    )
    top_channel = (
        per_channel.withColumn(
            "rank",
            F.row_number().over(
                Window.partitionBy(*key).orderBy(F.col("n").desc(), F.col("order").asc())
            ),
        )
        .where("rank = 1")
        .select(*key, F.col("referrer_channel").alias("top_channel"))
    )
    rows = (
        counts.join(top, key, "left")
        .join(top_channel, key, "left")
        .select(
            "path",
            "status",
            "hits",
            "visitors",
            "referred_hits",
            "top_referrer",
            F.coalesce("top_referrer_hits", F.lit(0)).alias("top_referrer_hits"),
            "top_referrer_internal",
            "top_channel",
        )
    )
    return largest_first(rows, "hits", "path", "status")


def check_buckets(hits: DataFrame, buckets: int) -> None:
    """The bucket contract: Spark's xxhash64 (seed 42) of the visitor key is the visitor
    hash, and the bucket is its low bits (the hash modulo a power of two)."""
    if buckets < 1 or buckets & (buckets - 1):
        raise SystemExit(f"--check-buckets {buckets}: must be a power of two")
    wrong = hits.where(
        (F.xxhash64("visitor_key") != F.col("visitor_hash"))
        | (F.col("visitor_bucket") != F.col("visitor_hash").bitwiseAND(F.lit(buckets - 1)))
    ).count()
    if wrong:
        raise SystemExit(f"{wrong} hits break the visitor hash or bucket contract")


# --- Roll-ups of daily state -------------------------------------------------------------
#
# `accesslens analyze --state DIR` keeps, per date on which sessions started, one partition
# `DIR/date=YYYY-MM-DD/run=ID/`: `_manifest.json` (the run's inputs by content fingerprint,
# when it was written, the definitions in force) and one Parquet file per mergeable report,
# whose rows hold the report's key columns, additive counts, an Apache DataSketches HLL
# sketch of the visitors (`visitors_hll`) and, in `totals`, an HDR histogram of session
# durations. `merge` does what `accesslens merge` does (src/state/merge.rs):
#
# 1. the driver reads the manifests (small), chooses the partitions that count and, for each,
#    whether its `open/` counts (the sessions open at the end of its run, unless a later run
#    continued them);
# 2. Spark reads every file of the chosen partitions (and of the `open/` that count) in one
#    scan, with the table each file holds, adds up the counts per table and key, unions the
#    sketches (`hll_union_agg`) and gathers the histograms, in one aggregation whose result,
#    one row per report row, is cached;
# 3. each table is written from it, rates and averages computed from the sums, with
#    accesslens's columns, types and row order; the driver merges the duration histograms
#    for the median.
#
# Which files there are, their key and count columns and the table each gives is the list
# STATE_TABLES below.

# The manifest of a partition; Spark's readers skip files whose names start with `_`, so the
# job reads them through the Hadoop file system, as Spark itself does.
MANIFEST = "_manifest.json"

# The state layouts (a manifest's `accesslens_state`) this job reads, and the oldest it
# merges: older partitions lack tables `merge` writes (src/state/mod.rs `MERGE_MIN_LAYOUT`).
LAYOUTS = (1, 2, 3, 4, 5, 6)
MERGE_MIN_LAYOUT = 3

# A partition's sessions open at the end of its run (src/state/carry.rs `OPEN_DIR`).
OPEN_DIR = "open"

# The oldest layout whose partitions keep their sessions (`visits`) and their visitors' hits
# (`visitor_hits`), from which the visitor history is computed (src/state/mod.rs
# `HISTORY_MIN_LAYOUT`).
HISTORY_MIN_LAYOUT = 4

# The columns of `visits` (src/state/history.rs `visits_table`) the job reads: all of them
# but layout 5's `pages`.
VISITS_SCHEMA = (
    "visitor bigint, same_start bigint, start_ms bigint, end_ms bigint, utc_offset_min bigint, "
    "page_views bigint, entry_page string, exit_page string, referrer string, "
    "referrer_host string, referrer_internal boolean, channel string, source string, "
    "medium string, campaign string, term string, content string, search_engine string, "
    "keyword string, goal string, value_micro bigint, resolution string, color_depth bigint"
)

# The columns of `visitor_hits` (src/state/history.rs `visitor_hits_table`) the job reads.
VISITOR_HITS_SCHEMA = (
    "visitor bigint, ip string, user_agent string, browser string, browser_version string, "
    "os string, os_version string, device string, hits bigint, bytes bigint, first_ms bigint, "
    "last_ms bigint"
)

# The tables whose `hits` the history counts exactly, and the `visitor_hits` columns of their
# keys.
AGENT_KEYS = {
    "browsers": (("browser", "browser"), ("browser_version", "version")),
    "operating_systems": (("os", "os"), ("os_version", "version")),
    "devices": (("device", "device"),),
}

# The history tables this job writes, in accesslens's order (`merged_tables`).
HISTORY_TABLES = (
    "visitors",
    "sessions",
    "attribution",
    "visitor_types",
    "visit_frequency",
    "visit_recency",
    "retention",
)
# ... and those of the journeys, from layout 5 on, whose visits keep their page views
# (src/state/mod.rs `JOURNEYS_MIN_LAYOUT`).
JOURNEY_TABLES = ("paths", "transitions")
JOURNEYS_MIN_LAYOUT = 5

# The columns of `visits` the journeys read: each session's key, what its metrics take, and
# its page views' paths in order.
JOURNEY_SCHEMA = (
    "visitor bigint, same_start bigint, start_ms bigint, end_ms bigint, page_views bigint, "
    "goal string, value_micro bigint, pages array<string>"
)

# The journeys' settings when the partitions do not say theirs (src/aggregate/journeys.rs
# `JourneyRules::default`), the deepest path offered, and the names of pages not named and
# the steps' separator.
DEFAULT_PATH_DEPTH, DEFAULT_PATH_PAGES, MAX_PATH_DEPTH = 3, 1000, 8
OTHER_PAGE = "(other)"
STEP_SEPARATOR = " → "

# What is exact in a roll-up of partitions that keep their visits (accesslens's
# `HISTORY_NOTE`).
HISTORY_NOTE = (
    "the summary's visitors and returning_visitors, and the visitors, sessions, visitor_types, "
    "visit_frequency, visit_recency, retention, attribution, paths and transitions tables, are "
    "computed from every session of the period (the partitions' visits), not estimated"
)

# The attribution models, in accesslens's order (src/aggregate/attribution.rs `Model`), and
# the lookback when the partitions do not say theirs.
MODELS = (
    "last_non_direct_click",
    "first_click",
    "last_click",
    "linear",
    "position_based",
    "time_decay",
)
DEFAULT_LOOKBACK_MS = 30 * 86_400_000
# One conversion, in billionths: credit is counted in whole billionths, as accesslens does.
WHOLE = 1_000_000_000

# Sessions per visitor, bucketed: each bucket's label and lower bound (src/aggregate/
# loyalty.rs `FREQUENCY_BUCKETS`).
FREQUENCY_BUCKETS = (("1", 1), ("2", 2), ("3-5", 3), ("6-10", 6), ("11+", 11))

LONG_MAX, LONG_MIN = 2**63 - 1, -(2**63)

# The definitions that change what a merged row counts: partitions must agree on them, and
# on their goals (src/state/merge.rs `COMPARED`).
COMPARED = (
    "sessions",
    "session_timeout_ms",
    "visitor_key",
    "site_domains",
    "beacon_paths",
    "goal_value_param",
    "text_encoding",
    "tz",
)

# What the merged `visitors` columns are (accesslens's `accesslens.estimates`).
ESTIMATE_NOTE = (
    "visitors columns are estimates: the union of daily HLL sketches (lg_k 12), relative "
    "standard error 1.6% (within 3.3% for 95% of counts); counts below a few hundred are "
    "exact but for hash collisions (about 1 in 10^4)"
)

# Why a merged summary's `returning_visitors` is null with `--no-history`.
NO_HISTORY_NOTE = (
    "null, not estimated: whether a visitor returned takes its sessions of the whole period, "
    "which `merge --no-history` does not read"
)

# Why a merged summary's `returning_visitors` is null (accesslens's `accesslens.estimates`).
RETURNING_NOTE = (
    "null, not estimated: whether a visitor returned takes its sessions of the whole period, "
    "and the state keeps visitors only as sketches per date, whose unions count distinct "
    "visitors but not how many sessions each had"
)

# The merged `summary`'s columns: l a count (Int64), d a float, t a UTC time; ? nullable.
SUMMARY_COLUMNS = tuple(
    tuple(c.split(":"))
    for c in """lines:l blank_lines:l malformed:l out_of_range:l hits:l bytes:l human_hits:l
    bot_hits:l bot_bytes:l page_views:l visitors:l returning_visitors:l? sessions:l bounces:l
    bounce_rate:d? engaged_sessions:l engagement_rate:d? avg_session_s:d? median_session_s:d?
    pages_per_session:d? conversions:l conversion_rate:d? value:d internal_searches:l
    search_sessions:l beacon_hits:l beacon_invalid:l first_ts:t? last_ts:t? inputs:l
    input_bytes:l""".split()
)


class JobError(Exception):
    """A run that cannot go on (a state that cannot be read or merged): `error: …`, exit 1."""


@dataclass(frozen=True)
class Kind:
    """How a key column is typed (src/state/mod.rs `KeyKind`)."""

    type: str
    # Never null: written as a required column, as accesslens writes it; `default` stands in
    # for a null, which a valid state does not hold (accesslens reads it as "" too).
    required: bool
    default: object = None


TEXT = Kind("string", True, "")
OPT_TEXT = Kind("string", False)
INT = Kind("bigint", True, 0)
OPT_INT = Kind("bigint", False)
BOOL = Kind("boolean", True, False)

# How a count column adds up over dates and runs.
FOLDS = {"sum": F.sum, "min": F.min, "max": F.max}

# The counts of a report counted from sessions (accesslens's `SessionMetrics` but visitors).
SESSION_COUNTS = tuple(
    (c, "sum")
    for c in (
        "sessions",
        "page_views",
        "bounces",
        "engaged_sessions",
        "duration_ms",
        "conversions",
        "value_micro",
    )
)


@dataclass(frozen=True)
class StateTable:
    """One file of every state partition, and the report `merge` writes from it."""

    name: str
    # Key columns, in the report's order: (name, Kind).
    keys: tuple
    # Count columns and how each adds up: (name, fold).
    counts: tuple = SESSION_COUNTS
    # A `visitors_hll` column: merged into the estimate `visitors`.
    sketch: bool = True
    # Binary columns read as they are (the duration histogram of `totals`).
    binary: tuple = ()
    # Whether the partition's `open/` has it (every table counting sessions).
    open: bool = True
    # The merged tables built from it, rows in order: (name, (Rollup, StateTable) ->
    # DataFrame). Empty: read only to build other tables.
    writes: tuple = ()

    @property
    def key_names(self) -> list:
        return [k for k, _ in self.keys]

def ratio(num: str, den) -> "F.Column":
    """`num / den`, null when `den` is 0 (accesslens's `ratio`)."""
    den = den if isinstance(den, F.Column) else F.col(den)
    return F.when(den > 0, F.col(num) / den)


def required(column: "F.Column", default) -> "F.Column":
    """`column`, never null (so written as a required column, as accesslens writes it): a
    valid state never gives `default`."""
    return F.coalesce(column, F.lit(default))


def in_order(rows: DataFrame, count: str, *keys) -> DataFrame:
    """accesslens's row order (the count, largest first, then the key) in one partition:
    a merged table is small, and sorting it where it is written spares the sampling job of a
    global sort. A key may be a column (its order) or a name (ascending)."""
    order = [F.col(count).desc(), *[F.col(k).asc() if isinstance(k, str) else k for k in keys]]
    return rows.coalesce(1).sortWithinPartitions(*order)


def money(micro: str) -> "F.Column":
    """Millionths as a value (never null, as accesslens writes it)."""
    return F.coalesce(F.col(micro) / 1e6, F.lit(0.0))


def key_columns(t: StateTable) -> list:
    return [
        required(F.col(k), kind.default).alias(k) if kind.required else F.col(k)
        for k, kind in t.keys
    ]


def metric_columns() -> list:
    """The metric columns every acquisition table shares, in accesslens's order."""
    return [
        "sessions",
        "visitors",
        "page_views",
        "bounces",
        ratio("bounces", "sessions").alias("bounce_rate"),
        "engaged_sessions",
        ratio("engaged_sessions", "sessions").alias("engagement_rate"),
        (ratio("duration_ms", "sessions") / 1000.0).alias("avg_session_s"),
        "conversions",
        ratio("conversions", "sessions").alias("conversion_rate"),
        money("value_micro").alias("value"),
    ]


def metrics_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Keys and session metrics, most sessions first (channels, sources, campaigns, …)."""
    rows = r.merged(t.name).select(*key_columns(t), *metric_columns())
    return in_order(rows, "sessions", *t.key_names)


def audience_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Keys, share of all sessions and session metrics (resolutions, colour depths), and the
    human hits of the row's user agents (browsers, operating systems, devices)."""
    hits = ["hits"] if "hits" in dict(t.counts) else []
    rows = r.merged(t.name).select(
        *key_columns(t), r.share("sessions").alias("share"), *metric_columns(), *hits
    )
    if r.history is not None and t.name in AGENT_KEYS:
        # The visitors' hits counted from `visitor_hits` (src/state/merge.rs `set_hits`): a
        # row keeps its sessions and takes those hits, and goes when it has neither.
        agent_hits = r.history.agent_hits(t.name)
        rows = (
            rows.join(agent_hits, t.key_names, "left")
            .withColumn("hits", required(F.col("_agent_hits"), 0))
            .where((F.col("sessions") > 0) | (F.col("hits") > 0))
            .select(*rows.columns)
        )
    return in_order(rows, "sessions", *t.key_names)


def entry_pages_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Sessions, bounces, share and average duration per entry page."""
    rows = r.merged(t.name).select(
        *key_columns(t),
        "sessions",
        "bounces",
        ratio("bounces", "sessions").alias("bounce_rate"),
        r.share("sessions").alias("share"),
        "page_views",
        (ratio("duration_ms", "sessions") / 1000.0).alias("avg_session_s"),
    )
    return in_order(rows, "sessions", *t.key_names)


def goals_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Conversions (the goal's sessions), visitors, rate over all sessions and value."""
    rows = r.merged(t.name).select(
        *key_columns(t),
        F.col("sessions").alias("conversions"),
        "visitors",
        r.share("sessions").alias("conversion_rate"),
        money("value_micro").alias("value"),
    )
    return in_order(rows, "conversions", *t.key_names)


def referring_sites_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Session metrics per host, and how many of the merged referrers are on the host."""
    per_host = (
        r.merged("referrers")
        .where(F.col("host").isNotNull())
        .groupBy("host")
        .agg(F.count(F.lit(1)).alias("referrers"))
    )
    rows = (
        r.merged(t.name)
        .join(per_host, "host", "left")
        .select(
            *key_columns(t),
            *metric_columns(),
            required(F.col("referrers"), 0).alias("referrers"),
        )
    )
    return in_order(rows, "sessions", *t.key_names)


def pages_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Hits, page views, visitors, entries and exits per page; most page views first, then
    most hits."""
    rows = r.merged(t.name).select(
        *key_columns(t),
        "hits",
        "page_views",
        "visitors",
        "entries",
        "exits",
        ratio("exits", "page_views").alias("exit_rate"),
        "bounces",
        ratio("bounces", "entries").alias("bounce_rate"),
        (ratio("time_on_page_ms", "timed_views") / 1000.0).alias("avg_time_on_page_s"),
        # Layout 6 on: partitions before it have no response columns (read as 0).
        (ratio("response_us", "response_hits") / 1000.0).alias("avg_response_ms"),
        F.when(F.col("response_hits") > 0, F.col("max_response_us") / 1000.0).alias(
            "max_response_ms"
        ),
    )
    return in_order(rows, "page_views", F.col("hits").desc(), "path")


def exit_pages_table(r: "Rollup", t: StateTable) -> DataFrame:
    """The pages' exits: sessions that ended on each page, of all sessions and of its views."""
    rows = (
        r.merged(t.name)
        .where(F.col("exits") > 0)
        .select(
            *key_columns(t),
            F.col("exits").alias("sessions"),
            r.share("exits").alias("share"),
            "page_views",
            ratio("exits", "page_views").alias("exit_rate"),
        )
    )
    return in_order(rows, "sessions", "path")


def errors_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Errors per path and status, with the referrer that sent most of their hits (ties go
    to the smallest text) and the channel that did (ties go to the earlier channel, Direct
    when none)."""
    key = ["path", "status"]

    def top(name: str, *order) -> DataFrame:
        by = Window.partitionBy(*key).orderBy(F.col("hits").desc(), *order)
        return (
            r.merged(name)
            .withColumn("_rank", F.row_number().over(by))
            .where(F.col("_rank") == 1)
            .drop("_rank")
        )

    referrers = top("error_referrers", F.col("referrer").asc()).select(
        *key,
        F.col("referrer").alias("top_referrer"),
        F.col("hits").alias("top_referrer_hits"),
        F.col("internal").alias("top_referrer_internal"),
    )
    order = F.array_position(F.array(*[F.lit(c) for c in CHANNEL_ORDER]), F.col("channel"))
    channels = top("error_channels", order.asc()).select(
        *key, F.col("channel").alias("top_channel")
    )
    rows = (
        r.merged(t.name)
        .join(referrers, key, "left")
        .join(channels, key, "left")
        .select(
            *key_columns(t),
            "hits",
            "visitors",
            "referred_hits",
            "top_referrer",
            required(F.col("top_referrer_hits"), 0).alias("top_referrer_hits"),
            "top_referrer_internal",
            required(F.col("top_channel"), "Direct").alias("top_channel"),
        )
    )
    return in_order(rows, "hits", *key)


def status_codes_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Hits, bytes and visitors per status, with its class."""
    status = F.col("status")
    class_ = F.lit("other")
    for low in (500, 400, 300, 200):
        class_ = F.when(status.between(low, low + 99), F.lit(f"{low // 100}xx")).otherwise(class_)
    rows = r.merged(t.name).select(
        *key_columns(t),
        required(class_, "other").alias("class"),
        "hits",
        "bytes",
        "human_hits",
        "bot_hits",
        "visitors",
    )
    return in_order(rows, "hits", "status")


# The kinds of bot (src/enrich/agent.rs `KINDS`); another name reads as "unknown".
BOT_KINDS = ("ai", "search", "seo", "social", "monitor", "tool", "crawler")


def robots_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Hits, bytes, visitors and first and last hit per bot."""
    kind = F.when(F.col("kind").isin(*BOT_KINDS), F.col("kind")).otherwise(F.lit("unknown"))
    rows = r.merged(t.name).select(
        required(F.col("bot"), "").alias("bot"),
        required(kind, "unknown").alias("kind"),
        "hits",
        "bytes",
        "visitors",
        F.timestamp_millis("first_ms").alias("first_seen"),
        F.timestamp_millis("last_ms").alias("last_seen"),
    )
    return in_order(rows, "hits", "bot", "kind")


def internal_search_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Searches, their sessions, exits, refinements and conversions per term."""
    rows = r.merged(t.name).select(
        *key_columns(t),
        "searches",
        "sessions",
        "visitors",
        "exits",
        ratio("exits", "searches").alias("exit_rate"),
        "no_result_views",
        "refinements",
        "conversions",
        ratio("conversions", "sessions").alias("conversion_rate"),
    )
    return in_order(rows, "searches", "term")


HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
BUCKET_COUNTS = ("hits", "bot_hits", "bytes", "page_views", "sessions")


def index(column: str, unit_ms: int) -> "F.Column":
    """The hour or day (since 1970-01-01 on the log's clock) of a local start in ms."""
    return F.expr(f"({column} - pmod({column}, {unit_ms})) div {unit_ms}")


def time_order(rows: DataFrame, start_utc_ms: "F.Column") -> DataFrame:
    """Buckets in time order: UTC start, then offset."""
    return rows.coalesce(1).sortWithinPartitions(start_utc_ms, F.col("utc_offset_min"))


def traffic_by_hour_table(r: "Rollup", t: StateTable) -> DataFrame:
    """Hits, page views, sessions and visitors per hour of the log's clock."""
    start_utc = F.col("start_local_ms") - F.col("utc_offset_min") * 60_000
    hour = index("start_local_ms", HOUR_MS)
    rows = r.merged(t.name).select(*key_columns(t), *BUCKET_COUNTS, "visitors")
    rows = rows.select(
        F.timestamp_millis(start_utc).alias("hour_utc"),
        F.expr("cast(timestamp_millis(start_local_ms) as timestamp_ntz)").alias("hour_local"),
        "utc_offset_min",
        required(F.pmod(hour, F.lit(24)), 0).alias("hour_of_day"),
        *BUCKET_COUNTS,
        "visitors",
        start_utc.alias("_start_utc"),
    )
    return time_order(rows, F.col("_start_utc")).drop("_start_utc")


def traffic_by_day_table(r: "Rollup", t: StateTable) -> DataFrame:
    """The hours' counts added up per day of the log's clock, and the day's visitors (distinct
    per day, from its own sketches)."""
    key = ["_day", "utc_offset_min"]
    hours = (
        r.merged("traffic_by_hour")
        .withColumn("_day", index("start_local_ms", DAY_MS))
        .groupBy(*key)
        .agg(*[F.sum(c).alias(c) for c in BUCKET_COUNTS])
    )
    visitors = r.merged(t.name).select(
        index("start_local_ms", DAY_MS).alias("_day"), "utc_offset_min", "visitors"
    )
    days = hours.join(visitors, key, "full").select(
        required(F.col("_day"), 0).alias("_day"),
        required(F.col("utc_offset_min"), 0).alias("utc_offset_min"),
        *[required(F.col(c), 0).alias(c) for c in (*BUCKET_COUNTS, "visitors")],
    )
    start_utc = F.col("_day") * DAY_MS - F.col("utc_offset_min") * 60_000
    rows = days.select(
        F.date_from_unix_date(F.col("_day").cast("int")).alias("date"),
        F.timestamp_millis(start_utc).alias("day_start_utc"),
        "utc_offset_min",
        required(F.pmod(F.col("_day") + 3, F.lit(7)) + 1, 0).alias("weekday"),
        *BUCKET_COUNTS,
        "visitors",
        start_utc.alias("_start_utc"),
    )
    return time_order(rows, F.col("_start_utc")).drop("_start_utc")


def summary_table(r: "Rollup", t: StateTable) -> DataFrame:
    """The one row of the period's `summary` (built in the driver: see `Rollup.summary_row`)."""
    return r.summary_row()


# The counts of the user-agent tables: session metrics and the human hits of the row's agents.
AGENT_COUNTS = SESSION_COUNTS + (("hits", "sum"),)

# The counts of `totals`: session metrics and the sessions with an internal search.
TOTAL_COUNTS = SESSION_COUNTS + (("search_sessions", "sum"),)

# The counts of `summary`: what the runs read (on each run's first date) and their hits.
SUMMARY_COUNTS = tuple(
    (c, "sum")
    for c in (
        "lines",
        "blank_lines",
        "malformed",
        "inputs",
        "input_bytes",
        "hits",
        "bytes",
        "human_hits",
        "bot_hits",
        "bot_bytes",
        "beacon_hits",
        "beacon_invalid",
        "internal_searches",
    )
) + (("first_ms", "min"), ("last_ms", "max"))

TIME_KEYS = (("start_local_ms", INT), ("utc_offset_min", INT))


def sums(*names: str) -> tuple:
    return tuple((c, "sum") for c in names)


# The state layout, one entry per file of a partition (src/state/mod.rs `Report`), in its
# order: a report added to the state is one entry here, with the tables written from it.
STATE_TABLES = (
    StateTable("channels", (("channel", TEXT),), writes=(("channels", metrics_table),)),
    StateTable(
        "sources", (("source", TEXT), ("medium", TEXT)), writes=(("sources", metrics_table),)
    ),
    StateTable(
        "campaigns",
        (
            ("source", TEXT),
            ("medium", TEXT),
            ("campaign", TEXT),
            ("term", OPT_TEXT),
            ("content", OPT_TEXT),
            ("channel", TEXT),
        ),
        writes=(("campaigns", metrics_table),),
    ),
    StateTable("search_engines", (("engine", TEXT),), writes=(("search_engines", metrics_table),)),
    StateTable(
        "search_keywords",
        (("engine", TEXT), ("keyword", TEXT)),
        writes=(("search_keywords", metrics_table),),
    ),
    StateTable(
        "landing_pages_by_channel",
        (("path", TEXT), ("channel", TEXT)),
        writes=(("landing_pages_by_channel", metrics_table),),
    ),
    StateTable("entry_pages", (("path", TEXT),), writes=(("entry_pages", entry_pages_table),)),
    StateTable(
        "referrers",
        (("referrer", TEXT), ("host", OPT_TEXT), ("channel", TEXT)),
        writes=(("referrers", metrics_table),),
    ),
    StateTable(
        "referring_sites",
        (("host", TEXT), ("channel", TEXT)),
        writes=(("referring_sites", referring_sites_table),),
    ),
    StateTable(
        "resolutions",
        (("resolution", OPT_TEXT), ("device", TEXT)),
        writes=(("resolutions", audience_table),),
    ),
    StateTable(
        "color_depths",
        (("color_depth", OPT_INT), ("device", TEXT)),
        writes=(("color_depths", audience_table),),
    ),
    StateTable("goals", (("goal", TEXT), ("pattern", TEXT)), writes=(("goals", goals_table),)),
    StateTable(
        "browsers",
        (("browser", TEXT), ("version", TEXT)),
        AGENT_COUNTS,
        writes=(("browsers", audience_table),),
    ),
    StateTable(
        "operating_systems",
        (("os", TEXT), ("version", TEXT)),
        AGENT_COUNTS,
        writes=(("operating_systems", audience_table),),
    ),
    StateTable("devices", (("device", TEXT),), AGENT_COUNTS, writes=(("devices", audience_table),)),
    # Every session under one key: the denominators of shares, the visitors and the median
    # session duration of the whole period.
    StateTable("totals", (), TOTAL_COUNTS, binary=("duration_ms_hist",)),
    # Counted from hits (on each hit's date) from here on.
    StateTable(
        "summary", (), SUMMARY_COUNTS, sketch=False, writes=(("summary", summary_table),)
    ),
    StateTable(
        "pages",
        (("path", TEXT),),
        sums(
            "hits",
            "page_views",
            "entries",
            "exits",
            "bounces",
            "timed_views",
            "time_on_page_ms",
            "response_hits",
            "response_us",
        )
        + (("max_response_us", "max"),),
        writes=(("pages", pages_table), ("exit_pages", exit_pages_table)),
    ),
    StateTable(
        "errors",
        (("path", TEXT), ("status", INT)),
        sums("hits", "referred_hits"),
        open=False,
        writes=(("errors", errors_table),),
    ),
    StateTable(
        "error_referrers",
        (("path", TEXT), ("status", INT), ("referrer", TEXT), ("internal", BOOL)),
        sums("hits"),
        sketch=False,
        open=False,
    ),
    StateTable(
        "error_channels",
        (("path", TEXT), ("status", INT), ("channel", TEXT)),
        sums("hits"),
        sketch=False,
        open=False,
    ),
    StateTable(
        "status_codes",
        (("status", INT),),
        sums("hits", "bytes", "human_hits", "bot_hits"),
        open=False,
        writes=(("status_codes", status_codes_table),),
    ),
    StateTable(
        "robots",
        (("bot", TEXT), ("kind", TEXT)),
        sums("hits", "bytes") + (("first_ms", "min"), ("last_ms", "max")),
        open=False,
        writes=(("robots", robots_table),),
    ),
    StateTable(
        "traffic_by_hour",
        TIME_KEYS,
        sums(*BUCKET_COUNTS),
        writes=(("traffic_by_hour", traffic_by_hour_table),),
    ),
    StateTable("traffic_by_day", TIME_KEYS, (), writes=(("traffic_by_day", traffic_by_day_table),)),
    StateTable(
        "internal_search",
        (("term", TEXT),),
        sums("searches", "sessions", "exits", "no_result_views", "refinements", "conversions"),
        writes=(("internal_search", internal_search_table),),
    ),
)

TABLES = {t.name: t for t in STATE_TABLES}

# Every table `merge` writes (24), in accesslens's order (src/output/parquet.rs
# `merged_tables`).
MERGED_TABLES = (
    "summary",
    "pages",
    "entry_pages",
    "exit_pages",
    "referrers",
    "referring_sites",
    "errors",
    "status_codes",
    "robots",
    "channels",
    "sources",
    "campaigns",
    "search_engines",
    "search_keywords",
    "landing_pages_by_channel",
    "goals",
    "internal_search",
    "browsers",
    "operating_systems",
    "devices",
    "resolutions",
    "color_depths",
    "traffic_by_hour",
    "traffic_by_day",
)


@dataclass
class Partition:
    """A date partition found on disk, with its manifest."""

    dir: str  # as the user named it (the state directory joined with date=…/run=…)
    qualified: str  # the file system's full name, for reading and for spotting duplicates
    date: str
    layout: int
    run: str
    written_at_ms: int
    inputs: list  # [(file, fingerprint)]
    definitions: dict
    goals: list
    tables: list
    version: str
    # This partition's `open/` ({"sessions", "hits"}), when it has one.
    open: Optional[dict] = None
    # The digest of all its run's open hits, when the run left open sessions.
    open_digest: Optional[str] = None
    # The runs whose open sessions its run continued: [(run, [(file, fingerprint)], digest)].
    continues: list = field(default_factory=list)
    # Whether its `open/` counts (set by `open_parts`).
    open_counted: bool = False

class Store:
    """The Hadoop file system of Spark's configuration: local paths, HDFS, S3 alike."""

    def __init__(self, spark: SparkSession):
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def path(self, text: str):
        return self.jvm.org.apache.hadoop.fs.Path(text)

    def fs(self, path):
        return path.getFileSystem(self.conf)

    def qualified(self, text: str) -> str:
        p = self.path(text)
        return self.fs(p).makeQualified(p).toString()

    def exists(self, text: str) -> bool:
        p = self.path(text)
        return self.fs(p).exists(p)

    def glob(self, pattern: str) -> list:
        """The Hadoop paths matching `pattern`."""
        p = self.path(pattern)
        found = self.fs(p).globStatus(p) or []
        return [s.getPath() for s in found]

    def read_text(self, text: str) -> str:
        p = self.path(text)
        stream = self.fs(p).open(p)
        try:
            return bytes(stream.readAllBytes()).decode("utf-8")
        finally:
            stream.close()

    def write_text(self, text: str, contents: str) -> None:
        p = self.path(text)
        stream = self.fs(p).create(p, True)
        try:
            stream.write(bytearray(contents.encode("utf-8")))
        finally:
            stream.close()


def join(parent: str, name: str) -> str:
    return parent.rstrip("/") + "/" + name if parent.rstrip("/") else "/" + name


def partitions_under(store: Store, root: str) -> list:
    """The partition directories at or under `root` (src/state/mod.rs `partitions_under`):
    `root` itself when it holds a manifest, else its subdirectories that do, else theirs;
    names starting with `.` (staging) are skipped."""
    if not store.exists(root):
        raise JobError(f"{root}: no such directory")
    if store.exists(join(root, MANIFEST)):
        return [root]
    children = {
        p.getParent().getName()
        for p in store.glob(join(root, f"*/{MANIFEST}"))
        if not p.getParent().getName().startswith(".")
    }
    found = [join(root, c) for c in children]
    for p in store.glob(join(root, f"*/*/{MANIFEST}")):
        run, date = p.getParent(), p.getParent().getParent()
        if date.getName() in children or date.getName().startswith("."):
            continue
        if not run.getName().startswith("."):
            found.append(join(join(root, date.getName()), run.getName()))
    return sorted(found)


def parse_date(text: str) -> Optional[str]:
    """`YYYY-MM-DD` when `text` is a date that exists, else None."""
    try:
        ok = len(text) == 10 and datetime.date.fromisoformat(text).isoformat() == text
    except ValueError:
        ok = False
    return text if ok else None


def read_partition(store: Store, directory: str) -> Partition:
    path = join(directory, MANIFEST)
    try:
        m = json.loads(store.read_text(path))
        layout = m["accesslens_state"]
        if layout not in LAYOUTS:
            raise JobError(
                f"{path}: not a usable state: state layout {layout} (this job reads "
                f"{LAYOUTS[0]} to {LAYOUTS[-1]})"
            )
        date = parse_date(m["date"])
        if date is None:
            raise JobError(f"{path}: not a usable state: bad date {m['date']!r}")
        inputs = lambda records: [(i["file"], i["fingerprint"]) for i in records]  # noqa: E731
        return Partition(
            dir=directory,
            qualified=store.qualified(directory),
            date=date,
            layout=layout,
            run=m["run"],
            written_at_ms=int(m["written_at_ms"]),
            inputs=inputs(m["inputs"]),
            definitions=m["definitions"],
            goals=m["goals"],
            tables=m["tables"],
            version=m["version"],
            open=m.get("open"),
            open_digest=m.get("open_digest"),
            continues=[
                (c["run"], inputs(c["inputs"]), c["open_digest"]) for c in m.get("continues", [])
            ],
        )
    except (ValueError, KeyError, TypeError) as e:
        raise JobError(f"{path}: not a usable state: {e!r}") from None

def discover(store: Store, states: list) -> list:
    """Every partition at or under the given paths, each once however often it is named."""
    found = {}
    for state in states:
        dirs = partitions_under(store, state)
        if not dirs:
            raise JobError(
                f"{state}: not a usable state: no partitions (date=YYYY-MM-DD/run=…/ with a "
                "manifest); is it a directory written by analyze --state?"
            )
        for d in dirs:
            p = read_partition(store, d)
            found.setdefault(p.qualified, p)
    return list(found.values())


def choose(found: list) -> tuple:
    """The partitions that count, in date order, and those skipped (src/state/merge.rs
    `choose`): date by date, identical input sets count once (the newest by `written_at_ms`),
    disjoint ones add up, and partitions sharing some inputs but not all are refused."""
    found = sorted(found, key=lambda p: (p.date, -p.written_at_ms, p.dir.split("/")))
    kept, skipped = [], []
    for p in found:
        inputs = {fingerprint for _, fingerprint in p.inputs}
        duplicate = False
        for k, k_inputs in kept:
            if k.date != p.date:
                continue
            if k_inputs == inputs:
                duplicate = True
                break
            shared = next((f for f, fingerprint in p.inputs if fingerprint in k_inputs), None)
            if shared is not None:
                raise JobError(
                    f"{k.dir} and {p.dir} both hold {p.date} and share the input {shared}, but "
                    f"not all their inputs: merging both would count {shared} twice; merge one "
                    "of them, or run analyze --state again over all of that day's logs"
                )
        if duplicate:
            skipped.append(p)
        else:
            kept.append((p, inputs))
    return [p for p, _ in kept], skipped


def same_json(a, b) -> bool:
    """JSON values equal as serde_json compares them (1 and 1.0 and true differ)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_definitions(partitions: list) -> None:
    """Partitions must agree on the definitions that change what a row counts."""
    missing = object()

    def setting(p: Partition, key: str):
        return p.definitions.get(key, missing) if isinstance(p.definitions, dict) else missing

    first = partitions[0]
    for p in partitions[1:]:
        what = next((k for k in COMPARED if not same_json(setting(p, k), setting(first, k))), None)
        if what is None and not same_json(p.goals, first.goals):
            what = "goals"
        if what is not None:
            # Both values, as accesslens's merge names them (src/state/merge.rs
            # `shown_definition`), but not the goals' lists.
            values = ""
            if what != "goals":
                shown = [shown_definition(q, what) for q in (first, p)]
                values = f" ({shown[0]} and {shown[1]})"
            raise JobError(
                f"{first.dir} and {p.dir} were written with different {what}{values}; merge "
                "states written with the same settings"
            )


def shown_definition(p: "Partition", key: str) -> str:
    """A definition's value as accesslens's messages show it: compact JSON (strings
    quoted), `none` when absent or null."""
    value = p.definitions.get(key) if isinstance(p.definitions, dict) else None
    if value is None:
        return "none"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def files(inputs: list) -> str:
    """A partition's input files, as accesslens names them in its messages."""
    return ", ".join(f for f, _ in inputs)


def check_layouts(partitions: list) -> None:
    """Refuses a partition of a layout older than MERGE_MIN_LAYOUT: it lacks tables `merge`
    writes, which only a new run over its logs can give (src/state/merge.rs
    `check_layouts`)."""
    old = next((p for p in partitions if p.layout < MERGE_MIN_LAYOUT), None)
    if old is not None:
        raise JobError(
            f"{old.dir}: not a usable state: state layout {old.layout} lacks the tables counted "
            "from hits (summary, pages, errors, status_codes, robots, traffic_by_hour, ...) "
            f"that merge needs since layout {MERGE_MIN_LAYOUT}: run `accesslens analyze "
            f"--state` again over its inputs ({files(old.inputs)})"
        )


def open_parts(partitions: list) -> None:
    """Decides, for each counted partition, whether its `open/` (the sessions open at the end
    of its run) counts: it does unless a counted partition of the same date, of another run,
    continued its run (`continues`), which then counts those sessions whole. Refuses two runs
    that continued the same run, and a run that continued open sessions that are no longer
    those counted: another digest, or the state of those logs replaced by a run over other
    inputs (src/state/merge.rs `open_parts`)."""

    def stale(continuer: Partition, continued: Partition) -> JobError:
        return JobError(
            f"{files(continuer.inputs)} continued the open sessions of "
            f"{files(continued.inputs)}, but {continued.dir} holds them as counted by another "
            "analysis of those logs (analyzed again since): analyze the logs of "
            f"{files(continuer.inputs)} again with --continue-from, then merge"
        )

    by_date = {}
    for p in partitions:
        by_date.setdefault(p.date, []).append(p)
    counted = []
    for p in partitions:
        same_day = by_date[p.date]
        # A continued run's logs analyzed again over other inputs.
        for run, inputs, _ in p.continues:
            fingerprints = {f for _, f in inputs}
            other = next(
                (
                    q
                    for q in same_day
                    if q.run not in (run, p.run) and any(f in fingerprints for _, f in q.inputs)
                ),
                None,
            )
            if other is not None:
                raise stale(p, other)
        if p.open is None:
            counted.append(False)
            continue
        continuers = []
        for q in same_day:
            c = next((c for c in q.continues if c[0] == p.run), None)
            if q.run != p.run and c is not None:
                continuers.append((q, c))
        if not continuers:
            counted.append(True)
        elif len(continuers) == 1:
            q, (_, _, digest) = continuers[0]
            if digest != p.open_digest:
                raise stale(q, p)
            counted.append(False)
        else:
            (a, _), (b, _) = continuers[:2]
            raise JobError(
                f"{a.dir} and {b.dir} both continued the open sessions of {files(p.inputs)} "
                f"(run {p.run}): counting both would count those sessions twice; merge one of "
                "them, or analyze the later logs again with --continue-from given only the "
                "state of the logs before them"
            )
    for p, c in zip(partitions, counted):
        p.open_counted = c


def median_ms(histograms: list) -> Optional[int]:
    """The median of merged duration histograms, as accesslens takes it (hdrhistogram's
    `value_at_quantile(0.5)`). Each histogram is (file, bytes): for each bucket with a count,
    its highest value and its count, both little-endian u64 (src/state/mod.rs
    `encode_histogram`). Histograms merge by adding bucket counts; the median is the value of
    the first bucket, in value order, where the running count reaches ceil(total / 2).

    There is one histogram per partition, each of at most a few thousand buckets: they are
    merged here, in the driver."""
    counts = {}
    for path, blob in histograms:
        if len(blob) % 16:
            raise JobError(f"{path}: not a usable state: duration_ms_hist: not value/count pairs")
        for value, count in struct.iter_unpack("<QQ", blob):
            counts[value] = counts.get(value, 0) + count
    total = sum(counts.values())
    if total == 0:
        return None
    target = max(1, math.ceil(0.5 * total))
    running = 0
    for value in sorted(counts):
        running += counts[value]
        if running >= target:
            return value
    return None


def composite_estimate(sketch: "F.Column") -> "F.Column":
    """The estimate accesslens gives of a union: DataSketches' composite estimate, a function
    of the union's registers (or coupons) alone. `hll_sketch_estimate` of a union built by
    `hll_union_agg` may carry on one input's HIP estimator, which depends on the order Spark
    unioned the sketches in; unioned with itself, a sketch in HLL mode is marked out of order
    and estimated from its registers (in coupon mode, the coupons are the same either way)."""
    return F.hll_sketch_estimate(F.hll_union(sketch, sketch))


def union_columns() -> tuple:
    """Every key, count and binary column of the state tables, each with one type (and one
    fold), so that all the files of a partition are read in one scan."""
    keys, counts, binary = {}, {}, {}
    for t in STATE_TABLES:
        for k, kind in t.keys:
            if keys.setdefault(k, kind.type) != kind.type:
                raise AssertionError(f"key column {k} has two types in STATE_TABLES")
        for c, fold in t.counts:
            if counts.setdefault(c, fold) != fold:
                raise AssertionError(f"count column {c} has two folds in STATE_TABLES")
        binary.update((c, None) for c in t.binary)
    return tuple(keys.items()), tuple(counts.items()), tuple(binary)


UNION_KEYS, UNION_COUNTS, UNION_BINARY = union_columns()


class Rollup:
    """The chosen partitions, and every state table merged over them: all their files are
    read in one scan and added up in one aggregation, whose (small) result is cached."""

    def __init__(self, spark: SparkSession, store: Store, partitions: list):
        self.spark, self.store, self.partitions = spark, store, partitions
        for t in STATE_TABLES:
            for p in partitions:
                if t.name not in p.tables:
                    raise JobError(
                        f"{p.dir}: not a usable state: no {t.name} table (written by "
                        f"accesslens {p.version})"
                    )
        self.all = self.merge_all().cache()
        # The visitor history, when the job computes it (set by `merge_states`).
        self.history: Optional[History] = None
        totals = (
            self.all.where(F.col("_table") == "totals")
            .select(*self.merged_columns(TABLES["totals"]), "duration_ms_hist")
            .first()
        )
        self.totals = totals.asDict() if totals else {}
        self.sessions = self.totals.get("sessions", 0)
        self.visitors = self.totals.get("visitors", 0)
        median = median_ms(totals["duration_ms_hist"]) if totals else None
        self.median_session_s = (
            median / 1000.0 if self.sessions > 0 and median is not None else None
        )
        read = (
            self.all.where(F.col("_table") == "summary")
            .select(*[c for c, _ in TABLES["summary"].counts])
            .first()
        )
        self.read_totals = read.asDict() if read else {}

    def scan(self, schema: str, tables: list, open_tables: list) -> DataFrame:
        """The rows of `tables` in every chosen partition, and of `open_tables` in the `open/`
        of those whose open sessions count (one scan), with `_table`, the table of the row's
        file, and `_path`, the file."""

        def scan(paths: list, tables: list) -> DataFrame:
            # Every file of those tables under the paths (`open/` included: a partition's
            # own files are told apart below); no Hive partition columns.
            return (
                self.spark.read.schema(schema)
                .option("recursiveFileLookup", "true")
                .option("pathGlobFilter", "{" + ",".join(tables) + "}.parquet")
                .parquet(*paths)
                .withColumn("_path", F.col("_metadata.file_path"))
                .withColumn(
                    "_table", F.regexp_extract("_metadata.file_name", r"^(.*)\.parquet$", 1)
                )
            )

        in_open = F.col("_path").rlike(f"/{OPEN_DIR}/[^/]*$")
        rows = scan([p.qualified for p in self.partitions], tables).where(~in_open)
        counted = [join(p.qualified, OPEN_DIR) for p in self.partitions if p.open_counted]
        if counted and open_tables:
            rows = rows.unionByName(scan(counted, open_tables))
        return rows

    def read(self) -> DataFrame:
        """The rows of every state table (see `scan`)."""
        schema = ", ".join(
            [f"`{k}` {type}" for k, type in UNION_KEYS]
            + [f"`{c}` bigint" for c, _ in UNION_COUNTS]
            + ["visitors_hll binary"]
            + [f"`{c}` binary" for c in UNION_BINARY]
        )
        return self.scan(schema, list(TABLES), [t.name for t in STATE_TABLES if t.open])

    def merge_all(self) -> DataFrame:
        """One row per table and key: the counts added up, the estimate of the sketches'
        union (only the estimate is kept: the cached rows stay small), the binary columns
        (histograms) gathered with their files' names."""
        keys = [k for k, _ in UNION_KEYS]
        folds = [FOLDS[fold](c).alias(c) for c, fold in UNION_COUNTS]
        union = composite_estimate(F.hll_union_agg("visitors_hll")).alias("visitors")
        gathered = [
            F.collect_list(F.when(F.col(c).isNotNull(), F.struct("_path", c))).alias(c)
            for c in UNION_BINARY
        ]
        return self.read().groupBy("_table", *keys).agg(*folds, union, *gathered)

    @staticmethod
    def merged_columns(t: StateTable) -> list:
        columns = [F.col(k) for k in t.key_names]
        columns += [F.coalesce(c, F.lit(0)).alias(c) for c, _ in t.counts]
        if t.sketch:
            columns.append(F.coalesce("visitors", F.lit(0)).alias("visitors"))
        return columns

    def merged(self, name: str) -> DataFrame:
        """The rows of one state table: its keys, its counts added up and `visitors`, the
        estimate of its sketches' union."""
        t = TABLES[name]
        return self.all.where(F.col("_table") == name).select(*self.merged_columns(t))

    def share(self, column: str) -> "F.Column":
        """`column` over all sessions, null when there are none."""
        return ratio(column, F.lit(self.sessions))

    def time_range(self) -> tuple:
        """The first and last hit (UTC ms) of the partitions, None when they have none."""
        first, last = self.read_totals.get("first_ms"), self.read_totals.get("last_ms")
        return (
            first if first is not None and first != LONG_MAX else None,
            last if last is not None and last != LONG_MIN else None,
        )

    def summary_row(self) -> DataFrame:
        """The merged `summary`: what the runs read and their hits from the state's `summary`,
        the sessions from `totals`, computed as `analyze` computes them (src/state/merge.rs
        `summary`); with the history, its visitors and returning visitors counted from it,
        else the visitors estimated and `returning_visitors` null (see RETURNING_NOTE)."""
        read = lambda c: self.read_totals.get(c) or 0  # noqa: E731
        total = lambda c: self.totals.get(c) or 0  # noqa: E731
        h = self.history
        sessions = total("sessions")

        def rate(num: int) -> Optional[float]:
            return num / sessions if sessions > 0 else None

        def time(ms: Optional[int]):
            epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            return None if ms is None else epoch + datetime.timedelta(milliseconds=ms)

        avg = rate(total("duration_ms"))
        first, last = self.time_range()
        row = {
            "lines": read("lines"),
            "blank_lines": read("blank_lines"),
            "malformed": read("malformed"),
            "out_of_range": 0,
            "hits": read("hits"),
            "bytes": read("bytes"),
            "human_hits": read("human_hits"),
            "bot_hits": read("bot_hits"),
            "bot_bytes": read("bot_bytes"),
            "page_views": total("page_views"),
            "visitors": total("visitors") if h is None else h.visitor_count,
            "returning_visitors": None if h is None else h.returning,
            "sessions": sessions,
            "bounces": total("bounces"),
            "bounce_rate": rate(total("bounces")),
            "engaged_sessions": total("engaged_sessions"),
            "engagement_rate": rate(total("engaged_sessions")),
            "avg_session_s": None if avg is None else avg / 1000.0,
            "median_session_s": self.median_session_s,
            "pages_per_session": rate(total("page_views")),
            "conversions": total("conversions"),
            "conversion_rate": rate(total("conversions")),
            "value": total("value_micro") / 1e6,
            "internal_searches": read("internal_searches"),
            "search_sessions": total("search_sessions"),
            "beacon_hits": read("beacon_hits"),
            "beacon_invalid": read("beacon_invalid"),
            "first_ts": time(first),
            "last_ts": time(last),
            "inputs": read("inputs"),
            "input_bytes": read("input_bytes"),
        }
        types = {"l": T.LongType(), "d": T.DoubleType(), "t": T.TimestampType()}
        schema = T.StructType(
            [
                T.StructField(name, types[kind[0]], kind.endswith("?"))
                for name, kind in SUMMARY_COLUMNS
            ]
        )
        return self.spark.createDataFrame([tuple(row[c] for c, _ in SUMMARY_COLUMNS)], schema)

    def write(self, out: str) -> None:
        """Writes every table `merge` writes: OUT/<table>/, one file each, rows in
        accesslens's order (`in_order`). Each is a small job over the cached sums; built and
        written side by side, they keep the executors busy."""

        def write(job: tuple) -> None:
            name, build, t = job
            build(self, t).write.mode("overwrite").parquet(join(out, name))

        jobs = [(name, build, t) for t in STATE_TABLES for name, build in t.writes]
        if sorted(name for name, _, _ in jobs) != sorted(MERGED_TABLES):
            raise AssertionError("STATE_TABLES does not write every merged table once")
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write, jobs))

    def summary(
        self, skipped: list, since: Optional[str], until: Optional[str], no_history: bool
    ) -> dict:
        """What accesslens writes as `accesslens.merged` metadata, its other metadata
        (`inputs`, `time_range`, `definitions`, `estimates`), and the skipped partitions."""
        inputs = sorted({i for p in self.partitions for i in p.inputs})
        formats = sorted(
            {
                f
                for p in self.partitions
                if isinstance(p.definitions, dict) and isinstance(p.definitions.get("format"), str)
                for f in p.definitions["format"].split(",")
            }
        )
        definitions = self.partitions[0].definitions
        if isinstance(definitions, dict):
            definitions = {
                **definitions,
                "format": ",".join(formats),
                "since": since,
                "until": until,
            }
        first, last = self.time_range()
        rfc3339 = lambda ms: (  # noqa: E731
            None
            if ms is None
            else (
                datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
            ).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{ms % 1000:03}Z"
        )
        return {
            "first_date": self.partitions[0].date,
            "last_date": self.partitions[-1].date,
            "sessions": self.sessions,
            "visitors_estimate": self.visitors,
            "median_session_s": self.median_session_s,
            "partitions": [
                {
                    "date": p.date,
                    "dir": p.dir,
                    "inputs": [f for _, f in p.inputs],
                    "open": None
                    if p.open is None
                    else ("counted" if p.open_counted else "continued"),
                }
                for p in self.partitions
            ],
            "skipped": [p.dir for p in skipped],
            "inputs": [f for f, _ in inputs],
            "time_range": {"first": rfc3339(first), "last": rfc3339(last)},
            "definitions": definitions,
            "estimates": {
                "visitors": ESTIMATE_NOTE,
                **(
                    {"exact": HISTORY_NOTE}
                    if self.history is not None
                    else {"returning_visitors": NO_HISTORY_NOTE if no_history else RETURNING_NOTE}
                ),
            },
        }


def lookback_ms(partitions: list) -> int:
    """The attribution lookback the partitions were analyzed with: all must agree
    (src/state/merge.rs `attribution_rules`)."""
    key = "attribution_lookback_ms"

    def lookback(p: Partition):
        return p.definitions.get(key) if isinstance(p.definitions, dict) else None

    first = partitions[0]
    other = next((p for p in partitions[1:] if lookback(p) != lookback(first)), None)
    if other is not None:
        raise JobError(
            f"{first.dir} and {other.dir} were written with different {key}; merge states "
            "written with the same settings"
        )
    value = lookback(first)
    return value if isinstance(value, int) else DEFAULT_LOOKBACK_MS


def journey_rules(partitions: list, args) -> tuple:
    """The journeys' depth and pages named: those asked for, else those the partitions agree
    on (src/state/merge.rs `journey_rules`)."""

    def agreed(key: str, flag: str, asked: Optional[int], default: int) -> int:
        if asked is not None:
            return asked

        def value(p: Partition):
            v = p.definitions.get(key) if isinstance(p.definitions, dict) else None
            return v if isinstance(v, int) and v >= 0 else None

        first = partitions[0]
        other = next((p for p in partitions[1:] if value(p) != value(first)), None)
        if other is not None:
            raise JobError(
                f"{first.dir} and {other.dir} were analyzed with different {key}: give merge "
                f"--{flag} N to choose the merged paths' and transitions'"
            )
        return default if value(first) is None else value(first)

    return (
        agreed("path_depth", "path-depth", args.path_depth, DEFAULT_PATH_DEPTH),
        agreed("path_pages", "path-pages", args.path_pages, DEFAULT_PATH_PAGES),
    )


def unsigned_hex(column: str) -> "F.Column":
    """A 64-bit hash as accesslens writes it: 16 lowercase hex digits of its unsigned value
    (whose order is the unsigned order)."""
    return F.lpad(F.lower(F.hex(column)), 16, "0")


class History:
    """The tables of a visitor's whole history, computed from every session of the period
    (`visits`) and every visitor's hits (`visitor_hits`) as src/state/history.rs `merge`
    computes them: each visitor's sessions numbered in time order, who a visitor is from its
    earliest hit, ties by user agent and address. Nothing is estimated."""

    def __init__(self, r: Rollup, journeys: Optional[tuple]):
        """`journeys`: the paths' depth and pages named, or None for no `paths` and
        `transitions`."""
        self.rollup, self.journey_rules = r, journeys
        self.lookback_ms = lookback_ms(r.partitions)
        visits = r.scan(VISITS_SCHEMA, ["visits"], ["visits"])
        hits = r.scan(VISITOR_HITS_SCHEMA, ["visitor_hits"], [])
        # A visitor's hits summed over dates and runs.
        seen = hits.groupBy("visitor").agg(
            F.sum("hits").alias("hits"),
            F.sum("bytes").alias("bytes"),
            F.min("first_ms").alias("first_ms"),
            F.max("last_ms").alias("last_ms"),
            F.min(
                F.struct(
                    "first_ms",
                    "user_agent",
                    "ip",
                    "browser",
                    "browser_version",
                    "os",
                    "os_version",
                    "device",
                )
            ).alias("who"),
        )
        by_start = Window.partitionBy("visitor").orderBy("start_ms", "same_start")
        previous_end = F.lag("end_ms").over(by_start)
        numbered = (
            visits.drop("_path", "_table")
            .withColumn("session_number", F.row_number().over(by_start).cast("long"))
            .withColumn(
                "days_since_last_visit",
                F.when(
                    previous_end.isNotNull(),
                    F.floor(F.greatest(F.col("start_ms") - previous_end, F.lit(0)) / DAY_MS),
                ).cast("long"),
            )
        )
        # Read by `sessions` and the loyalty tables.
        numbered = numbered.cache()
        self.numbered = numbered
        self.sessions = numbered.join(seen, "visitor", "left")
        per_visitor = numbered.groupBy("visitor").agg(
            F.count(F.lit(1)).alias("sessions"),
            F.sum("page_views").alias("page_views"),
            F.min("start_ms").alias("first_start_ms"),
            # The visitor's last session: its end, and its days since the one before.
            F.max(F.struct("start_ms", "same_start", "end_ms", "days_since_last_visit")).alias(
                "last"
            ),
            # Local days with a session start.
            F.countDistinct(index("(start_ms + utc_offset_min * 60000)", DAY_MS)).alias(
                "active_days"
            ),
        )
        self.visitors = per_visitor.join(seen, "visitor", "left").cache()
        counts = self.visitors.agg(
            F.count(F.lit(1)).alias("visitors"),
            F.sum(F.when(F.col("sessions") > 1, 1).otherwise(0)).alias("returning"),
            F.sum("sessions").alias("sessions"),
        ).first()
        self.visitor_count = counts["visitors"]
        self.returning = counts["returning"] or 0
        self.session_count = counts["sessions"] or 0

    def agent_hits(self, table: str) -> DataFrame:
        """The hits of the visitors with a session per key of `table` (browsers, operating
        systems, devices): each visitor's hits of every date, those of runs where it had no
        page view too, under what its user agent classifies as (empty for a visitor without
        hits in `visitor_hits`)."""
        keys = AGENT_KEYS[table]
        return self.visitors.groupBy(
            *[required(F.col(f"who.{c}"), "").alias(name) for c, name in keys]
        ).agg(required(F.sum("hits"), 0).alias("_agent_hits"))

    def who(self, name: str) -> "F.Column":
        """What is known of the visitor (its address, user agent and what they classify as),
        empty for a visitor without hits in `visitor_hits`."""
        return required(F.col(f"who.{name}"), "").alias(name)

    def sessions_table(self) -> DataFrame:
        """`sessions`: one row per session, in time order (start, visitor hash, same-start
        number)."""
        s = self.sessions
        same_start = F.when(F.col("same_start") > 0, F.concat(F.lit("-"), F.col("same_start")))
        duration_ms = F.col("end_ms") - F.col("start_ms")
        return s.orderBy("start_ms", unsigned_hex("visitor"), "same_start").select(
            required(
                F.concat(
                    unsigned_hex("visitor"),
                    F.lit("-"),
                    F.col("start_ms").cast("string"),
                    F.coalesce(same_start, F.lit("")),
                ),
                "",
            ).alias("session_id"),
            required(F.col("visitor"), 0).alias("visitor"),
            self.who("ip"),
            F.timestamp_millis(required(F.col("start_ms"), 0)).alias("start"),
            F.timestamp_millis(required(F.col("end_ms"), 0)).alias("end"),
            required(duration_ms / 1000.0, 0.0).alias("duration_s"),
            required(F.col("page_views"), 0).alias("page_views"),
            required(F.col("page_views") == 1, False).alias("bounce"),
            required(
                (duration_ms > 10_000) | (F.col("page_views") >= 2) | F.col("goal").isNotNull(),
                False,
            ).alias("engaged"),
            required(F.col("entry_page"), "").alias("entry_page"),
            required(F.col("exit_page"), "").alias("exit_page"),
            "referrer",
            "referrer_host",
            "referrer_internal",
            *[required(F.col(c), "").alias(c) for c in ("channel", "source", "medium")],
            "campaign",
            "term",
            "content",
            "search_engine",
            "keyword",
            required(F.col("goal").isNotNull(), False).alias("converted"),
            "goal",
            money("value_micro").alias("value"),
            self.who("browser"),
            self.who("os"),
            self.who("device"),
            "resolution",
            "color_depth",
            required(F.col("session_number"), 0).alias("session_number"),
            required(F.col("session_number") > 1, False).alias("returning"),
            "days_since_last_visit",
        )

    def visitors_table(self) -> DataFrame:
        """`visitors`: one row per visitor with a session, most page views first (then
        sessions, hits, address, user agent, hash)."""
        v = self.visitors
        return v.orderBy(
            F.col("page_views").desc(),
            F.col("sessions").desc(),
            F.coalesce("hits", F.lit(0)).desc(),
            F.coalesce("who.ip", F.lit("")),
            F.coalesce("who.user_agent", F.lit("")),
            "visitor",
        ).select(
            required(F.col("visitor"), 0).alias("visitor"),
            *[self.who(c) for c in ("ip", "user_agent", "browser", "os", "device")],
            required(F.col("sessions"), 0).alias("sessions"),
            required(F.col("page_views"), 0).alias("page_views"),
            required(F.col("hits"), 0).alias("hits"),
            required(F.col("bytes"), 0).alias("bytes"),
            F.timestamp_millis(F.coalesce("first_ms", "first_start_ms", F.lit(0))).alias(
                "first_seen"
            ),
            F.timestamp_millis(F.coalesce("last_ms", "last.end_ms", F.lit(0))).alias("last_seen"),
            required(F.col("sessions") > 1, False).alias("returning"),
            required(F.col("active_days"), 0).alias("active_days"),
            F.col("last.days_since_last_visit").alias("days_since_previous_visit"),
        )

    @staticmethod
    def sums() -> list:
        """A group of sessions' metrics, as `metric_columns` reads them; each visitor
        counted once per group (accesslens's `Keyed`)."""
        duration_ms = F.col("end_ms") - F.col("start_ms")
        engaged = (duration_ms > 10_000) | (F.col("page_views") >= 2) | F.col("goal").isNotNull()
        count = lambda c: F.sum(c.cast("long"))  # noqa: E731
        return [
            F.count(F.lit(1)).alias("sessions"),
            F.countDistinct("visitor").alias("visitors"),
            F.sum("page_views").alias("page_views"),
            count(F.col("page_views") == 1).alias("bounces"),
            count(engaged).alias("engaged_sessions"),
            F.sum(F.greatest(duration_ms, F.lit(0))).alias("duration_ms"),
            count(F.col("goal").isNotNull()).alias("conversions"),
            F.sum("value_micro").alias("value_micro"),
        ]

    # The columns of `sums`: a state table's session counts and the visitors.
    SUMS = ("visitors", *[c for c, _ in SESSION_COUNTS])

    def keyed(self, rows: DataFrame, keys: list, key: str, order: str) -> DataFrame:
        """The sums of `rows` grouped by `key`, one row per key of `keys` (tuples of the
        key's columns, with `order` last), zeros where no session has it."""
        spark = rows.sparkSession
        names = [key, *[f"_k{i}" for i in range(len(keys[0]) - 2)], order]
        wanted = spark.createDataFrame(keys, names)
        sums = rows.groupBy(key).agg(*self.sums())
        joined = wanted.join(sums, key, "left")
        return joined.select(
            *[c for c in names], *[required(F.col(c), 0).alias(c) for c in self.SUMS]
        )

    def visitor_types_table(self) -> DataFrame:
        """`visitor_types`: `new` (a visitor's first session) and `returning` (a later one),
        both rows whenever there is a session."""
        rows = self.numbered.withColumn("_returning", F.col("session_number") > 1)
        t = self.keyed(rows, [(False, "new", 0), (True, "returning", 1)], "_returning", "_order")
        return self.loyalty(
            t.withColumnRenamed("_k0", "visitor_type"),
            [required(F.col("visitor_type"), "").alias("visitor_type")],
            ratio("sessions", F.lit(self.session_count)),
        )

    def visit_frequency_table(self) -> DataFrame:
        """`visit_frequency`: each visitor's sessions under the bucket of its session count,
        all five buckets whenever there is a session."""
        bucket = F.lit(0)
        for i, (_, least) in enumerate(FREQUENCY_BUCKETS[1:], start=1):
            bucket = F.when(F.col("_count") >= least, i).otherwise(bucket)
        counts = self.visitors.select("visitor", F.col("sessions").alias("_count"))
        rows = self.numbered.join(counts, "visitor").withColumn("_bucket", bucket)
        keys = [(i, label, least, i) for i, (label, least) in enumerate(FREQUENCY_BUCKETS)]
        t = self.keyed(rows, keys, "_bucket", "_order")
        return self.loyalty(
            t.withColumnRenamed("_k0", "sessions_per_visitor").withColumnRenamed(
                "_k1", "min_sessions"
            ),
            [
                required(F.col("sessions_per_visitor"), "").alias("sessions_per_visitor"),
                required(F.col("min_sessions").cast("long"), 0).alias("min_sessions"),
            ],
            ratio("visitors", F.lit(self.visitor_count)),
        )

    def visit_recency_table(self) -> DataFrame:
        """`visit_recency`: returning sessions by whole days since the visitor's previous
        session ended, fewest days first."""
        returning = self.numbered.where(F.col("days_since_last_visit").isNotNull())
        t = returning.groupBy("days_since_last_visit").agg(*self.sums())
        returning_sessions = self.session_count - self.visitor_count
        return (
            t.coalesce(1)
            .sortWithinPartitions("days_since_last_visit")
            .select(
                required(F.col("days_since_last_visit"), 0).alias("days_since_last_visit"),
                ratio("sessions", F.lit(returning_sessions)).alias("share"),
                *[required(F.col(c), 0).alias(c) for c in self.SUMS],
            )
            .select("days_since_last_visit", "share", *metric_columns())
        )

    def loyalty(self, t: DataFrame, keys: list, share: "F.Column") -> DataFrame:
        """A loyalty table's rows in their order, its keys, share and session metrics; none
        when the period has no session."""
        rows = t.where(F.lit(self.session_count > 0)).coalesce(1).sortWithinPartitions("_order")
        names = [k for k in t.columns if not k.startswith("_") and k not in self.SUMS]
        return rows.select(*keys, share.alias("share"), *self.SUMS).select(
            *names, "share", *metric_columns()
        )

    def retention_table(self) -> DataFrame:
        """`retention`: per cohort (the local day of a visitor's first session) and day after
        it, up to the period's last day with a session start, the cohort's visitors with a
        session starting that day."""
        day = index("(start_ms + utc_offset_min * 60000)", DAY_MS)
        days = self.numbered.select("visitor", "start_ms", "same_start", day.alias("_day"))
        first = days.groupBy("visitor").agg(
            F.min(F.struct("start_ms", "same_start", "_day"))["_day"].alias("cohort")
        )
        active = (
            days.join(first, "visitor")
            .select("visitor", "cohort", F.greatest(F.col("_day") - F.col("cohort"), F.lit(0)))
            .toDF("visitor", "cohort", "day")
            .distinct()
            .groupBy("cohort", "day")
            .agg(F.count(F.lit(1)).alias("visitors"))
        )
        last = days.agg(F.max("_day")).first()[0]
        cohorts = active.where(F.col("day") == 0).select(
            "cohort", F.col("visitors").alias("cohort_visitors")
        )
        span = F.greatest(F.lit(last) - F.col("cohort"), F.lit(0))
        grid = cohorts.select(
            "cohort",
            "cohort_visitors",
            F.explode(F.sequence(F.lit(0).cast("long"), span)).alias("day"),
        )
        return (
            grid.join(active, ["cohort", "day"], "left")
            .coalesce(1)
            .sortWithinPartitions("cohort", "day")
            .select(
                F.date_from_unix_date(required(F.col("cohort"), 0).cast("int")).alias("cohort"),
                required(F.col("day"), 0).alias("day"),
                required(F.col("cohort_visitors"), 0).alias("cohort_visitors"),
                # A day none of the cohort came back on: 0 visitors, a rate of 0.
                required(F.col("visitors"), 0).alias("visitors"),
            )
            .withColumn("return_rate", ratio("visitors", "cohort_visitors"))
        )

    def attribution_table(self) -> DataFrame:
        """`attribution`: each conversion's credit split over its touchpoints (the visitor's
        sessions up to it that started within the lookback before it, in time order) by
        each model, in whole billionths with the rounding remainder on the last touchpoint
        with credit, summed per model and channel (src/aggregate/attribution.rs)."""
        sessions = self.numbered.select(
            "visitor", "session_number", "start_ms", "channel", "goal", "value_micro"
        )
        conversions = sessions.where(F.col("goal").isNotNull()).select(
            "visitor",
            F.col("session_number").alias("_number"),
            F.col("start_ms").alias("_start"),
            F.col("value_micro").alias("_value"),
        )
        touches = (
            conversions.join(sessions.drop("goal", "value_micro"), "visitor")
            .where(
                (F.col("session_number") <= F.col("_number"))
                & (F.col("start_ms") >= F.col("_start") - F.lit(self.lookback_ms))
            )
            .groupBy("visitor", "_number", "_start", "_value")
            .agg(
                F.array_sort(F.collect_list(F.struct("session_number", "start_ms", "channel")))
                .alias("t")
            )
        )
        # Each model's weights, then its shares in billionths (src/aggregate/attribution.rs
        # `Model::shares`), as SQL over the touchpoints `t` (n of them, the last converting).
        n = "size(t)"
        each = f"sequence(0, {n} - 1)"
        last_not_direct = (
            f"coalesce(array_max(filter({each}, i -> t[i].channel != 'Direct')), {n} - 1)"
        )
        weights = {
            "last_non_direct_click": f"transform({each}, i -> if(i = {last_not_direct}, 1D, 0D))",
            "first_click": f"transform({each}, i -> if(i = 0, 1D, 0D))",
            "last_click": f"transform({each}, i -> if(i = {n} - 1, 1D, 0D))",
            "linear": f"transform({each}, i -> 1D)",
            "position_based": (
                f"transform({each}, i -> case when {n} = 1 then 1D when {n} = 2 then 0.5D "
                f"when i = 0 or i = {n} - 1 then 0.4D else 0.2D / ({n} - 2) end)"
            ),
            "time_decay": (
                f"transform({each}, i -> pow(0.5D, cast(_start - t[i].start_ms as double) / "
                f"{7 * DAY_MS}D))"
            ),
        }
        credited = []
        for order, model in enumerate(MODELS):
            w = weights[model]
            floors = (
                f"transform({w}, x -> cast(floor(x / aggregate({w}, 0D, (a, y) -> a + y) * "
                f"{WHOLE}D) as bigint))"
            )
            given = "aggregate(_floors, 0L, (a, y) -> a + y)"
            last = f"coalesce(array_max(filter({each}, i -> _floors[i] > 0)), {n} - 1)"
            # Each touchpoint's channel and share, the remainder on the last one with credit.
            credit = (
                f"transform({each}, i -> named_struct('channel', t[i].channel, 'share', "
                f"_floors[i] + if(i = {last}, {WHOLE}L - {given}, 0L)))"
            )
            credited.append(
                touches.withColumn("_floors", F.expr(floors))
                .select(
                    F.lit(order).alias("_model"), "_value", F.explode(F.expr(credit)).alias("_c")
                )
                .select(
                    "_model",
                    F.col("_c.channel").alias("channel"),
                    F.col("_c.share").alias("_share"),
                    "_value",
                )
            )
        rows = credited[0]
        for more in credited[1:]:
            rows = rows.unionByName(more)
        credit = (
            rows.where(F.col("_share") > 0)
            .groupBy("_model", "channel")
            .agg(
                F.sum("_share").alias("_conversions"),
                F.sum(F.col("_value").cast("decimal(38,0)") * F.col("_share")).alias("_value"),
            )
        )
        channels = F.array(*[F.lit(c) for c in CHANNEL_ORDER])
        channel_order = F.array_position(channels, F.col("channel"))
        model_names = F.array(*[F.lit(m) for m in MODELS])
        return (
            credit.coalesce(1)
            .sortWithinPartitions("_model", F.col("_conversions").desc(), channel_order)
            .select(
                required(F.element_at(model_names, F.col("_model") + 1), "").alias("model"),
                required(F.col("channel"), "").alias("channel"),
                required(F.col("_conversions") / float(WHOLE), 0.0).alias("conversions"),
                required(F.col("_value").cast("double") / (float(WHOLE) * 1e6), 0.0).alias(
                    "value"
                ),
            )
        )

    def journeys(self, r: Rollup, depth: int, max_pages: int) -> tuple:
        """`paths` and `transitions` (src/aggregate/journeys.rs): the pages named are the
        period's `max_pages` most viewed (ties by path), every other one `(other)`; a
        session's path is its first `depth` pages, and its steps go from the entrance
        through its pages to the exit."""
        visits = r.scan(JOURNEY_SCHEMA, ["visits"], ["visits"]).drop("_path", "_table")
        session = ["visitor", "start_ms", "same_start"]
        views = visits.select(*session, F.posexplode("pages").alias("pos", "path"))
        by_views = Window.orderBy(F.col("views").desc(), F.col("path"))
        named = (
            views.groupBy("path")
            .agg(F.count(F.lit(1)).alias("views"))
            .withColumn("_rank", F.row_number().over(by_views))
            .where(F.col("_rank") <= max_pages)
            .select("path", F.lit(True).alias("_named"))
        )
        steps = views.join(named, "path", "left").select(
            *session,
            "pos",
            F.when(F.col("_named"), F.col("path")).otherwise(F.lit(OTHER_PAGE)).alias("page"),
        )

        # Transitions: each page view from the one before it (null: the entrance), and the
        # last one to the exit (null).
        by_pos = Window.partitionBy(*session).orderBy("pos")
        moves = steps.select(
            F.lag("page").over(by_pos).alias("from_page"),
            F.col("page").alias("to_page"),
            F.lead("page").over(by_pos).isNull().alias("_last"),
        ).cache()
        exits = moves.where("_last").select(
            F.col("to_page").alias("from_page"), F.lit(None).cast("string").alias("to_page")
        )
        pairs = (
            moves.select("from_page", "to_page")
            .unionByName(exits)
            .groupBy("from_page", "to_page")
            .agg(F.count(F.lit(1)).alias("transitions"))
        )
        outgoing = F.sum("transitions").over(Window.partitionBy("from_page"))
        transitions = (
            pairs.withColumn("_out", outgoing)
            .coalesce(1)
            .sortWithinPartitions(
                F.col("transitions").desc(),
                F.col("from_page").asc_nulls_first(),
                F.col("to_page").asc_nulls_first(),
            )
            .select(
                "from_page",
                "to_page",
                required(F.col("transitions"), 0).alias("transitions"),
                ratio("transitions", "_out").alias("share"),
            )
        )

        # Paths: a session's first pages, with its metrics.
        first = (
            steps.where(F.col("pos") < depth)
            .groupBy(*session)
            .agg(F.array_sort(F.collect_list(F.struct("pos", "page"))).alias("_first"))
            .select(*session, F.col("_first.page").alias("_key"))
        )
        keyed = visits.join(first, session).groupBy("_key")
        paths = (
            keyed.agg(
                *self.sums(), F.sum((F.col("page_views") <= depth).cast("long")).alias("exits")
            )
            .coalesce(1)
            .sortWithinPartitions(F.col("sessions").desc(), F.col("_key"))
            .select(
                required(F.array_join("_key", STEP_SEPARATOR), "").alias("path"),
                required(F.size("_key").cast("long"), 0).alias("steps"),
                required(F.col("_key")[0], "").alias("entry_page"),
                required(F.col("exits"), 0).alias("exits"),
                ratio("sessions", F.lit(self.session_count)).alias("share"),
                *[required(F.col(c), 0).alias(c) for c in self.SUMS],
            )
            .select("path", "steps", "entry_page", "exits", "share", *metric_columns())
        )
        return paths, transitions, moves

    def write(self, out: str) -> None:
        tables = {
            "visitors": self.visitors_table,
            "sessions": self.sessions_table,
            "attribution": self.attribution_table,
            "visitor_types": self.visitor_types_table,
            "visit_frequency": self.visit_frequency_table,
            "visit_recency": self.visit_recency_table,
            "retention": self.retention_table,
        }
        for name in HISTORY_TABLES:
            tables[name]().write.mode("overwrite").parquet(join(out, name))
        if self.journey_rules is not None:
            paths, transitions, moves = self.journeys(self.rollup, *self.journey_rules)
            for name, table in zip(JOURNEY_TABLES, (paths, transitions)):
                table.write.mode("overwrite").parquet(join(out, name))
            moves.unpersist()


def merge_states(spark: SparkSession, args) -> None:
    """`merge STATE_DIR… --out OUT_DIR`: the merged tables in OUT_DIR/<table>/ and the
    period's totals in OUT_DIR/_merged.json. Nothing is written when the partitions cannot be
    merged."""
    store = Store(spark)
    found = [
        p
        for p in discover(store, args.states)
        if (args.since is None or p.date >= args.since)
        and (args.until is None or p.date <= args.until)
    ]
    partitions, skipped = choose(found)
    if not partitions:
        raise JobError(
            f"no state partitions to merge in {', '.join(args.states)} (within --since/--until)"
        )
    check_layouts(partitions)
    check_definitions(partitions)
    open_parts(partitions)
    # The sums are cached, and small: let adaptive execution coalesce their partitions (200
    # by default) as it does for any other shuffle, or every table's job reads them all.
    coalesce_cached = "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning"
    before = spark.conf.get(coalesce_cached, None)
    spark.conf.set(coalesce_cached, "true")
    # The history takes every partition's visits: one without them (an older layout) leaves
    # it out, and is named.
    without_history = next(
        (p for p in partitions if p.layout < HISTORY_MIN_LAYOUT and not args.no_history), None
    )
    history = not args.no_history and without_history is None
    # The journeys take every visit's page views (layout 5).
    without_journeys = next(
        (p for p in partitions if p.layout < JOURNEYS_MIN_LAYOUT and history), None
    )
    journeys = journey_rules(partitions, args) if history and without_journeys is None else None
    rollup = None
    try:
        rollup = Rollup(spark, store, partitions)
        if history:
            rollup.history = History(rollup, journeys)
        rollup.write(args.out)
        if rollup.history is not None:
            rollup.history.write(args.out)
    finally:
        # The next roll-up in the same session reads other partitions, or the same again.
        if rollup is not None:
            rollup.all.unpersist()
            if rollup.history is not None:
                rollup.history.visitors.unpersist()
                rollup.history.numbered.unpersist()
        if before is None:
            spark.conf.unset(coalesce_cached)
        else:
            spark.conf.set(coalesce_cached, before)
    # Last: its presence says every table is in place.
    summary = rollup.summary(skipped, args.since, args.until, args.no_history)
    store.write_text(join(args.out, "_merged.json"), json.dumps(summary, indent=2) + "\n")
    if args.quiet:
        return
    for p in skipped:
        print(
            f"accesslens: {p.dir}: skipped: a newer partition of the same inputs counts",
            file=sys.stderr,
        )
    if without_history is not None:
        print(
            f"accesslens: {without_history.dir}: an older state without visits: visitors, "
            "sessions, visitor_types, visit_frequency, visit_recency, retention and attribution "
            "are not written; run `accesslens analyze --state` again over its inputs to have "
            "them",
            file=sys.stderr,
        )
    if without_journeys is not None:
        print(
            f"accesslens: {without_journeys.dir}: a state whose visits lack their page views: "
            "paths and transitions are not written; run `accesslens analyze --state` again "
            "over its inputs to have them",
            file=sys.stderr,
        )
    n = len(partitions)
    visitors = (
        f"about {rollup.visitors} visitors (estimated)"
        if rollup.history is None
        else f"{rollup.history.visitor_count} visitors"
    )
    print(
        f"merged {n} partition{'' if n == 1 else 's'} ({summary['first_date']} to "
        f"{summary['last_date']}): {rollup.sessions} sessions, {visitors} -> {args.out}"
    )


def date_arg(text: str) -> str:
    date = parse_date(text)
    if date is None:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a date, YYYY-MM-DD: state is kept by whole days"
        )
    return date


def hits_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accesslens_spark.py",
        description=__doc__.split("\n\n")[0],
        epilog="`accesslens_spark.py merge --help`: roll-ups of daily state.",
    )
    parser.add_argument("hits", help="the hits table: OUT/hits of `accesslens --emit hits`")
    parser.add_argument("out", help="directory for the tables (OUT_DIR/<table>/*.parquet)")
    parser.add_argument(
        "--check-buckets",
        type=int,
        metavar="N",
        help="first check the bucket contract for N buckets (accesslens's --hit-buckets): "
        "every visitor_hash is xxhash64(visitor_key), every visitor_bucket that hash "
        "modulo N; a full scan of the hits",
    )
    parser.add_argument(
        "--timeout-ms",
        type=int,
        default=DEFAULT_TIMEOUT_MS,
        help="inactivity that ends a session, in milliseconds (default: 30 min, ga4)",
    )
    return parser


def merge_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accesslens_spark.py merge",
        description="Roll up the daily state of `accesslens analyze --state DIR` into report "
        "tables, as `accesslens merge` does. Exit status: 0 success, 1 a state cannot be read "
        "or merged, 2 invalid command line.",
    )
    parser.add_argument(
        "states",
        nargs="+",
        metavar="STATE_DIR",
        help="state directories (their date=YYYY-MM-DD/run=ID partitions are read), or single "
        "partitions; any Hadoop path (hdfs://, s3a://, a local path)",
    )
    parser.add_argument(
        "-o",
        "--out",
        required=True,
        metavar="DIR",
        help="directory for the tables (DIR/<table>/*.parquet) and DIR/_merged.json",
    )
    parser.add_argument("--since", type=date_arg, metavar="DATE", help="first date, YYYY-MM-DD")
    parser.add_argument(
        "--until", type=date_arg, metavar="DATE", help="last date, YYYY-MM-DD, included"
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="as `accesslens merge --no-history`: leave out the tables of a visitor's whole "
        "history (visitors, sessions, attribution, the loyalty tables, paths, transitions) and "
        "the summary's exact visitors, which read every session of the period",
    )
    parser.add_argument(
        "--path-depth",
        type=path_depth_arg,
        metavar="N",
        help=f"page views per sequence in the merged paths table, 1 to {MAX_PATH_DEPTH} "
        "(default: the partitions' own)",
    )
    parser.add_argument(
        "--path-pages",
        type=path_pages_arg,
        metavar="N",
        help="pages named in the merged paths and transitions: the N most viewed of the period "
        "(default: the partitions' own)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def path_depth_arg(text: str) -> int:
    depth = int(text)
    if not 1 <= depth <= MAX_PATH_DEPTH:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 to {MAX_PATH_DEPTH}")
    return depth


def path_pages_arg(text: str) -> int:
    pages = int(text)
    if pages < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a count of pages, 0 or more")
    return pages


def run(argv: list, spark: Optional[SparkSession] = None) -> None:
    """Runs the job on `argv` (without the program's name) in `spark`, or in a session of its
    own that it stops at the end. Raises JobError when a state cannot be merged."""
    merge = bool(argv) and argv[0] == "merge"
    args = merge_parser().parse_args(argv[1:]) if merge else hits_parser().parse_args(argv)
    own = spark is None
    spark = spark or spark_session()
    try:
        if merge:
            merge_states(spark, args)
            return
        hits = read_hits(spark, args.hits)
        if args.check_buckets:
            check_buckets(hits, args.check_buckets)
        for name, table in reports(hits, args.timeout_ms).items():
            # One file per table: report tables are small, and their row order is the contract.
            table.coalesce(1).write.mode("overwrite").parquet(f"{args.out}/{name}")
    finally:
        if own:
            spark.stop()


def main() -> None:
    try:
        run(sys.argv[1:])
    except JobError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
