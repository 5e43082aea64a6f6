//! Loyalty: new and returning visitors, how often they come and how long they stay away. The
//! `visitor_types`, `visit_frequency`, `visit_recency` and `retention` tables.
//!
//! All of it is within the analysed period: a visitor's first session in the logs read is
//! "new", later ones are "returning" (a log cannot know visits before its first line).

use super::acquisition::{Keyed, Rates, SessionMetrics};
use super::time::DAY_MS;
use super::{IdMap, Merge, Session, ratio};

/// Sessions per visitor, bucketed: the lower bound and label of each bucket.
pub const FREQUENCY_BUCKETS: [(u64, &str); 5] =
    [(1, "1"), (2, "2"), (3, "3-5"), (6, "6-10"), (11, "11+")];

fn frequency_bucket(sessions: usize) -> u8 {
    FREQUENCY_BUCKETS
        .iter()
        .rposition(|&(min, _)| sessions as u64 >= min)
        .unwrap_or(0) as u8
}

/// Whole days from the end of a visitor's previous session to the start of the next.
pub fn days_between(previous_end_ms: i64, next_start_ms: i64) -> u32 {
    ((next_start_ms - previous_end_ms).max(0) / DAY_MS) as u32
}

/// The local day (days since 1970-01-01 on the log's clock) a session started.
pub fn start_day(s: &Session) -> i32 {
    super::time::local_index(s.start_ms, s.offset_min, DAY_MS) as i32
}

#[derive(Default)]
pub struct Loyalty {
    /// Keyed by "returning" (the visitor's second session or later).
    pub types: Keyed<bool>,
    /// Keyed by the visitor's frequency bucket (index into [`FREQUENCY_BUCKETS`]).
    pub frequency: Keyed<u8>,
    /// Returning sessions keyed by days since the visitor's previous session.
    pub recency: Keyed<u32>,
    /// (cohort day, days after it) → visitors of the cohort with a session that day.
    pub retention: IdMap<(i32, u32), u64>,
    /// The last local day with a session start.
    pub last_day: Option<i32>,
}

impl Merge for Loyalty {
    fn merge(&mut self, o: Self) {
        self.types.merge(o.types);
        self.frequency.merge(o.frequency);
        self.recency.merge(o.recency);
        self.retention.merge(o.retention);
        self.last_day = self.last_day.max(o.last_day);
    }
}

#[derive(Default)]
pub struct LoyaltyScratch {
    types: Vec<bool>,
    days: Vec<u32>,
}

impl Loyalty {
    /// One visitor's sessions, in time order, numbered.
    pub fn add_visitor(&mut self, sessions: &[Session], scratch: &mut LoyaltyScratch) {
        let Some(first) = sessions.first() else {
            return;
        };
        self.types
            .add_visitor(sessions, |s| Some(s.number > 1), &mut scratch.types);
        let bucket = frequency_bucket(sessions.len());
        self.frequency.add_all(sessions, bucket);
        self.recency
            .add_visitor(sessions, |s| s.days_since_last, &mut scratch.days);

        let cohort = start_day(first);
        scratch.days.clear();
        scratch.days.extend(
            sessions
                .iter()
                .map(|s| (start_day(s) - cohort).max(0) as u32),
        );
        super::count_distinct(&mut scratch.days, |d| {
            *self.retention.entry((cohort, d)).or_default() += 1
        });
        let last = sessions.iter().map(start_day).max();
        self.last_day = self.last_day.max(last);
    }
}

/// A row of `visitor_types`, `visit_frequency` or `visit_recency`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoyaltyRow<K> {
    pub key: K,
    /// Of visitors (`visit_frequency`) or of sessions (the others).
    pub share: Option<f64>,
    pub metrics: SessionMetrics,
    pub rates: Rates,
}

/// One row of `retention`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetentionRow {
    /// Local days since 1970-01-01.
    pub cohort: i32,
    pub day: u32,
    pub cohort_visitors: u64,
    pub visitors: u64,
    pub return_rate: Option<f64>,
}

pub struct LoyaltyReports {
    pub visitor_types: Vec<LoyaltyRow<&'static str>>,
    /// Keyed by (label, lower bound).
    pub frequency: Vec<LoyaltyRow<(&'static str, u64)>>,
    pub recency: Vec<LoyaltyRow<u32>>,
    pub retention: Vec<RetentionRow>,
}

fn row<K>(key: K, m: SessionMetrics, share: Option<f64>) -> LoyaltyRow<K> {
    LoyaltyRow {
        key,
        share,
        rates: m.rates(),
        metrics: m,
    }
}

/// The loyalty tables. `visitor_types` and `visit_frequency` have all their rows, zeros
/// included, whenever there is a session (charts want every bucket), and none otherwise.
pub fn finish(l: &Loyalty, sessions: u64, visitors: u64) -> LoyaltyReports {
    if sessions == 0 {
        return LoyaltyReports {
            visitor_types: Vec::new(),
            frequency: Vec::new(),
            recency: Vec::new(),
            retention: Vec::new(),
        };
    }
    let get = |k: &Keyed<bool>, key: bool| k.by.get(&key).copied().unwrap_or_default();
    let visitor_types = [("new", false), ("returning", true)]
        .into_iter()
        .map(|(name, key)| {
            let m = get(&l.types, key);
            row(name, m, ratio(m.sessions, sessions))
        })
        .collect();
    let frequency = FREQUENCY_BUCKETS
        .iter()
        .enumerate()
        .map(|(i, &(min, label))| {
            let m = l.frequency.by.get(&(i as u8)).copied().unwrap_or_default();
            row((label, min), m, ratio(m.visitors, visitors))
        })
        .collect();
    let returning = get(&l.types, true).sessions;
    let mut recency: Vec<LoyaltyRow<u32>> = l
        .recency
        .by
        .iter()
        .map(|(&days, &m)| row(days, m, ratio(m.sessions, returning)))
        .collect();
    recency.sort_unstable_by_key(|r| r.key);

    let mut retention = Vec::new();
    let mut cohorts: Vec<i32> = l
        .retention
        .keys()
        .filter(|(_, d)| *d == 0)
        .map(|&(c, _)| c)
        .collect();
    cohorts.sort_unstable();
    for cohort in cohorts {
        let size = l.retention.get(&(cohort, 0)).copied().unwrap_or(0);
        let last = l.last_day.unwrap_or(cohort).max(cohort);
        for day in 0..=(last - cohort) as u32 {
            let n = l.retention.get(&(cohort, day)).copied().unwrap_or(0);
            retention.push(RetentionRow {
                cohort,
                day,
                cohort_visitors: size,
                visitors: n,
                return_rate: ratio(n, size),
            });
        }
    }
    LoyaltyReports {
        visitor_types,
        frequency,
        recency,
        retention,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_buckets() {
        let label = |n| FREQUENCY_BUCKETS[frequency_bucket(n) as usize].1;
        assert_eq!(
            [1, 2, 3, 5, 6, 10, 11, 500].map(label),
            ["1", "2", "3-5", "3-5", "6-10", "6-10", "11+", "11+"]
        );
    }
}
