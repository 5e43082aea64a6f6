//! Who came: the `visitors`, `robots` and `sessions` tables.
//!
//! A visitor lives in one shard, so its row is complete when its shard is done; partials
//! merge by concatenation, and rows are ordered only at the end.

use super::{IdMap, Merge, Session, sort_rows};
use crate::enrich::{Hit, Lookups};

/// One human visitor with at least one page view.
#[derive(Debug, Clone, Copy)]
pub struct VisitorCounts {
    pub visitor: u32,
    pub sessions: u64,
    pub page_views: u64,
    pub hits: u64,
    pub bytes: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// One bot (all its user agents and clients).
#[derive(Debug, Clone, Copy)]
pub struct BotCounts {
    pub hits: u64,
    pub bytes: u64,
    pub visitors: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

impl Merge for BotCounts {
    fn merge(&mut self, o: Self) {
        self.hits += o.hits;
        self.bytes += o.bytes;
        self.visitors += o.visitors;
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
    }
}

#[derive(Default)]
pub struct Visitors {
    pub humans: Vec<VisitorCounts>,
    /// Keyed by bot id.
    pub bots: IdMap<u32, BotCounts>,
    pub sessions: Vec<Session>,
}

impl Merge for Visitors {
    fn merge(&mut self, other: Self) {
        self.humans.merge(other.humans);
        self.bots.merge(other.bots);
        self.sessions.merge(other.sessions);
    }
}

impl Visitors {
    /// A human visitor's hits (sorted by time) and what sessionizing them gave.
    pub fn add_human(&mut self, visitor: u32, hits: &[Hit], page_views: usize, sessions: usize) {
        if sessions == 0 {
            return;
        }
        self.humans.push(VisitorCounts {
            visitor,
            sessions: sessions as u64,
            page_views: page_views as u64,
            hits: hits.len() as u64,
            bytes: hits.iter().map(|h| h.bytes).sum(),
            first_ms: hits[0].ts_ms,
            last_ms: hits[hits.len() - 1].ts_ms,
        });
    }

    pub fn add_bot(&mut self, bot: u32, hits: &[Hit]) {
        let counts = BotCounts {
            hits: hits.len() as u64,
            bytes: hits.iter().map(|h| h.bytes).sum(),
            visitors: 1,
            first_ms: hits[0].ts_ms,
            last_ms: hits[hits.len() - 1].ts_ms,
        };
        match self.bots.get_mut(&bot) {
            Some(b) => b.merge(counts),
            None => {
                self.bots.insert(bot, counts);
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisitorRow {
    pub visitor: i64,
    pub ip: String,
    pub user_agent: String,
    pub browser: String,
    pub os: String,
    pub device: String,
    pub sessions: u64,
    pub page_views: u64,
    pub hits: u64,
    pub bytes: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RobotRow {
    pub bot: String,
    pub kind: &'static str,
    pub hits: u64,
    pub bytes: u64,
    pub visitors: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub session_id: String,
    pub visitor: i64,
    pub ip: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub duration_s: f64,
    pub page_views: u64,
    pub bounce: bool,
    pub engaged: bool,
    pub entry_page: String,
    pub exit_page: String,
    pub referrer: Option<String>,
    pub referrer_host: Option<String>,
    pub referrer_internal: Option<bool>,
    pub browser: String,
    pub os: String,
    pub device: String,
}

pub fn finish_visitors(v: &Visitors, lookups: &Lookups) -> Vec<VisitorRow> {
    let mut rows: Vec<VisitorRow> = v
        .humans
        .iter()
        .map(|c| {
            let info = lookups.visitor(c.visitor);
            let agent = lookups.agent_of(c.visitor);
            VisitorRow {
                visitor: info.hash as i64,
                ip: lookups.clients[info.client as usize].clone(),
                user_agent: lookups.agent_texts[info.agent as usize].clone(),
                browser: agent.browser.clone(),
                os: agent.os.clone(),
                device: agent.device.clone(),
                sessions: c.sessions,
                page_views: c.page_views,
                hits: c.hits,
                bytes: c.bytes,
                first_ms: c.first_ms,
                last_ms: c.last_ms,
            }
        })
        .collect();
    // The most loyal first: page views, then sessions, then hits; ties by key.
    sort_rows(
        &mut rows,
        |r| r.page_views,
        |a, b| {
            b.sessions
                .cmp(&a.sessions)
                .then(b.hits.cmp(&a.hits))
                .then_with(|| a.ip.cmp(&b.ip))
                .then_with(|| a.user_agent.cmp(&b.user_agent))
        },
    );
    rows
}

pub fn finish_robots(v: &Visitors, lookups: &Lookups) -> Vec<RobotRow> {
    let mut rows: Vec<RobotRow> = v
        .bots
        .iter()
        .map(|(&id, c)| {
            let bot = &lookups.bots[id as usize];
            RobotRow {
                bot: bot.name.clone(),
                kind: bot.kind,
                hits: c.hits,
                bytes: c.bytes,
                visitors: c.visitors,
                first_ms: c.first_ms,
                last_ms: c.last_ms,
            }
        })
        .collect();
    sort_rows(
        &mut rows,
        |r| r.hits,
        |a, b| a.bot.cmp(&b.bot).then(a.kind.cmp(b.kind)),
    );
    rows
}

pub fn finish_sessions(v: &Visitors, lookups: &Lookups) -> Vec<SessionRow> {
    let mut keyed: Vec<(i64, u64, &Session)> = v
        .sessions
        .iter()
        .map(|s| (s.start_ms, lookups.visitor(s.visitor).hash, s))
        .collect();
    // Start time, then visitor: unique, since one visitor's sessions never share a start.
    keyed.sort_unstable_by_key(|&(start, hash, s)| (start, hash, s.visitor));
    keyed
        .into_iter()
        .map(|(_, hash, s)| {
            let info = lookups.visitor(s.visitor);
            let agent = lookups.agent_of(s.visitor);
            let referrer = lookups.referrer(s.referrer);
            let has_referrer = !referrer.text.is_empty();
            SessionRow {
                session_id: session_id(hash, s.start_ms),
                visitor: hash as i64,
                ip: lookups.clients[info.client as usize].clone(),
                start_ms: s.start_ms,
                end_ms: s.end_ms,
                duration_s: s.duration_ms() as f64 / 1000.0,
                page_views: u64::from(s.page_views),
                bounce: s.bounce(),
                engaged: s.engaged(),
                entry_page: lookups.path(s.entry).to_owned(),
                exit_page: lookups.path(s.exit).to_owned(),
                referrer: has_referrer.then(|| referrer.text.clone()),
                referrer_host: referrer.host.map(|h| lookups.hosts[h as usize].clone()),
                referrer_internal: has_referrer.then_some(referrer.internal),
                browser: agent.browser.clone(),
                os: agent.os.clone(),
                device: agent.device.clone(),
            }
        })
        .collect()
}

/// `<visitor hash as 16 hex digits>-<start in ms>`: the same in any engine that has the
/// visitor hash and the start time.
pub fn session_id(visitor_hash: u64, start_ms: i64) -> String {
    format!("{visitor_hash:016x}-{start_ms}")
}
