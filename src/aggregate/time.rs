//! Traffic over time: the `traffic_by_hour` and `traffic_by_day` tables.
//!
//! Buckets are hours and days of the log's own clock: each hit falls in the hour (day) of its
//! logged time and UTC offset, so a server in UTC+05:30 gets buckets starting at :00 local
//! time (:30 UTC). A bucket is keyed by its local start and its offset, so the hour a
//! daylight-saving change repeats stays two rows. Hits are sorted by time within a visitor,
//! so runs of hits in one bucket are added at once.

use super::{IdMap, Merge, Session, View, count_distinct};
use crate::enrich::Hit;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// What happened in one hour or day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    pub hits: u64,
    pub bot_hits: u64,
    pub bytes: u64,
    pub page_views: u64,
    /// Sessions that started in the bucket.
    pub sessions: u64,
    /// Human visitors with a page view in the bucket.
    pub visitors: u64,
}

impl Merge for Bucket {
    fn merge(&mut self, o: Self) {
        self.hits += o.hits;
        self.bot_hits += o.bot_hits;
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.page_views += o.page_views;
        self.sessions += o.sessions;
        self.visitors += o.visitors;
    }
}

/// A bucket's key: its index (local hours or days since 1970-01-01 00:00 local time) and
/// the UTC offset in minutes.
pub type BucketKey = (i64, i16);

/// The local hour (or day, with `unit_ms` a day) of a UTC time logged with an offset.
#[inline]
pub fn local_index(ts_ms: i64, offset_min: i16, unit_ms: i64) -> i64 {
    local_ms(ts_ms, offset_min).div_euclid(unit_ms)
}

/// Hourly buckets; days are sums of their hours, but for distinct visitors, counted apart.
#[derive(Default)]
pub struct Time {
    pub hours: IdMap<BucketKey, Bucket>,
    /// Human visitors with a page view, per local day.
    pub day_visitors: IdMap<BucketKey, u64>,
}

impl Merge for Time {
    fn merge(&mut self, o: Self) {
        self.hours.merge(o.hours);
        self.day_visitors.merge(o.day_visitors);
    }
}

#[derive(Default)]
pub struct TimeScratch {
    hours: Vec<BucketKey>,
    days: Vec<BucketKey>,
}

/// The counts of the current run of time-ordered items that fall in one bucket: a run is
/// added to the map once, and an item in the same bucket as the previous one costs two
/// comparisons instead of a division.
struct Run {
    unit_ms: i64,
    key: Option<BucketKey>,
    start_ms: i64,
    counts: Bucket,
}

impl Run {
    fn new(unit_ms: i64) -> Run {
        Run {
            unit_ms,
            key: None,
            start_ms: 0,
            counts: Bucket::default(),
        }
    }

    /// The counts of the bucket of `local_ms` (milliseconds on the log's clock) at `offset_min`;
    /// a new bucket first adds the previous run to `map`. Returns whether the bucket is new.
    #[inline]
    fn at(&mut self, map: &mut IdMap<BucketKey, Bucket>, local_ms: i64, offset_min: i16) -> bool {
        let same = self.key.is_some_and(|(_, offset)| offset == offset_min)
            && (self.start_ms..self.start_ms + self.unit_ms).contains(&local_ms);
        if !same {
            self.flush(map);
            let index = local_ms.div_euclid(self.unit_ms);
            self.key = Some((index, offset_min));
            self.start_ms = index * self.unit_ms;
        }
        !same
    }

    fn flush(&mut self, map: &mut IdMap<BucketKey, Bucket>) {
        if let Some(key) = self.key.take() {
            map.entry(key)
                .or_default()
                .merge(std::mem::take(&mut self.counts));
        }
    }
}

/// Milliseconds on the log's clock.
#[inline]
fn local_ms(ts_ms: i64, offset_min: i16) -> i64 {
    ts_ms + i64::from(offset_min) * 60_000
}

impl Time {
    /// A visitor's hits (sorted by time): hits and bytes, and bot hits for a bot.
    pub fn add_hits(&mut self, hits: &[Hit], bot: bool) {
        // Most visitors come and go within one hour: one map entry for all their hits.
        if let (Some(first), Some(last)) = (hits.first(), hits.last()) {
            let hour = local_index(first.ts_ms, first.offset_min, HOUR_MS);
            if local_index(last.ts_ms, first.offset_min, HOUR_MS) == hour
                && hits.iter().all(|h| h.offset_min == first.offset_min)
            {
                let n = hits.len() as u64;
                let b = self.hours.entry((hour, first.offset_min)).or_default();
                b.hits += n;
                b.bot_hits += if bot { n } else { 0 };
                b.bytes = b.bytes.saturating_add(super::bytes_of(hits));
                return;
            }
        }
        let mut hour = Run::new(HOUR_MS);
        for h in hits {
            hour.at(
                &mut self.hours,
                local_ms(h.ts_ms, h.offset_min),
                h.offset_min,
            );
            hour.counts.hits += 1;
            hour.counts.bot_hits += u64::from(bot);
            hour.counts.bytes = hour.counts.bytes.saturating_add(h.bytes);
        }
        hour.flush(&mut self.hours);
    }

    /// A human visitor's page views (sorted by time) and sessions.
    pub fn add_human(&mut self, views: &[View], sessions: &[Session], scratch: &mut TimeScratch) {
        let mut hour = Run::new(HOUR_MS);
        scratch.hours.clear();
        scratch.days.clear();
        for v in views {
            if hour.at(
                &mut self.hours,
                local_ms(v.ts_ms, v.offset_min),
                v.offset_min,
            ) && let Some((index, offset)) = hour.key
            {
                scratch.hours.push((index, offset));
                let day = (index.div_euclid(24), offset);
                if scratch.days.last() != Some(&day) {
                    scratch.days.push(day);
                }
            }
            hour.counts.page_views += 1;
        }
        hour.flush(&mut self.hours);
        for s in sessions {
            let index = local_index(s.start_ms, s.offset_min, HOUR_MS);
            self.hours
                .entry((index, s.offset_min))
                .or_default()
                .sessions += 1;
        }
        count_distinct(&mut scratch.hours, |k| {
            self.hours.entry(k).or_default().visitors += 1
        });
        count_distinct(&mut scratch.days, |k| {
            *self.day_visitors.entry(k).or_default() += 1
        });
    }
}

/// One row of `traffic_by_hour` or `traffic_by_day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRow {
    /// The bucket's start as UTC milliseconds.
    pub start_utc_ms: i64,
    /// The bucket's start on the log's clock, as milliseconds since 1970-01-01 00:00 local.
    pub start_local_ms: i64,
    pub offset_min: i16,
    pub counts: Bucket,
}

impl TimeRow {
    /// Local hour of the day, 0–23.
    pub fn hour_of_day(&self) -> i64 {
        self.start_local_ms.div_euclid(HOUR_MS).rem_euclid(24)
    }
    /// Local days since 1970-01-01.
    pub fn day(&self) -> i32 {
        self.start_local_ms.div_euclid(DAY_MS) as i32
    }
    /// ISO weekday of the local day: 1 is Monday, 7 is Sunday (1970-01-01 was a Thursday).
    pub fn weekday(&self) -> i64 {
        (i64::from(self.day()) + 3).rem_euclid(7) + 1
    }
}

fn rows(map: &IdMap<BucketKey, Bucket>, unit_ms: i64) -> Vec<TimeRow> {
    let mut rows: Vec<TimeRow> = map
        .iter()
        .map(|(&(index, offset_min), &counts)| {
            let start_local_ms = index * unit_ms;
            TimeRow {
                start_utc_ms: start_local_ms - i64::from(offset_min) * 60_000,
                start_local_ms,
                offset_min,
                counts,
            }
        })
        .collect();
    rows.sort_unstable_by_key(|r| (r.start_utc_ms, r.offset_min));
    rows
}

/// Hour rows and day rows, in time order.
pub fn finish(t: &Time) -> (Vec<TimeRow>, Vec<TimeRow>) {
    let mut days: IdMap<BucketKey, Bucket> = IdMap::default();
    for (&(hour, offset), counts) in &t.hours {
        let day = days.entry((hour.div_euclid(24), offset)).or_default();
        // Visitors are distinct per day, not a sum of hours: set below.
        day.merge(Bucket {
            visitors: 0,
            ..*counts
        });
    }
    for (key, &visitors) in &t.day_visitors {
        days.entry(*key).or_default().visitors = visitors;
    }
    (rows(&t.hours, HOUR_MS), rows(&days, DAY_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_buckets() {
        // 2024-03-10 23:30 at -05:00 is 2024-03-11 04:30 UTC: local hour 23 of the 10th.
        let utc = 1_710_131_400_000;
        let hour = local_index(utc, -300, HOUR_MS);
        let row = TimeRow {
            start_utc_ms: hour * HOUR_MS + 300 * 60_000,
            start_local_ms: hour * HOUR_MS,
            offset_min: -300,
            counts: Bucket::default(),
        };
        assert_eq!(row.hour_of_day(), 23);
        assert_eq!(row.start_utc_ms, 1_710_129_600_000);
        // 2024-03-10 was a Sunday.
        assert_eq!(row.weekday(), 7);
        // Before 1970 too.
        assert_eq!(local_index(-1, 0, DAY_MS), -1);
    }
}
