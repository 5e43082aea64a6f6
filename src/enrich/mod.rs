//! Enrich: borrowed line fields → compact hit records holding ids, and the classification of
//! each distinct value.
//!
//! While chunks are parsed, every line's request, referrer, user agent and client are
//! interned ([`ChunkHits`]), and each line becomes a fixed-size [`Hit`] of 32 bytes. After
//! all input is read, [`Lookups::build`] classifies each *distinct* value once: requests into
//! method/path/kind, referrers into host/internal, user agents into browser/OS/device/bot,
//! visitor keys into their XXH64 hash. Later stages look these up by id.

pub mod agent;
pub mod campaign;
pub mod channel;
pub mod goals;
pub mod intern;
pub mod lookups;
pub mod query;
pub mod referrer;
pub mod request;
pub mod screen;
pub mod site_search;
pub mod sources;
pub mod text;

use std::sync::{Arc, Mutex};

use hashbrown::HashTable;

use crate::parse::{LogLine, Request, TextCoding};
use intern::{Interner, LocalInterner};

pub use agent::{AgentInfo, Bot};
pub use lookups::{
    AcquisitionIds, BeaconScreen, EnrichRules, Lookups, ReferrerInfo, RequestInfo, VisitorInfo,
};
pub use referrer::SiteDomains;
pub use request::{Method, PathKind, PathRules};
pub use site_search::SiteSearch;

/// Shared, immutable text: report rows hold these without copying the string.
pub type Text = Arc<str>;

/// One parsed line, with ids into the run's dictionaries (32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// UTC milliseconds.
    pub ts_ms: i64,
    pub bytes: u64,
    pub visitor: u32,
    pub request: u32,
    pub referrer: u32,
    pub status: u16,
    /// The logged UTC offset in minutes.
    pub offset_min: i16,
}

/// The seed of the visitor hash: the same as Spark's `xxhash64`, so any engine buckets a
/// visitor's hits the same way.
pub const VISITOR_HASH_SEED: u64 = 42;

/// XXH64 (seed 42) of the visitor key `client + " " + user_agent`, as Spark's
/// `xxhash64(concat(client, ' ', user_agent))` computes it.
pub fn visitor_hash(client: &[u8], user_agent: &[u8]) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(VISITOR_HASH_SEED);
    h.update(client);
    h.update(b" ");
    h.update(user_agent);
    h.digest()
}

/// Distinct visitor keys: (client id, user agent id) → visitor id.
#[derive(Default)]
pub struct VisitorTable {
    keys: Vec<(u32, u32)>,
    table: HashTable<u32>,
}

#[inline]
fn pair_hash(client: u32, agent: u32) -> u64 {
    let x = (u64::from(client) << 32) | u64::from(agent);
    // A 64-bit multiplicative mix: ids are dense, so spread their bits.
    (x ^ (x >> 29))
        .wrapping_mul(0xbf58_476d_1ce4_e5b9)
        .rotate_left(31)
}

impl VisitorTable {
    pub fn intern(&mut self, client: u32, agent: u32) -> u32 {
        let hash = pair_hash(client, agent);
        let keys = &self.keys;
        if let Some(&id) = self
            .table
            .find(hash, |&id| keys[id as usize] == (client, agent))
        {
            return id;
        }
        let id = u32::try_from(self.keys.len()).expect("fewer than 2^32 visitors");
        self.keys.push((client, agent));
        let keys = &self.keys;
        self.table.insert_unique(hash, id, |&id| {
            let (c, a) = keys[id as usize];
            pair_hash(c, a)
        });
        id
    }

    /// (client id, user agent id) of a visitor.
    pub fn key(&self, visitor: u32) -> (u32, u32) {
        self.keys[visitor as usize]
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The run's dictionaries.
#[derive(Default)]
pub struct Dictionaries {
    pub requests: Interner,
    pub referrers: Interner,
    pub agents: Interner,
    pub clients: Interner,
    pub visitors: VisitorTable,
}

/// The dictionaries while parser threads merge into them: one lock per dictionary, taken
/// once per chunk.
#[derive(Default)]
pub struct SharedDictionaries {
    requests: Mutex<Interner>,
    referrers: Mutex<Interner>,
    agents: Mutex<Interner>,
    clients: Mutex<Interner>,
    visitors: Mutex<VisitorTable>,
}

impl SharedDictionaries {
    pub fn into_inner(self) -> Dictionaries {
        Dictionaries {
            requests: into_inner(self.requests),
            referrers: into_inner(self.referrers),
            agents: into_inner(self.agents),
            clients: into_inner(self.clients),
            visitors: into_inner(self.visitors),
        }
    }
}

fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The hits of one chunk, with chunk-local ids, borrowing the chunk's bytes.
///
/// Values a line holds as logged are interned borrowed. Values that must be put together
/// (a request logged in parts) or decoded (an IIS or CloudFront user agent) are built in a
/// reused buffer and interned into small owned dictionaries, whose ids carry [`COMPOSED`];
/// the merge into the run's dictionaries maps both kinds to one id space.
#[derive(Default)]
pub struct ChunkHits<'a> {
    requests: LocalInterner<'a>,
    referrers: LocalInterner<'a>,
    agents: LocalInterner<'a>,
    clients: LocalInterner<'a>,
    composed_requests: Interner,
    composed_referrers: Interner,
    composed_agents: Interner,
    scratch: Vec<u8>,
    visitors: VisitorTable,
    hits: Vec<Hit>,
}

/// Marks a chunk-local id as one of the owned (composed or decoded) values.
const COMPOSED: u32 = 1 << 31;

impl<'a> ChunkHits<'a> {
    pub fn with_capacity(lines: usize) -> Self {
        ChunkHits {
            hits: Vec::with_capacity(lines),
            ..Default::default()
        }
    }

    /// Records one parsed line.
    #[inline]
    pub fn push(&mut self, line: &LogLine<'a>) {
        let client = self.clients.intern(line.client);
        let agent = match line.coding {
            TextCoding::AsLogged => self.agents.intern(line.user_agent),
            coding => {
                self.scratch.clear();
                coding.decode_into(line.user_agent, &mut self.scratch);
                COMPOSED | self.composed_agents.intern(&self.scratch)
            }
        };
        let request = match line.request {
            Request::Line(text) => self.requests.intern(text),
            parts => {
                parts.write_line(line.coding, &mut self.scratch);
                COMPOSED | self.composed_requests.intern(&self.scratch)
            }
        };
        let referrer = if line.coding.applies_to_referrer() {
            self.scratch.clear();
            line.coding.decode_into(line.referrer, &mut self.scratch);
            COMPOSED | self.composed_referrers.intern(&self.scratch)
        } else {
            self.referrers.intern(line.referrer)
        };
        self.hits.push(Hit {
            ts_ms: line.time.utc_ms,
            bytes: line.bytes,
            visitor: self.visitors.intern(client, agent),
            request,
            referrer,
            status: line.status,
            offset_min: line.time.offset_min,
        });
    }

    pub fn len(&self) -> usize {
        self.hits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Merges this chunk's distinct values into the run's dictionaries and returns its hits
    /// with run-wide ids.
    pub fn into_global(self, shared: &SharedDictionaries) -> Vec<Hit> {
        let requests = merge(&shared.requests, &self.requests, &self.composed_requests);
        let referrers = merge(&shared.referrers, &self.referrers, &self.composed_referrers);
        let agents = merge(&shared.agents, &self.agents, &self.composed_agents);
        let clients = lock(&shared.clients).merge_local(&self.clients);
        let visitors: Vec<u32> = {
            let mut table = lock(&shared.visitors);
            self.visitors
                .keys
                .iter()
                .map(|&(c, a)| table.intern(clients[c as usize], agents.get(a)))
                .collect()
        };
        let mut hits = self.hits;
        for hit in &mut hits {
            hit.visitor = visitors[hit.visitor as usize];
            hit.request = requests.get(hit.request);
            hit.referrer = referrers.get(hit.referrer);
        }
        hits
    }
}

/// Chunk-local ids (borrowed, and owned ones marked [`COMPOSED`]) → run-wide ids.
struct IdMap {
    borrowed: Vec<u32>,
    owned: Vec<u32>,
}

impl IdMap {
    #[inline]
    fn get(&self, id: u32) -> u32 {
        if id & COMPOSED == 0 {
            self.borrowed[id as usize]
        } else {
            self.owned[(id & !COMPOSED) as usize]
        }
    }
}

fn merge(shared: &Mutex<Interner>, borrowed: &LocalInterner<'_>, owned: &Interner) -> IdMap {
    let mut dict = lock(shared);
    IdMap {
        borrowed: dict.merge_local(borrowed),
        owned: dict.merge_owned(owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Hit>(), 32);
    }

    #[test]
    fn visitor_hash_is_xxh64_seed_42_of_the_key() {
        // Reference values: XXH64 of "" with seed 0 is 0xef46db3751d8e999 (the xxHash
        // test vector); the visitor hash of an empty key equals XXH64(" ", 42).
        assert_eq!(xxhash_rust::xxh64::xxh64(b"", 0), 0xef46_db37_51d8_e999);
        assert_eq!(visitor_hash(b"", b""), xxhash_rust::xxh64::xxh64(b" ", 42));
        assert_eq!(
            visitor_hash(b"203.0.113.7", b"Mozilla/5.0"),
            xxhash_rust::xxh64::xxh64(b"203.0.113.7 Mozilla/5.0", 42)
        );
    }

    #[test]
    fn chunk_ids_map_to_run_ids() {
        let shared = SharedDictionaries::default();
        let lines = [
            &b"1.1.1.1 - - [10/Oct/2026:13:55:36 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"UA\""[..],
            b"2.2.2.2 - - [10/Oct/2026:13:55:37 +0000] \"GET /b HTTP/1.1\" 200 2 \"-\" \"UA\"",
            b"1.1.1.1 - - [10/Oct/2026:13:55:38 +0000] \"GET /a HTTP/1.1\" 404 3 \"-\" \"UA\"",
        ];
        for round in 0..2 {
            let mut chunk = ChunkHits::default();
            for line in &lines[round..] {
                chunk.push(&crate::parse::Format::Combined.parse(line).unwrap());
            }
            let hits = chunk.into_global(&shared);
            assert_eq!(hits.len(), 3 - round);
        }
        let dicts = shared.into_inner();
        assert_eq!(dicts.visitors.len(), 2);
        assert_eq!(dicts.requests.len(), 2);
        assert_eq!(dicts.agents.len(), 1);
    }
}
