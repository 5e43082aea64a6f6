//! Parse: log lines → borrowed fields.
//!
//! A [`LogLine`] borrows slices of the input bytes; nothing is allocated or copied per line.
//! Each log format is one [`Format`] variant with its own scanner file; all of them share the
//! line splitter and the timestamp parser here. A line that does not fit its format yields a
//! [`Malformed`] reason, which the pipeline counts and samples: bad lines are data, not errors.

mod clf;
pub mod time;

use std::fmt;

pub use time::LogTime;

/// The fields of one access-log line, borrowed from the input.
///
/// Absent values (`-` in the log) are empty slices. Text is raw bytes as logged: escapes
/// such as `\"` are resolved later, once per distinct value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub client: &'a [u8],
    pub user: &'a [u8],
    pub time: LogTime,
    /// The request line, e.g. `GET /index.html HTTP/1.1`.
    pub request: &'a [u8],
    pub status: u16,
    pub bytes: u64,
    pub referrer: &'a [u8],
    pub user_agent: &'a [u8],
}

/// Log formats accesslens reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Apache/Nginx combined: `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`.
    #[default]
    Combined,
    /// NCSA common: `%h %l %u %t "%r" %>s %b`.
    Common,
}

impl Format {
    /// Parses one line (without its line terminator).
    #[inline]
    pub fn parse<'a>(self, line: &'a [u8]) -> Result<LogLine<'a>, Malformed> {
        match self {
            Format::Combined => clf::parse(line, true),
            Format::Common => clf::parse(line, false),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::Common => "common",
        }
    }
}

/// Why a line did not parse. The text is shown to users next to the line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    NoClient,
    NoTimestamp,
    BadTimestamp,
    NoRequest,
    UnterminatedRequest,
    BadStatus,
    BadBytes,
    UnterminatedReferrer,
    UnterminatedUserAgent,
}

impl Malformed {
    pub fn describe(self) -> &'static str {
        match self {
            Malformed::NoClient => "no client address at the start of the line",
            Malformed::NoTimestamp => "no [timestamp]",
            Malformed::BadTimestamp => "timestamp is not dd/Mon/yyyy:HH:MM:SS +zzzz",
            Malformed::NoRequest => "no quoted request after the timestamp",
            Malformed::UnterminatedRequest => "request has no closing quote before the status",
            Malformed::BadStatus => "status is not a three-digit number",
            Malformed::BadBytes => "response size is neither a number nor -",
            Malformed::UnterminatedReferrer => "referrer is not a quoted field",
            Malformed::UnterminatedUserAgent => "user agent is not a quoted field",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Splits `bytes` into lines: `\n` terminates a line, a trailing `\r` is dropped, and a last
/// line without a terminator is still a line.
#[inline]
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// True for an empty or whitespace-only line.
#[inline]
pub fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_handle_crlf_and_missing_final_newline() {
        let got: Vec<&[u8]> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(got, [&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"\n").count(), 1);
        assert_eq!(lines(b"x\n").count(), 1);
    }

    #[test]
    fn blank_lines() {
        assert!(is_blank(b""));
        assert!(is_blank(b" \t "));
        assert!(!is_blank(b" x"));
    }
}
