//! The generated requests in the layout of any preset: the same traffic (the same random
//! draws, so the same requests in the same order, and the same malformed lines) written as
//! an ELB, Caddy, W3C … log. Benchmarks compare scanners on it with the data held equal, and
//! users can try a format end to end (`genlog --format caddy`).
//!
//! Each layout writes what its server would: UTC times where the format logs UTC (the load
//! balancers, S3, W3C, the JSON logs; HAProxy's accept date has no zone and is written in
//! UTC), the combined family's offset otherwise; the virtual host `www.example.com` where
//! the format has one; a response time made up from the response size; absent referrers
//! and user agents (`-`) left out of the JSON objects, as Caddy and Traefik leave out
//! headers that were not sent. A malformed line is the combined line broken, whatever the
//! layout: a foreign line in any log.

use std::io::Write as _;

use super::{Hit, MONTHS, civil_from_days, write_ip};
use crate::parse::Format;

/// Whether `format` is written as the generator's own combined line (`Format::Custom` is:
/// it has no layout of its own).
pub(super) fn is_combined(format: Format) -> bool {
    matches!(format, Format::Combined | Format::Custom)
}

/// The lines a log of `format` starts with: the `#Fields:` directive of the W3C layouts.
pub(super) fn header(format: Format) -> &'static [u8] {
    match format {
        Format::W3c => {
            b"#Software: accesslens genlog\n#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes time-taken\n"
        }
        Format::CloudFront => {
            b"#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n"
        }
        _ => b"",
    }
}

/// The request's time taken, in microseconds: 2 ms plus 1 ms per 20 kB sent (and 250 ms
/// for a 5xx), so that big responses and errors are the slow ones.
fn took_us(hit: &Hit<'_>) -> u64 {
    let bytes = hit.bytes.unwrap_or(0);
    2_000 + (bytes / 20) + u64::from(hit.status >= 500) * 250_000
}

/// Writes `hit`, requested at `ms` (UTC milliseconds), as one line of `format`, newline
/// included. `clf` is its combined-family timestamp (`10/Oct/2026:22:55:36 +0900`, in the
/// log's offset). `Format::Combined` and `Format::Custom` are the generator's own line and
/// are not written here.
pub(super) fn write(format: Format, hit: &Hit<'_>, ms: i64, clf: &[u8; 26], out: &mut Vec<u8>) {
    out.clear();
    let t = Utc::new(ms);
    let us = took_us(hit);
    let bytes = hit.bytes.unwrap_or(0);
    let (method, target, proto, status) = (hit.method, hit.target, hit.proto, hit.status);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let ip = {
        let mut ip = Vec::with_capacity(40);
        write_ip(&mut ip, hit.ip);
        String::from_utf8(ip).expect("an address is ASCII")
    };
    let clf = std::str::from_utf8(clf).expect("a timestamp is ASCII");
    let (referrer, agent) = (hit.referrer, hit.ua);
    let w = out;
    let written = match format {
        Format::Combined | Format::Custom => unreachable!("the generator's own line: is_combined"),
        Format::Common => writeln!(
            w,
            "{ip} - - [{clf}] \"{method} {target} {proto}\" {status} {}",
            size_or_dash(hit.bytes)
        ),
        Format::VCombined | Format::VCommon => write!(
            w,
            "www.example.com:443 {ip} - - [{clf}] \"{method} {target} {proto}\" {status} {}",
            size_or_dash(hit.bytes)
        )
        .and_then(|()| match format {
            Format::VCombined => writeln!(w, " \"{referrer}\" \"{agent}\""),
            _ => writeln!(w),
        }),
        Format::Nginx => writeln!(
            w,
            "{ip} - - [{clf}] \"{method} {target} {proto}\" {status} {} \"{referrer}\" \"{agent}\" {}.{:03} {}.{:03}",
            size_or_dash(hit.bytes),
            us / 1_000_000,
            us / 1000 % 1000,
            us * 9 / 10 / 1_000_000,
            us * 9 / 10 / 1000 % 1000,
        ),
        Format::W3c => writeln!(
            w,
            "{} {} 10.0.1.5 {method} {} {} 443 - {ip} {proto} {} {} www.example.com {status} 0 0 {bytes} {}",
            t.date(),
            t.time(),
            w3c_text(path),
            if query.is_empty() {
                "-".to_owned()
            } else {
                w3c_text(query)
            },
            w3c_text(&agent.replace(' ', "+")),
            w3c_text(referrer),
            us / 1000,
        ),
        Format::CloudFront => writeln!(
            w,
            "{}\t{}\tFRA56-P1\t{bytes}\t{ip}\t{method}\td111111abcdef8.cloudfront.net\t{}\t{status}\t{}\t{}\t{}\t-\tHit\tXb1eQ1Vz4mYhAfy7kBk2EXAMPLE==\twww.example.com\thttps\t180\t{}.{:03}",
            t.date(),
            t.time(),
            w3c_text(path),
            once_more(referrer),
            once_more(agent),
            if query.is_empty() {
                "-".to_owned()
            } else {
                once_more(query)
            },
            us / 1_000_000,
            us / 1000 % 1000,
        ),
        Format::Elb => writeln!(
            w,
            "{} my-lb {ip}:51234 10.0.1.5:80 0.000040 {}.{:06} 0.000030 {status} {status} 0 {bytes} \"{method} https://www.example.com:443{target} {proto}\" \"{agent}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2",
            t.iso(6),
            us / 1_000_000,
            us % 1_000_000,
        ),
        Format::Alb => writeln!(
            w,
            "https {} app/my-alb/50dc6c495c0c9188 {ip}:51234 10.0.1.5:80 0.001 {}.{:03} 0.000 {status} {status} 312 {bytes} \"{method} https://www.example.com:443{target} {proto}\" \"{agent}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 \"Root=1-58337262-36d228ad5d99923122bbe354\" \"www.example.com\" \"-\" 0 {} \"forward\" \"-\" \"-\" \"10.0.1.5:80\" \"{status}\" \"-\" \"-\"",
            t.iso(6),
            us / 1_000_000,
            us / 1000 % 1000,
            t.iso(6),
        ),
        Format::S3 => writeln!(
            w,
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be assets [{}] {ip} - 3E57427F3EXAMPLE WEBSITE.GET.OBJECT index.html \"{method} {target} {proto}\" {status} - {} {bytes} {} {} \"{referrer}\" \"{agent}\" - Ig0yQ0bFZEXAMPLE= SigV4 ECDHE-RSA-AES128-GCM-SHA256 - www.example.com TLSv1.2 - -",
            t.clf(true),
            size_or_dash(hit.bytes),
            us / 1000,
            us / 1000 * 9 / 10,
        ),
        Format::Caddy => {
            let mut headers = String::from("\"Accept\":[\"text/html\"]");
            for (name, value) in [("User-Agent", agent), ("Referer", referrer)] {
                if value != "-" {
                    headers.push_str(&format!(",\"{name}\":[\"{}\"]", json(value)));
                }
            }
            writeln!(
                w,
                r#"{{"level":"info","ts":{}.{:03},"logger":"http.log.access","msg":"handled request","request":{{"remote_ip":"{ip}","remote_port":"51234","client_ip":"{ip}","proto":"{proto}","method":"{method}","host":"www.example.com","uri":"{}","headers":{{{headers},"Accept-Encoding":["gzip, br"]}},"tls":{{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"www.example.com"}}}},"bytes_read":0,"user_id":"","duration":{}.{:06},"size":{bytes},"status":{status},"resp_headers":{{"Server":["Caddy"],"Content-Type":["text/html"]}}}}"#,
                ms.div_euclid(1000),
                ms.rem_euclid(1000),
                json(target),
                us / 1_000_000,
                us % 1_000_000,
            )
        }
        Format::Traefik => {
            let mut headers = String::new();
            for (name, value) in [("Referer", referrer), ("User-Agent", agent)] {
                if value != "-" {
                    headers.push_str(&format!(",\"request_{name}\":\"{}\"", json(value)));
                }
            }
            // Kept headers include the one Traefik adds itself: a line without
            // `request_User-Agent` is then a request that sent none.
            headers.push_str(",\"request_X-Forwarded-Proto\":\"https\"");
            // Go writes an IPv6 address with its port in brackets.
            let addr = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.clone()
            };
            writeln!(
                w,
                r#"{{"ClientAddr":"{addr}:51234","ClientHost":"{ip}","ClientPort":"51234","ClientUsername":"-","DownstreamContentSize":{bytes},"DownstreamStatus":{status},"Duration":{},"OriginContentSize":{bytes},"OriginDuration":{},"OriginStatus":{status},"Overhead":345678,"RequestHost":"www.example.com","RequestMethod":"{method}","RequestPath":"{}","RequestProtocol":"{proto}","RequestScheme":"https","RetryAttempts":0,"RouterName":"web@docker","StartUTC":"{}","entryPointName":"websecure","level":"info","msg":""{headers}}}"#,
                us * 1000,
                us * 900,
                json(target),
                t.iso(9),
            )
        }
        Format::Haproxy => writeln!(
            w,
            "{} lb1 haproxy[812]: {ip}:51234 [{}.{:03}] www~ app/web1 0/0/1/{}/{} {status} {bytes} - - ---- 3/3/0/0/0 0/0 {{{}|{}}} \"{method} {target} {proto}\"",
            t.syslog(),
            t.clf(false),
            ms.rem_euclid(1000),
            us / 1000,
            us / 1000 + 1,
            haproxy_text(referrer),
            haproxy_text(agent),
        ),
    };
    written.expect("writing to a Vec cannot fail");
}

fn size_or_dash(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

/// A JSON string's body. The generator's text is as a combined line holds it (`\"` and
/// `\\` escaped, as in JSON): escapes are kept, and a lone quote or backslash escaped.
fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ ('"' | '\\')) => {
                    out.push('\\');
                    out.push(next);
                }
                next => {
                    out.push_str("\\\\");
                    out.extend(next);
                }
            },
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A W3C field: no spaces or tabs (`-` stays `-`).
fn w3c_text(text: &str) -> String {
    text.replace(' ', "%20").replace('\t', "%09")
}

/// CloudFront's user agent, referrer and query: percent-encoded once more (`%` is `%25`),
/// spaces and tabs included (`-` stays `-`).
fn once_more(text: &str) -> String {
    w3c_text(&text.replace('%', "%25"))
}

/// A captured header's value: no `|` or `}`, which end it.
fn haproxy_text(text: &str) -> String {
    if text == "-" {
        return String::new();
    }
    text.replace(['|', '}'], "_")
}

/// A UTC instant's text in the layouts' shapes.
struct Utc {
    ms: i64,
    date: (i64, i64, i64),
    sod: i64,
}

impl Utc {
    fn new(ms: i64) -> Self {
        let secs = ms.div_euclid(1000);
        Utc {
            ms,
            date: civil_from_days(secs.div_euclid(86_400)),
            sod: secs.rem_euclid(86_400),
        }
    }

    fn date(&self) -> String {
        let (y, m, d) = self.date;
        format!("{y:04}-{m:02}-{d:02}")
    }

    fn time(&self) -> String {
        let s = self.sod;
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// `2026-10-10T13:55:36.120000Z`, with `decimals` (3 to 9) decimals of seconds.
    fn iso(&self, decimals: usize) -> String {
        let fraction = format!("{:03}", self.ms.rem_euclid(1000));
        format!("{}T{}.{fraction:0<decimals$}Z", self.date(), self.time(),)
    }

    /// `10/Oct/2026:13:55:36`, with ` +0000` when `zone`.
    fn clf(&self, zone: bool) -> String {
        let (y, m, d) = self.date;
        format!(
            "{d:02}/{}/{y:04}:{}{}",
            std::str::from_utf8(MONTHS[(m - 1) as usize]).expect("ASCII"),
            self.time(),
            if zone { " +0000" } else { "" }
        )
    }

    /// `Oct 10 13:55:36`, a syslog prefix's time.
    fn syslog(&self) -> String {
        let (_, m, d) = self.date;
        format!(
            "{} {d:>2} {}",
            std::str::from_utf8(MONTHS[(m - 1) as usize]).expect("ASCII"),
            self.time()
        )
    }
}
