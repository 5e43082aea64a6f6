//! Errors that stop a run. Their messages name the file or flag to fix.
//!
//! Malformed log lines are not errors: they are counted and sampled (see `parse`).

use std::io;

/// What can make a run fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Input { path: String, source: io::Error },

    #[error("cannot read {path} after {after} bytes of log: {source}")]
    InputBroken {
        path: String,
        after: u64,
        source: io::Error,
    },

    #[error("{path}: cannot tell the log format: {reason}; name it with --format")]
    UnknownFormat { path: String, reason: String },

    #[error("no log files: {what} has none")]
    NoFiles { what: String },

    #[error("{path} is a directory; pass the log files in it (for example {path}/access.log*)")]
    InputIsDirectory { path: String },

    #[error("no input could be opened: {}", skipped.join("; "))]
    NoReadableInput { skipped: Vec<String> },

    #[error("cannot write to the output directory {path}: {source}")]
    Output { path: String, source: io::Error },

    #[error("cannot write {path}: {source}")]
    OutputFile { path: String, source: io::Error },

    #[error("cannot write the {table} table: {source}")]
    Parquet {
        table: String,
        source: parquet::errors::ParquetError,
    },

    #[error("cannot read {path}: {reason}")]
    ReadBack { path: String, reason: String },

    #[error("{path}: {message}")]
    Config { path: String, message: String },

    #[error("invalid {flag} {value:?}: {reason}")]
    InvalidOption {
        flag: &'static str,
        value: String,
        reason: String,
    },

    #[error("{path}: not a usable state: {reason}")]
    State { path: String, reason: String },

    #[error(
        "{first} and {second} both hold {date} and share the input {file}, but not all their \
         inputs: merging both would count {file} twice; merge one of them, or run analyze \
         --state again over all of that day's logs"
    )]
    StateOverlap {
        date: String,
        first: String,
        second: String,
        file: String,
    },

    #[error(
        "{first} and {second} were written with different {what}; merge states written with \
         the same settings"
    )]
    StateMismatch {
        first: String,
        second: String,
        what: String,
    },

    #[error(
        "{first} and {second} were analyzed with different {key}: give merge --{flag} N to \
         choose the merged paths' and transitions'"
    )]
    JourneysMismatch {
        first: String,
        second: String,
        key: &'static str,
        flag: &'static str,
    },

    #[error(
        "--continue-from: {dir} was written with another {what} than this run's: its open \
         sessions can only be continued under the same definitions"
    )]
    ContinueMismatch { dir: String, what: String },

    #[error(
        "{first} and {second} both continued the open sessions of {continued} (run {run}): \
         counting both would count those sessions twice; merge one of them, or analyze the \
         later logs again with --continue-from given only the state of the logs before them"
    )]
    ContinuedTwice {
        run: String,
        continued: String,
        first: String,
        second: String,
    },

    #[error(
        "{continuer} continued the open sessions of {continued}, but {dir} holds them as \
         counted by another analysis of those logs (analyzed again since): analyze the logs of \
         {continuer} again with --continue-from, then merge"
    )]
    ContinuedStale {
        continuer: String,
        continued: String,
        dir: String,
    },

    #[error("no state partitions to merge in {what} (within --since/--until)")]
    NoState { what: String },

    #[error(
        "the visitor history of {sessions} sessions would take about {need_mb} MB of memory, \
         more than the {limit_mb} MB it may (--max-memory, or the memory available): merge \
         fewer dates (--since/--until), or leave out the tables of a visitor's history \
         (--no-history)"
    )]
    HistoryTooLarge {
        sessions: u64,
        need_mb: u64,
        limit_mb: u64,
    },

    #[error("cannot start {threads} worker threads: {reason}")]
    Threads { threads: usize, reason: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
