//! Enrich: borrowed line fields → compact hit records holding ids, and the classification of
//! each distinct value.
//!
//! While chunks are parsed, every line's request, referrer, user agent, client and
//! connection details (virtual host, TLS protocol, X-Forwarded-For) are interned
//! ([`ChunkHits`]), and each line becomes a fixed-size [`Hit`] of 40 bytes. After all input
//! is read, [`Lookups::build`] classifies each *distinct* value once: requests into
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

use crate::parse::{AGENT_NOT_LOGGED, LogLine, Request, TextCoding};
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

/// One parsed line, with ids into the run's dictionaries (40 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// UTC milliseconds.
    pub ts_ms: i64,
    pub bytes: u64,
    pub visitor: u32,
    pub request: u32,
    pub referrer: u32,
    /// Time taken to answer, in microseconds; [`NO_RESPONSE_TIME`] when not logged.
    pub response_us: u32,
    /// How the request reached the server, as the line logs it: the virtual host, the TLS
    /// protocol and the X-Forwarded-For header, one id into [`Dictionaries::connections`];
    /// [`NO_CONNECTION`] when the line has none of the three, and for every hit when the
    /// hits table, the only one that shows them, is not written.
    pub connection: u32,
    pub status: u16,
    /// The logged UTC offset in minutes.
    pub offset_min: i16,
}

pub use crate::parse::NO_RESPONSE_TIME;

/// The `connection` of a hit whose line logs no virtual host, TLS protocol or
/// X-Forwarded-For header.
pub const NO_CONNECTION: u32 = u32::MAX;

/// A hit's connection details as kept in [`Dictionaries::connections`]: the virtual host
/// alone when the line logs neither a TLS protocol nor an X-Forwarded-For header (most
/// logs), else the three separated by newlines. A field of a line never holds a newline,
/// so the three are told apart again by [`connection_parts`].
fn connection_key(host: &[u8], tls: &[u8], forwarded_for: &[u8], key: &mut Vec<u8>) {
    key.clear();
    key.extend_from_slice(host);
    if !tls.is_empty() || !forwarded_for.is_empty() {
        key.push(b'\n');
        key.extend_from_slice(tls);
        key.push(b'\n');
        key.extend_from_slice(forwarded_for);
    }
}

/// The virtual host, TLS protocol and X-Forwarded-For header of a connection key (each
/// empty when not logged).
pub fn connection_parts(key: &[u8]) -> [&[u8]; 3] {
    let mut parts = key.splitn(3, |&b| b == b'\n');
    [(); 3].map(|()| parts.next().unwrap_or_default())
}

impl Default for Hit {
    /// A hit at the epoch with every id 0 and neither response time nor connection details.
    fn default() -> Self {
        Hit {
            ts_ms: 0,
            bytes: 0,
            visitor: 0,
            request: 0,
            referrer: 0,
            response_us: NO_RESPONSE_TIME,
            connection: NO_CONNECTION,
            status: 0,
            offset_min: 0,
        }
    }
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

/// Where a hit's client address comes from (`--client-ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientIp {
    /// The address the server logged as its peer.
    #[default]
    Remote,
    /// The first address of the X-Forwarded-For header, where the format logs one and it
    /// holds an address; the peer's otherwise.
    ForwardedFor,
}

/// The client address an X-Forwarded-For value names: its first (leftmost, the original
/// client's) element, without a port (`203.0.113.7:4711`, `[2001:db8::1]:443`) or an IPv6
/// zone (`fe80::1%eth0`); `None` when that is not an IP address (empty, `-`, `unknown`, a
/// name, `999.1.1.1`). The address is kept as written.
pub fn forwarded_client(value: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b',', value).unwrap_or(value.len());
    let address = crate::parse::strip_port(value[..end].trim_ascii());
    let address = match address.iter().position(|&b| b == b'%') {
        Some(zone) => &address[..zone],
        None => address,
    };
    std::str::from_utf8(address)
        .ok()?
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|_| address)
}

/// What identifies a visitor (`--visitor-key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VisitorKey {
    /// The client address and the user agent (`ip+ua`).
    #[default]
    IpUserAgent,
    /// The client address alone (`ip`): every agent behind one address is one visitor.
    Ip,
    /// The authenticated user (`user`); lines without one fall back to `ip+ua`.
    User,
    /// A cookie the format logs (`cookie:NAME`); lines without it fall back to `ip+ua`.
    Cookie,
}

/// In a visitor identity: every user agent of the client (key `ip`).
pub const ANY_AGENT: u32 = u32::MAX;
/// In a visitor identity: a named user or cookie value, whose id follows (keys `user`,
/// `cookie:NAME`). Client ids never reach it.
pub const NAMED: u32 = u32::MAX;

/// What a visitor id stands for, with run-wide ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Client and user agent ids.
    ClientAgent(u32, u32),
    /// A client id, whatever the agent.
    Client(u32),
    /// An id in [`Dictionaries::idents`] (a user name or cookie value).
    Named(u32),
}

/// The hit that describes a visitor whose key spans several clients or user agents: the
/// earliest, ties broken by the texts, so the choice does not depend on input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstSeen {
    pub ts_ms: i64,
    pub client: u32,
    pub agent: u32,
}

/// Distinct visitor identities → visitor id.
///
/// An identity is a pair of ids: (client, agent) for `ip+ua` and the fallbacks of the other
/// keys, (client, [`ANY_AGENT`]) for `ip`, ([`NAMED`], ident) for a user or cookie. Under
/// `ip+ua` the identity is also the visitor's description; under the other keys each visitor
/// also keeps the [`FirstSeen`] hit that names its client and user agent.
#[derive(Default)]
pub struct VisitorTable {
    keys: Vec<(u32, u32)>,
    first: Vec<FirstSeen>,
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
    /// The visitor of identity `(a, b)`, and whether it is new.
    #[inline]
    fn find_or_insert(&mut self, a: u32, b: u32) -> (u32, bool) {
        let hash = pair_hash(a, b);
        let keys = &self.keys;
        if let Some(&id) = self.table.find(hash, |&id| keys[id as usize] == (a, b)) {
            return (id, false);
        }
        let id = u32::try_from(self.keys.len()).expect("fewer than 2^32 visitors");
        self.keys.push((a, b));
        let keys = &self.keys;
        self.table.insert_unique(hash, id, |&id| {
            let (c, a) = keys[id as usize];
            pair_hash(c, a)
        });
        (id, true)
    }

    /// The visitor of (client id, user agent id), under the `ip+ua` key.
    #[inline]
    pub fn intern(&mut self, client: u32, agent: u32) -> u32 {
        self.find_or_insert(client, agent).0
    }

    /// The visitor of identity `(a, b)` under another key, seen at `seen`; `earlier` breaks
    /// a tie of two hits at the same millisecond (true when its first argument describes
    /// the visitor).
    pub fn intern_seen(
        &mut self,
        (a, b): (u32, u32),
        seen: FirstSeen,
        earlier: impl FnOnce(&FirstSeen, &FirstSeen) -> bool,
    ) -> u32 {
        let (id, new) = self.find_or_insert(a, b);
        if new {
            self.first.push(seen);
        } else {
            let old = &mut self.first[id as usize];
            if seen.ts_ms < old.ts_ms
                || (seen.ts_ms == old.ts_ms
                    && (seen.client, seen.agent) != (old.client, old.agent)
                    && earlier(&seen, old))
            {
                *old = seen;
            }
        }
        id
    }

    /// (client id, user agent id) that describe a visitor.
    pub fn key(&self, visitor: u32) -> (u32, u32) {
        match self.first.get(visitor as usize) {
            Some(first) => (first.client, first.agent),
            None => self.keys[visitor as usize],
        }
    }

    /// What a visitor id stands for.
    pub fn identity(&self, visitor: u32) -> Identity {
        match self.keys[visitor as usize] {
            (NAMED, ident) if !self.first.is_empty() => Identity::Named(ident),
            (client, ANY_AGENT) if !self.first.is_empty() => Identity::Client(client),
            (client, agent) => Identity::ClientAgent(client, agent),
        }
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
    /// User names or cookie values that identify visitors (`--visitor-key user`, `cookie:`).
    pub idents: Interner,
    /// Connection details (virtual host, TLS protocol, X-Forwarded-For), where the format
    /// logs them; see [`connection_parts`].
    pub connections: Interner,
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
    idents: Mutex<Interner>,
    connections: Mutex<Interner>,
    visitors: Mutex<VisitorTable>,
}

impl SharedDictionaries {
    pub fn into_inner(self) -> Dictionaries {
        Dictionaries {
            requests: into_inner(self.requests),
            referrers: into_inner(self.referrers),
            agents: into_inner(self.agents),
            clients: into_inner(self.clients),
            idents: into_inner(self.idents),
            connections: into_inner(self.connections),
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
/// reused buffer and interned into small owned dictionaries, whose ids carry `COMPOSED`;
/// the merge into the run's dictionaries maps both kinds to one id space. An encoded value
/// is decoded once per distinct spelling in the chunk (a `Decoded` memo), not on every line.
#[derive(Default)]
pub struct ChunkHits<'a> {
    requests: LocalInterner<'a>,
    referrers: LocalInterner<'a>,
    agents: LocalInterner<'a>,
    clients: LocalInterner<'a>,
    idents: LocalInterner<'a>,
    /// Connection details that are a virtual host alone, as logged.
    hosts: LocalInterner<'a>,
    /// The others, put together by [`connection_key`].
    composed_connections: Interner,
    /// The last line's virtual host, TLS protocol and X-Forwarded-For, and their id.
    last_connection: ([&'a [u8]; 3], u32),
    composed_requests: Interner,
    composed_referrers: Interner,
    composed_agents: Interner,
    /// Encoded agents and referrers → their `COMPOSED` ids; encoded queries → their text.
    decoded_agents: Decoded<'a, u32>,
    decoded_referrers: Decoded<'a, u32>,
    decoded_queries: Decoded<'a, (usize, usize)>,
    /// The decoded queries' text, where `decoded_queries` points.
    queries_text: Vec<u8>,
    scratch: Vec<u8>,
    visitors: VisitorTable,
    key: VisitorKey,
    client_ip: ClientIp,
    /// Hits whose client came from X-Forwarded-For.
    forwarded: u64,
    /// Hits whose line has no user-agent field.
    agents_not_logged: u64,
    /// Hits whose request has no method (logged in parts, without one or with `-`).
    methods_not_logged: u64,
    keep_connections: bool,
    hits: Vec<Hit>,
}

/// Marks a chunk-local id as one of the owned (composed or decoded) values.
const COMPOSED: u32 = 1 << 31;

/// What each distinct encoded spelling of a value in a chunk decoded to: a line's value
/// is looked up as logged, and decoded only when the chunk has not met it. (CloudFront
/// writes every user agent, referrer and query percent-encoded, and decoding them line by
/// line took 29% of a `cloudfront` run's instructions.)
struct Decoded<'a, T> {
    logged: LocalInterner<'a>,
    /// By the id `logged` gives.
    values: Vec<T>,
    /// The coding the values were decoded with (one a chunk in practice; another empties
    /// the memo).
    coding: TextCoding,
}

impl<T> Default for Decoded<'_, T> {
    fn default() -> Self {
        Decoded {
            logged: LocalInterner::default(),
            values: Vec::new(),
            coding: TextCoding::AsLogged,
        }
    }
}

impl<'a, T> Decoded<'a, T> {
    /// What `logged`, in `coding`, decoded to; `decode` makes it the first time.
    #[inline]
    fn get(&mut self, logged: &'a [u8], coding: TextCoding, decode: impl FnOnce() -> T) -> &T {
        if coding != self.coding {
            *self = Decoded {
                coding,
                ..Decoded::default()
            };
        }
        let id = self.logged.intern(logged) as usize;
        if id == self.values.len() {
            self.values.push(decode());
        }
        &self.values[id]
    }
}

impl<'a> ChunkHits<'a> {
    /// Room for `lines` hits, visitors told apart by the default key (`ip+ua`).
    pub fn with_capacity(lines: usize) -> Self {
        ChunkHits::with_key(lines, VisitorKey::default())
    }

    /// Room for `lines` hits, visitors told apart by `key`.
    pub fn with_key(lines: usize, key: VisitorKey) -> Self {
        ChunkHits {
            hits: Vec::with_capacity(lines),
            key,
            ..Default::default()
        }
    }

    /// The same, with clients taken from `client_ip`.
    pub fn client_ip(self, client_ip: ClientIp) -> Self {
        ChunkHits { client_ip, ..self }
    }

    /// The same, keeping each hit's connection details (`Hit::connection`) or not
    /// (every hit's is [`NO_CONNECTION`]).
    pub fn connections(self, keep: bool) -> Self {
        ChunkHits {
            keep_connections: keep,
            ..self
        }
    }

    /// Hits whose client came from X-Forwarded-For so far.
    pub fn forwarded_clients(&self) -> u64 {
        self.forwarded
    }

    /// Hits so far whose line has no user-agent field.
    pub fn agents_not_logged(&self) -> u64 {
        self.agents_not_logged
    }

    /// Hits so far whose request has no method (see [`crate::enrich::request::Method::NotLogged`]).
    pub fn methods_not_logged(&self) -> u64 {
        self.methods_not_logged
    }

    /// Records one parsed line.
    #[inline]
    pub fn push(&mut self, line: &LogLine<'a>) {
        let mut client = line.client;
        if self.client_ip == ClientIp::ForwardedFor
            && let Some(forwarded) = forwarded_client(line.forwarded_for)
        {
            client = forwarded;
            self.forwarded += 1;
        }
        let client = self.clients.intern(client);
        let not_logged = line.user_agent == AGENT_NOT_LOGGED;
        self.agents_not_logged += u64::from(not_logged);
        let agent = match line.coding {
            TextCoding::AsLogged => self.agents.intern(line.user_agent),
            _ if not_logged => self.agents.intern(AGENT_NOT_LOGGED),
            coding => {
                let (scratch, agents) = (&mut self.scratch, &mut self.composed_agents);
                *self.decoded_agents.get(line.user_agent, coding, || {
                    scratch.clear();
                    coding.decode_into(line.user_agent, scratch);
                    // A logged agent that decodes to a lone newline or dash (`%0A`, `%2D`)
                    // is as good as empty, as a logged `-` is, and is not shown as the one
                    // a format does not log (`-`).
                    if scratch == AGENT_NOT_LOGGED || scratch == b"-" {
                        scratch.clear();
                    }
                    COMPOSED | agents.intern(scratch)
                })
            }
        };
        let request = match line.request {
            Request::Line(text) => self.requests.intern(text),
            Request::Parts {
                method,
                target,
                query,
                protocol,
            } => {
                if method.is_empty() {
                    self.methods_not_logged += 1;
                }
                // The query as the request line holds it: decoded once per spelling.
                let query = match line.coding {
                    TextCoding::AsLogged => query,
                    _ if query.is_empty() => query,
                    coding => {
                        let text = &mut self.queries_text;
                        let &(start, end) = self.decoded_queries.get(query, coding, || {
                            let start = text.len();
                            coding.decode_query_into(query, text);
                            (start, text.len())
                        });
                        &self.queries_text[start..end]
                    }
                };
                let parts = Request::Parts {
                    method,
                    target,
                    query,
                    protocol,
                };
                parts.write_line(TextCoding::AsLogged, &mut self.scratch);
                COMPOSED | self.composed_requests.intern(&self.scratch)
            }
        };
        let referrer = if line.coding.applies_to_referrer() {
            let (scratch, referrers) = (&mut self.scratch, &mut self.composed_referrers);
            *self.decoded_referrers.get(line.referrer, line.coding, || {
                scratch.clear();
                line.coding.decode_into(line.referrer, scratch);
                COMPOSED | referrers.intern(scratch)
            })
        } else {
            self.referrers.intern(line.referrer)
        };
        let visitor = match self.key {
            VisitorKey::IpUserAgent => self.visitors.intern(client, agent),
            _ => self.keyed_visitor(line, client, agent),
        };
        // Most formats log none of the three, and a log that does mostly repeats the last
        // line's host and protocol: no lookup for either. Only a logged X-Forwarded-For,
        // which changes with the client, is looked up line by line.
        let parts = [line.vhost, line.tls, line.forwarded_for];
        let connection = if !self.keep_connections || parts.iter().all(|p| p.is_empty()) {
            NO_CONNECTION
        } else if parts == self.last_connection.0 {
            self.last_connection.1
        } else {
            let id = if line.tls.is_empty() && line.forwarded_for.is_empty() {
                self.hosts.intern(line.vhost)
            } else {
                connection_key(line.vhost, line.tls, line.forwarded_for, &mut self.scratch);
                COMPOSED | self.composed_connections.intern(&self.scratch)
            };
            self.last_connection = (parts, id);
            id
        };
        self.hits.push(Hit {
            ts_ms: line.time.utc_ms,
            bytes: line.bytes,
            visitor,
            request,
            referrer,
            response_us: line.response_time_us,
            connection,
            status: line.status,
            offset_min: line.time.offset_min,
        });
    }

    /// The visitor of a line under a key other than `ip+ua`.
    fn keyed_visitor(&mut self, line: &LogLine<'a>, client: u32, agent: u32) -> u32 {
        let named = match self.key {
            VisitorKey::User => line.user,
            VisitorKey::Cookie => line.cookie,
            VisitorKey::Ip | VisitorKey::IpUserAgent => b"",
        };
        let identity = if self.key == VisitorKey::Ip {
            (client, ANY_AGENT)
        } else if !named.is_empty() {
            (NAMED, self.idents.intern(named))
        } else {
            (client, agent)
        };
        let seen = FirstSeen {
            ts_ms: line.time.utc_ms,
            client,
            agent,
        };
        let (clients, agents, composed) = (&self.clients, &self.agents, &self.composed_agents);
        let text = |s: &FirstSeen| {
            let agent = if s.agent & COMPOSED == 0 {
                agents.values()[s.agent as usize].0
            } else {
                composed.get(s.agent & !COMPOSED)
            };
            (agent, clients.values()[s.client as usize].0)
        };
        self.visitors
            .intern_seen(identity, seen, |new, old| text(new) < text(old))
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
        let connections = if self.hosts.values().is_empty() && self.composed_connections.is_empty()
        {
            IdMap::default()
        } else {
            merge(&shared.connections, &self.hosts, &self.composed_connections)
        };
        let visitors: Vec<u32> = if self.visitors.first.is_empty() {
            let mut table = lock(&shared.visitors);
            self.visitors
                .keys
                .iter()
                .map(|&(c, a)| table.intern(clients[c as usize], agents.get(a)))
                .collect()
        } else {
            let idents = lock(&shared.idents).merge_local(&self.idents);
            let mut table = lock(&shared.visitors);
            self.visitors
                .keys
                .iter()
                .zip(&self.visitors.first)
                .map(|(&(a, b), first)| {
                    let identity = match (a, b) {
                        (NAMED, ident) => (NAMED, idents[ident as usize]),
                        (client, ANY_AGENT) => (clients[client as usize], ANY_AGENT),
                        (client, agent) => (clients[client as usize], agents.get(agent)),
                    };
                    let seen = FirstSeen {
                        ts_ms: first.ts_ms,
                        client: clients[first.client as usize],
                        agent: agents.get(first.agent),
                    };
                    // Ties (rare) compare texts; no other thread holds the agents or clients
                    // lock while waiting for the visitors one, so taking them here is safe.
                    table.intern_seen(identity, seen, |new, old| {
                        let agents = lock(&shared.agents);
                        let clients = lock(&shared.clients);
                        (agents.get(new.agent), clients.get(new.client))
                            < (agents.get(old.agent), clients.get(old.client))
                    })
                })
                .collect()
        };
        let mut hits = self.hits;
        for hit in &mut hits {
            hit.visitor = visitors[hit.visitor as usize];
            hit.request = requests.get(hit.request);
            hit.referrer = referrers.get(hit.referrer);
            if hit.connection != NO_CONNECTION {
                hit.connection = connections.get(hit.connection);
            }
        }
        hits
    }
}

/// Chunk-local ids (borrowed, and owned ones marked [`COMPOSED`]) → run-wide ids.
#[derive(Default)]
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
    fn connection_keys_give_back_their_three_parts() {
        let mut key = Vec::new();
        let cases: [[&[u8]; 3]; 5] = [
            [b"shop.example:443", b"", b""],
            [b"", b"TLSv1.3", b""],
            [b"", b"", b"203.0.113.9, 10.0.0.1"],
            [b"shop.example", b"TLSv1.2", b"198.51.100.4"],
            [b"shop.example", b"", b"198.51.100.4"],
        ];
        for parts in cases {
            connection_key(parts[0], parts[1], parts[2], &mut key);
            assert_eq!(
                connection_parts(&key),
                parts,
                "{:?}",
                String::from_utf8_lossy(&key)
            );
        }
        // A host alone is kept as logged, so that most logs' keys are borrowed slices.
        connection_key(b"shop.example", b"", b"", &mut key);
        assert_eq!(key, b"shop.example");
    }

    #[test]
    fn forwarded_client_is_the_first_address() {
        let cases: [(&[u8], Option<&[u8]>); 24] = [
            (b"fe80::1%eth0", Some(b"fe80::1")),
            (b"::1", Some(b"::1")),
            (b"999.1.1.1", None),
            (b"1..2.3", None),
            (b"...", None),
            (b"::::", None),
            (b"1.2.3.4:5:6", None),
            (b"ab:cd:ef:01:23:45", None),
            (b"[", None),
            (b"[]", None),
            (b"203.0.113.7", Some(b"203.0.113.7")),
            (b"203.0.113.7, 10.0.0.1, 10.0.0.2", Some(b"203.0.113.7")),
            (b" 203.0.113.7 ,10.0.0.1", Some(b"203.0.113.7")),
            (b"203.0.113.7:4711", Some(b"203.0.113.7")),
            (b"2001:db8::1", Some(b"2001:db8::1")),
            (b"[2001:db8::1]:443, 10.0.0.1", Some(b"2001:db8::1")),
            (b"::ffff:203.0.113.7", Some(b"::ffff:203.0.113.7")),
            (b"", None),
            (b"-", None),
            (b"unknown, 203.0.113.7", None),
            (b"shop.example", None),
            (b"1.2.3", None),
            (b"[2001:db8::1", None),
            (b"203.0.113.7<script>", None),
        ];
        for (value, want) in cases {
            assert_eq!(
                forwarded_client(value),
                want,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn hit_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Hit>(), 40);
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

    /// Visitors of `lines` (in a custom format with the `sid` cookie) under `key`, split
    /// into chunks of `per_chunk` lines: (visitors, the description of each, by hash order).
    fn visitors_under(key: VisitorKey, lines: &[&str], per_chunk: usize) -> Vec<(u64, Vec<u8>)> {
        let format = crate::parse::CustomFormat::compile(
            r#"%h %u %t "%r" %>s "%{User-Agent}i" %{sid}C"#,
            Some("sid"),
        )
        .unwrap();
        let shared = SharedDictionaries::default();
        for chunk in lines.chunks(per_chunk) {
            let mut hits = ChunkHits::with_key(chunk.len(), key);
            for line in chunk {
                hits.push(&format.parse(line.as_bytes()).unwrap());
            }
            hits.into_global(&shared);
        }
        let dicts = shared.into_inner();
        let lookups = Lookups::build(&dicts, &EnrichRules::default());
        let mut out: Vec<(u64, Vec<u8>)> = (0..dicts.visitors.len() as u32)
            .map(|v| {
                let (client, agent) = dicts.visitors.key(v);
                let mut text = dicts.clients.get(client).to_vec();
                text.push(b' ');
                text.extend_from_slice(dicts.agents.get(agent));
                (lookups.visitor(v).hash, text)
            })
            .collect();
        out.sort();
        out
    }

    const SHARED_IP: [&str; 4] = [
        r#"10.0.0.1 - [10/Oct/2026:13:55:38 +0000] "GET /a HTTP/1.1" 200 "UA-2" alice"#,
        r#"10.0.0.1 bob [10/Oct/2026:13:55:36 +0000] "GET /b HTTP/1.1" 200 "UA-1" carol"#,
        r#"10.0.0.1 - [10/Oct/2026:13:55:37 +0000] "GET /c HTTP/1.1" 200 "UA-1" alice"#,
        r#"10.0.0.1 - [10/Oct/2026:13:55:39 +0000] "GET /d HTTP/1.1" 200 "UA-1" -"#,
    ];

    #[test]
    fn two_cookies_behind_one_ip_are_two_visitors_under_the_cookie_key_one_under_ip() {
        let seeded = |s: &str| xxhash_rust::xxh64::xxh64(s.as_bytes(), VISITOR_HASH_SEED);
        let cookie = visitors_under(VisitorKey::Cookie, &SHARED_IP, 4);
        // alice (seen with UA-1 first), carol, and the line without a cookie by ip+ua.
        let mut want = vec![
            (seeded("alice"), b"10.0.0.1 UA-1".to_vec()),
            (seeded("carol"), b"10.0.0.1 UA-1".to_vec()),
            (
                visitor_hash(b"10.0.0.1", b"UA-1"),
                b"10.0.0.1 UA-1".to_vec(),
            ),
        ];
        want.sort();
        assert_eq!(cookie, want);
        let ip = visitors_under(VisitorKey::Ip, &SHARED_IP, 4);
        assert_eq!(ip, [(seeded("10.0.0.1"), b"10.0.0.1 UA-1".to_vec())]);
        let ip_ua = visitors_under(VisitorKey::IpUserAgent, &SHARED_IP, 4);
        assert_eq!(ip_ua.len(), 2);
        let user = visitors_under(VisitorKey::User, &SHARED_IP, 4);
        let mut want = vec![
            (seeded("bob"), b"10.0.0.1 UA-1".to_vec()),
            (
                visitor_hash(b"10.0.0.1", b"UA-1"),
                b"10.0.0.1 UA-1".to_vec(),
            ),
            (
                visitor_hash(b"10.0.0.1", b"UA-2"),
                b"10.0.0.1 UA-2".to_vec(),
            ),
        ];
        want.sort();
        assert_eq!(user, want);
    }

    #[test]
    fn a_visitor_is_described_by_its_earliest_hit_whatever_the_chunking() {
        let lines = [
            r#"10.0.0.9 - [10/Oct/2026:13:55:38 +0000] "GET /a HTTP/1.1" 200 "UA-late" s"#,
            r#"10.0.0.8 - [10/Oct/2026:13:55:36 +0000] "GET /b HTTP/1.1" 200 "UA-zz" s"#,
            r#"10.0.0.7 - [10/Oct/2026:13:55:36 +0000] "GET /b HTTP/1.1" 200 "UA-aa" s"#,
        ];
        for per_chunk in 1..=3 {
            let got = visitors_under(VisitorKey::Cookie, &lines, per_chunk);
            assert_eq!(got.len(), 1);
            // The earliest millisecond, and of the two hits there the smaller agent text.
            assert_eq!(got[0].1, b"10.0.0.7 UA-aa", "chunks of {per_chunk}");
        }
    }

    /// The run-wide agent texts of lines whose agents are given as `(logged, coding)`.
    fn agents(lines: &[(&'static [u8], TextCoding)]) -> Vec<Vec<u8>> {
        let shared = SharedDictionaries::default();
        let mut chunk = ChunkHits::with_capacity(lines.len());
        for &(agent, coding) in lines {
            let mut line = LogLine::new(
                b"10.0.0.1",
                crate::parse::LogTime::default(),
                Request::Line(b"GET /"),
                200,
            );
            line.user_agent = agent;
            line.coding = coding;
            chunk.push(&line);
        }
        assert_eq!(
            chunk.agents_not_logged(),
            lines.iter().filter(|l| l.0 == AGENT_NOT_LOGGED).count() as u64
        );
        let hits = chunk.into_global(&shared);
        let dicts = shared.into_inner();
        hits.iter()
            .map(|h| dicts.agents.get(dicts.visitors.key(h.visitor).1).to_vec())
            .collect()
    }

    #[test]
    fn an_agent_not_logged_stays_apart_from_every_logged_one() {
        let got = agents(&[
            (AGENT_NOT_LOGGED, TextCoding::AsLogged),
            // Not decoded: still the mark.
            (AGENT_NOT_LOGGED, TextCoding::Percent),
            (b"", TextCoding::AsLogged),
            // Logged agents that decode to the mark or to `-` are empty ones.
            (b"%0A", TextCoding::Percent),
            (b"%2D", TextCoding::Percent),
            (b"curl%2F8", TextCoding::Percent),
            // W3C's decoding too (`+` a space, `%hh` a byte).
            (AGENT_NOT_LOGGED, TextCoding::PlusForSpace),
            (b"%0A", TextCoding::PlusForSpace),
            (b"%2D", TextCoding::PlusForSpace),
            (b"NSPlayer%2F10.0+x", TextCoding::PlusForSpace),
        ]);
        let want: [&[u8]; 10] = [
            AGENT_NOT_LOGGED,
            AGENT_NOT_LOGGED,
            b"",
            b"",
            b"",
            b"curl/8",
            AGENT_NOT_LOGGED,
            b"",
            b"",
            b"NSPlayer/10.0 x",
        ];
        assert_eq!(got, want.map(<[u8]>::to_vec));
    }

    #[test]
    fn an_encoded_value_decodes_the_same_on_every_line_and_under_each_coding() {
        // (agent, referrer, query) and a coding: spellings repeated, the same spelling
        // under two codings in turn (`+` is a space in W3C's agents, a `+` in CloudFront's).
        let (agent, referrer): (&[u8], &[u8]) = (b"a+b%2F1", b"https%3A//r/");
        let cf = (agent, referrer, &b"q=a%2520b"[..]);
        let iis = (agent, referrer, &b"q=a+b%26c"[..]);
        let other = (&b"x%20y"[..], &b"-"[..], &b""[..]);
        let lines = [
            (cf, TextCoding::Percent),
            (cf, TextCoding::Percent),
            (iis, TextCoding::PlusForSpace),
            (cf, TextCoding::Percent),
            (iis, TextCoding::AsLogged),
            (other, TextCoding::Percent),
            (iis, TextCoding::PlusForSpace),
        ];
        let shared = SharedDictionaries::default();
        let mut chunk = ChunkHits::with_capacity(lines.len());
        for &((agent, referrer, query), coding) in &lines {
            let request = Request::Parts {
                method: b"GET",
                target: b"/p",
                query,
                protocol: b"HTTP/1.1",
            };
            let mut line =
                LogLine::new(b"10.0.0.1", crate::parse::LogTime::default(), request, 200);
            (line.user_agent, line.referrer, line.coding) = (agent, referrer, coding);
            chunk.push(&line);
        }
        let hits = chunk.into_global(&shared);
        let dicts = shared.into_inner();
        let got: Vec<[&[u8]; 3]> = hits
            .iter()
            .map(|h| {
                [
                    dicts.agents.get(dicts.visitors.key(h.visitor).1),
                    dicts.referrers.get(h.referrer),
                    dicts.requests.get(h.request),
                ]
            })
            .collect();
        // Each line decoded on its own, as the codings define: CloudFront's agent,
        // referrer and query once; W3C's agent with `+` a space and its query's `+` only.
        let cloudfront: [&[u8]; 3] = [b"a+b/1", b"https://r/", b"GET /p?q=a%20b HTTP/1.1"];
        let w3c: [&[u8]; 3] = [b"a b/1", b"https%3A//r/", b"GET /p?q=a b%26c HTTP/1.1"];
        let as_logged: [&[u8]; 3] = [b"a+b%2F1", b"https%3A//r/", b"GET /p?q=a+b%26c HTTP/1.1"];
        let x_y: [&[u8]; 3] = [b"x y", b"-", b"GET /p HTTP/1.1"];
        assert_eq!(
            got,
            [cloudfront, cloudfront, w3c, cloudfront, as_logged, x_y, w3c]
        );
    }
}
