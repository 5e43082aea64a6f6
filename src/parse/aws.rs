//! Amazon's access logs: Classic Load Balancer (`elb`), Application Load Balancer (`alb`)
//! and S3 server access logs (`s3`). All three are space-separated with quoted fields; the
//! load balancers log an ISO 8601 UTC time first, S3 a bracketed CLF time.
//!
//! Kept beyond the common fields: the response time (the load balancers' three processing
//! times added up, S3's `total_time`), the virtual host (ALB's `domain_name`, S3's host
//! header or bucket, the host of an ELB's absolute request target) and the TLS protocol.
//! Load balancer lines of TCP listeners carry no HTTP request (`"- - - "`, status `-`):
//! they are malformed with the reason "not an HTTP request".

use super::clf::{dash_is_empty, number_field, seconds_to_us};
use super::time::{parse_clf_time, parse_iso8601};
use super::tokens::Tokens;
use super::{LogLine, Malformed, NO_RESPONSE_TIME, Request};

/// Classic ELB: `time elb client:port backend:port request_processing_time
/// backend_processing_time response_processing_time elb_status_code backend_status_code
/// received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol`.
pub(super) fn parse_elb(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut t = Tokens::new(line);
    let time = t.next().ok_or(Malformed::NoTimestamp)?;
    let time = parse_iso8601(time).map_err(|_| Malformed::BadIsoTimestamp)?;
    t.skip(1).ok_or(Malformed::MissingFields)?;
    // ELB logs no host of its own: its absolute request target names it, read once per
    // distinct request where the host is shown (`target_host`), not on every line.
    balancer_fields(&mut t, time)
}

/// ALB: `type time elb client:port target:port` and the ELB fields from the processing
/// times on, then `ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" …`.
/// `type` is one of http, https, h2, grpcs, ws, wss.
pub(super) fn parse_alb(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut t = Tokens::new(line);
    let kind = t.next().ok_or(Malformed::MissingFields)?;
    if !matches!(kind, b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss") {
        return Err(Malformed::UnknownAlbType);
    }
    let time = t.next().ok_or(Malformed::NoTimestamp)?;
    let time = parse_iso8601(time).map_err(|_| Malformed::BadIsoTimestamp)?;
    t.skip(1).ok_or(Malformed::MissingFields)?;
    let mut parsed = balancer_fields(&mut t, time)?;
    // target_group_arn "trace_id" "domain_name": optional, older lines stop earlier; without
    // it, the host of the absolute request target is shown (`target_host`).
    if let Some(domain) = t.skip(2).and_then(|_| t.next()) {
        parsed.vhost = dash_is_empty(domain);
    }
    Ok(parsed)
}

/// The fields ELB and ALB share, from `client:port` to `ssl_protocol`.
fn balancer_fields<'a>(t: &mut Tokens<'a>, time: super::LogTime) -> Result<LogLine<'a>, Malformed> {
    let client = t.next().ok_or(Malformed::NoClient)?;
    let client = without_port(client);
    if client.is_empty() {
        return Err(Malformed::NoClient);
    }
    t.skip(1).ok_or(Malformed::MissingFields)?;
    let mut total_us: Option<u32> = None;
    for _ in 0..3 {
        let field = t.next().ok_or(Malformed::MissingFields)?;
        // -1: the balancer could not send the request on (no target answered).
        if field != b"-1" {
            let us = seconds_to_us(field).ok_or(Malformed::BadResponseTime)?;
            total_us = Some(total_us.unwrap_or(0).saturating_add(us));
        }
    }
    let status = t.next().ok_or(Malformed::MissingFields)?;
    if status == b"-" {
        return Err(Malformed::NotHttp);
    }
    let status = three_digits(status)?;
    t.skip(2).ok_or(Malformed::MissingFields)?;
    let bytes = size(t.next().ok_or(Malformed::MissingFields)?)?;
    let request = t.next().ok_or(Malformed::NoRequest)?;
    if request.starts_with(b"- - -") || request.is_empty() {
        return Err(Malformed::NotHttp);
    }
    let agent = t.next().ok_or(Malformed::UnterminatedUserAgent)?;
    t.skip(1);
    let tls = t.next().map(dash_is_empty).unwrap_or_default();

    let mut parsed = LogLine::new(client, time, Request::Line(request), status);
    parsed.bytes = bytes;
    parsed.user_agent = dash_is_empty(agent);
    parsed.tls = tls;
    parsed.response_time_us = total_us.map_or(NO_RESPONSE_TIME, |us| us.min(NO_RESPONSE_TIME - 1));
    Ok(parsed)
}

/// S3: `bucket_owner bucket [time] remote_ip requester request_id operation key
/// "request_uri" http_status error_code bytes_sent object_size total_time turn_around_time
/// "referer" "user_agent" version_id host_id signature_version cipher_suite
/// authentication_type host_header tls_version …`.
pub(super) fn parse_s3(line: &[u8]) -> Result<LogLine<'_>, Malformed> {
    let mut t = Tokens::new(line);
    t.skip(1).ok_or(Malformed::MissingFields)?;
    let bucket = t.next().ok_or(Malformed::MissingFields)?;
    if !t.rest().starts_with(b"[") {
        return Err(Malformed::NoTimestamp);
    }
    let time = t.next().ok_or(Malformed::NoTimestamp)?;
    let time = parse_clf_time(time).map_err(|_| Malformed::BadTimestamp)?;
    let client = dash_is_empty(t.next().ok_or(Malformed::NoClient)?);
    let user = dash_is_empty(t.next().ok_or(Malformed::MissingFields)?);
    t.skip(3).ok_or(Malformed::MissingFields)?;
    let request = t.next().ok_or(Malformed::NoRequest)?;
    if request == b"-" {
        return Err(Malformed::NotHttp);
    }
    let status = three_digits(t.next().ok_or(Malformed::BadStatus)?)?;
    t.skip(1).ok_or(Malformed::MissingFields)?;
    let bytes = size(t.next().ok_or(Malformed::BadBytes)?)?;
    t.skip(1).ok_or(Malformed::MissingFields)?;
    let total_ms = t.next().ok_or(Malformed::MissingFields)?;
    t.skip(1).ok_or(Malformed::MissingFields)?;
    let referrer = t.next().ok_or(Malformed::UnterminatedReferrer)?;
    let agent = t.next().ok_or(Malformed::UnterminatedUserAgent)?;

    let mut parsed = LogLine::new(client, time, Request::Line(request), status);
    parsed.user = user;
    parsed.bytes = bytes;
    parsed.referrer = dash_is_empty(referrer);
    parsed.user_agent = dash_is_empty(agent);
    parsed.vhost = bucket;
    if total_ms != b"-" {
        let (ms, end) = number_field(total_ms, 0);
        if end == 0 || end != total_ms.len() {
            return Err(Malformed::BadResponseTime);
        }
        parsed.response_time_us =
            ms.saturating_mul(1000).min(u64::from(NO_RESPONSE_TIME - 1)) as u32;
    }
    // version_id host_id signature_version cipher_suite authentication_type host_header
    // tls_version: newer lines only.
    if t.skip(5).is_some() {
        if let Some(host) = t.next() {
            let host = dash_is_empty(host);
            if !host.is_empty() {
                parsed.vhost = host;
            }
        }
        parsed.tls = t.next().map(dash_is_empty).unwrap_or_default();
    }
    Ok(parsed)
}

/// `1.2.3.4:2817` → `1.2.3.4`; `[2001:db8::1]:2817` or `2001:db8::1:2817` → `2001:db8::1`.
/// The load balancers always write `address:port`, an IPv6 address without brackets too, so
/// the last colon is the port's: not [`super::strip_port`], which cannot tell a bare IPv6
/// address's last group from a port and keeps it whole.
fn without_port(field: &[u8]) -> &[u8] {
    let Some(colon) = memchr::memrchr(b':', field) else {
        return field;
    };
    let host = &field[..colon];
    host.strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .unwrap_or(host)
}

/// The host and port of an absolute request target (`GET https://shop.example:443/x
/// HTTP/1.1` → `shop.example:443`); empty for a target in origin form, even one with a URL
/// in its query (`GET /go?to=http://elsewhere/ HTTP/1.1`). The virtual host of a line that
/// logs none (ELB's every line): looked at once per distinct request.
pub fn target_host(request: &[u8]) -> &[u8] {
    let Some(space) = request.iter().position(|&b| b == b' ') else {
        return b"";
    };
    let target = &request[space + 1..];
    let scheme = target
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let Some(after) = target[scheme..].strip_prefix(b"://").filter(|_| scheme > 0) else {
        return b"";
    };
    let end = after
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#' | b' '))
        .unwrap_or(after.len());
    let authority = &after[..end];
    // `user:password@host`: the host only.
    match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    }
}

pub(super) fn three_digits(field: &[u8]) -> Result<u16, Malformed> {
    let (value, end) = number_field(field, 0);
    if field.len() != 3 || end != 3 {
        return Err(Malformed::BadStatus);
    }
    Ok(value as u16)
}

pub(super) fn size(field: &[u8]) -> Result<u64, Malformed> {
    if field == b"-" {
        return Ok(0);
    }
    let (value, end) = number_field(field, 0);
    if end == 0 || end != field.len() || end > 19 {
        return Err(Malformed::BadBytes);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::target_host;

    #[test]
    fn target_host_reads_absolute_targets_only() {
        let cases: [(&[u8], &[u8]); 11] = [
            // Credentials in the target are not the host.
            (
                b"GET http://u:p@shop.example:80/x HTTP/1.1",
                b"shop.example:80",
            ),
            (b"GET http://u@shop.example/ HTTP/1.1", b"shop.example"),
            (
                b"GET https://shop.example:443/x?id=3 HTTP/1.1",
                b"shop.example:443",
            ),
            (b"GET http://shop.example/ HTTP/1.1", b"shop.example"),
            (b"GET wss://live.example:443 HTTP/1.1", b"live.example:443"),
            (b"GET http://shop.example?q=1 HTTP/1.1", b"shop.example"),
            (
                b"GET http://[2001:db8::1]:80/x HTTP/1.1",
                b"[2001:db8::1]:80",
            ),
            (b"GET /go?to=http://elsewhere.example/ HTTP/1.1", b""),
            (b"GET ://nohost/ HTTP/1.1", b""),
            (b"GET", b""),
            (b"", b""),
        ];
        for (request, host) in cases {
            assert_eq!(
                target_host(request),
                host,
                "{}",
                String::from_utf8_lossy(request)
            );
        }
    }
}
