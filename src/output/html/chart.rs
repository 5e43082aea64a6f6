//! Small inline SVG charts for the HTML report, drawn here rather than by a charting library
//! so the page needs no script to show them, loads nothing, and prints as it looks.
//!
//! Charts are drawn in a fixed coordinate space (`viewBox`) and scaled to the page's width
//! by CSS; colours come from CSS classes, so light and dark themes restyle them. Every mark
//! carries a `<title>` with its exact numbers (the browser shows it as a tooltip).

use std::fmt::Write as _;

use super::push_escaped;
use crate::output::overview::{si, thousands};

const WIDTH: f64 = 800.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// One named series of values, one per label.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [f64],
}

/// The smallest 1, 2 or 5 × 10^k at or above `v` (1 for nothing), so axis ticks are round.
pub fn nice_max(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&m| m >= v)
        .unwrap_or(10.0 * magnitude)
}

/// A column chart: one bar per label for `bars`, and optionally `line` drawn over them on
/// the same scale. Labels are thinned out so they never overlap.
pub fn columns(
    caption: &str,
    labels: &[String],
    bars: &Series<'_>,
    line: Option<&Series<'_>>,
) -> String {
    let height = 220.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = height - TOP - BOTTOM;
    let top_value = bars
        .values
        .iter()
        .chain(line.map_or(&[][..], |l| l.values))
        .fold(0.0f64, |a, &b| a.max(b));
    let max = nice_max(top_value);
    let n = labels.len().max(1);
    let step = plot_w / n as f64;
    let y = |v: f64| TOP + plot_h - v / max * plot_h;

    let mut svg = String::new();
    open_svg(&mut svg, WIDTH, height, caption);
    svg.push_str("<g class=\"axis\">");
    // Five intervals: a fifth of 1, 2 or 5 × 10^k is round too.
    for i in 0..=5 {
        let v = max * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            si(v),
            y = y(v),
        );
    }
    // Room for about 70 units of text per label.
    let every = ((70.0 / step).ceil() as usize).max(1);
    for (i, label) in labels.iter().enumerate().step_by(every) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">",
            LEFT + step * (i as f64 + 0.5),
            height - 6.0
        );
        push_escaped(&mut svg, label);
        svg.push_str("</text>");
    }
    svg.push_str("</g><g class=\"bars\">");
    let bar_w = (step * 0.72).clamp(1.0, 48.0);
    for (i, label) in labels.iter().enumerate() {
        let v = bars.values.get(i).copied().unwrap_or(0.0);
        let x = LEFT + step * i as f64 + (step - bar_w) / 2.0;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\"><title>",
            y(v),
            TOP + plot_h - y(v)
        );
        push_escaped(&mut svg, label);
        let _ = write!(svg, ": {} {}", thousands(v as u64), bars.name);
        if let Some(line) = line {
            let w = line.values.get(i).copied().unwrap_or(0.0);
            let _ = write!(svg, ", {} {}", thousands(w as u64), line.name);
        }
        svg.push_str("</title></rect>");
    }
    svg.push_str("</g>");
    if let Some(line) = line {
        svg.push_str("<polyline class=\"line\" points=\"");
        for (i, &v) in line.values.iter().enumerate() {
            let _ = write!(svg, "{:.1},{:.1} ", LEFT + step * (i as f64 + 0.5), y(v));
        }
        svg.push_str("\"/>");
    }
    svg.push_str("</svg>");
    legend(&mut svg, bars.name, line.map(|l| l.name));
    svg
}

/// A horizontal bar chart: one row per `(label, value, note)`, bars scaled to the largest
/// value, the note written after the bar.
pub fn bars(caption: &str, rows: &[(String, f64, String)]) -> String {
    // Wider than the column charts: this one spans the page, and its text stays as large.
    let width = 1100.0;
    let row_h = 26.0;
    let label_w = 170.0;
    let note_w = 260.0;
    let height = row_h * rows.len().max(1) as f64 + 4.0;
    let max = rows
        .iter()
        .fold(0.0f64, |a, r| a.max(r.1))
        .max(f64::MIN_POSITIVE);
    let bar_space = width - label_w - note_w;
    let mut svg = String::new();
    open_svg(&mut svg, width, height, caption);
    for (i, (label, value, note)) in rows.iter().enumerate() {
        let top = 2.0 + row_h * i as f64;
        let w = (value / max * bar_space).max(1.0);
        svg.push_str("<g><title>");
        push_escaped(&mut svg, label);
        svg.push_str(": ");
        push_escaped(&mut svg, note);
        let _ = write!(
            svg,
            "</title><text class=\"label\" x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">",
            label_w - 8.0,
            top + 17.0
        );
        push_escaped(&mut svg, label);
        let _ = write!(
            svg,
            "</text><rect class=\"bar\" x=\"{label_w:.0}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\">",
            top + 4.0,
            row_h - 8.0,
            label_w + w + 6.0,
            top + 17.0
        );
        push_escaped(&mut svg, note);
        svg.push_str("</text></g>");
    }
    svg.push_str("</svg>");
    svg
}

fn open_svg(svg: &mut String, width: f64, height: f64, caption: &str) {
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\""
    );
    push_escaped(svg, caption);
    svg.push_str("\">");
}

fn legend(out: &mut String, bars: &str, line: Option<&str>) {
    out.push_str("<p class=\"legend\"><span class=\"key k-bar\"></span>");
    push_escaped(out, bars);
    if let Some(line) = line {
        out.push_str(" <span class=\"key k-line\"></span>");
        push_escaped(out, line);
    }
    out.push_str("</p>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_axis_maxima() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(f64::NAN), 1.0);
        assert_eq!(nice_max(1.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(7.2), 10.0);
        assert_eq!(nice_max(1234.0), 2000.0);
        assert_eq!(nice_max(0.03), 0.05);
    }

    #[test]
    fn labels_and_titles_are_escaped() {
        let labels = ["<b>".to_owned(), "x&y".to_owned()];
        let svg = columns(
            "a <caption>",
            &labels,
            &Series {
                name: "views",
                values: &[3.0, 1.0],
            },
            Some(&Series {
                name: "visitors",
                values: &[1.0, 1.0],
            }),
        );
        assert!(!svg.contains("<b>") && !svg.contains("<caption>"), "{svg}");
        assert!(svg.contains("&lt;b&gt;: 3 views, 1 visitors"), "{svg}");
        let svg = bars("c", &[("<i>".into(), 2.0, "2 sessions".into())]);
        assert!(svg.contains("&lt;i&gt;") && !svg.contains("<i>"), "{svg}");
    }
}
