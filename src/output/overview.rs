//! The terminal overview: totals and the top rows of the main reports, in 80 columns.

use std::io::{self, Write};
use std::time::Duration;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::aggregate::Reports;
use crate::ingest::{FileStats, MalformedSample};
use crate::parse::time::format_utc;

const WIDTH: usize = 80;

/// What the overview shows besides the reports.
pub struct RunFacts<'a> {
    pub files: &'a [FileStats],
    pub samples: &'a [MalformedSample],
    pub elapsed: Duration,
    pub top: usize,
    pub out_dir: &'a str,
    /// Number of goals configured.
    pub goals: usize,
    /// Page views per sequence in the paths table.
    pub path_depth: usize,
    /// Whether to style the text for a terminal (bold titles, dim headers).
    pub color: bool,
}

pub fn print(out: &mut impl Write, r: &Reports, facts: &RunFacts<'_>) -> io::Result<()> {
    let s = &r.summary;
    let paint = Paint(facts.color);
    let secs = facts.elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "{} · {} input{} · {} · {} lines",
        paint.bold(&format!("accesslens {}", env!("CARGO_PKG_VERSION")), 0),
        facts.files.len(),
        if facts.files.len() == 1 { "" } else { "s" },
        bytes(s.input_bytes),
        thousands(s.lines),
    )?;
    writeln!(
        out,
        "analysed in {:.2} s: {}/s, {} lines/s",
        secs,
        bytes((s.input_bytes as f64 / secs) as u64),
        si(s.lines as f64 / secs),
    )?;
    if let (Some(first), Some(last)) = (s.first_ms, s.last_ms) {
        writeln!(
            out,
            "time range {} – {} UTC",
            format_utc(first),
            format_utc(last)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "  hits {}  ·  bots {} ({})  ·  malformed {}  ·  blank {}",
        thousands(s.hits),
        thousands(s.bot_hits),
        pct(ratio(s.bot_hits, s.hits)),
        thousands(s.malformed),
        thousands(s.blank_lines)
    )?;
    if s.out_of_range > 0 {
        writeln!(
            out,
            "  outside --since/--until {} lines (not read as hits)",
            thousands(s.out_of_range)
        )?;
    }
    writeln!(
        out,
        "  visitors {}  ·  sessions {}  ·  page views {}",
        thousands(s.visitors),
        thousands(s.sessions),
        thousands(s.page_views),
    )?;
    writeln!(
        out,
        "  pages/session {}  ·  bounce rate {}  ·  engaged {}",
        s.pages_per_session
            .map_or("–".into(), |v| format!("{v:.1}")),
        pct(s.bounce_rate),
        pct(s.engagement_rate),
    )?;
    writeln!(
        out,
        "  avg session {}  ·  median {}",
        duration(s.avg_session_s),
        duration(s.median_session_s)
    )?;
    writeln!(
        out,
        "  returning visitors {} ({})  ·  site searches {}  ·  beacons {}",
        thousands(s.returning_visitors.unwrap_or(0)),
        pct(ratio(s.returning_visitors.unwrap_or(0), s.visitors)),
        thousands(s.internal_searches),
        thousands(s.beacon_hits)
    )?;
    if s.conversions > 0 || facts.goals > 0 {
        writeln!(
            out,
            "  conversions {}  ·  conversion rate {}  ·  value {}",
            thousands(s.conversions),
            pct(s.conversion_rate),
            money(s.value)
        )?;
    }

    let n = facts.top;
    let a = &r.acquisition;
    table(
        out,
        paint,
        "Channels",
        &["sessions", "bounce", "conv.", "conv. rate"],
        a.channels.iter().take(n).map(|c| {
            (
                c.key,
                vec![
                    thousands(c.metrics.sessions),
                    pct(c.rates.bounce_rate),
                    thousands(c.metrics.conversions),
                    pct(c.rates.conversion_rate),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Sources / media",
        &["sessions", "conv."],
        a.sources.iter().take(n).map(|c| {
            (
                format!("{} / {}", c.key.0, c.key.1),
                vec![
                    thousands(c.metrics.sessions),
                    thousands(c.metrics.conversions),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Search keywords",
        &["engine", "sessions"],
        a.search_keywords.iter().take(n).map(|c| {
            (
                c.key.1.as_ref(),
                vec![c.key.0.to_string(), thousands(c.metrics.sessions)],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Entry pages",
        &["sessions", "bounce"],
        r.entry_pages.iter().take(n).map(|e| {
            (
                e.path.as_ref(),
                vec![thousands(e.sessions), pct(e.bounce_rate)],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Exit pages",
        &["sessions", "exit rate"],
        r.exit_pages.iter().take(n).map(|e| {
            (
                e.path.as_ref(),
                vec![thousands(e.sessions), pct(e.exit_rate)],
            )
        }),
    )?;
    table(
        out,
        paint,
        &format!("Paths (first {} pages)", facts.path_depth),
        &["sessions", "conv. rate"],
        r.paths.iter().take(n).map(|p| {
            (
                p.path.as_str(),
                vec![thousands(p.metrics.sessions), pct(p.rates.conversion_rate)],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Most viewed pages",
        &["views", "visitors"],
        r.pages
            .iter()
            .filter(|p| p.page_views > 0)
            .take(n)
            .map(|p| {
                (
                    p.path.as_ref(),
                    vec![thousands(p.page_views), thousands(p.visitors)],
                )
            }),
    )?;
    table(
        out,
        paint,
        "Site search terms",
        &["searches", "exits", "no click"],
        r.internal_search.iter().take(n).map(|t| {
            (
                t.term.as_ref(),
                vec![
                    thousands(t.counts.searches),
                    thousands(t.counts.exits),
                    thousands(t.counts.no_result_views),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Referring sites",
        &["sessions", "visitors", "bounce"],
        r.referring_sites.iter().take(n).map(|h| {
            (
                h.host.as_ref(),
                vec![
                    thousands(h.metrics.sessions),
                    thousands(h.metrics.visitors),
                    pct(h.rates.bounce_rate),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Errors (path, status)",
        &["status", "hits", "visitors"],
        r.errors.iter().take(n).map(|e| {
            (
                e.path.as_ref(),
                vec![
                    e.status.to_string(),
                    thousands(e.hits),
                    thousands(e.visitors),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Status codes",
        &["hits", "humans", "bots"],
        r.status_codes.iter().take(n).map(|c| {
            (
                c.status.to_string(),
                vec![
                    thousands(c.hits),
                    thousands(c.human_hits),
                    thousands(c.bot_hits),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Most loyal visitors",
        &["sessions", "views", "hits"],
        r.visitors.iter().take(n).map(|v| {
            (
                v.ip.as_ref(),
                vec![
                    thousands(v.sessions),
                    thousands(v.page_views),
                    thousands(v.hits),
                ],
            )
        }),
    )?;
    let audience = &r.audience;
    let share = |sessions: u64| pct(ratio(sessions, s.sessions));
    table(
        out,
        paint,
        "Devices",
        &["sessions", "share", "conv. rate"],
        audience.devices.iter().take(n).map(|d| {
            (
                d.key.as_ref(),
                vec![
                    thousands(d.metrics.sessions),
                    share(d.metrics.sessions),
                    pct(d.rates.conversion_rate),
                ],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Browsers",
        &["sessions", "share"],
        audience.browsers.iter().take(n).map(|b| {
            (
                format!("{} {}", b.key.0, b.key.1),
                vec![thousands(b.metrics.sessions), share(b.metrics.sessions)],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Operating systems",
        &["sessions", "share"],
        audience.operating_systems.iter().take(n).map(|o| {
            (
                format!("{} {}", o.key.0, o.key.1),
                vec![thousands(o.metrics.sessions), share(o.metrics.sessions)],
            )
        }),
    )?;
    table(
        out,
        paint,
        "Screen resolutions (from beacons)",
        &["device", "sessions"],
        audience
            .resolutions
            .iter()
            .filter_map(|x| Some((x.key.0.as_deref()?, x)))
            .take(n)
            .map(|(resolution, x)| {
                (
                    resolution,
                    vec![x.key.1.to_string(), thousands(x.metrics.sessions)],
                )
            }),
    )?;
    table(
        out,
        paint,
        "Robots",
        &["kind", "hits", "bytes"],
        r.robots.iter().take(n).map(|b| {
            (
                b.bot.as_str(),
                vec![b.kind.to_owned(), thousands(b.hits), bytes(b.bytes)],
            )
        }),
    )?;
    if s.malformed > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "Malformed lines: {} (first ones in malformed_samples.parquet)",
            thousands(s.malformed)
        )?;
        for m in facts.samples.iter().take(3) {
            writeln!(out, "  {}:{}: {}", m.file, m.line, m.reason)?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Reports written to {}", facts.out_dir)?;
    Ok(())
}

/// A titled table: a label column that takes the space left, then right-aligned columns.
/// Terminal styling, on only for a terminal that allows it (see [`RunFacts::color`]).
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    /// `text` in bold, then padded with spaces to `width` columns.
    fn bold(self, text: &str, width: usize) -> String {
        let pad = " ".repeat(width.saturating_sub(text.width()));
        if self.0 {
            format!("\x1b[1m{text}\x1b[0m{pad}")
        } else {
            format!("{text}{pad}")
        }
    }

    /// `text` dimmed (for column headers and notes).
    fn dim(self, text: &str) -> String {
        if self.0 {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn table<L: AsRef<str>>(
    out: &mut impl Write,
    paint: Paint,
    title: &str,
    headers: &[&str],
    rows: impl Iterator<Item = (L, Vec<String>)>,
) -> io::Result<()> {
    let rows: Vec<(L, Vec<String>)> = rows.collect();
    if rows.is_empty() {
        return Ok(());
    }
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|(_, c)| c[i].width())
                .max()
                .unwrap_or(0)
                .max(h.len())
        })
        .collect();
    let numbers: usize = widths.iter().map(|w| w + 2).sum();
    let label_width = WIDTH.saturating_sub(numbers + 2).max(12);
    writeln!(out)?;
    write!(out, "{}", paint.bold(title, label_width + 2))?;
    for (h, w) in headers.iter().zip(&widths) {
        write!(out, "  {}", paint.dim(&format!("{h:>w$}")))?;
    }
    writeln!(out)?;
    for (label, cols) in rows {
        write!(out, "  {}", clip(label.as_ref(), label_width))?;
        for (c, w) in cols.iter().zip(&widths) {
            write!(out, "  {}{c}", " ".repeat(w.saturating_sub(c.width())))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Fits text to exactly `width` terminal columns: cut (the cut marked `…`) or padded with
/// spaces. Columns, not characters: CJK characters take two, combining marks none. Control
/// characters are made visible.
fn clip(text: &str, width: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '�' } else { c })
        .collect();
    let used = clean.width();
    if used <= width {
        return clean + &" ".repeat(width - used);
    }
    let mut cut = String::with_capacity(width + 4);
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.saturating_sub(1) {
            break;
        }
        cut.push(c);
        used += w;
    }
    cut.push('…');
    cut + &" ".repeat(width.saturating_sub(used + 1))
}

/// a / b, none when b is 0.
pub fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// A rate as a percentage with one decimal (`45.7%`); `–` when there is none.
pub fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

/// Seconds as `45s`, `1m 15s` or `2h 03m`; `–` when there are none.
pub fn duration(seconds: Option<f64>) -> String {
    let Some(s) = seconds else {
        return "–".into();
    };
    let s = s.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

/// Milliseconds as `12 ms` (`0.4 ms` under ten) or, from a second, `1.50 s`; `–` when there
/// are none.
pub fn millis(ms: Option<f64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 9.95 => format!("{ms:.1} ms"),
        Some(ms) if ms < 999.5 => format!("{ms:.0} ms"),
        Some(ms) => format!("{:.2} s", ms / 1000.0),
    }
}

/// A conversion value with two decimals and thousands separators: "1,234.50".
pub fn money(v: f64) -> String {
    let cents = (v.abs() * 100.0).round() as u64;
    let sign = if v < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", thousands(cents / 100), cents % 100)
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Byte counts in binary units: "512 B", "1.5 MiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A rate with an SI suffix: "950", "12.3 k", "4.1 M".
pub fn si(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.1} G", v / 1e9),
        v if v >= 1e6 => format!("{:.1} M", v / 1e6),
        v if v >= 1e3 => format!("{:.1} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(duration(Some(75.4)), "1m 15s");
        assert_eq!(duration(Some(3725.0)), "1h 02m");
        assert_eq!(pct(Some(0.4567)), "45.7%");
        assert_eq!(millis(Some(0.7535)), "0.8 ms");
        assert_eq!(millis(Some(9.96)), "10 ms");
        assert_eq!(millis(Some(80.0)), "80 ms");
        assert_eq!(millis(Some(999.4)), "999 ms");
        assert_eq!(millis(Some(999.6)), "1.00 s");
        assert_eq!(millis(Some(1500.0)), "1.50 s");
        assert_eq!(millis(None), "–");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("ab", 4), "ab  ");
        // Wide characters take two columns: the cut and the padding count columns.
        assert_eq!(clip("위젯", 6), "위젯  ");
        assert_eq!(clip("위젯위젯", 6), "위젯… ");
        assert_eq!(clip("a\u{301}b", 3), "a\u{301}b ");
        assert_eq!(clip("x\ty", 3), "x�y");
        assert_eq!(money(1234.5), "1,234.50");
        assert_eq!(money(-0.004), "0.00");
        assert_eq!(money(-2.5), "-2.50");
    }
}
