//! Run-wide totals: the `summary` table.

use hdrhistogram::Histogram;

use super::{Merge, Session, bytes_of, ratio};
use crate::enrich::Hit;

/// Totals over all traffic, and over humans.
pub struct Traffic {
    pub hits: u64,
    pub bytes: u64,
    pub bot_hits: u64,
    pub bot_bytes: u64,
    pub human_hits: u64,
    pub page_views: u64,
    pub visitors: u64,
    pub sessions: u64,
    pub bounces: u64,
    pub engaged: u64,
    pub duration_ms: u64,
    pub conversions: u64,
    pub value_micro: i64,
    pub returning_visitors: u64,
    /// Human hits on beacon paths, and those with an unusable screen parameter.
    pub beacon_hits: u64,
    pub beacon_invalid: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Session durations in milliseconds (3 significant digits).
    pub durations: Histogram<u64>,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            hits: 0,
            bytes: 0,
            bot_hits: 0,
            bot_bytes: 0,
            human_hits: 0,
            page_views: 0,
            visitors: 0,
            sessions: 0,
            bounces: 0,
            engaged: 0,
            duration_ms: 0,
            conversions: 0,
            value_micro: 0,
            returning_visitors: 0,
            beacon_hits: 0,
            beacon_invalid: 0,
            first_ms: None,
            last_ms: None,
            durations: Histogram::new(3).expect("3 significant digits is valid"),
        }
    }
}

impl Merge for Traffic {
    fn merge(&mut self, other: Self) {
        self.hits += other.hits;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.bot_hits += other.bot_hits;
        self.bot_bytes = self.bot_bytes.saturating_add(other.bot_bytes);
        self.human_hits += other.human_hits;
        self.page_views += other.page_views;
        self.visitors += other.visitors;
        self.sessions += other.sessions;
        self.bounces += other.bounces;
        self.engaged += other.engaged;
        self.duration_ms += other.duration_ms;
        self.conversions += other.conversions;
        self.value_micro = self.value_micro.saturating_add(other.value_micro);
        self.returning_visitors += other.returning_visitors;
        self.beacon_hits += other.beacon_hits;
        self.beacon_invalid += other.beacon_invalid;
        self.first_ms = min_opt(self.first_ms, other.first_ms);
        self.last_ms = max_opt(self.last_ms, other.last_ms);
        self.durations
            .add(&other.durations)
            .expect("auto-resizing histograms always merge");
    }
}

impl Traffic {
    /// Any visitor's hits, sorted by time.
    pub fn add_hits(&mut self, hits: &[Hit]) {
        self.hits += hits.len() as u64;
        self.bytes = self.bytes.saturating_add(bytes_of(hits));
        if let (Some(first), Some(last)) = (hits.first(), hits.last()) {
            self.first_ms = min_opt(self.first_ms, Some(first.ts_ms));
            self.last_ms = max_opt(self.last_ms, Some(last.ts_ms));
        }
    }

    pub fn add_bot_hits(&mut self, hits: &[Hit]) {
        self.bot_hits += hits.len() as u64;
        self.bot_bytes = self.bot_bytes.saturating_add(bytes_of(hits));
    }

    pub fn add_human_hits(&mut self, hits: &[Hit]) {
        self.human_hits += hits.len() as u64;
    }

    /// A human visitor's page views and sessions.
    pub fn add_human(&mut self, page_views: usize, sessions: usize) {
        self.page_views += page_views as u64;
        self.visitors += u64::from(sessions > 0);
        self.returning_visitors += u64::from(sessions > 1);
    }

    /// Adds `other`'s counts of hits (not of sessions or visitors) and zeroes them there.
    pub fn take_hit_counts(&mut self, other: &mut Traffic) {
        self.hits += std::mem::take(&mut other.hits);
        self.bytes = self.bytes.saturating_add(std::mem::take(&mut other.bytes));
        self.bot_hits += std::mem::take(&mut other.bot_hits);
        self.bot_bytes = self
            .bot_bytes
            .saturating_add(std::mem::take(&mut other.bot_bytes));
        self.human_hits += std::mem::take(&mut other.human_hits);
        self.beacon_hits += std::mem::take(&mut other.beacon_hits);
        self.beacon_invalid += std::mem::take(&mut other.beacon_invalid);
        self.first_ms = min_opt(self.first_ms, other.first_ms.take());
        self.last_ms = max_opt(self.last_ms, other.last_ms.take());
    }

    /// A human hit on a beacon path.
    pub fn add_beacon(&mut self, invalid: bool) {
        self.beacon_hits += 1;
        self.beacon_invalid += u64::from(invalid);
    }

    pub fn add_session(&mut self, s: &Session) {
        self.sessions += 1;
        self.bounces += u64::from(s.bounce());
        self.engaged += u64::from(s.engaged());
        self.conversions += u64::from(s.goal.is_some());
        self.value_micro = self.value_micro.saturating_add(s.value_micro);
        let ms = s.duration_ms().max(0) as u64;
        self.duration_ms += ms;
        if self.durations.record(ms).is_err() {
            self.durations.saturating_record(ms);
        }
    }
}

/// What was read, before any classification (from the ingest stage).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadTotals {
    pub inputs: u64,
    pub input_bytes: u64,
    pub lines: u64,
    pub blank_lines: u64,
    pub malformed: u64,
    pub out_of_range: u64,
}

/// The `summary` table's one row.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub lines: u64,
    pub blank_lines: u64,
    pub malformed: u64,
    /// Lines outside `--since`/`--until`.
    pub out_of_range: u64,
    pub hits: u64,
    pub bytes: u64,
    pub human_hits: u64,
    pub bot_hits: u64,
    pub bot_bytes: u64,
    pub page_views: u64,
    pub visitors: u64,
    /// Unknown (`None`) in a merged summary: it needs each visitor's whole period.
    pub returning_visitors: Option<u64>,
    pub sessions: u64,
    pub bounces: u64,
    pub bounce_rate: Option<f64>,
    pub engaged_sessions: u64,
    pub engagement_rate: Option<f64>,
    pub avg_session_s: Option<f64>,
    pub median_session_s: Option<f64>,
    pub pages_per_session: Option<f64>,
    pub conversions: u64,
    pub conversion_rate: Option<f64>,
    pub value: f64,
    pub internal_searches: u64,
    pub search_sessions: u64,
    pub beacon_hits: u64,
    pub beacon_invalid: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub inputs: u64,
    pub input_bytes: u64,
}

pub fn finish(t: &Traffic, read: &ReadTotals) -> SummaryRow {
    SummaryRow {
        lines: read.lines,
        blank_lines: read.blank_lines,
        malformed: read.malformed,
        out_of_range: read.out_of_range,
        hits: t.hits,
        bytes: t.bytes,
        human_hits: t.human_hits,
        bot_hits: t.bot_hits,
        bot_bytes: t.bot_bytes,
        page_views: t.page_views,
        visitors: t.visitors,
        returning_visitors: Some(t.returning_visitors),
        sessions: t.sessions,
        bounces: t.bounces,
        bounce_rate: ratio(t.bounces, t.sessions),
        engaged_sessions: t.engaged,
        engagement_rate: ratio(t.engaged, t.sessions),
        avg_session_s: ratio(t.duration_ms, t.sessions).map(|ms| ms / 1000.0),
        median_session_s: (t.sessions > 0)
            .then(|| t.durations.value_at_quantile(0.5) as f64 / 1000.0),
        pages_per_session: ratio(t.page_views, t.sessions),
        conversions: t.conversions,
        conversion_rate: ratio(t.conversions, t.sessions),
        value: t.value_micro as f64 / 1e6,
        internal_searches: 0,
        search_sessions: 0,
        beacon_hits: t.beacon_hits,
        beacon_invalid: t.beacon_invalid,
        first_ms: t.first_ms,
        last_ms: t.last_ms,
        inputs: read.inputs,
        input_bytes: read.input_bytes,
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
