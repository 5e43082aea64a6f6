//! All integration tests link into this one binary (one link step instead of one per file).
//! Shared helpers live in `util.rs`; each area has its own module.

mod acquisition;
mod audience;
mod beacon;
mod cli;
mod continued;
mod custom_format;
mod determinism;
mod edge_cases;
mod export;
mod formats;
mod hits;
mod html;
mod known_answers;
mod parquet_schema;
mod spark;
mod state;
mod util;
