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

use memchr::{memchr, memchr_iter};

use super::aws::three_digits;
use super::clf::dash_is_empty;
use super::time::parse_clf_time;
use super::tokens::Tokens;
use super::{LogLine, Malformed, NO_RESPONSE_TIME, Request};

pub(super) fn parse(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    match parse_from(line) {
        // Behind a syslog prefix (`Oct 10 13:55:36 host haproxy[812]: `): start after it.
        // (`memmem::find` would build its searcher again for every line.)
        Err(Malformed::HaproxyNoFrontend) => {
            match memchr_iter(b':', line).find(|&i| line.get(i + 1) == Some(&b' ')) {
                Some(i) => parse_from(&line[i + 2..]),
                None => Err(Malformed::HaproxyNoFrontend),
            }
        }
        other => other,
    }
}

fn parse_from(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut t = Tokens::new(line);
    let client = t.next().ok_or(Malformed::HaproxyNoFrontend)?;
    let colon = memchr::memrchr(b':', client).ok_or(Malformed::HaproxyNoFrontend)?;
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
    if memchr(b'/', backend).is_none() {
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
    let mut captured: &[u8] = b"";
    let mut blocks = 0;
    while let Some(block) = rest.strip_prefix(b"{") {
        let end = memchr(b'}', block).ok_or(Malformed::MissingFields)?;
        if blocks == 0 {
            captured = &block[..end];
        }
        blocks += 1;
        rest = block[end + 1..].trim_ascii_start();
    }
    let request = Tokens::new(rest)
        .next()
        .filter(|_| rest.starts_with(b"\""))
        .ok_or(Malformed::NoRequest)?;

    let mut parsed = LogLine::new(client, time, Request::Line(request), status);
    parsed.bytes = bytes;
    parsed.response_time_us = response_time_us;
    // HAProxy writes captured request headers before response headers: the first block is
    // read as the request's (a configuration capturing response headers only is misread).
    let mut values = captured.split(|&b| b == b'|');
    parsed.referrer = dash_is_empty(values.next().unwrap_or_default());
    parsed.user_agent = dash_is_empty(values.next().unwrap_or_default());
    Ok(parsed)
}

/// `10/Oct/2026:13:55:36.120`, no zone: read as UTC.
fn accept_date(date: &[u8]) -> Result<super::LogTime, Malformed> {
    let mut buf = [0u8; 40];
    let len = date.len();
    if len > buf.len() - 6 {
        return Err(Malformed::BadTimestamp);
    }
    buf[..len].copy_from_slice(date);
    buf[len..len + 6].copy_from_slice(b" +0000");
    parse_clf_time(&buf[..len + 6]).map_err(|_| Malformed::BadTimestamp)
}

/// `TR/Tw/Tc/Tr/Ta` → `Ta` in microseconds (`-1`, an aborted phase, gives none).
fn total_time(timers: &[u8]) -> Result<u32, Malformed> {
    let mut count = 0;
    let mut last: &[u8] = b"";
    for part in timers.split(|&b| b == b'/') {
        let digits = part.strip_prefix(b"+").unwrap_or(part);
        let digits = digits.strip_prefix(b"-").unwrap_or(digits);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Malformed::HaproxyBadTimers);
        }
        count += 1;
        last = part;
    }
    if count != 5 {
        return Err(Malformed::HaproxyBadTimers);
    }
    if last.starts_with(b"-") {
        return Ok(NO_RESPONSE_TIME);
    }
    let ms = last.strip_prefix(b"+").unwrap_or(last);
    let (ms, _) = super::clf::number_field(ms, 0);
    Ok(ms.saturating_mul(1000).min(u64::from(NO_RESPONSE_TIME - 1)) as u32)
}
