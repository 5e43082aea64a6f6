"""Sessions and channel reports from accesslens's hits table, on Spark.

`accesslens analyze LOGS --out OUT --emit hits` writes OUT/hits/date=YYYY-MM-DD/*.parquet,
one row per request. This job rebuilds, from those rows alone, the tables accesslens writes
for the `ga4` session rules: sessions, entry_pages, exit_pages, channels, referring_sites,
search_keywords and errors, with the same definitions, columns and row order, so a fleet's
logs can be reported on a cluster and checked against accesslens on a sample.

The definitions it relies on (see the README's "Definitions"):

* Sessions are cut from page views (the hits table's `page_view`: human GETs of pages
  answered 2xx or 304); a visitor's page views, ordered by (ts, visitor_seq), start a new
  session when the gap to the previous one exceeds the timeout, compared in milliseconds
  (30 min: a gap of exactly 30 min stays in the session).
* A session's entry page, referrer and acquisition (channel, source, medium, campaign, ...)
  are those of its first page view; accesslens classified them per request and referrer and
  wrote them on every hit, so nothing is re-classified here.
* Errors count human hits answered 400 or above, assets included.

Everything is DataFrame expressions (no Python UDF), so the work stays in the JVM.

Usage: spark-submit accesslens_spark.py HITS_DIR OUT_DIR [--timeout-ms MS]
"""

import argparse

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    args = parser.parse_args()
    spark = spark_session()
    hits = read_hits(spark, args.hits)
    if args.check_buckets:
        check_buckets(hits, args.check_buckets)
    for name, table in reports(hits, args.timeout_ms).items():
        # One file per table: report tables are small, and their row order is the contract.
        table.coalesce(1).write.mode("overwrite").parquet(f"{args.out}/{name}")
    spark.stop()


if __name__ == "__main__":
    main()
