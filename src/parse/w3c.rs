//! W3C extended log files (IIS, CloudFront, NetScaler, SHOUTcast and others):
//!
//! ```text
//! #Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status sc-bytes time-taken cs(User-Agent) cs(Referer)
//! 2026-10-10 13:55:36 203.0.113.7 GET /a.html q=1 200 2326 15 Mozilla/5.0+(X11) https://ref/
//! ```
//!
//! A `#Fields:` directive names the fields of the lines after it, until the next one; it may
//! come back mid-file with other fields (IIS starts a new header when its settings change or
//! a server restarts). Its names are compiled once into a [`W3cLayout`], a list of what each
//! column is, so a data line is one walk over its separators. Fields are separated by spaces
//! (runs of spaces count as one) or, when the line's first separator is a tab, by tabs
//! (CloudFront); a field may be quoted (`"a b"`). `-` is absent. `date` and `time` are UTC
//! (the W3C draft says so); IIS's `date-local`/`time-local` are the server's clock with no
//! zone written, read on `--tz` ([`Clock::Unzoned`]), as UTC without it.
//! A layout with a `time` but no `date` (IIS 5's default fields) takes the day from the
//! `#Date:` directive before its lines, the time the log was started: each time is placed
//! in the day that starts ten minutes before the directive (see [`w3c_time_after`]). A
//! `time-local` needs a date column: the directive's time is UTC.
//! `time-taken` is milliseconds when it is a whole number (IIS) and seconds when it has a
//! fraction (CloudFront, the W3C draft).

use memchr::memchr;

use super::clf::{dash_is_empty, number_field, seconds_to_us};
use super::simd::{Marks, first_of_two};
use super::time::{parse_w3c_date_time, w3c_time_after};
use super::{
    AGENT_NOT_LOGGED, Clock, Format, LogLine, Malformed, NO_RESPONSE_TIME, Request, TextCoding,
};

/// What a W3C column holds, as far as accesslens reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    Date,
    Time,
    Client,
    User,
    Method,
    UriStem,
    UriQuery,
    /// `cs-uri`: the target with its query.
    Uri,
    Status,
    Bytes,
    Referrer,
    UserAgent,
    /// `cs-host`, `cs(Host)`.
    Host,
    /// `x-host-header` (CloudFront: the host the viewer asked for, where `cs(Host)` is the
    /// distribution's name); wins over `Host`.
    HostHeader,
    Protocol,
    TimeTaken,
    TimeTakenMs,
    ForwardedFor,
    Tls,
    /// `cs(Cookie)`: the Cookie header, from which the visitor cookie is taken.
    Cookie,
    Ignored,
}

/// How many [`Field`] kinds there are (the size of a line's slot table).
const KINDS: usize = Field::Ignored as usize + 1;

impl Field {
    fn from_name(name: &[u8]) -> Field {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"date" | b"date-local" => Field::Date,
            b"time" | b"time-local" => Field::Time,
            b"c-ip" => Field::Client,
            b"cs-username" => Field::User,
            b"cs-method" => Field::Method,
            b"cs-uri-stem" => Field::UriStem,
            b"cs-uri-query" => Field::UriQuery,
            b"cs-uri" => Field::Uri,
            // SHOUTcast writes the status as `c-status`.
            b"sc-status" | b"c-status" => Field::Status,
            b"sc-bytes" => Field::Bytes,
            b"cs(referer)" | b"cs(referrer)" => Field::Referrer,
            b"cs(user-agent)" | b"c-user-agent" => Field::UserAgent,
            b"cs-host" | b"cs(host)" => Field::Host,
            b"x-host-header" => Field::HostHeader,
            b"cs-version" | b"cs-protocol-version" => Field::Protocol,
            b"time-taken" => Field::TimeTaken,
            b"timetakenms" => Field::TimeTakenMs,
            b"x-forwarded-for" | b"cs(x-forwarded-for)" => Field::ForwardedFor,
            b"ssl-protocol" => Field::Tls,
            b"cs(cookie)" => Field::Cookie,
            _ => Field::Ignored,
        }
    }
}

/// The columns named by one `#Fields:` line, compiled for parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct W3cLayout {
    columns: Vec<Field>,
    /// Columns up to the last one read: a line may stop after it.
    needed: usize,
    /// Tabs only (CloudFront), or tabs when the line's first separator is one and spaces
    /// otherwise.
    tabs_only: bool,
    /// The columns name every field a hit needs: the time, client, status and target (and
    /// a date when the time is `time-local`).
    complete: bool,
    /// The columns have a date; without one, the `#Date:` directive gives the day.
    dated: bool,
    /// The date or time is the server's local one (`date-local`, `time-local`).
    local: bool,
    coding: TextCoding,
}

/// CloudFront's standard log fields, used when a file has no `#Fields:` line of its own.
const CLOUDFRONT_FIELDS: &[u8] = b"#Fields: date time x-edge-location sc-bytes c-ip cs-method \
    cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) \
    x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken \
    x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version \
    fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type \
    sc-content-type sc-content-len sc-range-start sc-range-end";

impl W3cLayout {
    /// Compiles a `#Fields:` line; `None` when `line` is not one.
    pub fn from_fields_line(line: &[u8], format: Format) -> Option<W3cLayout> {
        let names = line.strip_prefix(b"#Fields:")?;
        // The last column of each kind fills it: the clock is local when the date or time
        // read is a local one.
        let mut columns = Vec::new();
        let (mut local_date, mut local_time) = (false, false);
        for name in names
            .split(|b| b.is_ascii_whitespace())
            .filter(|n| !n.is_empty())
        {
            let field = Field::from_name(name);
            match field {
                Field::Date => local_date = name.eq_ignore_ascii_case(b"date-local"),
                Field::Time => local_time = name.eq_ignore_ascii_case(b"time-local"),
                _ => {}
            }
            columns.push(field);
        }
        let local = local_date || local_time;
        let needed = columns
            .iter()
            .rposition(|&f| f != Field::Ignored)
            .map_or(0, |i| i + 1);
        let has = |f: Field| columns.contains(&f);
        let dated = has(Field::Date);
        // A `time-local` with no date cannot take its day from `#Date:`, which is UTC.
        let complete = [Field::Time, Field::Client, Field::Status]
            .into_iter()
            .all(has)
            && (has(Field::UriStem) || has(Field::Uri))
            && (dated || !local_time);
        let cloudfront = format == Format::CloudFront;
        Some(W3cLayout {
            columns,
            needed,
            complete,
            dated,
            local,
            tabs_only: cloudfront,
            coding: if cloudfront {
                TextCoding::Percent
            } else {
                TextCoding::PlusForSpace
            },
        })
    }

    /// What the layout's times say about their zone: UTC, or the server's clock with no
    /// zone written (`date-local`, `time-local`).
    pub fn clock(&self) -> Clock {
        if self.local {
            Clock::Unzoned
        } else {
            Clock::Utc
        }
    }

    /// CloudFront's documented layout.
    pub fn cloudfront() -> W3cLayout {
        W3cLayout::from_fields_line(CLOUDFRONT_FIELDS, Format::CloudFront).expect("a #Fields: line")
    }

    /// Parses one data line (not a directive) of a layout that has a date.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<LogLine<'a>, Malformed> {
        self.parse_with(line, None, None)
    }

    /// Parses one data line; `visitor_cookie` names the cookie that identifies visitors
    /// (`--visitor-key cookie:NAME`), read from `cs(Cookie)` when the layout has it, and
    /// `started` is the time of the `#Date:` directive in effect (milliseconds since the
    /// epoch), which dates the lines of a layout without a `date` field.
    pub fn parse_with<'a>(
        &self,
        line: &'a [u8],
        visitor_cookie: Option<&[u8]>,
        started: Option<i64>,
    ) -> Result<LogLine<'a>, Malformed> {
        if !self.complete {
            return Err(Malformed::W3cMissingFields);
        }
        let mut slots: [&[u8]; KINDS] = [b""; KINDS];
        // Fields without a `cs(User-Agent)` log none: not the same as a logged `-`.
        slots[Field::UserAgent as usize] = AGENT_NOT_LOGGED;
        let mut ua_quoted = false;
        // The first separator tells: a tab, and the line is tab-separated. (Not "a tab
        // anywhere": that would search the whole line, and misread a space-separated line
        // whose user agent holds a tab.)
        let tabs =
            self.tabs_only || first_of_two(line, 0, b' ', b'\t').is_some_and(|i| line[i] == b'\t');
        let sep = if tabs { b'\t' } else { b' ' };
        // Every separator of the line, found in one pass; `mark` is the next one at or after
        // `pos`, the start of the next field. (A quote matters only where a field starts.)
        let mut marks = Marks::new(line, sep);
        let mut mark = marks.next();
        let mut pos = 0;
        for &field in &self.columns[..self.needed] {
            if !tabs {
                // Runs of spaces are one separator.
                while mark == Some(pos) {
                    pos += 1;
                    mark = marks.next();
                }
            }
            let value = match line.get(pos) {
                None => return Err(Malformed::FieldCount),
                Some(b'"') => {
                    let (value, next) =
                        quoted_field(line, pos, sep).ok_or(Malformed::FieldCount)?;
                    if field == Field::UserAgent {
                        ua_quoted = true;
                    }
                    pos = next;
                    marks.seek(pos);
                    mark = marks.next();
                    value
                }
                Some(_) => {
                    // The field ends at the next separator; a quote inside it is a byte.
                    let end = mark.unwrap_or(line.len());
                    let value = &line[pos..end];
                    pos = end + 1;
                    mark = marks.next();
                    value
                }
            };
            slots[field as usize] = dash_is_empty(value);
        }
        let slot = |f: Field| slots[f as usize];

        let time = if self.dated {
            parse_w3c_date_time(slot(Field::Date), slot(Field::Time))
        } else {
            w3c_time_after(started.ok_or(Malformed::W3cNoDate)?, slot(Field::Time))
        }
        .map_err(|_| Malformed::W3cNoDateTime)?;
        if slot(Field::Client).is_empty() {
            return Err(Malformed::NoClient);
        }
        let status = slot(Field::Status);
        let (code, end) = number_field(status, 0);
        if status.len() != 3 || end != 3 {
            return Err(Malformed::BadStatus);
        }
        let target = match slot(Field::UriStem) {
            b"" => slot(Field::Uri),
            stem => stem,
        };
        let request = Request::Parts {
            method: slot(Field::Method),
            target,
            query: slot(Field::UriQuery),
            protocol: slot(Field::Protocol),
        };
        let mut parsed = LogLine::new(slot(Field::Client), time, request, code as u16);
        parsed.bytes = size(slot(Field::Bytes))?;
        parsed.user = slot(Field::User);
        parsed.referrer = slot(Field::Referrer);
        parsed.user_agent = slot(Field::UserAgent);
        parsed.coding = match self.coding {
            TextCoding::PlusForSpace if ua_quoted => TextCoding::AsLogged,
            coding => coding,
        };
        parsed.vhost = match slot(Field::HostHeader) {
            b"" => slot(Field::Host),
            host => host,
        };
        parsed.forwarded_for = slot(Field::ForwardedFor);
        parsed.tls = slot(Field::Tls);
        parsed.response_time_us = response_time(slot(Field::TimeTaken), slot(Field::TimeTakenMs))?;
        if let Some(name) = visitor_cookie {
            parsed.cookie = logged_cookie_value(slot(Field::Cookie), name);
        }
        Ok(parsed)
    }
}

/// The value of cookie `name` in a logged Cookie header. W3C logs write the header's spaces
/// as `+` (IIS) or `%20` (CloudFront): `sid=abc;+_ga=GA1.2` holds `sid` and `_ga`. The
/// value is kept as logged. Empty when absent.
fn logged_cookie_value<'a>(header: &'a [u8], name: &[u8]) -> &'a [u8] {
    for part in header.split(|&b| b == b';') {
        let mut part = part;
        loop {
            part = match part {
                [b' ' | b'+', rest @ ..] | [b'%', b'2', b'0', rest @ ..] => rest,
                _ => break,
            };
        }
        if let Some(value) = part.strip_prefix(name).and_then(|r| r.strip_prefix(b"=")) {
            return value;
        }
    }
    b""
}

/// The quoted field that opens at `line[open]`: its value without the quotes and where the
/// field after it starts. It ends at a quote followed by `sep` or the end of the line.
fn quoted_field(line: &[u8], open: usize, sep: u8) -> Option<(&[u8], usize)> {
    let mut from = open + 1;
    while let Some(i) = memchr(b'"', &line[from..]) {
        let quote = from + i;
        match line.get(quote + 1) {
            None => return Some((&line[open + 1..quote], quote + 1)),
            Some(&b) if b == sep => return Some((&line[open + 1..quote], quote + 2)),
            _ => from = quote + 1,
        }
    }
    None
}

fn size(field: &[u8]) -> Result<u64, Malformed> {
    if field.is_empty() {
        return Ok(0);
    }
    let (value, end) = number_field(field, 0);
    if end != field.len() || end > 19 {
        return Err(Malformed::BadBytes);
    }
    Ok(value)
}

/// `time-taken` (whole milliseconds, or seconds with a fraction) or `TimeTakenMS`.
fn response_time(taken: &[u8], taken_ms: &[u8]) -> Result<u32, Malformed> {
    let (field, millis) = match (taken, taken_ms) {
        (b"", b"") => return Ok(NO_RESPONSE_TIME),
        (b"", ms) => (ms, true),
        // A few bytes: a loop, not a search's call.
        (t, _) => (t, !t.contains(&b'.')),
    };
    if !millis {
        return seconds_to_us(field).ok_or(Malformed::BadResponseTime);
    }
    let (ms, end) = number_field(field, 0);
    if end == 0 || end != field.len() {
        return Err(Malformed::BadResponseTime);
    }
    Ok(ms.saturating_mul(1000).min(u64::from(NO_RESPONSE_TIME - 1)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visitor_cookie_comes_from_cs_cookie() {
        let layout = W3cLayout::from_fields_line(
            b"#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(Cookie)",
            Format::W3c,
        )
        .unwrap();
        let line = b"2026-10-10 13:55:36 203.0.113.7 GET / 200 _ga=GA1.2.3;+sid=A-1;+x=2";
        assert_eq!(
            layout.parse_with(line, Some(b"sid"), None).unwrap().cookie,
            b"A-1"
        );
        assert_eq!(
            layout.parse_with(line, Some(b"_ga"), None).unwrap().cookie,
            b"GA1.2.3"
        );
        assert_eq!(
            layout.parse_with(line, Some(b"id"), None).unwrap().cookie,
            b""
        );
        assert_eq!(layout.parse(line).unwrap().cookie, b"", "no cookie named");
        let line = b"2026-10-10 13:55:36 203.0.113.7 GET / 200 -";
        assert_eq!(
            layout.parse_with(line, Some(b"sid"), None).unwrap().cookie,
            b""
        );
        // CloudFront writes the header's spaces as %20.
        assert_eq!(logged_cookie_value(b"a=1;%20sid=B", b"sid"), b"B");
        assert_eq!(logged_cookie_value(b"xsid=1; sid=C", b"sid"), b"C");
    }

    #[test]
    fn the_first_separator_says_tabs_or_spaces() {
        let layout = W3cLayout::from_fields_line(
            b"#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)",
            Format::W3c,
        )
        .unwrap();
        let tabs = layout
            .parse(b"2026-10-10\t13:55:36\t203.0.113.7\tGET\t/a b\t200\tMozilla/5.0 (X11)")
            .unwrap();
        let Request::Parts { target, .. } = tabs.request else {
            panic!("{:?}", tabs.request)
        };
        assert_eq!(
            (target, tabs.user_agent),
            (&b"/a b"[..], &b"Mozilla/5.0 (X11)"[..])
        );
        // A tab inside a space-separated line's last field does not make it tab-separated.
        let spaces = layout
            .parse(b"2026-10-10 13:55:36 203.0.113.7 GET /a 200 Mozilla/5.0+\t(X11)")
            .unwrap();
        assert_eq!(
            (spaces.status, spaces.user_agent),
            (200, &b"Mozilla/5.0+\t(X11)"[..])
        );
    }

    #[test]
    fn fields_are_split_as_written_at_every_length() {
        // Lines built from known field values (quoted or not, with quotes and high bytes
        // inside, long enough to cross the 64-byte steps), joined by runs of spaces or by
        // tabs: each value must come back as it went in.
        let layout = W3cLayout::from_fields_line(
            b"#Fields: date time c-ip cs-username cs-method cs-uri-stem cs-uri-query sc-status \
              sc-bytes cs(User-Agent) cs(Referer) cs-host",
            Format::W3c,
        )
        .unwrap();
        let mut next = crate::parse::numbers(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let tabs = round % 3 == 0;
            let sep: &[u8] = if tabs { b"\t" } else { b" " };
            let mut values: Vec<Vec<u8>> = Vec::new();
            let mut line = b"2026-10-10".to_vec();
            line.extend_from_slice(sep);
            line.extend_from_slice(b"13:55:36");
            for column in 0..10 {
                let len = [next(4), next(20), next(90)][next(3) as usize] as usize;
                let quoted = next(4) == 0;
                let mut value = Vec::new();
                while value.len() < len {
                    let byte = match next(12) {
                        0 => b'"',
                        1 => 0xc3,
                        2 if quoted || tabs => b' ',
                        3 if quoted || !tabs => b'\t',
                        n => b'a' + n as u8,
                    };
                    value.push(byte);
                    if byte == b'"' {
                        // A quote followed by a letter ends no field.
                        value.push(b'q');
                    }
                }
                if !quoted && value.first() == Some(&b'"') {
                    value[0] = b'x';
                }
                // The client is needed; the status and size must be numbers.
                match column {
                    0 if value.is_empty() => value.push(b'c'),
                    5 => value = b"404".to_vec(),
                    6 => value = b"17".to_vec(),
                    _ => {}
                }
                line.extend_from_slice(if tabs {
                    sep
                } else {
                    [&b" "[..], b"  ", b"   "][next(3) as usize]
                });
                match (quoted, value.is_empty()) {
                    (true, _) => line.extend([&b"\""[..], &value, b"\""].concat()),
                    (false, true) => line.push(b'-'),
                    (false, false) => line.extend_from_slice(&value),
                }
                values.push(value);
            }
            let hit = layout
                .parse(&line)
                .unwrap_or_else(|e| panic!("{e:?}: {}", String::from_utf8_lossy(&line)));
            let Request::Parts {
                method,
                target,
                query,
                ..
            } = hit.request
            else {
                panic!("{:?}", hit.request)
            };
            let want = |i: usize| dash_is_empty(&values[i]).to_vec();
            let got = [
                hit.client,
                hit.user,
                method,
                target,
                query,
                b"404",
                b"17",
                hit.user_agent,
                hit.referrer,
                hit.vhost,
            ];
            for (i, got) in got.iter().enumerate() {
                assert_eq!(
                    got.to_vec(),
                    want(i),
                    "column {i}: {}",
                    String::from_utf8_lossy(&line)
                );
            }
            assert_eq!((hit.status, hit.bytes), (404, 17));
        }
    }
}
