//! The `hits` table (`--emit hits`): one row per parsed line, for engines that take over
//! sessionization and reporting at scale (Spark SQL, Trino, DuckDB).
//!
//! Rows are written from the compact hit records and the classified dictionaries, never from
//! line bytes: every text column is a lookup by id. The table is Hive-partitioned by the
//! hit's UTC date (`hits/date=YYYY-MM-DD/part-00000.parquet`), and within a file rows are
//! sorted by visitor bucket, visitor key, time, then what the hit says (the order sessions
//! are cut in, see [`crate::sessionize::content_order`]) and its input file's name, so the
//! same logs give the same bytes whatever the thread count or input order.
//!
//! Memory: on top of the hits themselves, one 16-byte reference per hit of a group of one
//! date's buckets (groups are cut at `GROUP_HITS`), one batch of Arrow arrays, and one row
//! group of encoded pages: dates are written one after the other.
//!
//! This module owns the row layout; Parquet encoding stays in `parquet.rs` and `table.rs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use rayon::prelude::*;

use super::parquet::BatchFile;
use super::table::Table;
use crate::aggregate::is_page_view;
use crate::enrich::{
    Dictionaries, Hit, Lookups, NO_CONNECTION, NO_RESPONSE_TIME, PathKind, Text, request,
};
use crate::error::{Error, Result};
use crate::ingest::FileStats;
use crate::sessionize::{CARRIED, CARRIED_INPUT, ShardPieces, TieOrder, content_order};

/// The bucket count when `--hit-buckets` is not given.
pub const DEFAULT_BUCKETS: u64 = 64;

/// The table's directory inside the output directory.
pub const DIR: &str = "hits";

/// Rows per Arrow batch handed to a date's file.
const BATCH_ROWS: usize = 16 * 1024;

/// Rows per row group: the writer holds one row group's pages until it is complete.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Hits sorted at once at most (more only when one bucket alone has more): bounds the
/// references held while sorting to a few tens of MB.
const GROUP_HITS: usize = 4 << 20;

/// Columns of (nearly) unique values: no dictionary.
const PLAIN: [&str; 4] = ["ts", "visitor_seq", "bytes", "response_time_us"];

/// What the table was written as, for the caller's report and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitsWritten {
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
}

/// Everything the rows are looked up in.
pub struct HitsSource<'a> {
    pub shards: &'a [ShardPieces],
    pub dicts: &'a Dictionaries,
    pub lookups: &'a Lookups,
    /// The inputs, in input order (a piece's input index points here).
    pub files: &'a [FileStats],
}

/// What a distinct request says beyond [`crate::enrich::RequestInfo`], found once per
/// distinct request.
struct RequestText {
    method: Text,
    query: Option<Text>,
    /// The host of an absolute target (`GET https://shop.example/x`), shown where the
    /// line logs no virtual host.
    host: Option<Text>,
}

/// One hit in the table's order.
#[derive(Clone, Copy)]
struct Row<'a> {
    hit: &'a Hit,
    /// The visitor's place in (bucket, visitor key) order.
    rank: u32,
    input: u32,
}

/// Writes the table into `dir/hits/`. `buckets` is a power of two.
pub fn write(
    dir: &Path,
    source: &HitsSource<'_>,
    buckets: u64,
    metadata: &[(String, String)],
) -> Result<HitsWritten> {
    debug_assert!(buckets.is_power_of_two());
    let lookups = source.lookups;
    let mask = buckets - 1;
    let bucket_of = |visitor: u32| lookups.visitor(visitor).hash & mask;
    let ranks = visitor_ranks(source.lookups, mask);
    let requests = request_texts(source.dicts);
    // As many as the clients when the log has X-Forwarded-For.
    let connections: Vec<Connection> = (0..source.dicts.connections.len() as u32)
        .into_par_iter()
        .map(|id| Connection::new(source.dicts.connections.get(id)))
        .collect();
    let ties = TieOrder::new(source.dicts);

    // Hits per bucket, then runs of consecutive buckets of at most GROUP_HITS hits.
    // Hits per UTC day and bucket; then, day by day, runs of consecutive buckets of at most
    // GROUP_HITS hits. One date's file is open at a time.
    let per_day = source
        .shards
        .par_iter()
        .map(|shard| {
            let mut counts: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
            shard.for_each_piece(|piece, input| {
                if input == CARRIED_INPUT {
                    return;
                }
                for hit in piece {
                    counts
                        .entry(day_of(hit))
                        .or_insert_with(|| vec![0; buckets as usize])
                        [bucket_of(hit.visitor) as usize] += 1;
                }
            })?;
            Ok(counts)
        })
        .try_reduce(BTreeMap::new, |mut a, b| {
            for (day, counts) in b {
                match a.get_mut(&day) {
                    Some(sum) => sum.iter_mut().zip(counts).for_each(|(a, b)| *a += b),
                    None => {
                        a.insert(day, counts);
                    }
                }
            }
            Ok(a)
        })?;

    let root = dir.join(DIR);
    let columns = Columns {
        lookups,
        requests: &requests,
        connections: &connections,
        files: source.files,
        mask,
    };
    let mut written = HitsWritten::default();
    for (day, counts) in per_day {
        let mut file = None;
        for group in bucket_groups(&counts) {
            // Hits carried from an earlier run are that run's.
            let wanted = |hit: &Hit| {
                hit.status & CARRIED == 0
                    && day_of(hit) == day
                    && group.contains(&bucket_of(hit.visitor))
            };
            // The group's hits that wait on disk, read back for this group only.
            let spilled: Vec<(Vec<Hit>, u32)> = source
                .shards
                .par_iter()
                .map(|shard| shard.read_spilled(wanted))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            let in_memory = source
                .shards
                .par_iter()
                .flat_map_iter(|shard| shard.hits.iter().zip(&shard.inputs));
            let ranks = &ranks;
            let mut rows: Vec<Row<'_>> = in_memory
                .chain(spilled.par_iter().map(|(piece, input)| (piece, input)))
                .flat_map_iter(|(piece, &input)| {
                    piece.iter().filter(|hit| wanted(hit)).map(move |hit| Row {
                        hit,
                        rank: ranks[hit.visitor as usize],
                        input,
                    })
                })
                .collect();
            rows.par_sort_unstable_by(|a, b| row_order(a, b, source, &ties));
            written.rows += rows.len() as u64;
            write_rows(
                &rows,
                &columns,
                || open_day(&root, day),
                metadata,
                &mut file,
            )?;
        }
        if let Some(file) = file {
            written.bytes += file.finish()?;
            written.files += 1;
        }
    }
    Ok(written)
}

/// The UTC day of a hit (days since 1970-01-01).
fn day_of(hit: &Hit) -> i64 {
    hit.ts_ms.div_euclid(DAY_MS)
}

/// Creates `hits/date=YYYY-MM-DD/part-00000.parquet`.
fn open_day(root: &Path, day: i64) -> Result<PathBuf> {
    let (y, m, d) = crate::parse::time::civil_from_days(day);
    let dir = root.join(format!("date={y:04}-{m:02}-{d:02}"));
    std::fs::create_dir_all(&dir).map_err(|source| Error::Output {
        path: dir.display().to_string(),
        source,
    })?;
    Ok(dir.join("part-00000.parquet"))
}

/// Each visitor's place in the order (bucket, visitor key), the key compared as the text
/// `client + " " + user_agent`; visitors shown alike (differing only in invalid bytes) are
/// ordered by their logged bytes.
fn visitor_ranks(lookups: &Lookups, mask: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..lookups.visitors.len() as u32).collect();
    let key = |v: u32| {
        let info = lookups.visitor(v);
        (
            lookups.clients[info.client as usize].as_bytes(),
            lookups.agent_texts[info.agent as usize].as_bytes(),
        )
    };
    order.par_sort_unstable_by(|&a, &b| {
        let (ha, hb) = (lookups.visitor(a).hash, lookups.visitor(b).hash);
        let ((ca, ua), (cb, ub)) = (key(a), key(b));
        (ha & mask)
            .cmp(&(hb & mask))
            .then_with(|| {
                let text_a = ca.iter().chain(b" ").chain(ua);
                text_a.cmp(cb.iter().chain(b" ").chain(ub))
            })
            .then(ha.cmp(&hb))
            .then(a.cmp(&b))
    });
    let mut ranks = vec![0u32; order.len()];
    for (rank, &v) in order.iter().enumerate() {
        ranks[v as usize] = rank as u32;
    }
    ranks
}

/// The table's row order: visitor, time, what the hit says, then its input's name.
fn row_order(a: &Row<'_>, b: &Row<'_>, source: &HitsSource<'_>, ties: &TieOrder<'_>) -> Ordering {
    a.rank
        .cmp(&b.rank)
        .then(a.hit.ts_ms.cmp(&b.hit.ts_ms))
        .then_with(|| content_order(a.hit, b.hit, ties))
        .then_with(|| {
            source.files[a.input as usize]
                .file
                .cmp(&source.files[b.input as usize].file)
        })
}

/// Cuts the buckets into runs of consecutive buckets holding at most [`GROUP_HITS`] hits.
fn bucket_groups(per_bucket: &[usize]) -> Vec<std::ops::Range<u64>> {
    let mut groups = Vec::new();
    let (mut start, mut held) = (0, 0);
    for (b, &n) in per_bucket.iter().enumerate() {
        if held > 0 && held + n > GROUP_HITS {
            groups.push(start as u64..b as u64);
            (start, held) = (b, 0);
        }
        held += n;
    }
    if held > 0 {
        groups.push(start as u64..per_bucket.len() as u64);
    }
    groups
}

/// The method word and the query of each distinct request.
fn request_texts(dicts: &Dictionaries) -> Vec<RequestText> {
    (0..dicts.requests.len() as u32)
        .into_par_iter()
        .map(|id| {
            let raw = dicts.requests.get(id);
            let parts = request::classify(raw, &request::PathRules::default());
            // The method word is ASCII whatever the encoding.
            let line = crate::enrich::text::display(raw, Default::default());
            let method = line.trim().split(' ').next().unwrap_or("");
            let query = memchr::memchr(b'?', &parts.target).map(|q| {
                let rest = &parts.target[q + 1..];
                let end = memchr::memchr(b'#', rest).unwrap_or(rest.len());
                Text::from(String::from_utf8_lossy(&rest[..end]))
            });
            RequestText {
                method: Text::from(method),
                query,
                host: shown_host(crate::parse::target_host(raw)),
            }
        })
        .collect()
}

const DAY_MS: i64 = 86_400_000;

/// Writes sorted rows of one date, batch by batch, to its file (created with the first
/// batch). `visitor_seq` counts each visitor's hits within the date.
fn write_rows(
    rows: &[Row<'_>],
    columns: &Columns<'_>,
    open: impl Fn() -> Result<PathBuf>,
    metadata: &[(String, String)],
    file: &mut Option<BatchFile>,
) -> Result<()> {
    let mut seq = 0u32;
    let mut previous = None;
    let mut numbered: Vec<(Row<'_>, u32)> = Vec::with_capacity(BATCH_ROWS.min(rows.len()));
    for batch in rows.chunks(BATCH_ROWS) {
        numbered.clear();
        for &row in batch {
            seq = if previous == Some(row.rank) {
                seq + 1
            } else {
                0
            };
            previous = Some(row.rank);
            numbered.push((row, seq));
        }
        let batch = columns.batch(&numbered);
        let file = match file {
            Some(file) => file,
            None => file.insert(BatchFile::create(
                &open()?,
                DIR,
                batch.schema(),
                metadata,
                &PLAIN,
                ROW_GROUP_ROWS,
            )?),
        };
        file.write(&batch)?;
    }
    Ok(())
}

/// A connection's details as the table shows them; `None` where the line logged none.
struct Connection {
    host: Option<Text>,
    tls: Option<Text>,
    forwarded_for: Option<Text>,
}

impl Connection {
    fn new(key: &[u8]) -> Self {
        let [host, tls, forwarded_for] = crate::enrich::connection_parts(key);
        Connection {
            host: shown_host(host),
            tls: shown(tls).map(|tls| {
                // Traefik logs the version alone (`1.3`); the others as `TLSv1.3`.
                if tls.starts_with(|c: char| c.is_ascii_digit()) {
                    Text::from(format!("TLSv{tls}"))
                } else {
                    tls
                }
            }),
            forwarded_for: shown(forwarded_for),
        }
    }
}

fn shown(raw: &[u8]) -> Option<Text> {
    (!raw.is_empty()).then(|| Text::from(crate::enrich::text::display(raw, Default::default())))
}

/// Host names are case-insensitive: one spelling, as URLs have; and without the port some
/// formats keep (a W3C cs-host, Caddy's request.host, `%V:%p`, an absolute target's).
fn shown_host(raw: &[u8]) -> Option<Text> {
    shown(crate::parse::strip_port(raw)).map(|h| Text::from(h.to_ascii_lowercase()))
}

/// How a row's columns are looked up.
struct Columns<'a> {
    lookups: &'a Lookups,
    requests: &'a [RequestText],
    connections: &'a [Connection],
    files: &'a [FileStats],
    mask: u64,
}

fn kind_name(kind: PathKind) -> &'static str {
    match kind {
        PathKind::Page => "page",
        PathKind::Asset => "asset",
        PathKind::Beacon => "beacon",
    }
}

impl Columns<'_> {
    /// The table's columns, in the order the README documents.
    fn batch(&self, rows: &[(Row<'_>, u32)]) -> RecordBatch {
        let l = self.lookups;
        let hits = || rows.iter().map(|(r, _)| r.hit);
        let visitor = || hits().map(|h| l.visitor(h.visitor));
        let request = || hits().map(|h| l.request(h.request));
        let referrer = || hits().map(|h| l.referrer(h.referrer));
        let has_referrer = || referrer().map(|r| !r.text.is_empty());
        let acquisition =
            || hits().map(|h| l.acquisition(l.session_acquisition(h.request, h.referrer)));
        let agent = || hits().map(|h| l.agent_of(h.visitor));
        let connection = || {
            hits().map(|h| {
                (h.connection != NO_CONNECTION).then(|| &self.connections[h.connection as usize])
            })
        };
        let goal = || request().map(|r| r.goal.map(|g| l.goals.goals[g as usize].name.as_str()));
        Table::default()
            .time("ts", hits().map(|h| h.ts_ms))
            .int("offset_min", hits().map(|h| i64::from(h.offset_min)))
            .formatted("visitor_key", visitor(), |v, w| {
                use std::fmt::Write;
                write!(
                    w,
                    "{} {}",
                    l.clients[v.client as usize], l.agent_texts[v.agent as usize]
                )
            })
            .str("client", visitor().map(|v| &*l.clients[v.client as usize]))
            .int("visitor_hash", visitor().map(|v| v.hash as i64))
            .int(
                "visitor_bucket",
                visitor().map(|v| (v.hash & self.mask) as i64),
            )
            .int("visitor_seq", rows.iter().map(|(_, s)| i64::from(*s)))
            .opt_str(
                "host",
                hits().zip(connection()).map(|(h, c)| {
                    c.and_then(|c| c.host.as_deref())
                        .or(self.requests[h.request as usize].host.as_deref())
                }),
            )
            .str(
                "method",
                hits().map(|h| &*self.requests[h.request as usize].method),
            )
            .str("path", request().map(|r| l.path(r.path)))
            .opt_str(
                "query",
                hits().map(|h| self.requests[h.request as usize].query.as_deref()),
            )
            .int("status", hits().map(|h| i64::from(h.status)))
            .count("bytes", hits().map(|h| h.bytes))
            .opt_int(
                "response_time_us",
                hits().map(|h| {
                    (h.response_us != NO_RESPONSE_TIME).then_some(i64::from(h.response_us))
                }),
            )
            .opt_str(
                "tls_protocol",
                connection().map(|c| c.and_then(|c| c.tls.as_deref())),
            )
            .opt_str(
                "forwarded_for",
                connection().map(|c| c.and_then(|c| c.forwarded_for.as_deref())),
            )
            .str("kind", request().map(|r| kind_name(r.kind)))
            .bool(
                "page_view",
                hits().map(|h| {
                    let r = l.request(h.request);
                    l.bot_of(h.visitor).is_none() && is_page_view(r.method, r.kind, h.status)
                }),
            )
            .opt_str(
                "referrer",
                referrer().map(|r| (!r.text.is_empty()).then_some(&*r.text)),
            )
            .opt_str(
                "referrer_host",
                referrer().map(|r| r.host.map(|h| &*l.hosts[h as usize])),
            )
            .opt_bool(
                "referrer_internal",
                referrer()
                    .zip(has_referrer())
                    .map(|(r, has)| has.then_some(r.internal)),
            )
            .str(
                "referrer_channel",
                referrer().map(|r| l.acquisition(r.acquisition).channel.name()),
            )
            .opt_str(
                "search_engine",
                referrer().map(|r| r.engine.map(|e| l.label(e))),
            )
            .opt_str("keyword", referrer().map(|r| r.keyword.map(|k| l.label(k))))
            .str("channel", acquisition().map(|a| a.channel.name()))
            .str("source", acquisition().map(|a| l.label(a.source)))
            .str("medium", acquisition().map(|a| l.label(a.medium)))
            .opt_str(
                "campaign",
                acquisition().map(|a| a.campaign.map(|c| l.label(c))),
            )
            .opt_str("term", acquisition().map(|a| a.term.map(|c| l.label(c))))
            .opt_str(
                "content",
                acquisition().map(|a| a.content.map(|c| l.label(c))),
            )
            .opt_str("goal", goal())
            .opt_float(
                "goal_value",
                request().map(|r| r.goal_target.and(r.value_micro).map(|v| v as f64 / 1e6)),
            )
            .str(
                "user_agent",
                visitor().map(|v| &*l.agent_texts[v.agent as usize]),
            )
            .str("browser", agent().map(|a| &*a.browser))
            .str("os", agent().map(|a| &*a.os))
            .str("device", agent().map(|a| &*a.device))
            .bool("bot", hits().map(|h| l.bot_of(h.visitor).is_some()))
            .opt_str(
                "bot_name",
                hits().map(|h| {
                    l.bot_of(h.visitor)
                        .map(|b| l.bots[b as usize].name.as_str())
                }),
            )
            .str(
                "source_file",
                rows.iter()
                    .map(|(r, _)| self.files[r.input as usize].file.as_str()),
            )
            .into_batch()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn groups_cover_every_bucket_once_and_stay_under_the_limit() {
        let half = GROUP_HITS / 2 + 1;
        assert_eq!(
            bucket_groups(&[0, 0, 0]),
            Vec::<std::ops::Range<u64>>::new()
        );
        assert_eq!(bucket_groups(&[1, 2, 3]), [0..3]);
        assert_eq!(bucket_groups(&[half, half, 0, half]), [0..1, 1..3, 3..4]);
        assert_eq!(bucket_groups(&[GROUP_HITS * 2, 1]), [0..1, 1..2]);
    }
}
