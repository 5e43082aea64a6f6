//! Writes a synthetic access log: `genlog --lines 1000000 --seed 7 > big.log`, or one file per
//! server with `--servers N --out-prefix PATH` (PATH.1.log … PATH.N.log).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use accesslens::parse::Format;
use accesslens::synth::{SynthOptions, SynthStats, generate, generate_split};

const USAGE: &str = "usage: cargo run --release --example genlog -- [OPTIONS] > FILE

options: --lines N (100000)  --seed N (7)  --start YYYY-MM-DD (2026-10-10, UTC midnight)
         --tz-offset-min N (540)  --malformed-per-mille N (1)  --disorder-ms N (0)
         --servers N --out-prefix PATH  --format NAME (combined)

Writes a synthetic access log to standard output, or with --servers N to PATH.1.log ...
PATH.N.log as N load-balanced servers would. --format writes the same requests in the
layout of any preset (combined, common, vcombined, vcommon, nginx, w3c, elb, alb,
cloudfront, s3, caddy, traefik, haproxy).";

const BUFFER: usize = 1 << 20;

struct Args {
    opts: SynthOptions,
    servers: usize,
    out_prefix: Option<String>,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("genlog: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    match write(&args) {
        Ok(stats) => {
            let lines: u64 = stats.iter().map(|s| s.lines).sum();
            let bytes: u64 = stats.iter().map(|s| s.bytes).sum();
            let malformed: u64 = stats.iter().map(|s| s.malformed).sum();
            eprintln!(
                "genlog: {lines} lines, {bytes} bytes ({:.1} MB, {malformed} malformed) in {} file(s), {:.2} s",
                bytes as f64 / 1e6,
                stats.len(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        // `genlog | head` is not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("genlog: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(args: &Args) -> io::Result<Vec<SynthStats>> {
    match &args.out_prefix {
        None => {
            let stdout = io::stdout().lock();
            let stats = generate(&args.opts, BufWriter::with_capacity(BUFFER, stdout))?;
            Ok(vec![stats])
        }
        Some(prefix) => {
            let mut files = (1..=args.servers)
                .map(|i| {
                    let path = format!("{prefix}.{i}.log");
                    File::create(&path)
                        .map(|f| BufWriter::with_capacity(BUFFER, f))
                        .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))
                })
                .collect::<io::Result<Vec<_>>>()?;
            let stats = generate_split(&args.opts, &mut files)?;
            for f in &mut files {
                f.flush()?;
            }
            Ok(stats)
        }
    }
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut opts = SynthOptions {
        lines: 100_000,
        ..SynthOptions::default()
    };
    let mut servers = None;
    let mut out_prefix = None;
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--lines" => opts.lines = number(&name, &value()?)?,
            "--seed" => opts.seed = number(&name, &value()?)?,
            "--disorder-ms" => opts.disorder_ms = number(&name, &value()?)?,
            "--malformed-per-mille" => {
                let n: u32 = number(&name, &value()?)?;
                if n > 1000 {
                    return Err(format!("{name} is at most 1000"));
                }
                opts.malformed_per_mille = n;
            }
            "--start" => opts.start_ms = date_ms(&value()?)?,
            "--tz-offset-min" => opts.tz_offset_min = number(&name, &value()?)?,
            "--servers" => {
                let n: usize = number(&name, &value()?)?;
                if n == 0 {
                    return Err("--servers is at least 1".to_owned());
                }
                servers = Some(n);
            }
            "--out-prefix" => out_prefix = Some(value()?),
            "--format" => {
                let name = value()?;
                opts.format = Format::ALL
                    .into_iter()
                    .find(|f| f.name() == name)
                    .ok_or_else(|| format!("--format: no preset named {name:?}"))?;
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if opts.disorder_ms < 0 {
        return Err("--disorder-ms cannot be negative".to_owned());
    }
    if servers.is_some() && out_prefix.is_none() {
        return Err("--servers needs --out-prefix".to_owned());
    }
    Ok(Some(Args {
        opts,
        servers: servers.unwrap_or(1),
        out_prefix,
    }))
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("{name}: not a valid number: {text:?}"))
}

/// UTC midnight of `YYYY-MM-DD`, in milliseconds since the epoch.
fn date_ms(text: &str) -> Result<i64, String> {
    let bad = || format!("--start: expected a date like 2026-10-10, got {text:?}");
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return Err(bad());
    }
    // Days since 1970-01-01 (proleptic Gregorian).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400_000)
}
