//! JSON-lines access logs: Caddy's and Traefik's, one object per line, read with the
//! byte-level scanner in [`super::json`] (no per-line allocation, no serde).
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
use super::json::{self, Value};
use super::time::{LogTime, parse_epoch_seconds, parse_iso8601};
use super::{LogLine, Malformed, NO_RESPONSE_TIME, Request};

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
}

pub(super) fn parse_caddy(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut f = Fields::default();
    for member in json::members(line) {
        let (key, value) = member.map_err(|_| Malformed::BadJson)?;
        match key {
            b"ts" => f.time = Some(value),
            b"request" => caddy_request(value, &mut f)?,
            b"status" => f.status = value.text(),
            b"size" => f.size = value.text().unwrap_or_default(),
            b"duration" => f.duration = value.text().unwrap_or_default(),
            b"user_id" => f.user = value.text().unwrap_or_default(),
            _ => {}
        }
    }
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

/// The members of Caddy's `request` object.
fn caddy_request<'a>(value: Value<'a>, f: &mut Fields<'a>) -> Result<(), Malformed> {
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
            b"headers" => caddy_headers(value, f)?,
            b"tls" => f.tls = caddy_tls(value),
            _ => {}
        }
    }
    Ok(())
}

fn caddy_headers<'a>(value: Value<'a>, f: &mut Fields<'a>) -> Result<(), Malformed> {
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
fn caddy_tls(value: Value<'_>) -> &'static [u8] {
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

pub(super) fn parse_traefik(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut f = Fields::default();
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
            b"request_X-Forwarded-For" => f.forwarded_for = text(),
            b"TLSVersion" => f.tls = text(),
            _ => {}
        }
    }
    let time = match f.time {
        Some(Value::Str(iso)) => parse_iso8601(iso).map_err(|_| Malformed::BadIsoTimestamp)?,
        _ => return Err(Malformed::JsonMissingField),
    };
    let mut parsed = finish(&f, time)?;
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
