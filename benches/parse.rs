//! Micro-benchmarks of the per-line hot path, on lines from the seeded generator (realistic
//! lengths and field mixes, 1‰ malformed):
//!
//! - `split`: finding line ends (memchr) — the floor under everything else;
//! - `parse`: the combined-format scanner, timestamp included, fields borrowed;
//! - `preset/<format>`: each preset's scanner on the same requests, rewritten in that
//!   format (so the rows compare scanners, not data), through the ingest loop's
//!   [`LineParser`] (which carries W3C `#Fields:` state);
//! - `preset/custom_apache_combined`, `preset/custom_nginx_combined`: the combined format
//!   given as an Apache `LogFormat` and as an nginx `log_format` string (`--log-format`),
//!   compiled, on the same lines as `preset/combined`; `preset/custom_nginx_timed`: nginx's
//!   combined format plus `$request_time $upstream_response_time`, on `preset/nginx`'s lines;
//! - `parse_intern`: parse plus interning every field into chunk-local dictionaries, i.e. the
//!   whole per-line cost of the ingest loop on one core;
//! - `classify_agent`: woothee plus the bot table, which runs once per *distinct* user agent
//!   (shown to make clear why it must never run per line).
//!
//! Run: `cargo bench --bench parse`. Throughput is reported in bytes of log per second.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use accesslens::enrich::{ChunkHits, agent};
use accesslens::parse::{self, CustomFormat, Format, LineParser, LogLine, Parsed};
use accesslens::synth::{SynthOptions, generate};

fn sample(lines: u64) -> Vec<u8> {
    let mut log = Vec::new();
    generate(
        &SynthOptions {
            lines,
            seed: 7,
            ..SynthOptions::default()
        },
        &mut log,
    )
    .expect("in memory");
    log
}

fn per_line(c: &mut Criterion) {
    let log = sample(20_000);
    let lines = parse::lines(&log).count() as u64;
    let mut group = c.benchmark_group("per_line");
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.bench_function("split", |b| {
        b.iter(|| parse::lines(black_box(&log)).count())
    });
    group.bench_function("parse", |b| {
        b.iter(|| {
            parse::lines(black_box(&log))
                .filter(|line| Format::Combined.parse(line).is_ok())
                .count()
        })
    });
    group.bench_function("parse_intern", |b| {
        b.iter(|| {
            let mut hits = ChunkHits::with_capacity(lines as usize);
            for line in parse::lines(black_box(&log)) {
                if let Ok(parsed) = Format::Combined.parse(line) {
                    hits.push(&parsed);
                }
            }
            hits.len()
        })
    });
    group.finish();
    eprintln!(
        "per_line: {lines} lines, {} bytes, {:.0} bytes per line",
        log.len(),
        log.len() as f64 / lines as f64
    );
}

/// The synthetic log's lines, rewritten in `format`.
fn rewrite(log: &[u8], format: Format) -> Vec<u8> {
    let mut out = Vec::with_capacity(log.len() * 2);
    match format {
        Format::W3c => out.extend_from_slice(
            b"#Software: accesslens bench\n#Fields: date time c-ip cs-username cs-method cs-uri-stem cs-uri-query sc-status sc-bytes time-taken cs(User-Agent) cs(Referer)\n",
        ),
        Format::CloudFront => out.extend_from_slice(
            b"#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n",
        ),
        _ => {}
    }
    for line in parse::lines(log) {
        let Ok(l) = Format::Combined.parse(line) else {
            continue;
        };
        out.extend_from_slice(render(format, &l).as_bytes());
        out.push(b'\n');
    }
    out
}

/// One request in `format`'s layout.
fn render(format: Format, l: &LogLine<'_>) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace('"', "'");
    let or_dash = |b: &[u8]| {
        if b.is_empty() {
            "-".to_owned()
        } else {
            text(b)
        }
    };
    let request = text(&l.request.to_line());
    let mut words = request.splitn(3, ' ');
    let (method, target, proto) = (
        words.next().unwrap_or("GET").to_owned(),
        words.next().unwrap_or("/").to_owned(),
        words.next().unwrap_or("HTTP/1.1").to_owned(),
    );
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = if query.is_empty() { "-" } else { query };
    let (client, agent, referrer) = (text(l.client), text(l.user_agent), text(l.referrer));
    let secs = l.time.utc_ms.div_euclid(1000);
    let (y, mo, d) = accesslens::parse::time::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h, mi, se) = (sod / 3600, sod / 60 % 60, sod % 60);
    let iso = format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.{:03}000Z",
        l.time.utc_ms.rem_euclid(1000)
    );
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let clf = format!(
        "{d:02}/{}/{y:04}:{h:02}:{mi:02}:{se:02}",
        months[mo as usize - 1]
    );
    let (status, bytes) = (l.status, l.bytes);
    let json = |s: &str| s.replace('\\', "\\\\");
    match format {
        Format::Combined | Format::Common | Format::Custom => {
            format!(
                "{client} - - [{clf} +0000] \"{request}\" {status} {bytes} \"{}\" \"{}\"",
                or_dash(l.referrer),
                or_dash(l.user_agent)
            )
        }
        Format::VCombined | Format::VCommon => format!(
            "www.example.com:443 {client} - - [{clf} +0000] \"{request}\" {status} {bytes} \"{}\" \"{}\"",
            or_dash(l.referrer),
            or_dash(l.user_agent)
        ),
        Format::Nginx => format!(
            "{client} - - [{clf} +0000] \"{request}\" {status} {bytes} \"{}\" \"{}\" 0.012 0.010",
            or_dash(l.referrer),
            or_dash(l.user_agent)
        ),
        Format::W3c => format!(
            "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{se:02} {client} - {method} {} {} {status} {bytes} 15 {} {}",
            path.replace(' ', "%20"),
            query.replace(' ', "%20"),
            or_dash(l.user_agent).replace(' ', "+"),
            or_dash(l.referrer).replace(' ', "%20")
        ),
        Format::CloudFront => [
            format!("{y:04}-{mo:02}-{d:02}"),
            format!("{h:02}:{mi:02}:{se:02}"),
            "FRA56-P1".into(),
            bytes.to_string(),
            client,
            method,
            "d111111abcdef8.cloudfront.net".into(),
            path.to_owned(),
            status.to_string(),
            or_dash(l.referrer),
            or_dash(l.user_agent).replace(' ', "%20"),
            query.to_owned(),
            "-".into(),
            "Hit".into(),
            "Xb1eQ1Vz4mYhAfy7kBk2EXAMPLE==".into(),
            "www.example.com".into(),
            "https".into(),
            "180".into(),
            "0.002".into(),
        ]
        .join("\t"),
        Format::Elb => format!(
            "{iso} my-lb {client}:51234 10.0.1.5:80 0.000040 0.012500 0.000030 {status} {status} 0 {bytes} \"{method} https://www.example.com:443{target} {proto}\" \"{agent}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2"
        ),
        Format::Alb => format!(
            "https {iso} app/my-alb/50dc6c495c0c9188 {client}:51234 10.0.1.5:80 0.001 0.045 0.000 {status} {status} 312 {bytes} \"{method} https://www.example.com:443{target} {proto}\" \"{agent}\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 \"Root=1-58337262-36d228ad5d99923122bbe354\" \"www.example.com\" \"-\" 0 {iso} \"forward\" \"-\" \"-\" \"10.0.1.5:80\" \"{status}\" \"-\" \"-\""
        ),
        Format::S3 => format!(
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be assets [{clf} +0000] {client} - 3E57427F3EXAMPLE WEBSITE.GET.OBJECT index.html \"{request}\" {status} - {bytes} {bytes} 12 11 \"{}\" \"{}\" - Ig0yQ0bFZEXAMPLE= SigV4 ECDHE-RSA-AES128-GCM-SHA256 - assets.s3.amazonaws.com TLSv1.2 - -",
            or_dash(l.referrer),
            or_dash(l.user_agent)
        ),
        Format::Caddy => format!(
            r#"{{"level":"info","ts":{secs}.{:03},"logger":"http.log.access","msg":"handled request","request":{{"remote_ip":"{client}","remote_port":"51234","client_ip":"{client}","proto":"{proto}","method":"{method}","host":"www.example.com","uri":"{}","headers":{{"Accept":["text/html"],"User-Agent":["{}"],"Referer":["{}"],"Accept-Encoding":["gzip, br"]}},"tls":{{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"www.example.com"}}}},"bytes_read":0,"user_id":"","duration":0.0123,"size":{bytes},"status":{status},"resp_headers":{{"Server":["Caddy"],"Content-Type":["text/html"]}}}}"#,
            l.time.utc_ms.rem_euclid(1000),
            json(&target),
            json(&agent),
            json(&referrer)
        ),
        Format::Traefik => format!(
            r#"{{"ClientAddr":"{client}:51234","ClientHost":"{client}","ClientPort":"51234","ClientUsername":"-","DownstreamContentSize":{bytes},"DownstreamStatus":{status},"Duration":12345678,"OriginContentSize":{bytes},"OriginDuration":12000000,"OriginStatus":{status},"Overhead":345678,"RequestHost":"www.example.com","RequestMethod":"{method}","RequestPath":"{}","RequestProtocol":"{proto}","RequestScheme":"https","RetryAttempts":0,"RouterName":"web@docker","StartUTC":"{iso}","entryPointName":"websecure","level":"info","msg":"","request_Referer":"{}","request_User-Agent":"{}"}}"#,
            json(&target),
            json(&referrer),
            json(&agent)
        ),
        Format::Haproxy => format!(
            "Oct 10 13:55:36 lb1 haproxy[812]: {client}:51234 [{clf}.120] www~ app/web1 0/0/1/12/13 {status} {bytes} - - ---- 3/3/0/0/0 0/0 {{{}|{}}} \"{request}\"",
            referrer.replace(['|', '}'], "_"),
            agent.replace(['|', '}'], "_")
        ),
    }
}

/// Each preset on the same requests in its own layout: ns per line and bytes per second.
fn per_preset(c: &mut Criterion) {
    let log = sample(20_000);
    let mut group = c.benchmark_group("preset");
    for format in Format::ALL {
        let text = rewrite(&log, format);
        let lines = parse::lines(&text).count();
        let parsed = {
            let mut parser = LineParser::new(format, None);
            parse::lines(&text)
                .filter(|l| matches!(parser.parse(l), Ok(Parsed::Hit(_))))
                .count()
        };
        eprintln!(
            "preset/{}: {lines} lines, {parsed} parsed, {:.0} bytes per line",
            format.name(),
            text.len() as f64 / lines as f64
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format.name(), |b| {
            b.iter(|| {
                let mut parser = LineParser::new(format, None);
                parse::lines(black_box(&text))
                    .filter(|line| matches!(parser.parse(line), Ok(Parsed::Hit(_))))
                    .count()
            })
        });
    }
    // The combined format as users would paste it: compiled format strings against the
    // hand-written combined scanner, on the same lines; and nginx's format with its timings
    // against the `nginx` preset's lines.
    for (name, spec, lines_of) in [
        ("custom_apache_combined", APACHE_COMBINED, Format::Combined),
        ("custom_nginx_combined", NGINX_COMBINED, Format::Combined),
        ("custom_nginx_timed", NGINX_TIMED, Format::Nginx),
    ] {
        let text = rewrite(&log, lines_of);
        group.throughput(Throughput::Bytes(text.len() as u64));
        let compiled = Arc::new(CustomFormat::compile(spec, None).expect("a valid format"));
        let parsed = {
            let mut parser = LineParser::custom(Arc::clone(&compiled));
            parse::lines(&text)
                .filter(|l| matches!(parser.parse(l), Ok(Parsed::Hit(_))))
                .count()
        };
        eprintln!("preset/{name}: {parsed} parsed");
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut parser = LineParser::custom(Arc::clone(&compiled));
                parse::lines(black_box(&text))
                    .filter(|line| matches!(parser.parse(line), Ok(Parsed::Hit(_))))
                    .count()
            })
        });
    }
    group.finish();
}

/// Apache's and nginx's own definitions of the combined format.
const APACHE_COMBINED: &str = r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\""#;
const NGINX_COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
/// nginx's combined format with the request and upstream times, as the `nginx` preset reads.
const NGINX_TIMED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time"#;

fn per_distinct(c: &mut Criterion) {
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "python-requests/2.32.3",
    ];
    let mut group = c.benchmark_group("per_distinct");
    group.throughput(Throughput::Elements(agents.len() as u64));
    group.bench_function("classify_agent", |b| {
        b.iter(|| {
            agents
                .iter()
                .filter(|a| agent::classify(black_box(a)).bot.is_some())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, per_line, per_preset, per_distinct);
criterion_main!(benches);
