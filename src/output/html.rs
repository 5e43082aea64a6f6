//! The HTML report: one self-contained page a person opens to see where visitors come from,
//! what they do and what breaks.
//!
//! It is rendered from an output directory's Parquet files, never from the run's memory:
//! `analyze --html` renders it once the directory is committed, `report` renders it from an
//! existing directory, so its numbers are the Parquet's by construction and both commands
//! write the same bytes. Only the columns shown are read, and of the large tables only the
//! top rows (tables are written largest first).
//!
//! The page loads nothing: CSS and script are inline, charts are inline SVG (`chart.rs`), and
//! a Content-Security-Policy forbids any request. Every text that comes from the logs (paths,
//! referrers, user agents, keywords) is escaped; so is the JSON embedded for scripts.
//! Tables show their top rows only; the note under each says so and names its Parquet file.

mod chart;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;

use arrow_array::RecordBatch;

use super::export::{self, Value, value};
use super::overview::{bytes, duration, millis, money, pct, ratio, thousands};
use super::parquet::{has_column, read_table};
use crate::error::{Error, Result};
use crate::parse::time::format_utc;

/// Rows per table when not told otherwise.
pub const DEFAULT_TOP: usize = 50;

/// The page may load nothing and send nothing: no network, inline style and script only.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
const CSS: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Renders the report of output directory `dir` and writes it to `file` atomically.
pub fn write(dir: &Path, file: &Path, top: usize) -> Result<()> {
    let page = render(dir, top)?;
    export::write_file_atomically(file, &page)
}

/// Fails when `file` cannot be created because its directory does not exist, so that
/// `analyze --html` stops before reading any log rather than after writing the tables.
pub fn check_target(file: &Path) -> Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(Error::OutputFile {
            path: file.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "its directory does not exist",
            ),
        }),
        _ => Ok(()),
    }
}

/// The whole page for output directory `dir`, tables cut to `top` rows.
pub fn render(dir: &Path, top: usize) -> Result<String> {
    let summary = read_table(dir, "summary", &[], Some(1))?;
    let metadata = summary.metadata.clone();
    let path = summary.path.display().to_string();
    let batch = summary
        .last()
        .transpose()?
        .filter(|b| b.num_rows() == 1)
        .ok_or_else(|| Error::ReadBack {
            path: path.clone(),
            reason: "the summary has no row".into(),
        })?;
    if let Some(missing) = KPI_COLUMNS
        .iter()
        .find(|c| batch.column_by_name(c).is_none())
    {
        return Err(Error::ReadBack {
            path,
            reason: format!(
                "it has no column {missing:?}; was it written by another version of accesslens?"
            ),
        });
    }
    let definitions = meta(&metadata, "accesslens.definitions")
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok());
    let site = definitions
        .as_ref()
        .and_then(|d| d["site_domains"].get(0)?.as_str().map(str::to_owned));

    let mut page = String::with_capacity(256 * 1024);
    head(&mut page, site.as_deref());
    header(&mut page, &batch, &metadata, site.as_deref());
    kpis(&mut page, &batch);
    traffic(&mut page, dir)?;

    let mut section = Section::open(
        &mut page,
        "acquisition",
        "Acquisition: where visitors come from",
    );
    channels(section.out, dir)?;
    section.views(dir, ACQUISITION, top)?;
    attribution(section.out, dir)?;
    section.close();
    for (id, title, views) in SECTIONS {
        let mut section = Section::open(&mut page, id, title);
        section.views(dir, views, top)?;
        section.close();
    }
    footer(&mut page, dir, &batch, &metadata, definitions.as_ref(), top)?;
    page.push_str("<script type=\"application/json\" id=\"accesslens-summary\">");
    page.push_str(&script_json(&export::summary_json(&batch, &metadata)));
    page.push_str("</script>\n<script>");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    Ok(page)
}

/// Summary columns the headline numbers need.
const KPI_COLUMNS: [&str; 14] = [
    "lines",
    "malformed",
    "hits",
    "bot_hits",
    "page_views",
    "visitors",
    "returning_visitors",
    "sessions",
    "bounce_rate",
    "engagement_rate",
    "avg_session_s",
    "conversions",
    "conversion_rate",
    "value",
];

fn meta<'a>(metadata: &'a [(String, String)], key: &str) -> Option<&'a str> {
    metadata
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------
// Escaping

/// Appends `text` escaped for HTML text and attribute values. Control characters (which
/// HTML does not allow) become U+FFFD, as in the terminal overview.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// `text` escaped for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// JSON made safe inside `<script>`: `<` only occurs in JSON strings, where `\u003c` means
/// the same, so no `</script>` or `<!--` in the data can end the element.
fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
}

// ---------------------------------------------------------------------------------------
// Reading values

fn cell<'a>(batch: &'a RecordBatch, name: &str, row: usize) -> Value<'a> {
    match batch.column_by_name(name) {
        Some(column) => value(column.as_ref(), row),
        None => Value::Null,
    }
}

fn int(batch: &RecordBatch, name: &str, row: usize) -> i64 {
    match cell(batch, name, row) {
        Value::Int(n) => n,
        _ => 0,
    }
}

fn count(batch: &RecordBatch, name: &str, row: usize) -> u64 {
    u64::try_from(int(batch, name, row)).unwrap_or(0)
}

fn float(batch: &RecordBatch, name: &str, row: usize) -> Option<f64> {
    match cell(batch, name, row) {
        Value::Float(f) if f.is_finite() => Some(f),
        Value::Int(n) => Some(n as f64),
        _ => None,
    }
}

fn text<'a>(batch: &'a RecordBatch, name: &str, row: usize) -> Option<&'a str> {
    match cell(batch, name, row) {
        Value::Text(t) => Some(t),
        _ => None,
    }
}

/// A UTC time (microseconds) as `2026-10-10 13:55:36`.
fn time_text(us: i64) -> String {
    format_utc(us.div_euclid(1000))
}

/// A date as `2026-10-10`, as in CSV and JSON.
fn date_text(days: i32) -> String {
    let mut text = String::new();
    export::write_plain(&mut text, &Value::Date(days));
    text
}

// ---------------------------------------------------------------------------------------
// Page frame

fn head(out: &mut String, site: Option<&str>) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    );
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"generator\" content=\"accesslens\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>",
    );
    if let Some(site) = site {
        push_escaped(out, site);
        out.push_str(" · ");
    }
    out.push_str("accesslens report</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
}

fn header(out: &mut String, s: &RecordBatch, metadata: &[(String, String)], site: Option<&str>) {
    out.push_str("<header class=\"top\"><h1>");
    if let Some(site) = site {
        push_escaped(out, site);
        out.push_str(" · ");
    }
    out.push_str("Web traffic report</h1><p class=\"meta\">");
    if let (Value::Time(first, _), Value::Time(last, _)) =
        (cell(s, "first_ts", 0), cell(s, "last_ts", 0))
    {
        let _ = write!(out, "{} – {} UTC · ", time_text(first), time_text(last));
    }
    let inputs = count(s, "inputs", 0);
    let _ = write!(
        out,
        "{} input{} · {} · {} lines · accesslens {}</p>",
        thousands(inputs),
        if inputs == 1 { "" } else { "s" },
        bytes(count(s, "input_bytes", 0)),
        thousands(count(s, "lines", 0)),
        escape(meta(metadata, "accesslens.version").unwrap_or("?")),
    );
    out.push_str(
        "<nav><a href=\"#overview\">Overview</a><a href=\"#traffic\">Traffic</a>\
         <a href=\"#acquisition\">Acquisition</a><a href=\"#behaviour\">Pages</a>\
         <a href=\"#audience\">Audience</a><a href=\"#problems\">Errors</a>\
         <a href=\"#visitors\">Visitors &amp; robots</a><a href=\"#definitions\">Definitions</a></nav>\
         </header>\n<main>\n",
    );
}

/// The headline numbers. Each carries its raw value in `data-value` for scripts and tests.
fn kpis(out: &mut String, s: &RecordBatch) {
    let n = |name| count(s, name, 0);
    let f = |name| float(s, name, 0);
    out.push_str("<section id=\"overview\"><h2 class=\"sr\">Overview</h2><div class=\"kpis\">");
    let visitors = n("visitors");
    let returning = n("returning_visitors");
    let sessions = n("sessions");
    let page_views = n("page_views");
    let hits = n("hits");
    let bots = n("bot_hits");
    let lines = n("lines");
    let malformed = n("malformed");
    let kpi = |out: &mut String,
               key: &str,
               label: &str,
               shown: String,
               raw: String,
               sub: String| {
        let _ = write!(
            out,
            "<div class=\"kpi\" data-kpi=\"{key}\" data-value=\"{raw}\"><div class=\"v\">{shown}</div>\
             <div class=\"l\">{label}</div><div class=\"s\">{sub}</div></div>"
        );
    };
    let raw_rate = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    kpi(
        out,
        "visitors",
        "visitors",
        thousands(visitors),
        visitors.to_string(),
        match cell(s, "returning_visitors", 0) {
            Value::Null => "returning: not known for a merged period".into(),
            _ => format!(
                "{} returning ({})",
                thousands(returning),
                pct(ratio(returning, visitors))
            ),
        },
    );
    kpi(
        out,
        "sessions",
        "sessions",
        thousands(sessions),
        sessions.to_string(),
        format!(
            "{:.1} pages per session",
            ratio(page_views, sessions).unwrap_or(0.0)
        ),
    );
    kpi(
        out,
        "page_views",
        "page views",
        thousands(page_views),
        page_views.to_string(),
        format!("{} hits in all", thousands(hits)),
    );
    kpi(
        out,
        "bounce_rate",
        "bounce rate",
        pct(f("bounce_rate")),
        raw_rate(f("bounce_rate")),
        "sessions of one page view".into(),
    );
    kpi(
        out,
        "engagement_rate",
        "engagement rate",
        pct(f("engagement_rate")),
        raw_rate(f("engagement_rate")),
        "over 10 s, 2+ pages or a conversion".into(),
    );
    kpi(
        out,
        "avg_session_s",
        "average session",
        duration(f("avg_session_s")),
        raw_rate(f("avg_session_s")),
        format!("median {}", duration(f("median_session_s"))),
    );
    kpi(
        out,
        "conversions",
        "conversions",
        thousands(n("conversions")),
        n("conversions").to_string(),
        format!(
            "{} of sessions · value {}",
            pct(f("conversion_rate")),
            money(f("value").unwrap_or(0.0))
        ),
    );
    kpi(
        out,
        "bot_share",
        "bot hits",
        pct(ratio(bots, hits)),
        raw_rate(ratio(bots, hits)),
        format!("{} of {} hits", thousands(bots), thousands(hits)),
    );
    kpi(
        out,
        "malformed",
        "malformed lines",
        thousands(malformed),
        malformed.to_string(),
        format!("of {} lines", thousands(lines)),
    );
    out.push_str("</div></section>\n");
}

// ---------------------------------------------------------------------------------------
// Charts

/// Traffic by day and by hour of the day.
fn traffic(out: &mut String, dir: &Path) -> Result<()> {
    out.push_str("<section id=\"traffic\"><h2>Traffic over time</h2><div class=\"grid\">");
    let mut labels = Vec::new();
    let (mut views, mut visitors) = (Vec::new(), Vec::new());
    for batch in read_table(
        dir,
        "traffic_by_day",
        &["date", "page_views", "visitors"],
        None,
    )? {
        let batch = batch?;
        for row in 0..batch.num_rows() {
            labels.push(match cell(&batch, "date", row) {
                Value::Date(days) => date_text(days),
                _ => String::new(),
            });
            views.push(count(&batch, "page_views", row) as f64);
            visitors.push(count(&batch, "visitors", row) as f64);
        }
    }
    out.push_str("<figure class=\"card\"><figcaption>Page views and visitors by day (log's own clock)</figcaption>");
    out.push_str(&chart::columns(
        "Page views and visitors by day",
        &labels,
        &chart::Series {
            name: "page views",
            values: &views,
        },
        Some(&chart::Series {
            name: "visitors",
            values: &visitors,
        }),
    ));
    out.push_str("</figure>");

    // Sessions count in the hour they start, so summing an hour of the day over days is exact.
    let (mut views, mut sessions) = (vec![0.0; 24], vec![0.0; 24]);
    let columns = ["hour_of_day", "page_views", "sessions"];
    for batch in read_table(dir, "traffic_by_hour", &columns, None)? {
        let batch = batch?;
        for row in 0..batch.num_rows() {
            let hour = usize::try_from(int(&batch, "hour_of_day", row))
                .unwrap_or(0)
                .min(23);
            views[hour] += count(&batch, "page_views", row) as f64;
            sessions[hour] += count(&batch, "sessions", row) as f64;
        }
    }
    let labels: Vec<String> = (0..24).map(|h| format!("{h:02}h")).collect();
    out.push_str("<figure class=\"card\"><figcaption>Page views and sessions by hour of the day, all days together</figcaption>");
    out.push_str(&chart::columns(
        "Page views and sessions by hour of the day",
        &labels,
        &chart::Series {
            name: "page views",
            values: &views,
        },
        Some(&chart::Series {
            name: "sessions",
            values: &sessions,
        }),
    ));
    out.push_str("</figure></div></section>\n");
    Ok(())
}

/// Sessions per channel as bars, with each channel's conversion rate.
fn channels(out: &mut String, dir: &Path) -> Result<()> {
    let columns = ["channel", "sessions", "conversions", "conversion_rate"];
    let mut rows = Vec::new();
    for batch in read_table(dir, "channels", &columns, None)? {
        let batch = batch?;
        for row in 0..batch.num_rows() {
            let sessions = count(&batch, "sessions", row);
            rows.push((
                text(&batch, "channel", row).unwrap_or("").to_owned(),
                sessions as f64,
                format!(
                    "{} sessions · {} conv. ({})",
                    thousands(sessions),
                    thousands(count(&batch, "conversions", row)),
                    pct(float(&batch, "conversion_rate", row))
                ),
            ));
        }
    }
    if !rows.is_empty() {
        out.push_str("<figure class=\"card wide\"><figcaption>Sessions by channel, with conversions and conversion rate</figcaption>");
        out.push_str(&chart::bars("Sessions by channel", &rows));
        out.push_str("</figure>");
    }
    Ok(())
}

/// Whether `dir` holds table `name` (a merged directory holds only the mergeable ones).
fn has_table(dir: &Path, name: &str) -> bool {
    dir.join(format!("{name}.parquet")).is_file()
}

/// The note of a card whose table the directory does not hold.
fn absent(out: &mut String, table: &str) {
    let _ = write!(
        out,
        "<p class=\"empty\">No <code>{table}.parquet</code> here: a directory written by <code>accesslens merge</code> holds only the tables it can merge.</p>"
    );
}

/// An attribution model's credit: (channel, conversions, value), in table order.
type Credits = Vec<(String, f64, f64)>;

/// Conversions credited to channels, one table per attribution model and a switcher.
fn attribution(out: &mut String, dir: &Path) -> Result<()> {
    let mut models: Vec<(String, Credits)> = Vec::new();
    let columns = ["model", "channel", "conversions", "value"];
    if !has_table(dir, "attribution") {
        out.push_str("<div class=\"card wide\" id=\"attribution\"><div class=\"card-head\"><h3>Attribution: which channels earn the conversions</h3></div>");
        absent(out, "attribution");
        out.push_str("</div>");
        return Ok(());
    }
    for batch in read_table(dir, "attribution", &columns, None)? {
        let batch = batch?;
        for row in 0..batch.num_rows() {
            let model = text(&batch, "model", row).unwrap_or("");
            if models.last().is_none_or(|(m, _)| m != model) {
                models.push((model.to_owned(), Vec::new()));
            }
            let credit = (
                text(&batch, "channel", row).unwrap_or("").to_owned(),
                float(&batch, "conversions", row).unwrap_or(0.0),
                float(&batch, "value", row).unwrap_or(0.0),
            );
            models.last_mut().expect("pushed above").1.push(credit);
        }
    }
    out.push_str("<div class=\"card wide\" id=\"attribution\"><div class=\"card-head\"><h3>Attribution: which channels earn the conversions</h3>");
    if models.is_empty() {
        out.push_str("</div><p class=\"empty\">No conversions: set goals with <code>--goal</code>.</p></div>");
        return Ok(());
    }
    out.push_str("<label class=\"control\">model <select id=\"attribution-model\">");
    for (model, _) in &models {
        let name = escape(model);
        let _ = write!(
            out,
            "<option value=\"{name}\">{}</option>",
            name.replace('_', " ")
        );
    }
    out.push_str("</select></label></div><p class=\"about\">Each conversion's credit split over the visitor's sessions in the lookback window, by the chosen model (see Definitions).</p>");
    for (i, (model, credits)) in models.iter().enumerate() {
        let total: f64 = credits.iter().map(|c| c.1).sum();
        let rows: Vec<String> = credits
            .iter()
            .map(|(channel, conversions, value)| {
                format!(
                    "<tr><td>{}</td><td class=\"n\">{conversions:.2}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    escape(channel),
                    pct((total > 0.0).then(|| conversions / total)),
                    money(*value)
                )
            })
            .collect();
        let _ = write!(
            out,
            "<div data-model=\"{}\"{}>",
            escape(model),
            if i == 0 { "" } else { " hidden" }
        );
        data_table(
            out,
            &[
                ("channel", false),
                ("conversions", true),
                ("share", true),
                ("value", true),
            ],
            &rows,
        );
        out.push_str("</div>");
    }
    out.push_str("<p class=\"more\">All models in <code>attribution.parquet</code>.</p></div>");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Tables

/// How a column's values are shown.
#[derive(Clone, Copy)]
enum Fmt {
    /// Text; the label is shown for a null.
    Text(&'static str),
    /// A count with thousands separators.
    Count,
    /// A plain integer (status codes, days).
    Int,
    /// A rate as a percentage.
    Pct,
    /// Seconds as a duration.
    Secs,
    /// Milliseconds of a response time (`12 ms`, `1.50 s`); a column of them is left out
    /// when none of the rows shown has one (the format logs none).
    Millis,
    /// A conversion value.
    Money,
    /// Bytes in binary units.
    Bytes,
    /// A UTC timestamp.
    Time,
    /// A flag: the label for true, then for false.
    Flag(&'static str, &'static str),
}

impl Fmt {
    fn numeric(self) -> bool {
        !matches!(self, Fmt::Text(_) | Fmt::Time | Fmt::Flag(..))
    }
}

/// A column of a table view: Parquet column, header, format.
struct Col(&'static str, &'static str, Fmt);

const TEXT: Fmt = Fmt::Text("–");

/// Which rows of a table a view shows.
#[derive(Clone, Copy)]
enum Pick {
    /// The first rows (tables are written largest first).
    First,
    /// The first rows whose column is above zero.
    FirstNonZero(&'static str),
    /// The last rows whose column is above zero, last first: the least popular.
    LastNonZero(&'static str),
}

/// A table as shown in the page.
struct View {
    table: &'static str,
    /// Unique within the page (a table may have two views).
    id: &'static str,
    title: &'static str,
    about: &'static str,
    cols: &'static [Col],
    pick: Pick,
    wide: bool,
}

const ACQUISITION: &[View] = &[
    View {
        table: "channels",
        id: "channels",
        title: "Channels",
        about: "GA4's default channel grouping of each session's source, medium and campaign.",
        cols: &[
            Col("channel", "channel", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("visitors", "visitors", Fmt::Count),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("engagement_rate", "engaged", Fmt::Pct),
            Col("avg_session_s", "avg session", Fmt::Secs),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
            Col("value", "value", Fmt::Money),
        ],
        pick: Pick::First,
        wide: true,
    },
    View {
        table: "sources",
        id: "sources",
        title: "Sources / media",
        about: "Campaign tags first, then click ids, then the referrer.",
        cols: &[
            Col("source", "source", TEXT),
            Col("medium", "medium", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
            Col("value", "value", Fmt::Money),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "campaigns",
        id: "campaigns",
        title: "Campaigns",
        about: "Sessions whose landing URL carries campaign tags (utm_*, mtm_*, pk_*).",
        cols: &[
            Col("campaign", "campaign", TEXT),
            Col("source", "source", TEXT),
            Col("medium", "medium", TEXT),
            Col("term", "term", TEXT),
            Col("content", "content", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
            Col("value", "value", Fmt::Money),
        ],
        pick: Pick::First,
        wide: true,
    },
    View {
        table: "search_keywords",
        id: "search_keywords",
        title: "Search keywords",
        about: "From search-engine referrers; (not provided) when the engine hides the query.",
        cols: &[
            Col("keyword", "keyword", TEXT),
            Col("engine", "engine", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "referring_sites",
        id: "referring_sites",
        title: "Referring sites",
        about: "External hosts whose links started sessions.",
        cols: &[
            Col("host", "host", TEXT),
            Col("channel", "channel", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "referrers",
        id: "referrers",
        title: "Referrers",
        about: "Full referrer URLs of session entries.",
        cols: &[
            Col("referrer", "referrer", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("conversions", "conv.", Fmt::Count),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "goals",
        id: "goals",
        title: "Goals",
        about: "A session converts when one of its page views matches a goal.",
        cols: &[
            Col("goal", "goal", TEXT),
            Col("pattern", "pattern", TEXT),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
            Col("value", "value", Fmt::Money),
        ],
        pick: Pick::First,
        wide: false,
    },
];

const BEHAVIOUR: &[View] = &[
    View {
        table: "entry_pages",
        id: "entry_pages",
        title: "Entry pages",
        about: "Where sessions start.",
        cols: &[
            Col("path", "page", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("avg_session_s", "avg session", Fmt::Secs),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "exit_pages",
        id: "exit_pages",
        title: "Exit pages",
        about: "Where sessions end.",
        cols: &[
            Col("path", "page", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("exit_rate", "exit rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "pages",
        id: "pages",
        title: "Most viewed pages",
        about: "Page views, visitors and how sessions start and end on each page.",
        cols: &[
            Col("path", "page", TEXT),
            Col("page_views", "views", Fmt::Count),
            Col("visitors", "visitors", Fmt::Count),
            Col("entries", "entries", Fmt::Count),
            Col("exit_rate", "exit rate", Fmt::Pct),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("avg_time_on_page_s", "time on page", Fmt::Secs),
            Col("avg_response_ms", "response", Fmt::Millis),
        ],
        pick: Pick::FirstNonZero("page_views"),
        wide: true,
    },
    View {
        table: "pages",
        id: "least_viewed",
        title: "Least viewed pages",
        about: "Pages with at least one page view, fewest first.",
        cols: &[
            Col("path", "page", TEXT),
            Col("page_views", "views", Fmt::Count),
            Col("visitors", "visitors", Fmt::Count),
            Col("hits", "hits", Fmt::Count),
        ],
        pick: Pick::LastNonZero("page_views"),
        wide: false,
    },
    View {
        table: "internal_search",
        id: "internal_search",
        title: "Site search terms",
        about: "What visitors searched for on the site; no-result views saw no page after the search.",
        cols: &[
            Col("term", "term", TEXT),
            Col("searches", "searches", Fmt::Count),
            Col("sessions", "sessions", Fmt::Count),
            Col("exit_rate", "exit rate", Fmt::Pct),
            Col("no_result_views", "no result", Fmt::Count),
            Col("refinements", "refined", Fmt::Count),
            Col("conversions", "conv.", Fmt::Count),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "paths",
        id: "paths",
        title: "Paths",
        about: "The first pages of each session, in order.",
        cols: &[
            Col("path", "path", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversions", "conv.", Fmt::Count),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: true,
    },
    View {
        table: "transitions",
        id: "transitions",
        title: "Transitions",
        about: "From one page view to the next within a session; share of the moves out of the first page.",
        cols: &[
            Col("from_page", "from", Fmt::Text("(entrance)")),
            Col("to_page", "to", Fmt::Text("(exit)")),
            Col("transitions", "times", Fmt::Count),
            Col("share", "share", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: true,
    },
];

const AUDIENCE: &[View] = &[
    View {
        table: "devices",
        id: "devices",
        title: "Devices",
        about: "Device class from the user agent.",
        cols: &[
            Col("device", "device", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "browsers",
        id: "browsers",
        title: "Browsers",
        about: "Browser and major version.",
        cols: &[
            Col("browser", "browser", TEXT),
            Col("version", "version", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "operating_systems",
        id: "operating_systems",
        title: "Operating systems",
        about: "Operating system family and version.",
        cols: &[
            Col("os", "OS", TEXT),
            Col("version", "version", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "resolutions",
        id: "resolutions",
        title: "Screen resolutions",
        about: "From tracking beacons; (none) for sessions without one.",
        cols: &[
            Col("resolution", "resolution", Fmt::Text("(none)")),
            Col("device", "device", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "visitor_types",
        id: "visitor_types",
        title: "New and returning",
        about: "A visitor's first session is new, later ones returning.",
        cols: &[
            Col("visitor_type", "sessions of", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("bounce_rate", "bounce", Fmt::Pct),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
    View {
        table: "visit_frequency",
        id: "visit_frequency",
        title: "Visit frequency",
        about: "Visitors by their number of sessions.",
        cols: &[
            Col("sessions_per_visitor", "sessions each", TEXT),
            Col("visitors", "visitors", Fmt::Count),
            Col("share", "share", Fmt::Pct),
            Col("conversion_rate", "conv. rate", Fmt::Pct),
        ],
        pick: Pick::First,
        wide: false,
    },
];

const PROBLEMS: &[View] = &[
    View {
        table: "errors",
        id: "errors",
        title: "Error pages and broken links",
        about: "Human hits answered with 400 or above, and the referrer that sent most of them: an internal one is a broken link on your site, an external one a broken inbound link.",
        cols: &[
            Col("path", "path", TEXT),
            Col("status", "status", Fmt::Int),
            Col("hits", "hits", Fmt::Count),
            Col("visitors", "visitors", Fmt::Count),
            Col("top_referrer", "sent by", TEXT),
            Col("top_referrer_hits", "its hits", Fmt::Count),
            Col(
                "top_referrer_internal",
                "link",
                Fmt::Flag("internal", "external"),
            ),
            Col("top_channel", "channel", TEXT),
        ],
        pick: Pick::First,
        wide: true,
    },
    View {
        table: "status_codes",
        id: "status_codes",
        title: "Status codes",
        about: "All hits, bots included.",
        cols: &[
            Col("status", "status", Fmt::Int),
            Col("hits", "hits", Fmt::Count),
            Col("human_hits", "humans", Fmt::Count),
            Col("bot_hits", "bots", Fmt::Count),
            Col("bytes", "bytes", Fmt::Bytes),
        ],
        pick: Pick::First,
        wide: false,
    },
];

const VISITORS: &[View] = &[
    View {
        table: "visitors",
        id: "visitors",
        title: "Top visitors",
        about: "Visitors (IP and user agent) with the most sessions.",
        cols: &[
            Col("ip", "IP", TEXT),
            Col("browser", "browser", TEXT),
            Col("os", "OS", TEXT),
            Col("device", "device", TEXT),
            Col("sessions", "sessions", Fmt::Count),
            Col("page_views", "views", Fmt::Count),
            Col("hits", "hits", Fmt::Count),
            Col("bytes", "bytes", Fmt::Bytes),
            Col("first_seen", "first seen (UTC)", Fmt::Time),
            Col("last_seen", "last seen (UTC)", Fmt::Time),
            Col("user_agent", "user agent", TEXT),
        ],
        pick: Pick::First,
        wide: true,
    },
    View {
        table: "robots",
        id: "robots",
        title: "Robots",
        about: "Crawlers, AI bots, monitors and tools, by hits.",
        cols: &[
            Col("bot", "bot", TEXT),
            Col("kind", "kind", TEXT),
            Col("hits", "hits", Fmt::Count),
            Col("bytes", "bytes", Fmt::Bytes),
            Col("visitors", "keys", Fmt::Count),
            Col("last_seen", "last seen (UTC)", Fmt::Time),
        ],
        pick: Pick::First,
        wide: true,
    },
];

/// The sections after acquisition: id, title, views.
const SECTIONS: [(&str, &str, &[View]); 4] = [
    ("behaviour", "Pages: how visitors move", BEHAVIOUR),
    ("audience", "Audience: who the visitors are", AUDIENCE),
    ("problems", "Errors: what breaks", PROBLEMS),
    ("visitors", "Visitors and robots", VISITORS),
];

const INPUTS: View = View {
    table: "inputs",
    id: "inputs",
    title: "Inputs",
    about: "The log files read.",
    cols: &[
        Col("file", "file", TEXT),
        Col("bytes", "bytes", Fmt::Bytes),
        Col("lines", "lines", Fmt::Count),
        Col("hits", "hits", Fmt::Count),
        Col("malformed", "malformed", Fmt::Count),
    ],
    pick: Pick::First,
    wide: true,
};

/// A `<section>` of the page, closed by [`Section::close`].
struct Section<'a> {
    out: &'a mut String,
}

impl<'a> Section<'a> {
    fn open(out: &'a mut String, id: &str, title: &str) -> Section<'a> {
        let _ = write!(
            out,
            "<section id=\"{id}\"><h2>{title}</h2><div class=\"grid\">"
        );
        Section { out }
    }

    fn views(&mut self, dir: &Path, views: &[View], top: usize) -> Result<()> {
        views.iter().try_for_each(|v| view(self.out, dir, v, top))
    }

    fn close(self) {
        self.out.push_str("</div></section>\n");
    }
}

/// Renders one table view: its top `top` rows (as the view picks them) in a card with a
/// filter box, sortable headers and a note on where the rest is.
fn view(out: &mut String, dir: &Path, v: &View, top: usize) -> Result<()> {
    if !has_table(dir, v.table) {
        let _ = write!(
            out,
            "<div class=\"card{}\" id=\"t-{}\"><div class=\"card-head\"><h3>{}</h3></div><p class=\"about\">{}</p>",
            if v.wide { " wide" } else { "" },
            v.id,
            v.title,
            v.about
        );
        absent(out, v.table);
        out.push_str("</div>");
        return Ok(());
    }
    // A response-time column is newer than the tables of older versions: left out there.
    let cols: Vec<&Col> = v
        .cols
        .iter()
        .filter(|c| !matches!(c.2, Fmt::Millis) || has_column(dir, v.table, c.0))
        .collect();
    let mut names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let (limit, nonzero, last) = match v.pick {
        Pick::First => (Some(top), None, false),
        Pick::FirstNonZero(c) => (Some(top), Some(c), false),
        Pick::LastNonZero(c) => (None, Some(c), true),
    };
    if let Some(c) = nonzero.filter(|c| !names.contains(c)) {
        names.push(c);
    }
    let reader = read_table(dir, v.table, &names, limit)?;
    let total = reader.rows;
    // Each row's cells, and for each column whether a shown row has a value in it.
    let mut rows: VecDeque<(Vec<String>, Vec<bool>)> = VecDeque::new();
    for batch in reader {
        let batch = batch?;
        let columns: Vec<_> = cols
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c.0)
                    .expect("read_table checked the columns")
            })
            .collect();
        for row in 0..batch.num_rows() {
            if nonzero.is_some_and(|c| int(&batch, c, row) <= 0) {
                continue;
            }
            let (mut cells, mut valued) = (Vec::new(), Vec::new());
            for (col, column) in cols.iter().zip(&columns) {
                let value = value(column.as_ref(), row);
                valued.push(!matches!(value, Value::Null));
                let mut td = String::new();
                push_cell(&mut td, col.2, &value);
                cells.push(td);
            }
            rows.push_back((cells, valued));
            if rows.len() > top {
                rows.pop_front();
            }
        }
    }
    if last {
        rows.make_contiguous().reverse();
    }
    let _ = write!(
        out,
        "<div class=\"card{}\" id=\"t-{}\"><div class=\"card-head\"><h3>{}</h3>",
        if v.wide { " wide" } else { "" },
        v.id,
        v.title
    );
    if !rows.is_empty() {
        let _ = write!(
            out,
            "<input type=\"search\" class=\"filter\" placeholder=\"Filter\" aria-label=\"Filter {}\">",
            v.title
        );
    }
    let _ = write!(out, "</div><p class=\"about\">{}</p>", v.about);
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">None.</p></div>");
        return Ok(());
    }
    let shown: Vec<bool> = (0..cols.len())
        .map(|i| !matches!(cols[i].2, Fmt::Millis) || rows.iter().any(|(_, valued)| valued[i]))
        .collect();
    let heads: Vec<(&str, bool)> = cols
        .iter()
        .zip(&shown)
        .filter(|(_, shown)| **shown)
        .map(|(c, _)| (c.1, c.2.numeric()))
        .collect();
    let rows: Vec<String> = rows
        .iter()
        .map(|(cells, _)| {
            let kept = cells.iter().zip(&shown).filter(|(_, shown)| **shown);
            let mut tr = String::from("<tr>");
            kept.for_each(|(td, _)| tr.push_str(td));
            tr.push_str("</tr>");
            tr
        })
        .collect();
    data_table(out, &heads, &rows);
    let _ = write!(
        out,
        "<p class=\"more\">{} of {} rows; all in <code>{}.parquet</code>.</p></div>",
        thousands(rows.len() as u64),
        thousands(total as u64),
        v.table
    );
    Ok(())
}

/// A sortable table: headers (name, numeric) and rendered `<tr>` rows.
fn data_table(out: &mut String, heads: &[(&str, bool)], rows: &[String]) {
    out.push_str("<div class=\"scroll\"><table class=\"data\"><thead><tr>");
    for (name, numeric) in heads {
        let _ = write!(
            out,
            "<th scope=\"col\"{}><button type=\"button\">{name}</button></th>",
            if *numeric {
                " class=\"n\" data-num"
            } else {
                ""
            }
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str(row);
    }
    out.push_str("</tbody></table></div>");
}

/// One `<td>`. Numbers whose text does not sort as a number (durations, bytes) carry their
/// raw value in `data-v` for the sorting script.
fn push_cell(out: &mut String, fmt: Fmt, v: &Value<'_>) {
    let number = |v: &Value<'_>| match *v {
        Value::Int(n) => Some(n as f64),
        Value::Float(f) if f.is_finite() => Some(f),
        _ => None,
    };
    match (fmt, v) {
        (Fmt::Text(null), Value::Null) => {
            let _ = write!(out, "<td class=\"null\">{null}</td>");
        }
        (Fmt::Text(_), Value::Text(t)) => {
            out.push_str("<td>");
            push_escaped(out, t);
            out.push_str("</td>");
        }
        (Fmt::Time, Value::Time(us, _)) => {
            let _ = write!(out, "<td>{}</td>", time_text(*us));
        }
        (Fmt::Flag(yes, no), Value::Bool(b)) => {
            let _ = write!(out, "<td>{}</td>", if *b { yes } else { no });
        }
        (Fmt::Secs | Fmt::Bytes | Fmt::Millis, v) => {
            let n = number(v);
            let shown = match fmt {
                Fmt::Secs => duration(n),
                Fmt::Millis => millis(n),
                _ => n.map_or("–".into(), |n| bytes(n as u64)),
            };
            match n {
                Some(n) => {
                    let _ = write!(out, "<td class=\"n\" data-v=\"{n}\">{shown}</td>");
                }
                None => {
                    let _ = write!(out, "<td class=\"n\">{shown}</td>");
                }
            }
        }
        (Fmt::Count | Fmt::Int | Fmt::Pct | Fmt::Money, v) => {
            let n = number(v);
            let shown = match (fmt, n) {
                (_, None) => "–".into(),
                (Fmt::Count, Some(n)) if n >= 0.0 => thousands(n as u64),
                (Fmt::Pct, n) => pct(n),
                (Fmt::Money, Some(n)) => money(n),
                (_, Some(n)) => format!("{n}"),
            };
            let _ = write!(out, "<td class=\"n\">{shown}</td>");
        }
        _ => out.push_str("<td class=\"null\">–</td>"),
    }
}

// ---------------------------------------------------------------------------------------
// Footer

/// The definitions in force, the goals, the inputs, and where the full data is.
fn footer(
    out: &mut String,
    dir: &Path,
    s: &RecordBatch,
    metadata: &[(String, String)],
    definitions: Option<&serde_json::Value>,
    top: usize,
) -> Result<()> {
    out.push_str("<section id=\"definitions\"><h2>Definitions and inputs</h2><div class=\"grid\">");
    out.push_str("<div class=\"card\"><h3>Definitions in force</h3><dl class=\"defs\">");
    if let Some(serde_json::Value::Object(fields)) = definitions {
        for (key, value) in fields {
            out.push_str("<dt>");
            push_escaped(out, &key.replace('_', " "));
            out.push_str("</dt><dd>");
            push_escaped(out, &definition_text(key, value));
            out.push_str("</dd>");
        }
    }
    let _ = write!(
        out,
        "<dt>lines</dt><dd>{} read: {} hits, {} malformed, {} blank</dd></dl>",
        thousands(count(s, "lines", 0)),
        thousands(count(s, "hits", 0)),
        thousands(count(s, "malformed", 0)),
        thousands(count(s, "blank_lines", 0)),
    );
    out.push_str("<p class=\"about\">A session is cut after the timeout without a page view (and, under the <code>ua</code> preset, at a source change or midnight); a bounce is a session of one page view; an engaged session lasts over 10 s, has 2 or more page views, or converts; bots are counted apart. The README's Definitions section has them all.</p></div>");
    view(out, dir, &INPUTS, top)?;
    out.push_str("</div></section>\n</main>\n<footer><p>");
    let _ = write!(
        out,
        "Every table shows its first {} rows at most; the full data is in the Parquet files this page was made from (for example <code>duckdb -c \"select * from 'pages.parquet'\"</code>). Made by accesslens {}.",
        thousands(top as u64),
        escape(meta(metadata, "accesslens.version").unwrap_or("?"))
    );
    out.push_str("</p></footer>\n");
    Ok(())
}

/// A definition's value as text: lists joined, the session timeout also as minutes.
fn definition_text(key: &str, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "(none)".into(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Number(n) if key == "session_timeout_ms" => {
            let ms = n.as_f64().unwrap_or(0.0);
            format!("{n} ({})", duration(Some(ms / 1000.0)))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\té"), "a\u{fffd}b\u{fffd}c\té");
        let json = export_json_of("</script><!--");
        assert!(!json.contains('<'), "{json}");
        assert_eq!(json, r#""\u003c/script>\u003c!--""#);
    }

    fn export_json_of(text: &str) -> String {
        script_json(&crate::output::json_string(text))
    }

    #[test]
    fn cells() {
        let td = |fmt, v: Value<'_>| {
            let mut out = String::new();
            push_cell(&mut out, fmt, &v);
            out
        };
        assert_eq!(
            td(Fmt::Count, Value::Int(1234567)),
            "<td class=\"n\">1,234,567</td>"
        );
        assert_eq!(
            td(Fmt::Pct, Value::Float(0.4567)),
            "<td class=\"n\">45.7%</td>"
        );
        assert_eq!(td(Fmt::Pct, Value::Null), "<td class=\"n\">–</td>");
        assert_eq!(
            td(Fmt::Money, Value::Float(1234.5)),
            "<td class=\"n\">1,234.50</td>"
        );
        assert_eq!(td(Fmt::Int, Value::Int(404)), "<td class=\"n\">404</td>");
        assert_eq!(
            td(Fmt::Secs, Value::Float(75.4)),
            "<td class=\"n\" data-v=\"75.4\">1m 15s</td>"
        );
        assert_eq!(
            td(Fmt::Bytes, Value::Int(1536)),
            "<td class=\"n\" data-v=\"1536\">1.5 KiB</td>"
        );
        assert_eq!(
            td(Fmt::Text("(exit)"), Value::Null),
            "<td class=\"null\">(exit)</td>"
        );
        assert_eq!(
            td(TEXT, Value::Text("/<img src=x>")),
            "<td>/&lt;img src=x&gt;</td>"
        );
        assert_eq!(
            td(Fmt::Time, Value::Time(1_710_061_203_500_000, true)),
            "<td>2024-03-10 09:00:03</td>"
        );
        assert_eq!(
            td(Fmt::Flag("internal", "external"), Value::Bool(false)),
            "<td>external</td>"
        );
    }

    #[test]
    fn definitions() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"a":["x","y"],"b":[],"session_timeout_ms":1800000,"c":3}"#)
                .unwrap();
        assert_eq!(definition_text("a", &v["a"]), "x, y");
        assert_eq!(definition_text("b", &v["b"]), "(none)");
        assert_eq!(
            definition_text("session_timeout_ms", &v["session_timeout_ms"]),
            "1800000 (30m 00s)"
        );
        assert_eq!(definition_text("c", &v["c"]), "3");
    }

    #[test]
    fn a_missing_directory_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = render(&dir.path().join("nope"), 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("summary.parquet"), "{err}");
    }
}
