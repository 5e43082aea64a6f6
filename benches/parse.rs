//! Micro-benchmarks of the per-line hot path, on lines from the seeded generator (realistic
//! lengths and field mixes, 1‰ malformed):
//!
//! - `split`: finding line ends (memchr) — the floor under everything else;
//! - `parse`: the combined-format scanner, timestamp included, fields borrowed;
//! - `parse_intern`: parse plus interning every field into chunk-local dictionaries, i.e. the
//!   whole per-line cost of the ingest loop on one core;
//! - `classify_agent`: woothee plus the bot table, which runs once per *distinct* user agent
//!   (shown to make clear why it must never run per line).
//!
//! Run: `cargo bench --bench parse`. Throughput is reported in bytes of log per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use accesslens::enrich::{ChunkHits, agent};
use accesslens::parse::{self, Format};
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

criterion_group!(benches, per_line, per_distinct);
criterion_main!(benches);
