//! Who the visitors are: the `browsers`, `operating_systems`, `devices`, `resolutions` and
//! `color_depths` tables.
//!
//! A visitor key includes the user agent, so each visitor has exactly one agent: sessions
//! are counted per distinct agent, and the browser, OS and device rows are sums over agents,
//! exact for visitors too. Screen data comes from tracking beacons, attached to sessions by
//! [`attach_beacons`].

use std::collections::BTreeMap;

use super::acquisition::{Keyed, Rates, SessionMetrics};
use super::{IdMap, Merge, Session, ratio, sort_rows};
use crate::enrich::{BeaconScreen, Lookups, Text};

#[derive(Default)]
pub struct Audience {
    /// Human sessions per user-agent id.
    pub agents: Keyed<u32>,
    /// Human hits per user-agent id.
    pub agent_hits: IdMap<u32, u64>,
    /// (resolution id, device index): sessions without a beacon's resolution have `None`.
    pub resolutions: Keyed<(Option<u32>, u16)>,
    pub color_depths: Keyed<(Option<u8>, u16)>,
}

impl Merge for Audience {
    fn merge(&mut self, o: Self) {
        self.agents.merge(o.agents);
        self.agent_hits.merge(o.agent_hits);
        self.resolutions.merge(o.resolutions);
        self.color_depths.merge(o.color_depths);
    }
}

#[derive(Default)]
pub struct AudienceScratch {
    resolutions: Vec<(Option<u32>, u16)>,
    depths: Vec<(Option<u8>, u16)>,
}

impl Audience {
    /// One human visitor: its hit count and its sessions.
    pub fn add_visitor(
        &mut self,
        visitor: u32,
        hits: usize,
        sessions: &[Session],
        lookups: &Lookups,
        scratch: &mut AudienceScratch,
    ) {
        if sessions.is_empty() {
            // A key without page views is no visitor: its hits count in no agent's row.
            return;
        }
        let agent = lookups.visitor(visitor).agent;
        let device = lookups.agent_devices[agent as usize];
        *self.agent_hits.entry(agent).or_default() += hits as u64;
        self.agents.add_all(sessions, agent);
        self.resolutions.add_visitor(
            sessions,
            |s| Some((s.resolution, device)),
            &mut scratch.resolutions,
        );
        self.color_depths.add_visitor(
            sessions,
            |s| Some((s.color_depth, device)),
            &mut scratch.depths,
        );
    }
}

/// Gives each session the screen of the first beacon that belongs to it (`beacons` sorted
/// by time; `sessions` one visitor's, in time order). A beacon belongs to the last session
/// that started at or before it, if it came at most `timeout_ms` after that session's last
/// page view; otherwise to the next session, if that starts at most `timeout_ms` after it
/// (a beacon logged a moment before its page, by another server). Otherwise to none.
pub fn attach_beacons(sessions: &mut [Session], beacons: &[(i64, BeaconScreen)], timeout_ms: i64) {
    let mut next = 0; // sessions[..next] started at or before the current beacon.
    for &(ts, screen) in beacons {
        while next < sessions.len() && sessions[next].start_ms <= ts {
            next += 1;
        }
        let before = next
            .checked_sub(1)
            .filter(|&i| ts - sessions[i].end_ms <= timeout_ms);
        let after =
            (next < sessions.len() && sessions[next].start_ms - ts <= timeout_ms).then_some(next);
        let Some(i) = before.or(after) else { continue };
        let s = &mut sessions[i];
        s.resolution = s.resolution.or(screen.resolution);
        s.color_depth = s.color_depth.or(screen.color_depth);
    }
}

/// A row of an audience table: its key, its share of all sessions, the shared session
/// metrics, and (for agent tables) human hits.
#[derive(Debug, Clone, PartialEq)]
pub struct AudienceRow<K> {
    pub key: K,
    pub share: Option<f64>,
    pub metrics: SessionMetrics,
    pub rates: Rates,
    pub hits: u64,
}

pub struct AudienceReports {
    /// (browser, major version).
    pub browsers: Vec<AudienceRow<(Text, Text)>>,
    /// (OS, version).
    pub operating_systems: Vec<AudienceRow<(Text, Text)>>,
    pub devices: Vec<AudienceRow<Text>>,
    /// (resolution, device).
    pub resolutions: Vec<AudienceRow<(Option<Text>, Text)>>,
    /// (bits, device).
    pub color_depths: Vec<AudienceRow<(Option<i64>, Text)>>,
}

/// Groups per-agent counts under `key`, then orders rows by sessions, ties by key.
fn group<K: Ord + Clone>(
    a: &Audience,
    sessions: u64,
    key: impl Fn(u32) -> K,
) -> Vec<AudienceRow<K>> {
    let mut groups: BTreeMap<K, (SessionMetrics, u64)> = BTreeMap::new();
    for (&agent, m) in &a.agents.by {
        let g = groups.entry(key(agent)).or_default();
        g.0.merge(*m);
        g.1 += a.agent_hits.get(&agent).copied().unwrap_or(0);
    }
    to_rows(groups, sessions)
}

/// Rows of (session metrics, hits) per key, in table order.
pub fn to_rows<K: Ord>(
    groups: BTreeMap<K, (SessionMetrics, u64)>,
    sessions: u64,
) -> Vec<AudienceRow<K>> {
    let mut rows: Vec<AudienceRow<K>> = groups
        .into_iter()
        .map(|(key, (metrics, hits))| AudienceRow {
            key,
            share: ratio(metrics.sessions, sessions),
            rates: metrics.rates(),
            metrics,
            hits,
        })
        .collect();
    sort_rows(&mut rows, |r| r.metrics.sessions, |a, b| a.key.cmp(&b.key));
    rows
}

fn screen_rows<K: Copy, R: Ord>(
    keyed: &Keyed<K>,
    sessions: u64,
    key: impl Fn(K) -> R,
) -> Vec<AudienceRow<R>> {
    let groups = keyed.by.iter().map(|(&k, m)| (key(k), (*m, 0))).collect();
    to_rows(groups, sessions)
}

pub fn finish(a: &Audience, lookups: &Lookups, sessions: u64) -> AudienceReports {
    let agent = |id: u32| &lookups.agents[id as usize];
    let device = |d: u16| lookups.devices[d as usize].clone();
    AudienceReports {
        browsers: group(a, sessions, |id| {
            (agent(id).browser.clone(), agent(id).browser_major.clone())
        }),
        operating_systems: group(a, sessions, |id| {
            (agent(id).os.clone(), agent(id).os_version.clone())
        }),
        devices: group(a, sessions, |id| agent(id).device.clone()),
        resolutions: screen_rows(&a.resolutions, sessions, |(r, d)| {
            (
                r.map(|r| lookups.resolutions[r as usize].clone()),
                device(d),
            )
        }),
        color_depths: screen_rows(&a.color_depths, sessions, |(c, d)| {
            (c.map(i64::from), device(d))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(start_ms: i64, end_ms: i64) -> Session {
        Session {
            visitor: 0,
            start_ms,
            end_ms,
            offset_min: 0,
            number: 1,
            days_since_last: None,
            entry: 0,
            exit: 0,
            page_views: 1,
            referrer: 0,
            same_start: 0,
            acquisition: 0,
            goal: None,
            value_micro: 0,
            resolution: None,
            color_depth: None,
        }
    }

    fn screen(resolution: u32, depth: Option<u8>) -> BeaconScreen {
        BeaconScreen {
            resolution: Some(resolution),
            color_depth: depth,
            invalid: false,
        }
    }

    const MIN: i64 = 60_000;
    const TIMEOUT: i64 = 30 * MIN;

    fn attached(sessions: &mut [Session]) -> Vec<(Option<u32>, Option<u8>)> {
        sessions
            .iter()
            .map(|s| (s.resolution, s.color_depth))
            .collect()
    }

    #[test]
    fn beacons_join_the_session_they_belong_to() {
        // Sessions at 0–10 min, 100–110 min and 200 min.
        let mut sessions = [
            session(0, 10 * MIN),
            session(100 * MIN, 110 * MIN),
            session(200 * MIN, 200 * MIN),
        ];
        let beacons = [
            // Inside the first session: it takes the first beacon's values...
            (5 * MIN, screen(1, None)),
            // ...and a later beacon's depth, but not its resolution.
            (8 * MIN, screen(9, Some(24))),
            // 40 minutes after the first session's last view and 50 before the second: none.
            (50 * MIN, screen(2, Some(8))),
            // 5 s before the second session starts (logged by another server): the second.
            (100 * MIN - 5_000, screen(3, Some(30))),
            // Exactly the timeout after the third session's last view: still the third.
            (200 * MIN + TIMEOUT, screen(4, None)),
            // One millisecond later than that: none.
            (200 * MIN + TIMEOUT + 1, screen(5, Some(16))),
        ];
        attach_beacons(&mut sessions, &beacons, TIMEOUT);
        assert_eq!(
            attached(&mut sessions),
            [(Some(1), Some(24)), (Some(3), Some(30)), (Some(4), None)]
        );
    }

    #[test]
    fn no_sessions_or_no_beacons() {
        attach_beacons(&mut [], &[(0, screen(1, None))], TIMEOUT);
        let mut sessions = [session(0, 0)];
        attach_beacons(&mut sessions, &[], TIMEOUT);
        assert_eq!(attached(&mut sessions), [(None, None)]);
        // A beacon at the very start of a session belongs to it.
        attach_beacons(&mut sessions, &[(0, screen(7, Some(32)))], TIMEOUT);
        assert_eq!(attached(&mut sessions), [(Some(7), Some(32))]);
    }
}
