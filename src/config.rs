//! What the program will do: the command line resolved and validated into settings. Stages
//! see only this, never the clap structs.

use std::path::PathBuf;

use crate::cli::{AnalyzeArgs, FormatArg, SessionsArg};
use crate::enrich::{EnrichRules, PathRules, SiteDomains};
use crate::error::{Error, Result};
use crate::ingest::IngestOptions;
use crate::input::{ReadOptions, Source};
use crate::parse::Format;
use crate::sessionize::{SessionPreset, SessionRules};

/// Default read window: large enough to keep every core busy, small enough that a few of
/// them in flight stay far below the size of a big log.
pub const DEFAULT_WINDOW: usize = 64 << 20;

/// Settings of an `analyze` run.
#[derive(Debug, Clone)]
pub struct Config {
    pub inputs: Vec<Source>,
    pub out_dir: PathBuf,
    pub ingest: IngestOptions,
    pub enrich: EnrichRules,
    pub sessions: SessionRules,
    pub threads: usize,
    pub top: usize,
    pub quiet: bool,
}

impl Config {
    pub fn from_args(args: AnalyzeArgs) -> Result<Config> {
        let inputs: Vec<Source> = args.files.iter().map(|f| Source::from_arg(f)).collect();
        if inputs.iter().filter(|s| **s == Source::Stdin).count() > 1 {
            return Err(Error::InvalidOption {
                flag: "FILES",
                value: "-".into(),
                reason: "standard input can be read only once".into(),
            });
        }
        let preset = match args.sessions {
            SessionsArg::Ga4 => SessionPreset::Ga4,
            SessionsArg::Awstats => SessionPreset::Awstats,
        };
        let timeout_ms = match &args.session_timeout {
            Some(text) => parse_duration_ms(text).map_err(|reason| Error::InvalidOption {
                flag: "--session-timeout",
                value: text.clone(),
                reason,
            })?,
            None => preset.default_timeout_ms(),
        };
        let threads = match args.threads {
            Some(0) | None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(n) => n,
        };
        let format = match args.format {
            FormatArg::Combined => Format::Combined,
            FormatArg::Common => Format::Common,
        };
        if args.chunk_size == Some(0) || args.window_size == Some(0) {
            return Err(Error::InvalidOption {
                flag: "--chunk-size/--window-size",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Config {
            inputs,
            out_dir: args.out,
            ingest: IngestOptions {
                format,
                read: ReadOptions {
                    window_size: args.window_size.unwrap_or(DEFAULT_WINDOW),
                    mmap: !args.no_mmap,
                },
                chunk_size: args.chunk_size,
                keep_going: args.keep_going,
            },
            enrich: EnrichRules {
                paths: PathRules::default(),
                site: SiteDomains::new(&args.site_domains),
            },
            sessions: SessionRules { preset, timeout_ms },
            threads,
            top: args.top,
            quiet: args.quiet,
        })
    }
}

/// Parses a humane duration (`30m`, `1h30m`, `90s`, `1500ms`, `2h`) into milliseconds.
pub fn parse_duration_ms(text: &str) -> std::result::Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; use e.g. 30m, 1h or 90s".into());
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "expected a number at {rest:?}; use e.g. 30m, 1h or 90s"
            ));
        }
        let value: i64 = rest[..digits]
            .parse()
            .map_err(|_| "number too large".to_string())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" | "sec" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => {
                return Err(format!(
                    "{value} needs a unit: ms, s, m, h or d (e.g. {value}m)"
                ));
            }
            other => return Err(format!("unknown unit {other:?}; use ms, s, m, h or d")),
        };
        rest = &rest[unit_len..];
        total = value
            .checked_mul(unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration too large".to_string())?;
    }
    if total <= 0 {
        return Err("the timeout must be longer than zero".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("30m"), Ok(1_800_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("1500ms"), Ok(1500));
        assert_eq!(parse_duration_ms(" 2h "), Ok(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        for bad in [
            "",
            "30",
            "m",
            "30x",
            "0m",
            "-5m",
            "1h 30m",
            "99999999999999999999h",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad:?}");
        }
    }
}
