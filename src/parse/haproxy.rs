//! HAProxy's HTTP log format (`option httplog`), with or without a syslog prefix:
//!
//! ```text
//! Oct 10 13:55:36 lb1 haproxy[812]: 203.0.113.7:51234 [10/Oct/2026:13:55:36.120] www~ app/web1 0/0/1/12/13 200 2326 - - ---- 3/3/0/0/0 0/0 {https://ref/|Mozilla/5.0} "GET /a.html HTTP/1.1"
//! ```
//!
//! The accept date has no time zone: it is taken as UTC. The response time is `Ta` (`Tt`
//! before HAProxy 1.5), the last of the five timers, in milliseconds. HAProxy logs no
//! referrer or user agent unless told to capture request headers; when the line has a
//! captured-request-headers block (`{…|…}`), its first value is read as the referrer and its
//! second as the user agent, so capture them in that order:
//!
//! ```text
//! http-request capture req.hdr(Referer) len 256
//! http-request capture req.hdr(User-Agent) len 256
//! ```

use memchr::{memchr, memchr2};

use super::aws::three_digits;
use super::clf::dash_is_empty;
use super::time::parse_clf_time_utc;
use super::tokens::{Tokens, find_byte};
use super::{AGENT_NOT_LOGGED, LogLine, Malformed, NO_RESPONSE_TIME, Request};

pub(super) fn parse(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    // A syslog prefix (`Oct 10 13:55:36 host haproxy[812]: `) starts with a month's three
    // letters and a space, where a client's `address:port` cannot be three bytes: such a
    // line goes straight to the search for the prefix's end.
    if line.get(3) != Some(&b' ') {
        match parse_from(line) {
            Err(Malformed::HaproxyNoFrontend) => {}
            other => return other,
        }
    }
    let after = after_prefix(line).ok_or(Malformed::HaproxyNoFrontend)?;
    parse_from(&line[after..])
}

/// Where the line starts after a syslog prefix: after its first `: `.
fn after_prefix(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let colon = from + find_byte(b':', &line[from..])?;
        if line.get(colon + 1) == Some(&b' ') {
            return Some(colon + 2);
        }
        from = colon + 1;
    }
}

fn parse_from(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut t = Tokens::new(line);
    let client = t.next().ok_or(Malformed::HaproxyNoFrontend)?;
    let colon = client
        .iter()
        .rposition(|&b| b == b':')
        .ok_or(Malformed::HaproxyNoFrontend)?;
    let port = &client[colon + 1..];
    if colon == 0 || port.is_empty() || !port.iter().all(u8::is_ascii_digit) {
        return Err(Malformed::HaproxyNoFrontend);
    }
    let client = &client[..colon];
    if !t.rest().starts_with(b"[") {
        return Err(Malformed::HaproxyNoFrontend);
    }
    let date = t.next().ok_or(Malformed::NoTimestamp)?;
    let time = accept_date(date)?;
    t.skip(1).ok_or(Malformed::HaproxyNoFrontend)?;
    let backend = t.next().ok_or(Malformed::HaproxyNoFrontend)?;
    if !backend.contains(&b'/') {
        return Err(Malformed::HaproxyNoFrontend);
    }
    let timers = t.next().ok_or(Malformed::HaproxyBadTimers)?;
    let response_time_us = total_time(timers)?;
    let status = three_digits(t.next().ok_or(Malformed::BadStatus)?)?;
    let bytes = t.next().ok_or(Malformed::BadBytes)?;
    let bytes = super::aws::size(bytes.strip_prefix(b"+").unwrap_or(bytes))?;
    // Cookies, termination state, connection counts, queues.
    t.skip(5).ok_or(Malformed::MissingFields)?;

    let mut rest = t.rest();
    // HAProxy writes captured request headers before response headers: the first block is
    // read as the request's (a configuration capturing response headers only is misread).
    let mut headers: (&[u8], &[u8]) = (b"", AGENT_NOT_LOGGED);
    if let Some(block) = rest.strip_prefix(b"{") {
        let (referrer, agent, end) = first_two_values(block).ok_or(Malformed::MissingFields)?;
        headers = (referrer, agent);
        rest = block[end + 1..].trim_ascii_start();
    }
    while let Some(block) = rest.strip_prefix(b"{") {
        let end = memchr(b'}', block).ok_or(Malformed::MissingFields)?;
        rest = block[end + 1..].trim_ascii_start();
    }
    let request = Tokens::new(rest)
        .next()
        .filter(|_| rest.starts_with(b"\""))
        .ok_or(Malformed::NoRequest)?;

    let mut parsed = LogLine::new(client, time, Request::Line(request), status);
    parsed.bytes = bytes;
    parsed.response_time_us = response_time_us;
    parsed.referrer = dash_is_empty(headers.0);
    parsed.user_agent = dash_is_empty(headers.1);
    Ok(parsed)
}

/// `10/Oct/2026:13:55:36.120`, no zone: read as UTC.
fn accept_date(date: &[u8]) -> Result<super::LogTime, Malformed> {
    parse_clf_time_utc(date).map_err(|_| Malformed::BadTimestamp)
}

/// A referrer, a user agent and where their block ends.
type Values<'a> = (&'a [u8], &'a [u8], usize);

/// The first two `|`-separated values of a captured-headers block (`block` starts after its
/// `{`) and the index of its closing `}`, in one pass: the user agent, long, is searched
/// once by memchr.
fn first_two_values(block: &[u8]) -> Option<Values<'_>> {
    let first = memchr2(b'|', b'}', block)?;
    if block[first] == b'}' {
        // One header captured: the referrer; the user agent is not logged.
        return Some((&block[..first], AGENT_NOT_LOGGED, first));
    }
    let from = first + 1;
    let second = from + memchr2(b'|', b'}', &block[from..])?;
    let end = match block[second] {
        b'}' => second,
        _ => second + 1 + memchr(b'}', &block[second + 1..])?,
    };
    Some((&block[..first], &block[from..second], end))
}

/// `TR/Tw/Tc/Tr/Ta` → `Ta` in microseconds (`-1`, an aborted phase, gives none). Each timer
/// is digits after an optional `+` (a total logged with `option logasap`) and `-`: checked
/// in one pass, each byte against the one before it.
fn total_time(timers: &[u8]) -> Result<u32, Malformed> {
    let mut count = 1;
    let mut last = 0;
    // A timer starts after a `/`: the field starts as if after one.
    let mut prev = b'/';
    for (i, &b) in timers.iter().enumerate() {
        let fits = match b {
            b'0'..=b'9' => true,
            b'/' => {
                count += 1;
                last = i + 1;
                prev.is_ascii_digit()
            }
            b'+' => prev == b'/',
            // After a `+`, that `+` began the timer.
            b'-' => prev == b'/' || prev == b'+',
            _ => false,
        };
        if !fits {
            return Err(Malformed::HaproxyBadTimers);
        }
        prev = b;
    }
    if count != 5 || !prev.is_ascii_digit() {
        return Err(Malformed::HaproxyBadTimers);
    }
    let last = &timers[last..];
    if last.starts_with(b"-") {
        return Ok(NO_RESPONSE_TIME);
    }
    let ms = last.strip_prefix(b"+").unwrap_or(last);
    let (ms, _) = super::clf::number_field(ms, 0);
    Ok(ms.saturating_mul(1000).min(u64::from(NO_RESPONSE_TIME - 1)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_give_the_last_one_or_say_why_not() {
        let bad = Err(Malformed::HaproxyBadTimers);
        let cases: [(&[u8], Result<u32, Malformed>); 16] = [
            (b"0/0/1/12/13", Ok(13_000)),
            (b"10/0/30/69/109", Ok(109_000)),
            (b"0/0/1/12/+13", Ok(13_000)),
            (b"-1/-1/-1/-1/+5", Ok(5_000)),
            (b"0/0/1/12/-1", Ok(NO_RESPONSE_TIME)),
            (b"0/0/1/12/99999999999999", Ok(NO_RESPONSE_TIME - 1)),
            (b"+-1/0/0/0/7", Ok(7_000)),
            (b"0/0/1/12", bad),
            (b"0/0/1/12/13/14", bad),
            (b"0//1/12/13", bad),
            (b"0/0/1/12/", bad),
            (b"/0/0/1/12", bad),
            (b"0/0/1/12/1x", bad),
            (b"0/0/-+1/12/13", bad),
            (b"0/0/1/12/-", bad),
            (b"", bad),
        ];
        for (timers, want) in cases {
            assert_eq!(
                total_time(timers),
                want,
                "{}",
                String::from_utf8_lossy(timers)
            );
        }
    }

    #[test]
    fn any_syslog_prefix_is_passed_over() {
        const LINE: &str = "203.0.113.7:51234 [10/Oct/2026:13:55:36.120] www~ app/web1 \
                            0/0/1/12/13 200 5120 - - ---- 3/3/0/0/0 0/0 \"GET /a HTTP/1.1\"";
        fn read(line: &str) -> Result<(&[u8], i64, u16, u64), Malformed> {
            parse(line.as_bytes()).map(|l| (l.client, l.time.utc_ms, l.status, l.bytes))
        }
        let want = read(LINE).expect("the line without a prefix reads");
        assert_eq!((want.0, want.2, want.3), (&b"203.0.113.7"[..], 200, 5120));
        for prefix in [
            "Oct 10 13:55:36 lb1 haproxy[812]: ",
            "Oct  1 03:05:06 lb1 haproxy[812]: ",
            "<134>Oct 10 13:55:36 lb1 haproxy[812]: ",
            "2026-10-10T13:55:36+00:00 lb1 haproxy[812]: ",
            "<134>1 2026-10-10T13:55:36.120Z lb1 haproxy 812 - - : ",
        ] {
            assert_eq!(read(&format!("{prefix}{LINE}")), Ok(want), "{prefix:?}");
        }
        for line in [
            "Oct 10 13:55:36 lb1 haproxy[812] no colon",
            "Oct",
            "",
            "a: b",
        ] {
            assert_eq!(read(line), Err(Malformed::HaproxyNoFrontend), "{line:?}");
        }
    }

    #[test]
    fn captured_headers_give_the_first_two_values() {
        let cases: [(&[u8], Option<Values<'_>>); 7] = [
            (
                b"https://ref/|Mozilla/5.0} \"GET",
                Some((b"https://ref/", b"Mozilla/5.0", 24)),
            ),
            (b"|curl/8.5.0}", Some((b"", b"curl/8.5.0", 11))),
            (b"ref|agent|en-US|x} ", Some((b"ref", b"agent", 17))),
            (b"ref}", Some((b"ref", AGENT_NOT_LOGGED, 3))),
            (b"}", Some((b"", AGENT_NOT_LOGGED, 0))),
            (b"ref|agent", None),
            (b"ref|agent|more", None),
        ];
        for (block, want) in cases {
            assert_eq!(
                first_two_values(block),
                want,
                "{}",
                String::from_utf8_lossy(block)
            );
        }
    }
}
