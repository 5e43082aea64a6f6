//! Reports → Parquet files: one file per table, zstd-compressed, with key-value metadata.
//!
//! Every table's schema is spelled out here, column by column, in the order the README
//! documents. A table is built and written in batches of rows, so writing a table of
//! millions of sessions holds one batch of Arrow arrays at a time, not the whole table.
//! [`read_table`] reads a written table back (for the HTML report), only the columns and
//! rows asked for. All Parquet code lives in this module and `table.rs`.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use super::table::Table;
use crate::aggregate::Reports;
use crate::aggregate::acquisition::{CampaignKey, GoalRow, MetricsRow, Rates, SessionMetrics};
use crate::aggregate::attribution::AttributionRow;
use crate::aggregate::audience::AudienceRow;
use crate::aggregate::errors::{ErrorRow, StatusRow};
use crate::aggregate::journeys::{PathRow, TransitionRow};
use crate::aggregate::loyalty::{LoyaltyRow, RetentionRow};
use crate::aggregate::pages::{EntryRow, ExitRow, PageRow};
use crate::aggregate::site_search::SearchRow;
use crate::aggregate::sources::{ReferrerRow, SiteRow};
use crate::aggregate::time::TimeRow;
use crate::aggregate::traffic::SummaryRow;
use crate::aggregate::visitors::RobotRow;
use crate::aggregate::visitors::{SessionRow, VisitorRow, session_row};
use crate::enrich::Lookups;
use crate::enrich::Text;
use crate::error::{Error, Result};
use crate::ingest::{FileStats, MalformedSample};
use crate::state::merge::Merged;

/// Rows per batch while writing: small enough that a batch of the widest table (a few MB of
/// Arrow arrays) is reused memory after the first, large enough to encode efficiently.
const BATCH_ROWS: usize = 16 * 1024;

/// Rows per row group (a multiple of [`BATCH_ROWS`]).
const ROW_GROUP_ROWS: usize = 64 * BATCH_ROWS;

/// Columns whose values are (nearly) unique: a dictionary would only cost time. (`path` is
/// unique in the large tables that have it: `pages`, `paths`, `entry_pages`, `exit_pages`.)
const NO_DICTIONARY: [&str; 8] = [
    "session_id",
    "visitor",
    "path",
    "start",
    "end",
    "duration_s",
    "first_seen",
    "last_seen",
];

/// Columns of 64-bit hashes (the visitor key's XXH64): random bits that no compression
/// shrinks, so zstd would spend its time on them for nothing.
const HASHES: [&str; 1] = ["visitor"];

/// How a set of tables is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Reports for people and BI engines: zstd level 1, and min/max statistics where an
    /// engine can prune row groups or pages by them: numbers, times and dates. Text columns
    /// carry none: no table is ordered by a text column, so each row group's minimum and
    /// maximum span nearly every value and would prune nothing, while computing them
    /// compares every value twice.
    Report,
    /// The state's many small files, read back whole by `merge` and nothing else:
    /// uncompressed (reading thousands of them back spends more time setting up zstd than
    /// it saves) and without statistics (nothing prunes by them).
    State,
}

impl Purpose {
    fn properties(self, metadata: &[(String, String)]) -> WriterProperties {
        let kv: Vec<KeyValue> = metadata
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        let builder = WriterProperties::builder().set_key_value_metadata(Some(kv));
        match self {
            Purpose::Report => builder.set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).expect("zstd level 1 is valid"),
            )),
            Purpose::State => builder
                .set_compression(Compression::UNCOMPRESSED)
                .set_statistics_enabled(EnabledStatistics::None),
        }
        .build()
    }
}

/// `props` with each column of `schema` set as its values call for: no dictionary for the
/// columns of `plain` (nearly unique values), no compression for [`HASHES`], no statistics
/// for text.
fn column_properties(
    props: &WriterProperties,
    schema: &Schema,
    plain: &[&str],
) -> WriterProperties {
    let mut builder = props.clone().into_builder();
    for field in schema.fields() {
        let name = field.name().as_str();
        let column = || ColumnPath::from(name);
        if plain.contains(&name) {
            builder = builder.set_column_dictionary_enabled(column(), false);
        }
        if HASHES.contains(&name) {
            builder = builder.set_column_compression(column(), Compression::UNCOMPRESSED);
        }
        let text = match field.data_type() {
            DataType::Utf8 => Some(column()),
            DataType::List(item) if *item.data_type() == DataType::Utf8 => {
                Some(ColumnPath::new(vec![
                    name.to_owned(),
                    "list".to_owned(),
                    item.name().clone(),
                ]))
            }
            _ => None,
        };
        if let Some(text) = text {
            builder = builder.set_column_statistics_enabled(text, EnabledStatistics::None);
        }
    }
    builder.build()
}

/// A table to write: its name, its row count and how to build any range of its rows.
pub struct TableSpec<'a> {
    pub name: &'static str,
    pub rows: usize,
    build: Box<dyn Fn(Range<usize>) -> Table + Send + Sync + 'a>,
}

impl<'a> TableSpec<'a> {
    pub(crate) fn new<T: Sync>(
        name: &'static str,
        rows: &'a [T],
        build: impl Fn(&'a [T]) -> Table + Send + Sync + 'a,
    ) -> Self {
        TableSpec {
            name,
            rows: rows.len(),
            build: Box::new(move |range| build(&rows[range])),
        }
    }

    /// Builds rows `range` of the table (for tests and for the writer).
    pub fn batch(&self, range: Range<usize>) -> arrow_array::RecordBatch {
        (self.build)(range).into_batch()
    }
}

/// Describes every table.
pub fn tables<'a>(
    r: &'a Reports,
    lookups: &'a Lookups,
    files: &'a [FileStats],
    samples: &'a [MalformedSample],
) -> Vec<TableSpec<'a>> {
    vec![
        TableSpec::new("summary", std::slice::from_ref(&r.summary), summary),
        TableSpec::new("pages", &r.pages, pages),
        TableSpec::new("entry_pages", &r.entry_pages, entry_pages),
        TableSpec::new("exit_pages", &r.exit_pages, exit_pages),
        TableSpec::new("referrers", &r.referrers, referrers),
        TableSpec::new("referring_sites", &r.referring_sites, referring_sites),
        TableSpec::new("errors", &r.errors, errors),
        TableSpec::new("status_codes", &r.status_codes, status_codes),
        TableSpec::new("visitors", &r.visitors, visitors),
        TableSpec::new("robots", &r.robots, robots),
        TableSpec::new("sessions", &r.sessions, move |sessions| {
            let ss: Vec<SessionRow<'_>> = sessions
                .par_iter()
                .map(|s| session_row(s, lookups))
                .collect();
            session_table(&ss)
        }),
        TableSpec::new("channels", &r.acquisition.channels, channels),
        TableSpec::new("sources", &r.acquisition.sources, sources),
        TableSpec::new("campaigns", &r.acquisition.campaigns, campaigns),
        TableSpec::new(
            "search_engines",
            &r.acquisition.search_engines,
            search_engines,
        ),
        TableSpec::new(
            "search_keywords",
            &r.acquisition.search_keywords,
            search_keywords,
        ),
        TableSpec::new(
            "landing_pages_by_channel",
            &r.acquisition.landing_pages,
            landing_pages_by_channel,
        ),
        TableSpec::new("goals", &r.acquisition.goals, goals),
        TableSpec::new("attribution", &r.attribution, attribution),
        TableSpec::new("paths", &r.paths, paths),
        TableSpec::new("transitions", &r.transitions, transitions),
        TableSpec::new("internal_search", &r.internal_search, internal_search),
        TableSpec::new("browsers", &r.audience.browsers, browsers),
        TableSpec::new(
            "operating_systems",
            &r.audience.operating_systems,
            operating_systems,
        ),
        TableSpec::new("devices", &r.audience.devices, devices),
        TableSpec::new("resolutions", &r.audience.resolutions, resolutions),
        TableSpec::new("color_depths", &r.audience.color_depths, color_depths),
        TableSpec::new("visitor_types", &r.loyalty.visitor_types, visitor_types),
        TableSpec::new("visit_frequency", &r.loyalty.frequency, visit_frequency),
        TableSpec::new("visit_recency", &r.loyalty.recency, visit_recency),
        TableSpec::new("retention", &r.loyalty.retention, retention),
        TableSpec::new("traffic_by_hour", &r.traffic_by_hour, traffic_by_hour),
        TableSpec::new("traffic_by_day", &r.traffic_by_day, traffic_by_day),
        TableSpec::new("inputs", files, |f| {
            Table::default()
                .str("file", f.iter().map(|f| f.file.as_str()))
                .str("format", f.iter().map(|f| f.format.name()))
                .count("bytes", f.iter().map(|f| f.bytes))
                .count("lines", f.iter().map(|f| f.lines))
                .count("blank_lines", f.iter().map(|f| f.blank_lines))
                .count("hits", f.iter().map(|f| f.hits))
                .count("malformed", f.iter().map(|f| f.malformed))
                .count("out_of_range", f.iter().map(|f| f.out_of_range))
                .opt_str("fingerprint", f.iter().map(|f| f.fingerprint.as_deref()))
        }),
        TableSpec::new("malformed_samples", samples, |m| {
            Table::default()
                .str("file", m.iter().map(|m| m.file.as_str()))
                .count("line", m.iter().map(|m| m.line))
                .str("reason", m.iter().map(|m| m.reason.describe()))
                .str("text", m.iter().map(|m| m.text.as_str()))
        }),
    ]
}

/// The tables `accesslens merge` writes from state: the same builders as [`tables`], so the
/// same columns in the same order.
pub fn merged_tables(m: &Merged) -> Vec<TableSpec<'_>> {
    let a = &m.acquisition;
    let mut tables = vec![
        TableSpec::new("summary", std::slice::from_ref(&m.summary), summary),
        TableSpec::new("pages", &m.pages, pages),
        TableSpec::new("entry_pages", &m.entry_pages, entry_pages),
        TableSpec::new("exit_pages", &m.exit_pages, exit_pages),
        TableSpec::new("referrers", &m.referrers, referrers),
        TableSpec::new("referring_sites", &m.referring_sites, referring_sites),
        TableSpec::new("errors", &m.errors, errors),
        TableSpec::new("status_codes", &m.status_codes, status_codes),
        TableSpec::new("robots", &m.robots, robots),
        TableSpec::new("channels", &a.channels, channels),
        TableSpec::new("sources", &a.sources, sources),
        TableSpec::new("campaigns", &a.campaigns, campaigns),
        TableSpec::new("search_engines", &a.search_engines, search_engines),
        TableSpec::new("search_keywords", &a.search_keywords, search_keywords),
        TableSpec::new(
            "landing_pages_by_channel",
            &a.landing_pages,
            landing_pages_by_channel,
        ),
        TableSpec::new("goals", &a.goals, goals),
        TableSpec::new("internal_search", &m.internal_search, internal_search),
        TableSpec::new("browsers", &m.audience.browsers, browsers),
        TableSpec::new(
            "operating_systems",
            &m.audience.operating_systems,
            operating_systems,
        ),
        TableSpec::new("devices", &m.audience.devices, devices),
        TableSpec::new("resolutions", &m.audience.resolutions, resolutions),
        TableSpec::new("color_depths", &m.audience.color_depths, color_depths),
        TableSpec::new("traffic_by_hour", &m.traffic_by_hour, traffic_by_hour),
        TableSpec::new("traffic_by_day", &m.traffic_by_day, traffic_by_day),
    ];
    if let Some(h) = &m.history {
        tables.extend([
            TableSpec::new("visitors", &h.visitor_rows, visitors),
            TableSpec {
                name: "sessions",
                rows: h.sessions(),
                build: Box::new(|range| session_table(&h.session_rows(range))),
            },
            TableSpec::new("attribution", &h.attribution, attribution),
            TableSpec::new("visitor_types", &h.loyalty.visitor_types, visitor_types),
            TableSpec::new("visit_frequency", &h.loyalty.frequency, visit_frequency),
            TableSpec::new("visit_recency", &h.loyalty.recency, visit_recency),
            TableSpec::new("retention", &h.loyalty.retention, retention),
        ]);
        if let Some((p, t)) = &h.journeys {
            tables.extend([
                TableSpec::new("paths", p, paths),
                TableSpec::new("transitions", t, transitions),
            ]);
        }
    }
    tables
}

fn paths(p: &[PathRow]) -> Table {
    let t = Table::default()
        .str("path", p.iter().map(|r| r.path.as_str()))
        .count("steps", p.iter().map(|r| r.steps))
        .str("entry_page", p.iter().map(|r| &*r.entry_page))
        .count("exits", p.iter().map(|r| r.exits))
        .opt_float("share", p.iter().map(|r| r.share));
    metrics(t, p, |r| (&r.metrics, &r.rates))
}

fn transitions(t: &[TransitionRow]) -> Table {
    Table::default()
        .opt_str("from_page", t.iter().map(|r| r.from_page.as_deref()))
        .opt_str("to_page", t.iter().map(|r| r.to_page.as_deref()))
        .count("transitions", t.iter().map(|r| r.transitions))
        .opt_float("share", t.iter().map(|r| r.share))
}

fn summary(s: &[SummaryRow]) -> Table {
    Table::default()
        .count("lines", s.iter().map(|s| s.lines))
        .count("blank_lines", s.iter().map(|s| s.blank_lines))
        .count("malformed", s.iter().map(|s| s.malformed))
        .count("out_of_range", s.iter().map(|s| s.out_of_range))
        .count("hits", s.iter().map(|s| s.hits))
        .count("bytes", s.iter().map(|s| s.bytes))
        .count("human_hits", s.iter().map(|s| s.human_hits))
        .count("bot_hits", s.iter().map(|s| s.bot_hits))
        .count("bot_bytes", s.iter().map(|s| s.bot_bytes))
        .count("page_views", s.iter().map(|s| s.page_views))
        .count("visitors", s.iter().map(|s| s.visitors))
        .opt_int(
            "returning_visitors",
            s.iter().map(|s| s.returning_visitors.map(|n| n as i64)),
        )
        .count("sessions", s.iter().map(|s| s.sessions))
        .count("bounces", s.iter().map(|s| s.bounces))
        .opt_float("bounce_rate", s.iter().map(|s| s.bounce_rate))
        .count("engaged_sessions", s.iter().map(|s| s.engaged_sessions))
        .opt_float("engagement_rate", s.iter().map(|s| s.engagement_rate))
        .opt_float("avg_session_s", s.iter().map(|s| s.avg_session_s))
        .opt_float("median_session_s", s.iter().map(|s| s.median_session_s))
        .opt_float("pages_per_session", s.iter().map(|s| s.pages_per_session))
        .count("conversions", s.iter().map(|s| s.conversions))
        .opt_float("conversion_rate", s.iter().map(|s| s.conversion_rate))
        .float("value", s.iter().map(|s| s.value))
        .count("internal_searches", s.iter().map(|s| s.internal_searches))
        .count("search_sessions", s.iter().map(|s| s.search_sessions))
        .count("beacon_hits", s.iter().map(|s| s.beacon_hits))
        .count("beacon_invalid", s.iter().map(|s| s.beacon_invalid))
        .opt_time("first_ts", s.iter().map(|s| s.first_ms))
        .opt_time("last_ts", s.iter().map(|s| s.last_ms))
        .count("inputs", s.iter().map(|s| s.inputs))
        .count("input_bytes", s.iter().map(|s| s.input_bytes))
}

fn pages(p: &[PageRow]) -> Table {
    Table::default()
        .str("path", p.iter().map(|r| &*r.path))
        .count("hits", p.iter().map(|r| r.hits))
        .count("page_views", p.iter().map(|r| r.page_views))
        .count("visitors", p.iter().map(|r| r.visitors))
        .count("entries", p.iter().map(|r| r.entries))
        .count("exits", p.iter().map(|r| r.exits))
        .opt_float("exit_rate", p.iter().map(|r| r.exit_rate))
        .count("bounces", p.iter().map(|r| r.bounces))
        .opt_float("bounce_rate", p.iter().map(|r| r.bounce_rate))
        .opt_float("avg_time_on_page_s", p.iter().map(|r| r.avg_time_on_page_s))
        .opt_float("avg_response_ms", p.iter().map(|r| r.avg_response_ms))
        .opt_float("max_response_ms", p.iter().map(|r| r.max_response_ms))
}

fn exit_pages(x: &[ExitRow]) -> Table {
    Table::default()
        .str("path", x.iter().map(|r| &*r.path))
        .count("sessions", x.iter().map(|r| r.sessions))
        .opt_float("share", x.iter().map(|r| r.share))
        .count("page_views", x.iter().map(|r| r.page_views))
        .opt_float("exit_rate", x.iter().map(|r| r.exit_rate))
}

fn errors(e: &[ErrorRow]) -> Table {
    Table::default()
        .str("path", e.iter().map(|r| &*r.path))
        .int("status", e.iter().map(|r| i64::from(r.status)))
        .count("hits", e.iter().map(|r| r.hits))
        .count("visitors", e.iter().map(|r| r.visitors))
        .count("referred_hits", e.iter().map(|r| r.referred_hits))
        .opt_str("top_referrer", e.iter().map(|r| r.top_referrer.as_deref()))
        .count("top_referrer_hits", e.iter().map(|r| r.top_referrer_hits))
        .opt_bool(
            "top_referrer_internal",
            e.iter().map(|r| r.top_referrer_internal),
        )
        .str("top_channel", e.iter().map(|r| r.top_channel))
}

fn status_codes(s: &[StatusRow]) -> Table {
    Table::default()
        .int("status", s.iter().map(|r| i64::from(r.status)))
        .str("class", s.iter().map(|r| r.class))
        .count("hits", s.iter().map(|r| r.hits))
        .count("bytes", s.iter().map(|r| r.bytes))
        .count("human_hits", s.iter().map(|r| r.human_hits))
        .count("bot_hits", s.iter().map(|r| r.bot_hits))
        .count("visitors", s.iter().map(|r| r.visitors))
}

fn robots(b: &[RobotRow]) -> Table {
    Table::default()
        .str("bot", b.iter().map(|r| r.bot.as_str()))
        .str("kind", b.iter().map(|r| r.kind))
        .count("hits", b.iter().map(|r| r.hits))
        .count("bytes", b.iter().map(|r| r.bytes))
        .count("visitors", b.iter().map(|r| r.visitors))
        .time("first_seen", b.iter().map(|r| r.first_ms))
        .time("last_seen", b.iter().map(|r| r.last_ms))
}

fn internal_search(s: &[SearchRow]) -> Table {
    let c = || s.iter().map(|r| &r.counts);
    Table::default()
        .str("term", s.iter().map(|r| &*r.term))
        .count("searches", c().map(|c| c.searches))
        .count("sessions", c().map(|c| c.sessions))
        .count("visitors", c().map(|c| c.visitors))
        .count("exits", c().map(|c| c.exits))
        .opt_float("exit_rate", s.iter().map(|r| r.exit_rate))
        .count("no_result_views", c().map(|c| c.no_result_views))
        .count("refinements", c().map(|c| c.refinements))
        .count("conversions", c().map(|c| c.conversions))
        .opt_float("conversion_rate", s.iter().map(|r| r.conversion_rate))
}

fn browsers(b: &[AudienceRow<(Text, Text)>]) -> Table {
    let t = Table::default()
        .str("browser", b.iter().map(|r| &*r.key.0))
        .str("version", b.iter().map(|r| &*r.key.1));
    audience(t, b)
}

fn operating_systems(o: &[AudienceRow<(Text, Text)>]) -> Table {
    let t = Table::default()
        .str("os", o.iter().map(|r| &*r.key.0))
        .str("version", o.iter().map(|r| &*r.key.1));
    audience(t, o)
}

fn devices(d: &[AudienceRow<Text>]) -> Table {
    audience(Table::default().str("device", d.iter().map(|r| &*r.key)), d)
}

fn traffic_by_hour(h: &[TimeRow]) -> Table {
    let t = Table::default()
        .time("hour_utc", h.iter().map(|r| r.start_utc_ms))
        .local_time("hour_local", h.iter().map(|r| r.start_local_ms))
        .int("utc_offset_min", h.iter().map(|r| i64::from(r.offset_min)))
        .int("hour_of_day", h.iter().map(|r| r.hour_of_day()));
    buckets(t, h)
}

fn traffic_by_day(d: &[TimeRow]) -> Table {
    let t = Table::default()
        .date("date", d.iter().map(|r| r.day()))
        .time("day_start_utc", d.iter().map(|r| r.start_utc_ms))
        .int("utc_offset_min", d.iter().map(|r| i64::from(r.offset_min)))
        .int("weekday", d.iter().map(|r| r.weekday()));
    buckets(t, d)
}

fn entry_pages(e: &[EntryRow]) -> Table {
    Table::default()
        .str("path", e.iter().map(|r| &*r.path))
        .count("sessions", e.iter().map(|r| r.sessions))
        .count("bounces", e.iter().map(|r| r.bounces))
        .opt_float("bounce_rate", e.iter().map(|r| r.bounce_rate))
        .opt_float("share", e.iter().map(|r| r.share))
        .count("page_views", e.iter().map(|r| r.page_views))
        .opt_float("avg_session_s", e.iter().map(|r| r.avg_session_s))
}

fn referrers(f: &[ReferrerRow]) -> Table {
    let t = Table::default()
        .str("referrer", f.iter().map(|r| &*r.referrer))
        .opt_str("host", f.iter().map(|r| r.host.as_deref()))
        .str("channel", f.iter().map(|r| r.channel));
    metrics(t, f, |r| (&r.metrics, &r.rates))
}

fn referring_sites(h: &[SiteRow]) -> Table {
    let t = Table::default()
        .str("host", h.iter().map(|r| &*r.host))
        .str("channel", h.iter().map(|r| r.channel));
    metrics(t, h, |r| (&r.metrics, &r.rates)).count("referrers", h.iter().map(|r| r.referrers))
}

fn channels(c: &[MetricsRow<&'static str>]) -> Table {
    metrics(
        Table::default().str("channel", c.iter().map(|r| r.key)),
        c,
        |r| (&r.metrics, &r.rates),
    )
}

fn sources(c: &[MetricsRow<(Text, Text)>]) -> Table {
    let t = Table::default()
        .str("source", c.iter().map(|r| &*r.key.0))
        .str("medium", c.iter().map(|r| &*r.key.1));
    metrics(t, c, |r| (&r.metrics, &r.rates))
}

fn campaigns(c: &[MetricsRow<CampaignKey>]) -> Table {
    let t = Table::default()
        .str("source", c.iter().map(|r| &*r.key.source))
        .str("medium", c.iter().map(|r| &*r.key.medium))
        .str("campaign", c.iter().map(|r| &*r.key.campaign))
        .opt_str("term", c.iter().map(|r| r.key.term.as_deref()))
        .opt_str("content", c.iter().map(|r| r.key.content.as_deref()))
        .str("channel", c.iter().map(|r| r.key.channel));
    metrics(t, c, |r| (&r.metrics, &r.rates))
}

fn search_engines(c: &[MetricsRow<Text>]) -> Table {
    metrics(
        Table::default().str("engine", c.iter().map(|r| &*r.key)),
        c,
        |r| (&r.metrics, &r.rates),
    )
}

fn search_keywords(c: &[MetricsRow<(Text, Text)>]) -> Table {
    let t = Table::default()
        .str("engine", c.iter().map(|r| &*r.key.0))
        .str("keyword", c.iter().map(|r| &*r.key.1));
    metrics(t, c, |r| (&r.metrics, &r.rates))
}

fn landing_pages_by_channel(c: &[MetricsRow<(Text, &'static str)>]) -> Table {
    let t = Table::default()
        .str("path", c.iter().map(|r| &*r.key.0))
        .str("channel", c.iter().map(|r| r.key.1));
    metrics(t, c, |r| (&r.metrics, &r.rates))
}

fn goals(g: &[GoalRow]) -> Table {
    Table::default()
        .str("goal", g.iter().map(|r| r.goal.as_str()))
        .str("pattern", g.iter().map(|r| r.pattern.as_str()))
        .count("conversions", g.iter().map(|r| r.conversions))
        .count("visitors", g.iter().map(|r| r.visitors))
        .opt_float("conversion_rate", g.iter().map(|r| r.conversion_rate))
        .float("value", g.iter().map(|r| r.value))
}

fn resolutions(x: &[AudienceRow<(Option<Text>, Text)>]) -> Table {
    let t = Table::default()
        .opt_str("resolution", x.iter().map(|r| r.key.0.as_deref()))
        .str("device", x.iter().map(|r| &*r.key.1))
        .opt_float("share", x.iter().map(|r| r.share));
    metrics(t, x, |r| (&r.metrics, &r.rates))
}

fn color_depths(x: &[AudienceRow<(Option<i64>, Text)>]) -> Table {
    let t = Table::default()
        .opt_int("color_depth", x.iter().map(|r| r.key.0))
        .str("device", x.iter().map(|r| &*r.key.1))
        .opt_float("share", x.iter().map(|r| r.share));
    metrics(t, x, |r| (&r.metrics, &r.rates))
}

/// The `sessions` table's columns up to its referrer: who, when, where they entered and left.
fn session_columns(ss: &[SessionRow<'_>]) -> Table {
    Table::default()
        .formatted("session_id", ss.iter(), |r, w| r.write_session_id(w))
        .int("visitor", ss.iter().map(|r| r.visitor_hash as i64))
        .str("ip", ss.iter().map(|r| r.ip))
        .time("start", ss.iter().map(|r| r.start_ms))
        .time("end", ss.iter().map(|r| r.end_ms))
        .float("duration_s", ss.iter().map(|r| r.duration_s))
        .count("page_views", ss.iter().map(|r| r.page_views))
        .bool("bounce", ss.iter().map(|r| r.bounce))
        .bool("engaged", ss.iter().map(|r| r.engaged))
        .str("entry_page", ss.iter().map(|r| r.entry_page))
        .str("exit_page", ss.iter().map(|r| r.exit_page))
        .opt_str("referrer", ss.iter().map(|r| r.referrer))
        .opt_str("referrer_host", ss.iter().map(|r| r.referrer_host))
        .opt_bool("referrer_internal", ss.iter().map(|r| r.referrer_internal))
}

fn visitors(v: &[VisitorRow]) -> Table {
    Table::default()
        .int("visitor", v.iter().map(|r| r.visitor))
        .str("ip", v.iter().map(|r| &*r.ip))
        .str("user_agent", v.iter().map(|r| &*r.user_agent))
        .str("browser", v.iter().map(|r| &*r.browser))
        .str("os", v.iter().map(|r| &*r.os))
        .str("device", v.iter().map(|r| &*r.device))
        .count("sessions", v.iter().map(|r| r.sessions))
        .count("page_views", v.iter().map(|r| r.page_views))
        .count("hits", v.iter().map(|r| r.hits))
        .count("bytes", v.iter().map(|r| r.bytes))
        .time("first_seen", v.iter().map(|r| r.first_ms))
        .time("last_seen", v.iter().map(|r| r.last_ms))
        .bool("returning", v.iter().map(|r| r.returning))
        .count("active_days", v.iter().map(|r| r.active_days))
        .opt_int(
            "days_since_previous_visit",
            v.iter().map(|r| r.days_since_previous_visit.map(i64::from)),
        )
}

fn attribution(a: &[AttributionRow]) -> Table {
    Table::default()
        .str("model", a.iter().map(|r| r.model))
        .str("channel", a.iter().map(|r| r.channel))
        .float("conversions", a.iter().map(|r| r.conversions))
        .float("value", a.iter().map(|r| r.value))
}

fn visitor_types(v: &[LoyaltyRow<&'static str>]) -> Table {
    let t = Table::default()
        .str("visitor_type", v.iter().map(|r| r.key))
        .opt_float("share", v.iter().map(|r| r.share));
    metrics(t, v, |r| (&r.metrics, &r.rates))
}

fn visit_frequency(v: &[LoyaltyRow<(&'static str, u64)>]) -> Table {
    let t = Table::default()
        .str("sessions_per_visitor", v.iter().map(|r| r.key.0))
        .count("min_sessions", v.iter().map(|r| r.key.1))
        .opt_float("share", v.iter().map(|r| r.share));
    metrics(t, v, |r| (&r.metrics, &r.rates))
}

fn visit_recency(v: &[LoyaltyRow<u32>]) -> Table {
    let t = Table::default()
        .count("days_since_last_visit", v.iter().map(|r| u64::from(r.key)))
        .opt_float("share", v.iter().map(|r| r.share));
    metrics(t, v, |r| (&r.metrics, &r.rates))
}

fn retention(v: &[RetentionRow]) -> Table {
    Table::default()
        .date("cohort", v.iter().map(|r| r.cohort))
        .count("day", v.iter().map(|r| u64::from(r.day)))
        .count("cohort_visitors", v.iter().map(|r| r.cohort_visitors))
        .count("visitors", v.iter().map(|r| r.visitors))
        .opt_float("return_rate", v.iter().map(|r| r.return_rate))
}

/// The `sessions` table of rows with their text looked up.
pub(crate) fn session_table(ss: &[SessionRow<'_>]) -> Table {
    // The widest table: its columns are built in two halves side by side.
    let (who, what) = rayon::join(|| session_columns(ss), || session_details(ss));
    who.append(what)
}

/// The `sessions` table's columns from its channel on: acquisition, conversion, audience.
fn session_details(ss: &[SessionRow<'_>]) -> Table {
    session_acquisition(ss)
        .bool("converted", ss.iter().map(|r| r.converted))
        .opt_str("goal", ss.iter().map(|r| r.goal))
        .float("value", ss.iter().map(|r| r.value))
        .str("browser", ss.iter().map(|r| r.browser))
        .str("os", ss.iter().map(|r| r.os))
        .str("device", ss.iter().map(|r| r.device))
        .opt_str("resolution", ss.iter().map(|r| r.resolution))
        .opt_int(
            "color_depth",
            ss.iter().map(|r| r.color_depth.map(i64::from)),
        )
        .count(
            "session_number",
            ss.iter().map(|r| u64::from(r.session_number)),
        )
        .bool("returning", ss.iter().map(|r| r.session_number > 1))
        .opt_int(
            "days_since_last_visit",
            ss.iter().map(|r| r.days_since_last_visit.map(i64::from)),
        )
}

/// The `sessions` columns of where a session came from: channel to keyword.
pub(crate) fn session_acquisition(ss: &[SessionRow<'_>]) -> Table {
    Table::default()
        .str("channel", ss.iter().map(|r| r.channel))
        .str("source", ss.iter().map(|r| r.source))
        .str("medium", ss.iter().map(|r| r.medium))
        .opt_str("campaign", ss.iter().map(|r| r.campaign))
        .opt_str("term", ss.iter().map(|r| r.term))
        .opt_str("content", ss.iter().map(|r| r.content))
        .opt_str("search_engine", ss.iter().map(|r| r.search_engine))
        .opt_str("keyword", ss.iter().map(|r| r.keyword))
}

/// Appends the session metrics every acquisition table shares, in the documented order.
fn metrics<'a, T>(
    table: Table,
    rows: &'a [T],
    get: impl Fn(&'a T) -> (&'a SessionMetrics, &'a Rates),
) -> Table {
    let m = || rows.iter().map(|r| get(r).0);
    let rates = || rows.iter().map(|r| get(r).1);
    table
        .count("sessions", m().map(|m| m.sessions))
        .count("visitors", m().map(|m| m.visitors))
        .count("page_views", m().map(|m| m.page_views))
        .count("bounces", m().map(|m| m.bounces))
        .opt_float("bounce_rate", rates().map(|r| r.bounce_rate))
        .count("engaged_sessions", m().map(|m| m.engaged))
        .opt_float("engagement_rate", rates().map(|r| r.engagement_rate))
        .opt_float("avg_session_s", rates().map(|r| r.avg_session_s))
        .count("conversions", m().map(|m| m.conversions))
        .opt_float("conversion_rate", rates().map(|r| r.conversion_rate))
        .float("value", rates().map(|r| r.value))
}

/// An audience table's share, session metrics and hits.
fn audience<K>(table: Table, rows: &[AudienceRow<K>]) -> Table {
    let t = table.opt_float("share", rows.iter().map(|r| r.share));
    metrics(t, rows, |r| (&r.metrics, &r.rates)).count("hits", rows.iter().map(|r| r.hits))
}

/// The counts of a time bucket.
fn buckets(table: Table, rows: &[TimeRow]) -> Table {
    let c = || rows.iter().map(|r| &r.counts);
    table
        .count("hits", c().map(|c| c.hits))
        .count("bot_hits", c().map(|c| c.bot_hits))
        .count("bytes", c().map(|c| c.bytes))
        .count("page_views", c().map(|c| c.page_views))
        .count("sessions", c().map(|c| c.sessions))
        .count("visitors", c().map(|c| c.visitors))
}

/// Writes each table to `dir/<name>.parquet`, tables in parallel, each in batches.
pub fn write_tables(
    dir: &Path,
    tables: Vec<TableSpec<'_>>,
    metadata: &[(String, String)],
    purpose: Purpose,
) -> Result<()> {
    let props = purpose.properties(metadata);
    // Largest first, one table per task: the big tables start at once and the small ones
    // fill in around them.
    let mut tables = tables;
    tables.sort_by_key(|t| std::cmp::Reverse(t.rows));
    // Each finished file is flushed to disk on a thread of its own: waiting for the disk
    // does not hold up a worker that could be encoding the next table.
    std::thread::scope(|scope| {
        let syncs = std::sync::Mutex::new(Vec::new());
        tables
            .into_par_iter()
            .with_max_len(1)
            .try_for_each(|table| {
                let (path, file) = write_table(dir, &table, &props)?;
                let sync = scope.spawn(move || file.sync_all().map_err(|e| (path, e)));
                syncs.lock().unwrap_or_else(|p| p.into_inner()).push(sync);
                Ok::<(), Error>(())
            })?;
        for sync in syncs.into_inner().unwrap_or_else(|p| p.into_inner()) {
            sync.join()
                .expect("fsync does not panic")
                .map_err(|(path, source)| Error::Output {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        Ok(())
    })
}

/// Writes one table: row groups of up to [`ROW_GROUP_ROWS`] rows, built batch by batch, each
/// batch's columns encoded in parallel (the sessions table has two dozen columns).
/// Returns the file, written but not yet flushed to disk, and its path.
fn write_table(
    dir: &Path,
    table: &TableSpec<'_>,
    props: &WriterProperties,
) -> Result<(std::path::PathBuf, File)> {
    let path = dir.join(format!("{}.parquet", table.name));
    let io_error = |source| Error::Output {
        path: path.display().to_string(),
        source,
    };
    let parquet_error = |source| Error::Parquet {
        table: table.name.to_owned(),
        source,
    };
    let file = File::create(&path).map_err(io_error)?;
    let mut batch = Some(table.batch(0..table.rows.min(BATCH_ROWS)));
    let schema = batch.as_ref().expect("first batch").schema();
    // Dictionaries pay wherever values repeat: strings, and numbers such as page views or
    // session numbers, whose dictionary indices leave zstd almost nothing to do. Columns of
    // (nearly) unique values skip the dictionary.
    let props = column_properties(props, &schema, &NO_DICTIONARY);
    let arrow_writer =
        ArrowWriter::try_new(file, Arc::clone(&schema), Some(props)).map_err(parquet_error)?;
    let (mut writer, columns) = arrow_writer
        .into_serialized_writer()
        .map_err(parquet_error)?;

    let mut start = 0;
    let mut row_group = 0;
    while start < table.rows {
        let group_end = (start + ROW_GROUP_ROWS).min(table.rows);
        let mut encoders = columns
            .create_column_writers(row_group)
            .map_err(parquet_error)?;
        while start < group_end {
            let end = (start + BATCH_ROWS).min(group_end);
            let current = batch.take().unwrap_or_else(|| table.batch(start..end));
            encoders
                .par_iter_mut()
                .zip(schema.fields().par_iter().zip(current.columns().par_iter()))
                .try_for_each(|(encoder, (field, column))| {
                    compute_leaves(field, column)?
                        .iter()
                        .try_for_each(|leaf| encoder.write(leaf))
                })
                .map_err(parquet_error)?;
            start = end;
        }
        let chunks: Vec<_> = encoders
            .into_par_iter()
            .map(|encoder| encoder.close())
            .collect::<std::result::Result<_, _>>()
            .map_err(parquet_error)?;
        let mut group = writer.next_row_group().map_err(parquet_error)?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut group)
                .map_err(parquet_error)?;
        }
        group.close().map_err(parquet_error)?;
        row_group += 1;
    }
    let file = writer.into_inner().map_err(parquet_error)?;
    Ok((path, file))
}

/// A Parquet file written batch by batch, for a table produced as a stream rather than
/// described by a [`TableSpec`]: the hits table, whose rows arrive partition by partition.
/// zstd, dictionaries on every column but `plain` ones, row groups of `row_group_rows`, so
/// the writer holds one row group's encoded pages at most. Each batch's columns are encoded
/// in parallel, as [`write_tables`] does.
pub struct BatchFile {
    path: PathBuf,
    table: String,
    schema: arrow_schema::SchemaRef,
    writer: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    /// The open row group's column encoders and rows.
    encoders: Option<Vec<ArrowColumnWriter>>,
    group_rows: usize,
    row_groups: usize,
    row_group_rows: usize,
}

impl BatchFile {
    pub fn create(
        path: &Path,
        table: &str,
        schema: arrow_schema::SchemaRef,
        metadata: &[(String, String)],
        plain: &[&str],
        row_group_rows: usize,
    ) -> Result<BatchFile> {
        let props = Purpose::Report
            .properties(metadata)
            .into_builder()
            .set_max_row_group_row_count(Some(row_group_rows))
            .build();
        let props = column_properties(&props, &schema, plain);
        let file = File::create(path).map_err(|source| Error::Output {
            path: path.display().to_string(),
            source,
        })?;
        let parquet_error = |source| Error::Parquet {
            table: table.to_owned(),
            source,
        };
        let (writer, factory) = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(parquet_error)?;
        Ok(BatchFile {
            path: path.to_path_buf(),
            table: table.to_owned(),
            schema,
            writer,
            factory,
            encoders: None,
            group_rows: 0,
            row_groups: 0,
            row_group_rows: row_group_rows.max(1),
        })
    }

    fn parquet_error(&self) -> impl FnOnce(parquet::errors::ParquetError) -> Error + '_ {
        |source| Error::Parquet {
            table: self.table.clone(),
            source,
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (batch.num_rows() - offset).min(self.row_group_rows - self.group_rows);
            let part = batch.slice(offset, take);
            if self.encoders.is_none() {
                let encoders = self
                    .factory
                    .create_column_writers(self.row_groups)
                    .map_err(self.parquet_error())?;
                self.encoders = Some(encoders);
            }
            let encoders = self.encoders.as_mut().expect("an open row group");
            encoders
                .par_iter_mut()
                .zip(
                    self.schema
                        .fields()
                        .par_iter()
                        .zip(part.columns().par_iter()),
                )
                .try_for_each(|(encoder, (field, column))| {
                    compute_leaves(field, column)?
                        .iter()
                        .try_for_each(|leaf| encoder.write(leaf))
                })
                .map_err(|source| Error::Parquet {
                    table: self.table.clone(),
                    source,
                })?;
            self.group_rows += take;
            offset += take;
            if self.group_rows == self.row_group_rows {
                self.close_row_group()?;
            }
        }
        Ok(())
    }

    /// Closes the open row group's columns (in parallel) and appends them to the file.
    fn close_row_group(&mut self) -> Result<()> {
        let Some(encoders) = self.encoders.take() else {
            return Ok(());
        };
        let table = self.table.clone();
        let parquet_error = |source| Error::Parquet {
            table: table.clone(),
            source,
        };
        let chunks: Vec<_> = encoders
            .into_par_iter()
            .map(ArrowColumnWriter::close)
            .collect::<std::result::Result<_, _>>()
            .map_err(parquet_error)?;
        let mut group = self.writer.next_row_group().map_err(parquet_error)?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut group)
                .map_err(parquet_error)?;
        }
        group.close().map_err(parquet_error)?;
        self.row_groups += 1;
        self.group_rows = 0;
        Ok(())
    }

    /// Writes the footer and flushes the file to disk; returns its size in bytes.
    pub fn finish(mut self) -> Result<u64> {
        self.close_row_group()?;
        let file = self.writer.into_inner().map_err(|source| Error::Parquet {
            table: self.table.clone(),
            source,
        })?;
        let io_error = |source| Error::Output {
            path: self.path.display().to_string(),
            source,
        };
        file.sync_all().map_err(io_error)?;
        Ok(file.metadata().map_err(io_error)?.len())
    }
}

/// A table read back from an output directory: its rows in batches, with only the columns
/// asked for, as an iterator of batches.
pub struct TableReader {
    /// The file read, for error messages.
    pub path: PathBuf,
    /// Rows in the file (not only those that will be read).
    pub rows: usize,
    /// The file's key-value metadata (`accesslens.version`, `accesslens.definitions` …).
    pub metadata: Vec<(String, String)>,
    batches: ParquetRecordBatchReader,
}

impl Iterator for TableReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.batches.next()?;
        Some(batch.map_err(|e| Error::ReadBack {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }))
    }
}

/// Whether `dir/<name>.parquet` has a column `column` (reads its footer only); false when it
/// cannot be read.
pub fn has_column(dir: &Path, name: &str, column: &str) -> bool {
    File::open(dir.join(format!("{name}.parquet")))
        .ok()
        .and_then(|file| ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).ok())
        .is_some_and(|m| m.schema().field_with_name(column).is_ok())
}

/// Opens `dir/<name>.parquet` to read `columns` (all of them when empty) of its first `limit`
/// rows (all when `None`). Pages that hold no asked-for column and rows past the limit are
/// never decoded, so reading the top rows of a table of millions of sessions stays cheap.
pub fn read_table(
    dir: &Path,
    name: &str,
    columns: &[&str],
    limit: Option<usize>,
) -> Result<TableReader> {
    open_table(dir, name, columns, limit, &[])
}

/// Opens `dir/<name>.parquet` to read all of it, its text columns `dictionaries` (or the
/// items of those that are lists of texts) as dictionary arrays (`Dictionary(Int32, Utf8)`):
/// the file's dictionary pages become the arrays' values and each row a key, where a plain
/// string array would copy every row's text. For tables read whole and kept in memory,
/// whose texts repeat.
pub fn read_table_as_dictionaries(
    dir: &Path,
    name: &str,
    dictionaries: &[&str],
) -> Result<TableReader> {
    open_table(dir, name, &[], None, dictionaries)
}

fn open_table(
    dir: &Path,
    name: &str,
    columns: &[&str],
    limit: Option<usize>,
    dictionaries: &[&str],
) -> Result<TableReader> {
    let path = dir.join(format!("{name}.parquet"));
    let error = |reason: String| Error::ReadBack {
        path: path.display().to_string(),
        reason,
    };
    let file = File::open(&path).map_err(|e| error(e.to_string()))?;
    let mut metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| error(e.to_string()))?;
    if !dictionaries.is_empty() {
        let schema = metadata.schema();
        let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let fields: Vec<Arc<Field>> = schema
            .fields()
            .iter()
            .map(|f| {
                if !dictionaries.contains(&f.name().as_str()) {
                    return Arc::clone(f);
                }
                match f.data_type() {
                    DataType::Utf8 => {
                        Arc::new(f.as_ref().clone().with_data_type(dictionary.clone()))
                    }
                    DataType::List(item) if *item.data_type() == DataType::Utf8 => {
                        let item = item.as_ref().clone().with_data_type(dictionary.clone());
                        Arc::new(
                            f.as_ref()
                                .clone()
                                .with_data_type(DataType::List(Arc::new(item))),
                        )
                    }
                    _ => Arc::clone(f),
                }
            })
            .collect();
        let hint = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        metadata = ArrowReaderMetadata::try_new(
            Arc::clone(metadata.metadata()),
            ArrowReaderOptions::new().with_schema(hint),
        )
        .map_err(|e| error(e.to_string()))?;
    }
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
    if let Some(missing) = columns
        .iter()
        .find(|c| builder.schema().field_with_name(c).is_err())
    {
        return Err(error(format!(
            "it has no column {missing:?}; was it written by another version of accesslens?"
        )));
    }
    let file_metadata = builder.metadata().file_metadata();
    let rows = usize::try_from(file_metadata.num_rows()).unwrap_or(0);
    let metadata = file_metadata
        .key_value_metadata()
        .into_iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect();
    let mut builder = builder.with_batch_size(limit.unwrap_or(BATCH_ROWS).clamp(1, BATCH_ROWS));
    if !columns.is_empty() {
        let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
        builder = builder.with_projection(mask);
    }
    if let Some(limit) = limit {
        builder = builder.with_limit(limit);
    }
    let batches = builder.build().map_err(|e| error(e.to_string()))?;
    Ok(TableReader {
        path,
        rows,
        metadata,
        batches,
    })
}
