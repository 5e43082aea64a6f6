//! Pages: the `pages`, `entry_pages` and `exit_pages` tables.

use super::{IdMap, Merge, Session, View, count_distinct, ratio, sort_rows};
use crate::enrich::{Lookups, NO_RESPONSE_TIME, Text};

/// Counts for one page path.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageCounts {
    pub hits: u64,
    pub page_views: u64,
    pub visitors: u64,
    pub entries: u64,
    pub exits: u64,
    pub bounces: u64,
    /// Page views and duration of the sessions that entered here.
    pub entry_page_views: u64,
    pub entry_duration_ms: u64,
    /// Page views followed by another in the same session, and the time until it.
    pub timed_views: u64,
    pub time_on_page_ms: u64,
    /// Hits whose response time the format logs, their response times added up, and the
    /// longest, in microseconds.
    pub response_hits: u64,
    pub response_us: u64,
    pub max_response_us: u64,
}

impl Merge for PageCounts {
    fn merge(&mut self, o: Self) {
        self.hits += o.hits;
        self.page_views += o.page_views;
        self.visitors += o.visitors;
        self.entries += o.entries;
        self.exits += o.exits;
        self.bounces += o.bounces;
        self.entry_page_views += o.entry_page_views;
        self.entry_duration_ms += o.entry_duration_ms;
        self.timed_views += o.timed_views;
        self.time_on_page_ms += o.time_on_page_ms;
        self.response_hits += o.response_hits;
        self.response_us += o.response_us;
        self.max_response_us = self.max_response_us.max(o.max_response_us);
    }
}

/// Counts per page path id.
#[derive(Default)]
pub struct Pages {
    pub by_path: IdMap<u32, PageCounts>,
}

impl Merge for Pages {
    fn merge(&mut self, other: Self) {
        self.by_path.merge(other.by_path);
    }
}

impl Pages {
    /// A human hit on the page, with its response time in microseconds
    /// ([`NO_RESPONSE_TIME`] when not logged).
    pub fn add_hit(&mut self, path: u32, response_us: u32) {
        let c = self.by_path.entry(path).or_default();
        c.hits += 1;
        if response_us != NO_RESPONSE_TIME {
            c.response_hits += 1;
            c.response_us += u64::from(response_us);
            c.max_response_us = c.max_response_us.max(u64::from(response_us));
        }
    }

    pub fn add_session(&mut self, s: &Session) {
        let entry = self.by_path.entry(s.entry).or_default();
        entry.entries += 1;
        entry.bounces += u64::from(s.bounce());
        entry.entry_page_views += u64::from(s.page_views);
        entry.entry_duration_ms += s.duration_ms().max(0) as u64;
        self.by_path.entry(s.exit).or_default().exits += 1;
    }

    /// A visitor's page views, session by session: counts them, the time on each page (until
    /// the next page view in the session; the last page view of a session has none, as a log
    /// cannot see when the page was left), and the visitor once per distinct path.
    pub fn add_views<'v>(
        &mut self,
        sessions: impl Iterator<Item = &'v [View]>,
        scratch: &mut Vec<u32>,
    ) {
        scratch.clear();
        for views in sessions {
            for (i, v) in views.iter().enumerate() {
                let c = self.by_path.entry(v.path).or_default();
                c.page_views += 1;
                if let Some(next) = views.get(i + 1) {
                    c.timed_views += 1;
                    c.time_on_page_ms += (next.ts_ms - v.ts_ms).max(0) as u64;
                }
                scratch.push(v.path);
            }
        }
        count_distinct(scratch, |path| {
            self.by_path.entry(path).or_default().visitors += 1
        });
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageRow {
    pub path: Text,
    pub hits: u64,
    pub page_views: u64,
    pub visitors: u64,
    pub entries: u64,
    pub exits: u64,
    pub exit_rate: Option<f64>,
    pub bounces: u64,
    pub bounce_rate: Option<f64>,
    pub avg_time_on_page_s: Option<f64>,
    /// Mean and longest response time of its hits that log one, milliseconds.
    pub avg_response_ms: Option<f64>,
    pub max_response_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub path: Text,
    pub sessions: u64,
    pub bounces: u64,
    pub bounce_rate: Option<f64>,
    pub share: Option<f64>,
    pub page_views: u64,
    pub avg_session_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExitRow {
    pub path: Text,
    pub sessions: u64,
    pub share: Option<f64>,
    pub page_views: u64,
    pub exit_rate: Option<f64>,
}

pub fn finish(
    pages: &Pages,
    lookups: &Lookups,
    sessions: u64,
) -> (Vec<PageRow>, Vec<EntryRow>, Vec<ExitRow>) {
    let counts = pages
        .by_path
        .iter()
        .map(|(&path, c)| (lookups.paths[path as usize].clone(), c));
    finish_rows(counts, sessions)
}

/// The rows of the pages' counts, by path text (from a run, or merged from state).
pub fn finish_rows<'a>(
    pages: impl Iterator<Item = (Text, &'a PageCounts)>,
    sessions: u64,
) -> (Vec<PageRow>, Vec<EntryRow>, Vec<ExitRow>) {
    let mut rows = Vec::with_capacity(pages.size_hint().0);
    let mut entries = Vec::new();
    let mut exits = Vec::new();
    for (path, c) in pages {
        if c.entries > 0 {
            entries.push(EntryRow {
                path: path.clone(),
                sessions: c.entries,
                bounces: c.bounces,
                bounce_rate: ratio(c.bounces, c.entries),
                share: ratio(c.entries, sessions),
                page_views: c.entry_page_views,
                avg_session_s: ratio(c.entry_duration_ms, c.entries).map(|ms| ms / 1000.0),
            });
        }
        if c.exits > 0 {
            exits.push(ExitRow {
                path: path.clone(),
                sessions: c.exits,
                share: ratio(c.exits, sessions),
                page_views: c.page_views,
                exit_rate: ratio(c.exits, c.page_views),
            });
        }
        rows.push(PageRow {
            path,
            hits: c.hits,
            page_views: c.page_views,
            visitors: c.visitors,
            entries: c.entries,
            exits: c.exits,
            exit_rate: ratio(c.exits, c.page_views),
            bounces: c.bounces,
            bounce_rate: ratio(c.bounces, c.entries),
            avg_time_on_page_s: ratio(c.time_on_page_ms, c.timed_views).map(|ms| ms / 1000.0),
            avg_response_ms: ratio(c.response_us, c.response_hits).map(|us| us / 1000.0),
            max_response_ms: (c.response_hits > 0).then(|| c.max_response_us as f64 / 1000.0),
        });
    }
    sort_rows(
        &mut rows,
        |r| r.page_views,
        |a, b| b.hits.cmp(&a.hits).then_with(|| a.path.cmp(&b.path)),
    );
    sort_rows(&mut entries, |r| r.sessions, |a, b| a.path.cmp(&b.path));
    sort_rows(&mut exits, |r| r.sessions, |a, b| a.path.cmp(&b.path));
    (rows, entries, exits)
}
