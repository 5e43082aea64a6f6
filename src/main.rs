//! The `accesslens` binary: parse the command line, run, map the outcome to an exit code.
//!
//! 0: success (malformed lines are not a failure). 1: the run failed. 2: the command line is
//! invalid (clap's own exit code). A closed standard output (`accesslens … | head`) is not a
//! failure.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use accesslens::cli::{Cli, ColorArg, Command};
use accesslens::config::Config;
use accesslens::output::overview::{self, RunFacts};
use accesslens::pipeline;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Report(args) => report(&args),
        Command::Merge(args) => merge(args),
    }
}

/// `accesslens merge STATE_DIR… --out DIR`: report tables from earlier runs' state.
fn merge(args: accesslens::cli::MergeArgs) -> ExitCode {
    let config = match accesslens::config::MergeConfig::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let merged = match pipeline::merge(&config) {
        Ok(merged) => merged,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !config.quiet {
        tell_merged(&config, &merged);
    }
    // The tables are written and the process ends: freeing a period's millions of rows one
    // by one would only delay the exit (a tenth of a month's merge).
    std::mem::forget(merged);
    ExitCode::SUCCESS
}

/// What `merge` prints when it is done: partitions skipped or without some tables, and the
/// period merged.
fn tell_merged(
    config: &accesslens::config::MergeConfig,
    merged: &accesslens::state::merge::Merged,
) {
    for p in &merged.skipped {
        eprintln!(
            "accesslens: {}: skipped: a newer partition of the same inputs counts",
            p.dir.display()
        );
    }
    if let Some(dir) = &merged.without_history {
        eprintln!(
            "accesslens: {}: an older state without visits: visitors, sessions, visitor_types, \
             visit_frequency, visit_recency, retention and attribution are not written; run \
             `accesslens analyze --state` again over its inputs to have them",
            dir.display()
        );
    }
    if let Some(dir) = &merged.without_journeys {
        eprintln!(
            "accesslens: {}: a state whose visits lack their page views: paths and transitions \
             are not written; run `accesslens analyze --state` again over its inputs to have them",
            dir.display()
        );
    }
    if let Some(dir) = &merged.without_response_times {
        eprintln!(
            "accesslens: {}: a state written before pages kept response times: the merged \
             pages' avg_response_ms and max_response_ms are of the newer partitions only",
            dir.display()
        );
    }
    let visitors = match &merged.history {
        Some(h) => format!("{} visitors", h.visitor_count),
        None => format!("about {} visitors (estimated)", merged.visitors),
    };
    let (first, last) = (
        &merged.partitions[0],
        &merged.partitions[merged.partitions.len() - 1],
    );
    // The tables are written: a closed standard output is no failure.
    let _ = writeln!(
        io::stdout(),
        "merged {} partition{} ({} to {}): {} sessions, {visitors} -> {}",
        merged.partitions.len(),
        if merged.partitions.len() == 1 {
            ""
        } else {
            "s"
        },
        first.manifest.date,
        last.manifest.date,
        merged.sessions,
        config.out_dir.display()
    );
}

/// `accesslens report OUT_DIR --html FILE`: the HTML report of an existing output directory.
fn report(args: &accesslens::cli::ReportArgs) -> ExitCode {
    match accesslens::output::html::write(&args.dir, &args.html, args.top) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn analyze(args: accesslens::cli::AnalyzeArgs) -> ExitCode {
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match pipeline::run(&config) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !config.quiet {
        for file in &outcome.files {
            if let Some(d) = file.detected {
                eprintln!(
                    "accesslens: {}: format {} ({}/{} sample lines)",
                    file.file,
                    d.format.name(),
                    d.hits,
                    d.sampled
                );
            }
        }
        if outcome.spilled_bytes > 0 {
            eprintln!(
                "accesslens: {:.1} MB of hits waited on disk (over --hit-memory)",
                outcome.spilled_bytes as f64 / 1e6
            );
        }
    }
    for skipped in &outcome.skipped {
        eprintln!("warning: skipped: {skipped}");
    }
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    if !config.quiet {
        for said in &outcome.continued {
            eprintln!("accesslens: {said}");
        }
    }
    if !outcome.state_stale.is_empty() {
        let files = outcome.state_stale.join(", ");
        eprintln!(
            "warning: --state: the state this run replaced had open sessions that the run over \
             {files} continued, and they are no longer the same; analyze {files} again with \
             --continue-from (until then, merge refuses the two states together)"
        );
    }
    for file in &outcome.state_dropped {
        eprintln!(
            "warning: --state: this run replaced state that also counted {file}, which it did \
             not read; run it again over {file} to count it"
        );
    }
    let malformed = outcome.reports.summary.malformed;
    if malformed > 0 {
        let first = &outcome.samples[0];
        eprintln!(
            "warning: {malformed} malformed line{} (not counted as hits); first: {}:{}: {}",
            if malformed == 1 { "" } else { "s" },
            first.file,
            first.line,
            first.reason
        );
    }
    if config.quiet {
        return ExitCode::SUCCESS;
    }
    let facts = RunFacts {
        files: &outcome.files,
        samples: &outcome.samples,
        elapsed: outcome.elapsed,
        top: config.top,
        goals: config.enrich.goals.goals.len(),
        path_depth: config.journeys.depth,
        color: match config.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        },
        out_dir: &config.out_dir.display().to_string(),
    };
    let mut stdout = io::stdout().lock();
    match overview::print(&mut stdout, &outcome.reports, &facts).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the overview: {e}");
            ExitCode::FAILURE
        }
    }
}
