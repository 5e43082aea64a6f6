//! Which format a file is in, from its first lines.
//!
//! Up to [`SAMPLE_LINES`] non-blank lines that are not `#` directives are read with every
//! format (W3C formats see the directives too, since their `#Fields:` lines lay out the rest),
//! and the format that reads the most of them wins. Ties go to the format listed first in
//! [`Format::ALL`]: specific formats before generic ones, so a log that `nginx` reads whole is
//! `nginx`, not `combined` (which reads it too, ignoring the times), and a `common` log is
//! `combined` (which reads common lines; `common` counts only lines that end after the size,
//! so a combined log with a few damaged lines stays `combined`). A file whose best format reads fewer than half of
//! its sample is refused: guessing would turn it into a run of malformed lines.

use super::{Format, LineParser, Parsed, is_blank, lines};

/// How many lines are sampled.
pub const SAMPLE_LINES: usize = 50;

/// The outcome of detection: the format and how much of the sample it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub format: Format,
    /// Sample lines the format read.
    pub hits: usize,
    /// Sample lines (non-blank, not directives).
    pub sampled: usize,
}

/// No format reads half of the sample: every format's score, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undetected {
    pub sampled: usize,
    pub scores: Vec<(Format, usize)>,
}

impl Undetected {
    /// `nginx 3/50, combined 2/50, …` (formats that read nothing are left out).
    pub fn describe(&self) -> String {
        let tried: Vec<String> = self
            .scores
            .iter()
            .filter(|(_, hits)| *hits > 0)
            .map(|(f, hits)| format!("{} {hits}/{}", f.name(), self.sampled))
            .collect();
        if tried.is_empty() {
            format!(
                "none of {} read any of the first {} lines",
                Format::ALL.map(Format::name).join(", "),
                self.sampled
            )
        } else {
            format!(
                "no format reads half of the first {} lines (best: {}; tried {})",
                self.sampled,
                tried.join(", "),
                Format::ALL.map(Format::name).join(", ")
            )
        }
    }
}

/// Detects the format of the log that starts with `head`. An empty sample is `combined`.
pub fn detect(head: &[u8]) -> Result<Detected, Undetected> {
    let mut parsers: Vec<(Format, LineParser, usize)> = Format::ALL
        .iter()
        .map(|&f| (f, LineParser::new(f, None), 0))
        .collect();
    let mut sampled = 0;
    for line in lines(head) {
        if sampled == SAMPLE_LINES {
            break;
        }
        if is_blank(line) {
            continue;
        }
        let directive = line.starts_with(b"#");
        for (format, parser, hits) in &mut parsers {
            if let Ok(Parsed::Hit(_)) = parser.parse(line)
                && format.counts_in_detection(line)
            {
                *hits += 1;
            }
        }
        if !directive {
            sampled += 1;
        }
    }
    if sampled == 0 {
        return Ok(Detected {
            format: Format::default(),
            hits: 0,
            sampled: 0,
        });
    }
    // A stable sort keeps the preference order among equal scores.
    let mut scores: Vec<(Format, usize)> = parsers.iter().map(|(f, _, h)| (*f, *h)).collect();
    scores.sort_by_key(|&(_, hits)| std::cmp::Reverse(hits));
    let (format, hits) = scores[0];
    if hits * 2 < sampled {
        return Err(Undetected { sampled, scores });
    }
    Ok(Detected {
        format,
        hits,
        sampled,
    })
}
