//! End-to-end benchmark: `accesslens analyze` on a generated log, every stage included
//! (memory-mapped input, parallel parse, classification, sessions, channels, a goal with
//! values and attribution, all reports, Parquet written to disk). The log is generated once
//! into a temporary file (seed 7, 1,000,000 lines by default; `ACCESSLENS_BENCH_LINES`
//! changes it) and never committed.
//!
//! Run: `cargo bench --bench pipeline`. Throughput is reported in bytes of log per second;
//! lines per second follow from the line count printed at the start.

use std::fs::File;
use std::io::BufWriter;

use clap::Parser;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use accesslens::cli::{Cli, Command};
use accesslens::config::Config;
use accesslens::pipeline;
use accesslens::synth::{SynthOptions, generate};

fn end_to_end(c: &mut Criterion) {
    let lines: u64 = std::env::var("ACCESSLENS_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("access.log");
    let stats = generate(
        &SynthOptions {
            lines,
            seed: 7,
            ..SynthOptions::default()
        },
        BufWriter::new(File::create(&log).expect("create log")),
    )
    .expect("write log");
    eprintln!(
        "pipeline: {} lines, {} bytes in {}",
        stats.lines,
        stats.bytes,
        log.display()
    );

    let out = dir.path().join("out");
    let args = [
        "accesslens",
        "analyze",
        log.to_str().unwrap(),
        "--site-domain",
        "example.com",
        "--goal",
        "purchase=/checkout/thank-you",
        "--goal-value-param",
        "value",
        "--quiet",
        "--out",
    ];
    let cli = Cli::parse_from(args.iter().copied().chain([out.to_str().unwrap()]));
    let Command::Analyze(args) = cli.command else {
        unreachable!("an analyze command line")
    };
    let config = Config::from_args(args).expect("valid configuration");

    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(stats.bytes));
    group.bench_function(format!("analyze_{lines}_lines"), |b| {
        b.iter(|| {
            pipeline::run(&config)
                .expect("run succeeds")
                .reports
                .summary
                .sessions
        })
    });
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
