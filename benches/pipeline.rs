//! End-to-end benchmark: `accesslens analyze` on a generated log, every stage included
//! (memory-mapped input, parallel parse, classification, sessions, channels, a goal with
//! values and attribution, all reports, Parquet written to disk). The log is generated once
//! into a temporary file (seed 7, 1,000,000 lines by default; `ACCESSLENS_BENCH_LINES`
//! changes it) and never committed.
//!
//! Run: `cargo bench --bench pipeline`. Throughput is reported in bytes of log per second;
//! lines per second follow from the line count printed at the start.
//!
//! `merge_<days>_days` (`cargo bench --bench pipeline -- merge`): `accesslens merge` of a
//! month of daily states, as a nightly job rolls them up. `ACCESSLENS_BENCH_DAYS` logs
//! (30 by default) of that many lines each (seeds 100 on, one starting on each day from
//! 2026-10-01) are generated and analyzed with `--state` into one directory first (about a
//! minute for 30 days of 1,000,000 lines; the logs are deleted as soon as they are read);
//! then every table is merged and written, the seven of a visitor's history included.

use std::fs::File;
use std::io::BufWriter;

use clap::Parser;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use accesslens::cli::{Cli, Command};
use accesslens::config::{Config, MergeConfig};
use accesslens::pipeline;
use accesslens::synth::{SITE_ARGS, SynthOptions, generate};

fn end_to_end(c: &mut Criterion) {
    let lines = env_count("ACCESSLENS_BENCH_LINES", 1_000_000);
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
    let args = ["accesslens", "analyze", log.to_str().unwrap(), "--quiet"]
        .into_iter()
        .chain(SITE_ARGS)
        .chain(["--out", out.to_str().unwrap()]);
    let cli = Cli::parse_from(args);
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

/// A positive count from the environment, or `default`.
fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn merge_days(c: &mut Criterion) {
    const DAY_MS: i64 = 86_400_000;
    let days = env_count("ACCESSLENS_BENCH_DAYS", 30);
    let lines = env_count("ACCESSLENS_BENCH_LINES", 1_000_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let state = dir.path().join("state");
    let first_day = SynthOptions::default().start_ms - 9 * DAY_MS;
    for day in 0..days {
        let log = dir.path().join("day.log");
        generate(
            &SynthOptions {
                lines,
                seed: 100 + day,
                start_ms: first_day + day as i64 * DAY_MS,
                ..SynthOptions::default()
            },
            BufWriter::new(File::create(&log).expect("create log")),
        )
        .expect("write log");
        let out = dir.path().join("day-out");
        let args = ["accesslens", "analyze", log.to_str().unwrap(), "--quiet"]
            .into_iter()
            .chain(SITE_ARGS)
            .chain(["--state", state.to_str().unwrap()])
            .chain(["--out", out.to_str().unwrap()]);
        let Command::Analyze(args) = Cli::parse_from(args).command else {
            unreachable!("an analyze command line")
        };
        pipeline::run(&Config::from_args(args).expect("valid configuration")).expect("run");
        std::fs::remove_file(&log).expect("remove log");
    }
    eprintln!(
        "merge: {days} daily states of {lines} lines in {}",
        state.display()
    );

    let out = dir.path().join("merged");
    let args = ["accesslens", "merge", state.to_str().unwrap(), "--quiet"]
        .into_iter()
        .chain(["--out", out.to_str().unwrap()]);
    let Command::Merge(args) = Cli::parse_from(args).command else {
        unreachable!("a merge command line")
    };
    let config = MergeConfig::from_args(args).expect("valid configuration");
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.bench_function(format!("merge_{days}_days"), |b| {
        b.iter(|| pipeline::merge(&config).expect("merge succeeds").sessions)
    });
    group.finish();
}

criterion_group!(benches, end_to_end, merge_days);
criterion_main!(benches);
