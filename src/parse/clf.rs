//! The NCSA common and combined formats (Apache's and Nginx's defaults):
//!
//! ```text
//! 203.0.113.7 - frank [10/Oct/2026:13:55:36 +0900] "GET /a.html HTTP/1.1" 200 2326 "https://ref/" "Mozilla/5.0 …"
//! ```
//!
//! The scanner walks the line once: short fields (the client, the response times) are ended
//! by the eight-byte search of [`find_byte`], quoted ones by the sixteen-byte search for a
//! quote or backslash. Quoted fields end at a quote that is not
//! escaped (`\"`) *and* is followed by what the format puts next, so the unescaped quotes
//! that some servers write inside a request or user agent do not end the field early.
//! Anything after the user agent (extra fields some configurations append) is ignored,
//! except by the presets built on these formats: `vcombined`/`vcommon` (the virtual host
//! first) and `nginx` (two response times after the user agent).

use memchr::memchr;

use super::simd::quote_or_backslash;
use super::time::{digit_word, parse_clf_time};
use super::tokens::find_byte;
use super::{LogLine, Malformed, NO_RESPONSE_TIME, Request};

#[inline]
pub(super) fn parse(line: &[u8], combined: bool) -> Result<LogLine<'_>, Malformed> {
    parse_fields(line, combined).map(|(parsed, _)| parsed)
}

/// `%v:%p %h %l %u %t …` or `%v %h %l %u %t …`: the virtual host (its port dropped), then a
/// common or combined line. Exactly three fields must sit between the host and the `[`, so
/// a plain common or combined line is not taken for one with a virtual host.
pub(super) fn parse_vhost(line: &[u8], combined: bool) -> Result<LogLine<'_>, Malformed> {
    let host_end = find_byte(b' ', line).ok_or(Malformed::NoVirtualHost)?;
    if host_end == 0 {
        return Err(Malformed::NoVirtualHost);
    }
    let rest = &line[host_end + 1..];
    // The usual `client - - [` has the three fields; otherwise the spaces before the `[` are
    // counted (byte loops: a few dozen bytes, where memchr's calls cost more than a search).
    let usual = find_byte(b' ', rest).is_some_and(|c| c > 0 && rest[c..].starts_with(b" - - ["));
    if !usual {
        let open = (rest.iter().position(|&b| b == b'[')).ok_or(Malformed::NoTimestamp)?;
        let middle = rest[..open].trim_ascii_end();
        if middle.iter().filter(|&&b| b == b' ').count() != 2 {
            return Err(Malformed::NoVirtualHost);
        }
    }
    let (mut parsed, _) = parse_fields(rest, combined)?;
    parsed.vhost = &line[..host_end];
    Ok(parsed)
}

/// Combined, then `$request_time $upstream_response_time` (seconds; the upstream time may be
/// `-`, or a list such as `0.010, 0.020` or `0.010 : 0.020` when nginx tried several).
pub(super) fn parse_nginx(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let (mut parsed, end) = parse_fields(line, true)?;
    let tail = line.get(end..).unwrap_or_default();
    let tail = tail.strip_prefix(b" ").ok_or(Malformed::BadResponseTime)?;
    let split = find_byte(b' ', tail).ok_or(Malformed::BadResponseTime)?;
    parsed.response_time_us = seconds_to_us(&tail[..split]).ok_or(Malformed::BadResponseTime)?;
    let upstream = &tail[split + 1..];
    let valid = |b: &u8| matches!(b, b'0'..=b'9' | b'.' | b'-' | b',' | b' ' | b':');
    if upstream.is_empty() || !upstream.iter().all(valid) {
        return Err(Malformed::BadResponseTime);
    }
    Ok(parsed)
}

/// Whether a common (or, with `vhost`, vcommon) line ends after its size. Detection counts
/// only such lines for these formats: `common` reads any combined line too (dropping its
/// referrer and user agent), so it must not win a combined log with a few damaged lines.
pub(super) fn ends_after_size(line: &[u8], vhost: bool) -> bool {
    let rest = if vhost {
        memchr(b' ', line).map_or(&line[line.len()..], |i| &line[i + 1..])
    } else {
        line
    };
    parse_fields(rest, false)
        .is_ok_and(|(_, end)| rest.get(end..).unwrap_or_default().trim_ascii().is_empty())
}

/// `host:port` → `host` (a name or IPv4 address; `[IPv6]:port` → the address without
/// brackets; a bare IPv6 address is left whole).
pub fn strip_port(host: &[u8]) -> &[u8] {
    // `[2001:db8::1]:443` → `2001:db8::1`, as clients are kept.
    if let Some(inside) = host.strip_prefix(b"[")
        && let Some(end) = inside.iter().position(|&b| b == b']')
    {
        return &inside[..end];
    }
    // A host name is short: byte loops, not memchr's calls.
    match host.iter().rposition(|&b| b == b':') {
        Some(i)
            if i + 1 < host.len()
                && host[i + 1..].iter().all(u8::is_ascii_digit)
                && !host[..i].contains(&b':') =>
        {
            &host[..i]
        }
        _ => host,
    }
}

/// Decimal seconds (`0.012`, `3`) → microseconds, saturating below [`NO_RESPONSE_TIME`].
pub(super) fn seconds_to_us(field: &[u8]) -> Option<u32> {
    // Six decimals (`0.000040`: ELB's three times a line, Caddy's duration), read as one
    // word of digit values (the dot 0), checked and combined a word at a time, where the
    // digit loop below takes a step a digit.
    if let Ok(&bytes) = <&[u8; 8]>::try_from(field)
        && let Some(w) = digit_word(bytes, b"0.000000")
    {
        // The eight places as one number (the dot's place 0): pairs, fours, all eight.
        // The products' high places overflow and are not wanted: wrapping multiplies.
        let pairs = w.wrapping_mul(10 << 8 | 1) >> 8 & 0x00ff_00ff_00ff_00ff;
        let fours = pairs.wrapping_mul(100 << 16 | 1) >> 16 & 0x0000_ffff_0000_ffff;
        let eight = fours.wrapping_mul(10_000 << 32 | 1) >> 32;
        // `s0dddddd` is s × 10^7 + the decimals: s × 10^6 + the decimals is wanted.
        return Some((eight - (w & 0xff) * 9_000_000) as u32);
    }
    // The usual shape first: one digit of seconds and up to nine decimals (nginx and ALB
    // write three, ELB six, Caddy up to nine), without the general path's checks for long
    // numbers. Decimals past the sixth are checked, not counted.
    if let [second, b'.', decimals @ ..] = field
        && second.is_ascii_digit()
        && (1..=9).contains(&decimals.len())
    {
        let kept = decimals.len().min(6);
        let mut value = u32::from(second - b'0');
        for &b in &decimals[..kept] {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            value = value * 10 + u32::from(digit);
        }
        if !decimals[kept..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        return Some(value * POWERS_OF_TEN[6 - kept] as u32);
    }
    let (whole, int_len) = number_field(field, 0);
    if int_len == 0 {
        return None;
    }
    let mut micros = whole.saturating_mul(1_000_000);
    match &field[int_len..] {
        [] => {}
        [b'.', frac @ ..] => {
            // Digits past the sixth are checked, not counted: microseconds are the unit.
            let (value, digits) = number_field(&frac[..frac.len().min(6)], 0);
            if digits == 0 || !frac[digits..].iter().all(u8::is_ascii_digit) {
                return None;
            }
            micros = micros.saturating_add(value * POWERS_OF_TEN[6 - digits]);
        }
        _ => return None,
    }
    Some(micros.min(u64::from(NO_RESPONSE_TIME - 1)) as u32)
}

/// 10^0 to 10^6, for the missing places of a fraction of a second.
const POWERS_OF_TEN: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// The common/combined scanner; also returns where it stopped (after the user agent's
/// closing quote, or after the size of a common line), for the presets that read on.
#[inline(always)]
fn parse_fields(line: &[u8], combined: bool) -> Result<(LogLine<'_>, usize), Malformed> {
    let client_end = find_byte(b' ', line).ok_or(Malformed::NoClient)?;
    if client_end == 0 {
        return Err(Malformed::NoClient);
    }
    let client = &line[..client_end];

    // `%l %u` sit between the client and the `[`: take the user, skip the ident. Most lines
    // have neither (`- -`) and a timestamp of 26 bytes: those places are looked at first,
    // and searched for only when they do not hold (the result is the same either way).
    let (open, user) = if line[client_end..].starts_with(b" - - [") {
        (client_end + 5, &b""[..])
    } else {
        let open = client_end + memchr(b'[', &line[client_end..]).ok_or(Malformed::NoTimestamp)?;
        (open, user_field(&line[client_end + 1..open]))
    };
    let close = match line.get(open + 27) {
        Some(b']') => open + 27,
        _ => open + memchr(b']', &line[open..]).ok_or(Malformed::NoTimestamp)?,
    };
    let time = parse_clf_time(&line[open + 1..close]).map_err(|_| Malformed::BadTimestamp)?;

    let mut pos = close + 1;
    if !line[pos..].starts_with(b" \"") {
        return Err(Malformed::NoRequest);
    }
    pos += 2;
    let request_end = quoted_end(
        line,
        pos,
        |after| matches!(after, [b' ', d, ..] if d.is_ascii_digit()),
    )
    .ok_or(Malformed::UnterminatedRequest)?;
    let request = &line[pos..request_end];
    pos = request_end + 2;

    let (status, next) = number_field(line, pos);
    if next - pos != 3 || !field_ends(line, next) {
        return Err(Malformed::BadStatus);
    }
    let status = status as u16;
    pos = next + 1;

    let bytes = if line.get(pos) == Some(&b'-') && field_ends(line, pos + 1) {
        pos += 2;
        0
    } else {
        let (value, next) = number_field(line, pos);
        if next == pos || next - pos > 19 || !field_ends(line, next) {
            return Err(Malformed::BadBytes);
        }
        pos = next + 1;
        value
    };

    let mut parsed = LogLine {
        user,
        bytes,
        ..LogLine::new(client, time, Request::Line(request), status)
    };
    // A combined log may hold lines written in the common format (no referrer, no agent):
    // they are complete requests, so they are kept with both fields empty.
    if !combined || pos >= line.len() {
        return Ok((parsed, pos.saturating_sub(1)));
    }

    if line[pos] != b'"' {
        return Err(Malformed::UnterminatedReferrer);
    }
    let referrer_end = quoted_end(line, pos + 1, |after| after.starts_with(b" \""))
        .ok_or(Malformed::UnterminatedReferrer)?;
    parsed.referrer = dash_is_empty(&line[pos + 1..referrer_end]);
    pos = referrer_end + 3;

    // The user agent ends at a quote followed by the end of the line or by what extra
    // fields look like (nginx's default `main` format appends `"$http_x_forwarded_for"`,
    // others a number): so an unescaped quote inside the agent does not end it.
    let agent_end = quoted_end(line, pos, |after| match after {
        [] => true,
        [b' ', next, ..] => matches!(next, b'"' | b'-' | b'0'..=b'9'),
        _ => false,
    })
    .ok_or(Malformed::UnterminatedUserAgent)?;
    parsed.user_agent = dash_is_empty(&line[pos..agent_end]);
    Ok((parsed, agent_end + 1))
}

/// Index of the quote closing a field that starts at `start`: the first unescaped `"` whose
/// following bytes satisfy `accept`. A backslash escapes the byte after it (so a quote is
/// escaped after an odd run of backslashes, as [`is_escaped`] counts them backwards).
#[inline]
pub(super) fn quoted_end(
    line: &[u8],
    start: usize,
    accept: impl Fn(&[u8]) -> bool,
) -> Option<usize> {
    let mut from = start;
    while let Some(at) = quote_or_backslash(line, from) {
        if line[at] == b'\\' {
            from = at + 2;
        } else if accept(&line[at + 1..]) {
            return Some(at);
        } else {
            from = at + 1;
        }
    }
    None
}

/// Whether the byte at `at` is preceded by an odd number of backslashes (within the field).
#[inline]
pub(super) fn is_escaped(line: &[u8], field_start: usize, at: usize) -> bool {
    let backslashes = line[field_start..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    backslashes % 2 == 1
}

/// Parses ASCII digits from `pos`; returns the value and the index after the last digit.
/// Saturates instead of overflowing (the caller bounds the length).
#[inline]
pub(super) fn number_field(line: &[u8], pos: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut i = pos;
    while let Some(&b) = line.get(i) {
        let d = b.wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        value = value.saturating_mul(10).saturating_add(u64::from(d));
        i += 1;
    }
    (value, i)
}

/// A space-separated field ends at `i`: end of line or a space.
#[inline]
fn field_ends(line: &[u8], i: usize) -> bool {
    i >= line.len() || line[i] == b' '
}

#[inline]
pub(super) fn dash_is_empty(field: &[u8]) -> &[u8] {
    if field == b"-" { b"" } else { field }
}

/// `%l %u` → the user (`-` is empty).
fn user_field(middle: &[u8]) -> &[u8] {
    let middle = middle.trim_ascii();
    match memchr(b' ', middle) {
        Some(i) => dash_is_empty(middle[i + 1..].trim_ascii()),
        None => b"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{AGENT_NOT_LOGGED, Format};

    fn combined(line: &str) -> Result<LogLine<'_>, Malformed> {
        Format::Combined.parse(line.as_bytes())
    }

    #[test]
    fn a_quoted_field_ends_where_counting_backslashes_back_ends_it() {
        // The rule as the quote's place reads it: an unescaped quote has an even run of
        // backslashes before it, counted back to the field's start.
        fn counted_back(
            line: &[u8],
            start: usize,
            accept: impl Fn(&[u8]) -> bool,
        ) -> Option<usize> {
            (start..line.len())
                .find(|&q| line[q] == b'"' && !is_escaped(line, start, q) && accept(&line[q + 1..]))
        }
        // A quote is taken when the line ends or a space follows it.
        let accept = |after: &[u8]| matches!(after, [] | [b' ', ..]);
        // Runs of 0 to 4 backslashes, then a quote and what follows it: a space (taken when
        // not escaped), another byte (passed over), or a backslash and a quote after it,
        // escaped or not, followed by a space (so the byte after a quote passed over must be
        // read as the walk reads it). A last quote or not. Each placed across every offset
        // of lines up to 70 bytes (each sixteen-byte step's edge and the tail), searched
        // from every start.
        let tails: [&[u8]; 4] = [b"\" ", b"\"x", b"\"\\\" ", b"\"\\\\\" "];
        let mut checked = 0;
        for len in 1..70_usize {
            for run in 0..5 {
                for at in 0..len {
                    for (tail, last_quote) in tails.iter().flat_map(|t| [(t, false), (t, true)]) {
                        let mut line = vec![b'a'; len];
                        line[at..(at + run).min(len)].fill(b'\\');
                        for (i, &b) in tail.iter().enumerate() {
                            if let Some(slot) = line.get_mut(at + run + i) {
                                *slot = b;
                            }
                        }
                        if last_quote && len > at + run + tail.len() {
                            line[len - 1] = b'"';
                        }
                        for start in 0..=len {
                            assert_eq!(
                                quoted_end(&line, start, accept),
                                counted_back(&line, start, accept),
                                "{:?} from {start}",
                                String::from_utf8_lossy(&line)
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        // And past the long search's hand-off to memchr: an escaped quote with a space after
        // it first and after 300 bytes, then the one that ends the field.
        let mut long = b"\\\" 200 ".to_vec();
        long.extend(std::iter::repeat_n(b'z', 300));
        long.extend(b"\\\" 200 \\\\\" 200");
        let want = counted_back(&long, 0, accept);
        assert_eq!(want, Some(long.len() - 5));
        assert_eq!(quoted_end(&long, 0, accept), want);
        assert!(checked > 50_000, "{checked}");
    }

    #[test]
    fn decimal_seconds_become_microseconds() {
        let us = |text: &str| seconds_to_us(text.as_bytes());
        // The usual shapes (one digit, one to nine decimals), every digit at every place,
        // against the value written out; a byte next to the digits anywhere makes it
        // unreadable.
        for decimals in 1..=9 {
            for place in 0..=decimals {
                for b in *b"/0123456789:" {
                    let mut text: Vec<u8> = format!("7.{}", &"358241609"[..decimals]).into();
                    text[if place == 0 { 0 } else { place + 1 }] = b;
                    let text = String::from_utf8(text).unwrap();
                    // Microseconds as text: the decimals cut or padded to six places.
                    let micros = format!("{:0<6.6}", &text[2..]);
                    let want = (b.is_ascii_digit())
                        .then(|| format!("{}{micros}", &text[..1]).parse::<u32>().unwrap());
                    assert_eq!(us(&text), want, "{text}");
                }
            }
        }
        assert_eq!(us("0.012"), Some(12_000));
        assert_eq!(us("3"), Some(3_000_000));
        assert_eq!(us("1.5"), Some(1_500_000));
        assert_eq!(us("0.000001"), Some(1));
        assert_eq!(us("2.123456"), Some(2_123_456));
        // Places past the microsecond are dropped, but must be digits.
        assert_eq!(us("0.1234567"), Some(123_456));
        assert_eq!(us("0.1234567x"), None);
        assert_eq!(us("0.12x"), None);
        assert_eq!(us("1."), None);
        assert_eq!(us(".5"), None);
        assert_eq!(us("-"), None);
        assert_eq!(us(""), None);
        // Larger than a u32 of microseconds holds (71 minutes): the greatest it can say.
        assert_eq!(us("99999999"), Some(NO_RESPONSE_TIME - 1));
        // Eight bytes, read as one word when they are `d.dddddd`: every byte at every
        // place, against the value worked out from the text.
        let reference = |text: &[u8]| -> Option<u32> {
            let text = std::str::from_utf8(text).ok()?;
            let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(whole) || (text.contains('.') && !digits(frac)) {
                return None;
            }
            let micros = whole.parse::<u64>().ok()? * 1_000_000
                + format!("{:0<6.6}", frac).parse::<u64>().unwrap();
            Some(micros.min(u64::from(NO_RESPONSE_TIME - 1)) as u32)
        };
        let mut checked = 0;
        for base in [b"7.358241", b"0.000040", b"9.999999", b"0.000000"] {
            for place in 0..8 {
                for b in 0..=255u8 {
                    let mut text = *base;
                    text[place] = b;
                    assert_eq!(
                        seconds_to_us(&text),
                        reference(&text),
                        "{}",
                        String::from_utf8_lossy(&text)
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 4 * 8 * 256);
    }

    #[test]
    fn apache_documentation_example() {
        let l = combined(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#,
        )
        .unwrap();
        assert_eq!(l.client, b"127.0.0.1");
        assert_eq!(l.user, b"frank");
        assert_eq!(l.time.utc_ms, 971_211_336_000);
        assert_eq!(l.time.offset_min, -420);
        assert_eq!(l.request, Request::Line(b"GET /apache_pb.gif HTTP/1.0"));
        assert_eq!(l.status, 200);
        assert_eq!(l.bytes, 2326);
        assert_eq!(l.referrer, b"http://www.example.com/start.html");
        assert_eq!(l.user_agent, b"Mozilla/4.08 [en] (Win98; I ;Nav)");
    }

    #[test]
    fn ipv6_dashes_and_missing_values() {
        let l = combined(
            r#"2001:db8::1 - - [10/Oct/2026:13:55:36 +0000] "HEAD / HTTP/2.0" 304 - "-" "-""#,
        )
        .unwrap();
        assert_eq!(l.client, b"2001:db8::1");
        assert_eq!(l.user, b"");
        assert_eq!(l.status, 304);
        assert_eq!(l.bytes, 0);
        assert_eq!(l.referrer, b"");
        assert_eq!(l.user_agent, b"");
    }

    #[test]
    fn escaped_quotes_stay_inside_fields() {
        let l = combined(
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /q?x=\"a\" HTTP/1.1" 200 5 "http://r/?q=\"x\"" "Agent \"quoted\" 1.0""#,
        )
        .unwrap();
        assert_eq!(l.request, Request::Line(br#"GET /q?x=\"a\" HTTP/1.1"#));
        assert_eq!(l.referrer, br#"http://r/?q=\"x\""#);
        assert_eq!(l.user_agent, br#"Agent \"quoted\" 1.0"#);
    }

    #[test]
    fn unescaped_quotes_inside_request_and_agent() {
        let l = combined(
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a"b HTTP/1.1" 404 5 "-" "Bad "agent" here""#,
        )
        .unwrap();
        assert_eq!(l.request, Request::Line(br#"GET /a"b HTTP/1.1"#));
        assert_eq!(l.status, 404);
        assert_eq!(l.user_agent, br#"Bad "agent" here"#);
    }

    #[test]
    fn trailing_fields_after_agent_are_ignored() {
        let l = combined(
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA/1.0" 0.012 "upstream""#,
        )
        .unwrap();
        assert_eq!(l.user_agent, b"UA/1.0");
        let l = combined(
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA/1.0" 1807"#,
        )
        .unwrap();
        assert_eq!(l.user_agent, b"UA/1.0");
    }

    #[test]
    fn common_lines_in_a_combined_log_are_kept() {
        let l =
            combined(r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#).unwrap();
        assert_eq!(
            (l.status, l.bytes, l.referrer, l.user_agent),
            (200, 5, &b""[..], AGENT_NOT_LOGGED)
        );
        // A logged `-` is an empty agent, not one the line does not log.
        let l =
            combined(r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#)
                .unwrap();
        assert_eq!(l.user_agent, b"");
    }

    #[test]
    fn common_format_ignores_the_rest() {
        let line = br#"1.2.3.4 - bob [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "http://r/" "UA""#;
        let l = Format::Common.parse(line).unwrap();
        assert_eq!(
            (l.user, l.referrer, l.user_agent),
            (&b"bob"[..], &b""[..], AGENT_NOT_LOGGED)
        );
    }

    #[test]
    fn empty_and_garbage_requests_still_parse() {
        let l = combined(r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "" 400 0 "-" "-""#).unwrap();
        assert_eq!(l.request, Request::Line(b""));
        let l = combined(
            "1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"\\x16\\x03\\x01\" 400 226 \"-\" \"-\"",
        )
        .unwrap();
        assert_eq!(l.status, 400);
    }

    #[test]
    fn any_three_digit_status_is_kept() {
        // Some servers log 000 for a client that left before the response (found by fuzzing:
        // the status is data, not a reason to drop the line).
        for (text, status) in [("000", 0), ("099", 99), ("499", 499), ("999", 999)] {
            let line = format!(
                r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" {text} 0 "-" "-""#
            );
            assert_eq!(combined(&line).unwrap().status, status);
        }
    }

    #[test]
    fn malformed_lines_say_why() {
        let cases: &[(&[u8], Malformed)] = &[
            (b"", Malformed::NoClient),
            (b"garbage", Malformed::NoClient),
            (
                b" 1.2.3.4 - - [10/Oct/2026:13:55:36 +0000]",
                Malformed::NoClient,
            ),
            (
                b"1.2.3.4 - - 10/Oct/2026:13:55:36 +0000 \"GET / HTTP/1.1\" 200 5",
                Malformed::NoTimestamp,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000",
                Malformed::NoTimestamp,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026 13:55:36] \"GET / HTTP/1.1\" 200 5",
                Malformed::BadTimestamp,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] GET / 200 5",
                Malformed::NoRequest,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1 200 5",
                Malformed::UnterminatedRequest,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 2000 5",
                Malformed::BadStatus,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5x",
                Malformed::BadBytes,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 ",
                Malformed::BadBytes,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 -",
                Malformed::UnterminatedReferrer,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-",
                Malformed::UnterminatedReferrer,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA",
                Malformed::UnterminatedUserAgent,
            ),
            (
                b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\\\"",
                Malformed::UnterminatedUserAgent,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(
                Format::Combined.parse(line),
                Err(*reason),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn ports_are_stripped_from_hosts() {
        let cases: [(&[u8], &[u8]); 8] = [
            (b"www.example.com:8080", b"www.example.com"),
            (b"www.example.com", b"www.example.com"),
            (b"www.example.com:", b"www.example.com:"),
            (b"192.0.2.1:443", b"192.0.2.1"),
            (b"[2001:db8::1]:443", b"2001:db8::1"),
            (b"[2001:db8::1]", b"2001:db8::1"),
            (b"2001:db8::1", b"2001:db8::1"),
            (b"[", b"["),
        ];
        for (host, want) in cases {
            assert_eq!(strip_port(host), want, "{}", String::from_utf8_lossy(host));
        }
    }

    #[test]
    fn invalid_utf8_is_carried_as_bytes() {
        let mut line = b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET /\xff\xfe HTTP/1.1\" 200 5 \"-\" \"\xc3\x28\"".to_vec();
        let l = Format::Combined.parse(&line).unwrap();
        assert_eq!(l.request, Request::Line(b"GET /\xff\xfe HTTP/1.1"));
        assert_eq!(l.user_agent, b"\xc3\x28");
        line.truncate(30);
        assert!(Format::Combined.parse(&line).is_err());
    }
}
