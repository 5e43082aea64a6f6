//! JSON-lines access logs: Caddy's and Traefik's, one object per line, read with the
//! byte-level scanner in [`super::json`] in one forward walk (Caddy's nested `request`,
//! `headers` and `tls` objects are stepped into where they stand; values not wanted are
//! skipped; no per-line allocation, no serde).
//!
//! Caddy: `ts` (epoch seconds, or an ISO 8601 string when so configured),
//! `request.client_ip` (else `request.remote_ip`, else `request.remote_addr` without its
//! port), `request.method`, `request.uri`, `request.proto`, `request.host`,
//! `request.headers.Referer[0]`, `request.headers.User-Agent[0]`,
//! `request.headers.X-Forwarded-For[0]`, `request.tls.version` (as `TLSv1.x`), `user_id`,
//! `status`, `size`, `duration` (seconds).
//!
//! Traefik: `ClientHost`, `ClientUsername`, `RequestMethod`, `RequestPath`,
//! `RequestProtocol`, `RequestHost`, `DownstreamStatus`, `DownstreamContentSize`,
//! `StartUTC`, `Duration` (nanoseconds), `request_Referer`, `request_User-Agent`,
//! `request_X-Forwarded-For`, `TLSVersion`. Traefik's CLF access log is combined with extra
//! fields after the user agent: the `combined` format reads it.
//!
//! Member order does not matter; unknown members are skipped.

use super::aws::three_digits;
use super::clf::{dash_is_empty, number_field, seconds_to_us, strip_port};
use super::json::{BadJson, Cursor, Value};
use super::time::{LogTime, parse_epoch_seconds, parse_iso8601};
use super::{AGENT_NOT_LOGGED, LogLine, Malformed, NO_RESPONSE_TIME, Request};

/// What a JSON log line gives, before it becomes a [`LogLine`].
#[derive(Default)]
struct Fields<'a> {
    time: Option<Value<'a>>,
    client: &'a [u8],
    remote: &'a [u8],
    method: &'a [u8],
    uri: &'a [u8],
    protocol: &'a [u8],
    host: &'a [u8],
    user: &'a [u8],
    referrer: &'a [u8],
    agent: &'a [u8],
    forwarded_for: &'a [u8],
    tls: &'a [u8],
    status: Option<&'a [u8]>,
    size: &'a [u8],
    duration: &'a [u8],
    /// Traefik: the line has one of the headers Traefik adds to every request it forwards
    /// (`request_X-Forwarded-…`, `request_X-Real-Ip`), so its headers are kept and a missing
    /// `request_User-Agent` was not sent.
    headers_kept: bool,
}

impl Fields<'_> {
    /// Traefik keeps no request header unless told to (`accessLog.fields.headers`): a line
    /// without `request_User-Agent` logs none, unless it has one of the headers Traefik adds
    /// to every request it forwards (`request_X-Forwarded-Proto`, …): then the headers are
    /// kept and this request sent no agent, as in Caddy, which logs every header the request
    /// had. (Another header a configuration keeps by name says nothing about the agent.)
    fn traefik() -> Self {
        Fields {
            agent: AGENT_NOT_LOGGED,
            ..Fields::default()
        }
    }
}

pub(super) fn parse_caddy(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut f = Fields::default();
    let mut c = Cursor::new(line);
    c.open_object().map_err(bad)?;
    let mut first = true;
    while let Some(key) = c.next_key(&mut first).map_err(bad)? {
        match key {
            b"ts" => f.time = Some(c.value().map_err(bad)?),
            b"request" => caddy_request(&mut c, &mut f)?,
            b"status" => f.status = c.text().map_err(bad)?,
            b"size" => f.size = text(&mut c)?,
            b"duration" => f.duration = text(&mut c)?,
            b"user_id" => f.user = text(&mut c)?,
            _ => c.skip().map_err(bad)?,
        }
    }
    c.finish().map_err(bad)?;
    finish_caddy(f)
}

/// A Caddy line's fields → the line: its epoch or ISO time, the remote address when no
/// client address was logged, and its duration in seconds.
fn finish_caddy(mut f: Fields<'_>) -> Result<LogLine<'_>, Malformed> {
    let time = match f.time {
        Some(Value::Scalar(epoch)) => {
            parse_epoch_seconds(epoch).map_err(|_| Malformed::BadEpochTimestamp)?
        }
        Some(Value::Str(iso)) => parse_iso8601(iso).map_err(|_| Malformed::BadIsoTimestamp)?,
        _ => return Err(Malformed::JsonMissingField),
    };
    if f.client.is_empty() {
        f.client = f.remote;
    }
    let mut parsed = finish(&f, time)?;
    if !f.duration.is_empty() {
        parsed.response_time_us = seconds_to_us(f.duration).ok_or(Malformed::BadResponseTime)?;
    }
    Ok(parsed)
}

fn bad(_: BadJson) -> Malformed {
    Malformed::BadJson
}

/// The text of the string or scalar at the cursor; empty for an object or array.
#[inline(always)]
fn text<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], Malformed> {
    Ok(c.text().map_err(bad)?.unwrap_or_default())
}

/// The members of Caddy's `request` object, walked in place.
fn caddy_request<'a>(c: &mut Cursor<'a>, f: &mut Fields<'a>) -> Result<(), Malformed> {
    if !c.at_object() {
        c.skip().map_err(bad)?;
        return Err(Malformed::JsonMissingField);
    }
    c.open_object().map_err(bad)?;
    let mut first = true;
    while let Some(key) = c.next_key(&mut first).map_err(bad)? {
        match key {
            b"client_ip" => f.client = text(c)?,
            b"remote_ip" => f.remote = text(c)?,
            b"remote_addr" if f.remote.is_empty() => f.remote = strip_port(text(c)?),
            b"method" => f.method = text(c)?,
            b"uri" => f.uri = text(c)?,
            b"proto" => f.protocol = text(c)?,
            b"host" => f.host = text(c)?,
            b"headers" if c.at_object() => caddy_headers(c, f)?,
            b"tls" if c.at_object() => f.tls = caddy_tls(c)?,
            b"tls" => {
                c.skip().map_err(bad)?;
                f.tls = b"";
            }
            _ => c.skip().map_err(bad)?,
        }
    }
    Ok(())
}

fn caddy_headers<'a>(c: &mut Cursor<'a>, f: &mut Fields<'a>) -> Result<(), Malformed> {
    c.open_object().map_err(bad)?;
    let mut first = true;
    while let Some(key) = c.next_key(&mut first).map_err(bad)? {
        let first_string = |c: &mut Cursor<'a>| -> Result<&'a [u8], Malformed> {
            Ok(c.first_string().map_err(bad)?.unwrap_or_default())
        };
        // Go canonicalises header names, so these spellings are the ones logged.
        match key {
            b"Referer" => f.referrer = first_string(c)?,
            b"User-Agent" => f.agent = first_string(c)?,
            b"X-Forwarded-For" => f.forwarded_for = first_string(c)?,
            _ => c.skip().map_err(bad)?,
        }
    }
    Ok(())
}

/// Caddy logs the TLS version as Go's number (772 is TLS 1.3). A `tls` object whose members
/// do not read is passed over (only its brackets must balance), and so are the members
/// after `version`.
fn caddy_tls(c: &mut Cursor<'_>) -> Result<&'static [u8], Malformed> {
    let start = c.clone();
    let mut version = None;
    let walk = |c: &mut Cursor<'_>, version: &mut Option<&'static [u8]>| {
        c.open_object()?;
        let mut first = true;
        while let Some(key) = c.next_key(&mut first)? {
            if key == b"version" {
                *version = Some(match c.text()? {
                    Some(b"769") => b"TLSv1.0",
                    Some(b"770") => b"TLSv1.1",
                    Some(b"771") => b"TLSv1.2",
                    Some(b"772") => b"TLSv1.3",
                    _ => b"",
                });
                return c.close_object();
            } else {
                c.skip()?;
            }
        }
        Ok::<(), BadJson>(())
    };
    if walk(c, &mut version).is_err() {
        // The members up to the damage still count, as before.
        *c = start;
        c.skip().map_err(bad)?;
    }
    Ok(version.unwrap_or(b""))
}

/// A header Traefik adds to every request it forwards (`request_X-Forwarded-For` has its own
/// member arm).
fn traefik_adds(key: &[u8]) -> bool {
    key.starts_with(b"request_X-Forwarded-") || key == b"request_X-Real-Ip"
}

pub(super) fn parse_traefik(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut f = Fields::traefik();
    let mut c = Cursor::new(line);
    c.open_object().map_err(bad)?;
    let mut first = true;
    while let Some(key) = c.next_key(&mut first).map_err(bad)? {
        let c = &mut c;
        match key {
            b"ClientHost" => f.client = text(c)?,
            b"ClientUsername" => f.user = text(c)?,
            b"RequestMethod" => f.method = text(c)?,
            b"RequestPath" => f.uri = text(c)?,
            b"RequestProtocol" => f.protocol = text(c)?,
            b"RequestHost" => f.host = text(c)?,
            b"DownstreamStatus" => f.status = c.text().map_err(bad)?,
            b"DownstreamContentSize" => f.size = text(c)?,
            b"StartUTC" => f.time = Some(c.value().map_err(bad)?),
            b"Duration" => f.duration = text(c)?,
            b"request_Referer" => f.referrer = text(c)?,
            b"request_User-Agent" => f.agent = text(c)?,
            b"request_X-Forwarded-For" => {
                f.forwarded_for = text(c)?;
                f.headers_kept = true;
            }
            b"TLSVersion" => f.tls = text(c)?,
            _ => {
                f.headers_kept |= traefik_adds(key);
                c.skip().map_err(bad)?
            }
        }
    }
    c.finish().map_err(bad)?;
    finish_traefik(&f)
}

/// A Traefik line's fields → the line: its ISO time, and its duration in nanoseconds.
fn finish_traefik<'a>(f: &Fields<'a>) -> Result<LogLine<'a>, Malformed> {
    let time = match f.time {
        Some(Value::Str(iso)) => parse_iso8601(iso).map_err(|_| Malformed::BadIsoTimestamp)?,
        _ => return Err(Malformed::JsonMissingField),
    };
    let mut parsed = finish(f, time)?;
    if f.agent == AGENT_NOT_LOGGED && f.headers_kept {
        parsed.user_agent = b"";
    }
    if !f.duration.is_empty() {
        let (ns, end) = number_field(f.duration, 0);
        if end != f.duration.len() {
            return Err(Malformed::BadResponseTime);
        }
        parsed.response_time_us = (ns / 1000).min(u64::from(NO_RESPONSE_TIME - 1)) as u32;
    }
    Ok(parsed)
}

/// The fields both JSON formats share → a line.
fn finish<'a>(f: &Fields<'a>, time: LogTime) -> Result<LogLine<'a>, Malformed> {
    let status = f.status.ok_or(Malformed::JsonMissingField)?;
    if f.client.is_empty() || f.method.is_empty() {
        return Err(Malformed::JsonMissingField);
    }
    let status = three_digits(status)?;
    let request = Request::Parts {
        method: f.method,
        target: f.uri,
        query: b"",
        protocol: f.protocol,
    };
    let mut parsed = LogLine::new(f.client, time, request, status);
    parsed.bytes = if f.size.is_empty() {
        0
    } else {
        super::aws::size(f.size)?
    };
    parsed.user = dash_is_empty(f.user);
    parsed.referrer = dash_is_empty(f.referrer);
    parsed.user_agent = dash_is_empty(f.agent);
    parsed.vhost = f.host;
    parsed.forwarded_for = dash_is_empty(f.forwarded_for);
    parsed.tls = f.tls;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    // The walk that read each nested object again from its raw bytes: the one-pass walk
    // must give the same answer on any line.
    fn reference_caddy(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
        let mut f = Fields::default();
        for member in json::members(line) {
            let (key, value) = member.map_err(|_| Malformed::BadJson)?;
            match key {
                b"ts" => f.time = Some(value),
                b"request" => reference_request(value, &mut f)?,
                b"status" => f.status = value.text(),
                b"size" => f.size = value.text().unwrap_or_default(),
                b"duration" => f.duration = value.text().unwrap_or_default(),
                b"user_id" => f.user = value.text().unwrap_or_default(),
                _ => {}
            }
        }
        finish_caddy(f)
    }

    /// The members of Caddy's `request` object.
    fn reference_request<'a>(value: Value<'a>, f: &mut Fields<'a>) -> Result<(), Malformed> {
        let Value::Object(request) = value else {
            return Err(Malformed::JsonMissingField);
        };
        for member in json::members(request) {
            let (key, value) = member.map_err(|_| Malformed::BadJson)?;
            let text = || value.text().unwrap_or_default();
            match key {
                b"client_ip" => f.client = text(),
                b"remote_ip" => f.remote = text(),
                b"remote_addr" if f.remote.is_empty() => f.remote = strip_port(text()),
                b"method" => f.method = text(),
                b"uri" => f.uri = text(),
                b"proto" => f.protocol = text(),
                b"host" => f.host = text(),
                b"headers" => reference_headers(value, f)?,
                b"tls" => f.tls = reference_tls(value),
                _ => {}
            }
        }
        Ok(())
    }

    fn reference_headers<'a>(value: Value<'a>, f: &mut Fields<'a>) -> Result<(), Malformed> {
        let Value::Object(headers) = value else {
            return Ok(());
        };
        for member in json::members(headers) {
            let (key, value) = member.map_err(|_| Malformed::BadJson)?;
            let first = || value.first_string().unwrap_or_default();
            // Go canonicalises header names, so these spellings are the ones logged.
            match key {
                b"Referer" => f.referrer = first(),
                b"User-Agent" => f.agent = first(),
                b"X-Forwarded-For" => f.forwarded_for = first(),
                _ => {}
            }
        }
        Ok(())
    }

    /// Caddy logs the TLS version as Go's number (772 is TLS 1.3).
    fn reference_tls(value: Value<'_>) -> &'static [u8] {
        let Value::Object(tls) = value else {
            return b"";
        };
        for (key, value) in json::members(tls).map_while(Result::ok) {
            if key == b"version" {
                return match value.text() {
                    Some(b"769") => b"TLSv1.0",
                    Some(b"770") => b"TLSv1.1",
                    Some(b"771") => b"TLSv1.2",
                    Some(b"772") => b"TLSv1.3",
                    _ => b"",
                };
            }
        }
        b""
    }

    fn reference_traefik(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
        let mut f = Fields::traefik();
        for member in json::members(line) {
            let (key, value) = member.map_err(|_| Malformed::BadJson)?;
            let text = || value.text().unwrap_or_default();
            match key {
                b"ClientHost" => f.client = text(),
                b"ClientUsername" => f.user = text(),
                b"RequestMethod" => f.method = text(),
                b"RequestPath" => f.uri = text(),
                b"RequestProtocol" => f.protocol = text(),
                b"RequestHost" => f.host = text(),
                b"DownstreamStatus" => f.status = value.text(),
                b"DownstreamContentSize" => f.size = text(),
                b"StartUTC" => f.time = Some(value),
                b"Duration" => f.duration = text(),
                b"request_Referer" => f.referrer = text(),
                b"request_User-Agent" => f.agent = text(),
                b"request_X-Forwarded-For" => {
                    f.forwarded_for = text();
                    f.headers_kept = true;
                }
                b"TLSVersion" => f.tls = text(),
                _ => f.headers_kept |= traefik_adds(key),
            }
        }
        finish_traefik(&f)
    }

    const CADDY: &str = r#"{"level":"info","ts":1791640536.25,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"10.0.0.2","remote_port":"51234","client_ip":"203.0.113.7","proto":"HTTP/2.0","method":"GET","host":"www.example.com","uri":"/shop?id=3","headers":{"Accept":["text/html"],"User-Agent":["Mozilla/5.0 (X11; Linux x86_64)"],"Referer":["https://r.example/?q=\"}]\""],"X-Forwarded-For":["203.0.113.7"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865}},"bytes_read":0,"user_id":"","duration":0.0123,"size":5120,"status":200,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/html; charset=utf-8"]}}"#;
    const TRAEFIK: &str = r#"{"ClientAddr":"203.0.113.7:51234","ClientHost":"203.0.113.7","ClientUsername":"-","DownstreamContentSize":5120,"DownstreamStatus":200,"Duration":12345678,"RequestHost":"www.example.com","RequestMethod":"GET","RequestPath":"/shop?id=3","RequestProtocol":"HTTP/2.0","StartUTC":"2026-10-10T13:55:36.25Z","level":"info","request_Referer":"https://www.google.com/","request_User-Agent":"curl/8.5.0","TLSVersion":"1.3"}"#;

    #[test]
    fn one_walk_reads_nested_members_where_they_stand() {
        let l = parse_caddy(CADDY.as_bytes()).unwrap();
        assert_eq!(l.client, b"203.0.113.7");
        assert_eq!(l.referrer, br#"https://r.example/?q=\"}]\""#);
        assert_eq!(l.user_agent, b"Mozilla/5.0 (X11; Linux x86_64)");
        assert_eq!((l.status, l.bytes, l.tls), (200, 5120, &b"TLSv1.3"[..]));
        // Members in another order, whitespace between tokens, a header whose first value
        // is not a string, a tls object whose members do not read (passed over).
        let l = parse_caddy(
            br#" { "status" : "404" , "request" : { "headers" : { "Referer" : [ 1 , "x" ] , "User-Agent" : [ "a{b" ] } , "method" : "HEAD" , "remote_addr" : "198.51.100.2:4000" , "tls" : { "version" : 771 "x" } } , "ts" : "2026-10-10T13:55:36Z" } "#,
        )
        .unwrap();
        assert_eq!(l.client, b"198.51.100.2");
        assert_eq!(
            (l.status, l.referrer, l.user_agent),
            (404, &b""[..], &b"a{b"[..])
        );
        assert_eq!(
            l.tls, b"TLSv1.2",
            "the version read before the damage counts"
        );
        let cases: &[(&[u8], Malformed)] = &[
            (
                br#"{"ts":1,"request":"x","status":200}"#,
                Malformed::JsonMissingField,
            ),
            (
                br#"{"ts":1,"request":{"method":"GET","client_ip":"a"},"status":200} x"#,
                Malformed::BadJson,
            ),
            (
                br#"{"ts":1,"request":{"method":"GET","client_ip":"a""#,
                Malformed::BadJson,
            ),
            (
                br#"{"ts":1,"request":{"method":"GET","client_ip":"a",},"status":200}"#,
                Malformed::BadJson,
            ),
            (
                br#"{"ts":1,"request":{"headers":{"Referer":["a"]]},"status":200}"#,
                Malformed::BadJson,
            ),
        ];
        for (line, reason) in cases {
            assert_eq!(
                parse_caddy(line),
                Err(*reason),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let l = parse_traefik(TRAEFIK.as_bytes()).unwrap();
        assert_eq!(
            (l.client, l.user, l.status),
            (&b"203.0.113.7"[..], &b""[..], 200)
        );
        assert_eq!(
            (l.user_agent, l.response_time_us),
            (&b"curl/8.5.0"[..], 12_345)
        );
    }

    const TRAEFIK_NO_HEADERS: &str = r#"{"ClientHost":"203.0.113.7","DownstreamContentSize":5120,"DownstreamStatus":200,"Duration":12345678,"RequestMethod":"GET","RequestPath":"/a","StartUTC":"2026-10-10T13:55:36.25Z","request_Cookie":"x"}"#;
    const TRAEFIK_FORWARDED: &str = r#"{"ClientHost":"203.0.113.7","DownstreamContentSize":5120,"DownstreamStatus":200,"Duration":12345678,"RequestMethod":"GET","RequestPath":"/a","StartUTC":"2026-10-10T13:55:36.25Z","request_X-Forwarded-Proto":"https"}"#;

    #[test]
    fn traefik_tells_an_agent_not_sent_from_one_not_logged() {
        let agent = |line: &str| parse_traefik(line.as_bytes()).unwrap().user_agent.to_vec();
        assert_eq!(agent(TRAEFIK_NO_HEADERS), AGENT_NOT_LOGGED);
        assert_eq!(agent(TRAEFIK_FORWARDED), b"");
        let forwarded_for = TRAEFIK_FORWARDED.replace("X-Forwarded-Proto", "X-Forwarded-For");
        assert_eq!(agent(&forwarded_for), b"");
        let real_ip = TRAEFIK_FORWARDED.replace("X-Forwarded-Proto", "X-Real-Ip");
        assert_eq!(agent(&real_ip), b"");
        // A referrer kept by name says nothing about the agent.
        let referrer = TRAEFIK_NO_HEADERS.replace("request_Cookie", "request_Referer");
        assert_eq!(agent(&referrer), AGENT_NOT_LOGGED);
    }

    #[test]
    fn one_walk_answers_as_the_walk_over_raw_objects_did() {
        let specials = b"{}[]\",:\\ 0a";
        let mut checked = 0;
        type Parse = for<'a> fn(&'a [u8]) -> Result<LogLine<'a>, Malformed>;
        let pairs: [(&str, Parse, Parse); 4] = [
            (CADDY, parse_caddy, reference_caddy),
            (TRAEFIK, parse_traefik, reference_traefik),
            // No header kept, then only one Traefik adds: the agent not logged, or not sent.
            (TRAEFIK_NO_HEADERS, parse_traefik, reference_traefik),
            (TRAEFIK_FORWARDED, parse_traefik, reference_traefik),
        ];
        for (base, one, reference) in pairs {
            for line in &crate::parse::one_edit_away(base.as_bytes(), specials) {
                assert_eq!(
                    one(line),
                    reference(line),
                    "{}",
                    String::from_utf8_lossy(line)
                );
                checked += 1;
            }
        }
        assert!(checked > 20_000, "{checked}");
    }
}
