//! What the program will do: the command line and the settings file resolved and validated
//! into settings. Stages see only this, never the clap structs or the file.
//!
//! Precedence: an option given on the command line, then the `--config` file, then the
//! default. A list given on the command line (`--goal`, `--site-domain`) replaces the file's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;
use serde::Deserialize;

use crate::aggregate::attribution::AttributionRules;
use crate::aggregate::journeys::{self, JourneyRules};
use crate::cli::{AnalyzeArgs, ClientIpArg, EmitArg, FormatArg, SessionsArg};
use crate::enrich::goals::{Goal, Goals};
use crate::enrich::text::Legacy;
use crate::enrich::{ClientIp, EnrichRules, PathRules, SiteDomains, SiteSearch, VisitorKey};
use crate::error::{Error, Result};
use crate::ingest::IngestOptions;
use crate::input::{ReadOptions, Source};
use crate::parse::time::{TimeBound, TimeRange};
use crate::parse::{CustomFormat, Format};
use crate::sessionize::{SessionPreset, SessionRules};

/// Default read window: large enough to keep every core busy, small enough that a few of
/// them in flight stay far below the size of a big log.
pub const DEFAULT_WINDOW: usize = 64 << 20;

/// Most visitor buckets of the hits table: a bucket is a unit of work for other engines,
/// and more than this many would only make tiny ones.
pub const MAX_HIT_BUCKETS: u64 = 1 << 20;

/// Settings of an `analyze` run.
#[derive(Debug, Clone)]
pub struct Config {
    pub inputs: Vec<Source>,
    pub out_dir: PathBuf,
    /// Where to write the tables as CSV too.
    pub csv_dir: Option<PathBuf>,
    /// Where to write the summary as JSON too.
    pub json_file: Option<PathBuf>,
    /// Where to write the HTML report.
    pub html_file: Option<PathBuf>,
    /// Rows per table in the HTML report.
    pub html_top: usize,
    pub ingest: IngestOptions,
    pub enrich: EnrichRules,
    pub sessions: SessionRules,
    pub attribution: AttributionRules,
    pub journeys: JourneyRules,
    /// Write the hits table, with this many visitor buckets (a power of two).
    pub hit_buckets: Option<u64>,
    /// Bytes of hits held in memory before the rest are spilled to disk (`--hit-memory`);
    /// `None` holds them all.
    pub hit_memory: Option<u64>,
    /// Where to write the run's mergeable state.
    pub state_dir: Option<PathBuf>,
    /// States whose open sessions this run continues (`--continue-from`).
    pub continue_from: Vec<PathBuf>,
    pub threads: usize,
    pub top: usize,
    pub quiet: bool,
    pub color: crate::cli::ColorArg,
}

/// The settings file: the same settings as the command line, in snake_case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    format: Option<String>,
    since: Option<String>,
    until: Option<String>,
    text_encoding: Option<String>,
    tz: Option<String>,
    log_format: Option<String>,
    visitor_key: Option<String>,
    client_ip: Option<String>,
    site_domains: Option<Vec<String>>,
    sessions: Option<String>,
    session_timeout: Option<String>,
    new_session_on_source_change: Option<bool>,
    new_session_at_midnight: Option<bool>,
    goals: Option<Vec<String>>,
    goal_value_param: Option<String>,
    attribution_lookback: Option<String>,
    beacon_paths: Option<Vec<String>>,
    site_search_params: Option<Vec<String>>,
    path_depth: Option<usize>,
    path_pages: Option<usize>,
    emit: Option<Vec<String>>,
    hit_buckets: Option<u64>,
    hit_memory: Option<String>,
    threads: Option<usize>,
    top: Option<usize>,
    html_top: Option<usize>,
}

impl FileConfig {
    fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| Error::Config {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

impl Config {
    pub fn from_args(args: AnalyzeArgs) -> Result<Config> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let file_name = args.config.as_ref().map(|p| p.display().to_string());
        // Where a setting came from, for error messages.
        let origin = |flag: &'static str, from_cli: bool| -> &'static str {
            if from_cli || file_name.is_none() {
                flag
            } else {
                config_key(flag)
            }
        };
        let invalid = |flag: &'static str, from_cli: bool, value: &str, reason: String| {
            let flag = origin(flag, from_cli);
            match (&file_name, from_cli) {
                (Some(file), false) => Error::Config {
                    path: file.clone(),
                    message: format!("invalid {flag} {value:?}: {reason}"),
                },
                _ => Error::InvalidOption {
                    flag,
                    value: value.to_owned(),
                    reason,
                },
            }
        };

        let inputs: Vec<Source> = args.files.iter().map(|f| Source::from_arg(f)).collect();
        if inputs.iter().filter(|s| **s == Source::Stdin).count() > 1 {
            return Err(Error::InvalidOption {
                flag: "FILES",
                value: "-".into(),
                reason: "standard input can be read only once".into(),
            });
        }

        // `--format` and `--log-format` exclude each other (clap says so on the command line);
        // one given on the command line wins over either in the file.
        let log_format = match (
            &args.log_format,
            args.format,
            &file.log_format,
            &file.format,
        ) {
            (Some(text), _, _, _) => Some((text, true)),
            (None, Some(_), _, _) => None,
            (None, None, Some(_), Some(_)) => {
                return Err(Error::Config {
                    path: file_name.clone().unwrap_or_default(),
                    message: "format and log_format exclude each other: keep one".into(),
                });
            }
            (None, None, Some(text), None) => Some((text, false)),
            (None, None, None, _) => None,
        };
        let from_cli = args.visitor_key.is_some();
        let (visitor_key, visitor_cookie) =
            match args.visitor_key.as_ref().or(file.visitor_key.as_ref()) {
                Some(text) => parse_visitor_key(text)
                    .map_err(|reason| invalid("--visitor-key", from_cli, text, reason))?,
                None => (VisitorKey::default(), None),
            };
        let custom = match log_format {
            Some((text, from_cli)) => Some(Arc::new(
                CustomFormat::compile(text, visitor_cookie.as_deref())
                    .map_err(|e| invalid("--log-format", from_cli, text, e.to_string()))?,
            )),
            None => None,
        };

        let format = match (args.format, &file.format) {
            _ if custom.is_some() => FormatArg::Auto,
            (Some(f), _) => f,
            (None, Some(text)) => FormatArg::from_str(text, true).map_err(|_| {
                let names: Vec<String> = FormatArg::value_variants()
                    .iter()
                    .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
                    .collect();
                invalid(
                    "--format",
                    false,
                    text,
                    format!("expected one of {}", names.join(", ")),
                )
            })?,
            (None, None) => FormatArg::Auto,
        }
        .format()
        .or(custom.as_ref().map(|_| Format::Custom));
        if visitor_key == VisitorKey::Cookie
            && custom.is_none()
            && !format.is_some_and(Format::is_w3c)
        {
            return Err(invalid(
                "--visitor-key",
                from_cli,
                args.visitor_key
                    .as_ref()
                    .or(file.visitor_key.as_ref())
                    .map_or("", String::as_str),
                "a cookie key needs --log-format with that cookie in it (%{NAME}C, \
                 $cookie_NAME or the Cookie header), or --format w3c or cloudfront (whose \
                 cs(Cookie) field holds it): the other presets log no cookies"
                    .into(),
            ));
        }
        let visitor_cookie: Option<Arc<str>> = match &custom {
            None => visitor_cookie.as_deref().map(Arc::from),
            Some(_) => None,
        };

        let bound = |flag: &'static str, cli: &Option<String>, file: &Option<String>| {
            let from_cli = cli.is_some();
            cli.as_ref()
                .or(file.as_ref())
                .map(|text| {
                    TimeBound::parse(text, flag == "--until").map_err(|_| {
                        invalid(
                            flag,
                            from_cli,
                            text,
                            "expected a date (2026-10-10) or a time (2026-10-10T08:00, \
                             optionally with Z or an offset such as +02:00)"
                                .into(),
                        )
                    })
                })
                .transpose()
        };
        let range = TimeRange {
            since: bound("--since", &args.since, &file.since)?,
            until: bound("--until", &args.until, &file.until)?,
        };
        if let (Some(since), Some(until)) = (range.since, range.until)
            && since.same_clock_at_or_after(until)
        {
            return Err(Error::InvalidOption {
                flag: "--until",
                value: args
                    .until
                    .clone()
                    .or(file.until.clone())
                    .unwrap_or_default(),
                reason: "it is not after --since: no line could be read".into(),
            });
        }

        let from_cli = args.text_encoding.is_some();
        let legacy = match args.text_encoding.as_ref().or(file.text_encoding.as_ref()) {
            Some(text) => Legacy::from_label(text).ok_or_else(|| {
                invalid(
                    "--text-encoding",
                    from_cli,
                    text,
                    "expected a character set label that keeps ASCII as ASCII, \
                     such as windows-1252, iso-8859-2, big5, shift_jis, euc-kr or gbk"
                        .into(),
                )
            })?,
            None => Legacy::default(),
        };

        let from_cli = args.tz.is_some();
        let tz = match args.tz.as_ref().or(file.tz.as_ref()) {
            Some(text) => Some(
                parse_offset_min(text).map_err(|reason| invalid("--tz", from_cli, text, reason))?,
            ),
            None => None,
        };

        let client_ip = match (args.client_ip, &file.client_ip) {
            (Some(c), _) => c,
            (None, Some(text)) => ClientIpArg::from_str(text, true).map_err(|_| {
                invalid(
                    "--client-ip",
                    false,
                    text,
                    "expected remote or forwarded-for".into(),
                )
            })?,
            (None, None) => ClientIpArg::Remote,
        };
        let client_ip = match client_ip {
            ClientIpArg::Remote => ClientIp::Remote,
            ClientIpArg::ForwardedFor => ClientIp::ForwardedFor,
        };

        let preset = match (args.sessions, &file.sessions) {
            (Some(p), _) => p,
            (None, Some(text)) => SessionsArg::from_str(text, true).map_err(|_| {
                invalid(
                    "--sessions",
                    false,
                    text,
                    "expected ga4, ua or awstats".into(),
                )
            })?,
            (None, None) => SessionsArg::Ga4,
        };
        let preset = match preset {
            SessionsArg::Ga4 => SessionPreset::Ga4,
            SessionsArg::Ua => SessionPreset::Ua,
            SessionsArg::Awstats => SessionPreset::Awstats,
        };
        let from_cli = args.session_timeout.is_some();
        let timeout_ms = match args
            .session_timeout
            .as_ref()
            .or(file.session_timeout.as_ref())
        {
            Some(text) => parse_duration_ms(text)
                .map_err(|reason| invalid("--session-timeout", from_cli, text, reason))?,
            None => preset.default_timeout_ms(),
        };
        let defaults = SessionRules::preset(preset);
        let sessions = SessionRules {
            preset,
            timeout_ms,
            split_on_source_change: args
                .new_session_on_source_change
                .or(file.new_session_on_source_change)
                .unwrap_or(defaults.split_on_source_change),
            split_at_midnight: args
                .new_session_at_midnight
                .or(file.new_session_at_midnight)
                .unwrap_or(defaults.split_at_midnight),
        };

        let from_cli = !args.goals.is_empty();
        let goal_specs = if from_cli {
            args.goals.clone()
        } else {
            file.goals.clone().unwrap_or_default()
        };
        let goals = goal_specs
            .iter()
            .map(|spec| {
                Goal::parse(spec).map_err(|reason| invalid("--goal", from_cli, spec, reason))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut names: Vec<&str> = goals.iter().map(|g| g.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(
                "--goal",
                from_cli,
                w[0],
                "two goals have this name".into(),
            ));
        }
        let goals = Goals {
            goals,
            value_param: args
                .goal_value_param
                .clone()
                .or(file.goal_value_param.clone()),
        };

        let from_cli = args.attribution_lookback.is_some();
        let lookback_ms = match args
            .attribution_lookback
            .as_ref()
            .or(file.attribution_lookback.as_ref())
        {
            Some(text) => parse_duration_ms(text)
                .map_err(|reason| invalid("--attribution-lookback", from_cli, text, reason))?,
            None => AttributionRules::default().lookback_ms,
        };

        let site_domains = if args.site_domains.is_empty() {
            file.site_domains.clone().unwrap_or_default()
        } else {
            args.site_domains.clone()
        };
        let mut paths = PathRules::default();
        let beacon_paths = if args.beacon_paths.is_empty() {
            file.beacon_paths.clone()
        } else {
            Some(args.beacon_paths.clone())
        };
        if let Some(list) = beacon_paths {
            paths.beacon_paths = list.into_iter().filter(|p| !p.is_empty()).collect();
        }
        let mut site_search = SiteSearch::default();
        let search_params = if args.site_search_params.is_empty() {
            file.site_search_params.clone()
        } else {
            Some(args.site_search_params.clone())
        };
        if let Some(list) = search_params {
            site_search.params = list.into_iter().filter(|p| !p.is_empty()).collect();
        }
        let from_cli = args.path_depth.is_some();
        let defaults = JourneyRules::default();
        let depth = args
            .path_depth
            .or(file.path_depth)
            .unwrap_or(defaults.depth);
        if !(1..=journeys::MAX_DEPTH).contains(&depth) {
            return Err(invalid(
                "--path-depth",
                from_cli,
                &depth.to_string(),
                format!("must be 1 to {}", journeys::MAX_DEPTH),
            ));
        }
        let journeys = JourneyRules {
            depth,
            max_pages: args
                .path_pages
                .or(file.path_pages)
                .unwrap_or(defaults.max_pages),
        };

        let emit = if args.emit.is_empty() {
            file.emit
                .iter()
                .flatten()
                .map(|text| {
                    EmitArg::from_str(text, true)
                        .map_err(|_| invalid("--emit", false, text, "expected hits".into()))
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            args.emit.clone()
        };
        let from_cli = args.hit_buckets.is_some();
        let buckets = args
            .hit_buckets
            .or(file.hit_buckets)
            .unwrap_or(crate::output::hits::DEFAULT_BUCKETS);
        if !buckets.is_power_of_two() || buckets > MAX_HIT_BUCKETS {
            return Err(invalid(
                "--hit-buckets",
                from_cli,
                &buckets.to_string(),
                format!("must be a power of two from 1 to {MAX_HIT_BUCKETS}, e.g. 64"),
            ));
        }
        let hit_buckets = emit.contains(&EmitArg::Hits).then_some(buckets);

        let from_cli = args.hit_memory.is_some();
        let hit_memory = match args.hit_memory.as_deref().or(file.hit_memory.as_deref()) {
            Some(text) => Some(
                parse_size(text)
                    .map_err(|reason| invalid("--hit-memory", from_cli, text, reason))?,
            ),
            None => available_memory().map(|bytes| bytes / 4),
        };

        let threads = match args.threads.or(file.threads) {
            Some(0) | None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(n) => n,
        };
        let html_top = args
            .html_top
            .or(file.html_top)
            .unwrap_or(crate::output::html::DEFAULT_TOP);
        if html_top == 0 {
            return Err(invalid(
                "--html-top",
                false,
                "0",
                "must be at least 1".into(),
            ));
        }
        if args.chunk_size == Some(0) || args.window_size == Some(0) {
            return Err(Error::InvalidOption {
                flag: "--chunk-size/--window-size",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        if args.state.is_some() && inputs.iter().any(|i| matches!(i, Source::Stdin)) {
            return Err(Error::InvalidOption {
                flag: "--state",
                value: "-".into(),
                reason: "standard input has no content fingerprint, so its state could not be \
                         told from another's; give the log as a file"
                    .into(),
            });
        }
        if args.state.is_some() && (range.since.is_some() || range.until.is_some()) {
            let (flag, value) = match (&range.since, &args.since, &args.until) {
                (Some(_), Some(v), _) => ("--since", v.clone()),
                (Some(_), None, _) => ("--since", "(settings file)".into()),
                (None, _, Some(v)) => ("--until", v.clone()),
                (None, _, None) => ("--until", "(settings file)".into()),
            };
            return Err(Error::InvalidOption {
                flag,
                value,
                reason: "not with --state: a partition records whole input files, so two runs \
                         over parts of one file would look like the same input. The state is \
                         kept by date already: analyze whole files, and give --since and \
                         --until to merge"
                    .into(),
            });
        }
        if args.state.is_none()
            && let Some(dir) = args.continue_from.first()
        {
            return Err(Error::InvalidOption {
                flag: "--continue-from",
                value: dir.display().to_string(),
                reason: "needs --state: the sessions it continues are counted in this run's \
                         state, and merge leaves them out of the earlier one's"
                    .into(),
            });
        }
        Ok(Config {
            state_dir: args.state,
            continue_from: args.continue_from,
            inputs,
            out_dir: args.out,
            csv_dir: args.csv,
            json_file: args.json,
            html_file: args.html,
            html_top,
            ingest: IngestOptions {
                format,
                custom,
                visitor_key,
                client_ip,
                connections: hit_buckets.is_some(),
                read: ReadOptions {
                    window_size: args.window_size.unwrap_or(DEFAULT_WINDOW),
                    mmap: !args.no_mmap,
                },
                chunk_size: args.chunk_size,
                keep_going: args.keep_going,
                range,
                tz,
                visitor_cookie,
            },
            enrich: EnrichRules {
                paths,
                site: SiteDomains::new(&site_domains),
                goals,
                site_search,
                legacy,
            },
            sessions,
            attribution: AttributionRules { lookback_ms },
            journeys,
            hit_buckets,
            hit_memory,
            threads,
            top: args.top.or(file.top).unwrap_or(10),
            quiet: args.quiet,
            color: args.color,
        })
    }
}

/// The settings-file key of a command-line flag (`--session-timeout` → `session_timeout`).
fn config_key(flag: &'static str) -> &'static str {
    match flag {
        "--format" => "format",
        "--log-format" => "log_format",
        "--visitor-key" => "visitor_key",
        "--client-ip" => "client_ip",
        "--sessions" => "sessions",
        "--session-timeout" => "session_timeout",
        "--goal" => "goals",
        "--attribution-lookback" => "attribution_lookback",
        "--path-depth" => "path_depth",
        "--html-top" => "html_top",
        "--emit" => "emit",
        "--hit-buckets" => "hit_buckets",
        "--hit-memory" => "hit_memory",
        other => other,
    }
}

/// `4G`, `512M`, `64KiB`, `1048576`: a size in bytes, units binary (K = 1024).
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| "expected a size such as 4G, 512M or 64K".to_string())?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        other => return Err(format!("unknown unit {other:?}: use K, M, G or T")),
    };
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| "too large".to_string())?;
    if bytes == 0 {
        return Err("must be more than 0".into());
    }
    Ok(bytes)
}

/// Memory available for new work (Linux; `None` elsewhere): `MemAvailable` from
/// `/proc/meminfo`, or less when the process runs in a cgroup (a container) whose limit
/// leaves less room, since `/proc/meminfo` shows the whole host's memory there.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    let host = kib * 1024;
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let room = match (read("memory.max"), read("memory.current")) {
        (Some(max), Some(current)) => cgroup_room(&max, &current),
        _ => None,
    };
    Some(room.map_or(host, |room| room.min(host)))
}

/// The room a cgroup v2 limit leaves: `memory.max` (a byte count, or `max` for none) less
/// `memory.current`.
fn cgroup_room(max: &str, current: &str) -> Option<u64> {
    let max: u64 = max.trim().parse().ok()?;
    let current: u64 = current.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// `ip+ua`, `ip`, `user` or `cookie:NAME` → the key, and the cookie's name.
pub fn parse_visitor_key(text: &str) -> std::result::Result<(VisitorKey, Option<String>), String> {
    Ok(match text.trim() {
        "ip+ua" | "ip+user_agent" => (VisitorKey::IpUserAgent, None),
        "ip" => (VisitorKey::Ip, None),
        "user" => (VisitorKey::User, None),
        other => match other.strip_prefix("cookie:") {
            Some(name)
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b'=' | b',')) =>
            {
                (VisitorKey::Cookie, Some(name.to_owned()))
            }
            Some(_) => return Err("cookie: needs the cookie's name, e.g. cookie:sid".into()),
            None => return Err("expected ip+ua, ip, user or cookie:NAME".into()),
        },
    })
}

/// Parses a humane duration (`30m`, `1h30m`, `90s`, `1500ms`, `2h`, `30d`) into milliseconds.
/// A fixed offset from UTC in minutes: `UTC`, `Z`, `+02:00`, `-0500`, `+5`.
pub fn parse_offset_min(text: &str) -> std::result::Result<i16, String> {
    let s = text.trim();
    if s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("z") {
        return Ok(0);
    }
    let help = || {
        format!(
            "expected a fixed offset such as +02:00, -0500 or UTC (zone names with daylight \
             saving time are not supported yet), not {s:?}"
        )
    };
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(help()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if rest.matches(':').count() > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(help());
    }
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i16>().map_err(|_| help())?, 0),
        4 => (
            digits[..2].parse::<i16>().map_err(|_| help())?,
            digits[2..].parse::<i16>().map_err(|_| help())?,
        ),
        _ => return Err(help()),
    };
    if hours > 14 || minutes > 59 {
        return Err(help());
    }
    Ok(sign * (hours * 60 + minutes))
}

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
        return Err("the duration must be longer than zero".into());
    }
    Ok(total)
}

/// Settings of a `merge` run.
#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub options: crate::state::merge::MergeOptions,
    pub out_dir: PathBuf,
    pub threads: usize,
    pub quiet: bool,
}

impl MergeConfig {
    pub fn from_args(args: crate::cli::MergeArgs) -> Result<MergeConfig> {
        let date = |flag: &'static str, text: Option<String>| -> Result<Option<i32>> {
            text.map(|t| {
                crate::state::merge::parse_date(&t).ok_or(Error::InvalidOption {
                    flag,
                    value: t,
                    reason: "expected a date, YYYY-MM-DD: state is kept by whole days".into(),
                })
            })
            .transpose()
        };
        let since = date("--since", args.since)?;
        let until = date("--until", args.until)?;
        let max_memory = match args.max_memory {
            Some(text) => Some(parse_size(&text).map_err(|reason| Error::InvalidOption {
                flag: "--max-memory",
                value: text,
                reason,
            })?),
            None => available_memory(),
        };
        let threads = match args.threads {
            Some(0) | None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(n) => n,
        };
        if let Some(depth) = args
            .path_depth
            .filter(|d| !(1..=journeys::MAX_DEPTH).contains(d))
        {
            return Err(Error::InvalidOption {
                flag: "--path-depth",
                value: depth.to_string(),
                reason: format!("must be 1 to {}", journeys::MAX_DEPTH),
            });
        }
        Ok(MergeConfig {
            options: crate::state::merge::MergeOptions {
                states: args.states,
                since,
                until,
                history: !args.no_history,
                max_memory,
                path_depth: args.path_depth,
                path_pages: args.path_pages,
            },
            out_dir: args.out,
            threads,
            quiet: args.quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset_min("UTC"), Ok(0));
        assert_eq!(parse_offset_min("z"), Ok(0));
        assert_eq!(parse_offset_min("+02:00"), Ok(120));
        assert_eq!(parse_offset_min("-0530"), Ok(-330));
        assert_eq!(parse_offset_min("+5"), Ok(300));
        assert_eq!(parse_offset_min(" +14:00 "), Ok(840));
        for bad in [
            "",
            "Europe/Berlin",
            "+15:00",
            "+02:60",
            "02:00",
            "+2:0:0",
            "+123",
        ] {
            assert!(parse_offset_min(bad).is_err(), "{bad}");
        }
    }

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

    fn config(args: &[&str], file: Option<&str>) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["accesslens", "analyze", "x.log", "--out", "out"];
        let path = dir.path().join("accesslens.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
            argv.extend(["--config", path.to_str().unwrap()]);
        }
        argv.extend(args);
        let crate::cli::Command::Analyze(args) = crate::cli::Cli::parse_from(argv).command else {
            unreachable!("an analyze command line")
        };
        Config::from_args(args)
    }

    #[test]
    fn presets_and_their_parts() {
        let c = config(&[], None).unwrap();
        assert_eq!(c.sessions, SessionRules::preset(SessionPreset::Ga4));
        let c = config(&["--sessions", "ua"], None).unwrap();
        assert!(c.sessions.split_on_source_change && c.sessions.split_at_midnight);
        assert_eq!(c.sessions.timeout_ms, 1_800_000);
        let c = config(
            &[
                "--sessions",
                "ua",
                "--new-session-at-midnight",
                "false",
                "--session-timeout",
                "45m",
            ],
            None,
        )
        .unwrap();
        assert!(c.sessions.split_on_source_change && !c.sessions.split_at_midnight);
        assert_eq!(c.sessions.timeout_ms, 2_700_000);
        let c = config(&["--sessions", "awstats"], None).unwrap();
        assert_eq!(c.sessions.timeout_ms, 3_600_000);
        assert!(!c.sessions.split_on_source_change);
    }

    #[test]
    fn file_settings_and_command_line_precedence() {
        let file = r#"
            format = "common"
            site_domains = ["example.com"]
            sessions = "ua"
            session_timeout = "20m"
            goals = ["purchase=/checkout/thank-you", "signup=/signup/*/done"]
            goal_value_param = "value"
            attribution_lookback = "7d"
            top = 5
            html_top = 20
        "#;
        let c = config(&[], Some(file)).unwrap();
        assert_eq!(c.ingest.format, Some(Format::Common));
        assert!(c.enrich.site.is_internal("www.example.com"));
        assert_eq!(c.sessions.preset, SessionPreset::Ua);
        assert_eq!(c.sessions.timeout_ms, 1_200_000);
        assert_eq!(c.enrich.goals.goals.len(), 2);
        assert_eq!(c.enrich.goals.value_param.as_deref(), Some("value"));
        assert_eq!(c.attribution.lookback_ms, 7 * 86_400_000);
        assert_eq!(c.top, 5);
        assert_eq!(c.html_top, 20);

        let c = config(
            &[
                "--format",
                "combined",
                "--goal",
                "lead=/contact/sent",
                "--top",
                "3",
            ],
            Some(file),
        )
        .unwrap();
        assert_eq!(c.ingest.format, Some(Format::Combined));
        let names: Vec<&str> = c
            .enrich
            .goals
            .goals
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(names, ["lead"]);
        assert_eq!(c.top, 3);
    }

    #[test]
    fn emit_hits_and_its_bucket_count() {
        assert_eq!(config(&[], None).unwrap().hit_buckets, None);
        assert_eq!(
            config(&["--emit", "hits"], None).unwrap().hit_buckets,
            Some(64)
        );
        let c = config(&["--emit", "hits", "--hit-buckets", "256"], None).unwrap();
        assert_eq!(c.hit_buckets, Some(256));
        let c = config(&[], Some("emit = [\"hits\"]\nhit_buckets = 8\n")).unwrap();
        assert_eq!(c.hit_buckets, Some(8));
        for bad in ["0", "48", "2097152"] {
            let err = config(&["--emit", "hits", "--hit-buckets", bad], None)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("--hit-buckets") && err.contains("power of two"),
                "{err}"
            );
        }
        let err = config(&[], Some("emit = [\"sessions\"]"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("emit") && err.contains("expected hits"),
            "{err}"
        );
    }

    #[test]
    fn the_example_settings_file_is_valid() {
        let text = include_str!("../accesslens.example.toml");
        let c = config(&[], Some(text)).unwrap();
        assert_eq!(c.enrich.goals.goals.len(), 3);
        assert_eq!(c.enrich.goals.value_param.as_deref(), Some("value"));
        assert!(c.enrich.site.is_internal("shop.example-shop.com"));
        assert_eq!(c.attribution.lookback_ms, 30 * 86_400_000);
    }

    #[test]
    fn bad_settings_name_the_option_or_the_file_line() {
        let err = config(&["--goal", "x=re:("], None).unwrap_err().to_string();
        assert!(
            err.contains("--goal") && err.contains("invalid regular expression"),
            "{err}"
        );
        let err = config(&["--goal", "a=/x", "--goal", "a=/y"], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("two goals"), "{err}");
        let err = config(&[], Some("goals = [\"nope\"]"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("accesslens.toml")
                && err.contains("goals")
                && err.contains("NAME=PATTERN"),
            "{err}"
        );
        let err = config(&[], Some("sessions = \"weekly\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sessions") && err.contains("ga4, ua or awstats"),
            "{err}"
        );
        let err = config(&[], Some("top = 3\nunknown_key = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown_key") && err.contains("line 2"),
            "{err}"
        );
        let err = config(&[], Some("top = \n")).unwrap_err().to_string();
        assert!(
            err.contains("accesslens.toml") && err.contains("line 1"),
            "{err}"
        );
    }

    #[test]
    fn log_format_and_visitor_key() {
        for (text, key, cookie) in [
            ("ip+ua", VisitorKey::IpUserAgent, None),
            ("ip+user_agent", VisitorKey::IpUserAgent, None),
            ("ip", VisitorKey::Ip, None),
            ("user", VisitorKey::User, None),
            ("cookie:sid", VisitorKey::Cookie, Some("sid")),
        ] {
            assert_eq!(
                parse_visitor_key(text),
                Ok((key, cookie.map(str::to_owned))),
                "{text}"
            );
        }
        for bad in ["", "cookie:", "cookie:a;b", "ua", "ip+ua+x"] {
            assert!(parse_visitor_key(bad).is_err(), "{bad:?}");
        }
        let file = "log_format = '$remote_addr [$time_local] \"$request\" $status $cookie_sid'\n\
                    visitor_key = \"cookie:sid\"\n";
        let c = config(&[], Some(file)).unwrap();
        assert_eq!(c.ingest.format, Some(Format::Custom));
        assert_eq!(c.ingest.visitor_key, VisitorKey::Cookie);
        let custom = c.ingest.custom.as_ref().unwrap();
        assert_eq!(custom.visitor_cookie(), Some("sid"));
        // The command line's --format wins over the file's log_format.
        let c = config(&["--format", "nginx"], Some(file))
            .unwrap_err()
            .to_string();
        assert!(c.contains("presets log no cookies"), "{c}");
        let c = config(&["--format", "nginx", "--visitor-key", "ip"], Some(file)).unwrap();
        assert_eq!(c.ingest.format, Some(Format::Nginx));
        assert!(c.ingest.custom.is_none());
        assert_eq!(c.ingest.client_ip, ClientIp::Remote);
        // Where clients come from: the file's setting, the command line winning.
        let forwarded = "client_ip = \"forwarded-for\"\n";
        let c = config(&[], Some(forwarded)).unwrap();
        assert_eq!(c.ingest.client_ip, ClientIp::ForwardedFor);
        let c = config(&["--client-ip", "remote"], Some(forwarded)).unwrap();
        assert_eq!(c.ingest.client_ip, ClientIp::Remote);
        let err = config(&[], Some("client_ip = \"xff\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("client_ip") && err.contains("forwarded-for"),
            "{err}"
        );
        let err = config(&[], Some("log_format = '%h %t'\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("accesslens.toml")
                && err.contains("log_format")
                && err.contains("request"),
            "{err}"
        );
    }

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("2 gb"), Ok(2 << 30));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn a_cgroup_limit_leaves_its_room_and_max_means_none() {
        assert_eq!(
            cgroup_room("1073741824\n", "268435456\n"),
            Some(805_306_368)
        );
        assert_eq!(cgroup_room("100", "200"), Some(0));
        assert_eq!(cgroup_room("max\n", "268435456\n"), None);
    }

    #[test]
    fn hit_memory_comes_from_the_flag_or_the_file() {
        let c = config(&["--hit-memory", "256M"], None).unwrap();
        assert_eq!(c.hit_memory, Some(256 << 20));
        let err = config(&["--hit-memory", "lots"], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--hit-memory"), "{err}");
        let c = config(&[], Some("hit_memory = \"1G\"\n")).unwrap();
        assert_eq!(c.hit_memory, Some(1 << 30));
    }
}
