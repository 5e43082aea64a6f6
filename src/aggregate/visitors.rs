//! Who came: the `visitors`, `robots` and `sessions` tables.
//!
//! A visitor lives in one shard, so its row is complete when its shard is done; partials
//! merge by concatenation, and rows are ordered only at the end.

use super::{IdMap, Merge, Session, bytes_of, sort_rows};
use crate::enrich::{Hit, Lookups, Text};

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
    /// Distinct local days with a session start.
    pub active_days: u64,
    /// Whole days between the visitor's last two sessions.
    pub days_since_previous_visit: Option<u32>,
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

/// No hit yet: a first and last time that any hit replaces.
impl Default for BotCounts {
    fn default() -> Self {
        BotCounts {
            hits: 0,
            bytes: 0,
            visitors: 0,
            first_ms: i64::MAX,
            last_ms: i64::MIN,
        }
    }
}

impl Merge for BotCounts {
    fn merge(&mut self, o: Self) {
        self.hits += o.hits;
        self.bytes = self.bytes.saturating_add(o.bytes);
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
    /// A human visitor's hits (sorted by time) and what sessionizing them gave: its sessions
    /// are `self.sessions[first_session..]`.
    pub fn add_human(
        &mut self,
        visitor: u32,
        hits: &[Hit],
        page_views: usize,
        first_session: usize,
    ) {
        let sessions = &self.sessions[first_session..];
        let Some(last) = sessions.last() else {
            return;
        };
        let days = if sessions.len() == 1 {
            1
        } else {
            // Local days can go back when the logged offset changes: count distinct ones.
            let mut days: Vec<i32> = sessions.iter().map(super::loyalty::start_day).collect();
            days.sort_unstable();
            days.dedup();
            days.len() as u64
        };
        self.humans.push(VisitorCounts {
            visitor,
            sessions: sessions.len() as u64,
            page_views: page_views as u64,
            hits: hits.len() as u64,
            bytes: bytes_of(hits),
            first_ms: hits[0].ts_ms,
            last_ms: hits[hits.len() - 1].ts_ms,
            active_days: days,
            days_since_previous_visit: last.days_since_last,
        });
    }

    pub fn add_bot(&mut self, bot: u32, hits: &[Hit]) {
        let counts = BotCounts {
            hits: hits.len() as u64,
            bytes: bytes_of(hits),
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
    pub ip: Text,
    pub user_agent: Text,
    pub browser: Text,
    pub os: Text,
    pub device: Text,
    pub sessions: u64,
    pub page_views: u64,
    pub hits: u64,
    pub bytes: u64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub returning: bool,
    pub active_days: u64,
    pub days_since_previous_visit: Option<u32>,
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

/// A session with its text looked up: borrowed, built while the table is written.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow<'a> {
    pub visitor_hash: u64,
    pub same_start: u32,
    pub ip: &'a str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub duration_s: f64,
    pub page_views: u64,
    pub bounce: bool,
    pub engaged: bool,
    pub entry_page: &'a str,
    pub exit_page: &'a str,
    pub referrer: Option<&'a str>,
    pub referrer_host: Option<&'a str>,
    pub referrer_internal: Option<bool>,
    pub channel: &'static str,
    pub source: &'a str,
    pub medium: &'a str,
    pub campaign: Option<&'a str>,
    pub term: Option<&'a str>,
    pub content: Option<&'a str>,
    pub search_engine: Option<&'a str>,
    pub keyword: Option<&'a str>,
    pub converted: bool,
    pub goal: Option<&'a str>,
    pub value: f64,
    pub browser: &'a str,
    pub os: &'a str,
    pub device: &'a str,
    pub resolution: Option<&'a str>,
    pub color_depth: Option<u8>,
    pub session_number: u32,
    pub days_since_last_visit: Option<u32>,
}

impl SessionRow<'_> {
    /// `<visitor hash as 16 hex digits>-<start in ms>`: the same in any engine that has the
    /// visitor hash and the start time. A second session of the visitor starting at the same
    /// millisecond (only a `ua` source change can cut one there) gets `-1`, a third `-2`.
    pub fn write_session_id(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        write!(out, "{:016x}-{}", self.visitor_hash, self.start_ms)?;
        if self.same_start > 0 {
            write!(out, "-{}", self.same_start)?;
        }
        Ok(())
    }
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
                returning: c.sessions > 1,
                active_days: c.active_days,
                days_since_previous_visit: c.days_since_previous_visit,
            }
        })
        .collect();
    sort_visitor_rows(&mut rows);
    rows
}

/// The most loyal first: page views, then sessions, then hits; ties by key. (In parallel:
/// a month merged has a million rows; the order is total, so the result is one.)
pub fn sort_visitor_rows(rows: &mut [VisitorRow]) {
    use rayon::slice::ParallelSliceMut;
    rows.par_sort_unstable_by(|a, b| {
        b.page_views
            .cmp(&a.page_views)
            .then(b.sessions.cmp(&a.sessions))
            .then(b.hits.cmp(&a.hits))
            .then_with(|| a.ip.cmp(&b.ip))
            .then_with(|| a.user_agent.cmp(&b.user_agent))
            .then(a.visitor.cmp(&b.visitor))
    });
}

pub fn finish_robots(v: &Visitors, lookups: &Lookups) -> Vec<RobotRow> {
    robot_rows(v.bots.iter().map(|(&id, c)| {
        let bot = &lookups.bots[id as usize];
        (bot.name.clone(), bot.kind, c)
    }))
}

/// The `robots` rows of counts per bot (name, kind), in table order.
pub fn robot_rows<'a>(
    bots: impl Iterator<Item = (String, &'static str, &'a BotCounts)>,
) -> Vec<RobotRow> {
    let mut rows: Vec<RobotRow> = bots
        .map(|(bot, kind, c)| RobotRow {
            bot,
            kind,
            hits: c.hits,
            bytes: c.bytes,
            visitors: c.visitors,
            first_ms: c.first_ms,
            last_ms: c.last_ms,
        })
        .collect();
    sort_rows(
        &mut rows,
        |r| r.hits,
        |a, b| a.bot.cmp(&b.bot).then(a.kind.cmp(b.kind)),
    );
    rows
}

/// Puts sessions in output order: start time, visitor hash, then the place among the
/// visitor's sessions starting at that millisecond; all independent of input order.
pub fn sort_sessions(sessions: &mut [Session], lookups: &Lookups) {
    sessions.sort_unstable_by_key(|s| session_order(s, lookups));
}

/// A session's place in output order (see [`sort_sessions`]).
pub fn session_order(s: &Session, lookups: &Lookups) -> (i64, u64, u32) {
    (s.start_ms, lookups.visitor(s.visitor).hash, s.same_start)
}

/// A session's row, its text borrowed from `lookups`.
pub fn session_row<'a>(s: &Session, lookups: &'a Lookups) -> SessionRow<'a> {
    let info = lookups.visitor(s.visitor);
    let agent = lookups.agent_of(s.visitor);
    let referrer = lookups.referrer(s.referrer);
    let has_referrer = !referrer.text.is_empty();
    let acquisition = lookups.acquisition(s.acquisition);
    SessionRow {
        visitor_hash: info.hash,
        same_start: s.same_start,
        ip: &lookups.clients[info.client as usize],
        start_ms: s.start_ms,
        end_ms: s.end_ms,
        duration_s: s.duration_ms() as f64 / 1000.0,
        page_views: u64::from(s.page_views),
        bounce: s.bounce(),
        engaged: s.engaged(),
        entry_page: lookups.path(s.entry),
        exit_page: lookups.path(s.exit),
        referrer: has_referrer.then_some(&*referrer.text),
        referrer_host: referrer.host.map(|h| &*lookups.hosts[h as usize]),
        referrer_internal: has_referrer.then_some(referrer.internal),
        channel: acquisition.channel.name(),
        source: lookups.label(acquisition.source),
        medium: lookups.label(acquisition.medium),
        campaign: acquisition.campaign.map(|l| lookups.label(l)),
        term: acquisition.term.map(|l| lookups.label(l)),
        content: acquisition.content.map(|l| lookups.label(l)),
        search_engine: referrer.engine.map(|l| lookups.label(l)),
        keyword: referrer.keyword.map(|l| lookups.label(l)),
        converted: s.goal.is_some(),
        goal: s
            .goal
            .map(|g| lookups.goals.goals[g as usize].name.as_str()),
        value: s.value_micro as f64 / 1e6,
        browser: &agent.browser,
        os: &agent.os,
        device: &agent.device,
        resolution: s.resolution.map(|r| &*lookups.resolutions[r as usize]),
        color_depth: s.color_depth,
        session_number: s.number,
        days_since_last_visit: s.days_since_last,
    }
}
