//! Parse: log lines → borrowed fields.
//!
//! A [`LogLine`] borrows slices of the input bytes; nothing is allocated or copied per line.
//! Each log format is one [`Format`] variant with its own scanner file; all of them share the
//! line splitter and the timestamp parser here. A line that does not fit its format yields a
//! [`Malformed`] reason, which the pipeline counts and samples: bad lines are data, not errors.

mod aws;
mod clf;
pub mod custom;
pub mod detect;
#[cfg(test)]
mod fixture_tests;
mod haproxy;
pub mod json;
mod jsonlog;
mod simd;
pub mod time;
mod tokens;
mod w3c;

use std::fmt;
use std::sync::Arc;

pub use aws::target_host;
pub use clf::strip_port;
pub use custom::{CustomFormat, FormatError, Syntax};
pub use time::LogTime;
pub use w3c::W3cLayout;

/// The fields of one access-log line, borrowed from the input.
///
/// Absent values (`-` in the log) are empty slices. Text is raw bytes as logged: escapes
/// such as `\"` are resolved later, once per distinct value. The struct is `Copy` and holds
/// only slices and numbers, so building one costs a few stores and no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub client: &'a [u8],
    pub user: &'a [u8],
    pub time: LogTime,
    pub request: Request<'a>,
    pub status: u16,
    pub bytes: u64,
    pub referrer: &'a [u8],
    pub user_agent: &'a [u8],
    /// How `referrer` and `user_agent` are encoded beyond the usual escapes.
    pub coding: TextCoding,
    /// The virtual host or domain the request was for, when the format logs it, as logged
    /// (a port and the case are dropped once per distinct value, where it is shown).
    pub vhost: &'a [u8],
    /// The `X-Forwarded-For` value, when the format logs it.
    pub forwarded_for: &'a [u8],
    /// The TLS protocol (`TLSv1.3`), when the format logs it.
    pub tls: &'a [u8],
    /// Time taken to answer, in microseconds; [`NO_RESPONSE_TIME`] when not logged.
    pub response_time_us: u32,
    /// The value of the cookie that identifies visitors (`--visitor-key cookie:NAME`), when
    /// a custom format logs it; empty otherwise.
    pub cookie: &'a [u8],
}

/// The `response_time_us` of a line whose format does not log one.
pub const NO_RESPONSE_TIME: u32 = u32::MAX;

/// The `user_agent` of a line that has no user-agent field (a common-format line, HAProxy
/// without captured headers, W3C fields without `cs(User-Agent)`, Traefik keeping no
/// headers, a `--log-format` without one), told from one logged empty (`"-"`): a client
/// that sends no agent is a bot, a log that records none says nothing either way. A
/// newline, which no field of a line can hold.
pub const AGENT_NOT_LOGGED: &[u8] = b"\n";

impl<'a> LogLine<'a> {
    /// A line with only the fields every format has; the others empty, and the user agent
    /// [`AGENT_NOT_LOGGED`] until a format's field sets it.
    #[inline]
    pub fn new(client: &'a [u8], time: LogTime, request: Request<'a>, status: u16) -> Self {
        LogLine {
            client,
            user: b"",
            time,
            request,
            status,
            bytes: 0,
            referrer: b"",
            user_agent: AGENT_NOT_LOGGED,
            coding: TextCoding::AsLogged,
            vhost: b"",
            forwarded_for: b"",
            tls: b"",
            response_time_us: NO_RESPONSE_TIME,
            cookie: b"",
        }
    }
}

/// The request as the format logs it.
///
/// Most formats log the request line (`GET /a?b HTTP/1.1`) as one field; W3C and the JSON
/// formats log its parts apart. Parts are kept apart here (no allocation per line) and put
/// together as `METHOD target?query PROTOCOL` once per distinct request when the line is
/// interned, so enrich always sees request lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    Line(&'a [u8]),
    Parts {
        method: &'a [u8],
        /// The path (W3C `cs-uri-stem`), or a target with its query (JSON `uri`).
        target: &'a [u8],
        /// The query without `?`, when logged apart (W3C `cs-uri-query`).
        query: &'a [u8],
        protocol: &'a [u8],
    },
}

impl Request<'_> {
    /// Writes the request line into `out` (cleared first). `coding` applies to the query.
    pub fn write_line(&self, coding: TextCoding, out: &mut Vec<u8>) {
        out.clear();
        match *self {
            Request::Line(line) => out.extend_from_slice(line),
            Request::Parts {
                method,
                target,
                query,
                protocol,
            } => {
                // A format without a method field (SHOUTcast's W3C, a `--log-format` with
                // the path alone) gets `-`, which page views count as a GET.
                out.extend_from_slice(if method.is_empty() { b"-" } else { method });
                out.push(b' ');
                out.extend_from_slice(target);
                if !query.is_empty() {
                    out.push(b'?');
                    coding.decode_query_into(query, out);
                }
                if !protocol.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(protocol);
                }
            }
        }
    }

    /// The request line as owned bytes (tests and samples; the hot loop uses [`write_line`]).
    ///
    /// [`write_line`]: Request::write_line
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_line(TextCoding::AsLogged, &mut out);
        out
    }
}

/// Encodings some formats put on text fields on top of what enrich resolves anyway
/// (`\"`, `\\`, `\xhh`, JSON's `\uXXXX`). Decoded when the line is interned, once per
/// distinct spelling in a chunk, so the dictionaries hold the text as the client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextCoding {
    #[default]
    AsLogged,
    /// W3C: spaces in the user agent are written as `+` (IIS), other bytes as `%hh`
    /// (SHOUTcast writes `NSPlayer%2F10.0`); in the query, only `+` is read as a space.
    PlusForSpace,
    /// CloudFront: user agent, referrer and query are percent-encoded once more.
    Percent,
}

impl TextCoding {
    /// Appends `field` decoded to `out`.
    pub fn decode_into(self, field: &[u8], out: &mut Vec<u8>) {
        match self {
            TextCoding::AsLogged => out.extend_from_slice(field),
            TextCoding::PlusForSpace => percent_decode_into(field, true, out),
            TextCoding::Percent => percent_decode_into(field, false, out),
        }
    }

    /// Appends a query logged apart from its path to `out`: a W3C query keeps its `%hh`
    /// (they are the URL's own: `q=a%26b` is one parameter).
    pub fn decode_query_into(self, query: &[u8], out: &mut Vec<u8>) {
        match self {
            TextCoding::PlusForSpace => {
                out.extend(query.iter().map(|&b| if b == b'+' { b' ' } else { b }))
            }
            coding => coding.decode_into(query, out),
        }
    }

    /// Whether the referrer is encoded (the user agent is whenever this is not `AsLogged`).
    pub fn applies_to_referrer(self) -> bool {
        self == TextCoding::Percent
    }
}

/// `%hh` → the byte (and `+` → a space when `plus`); anything else as it is.
fn percent_decode_into(field: &[u8], plus: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < field.len() {
        if plus && field[i] == b'+' {
            out.push(b' ');
            i += 1;
            continue;
        }
        if field[i] == b'%'
            && let (Some(h), Some(l)) = (
                field.get(i + 1).and_then(|&c| hex_value(c)),
                field.get(i + 2).and_then(|&c| hex_value(c)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(field[i]);
        i += 1;
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Log formats accesslens reads. `--format` names them; without it each file's format is
/// detected from its first lines (see [`detect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Apache/Nginx combined: `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`.
    #[default]
    Combined,
    /// NCSA common: `%h %l %u %t "%r" %>s %b`.
    Common,
    /// Combined with the virtual host first: `%v:%p %h %l %u %t …` or `%v %h …`.
    VCombined,
    /// Common with the virtual host first.
    VCommon,
    /// Combined plus `$request_time $upstream_response_time`.
    Nginx,
    /// W3C extended (IIS and others), laid out by its `#Fields:` lines.
    W3c,
    /// AWS Classic Load Balancer.
    Elb,
    /// AWS Application Load Balancer.
    Alb,
    /// Amazon CloudFront standard logs (tab-separated W3C).
    CloudFront,
    /// Amazon S3 server access logs.
    S3,
    /// Caddy's JSON access log.
    Caddy,
    /// Traefik's JSON access log.
    Traefik,
    /// HAProxy's HTTP log format, with or without a syslog prefix.
    Haproxy,
    /// The user's own Apache or nginx format string (`--log-format`), compiled into a
    /// [`CustomFormat`]; never detected.
    Custom,
}

impl Format {
    /// Every format, in the order detection prefers them when several read a sample equally
    /// well: specific formats first, generic ones last.
    pub const ALL: [Format; 13] = [
        Format::Alb,
        Format::Elb,
        Format::S3,
        Format::CloudFront,
        Format::Caddy,
        Format::Traefik,
        Format::Haproxy,
        Format::W3c,
        Format::VCombined,
        Format::VCommon,
        Format::Nginx,
        Format::Combined,
        Format::Common,
    ];
    // `vcombined` and `combined` come before `vcommon` and `common`: they read common lines
    // whole, so a common log is read as combined (as it was before detection existed).

    /// Parses one line (without its line terminator) of a format that needs no state.
    /// W3C formats need the `#Fields:` in effect, and `Custom` its compiled format: use a
    /// [`LineParser`].
    #[inline]
    pub fn parse<'a>(self, line: &'a [u8]) -> Result<LogLine<'a>, Malformed> {
        match self {
            Format::Combined => clf::parse(line, true),
            Format::Common => clf::parse(line, false),
            Format::VCombined => clf::parse_vhost(line, true),
            Format::VCommon => clf::parse_vhost(line, false),
            Format::Nginx => clf::parse_nginx(line),
            Format::Elb => aws::parse_elb(line),
            Format::Alb => aws::parse_alb(line),
            Format::S3 => aws::parse_s3(line),
            Format::Caddy => jsonlog::parse_caddy(line),
            Format::Traefik => jsonlog::parse_traefik(line),
            Format::Haproxy => haproxy::parse(line),
            Format::W3c => Err(Malformed::NoFieldsHeader),
            Format::Custom => Err(Malformed::NotFormatText),
            Format::CloudFront => {
                static LAYOUT: std::sync::OnceLock<W3cLayout> = std::sync::OnceLock::new();
                LAYOUT.get_or_init(W3cLayout::cloudfront).parse(line)
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::Common => "common",
            Format::VCombined => "vcombined",
            Format::VCommon => "vcommon",
            Format::Nginx => "nginx",
            Format::W3c => "w3c",
            Format::Elb => "elb",
            Format::Alb => "alb",
            Format::CloudFront => "cloudfront",
            Format::S3 => "s3",
            Format::Caddy => "caddy",
            Format::Traefik => "traefik",
            Format::Haproxy => "haproxy",
            Format::Custom => "custom",
        }
    }

    /// Whether a line this format parsed counts for it in detection (see
    /// [`clf::ends_after_size`]: `common` must not win combined logs).
    fn counts_in_detection(self, line: &[u8]) -> bool {
        match self {
            Format::Common => clf::ends_after_size(line, false),
            Format::VCommon => clf::ends_after_size(line, true),
            _ => true,
        }
    }

    /// Whether `#Fields:` lines lay out the lines that follow (and `#` lines are directives).
    pub fn is_w3c(self) -> bool {
        matches!(self, Format::W3c | Format::CloudFront)
    }

    /// What the format's timestamps say about their zone.
    pub fn clock(self) -> Clock {
        match self {
            Format::Combined
            | Format::Common
            | Format::VCombined
            | Format::VCommon
            | Format::Nginx
            | Format::S3 => Clock::Logged,
            Format::Haproxy => Clock::Unzoned,
            Format::W3c
            | Format::CloudFront
            | Format::Elb
            | Format::Alb
            | Format::Caddy
            | Format::Traefik
            // A custom format's times carry an offset when it logs one (`%t`), and are UTC
            // epochs otherwise (`%{msec}t`, `$msec`).
            | Format::Custom => Clock::Utc,
        }
    }
}

/// How a format writes the zone of its times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Each time carries its offset (`+0900`): `--tz` changes nothing.
    Logged,
    /// Times are UTC by definition (W3C, AWS, JSON epochs): `--tz` names the clock that
    /// hours and days are reported on (a time logged with an offset keeps it).
    Utc,
    /// Times are the server's local clock with no zone written (HAProxy's accept dates, a
    /// W3C layout's `date-local`/`time-local`): `--tz` names that clock; without it they
    /// are taken as UTC.
    Unzoned,
}

impl Clock {
    /// `time` as parsed, put on the clock `tz` (minutes east of UTC) names.
    #[inline]
    pub fn apply(self, time: LogTime, tz: i16) -> LogTime {
        match self {
            Clock::Logged => time,
            // A time that came with its own offset keeps it.
            Clock::Utc if time.offset_min != 0 => time,
            Clock::Utc => LogTime {
                utc_ms: time.utc_ms,
                offset_min: tz,
            },
            Clock::Unzoned => LogTime {
                utc_ms: time.utc_ms - i64::from(tz) * 60_000,
                offset_min: tz,
            },
        }
    }
}

/// What one line is.
// Returned by value and matched at once; boxing the hit would allocate per line.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    Hit(LogLine<'a>),
    /// A W3C directive (`#Fields:`, `#Version:`, …): neither a hit nor malformed.
    Directive,
}

/// Parses the lines of one stretch of input in order: carries the W3C layout from one
/// `#Fields:` line to the lines after it, and the day from one `#Date:` line (for layouts
/// with no `date` field). Other formats are stateless and go straight to
/// [`Format::parse`].
///
/// A custom format (an Apache `LogFormat` or nginx `log_format` string) is compiled once
/// into a [`CustomFormat`], shared by the parsers of every chunk.
pub struct LineParser {
    format: Format,
    layout: Option<W3cLayout>,
    /// The time of the W3C `#Date:` directive in effect, milliseconds since the epoch.
    started: Option<i64>,
    custom: Option<Arc<CustomFormat>>,
    /// The cookie that identifies visitors, read from W3C's `cs(Cookie)`.
    visitor_cookie: Option<Arc<str>>,
}

impl LineParser {
    /// A parser for `format`; `fields` is the `#Fields:` line in effect where parsing starts
    /// (W3C formats only).
    pub fn new(format: Format, fields: Option<&[u8]>) -> LineParser {
        let layout = match (format, fields) {
            (Format::W3c | Format::CloudFront, Some(line)) => {
                W3cLayout::from_fields_line(line, format)
            }
            (Format::CloudFront, None) => Some(W3cLayout::cloudfront()),
            _ => None,
        };
        LineParser {
            format,
            layout,
            started: None,
            custom: None,
            visitor_cookie: None,
        }
    }

    /// A parser for a compiled custom format.
    pub fn custom(compiled: Arc<CustomFormat>) -> LineParser {
        LineParser {
            format: Format::Custom,
            layout: None,
            started: None,
            custom: Some(compiled),
            visitor_cookie: None,
        }
    }

    /// `date` is the W3C `#Date:` line in effect where parsing starts: it dates the lines
    /// of a layout with a `time` and no `date` field.
    pub fn with_w3c_date(mut self, date: Option<&[u8]>) -> LineParser {
        self.started = date.and_then(time::parse_w3c_started);
        self
    }

    /// Reads the value of cookie `name` from W3C's `cs(Cookie)` field into
    /// [`LogLine::cookie`] (`--visitor-key cookie:NAME`). A custom format names its cookie
    /// when it is compiled; other formats log no cookies.
    pub fn with_visitor_cookie(mut self, name: Option<Arc<str>>) -> LineParser {
        self.visitor_cookie = name;
        self
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// What the times of the lines it reads now say about their zone: the format's, or for
    /// W3C the layout's in effect (IIS's `date-local` is the server's clock).
    #[inline]
    pub fn clock(&self) -> Clock {
        match &self.layout {
            Some(layout) => layout.clock(),
            None => self.format.clock(),
        }
    }

    #[inline]
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Result<Parsed<'a>, Malformed> {
        if !self.format.is_w3c() {
            if let Some(custom) = &self.custom {
                return custom.parse(line).map(Parsed::Hit);
            }
            return self.format.parse(line).map(Parsed::Hit);
        }
        if line.starts_with(b"#") {
            if let Some(layout) = W3cLayout::from_fields_line(line, self.format) {
                self.layout = Some(layout);
            } else if line.starts_with(b"#Date:") {
                // One that does not read leaves the lines after it undated, rather than
                // on an older directive's day.
                self.started = time::parse_w3c_started(line);
            }
            return Ok(Parsed::Directive);
        }
        match &self.layout {
            Some(layout) => layout
                .parse_with(
                    line,
                    self.visitor_cookie.as_deref().map(str::as_bytes),
                    self.started,
                )
                .map(Parsed::Hit),
            None => Err(Malformed::NoFieldsHeader),
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
    BadIsoTimestamp,
    BadEpochTimestamp,
    NoRequest,
    UnterminatedRequest,
    BadStatus,
    BadBytes,
    UnterminatedReferrer,
    UnterminatedUserAgent,
    NoVirtualHost,
    BadResponseTime,
    NoFieldsHeader,
    FieldCount,
    W3cNoDateTime,
    W3cNoDate,
    W3cMissingFields,
    MissingFields,
    NotHttp,
    UnknownAlbType,
    BadJson,
    JsonMissingField,
    HaproxyNoFrontend,
    HaproxyBadTimers,
    NotFormatText,
}

impl Malformed {
    pub fn describe(self) -> &'static str {
        match self {
            Malformed::NoClient => "no client address at the start of the line",
            Malformed::NoTimestamp => "no [timestamp]",
            Malformed::BadTimestamp => "timestamp is not dd/Mon/yyyy:HH:MM:SS +zzzz",
            Malformed::BadIsoTimestamp => {
                "timestamp is not ISO 8601 UTC (2026-10-10T13:55:36.123Z)"
            }
            Malformed::BadEpochTimestamp => "timestamp is not seconds since 1970 (1791640536.25)",
            Malformed::NoRequest => "no quoted request after the timestamp",
            Malformed::UnterminatedRequest => "request has no closing quote before the status",
            Malformed::BadStatus => "status is not a three-digit number",
            Malformed::BadBytes => "response size is neither a number nor -",
            Malformed::UnterminatedReferrer => "referrer is not a quoted field",
            Malformed::UnterminatedUserAgent => "user agent is not a quoted field",
            Malformed::NoVirtualHost => {
                "no virtual host before the client (expected vhost client ident user [time])"
            }
            Malformed::BadResponseTime => {
                "response times after the user agent are not seconds or - (nginx: $request_time $upstream_response_time)"
            }
            Malformed::NoFieldsHeader => "no #Fields: header before this W3C line",
            Malformed::FieldCount => "fewer fields than the #Fields: header names",
            Malformed::W3cNoDateTime => "no valid date and time fields (W3C yyyy-mm-dd, HH:MM:SS)",
            Malformed::W3cNoDate => {
                "the #Fields: header has a time but no date, and no #Date: directive before this line gives the day"
            }
            Malformed::W3cMissingFields => {
                "the #Fields: header lacks a field a hit needs (time, c-ip, sc-status or c-status, cs-uri-stem or cs-uri, and a date with time-local)"
            }
            Malformed::MissingFields => "fewer fields than the format has",
            Malformed::NotHttp => "not an HTTP request (a TCP connection or no request line)",
            Malformed::UnknownAlbType => {
                "first field is not an ALB type (http, https, h2, grpcs, ws, wss)"
            }
            Malformed::BadJson => "not a JSON object on one line",
            Malformed::JsonMissingField => {
                "JSON object lacks a field the format needs (time, client, request or status)"
            }
            Malformed::HaproxyNoFrontend => {
                "no client:port [accept date] frontend backend/server at the start (after any syslog prefix)"
            }
            Malformed::HaproxyBadTimers => {
                "timers are not TR/Tw/Tc/Tr/Ta numbers before the status"
            }
            Malformed::NotFormatText => "the text around the fields is not the format's",
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

/// A fixed sequence of numbers (xorshift64 from `seed`), each below the bound it is asked
/// for: test lines that are varied but the same on every run.
#[cfg(test)]
pub(crate) fn numbers(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |below| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    }
}

/// `base` and every line one edit away from it: each byte removed, and each byte replaced
/// by or preceded by each of `specials`. For tests that compare a fast reading of lines
/// with a plain one.
#[cfg(test)]
pub(crate) fn one_edit_away(base: &[u8], specials: &[u8]) -> Vec<Vec<u8>> {
    let mut variants = vec![base.to_vec()];
    for i in 0..base.len() {
        let mut cut = base.to_vec();
        cut.remove(i);
        variants.push(cut);
        for &c in specials {
            let mut changed = base.to_vec();
            changed[i] = c;
            variants.push(changed);
            let mut longer = base.to_vec();
            longer.insert(i, c);
            variants.push(longer);
        }
    }
    variants
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
