//! The command line as typed: clap derive structs whose doc comments are the help text.
//! [`crate::config::Config`] turns them into what the program will do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Turns web-server access logs into channel and audience analytics, written as Parquet.
#[derive(Debug, Parser)]
#[command(
    name = "accesslens",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read access logs, rebuild visitor sessions and write every report as Parquet.
    ///
    /// Prints an overview when done. Malformed lines are counted and sampled, never fatal.
    /// Exit status: 0 success, 1 failure (an input or the output cannot be used),
    /// 2 invalid command line.
    #[command(
        after_help = "Example:\n  accesslens analyze /var/log/nginx/access.log* --site-domain example.com --out reports/"
    )]
    Analyze(AnalyzeArgs),

    /// Render the HTML report of an existing output directory, without reading any log.
    ///
    /// Reads the Parquet tables that `analyze --out DIR` wrote and writes one self-contained
    /// page: the same page as `analyze --html`. Exit status: 0 success, 1 the directory or
    /// the page cannot be used, 2 invalid command line.
    #[command(after_help = "Example:\n  accesslens report reports/ --html report.html")]
    Report(ReportArgs),

    /// Combine the state of earlier runs (`analyze --state DIR`) into report tables, without
    /// reading any log.
    ///
    /// Counts are summed exactly; `visitors` columns become estimates (HLL sketches, relative
    /// standard error 1.6%) and the summary's `returning_visitors` is null. Tables that need
    /// each visitor's whole period (visitors, sessions, retention, attribution, paths) are
    /// not written. Partitions of a date that saw the same input files count once
    /// (the newest); partitions of disjoint inputs add up; partitions sharing only some
    /// inputs are refused. A session belongs to the date it started: the sessions a run left
    /// open count unless a later run continued them (`analyze --continue-from`), which then
    /// counts them whole. Exit status: 0 success, 1 a state cannot be read or merged or the
    /// output cannot be written, 2 invalid command line.
    #[command(
        after_help = "Example:\n  accesslens merge state/ --since 2026-10-01 --until 2026-10-31 --out october/"
    )]
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// State directories written by `analyze --state DIR` (their `date=YYYY-MM-DD`
    /// partitions are read), or single partitions.
    #[arg(required = true, value_name = "STATE_DIR")]
    pub states: Vec<PathBuf>,

    /// Directory for the merged Parquet reports (created if missing; existing tables are
    /// replaced).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,

    /// First date to merge, `YYYY-MM-DD` (the log's own clock, as the partitions are named).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Last date to merge, `YYYY-MM-DD`, included.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,

    /// Leave out the tables of a visitor's whole history (visitors, sessions, visitor_types,
    /// visit_frequency, visit_recency, retention, attribution, paths, transitions): no
    /// session of the period is
    /// read, so a long period merges in the time and memory of the counted tables; the
    /// summary's visitors are then estimated and its returning_visitors null.
    #[arg(long)]
    pub no_history: bool,

    /// Page views per sequence in the paths table, 1 to 8 [default: the partitions' own,
    /// as they were analyzed].
    #[arg(long, value_name = "N")]
    pub path_depth: Option<usize>,

    /// Pages named in paths and transitions: the period's N most viewed; the others are
    /// `(other)` [default: the partitions' own].
    #[arg(long, value_name = "N")]
    pub path_pages: Option<usize>,

    /// Memory the visitor history may take (`8G`, `512M`) [default: the memory available at
    /// start]. It is estimated from the sessions to read before any is read; a merge that
    /// would need more stops at once, saying so, rather than run out of memory.
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,

    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print nothing but warnings and errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output directory of an earlier `analyze` run (its `--out`).
    #[arg(value_name = "OUT_DIR")]
    pub dir: PathBuf,

    /// The HTML file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,

    /// Rows per table in the page.
    #[arg(long, value_name = "N", default_value_t = crate::output::html::DEFAULT_TOP, value_parser = at_least_one)]
    pub top: usize,
}

/// A row count of 1 or more.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Log files to read; `-` reads standard input.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,

    /// Directory for the Parquet reports (created if missing; existing tables are replaced).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,

    /// Settings file (TOML; see accesslens.example.toml). Options given on the command line
    /// win over the file.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format of the inputs [default: auto: each file's own, detected from its first
    /// lines].
    #[arg(short, long, value_enum)]
    pub format: Option<FormatArg>,

    /// Read only lines logged at or after WHEN: `2026-10-10` (midnight), `2026-10-10T08:00`,
    /// or either with a zone (`2026-10-10T08:00Z`, `…+02:00`). Without a zone, WHEN is on the
    /// clock each line was logged with. Other lines are counted as out of range.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Read only lines logged before WHEN (same forms as --since); a date alone includes
    /// that whole day, so `--since 2026-10-01 --until 2026-10-31` is all of October.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// Character set of paths, referrers and user agents that are not UTF-8 (a WHATWG label:
    /// big5, shift_jis, euc-kr, gbk, iso-8859-2…) [default: windows-1252]. UTF-8 text is
    /// always read as UTF-8.
    #[arg(long, value_name = "LABEL")]
    pub text_encoding: Option<String>,

    /// The clock of formats whose times carry no offset, as a fixed offset (`+02:00`,
    /// `-0500`, `UTC`): HAProxy's local dates are read on it, and the UTC times of W3C, AWS
    /// and JSON logs are reported on it (hours, days, midnight, --since). Logs with an
    /// offset on every line (combined, common, nginx, S3) keep theirs.
    #[arg(long, value_name = "OFFSET")]
    pub tz: Option<String>,

    /// Your server's own format instead of a preset: an Apache `LogFormat` string
    /// (`%h %l %u %t "%r" %>s %b …`) or an nginx `log_format` one (`$remote_addr - $remote_user
    /// [$time_local] "$request" …`), told apart by their `%` or `$` fields (prefix `apache:` or
    /// `nginx:` to say which). A whole `LogFormat "…" name` or `log_format name '…';` line from
    /// the server's configuration works too. Not with --format.
    #[arg(
        long,
        value_name = "FORMAT",
        conflicts_with = "format",
        allow_hyphen_values = true
    )]
    pub log_format: Option<String>,

    /// What tells visitors apart [default: ip+ua]: `ip+ua` (client address and user agent),
    /// `ip`, `user` (the authenticated user; lines without one use ip+ua) or `cookie:NAME` (a
    /// cookie that --log-format logs; lines without it use ip+ua).
    #[arg(long, value_name = "KEY")]
    pub visitor_key: Option<String>,

    /// Where a hit's client address comes from [default: remote]: `remote`, the address the
    /// server logged as its peer; `forwarded-for`, the first address of the X-Forwarded-For
    /// header where the format logs it and it holds one (a server behind a load balancer or
    /// CDN logs the balancer as its peer), else the remote address.
    #[arg(long, value_enum, value_name = "FROM")]
    pub client_ip: Option<ClientIpArg>,

    /// Your own site's domain (repeatable, or comma-separated). Referrers from it or its
    /// subdomains are internal navigation, never a traffic source.
    #[arg(long = "site-domain", value_name = "DOMAIN", value_delimiter = ',')]
    pub site_domains: Vec<String>,

    /// Session rules [default: ga4]: `ga4` cuts a session after 30 minutes without a page
    /// view; `ua` (Universal Analytics, Matomo) also when the traffic source changes and at
    /// midnight in the log's time zone; `awstats` after 60 minutes.
    #[arg(long, value_enum)]
    pub sessions: Option<SessionsArg>,

    /// Inactivity that ends a session, overriding the preset's: `30m`, `1h`, `90s`, `1h30m`.
    #[arg(long, value_name = "DURATION")]
    pub session_timeout: Option<String>,

    /// Start a new session when a page view arrives from another campaign or external source
    /// (overrides the preset: on for `ua`, off otherwise).
    #[arg(long, value_name = "BOOL")]
    pub new_session_on_source_change: Option<bool>,

    /// Start a new session at midnight in the log's time zone (overrides the preset: on for
    /// `ua`, off otherwise).
    #[arg(long, value_name = "BOOL")]
    pub new_session_at_midnight: Option<bool>,

    /// A conversion goal, NAME=PATTERN (repeatable): a path prefix (`purchase=/thank-you`), a
    /// glob (`signup=/signup/*/done`) or a regular expression (`lead=re:^/demo/(sent|ok)$`).
    /// A session converts when one of its page views matches.
    #[arg(long = "goal", value_name = "NAME=PATTERN")]
    pub goals: Vec<String>,

    /// Query parameter of a goal page's URL holding the conversion's value (e.g. `value` for
    /// `/thank-you?order=7&value=49.90`).
    #[arg(long, value_name = "NAME")]
    pub goal_value_param: Option<String>,

    /// How far back attribution looks for a converting visitor's earlier sessions [default: 30d].
    #[arg(long, value_name = "DURATION")]
    pub attribution_lookback: Option<String>,

    /// A tracking-beacon path (repeatable; replaces the defaults `/collect`, `/matomo.php`,
    /// `/piwik.php`, `/js/awstats_misc_tracker.js`). Beacons carry screen resolution and
    /// colour depth; they are not page views.
    #[arg(long = "beacon-path", value_name = "PATH", value_delimiter = ',')]
    pub beacon_paths: Vec<String>,

    /// A query parameter carrying an internal site-search term (repeatable; replaces the
    /// defaults q, query, s, search, searchword, k, keyword; an empty value turns site search off).
    #[arg(long = "site-search-param", value_name = "NAME", value_delimiter = ',')]
    pub site_search_params: Vec<String>,

    /// Page views per sequence in the paths table, 1 to 8 [default: 3].
    #[arg(long, value_name = "N")]
    pub path_depth: Option<usize>,

    /// Pages named in paths and transitions: the N most viewed; the others are `(other)`
    /// [default: 1000].
    #[arg(long, value_name = "N")]
    pub path_pages: Option<usize>,

    /// Also write every table as CSV into this directory (`<table>.csv`, with a header).
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,

    /// Also write the summary and the run's definitions as one JSON object to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the HTML report to this file: one self-contained page, rendered from the
    /// Parquet tables once they are written (the same page as `accesslens report`).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Rows per table in the HTML report [default: 50].
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub html_top: Option<usize>,

    /// Also write per-request data for other engines (repeatable, or comma-separated):
    /// `hits` writes the `hits` table, one row per request, Hive-partitioned by UTC date
    /// (`OUT/hits/date=YYYY-MM-DD/part-00000.parquet`), for Spark, Trino or DuckDB.
    #[arg(long, value_enum, value_name = "KIND", value_delimiter = ',')]
    pub emit: Vec<EmitArg>,

    /// Also write the run's mergeable state into DIR, for `accesslens merge`: a
    /// `date=YYYY-MM-DD/run=ID` directory per date with hits (the log's clock). The run
    /// replaces the state in DIR of any input it reads again. Sessions still open at the end
    /// of the input are kept apart, for a later --continue-from. Not with
    /// standard input, nor with --since or --until.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// With --state: continue the sessions left open at the end of earlier runs whose state
    /// is in DIR (a state directory, which may be --state's own), so that a visit crossing
    /// from their logs into these is one session, counted on the date it started. Reads the
    /// runs whose last hit is within a session timeout of this run's first, and that no
    /// other run has continued. Repeatable.
    #[arg(long, value_name = "DIR")]
    pub continue_from: Vec<PathBuf>,

    /// Visitor buckets of the hits table: `visitor_bucket` is the visitor hash modulo N, a
    /// power of two [default: 64].
    #[arg(long, value_name = "N")]
    pub hit_buckets: Option<u64>,

    /// Memory for hits waiting to be cut into sessions, e.g. 4G or 512M (binary units);
    /// beyond it they wait on disk inside --out [default: a quarter of the memory available
    /// at start].
    #[arg(long, value_name = "SIZE")]
    pub hit_memory: Option<String>,

    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Rows per table in the terminal overview [default: 10].
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Style the overview for a terminal: `auto` when standard output is a terminal and
    /// NO_COLOR is not set.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Print no overview and no progress; only warnings and errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Skip inputs that cannot be opened (with a warning) instead of failing the run.
    #[arg(long)]
    pub keep_going: bool,

    /// Read files with read() instead of memory-mapping them (for files that another
    /// process may truncate while they are read).
    #[arg(long)]
    pub no_mmap: bool,

    /// Parser chunk size in bytes (for tests and benchmarks).
    #[arg(long, hide = true)]
    pub chunk_size: Option<usize>,

    /// Read window size in bytes (for tests and benchmarks).
    #[arg(long, hide = true)]
    pub window_size: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmitArg {
    /// The `hits` table: one row per request.
    Hits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Detect each file's format from its first 50 lines.
    Auto,
    /// Apache/Nginx combined: common plus "referrer" "user agent".
    Combined,
    /// NCSA common: `host ident user [time] "request" status bytes`.
    Common,
    /// Combined with the virtual host first (Apache `%v:%p` or `%v`).
    Vcombined,
    /// Common with the virtual host first.
    Vcommon,
    /// Combined plus $request_time $upstream_response_time.
    Nginx,
    /// W3C extended (IIS and others), laid out by its #Fields: lines.
    W3c,
    /// AWS Classic Load Balancer.
    Elb,
    /// AWS Application Load Balancer.
    Alb,
    /// Amazon CloudFront standard log (tab-separated W3C).
    Cloudfront,
    /// Amazon S3 server access log.
    S3,
    /// Caddy JSON access log.
    Caddy,
    /// Traefik JSON access log (its CLF log is read by combined).
    Traefik,
    /// HAProxy HTTP log, with or without a syslog prefix.
    Haproxy,
}

impl FormatArg {
    /// The format named, or `None` for `auto`.
    pub fn format(self) -> Option<crate::parse::Format> {
        use crate::parse::Format;
        Some(match self {
            FormatArg::Auto => return None,
            FormatArg::Combined => Format::Combined,
            FormatArg::Common => Format::Common,
            FormatArg::Vcombined => Format::VCombined,
            FormatArg::Vcommon => Format::VCommon,
            FormatArg::Nginx => Format::Nginx,
            FormatArg::W3c => Format::W3c,
            FormatArg::Elb => Format::Elb,
            FormatArg::Alb => Format::Alb,
            FormatArg::Cloudfront => Format::CloudFront,
            FormatArg::S3 => Format::S3,
            FormatArg::Caddy => Format::Caddy,
            FormatArg::Traefik => Format::Traefik,
            FormatArg::Haproxy => Format::Haproxy,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientIpArg {
    /// The address the server logged as its peer.
    Remote,
    /// The first X-Forwarded-For address, where there is one.
    ForwardedFor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionsArg {
    /// Google Analytics 4: 30 minutes of inactivity.
    Ga4,
    /// Universal Analytics and Matomo: 30 minutes, a new traffic source, or midnight.
    Ua,
    /// AWStats: 60 minutes of inactivity.
    Awstats,
}
