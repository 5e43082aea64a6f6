//! accesslens turns web-server access logs into channel-optimization analytics.
//!
//! The modules follow the data as it flows:
//!
//! ```text
//! inputs ─► split ─► parse ─► enrich ─► sessionize ─► aggregate ─► write
//! files      chunks    hits     ids       sessions      reports     Parquet, HTML, terminal
//! ```
//!
//! - [`input`]: open files and standard input; memory-map or read them in windows of whole
//!   lines, and cut windows into chunks.
//! - [`parse`]: log formats → borrowed fields, without allocating per line.
//! - [`enrich`]: intern values into dictionaries; classify each distinct value once.
//! - [`ingest`]: the per-line loop that drives the three stages above in parallel.
//! - [`sessionize`]: shard hits by visitor, order them, cut sessions.
//! - [`aggregate`]: mergeable partial counts → report rows.
//! - [`output`]: Parquet tables, the terminal overview, the HTML report, progress.
//! - [`state`]: a run's mergeable partial results, kept per date (`--state`), and `merge`,
//!   which combines runs into report tables without their logs.
//!
//! [`pipeline::run`] runs them in order; [`cli`] and [`config`] turn a command line into the
//! settings the stages see. [`synth`] generates realistic logs for tests and benchmarks.

pub mod cli;
pub mod config;
pub mod error;

pub mod aggregate;
pub mod enrich;
pub mod ingest;
pub mod input;
pub mod output;
pub mod parse;
pub mod sessionize;
pub mod state;

pub mod pipeline;
pub mod synth;

pub use error::{Error, Result};
