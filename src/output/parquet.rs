//! Reports → Parquet files: one file per table, zstd-compressed, with key-value metadata.
//!
//! Every table's schema is spelled out here, column by column, in the order the README
//! documents. All Parquet code lives in this module and `table.rs`.

use std::fs::File;
use std::path::Path;

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::table::Table;
use crate::aggregate::Reports;
use crate::error::{Error, Result};
use crate::ingest::{FileStats, MalformedSample};

/// Builds every table.
pub fn tables(r: &Reports, files: &[FileStats], samples: &[MalformedSample]) -> Vec<Table> {
    let s = &r.summary;
    let summary = Table::new("summary")
        .count("lines", [s.lines].into_iter())
        .count("blank_lines", [s.blank_lines].into_iter())
        .count("malformed", [s.malformed].into_iter())
        .count("hits", [s.hits].into_iter())
        .count("bytes", [s.bytes].into_iter())
        .count("human_hits", [s.human_hits].into_iter())
        .count("bot_hits", [s.bot_hits].into_iter())
        .count("bot_bytes", [s.bot_bytes].into_iter())
        .count("page_views", [s.page_views].into_iter())
        .count("visitors", [s.visitors].into_iter())
        .count("sessions", [s.sessions].into_iter())
        .count("bounces", [s.bounces].into_iter())
        .opt_float("bounce_rate", [s.bounce_rate].into_iter())
        .count("engaged_sessions", [s.engaged_sessions].into_iter())
        .opt_float("engagement_rate", [s.engagement_rate].into_iter())
        .opt_float("avg_session_s", [s.avg_session_s].into_iter())
        .opt_float("median_session_s", [s.median_session_s].into_iter())
        .opt_float("pages_per_session", [s.pages_per_session].into_iter())
        .opt_time("first_ts", [s.first_ms].into_iter())
        .opt_time("last_ts", [s.last_ms].into_iter())
        .count("inputs", [s.inputs].into_iter())
        .count("input_bytes", [s.input_bytes].into_iter());

    let p = &r.pages;
    let pages = Table::new("pages")
        .str("path", p.iter().map(|r| r.path.as_str()))
        .count("hits", p.iter().map(|r| r.hits))
        .count("page_views", p.iter().map(|r| r.page_views))
        .count("visitors", p.iter().map(|r| r.visitors))
        .count("entries", p.iter().map(|r| r.entries))
        .count("exits", p.iter().map(|r| r.exits))
        .opt_float("exit_rate", p.iter().map(|r| r.exit_rate))
        .count("bounces", p.iter().map(|r| r.bounces))
        .opt_float("bounce_rate", p.iter().map(|r| r.bounce_rate));

    let e = &r.entry_pages;
    let entry_pages = Table::new("entry_pages")
        .str("path", e.iter().map(|r| r.path.as_str()))
        .count("sessions", e.iter().map(|r| r.sessions))
        .count("bounces", e.iter().map(|r| r.bounces))
        .opt_float("bounce_rate", e.iter().map(|r| r.bounce_rate))
        .opt_float("share", e.iter().map(|r| r.share))
        .count("page_views", e.iter().map(|r| r.page_views))
        .opt_float("avg_session_s", e.iter().map(|r| r.avg_session_s));

    let x = &r.exit_pages;
    let exit_pages = Table::new("exit_pages")
        .str("path", x.iter().map(|r| r.path.as_str()))
        .count("sessions", x.iter().map(|r| r.sessions))
        .opt_float("share", x.iter().map(|r| r.share))
        .count("page_views", x.iter().map(|r| r.page_views))
        .opt_float("exit_rate", x.iter().map(|r| r.exit_rate));

    let f = &r.referrers;
    let referrers = Table::new("referrers")
        .str("referrer", f.iter().map(|r| r.referrer.as_str()))
        .opt_str("host", f.iter().map(|r| r.host.as_deref()))
        .count("sessions", f.iter().map(|r| r.sessions))
        .count("visitors", f.iter().map(|r| r.visitors))
        .count("page_views", f.iter().map(|r| r.page_views))
        .count("bounces", f.iter().map(|r| r.bounces))
        .opt_float("bounce_rate", f.iter().map(|r| r.bounce_rate));

    let h = &r.referring_sites;
    let referring_sites = Table::new("referring_sites")
        .str("host", h.iter().map(|r| r.host.as_str()))
        .count("sessions", h.iter().map(|r| r.sessions))
        .count("visitors", h.iter().map(|r| r.visitors))
        .count("page_views", h.iter().map(|r| r.page_views))
        .count("bounces", h.iter().map(|r| r.bounces))
        .opt_float("bounce_rate", h.iter().map(|r| r.bounce_rate))
        .count("referrers", h.iter().map(|r| r.referrers));

    let er = &r.errors;
    let errors = Table::new("errors")
        .str("path", er.iter().map(|r| r.path.as_str()))
        .int("status", er.iter().map(|r| i64::from(r.status)))
        .count("hits", er.iter().map(|r| r.hits))
        .count("visitors", er.iter().map(|r| r.visitors))
        .count("referred_hits", er.iter().map(|r| r.referred_hits))
        .opt_str("top_referrer", er.iter().map(|r| r.top_referrer.as_deref()))
        .count("top_referrer_hits", er.iter().map(|r| r.top_referrer_hits))
        .opt_bool(
            "top_referrer_internal",
            er.iter().map(|r| r.top_referrer_internal),
        );

    let st = &r.status_codes;
    let status_codes = Table::new("status_codes")
        .int("status", st.iter().map(|r| i64::from(r.status)))
        .str("class", st.iter().map(|r| r.class))
        .count("hits", st.iter().map(|r| r.hits))
        .count("bytes", st.iter().map(|r| r.bytes))
        .count("human_hits", st.iter().map(|r| r.human_hits))
        .count("bot_hits", st.iter().map(|r| r.bot_hits))
        .count("visitors", st.iter().map(|r| r.visitors));

    let v = &r.visitors;
    let visitors = Table::new("visitors")
        .int("visitor", v.iter().map(|r| r.visitor))
        .str("ip", v.iter().map(|r| r.ip.as_str()))
        .str("user_agent", v.iter().map(|r| r.user_agent.as_str()))
        .str("browser", v.iter().map(|r| r.browser.as_str()))
        .str("os", v.iter().map(|r| r.os.as_str()))
        .str("device", v.iter().map(|r| r.device.as_str()))
        .count("sessions", v.iter().map(|r| r.sessions))
        .count("page_views", v.iter().map(|r| r.page_views))
        .count("hits", v.iter().map(|r| r.hits))
        .count("bytes", v.iter().map(|r| r.bytes))
        .time("first_seen", v.iter().map(|r| r.first_ms))
        .time("last_seen", v.iter().map(|r| r.last_ms));

    let b = &r.robots;
    let robots = Table::new("robots")
        .str("bot", b.iter().map(|r| r.bot.as_str()))
        .str("kind", b.iter().map(|r| r.kind))
        .count("hits", b.iter().map(|r| r.hits))
        .count("bytes", b.iter().map(|r| r.bytes))
        .count("visitors", b.iter().map(|r| r.visitors))
        .time("first_seen", b.iter().map(|r| r.first_ms))
        .time("last_seen", b.iter().map(|r| r.last_ms));

    let ss = &r.sessions;
    let n = ss.len();
    let sessions = Table::new("sessions")
        .str("session_id", ss.iter().map(|r| r.session_id.as_str()))
        .int("visitor", ss.iter().map(|r| r.visitor))
        .str("ip", ss.iter().map(|r| r.ip.as_str()))
        .time("start", ss.iter().map(|r| r.start_ms))
        .time("end", ss.iter().map(|r| r.end_ms))
        .float("duration_s", ss.iter().map(|r| r.duration_s))
        .count("page_views", ss.iter().map(|r| r.page_views))
        .bool("bounce", ss.iter().map(|r| r.bounce))
        .bool("engaged", ss.iter().map(|r| r.engaged))
        .str("entry_page", ss.iter().map(|r| r.entry_page.as_str()))
        .str("exit_page", ss.iter().map(|r| r.exit_page.as_str()))
        .opt_str("referrer", ss.iter().map(|r| r.referrer.as_deref()))
        .opt_str(
            "referrer_host",
            ss.iter().map(|r| r.referrer_host.as_deref()),
        )
        .opt_bool("referrer_internal", ss.iter().map(|r| r.referrer_internal))
        .null_str("channel", n)
        .null_str("source", n)
        .null_str("medium", n)
        .null_str("campaign", n)
        .null_str("keyword", n)
        .null_bool("converted", n)
        .str("browser", ss.iter().map(|r| r.browser.as_str()))
        .str("os", ss.iter().map(|r| r.os.as_str()))
        .str("device", ss.iter().map(|r| r.device.as_str()))
        .null_str("resolution", n);

    let inputs = Table::new("inputs")
        .str("file", files.iter().map(|f| f.file.as_str()))
        .count("bytes", files.iter().map(|f| f.bytes))
        .count("lines", files.iter().map(|f| f.lines))
        .count("blank_lines", files.iter().map(|f| f.blank_lines))
        .count("hits", files.iter().map(|f| f.hits))
        .count("malformed", files.iter().map(|f| f.malformed));

    let malformed_samples = Table::new("malformed_samples")
        .str("file", samples.iter().map(|m| m.file.as_str()))
        .count("line", samples.iter().map(|m| m.line))
        .str("reason", samples.iter().map(|m| m.reason.describe()))
        .str("text", samples.iter().map(|m| m.text.as_str()));

    vec![
        summary,
        pages,
        entry_pages,
        exit_pages,
        referrers,
        referring_sites,
        errors,
        status_codes,
        visitors,
        robots,
        sessions,
        inputs,
        malformed_samples,
    ]
}

/// Writes each table to `dir/<name>.parquet`, in parallel.
pub fn write_tables(dir: &Path, tables: Vec<Table>, metadata: &[(String, String)]) -> Result<()> {
    let kv: Vec<KeyValue> = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("zstd level 3 is valid"),
        ))
        .set_key_value_metadata(Some(kv))
        .build();
    tables.into_par_iter().try_for_each(|table| {
        let name = table.name;
        let path = dir.join(format!("{name}.parquet"));
        let parquet_error = |source| Error::Parquet {
            table: name.to_owned(),
            source,
        };
        let file = File::create(&path).map_err(|source| Error::Output {
            path: path.display().to_string(),
            source,
        })?;
        let batch = table.into_batch();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props.clone()))
            .map_err(parquet_error)?;
        writer.write(&batch).map_err(parquet_error)?;
        let file = writer.into_inner().map_err(parquet_error)?;
        file.sync_all().map_err(|source| Error::Output {
            path: path.display().to_string(),
            source,
        })
    })
}
