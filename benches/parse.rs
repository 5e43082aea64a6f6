//! Micro-benchmarks of the per-line hot path, on lines from the seeded generator (realistic
//! lengths and field mixes, 1‰ malformed):
//!
//! - `split`: finding line ends (memchr) — the floor under everything else;
//! - `parse`: the combined-format scanner, timestamp included, fields borrowed;
//! - `preset/<format>`: each preset's scanner on the same requests written in that format's
//!   layout by the generator (`SynthOptions::format`; so the rows compare scanners, not
//!   data), through the ingest loop's [`LineParser`] (which carries W3C `#Fields:` state);
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
use accesslens::parse::{self, CustomFormat, Format, LineParser, Parsed};
use accesslens::synth::{SynthOptions, generate};

/// The generator's requests written in `format`'s layout (the same requests in every one).
fn sample(lines: u64, format: Format) -> Vec<u8> {
    let mut log = Vec::new();
    generate(
        &SynthOptions {
            lines,
            seed: 7,
            format,
            ..SynthOptions::default()
        },
        &mut log,
    )
    .expect("in memory");
    log
}

fn per_line(c: &mut Criterion) {
    let log = sample(20_000, Format::Combined);
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

/// The measured loop of the `preset/` rows: each line through the ingest loop's parser,
/// hits counted. Out of line, so that `benches/instructions.sh` can tell its calls of
/// `LineParser::parse` from the set-up's, however the compiler inlines the code around it.
#[inline(never)]
fn measured_parse(mut parser: LineParser, text: &[u8]) -> usize {
    parse::lines(text)
        .filter(|line| matches!(parser.parse(line), Ok(Parsed::Hit(_))))
        .count()
}

/// Each preset on the same requests in its own layout: ns per line and bytes per second.
fn per_preset(c: &mut Criterion) {
    let mut group = c.benchmark_group("preset");
    for format in Format::ALL {
        let text = sample(20_000, format);
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
            b.iter(|| measured_parse(LineParser::new(format, None), black_box(&text)))
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
        let text = sample(20_000, lines_of);
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
            b.iter(|| measured_parse(LineParser::custom(Arc::clone(&compiled)), black_box(&text)))
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
