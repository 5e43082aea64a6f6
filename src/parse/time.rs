//! Timestamp parsing: the Common Log Format's `10/Oct/2026:13:55:36 +0900`, ISO 8601
//! (`2026-10-10T13:55:36.123456Z`, load balancers and Traefik), W3C's separate `date` and
//! `time` fields (always UTC), and seconds since the epoch as a decimal (Caddy's `ts`).
//!
//! Written by hand (about 17 ns a timestamp) because every line carries one: a general
//! `strptime` costs five to fifteen times as much. The result is milliseconds since the Unix
//! epoch in UTC, plus the offset the server logged, so later stages can report in the log's
//! own time zone. Calendar arithmetic is the days-from-civil algorithm, valid for any
//! proleptic Gregorian year this format can hold.

use std::cell::Cell;
use std::thread::LocalKey;

/// A point in time as logged: UTC milliseconds and the offset of the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogTime {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub utc_ms: i64,
    /// The logged offset from UTC, in minutes (`+0900` is 540).
    pub offset_min: i16,
}

/// Why a timestamp did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadTime;

/// Parses `dd/Mon/yyyy:HH:MM:SS[.fff] ±hhmm` (the text between `[` and `]`).
pub fn parse_clf_time(s: &[u8]) -> Result<LogTime, BadTime> {
    let (local_ms, rest) = clf_clock(s)?;
    let offset_min = match rest {
        [b' ', sign, h1, h2, m1, m2] => zone_offset(*sign, [*h1, *h2, *m1, *m2])?,
        _ => return Err(BadTime),
    };
    let utc_ms = local_ms - i64::from(offset_min) * 60_000;
    Ok(LogTime { utc_ms, offset_min })
}

/// `+hhmm` or `-hhmm` (the sign and four digits) → minutes east of UTC.
#[inline(always)]
fn zone_offset(sign: u8, [h1, h2, m1, m2]: [u8; 4]) -> Result<i16, BadTime> {
    let hours = two_digits(h1, h2)?;
    let minutes = two_digits(m1, m2)?;
    if hours > 23 || minutes > 59 {
        return Err(BadTime);
    }
    let magnitude = (hours * 60 + minutes) as i16;
    match sign {
        b'+' => Ok(magnitude),
        b'-' => Ok(-magnitude),
        _ => Err(BadTime),
    }
}

/// Parses `dd/Mon/yyyy:HH:MM:SS[.fff]` with no zone (HAProxy's accept date), as UTC.
pub(super) fn parse_clf_time_utc(s: &[u8]) -> Result<LogTime, BadTime> {
    match clf_clock(s)? {
        (utc_ms, []) => Ok(LogTime {
            utc_ms,
            offset_min: 0,
        }),
        _ => Err(BadTime),
    }
}

/// `dd/Mon/yyyy:HH:MM:SS[.fff]` as milliseconds since 1970 on the log's clock, and what
/// follows it.
#[inline(always)]
fn clf_clock(s: &[u8]) -> Result<(i64, &[u8]), BadTime> {
    // Fixed part: "10/Oct/2026:13:55:36" is 20 bytes.
    if s.len() < 20 || s[2] != b'/' || s[6] != b'/' || s[11] != b':' {
        return Err(BadTime);
    }
    let days = clf_days(&s[..11])?;
    let second_of_day = second_of_day(s[12..20].try_into().expect("eight bytes"))?;
    let mut rest = &s[20..];
    let mut millis = 0u32;
    if let [b'.', tail @ ..] = rest {
        // Fractional seconds (`%{msec_frac}t` and friends): keep milliseconds, skip the rest.
        let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(BadTime);
        }
        for (i, &b) in tail[..digits].iter().enumerate().take(3) {
            millis += u32::from(b - b'0') * [100, 10, 1][i];
        }
        rest = &tail[digits..];
    }
    let local_s = days * 86_400 + i64::from(second_of_day);
    Ok((local_s * 1000 + i64::from(millis), rest))
}

thread_local! {
    /// The last `dd/Mon/yyyy` a thread read and its day number.
    static LAST_DATE: Cell<([u8; 11], i64)> = const { Cell::new((*b"01/Jan/1970", 0)) };
    /// The last `yyyy-mm-dd` a thread read and its day number.
    static LAST_YMD: Cell<([u8; 10], i64)> = const { Cell::new((*b"1970-01-01", 0)) };
}

/// A date of `N` bytes → days since 1970-01-01 by `read` (which checks it), remembering the
/// last date this thread read in `cache`: a log's lines share their date for hours on end,
/// so most lines skip the checks and the calendar arithmetic. Each cache starts at a valid
/// date, so a look-up never answers for text `read` would refuse.
#[inline(always)]
fn remembered_days<const N: usize>(
    cache: &'static LocalKey<Cell<([u8; N], i64)>>,
    date: &[u8],
    read: impl FnOnce(&[u8; N]) -> Result<i64, BadTime>,
) -> Result<i64, BadTime> {
    let date: [u8; N] = date.try_into().map_err(|_| BadTime)?;
    let (last, days) = cache.with(Cell::get);
    if last == date {
        return Ok(days);
    }
    let days = read(&date)?;
    cache.with(|cell| cell.set((date, days)));
    Ok(days)
}

/// `dd/Mon/yyyy` → days since 1970-01-01.
#[inline]
fn clf_days(date: &[u8]) -> Result<i64, BadTime> {
    remembered_days(&LAST_DATE, date, |date| {
        let day = two_digits(date[0], date[1])?;
        let month = month_number(&date[3..6])?;
        let year = four_digits(&date[7..11])?;
        if day == 0 || day > days_in_month(year, month) {
            return Err(BadTime);
        }
        Ok(days_from_civil(i64::from(year), month, day))
    })
}

/// Parses ISO 8601 / RFC 3339 as logs write it: `yyyy-mm-ddTHH:MM:SS[.f…](Z|±hh:mm)`.
/// A space may stand for the `T`; without a zone the time is taken as UTC.
pub fn parse_iso8601(s: &[u8]) -> Result<LogTime, BadTime> {
    if s.len() < 19 || !matches!(s[10], b'T' | b't' | b' ') {
        return Err(BadTime);
    }
    let days = parse_ymd(&s[..10])?;
    let (second_of_day, millis, rest) = parse_hms(&s[11..])?;
    let offset_min = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign, h1, h2, b':', m1, m2] | [sign, h1, h2, m1, m2] => {
            zone_offset(*sign, [*h1, *h2, *m1, *m2])?
        }
        _ => return Err(BadTime),
    };
    let local_s = days * 86_400 + i64::from(second_of_day);
    let utc_ms = (local_s - i64::from(offset_min) * 60) * 1000 + i64::from(millis);
    Ok(LogTime { utc_ms, offset_min })
}

/// Parses W3C extended's `date` (`yyyy-mm-dd`) and `time` (`HH:MM:SS[.fff]`) fields, which
/// the W3C draft defines as UTC.
pub fn parse_w3c_date_time(date: &[u8], time: &[u8]) -> Result<LogTime, BadTime> {
    let days = parse_ymd(date)?;
    let (second_of_day, millis, rest) = parse_hms(time)?;
    if !rest.is_empty() {
        return Err(BadTime);
    }
    let utc_ms = (days * 86_400 + i64::from(second_of_day)) * 1000 + i64::from(millis);
    Ok(LogTime {
        utc_ms,
        offset_min: 0,
    })
}

/// When a W3C log says it was started, from its `#Date:` directive (`#Date: 2002-05-02
/// 17:42:15`, UTC as the W3C draft has it): milliseconds since the epoch. `None` when the
/// line is not one or its date does not read.
pub fn parse_w3c_started(line: &[u8]) -> Option<i64> {
    let value = line.strip_prefix(b"#Date:")?.trim_ascii();
    let (date, time) = (value.get(..10)?, value.get(10..)?.trim_ascii_start());
    parse_w3c_date_time(date, time).ok().map(|t| t.utc_ms)
}

/// How far a line's time may be before its `#Date:` directive's and still be taken as that
/// close to it (on the directive's day, or the day before when the directive was written
/// just after midnight): a server writes the directive when it opens the log, and the times
/// of requests it had buffered may be a little earlier (IIS flushes its buffer every
/// minute).
pub const W3C_STARTED_SLACK_MS: i64 = 10 * 60 * 1000;

/// A W3C time of day (`17:42:15`) of a layout with no `date` field, dated by the `#Date:`
/// directive before it (`started`, see [`parse_w3c_started`]): the one time of that time of
/// day in the day that starts [`W3C_STARTED_SLACK_MS`] before the directive. So it is on the
/// directive's day, or on the next one when it is earlier than the directive's time by more
/// than that (the log went past midnight since it was started), or on the day before for a
/// request buffered before a directive written just after midnight.
pub fn w3c_time_after(started: i64, time: &[u8]) -> Result<LogTime, BadTime> {
    const DAY_MS: i64 = 86_400_000;
    let (second_of_day, millis, rest) = parse_hms(time)?;
    if !rest.is_empty() {
        return Err(BadTime);
    }
    let from = started - W3C_STARTED_SLACK_MS;
    let mut utc_ms =
        from.div_euclid(DAY_MS) * DAY_MS + i64::from(second_of_day) * 1000 + i64::from(millis);
    if utc_ms < from {
        utc_ms += DAY_MS;
    }
    Ok(LogTime {
        utc_ms,
        offset_min: 0,
    })
}

/// Parses seconds since the epoch with an optional fraction (`1791640536.8155608`), UTC.
pub fn parse_epoch_seconds(s: &[u8]) -> Result<LogTime, BadTime> {
    let int_len = s.iter().take_while(|b| b.is_ascii_digit()).count();
    // 12 digits reach the year 33658: enough, and far from overflowing.
    if int_len == 0 || int_len > 12 {
        return Err(BadTime);
    }
    let mut seconds = 0i64;
    for &b in &s[..int_len] {
        seconds = seconds * 10 + i64::from(b - b'0');
    }
    let millis = match &s[int_len..] {
        [] => 0,
        [b'.', frac @ ..] => {
            fraction_millis(frac)
                .filter(|&(_, n)| n == frac.len())
                .ok_or(BadTime)?
                .0
        }
        _ => return Err(BadTime),
    };
    Ok(LogTime {
        utc_ms: seconds * 1000 + i64::from(millis),
        offset_min: 0,
    })
}

/// One end of `--since`/`--until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// An instant (the bound was given with `Z` or an offset): compared with UTC.
    Utc(i64),
    /// A wall-clock time (a date, or a time without a zone), in milliseconds as if the
    /// clock were UTC: compared with each line's time on the clock its server logged.
    Local(i64),
}

impl TimeBound {
    /// Parses `yyyy-mm-dd`, `yyyy-mm-ddTHH:MM[:SS]` or either with `Z`/`±hh:mm`. A bare date
    /// is midnight; `end_of_day` moves it to the next midnight, so that `--until` with a
    /// date includes that whole day.
    pub fn parse(text: &str, end_of_day: bool) -> Result<TimeBound, BadTime> {
        let s = text.trim().as_bytes();
        if s.len() == 10 {
            let days = parse_ymd(s)? + i64::from(end_of_day);
            return Ok(TimeBound::Local(days * 86_400_000));
        }
        // Seconds are optional here: fill them in and read it as ISO 8601.
        let mut full = s.to_vec();
        if s.len() >= 16 && s.get(16) != Some(&b':') {
            full.splice(16..16, *b":00");
        }
        let time = parse_iso8601(&full)?;
        // After the seconds come only a fraction's digits, then the zone if there is one.
        let zoned = full
            .get(19..)
            .is_some_and(|rest| rest.iter().any(|b| matches!(b, b'Z' | b'z' | b'+' | b'-')));
        Ok(if zoned {
            TimeBound::Utc(time.utc_ms)
        } else {
            TimeBound::Local(time.utc_ms)
        })
    }

    /// True when both bounds are on the same clock and `self` is not before `other` (so a
    /// range from `self` to `other` is empty). Bounds on different clocks cannot be compared
    /// without a line's offset.
    pub fn same_clock_at_or_after(self, other: TimeBound) -> bool {
        match (self, other) {
            (TimeBound::Utc(a), TimeBound::Utc(b)) | (TimeBound::Local(a), TimeBound::Local(b)) => {
                a >= b
            }
            _ => false,
        }
    }

    /// The bound as written in the run's definitions: an RFC 3339 instant, or a wall-clock
    /// time marked as such.
    pub fn describe(self) -> String {
        match self {
            TimeBound::Utc(ms) => format!("{}Z", format_utc(ms).replacen(' ', "T", 1)),
            TimeBound::Local(ms) => format!("{} on each line's own clock", format_utc(ms)),
        }
    }

    /// Milliseconds of `t` on this bound's scale.
    #[inline]
    fn scale(self, t: LogTime) -> (i64, i64) {
        match self {
            TimeBound::Utc(ms) => (ms, t.utc_ms),
            TimeBound::Local(ms) => (ms, t.utc_ms + i64::from(t.offset_min) * 60_000),
        }
    }
}

/// The lines to read: from `since` (included) to `until` (excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
}

impl TimeRange {
    pub fn is_all(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    #[inline]
    pub fn contains(&self, t: LogTime) -> bool {
        self.since.is_none_or(|b| {
            let (bound, at) = b.scale(t);
            at >= bound
        }) && self.until.is_none_or(|b| {
            let (bound, at) = b.scale(t);
            at < bound
        })
    }
}

/// `yyyy-mm-dd` → days since 1970-01-01.
#[inline]
fn parse_ymd(s: &[u8]) -> Result<i64, BadTime> {
    remembered_days(&LAST_YMD, s, |date| {
        if date[4] != b'-' || date[7] != b'-' {
            return Err(BadTime);
        }
        let year = four_digits(&date[..4])?;
        let month = two_digits(date[5], date[6])?;
        let day = two_digits(date[8], date[9])?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(BadTime);
        }
        Ok(days_from_civil(i64::from(year), month, day))
    })
}

/// `HH:MM:SS[.f…]` at the start of `s` → (second of day, milliseconds, the rest of `s`).
#[inline]
fn parse_hms(s: &[u8]) -> Result<(u32, u32, &[u8]), BadTime> {
    let Some(hms) = s.first_chunk::<8>() else {
        return Err(BadTime);
    };
    let second_of_day = second_of_day(*hms)?;
    let mut rest = &s[8..];
    let mut millis = 0;
    if let [b'.', frac @ ..] = rest {
        let (m, digits) = fraction_millis(frac).ok_or(BadTime)?;
        millis = m;
        rest = &frac[digits..];
    }
    Ok((second_of_day, millis, rest))
}

/// Eight bytes as one word of digit values, when each is a digit where `pattern` has a `0`
/// and the pattern's own byte elsewhere (`b"00:00:00"`, `b"0.000000"`); `None` otherwise.
/// Each byte XOR its pattern byte: a digit becomes its value, the fixed bytes 0, and any
/// other byte 10 or more (the XOR is a bijection that maps exactly '0'..='9' to 0..=9, and
/// only the fixed byte itself to 0). Checked a word at a time; inlined, the pattern's mask
/// folds to a constant.
#[inline(always)]
pub(super) fn digit_word(bytes: [u8; 8], pattern: &[u8; 8]) -> Option<u64> {
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let w = u64::from_le_bytes(bytes) ^ u64::from_le_bytes(*pattern);
    let fixed = u64::from_le_bytes(pattern.map(|b| if b == b'0' { 0 } else { 0xff }));
    // A byte of 10 to 127 gets its high bit from + 0x76; one of 128 or more has it already
    // (its carry into the next byte changes nothing: the word fails either way). The fixed
    // bytes must be 0.
    if ((w.wrapping_add(0x7676_7676_7676_7676) | w) & HIGHS) | (w & fixed) != 0 {
        return None;
    }
    Some(w)
}

/// `HH:MM:SS` → the second of the day (`:60`, a leap second, allowed). The eight bytes are
/// read as one word and checked and combined a word at a time ([`digit_word`]): every line
/// has a time, and three two-digit reads with their checks cost three times as many
/// instructions.
#[inline(always)]
fn second_of_day(hms: [u8; 8]) -> Result<u32, BadTime> {
    let w = digit_word(hms, b"00:00:00").ok_or(BadTime)?;
    // Each byte times ten plus the byte after it: the tens and units of each pair meet in
    // the pair's first byte (at most 99, so no byte carries into the next).
    let pairs = w * 10 + (w >> 8);
    let (hour, minute, second) = (pairs & 0xff, (pairs >> 24) & 0xff, (pairs >> 48) & 0xff);
    if hour > 23 || minute > 59 || second > 60 {
        return Err(BadTime);
    }
    Ok((hour * 3600 + minute * 60 + second) as u32)
}

/// The leading digits of a fraction of a second → (milliseconds, digits read); at least one
/// digit is needed. Digits past the third are read and dropped.
fn fraction_millis(frac: &[u8]) -> Option<(u32, usize)> {
    let digits = frac.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut millis = 0;
    for (i, &b) in frac[..digits].iter().enumerate().take(3) {
        millis += u32::from(b - b'0') * [100, 10, 1][i];
    }
    Some((millis, digits))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats UTC milliseconds as `2026-10-10 13:55:36` (for people, not for tables).
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[inline]
fn digit(b: u8) -> Result<u32, BadTime> {
    let d = b.wrapping_sub(b'0');
    if d < 10 {
        Ok(u32::from(d))
    } else {
        Err(BadTime)
    }
}

#[inline]
fn two_digits(a: u8, b: u8) -> Result<u32, BadTime> {
    Ok(digit(a)? * 10 + digit(b)?)
}

#[inline]
fn four_digits(s: &[u8]) -> Result<u32, BadTime> {
    Ok(two_digits(s[0], s[1])? * 100 + two_digits(s[2], s[3])?)
}

#[inline]
fn month_number(m: &[u8]) -> Result<u32, BadTime> {
    // Case-insensitive on the three letters: fold to lower case, then match.
    let key = [m[0] | 0x20, m[1] | 0x20, m[2] | 0x20];
    Ok(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return Err(BadTime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_dates_never_change_an_answer() {
        let ms = |s: &str| parse_clf_time(s.as_bytes()).map(|t| t.utc_ms);
        let day = |y, m, d| days_from_civil(y, m, d) * 86_400_000;
        for _ in 0..2 {
            assert_eq!(
                ms("10/Oct/2026:00:00:01 +0000"),
                Ok(day(2026, 10, 10) + 1000)
            );
            assert_eq!(
                ms("10/oct/2026:00:00:02 +0000"),
                Ok(day(2026, 10, 10) + 2000)
            );
            assert_eq!(ms("29/Feb/2023:00:00:00 +0000"), Err(BadTime));
            assert_eq!(ms("29/Feb/2024:00:00:00 +0000"), Ok(day(2024, 2, 29)));
            assert_eq!(
                ms("10/Oct/2026:00:00:03 +0100"),
                Ok(day(2026, 10, 10) + 3000 - 3_600_000)
            );
            assert_eq!(ms("01/Jan/1970:00:00:00 +0000"), Ok(0));
            assert_eq!(ms("10/Oct/2026:24:00:00 +0000"), Err(BadTime));
        }
        let iso = |s: &str| parse_iso8601(s.as_bytes()).map(|t| t.utc_ms);
        let w3c = |d: &str, t: &str| parse_w3c_date_time(d.as_bytes(), t.as_bytes());
        for _ in 0..2 {
            assert_eq!(iso("2026-10-10T00:00:01Z"), Ok(day(2026, 10, 10) + 1000));
            assert_eq!(iso("2026-10-10T00:00:02Z"), Ok(day(2026, 10, 10) + 2000));
            assert_eq!(iso("2023-02-29T00:00:00Z"), Err(BadTime));
            assert_eq!(iso("2024-02-29T00:00:00Z"), Ok(day(2024, 2, 29)));
            assert_eq!(iso("2026-13-01T00:00:00Z"), Err(BadTime));
            assert_eq!(iso("1970-01-01T00:00:00Z"), Ok(0));
            assert_eq!(w3c("1970-01-01", "00:00:03").map(|t| t.utc_ms), Ok(3000));
            assert_eq!(w3c("1970/01/01", "00:00:03"), Err(BadTime));
            assert_eq!(w3c("2026-10-1", "00:00:03"), Err(BadTime));
            assert_eq!(
                w3c("2026-10-10", "00:00:03").map(|t| t.utc_ms),
                Ok(day(2026, 10, 10) + 3000)
            );
        }
    }

    #[test]
    fn time_bounds() {
        let day = days_from_civil(2026, 10, 10) * 86_400_000;
        assert_eq!(
            TimeBound::parse("2026-10-10", false),
            Ok(TimeBound::Local(day))
        );
        assert_eq!(
            TimeBound::parse("2026-10-10", true),
            Ok(TimeBound::Local(day + 86_400_000))
        );
        assert_eq!(
            TimeBound::parse("2026-10-10T13:55", false),
            Ok(TimeBound::Local(day + 50_100_000))
        );
        assert_eq!(
            TimeBound::parse("2026-10-10 13:55:36", true),
            Ok(TimeBound::Local(day + 50_136_000))
        );
        assert_eq!(
            TimeBound::parse("2026-10-10T13:55:36Z", false),
            Ok(TimeBound::Utc(day + 50_136_000))
        );
        assert_eq!(
            TimeBound::parse("2026-10-10T13:55+02:00", false),
            Ok(TimeBound::Utc(day + 50_100_000 - 7_200_000))
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-10-10T25:00",
            "2026-10-10T13",
        ] {
            assert!(TimeBound::parse(bad, false).is_err(), "{bad}");
        }

        // A line at 23:30 +0900 on the 10th is 14:30 UTC: inside the 10th on its own clock.
        let line = LogTime {
            utc_ms: day + 52_200_000,
            offset_min: 540,
        };
        let local_day = TimeRange {
            since: Some(TimeBound::parse("2026-10-10", false).unwrap()),
            until: Some(TimeBound::parse("2026-10-10", true).unwrap()),
        };
        assert!(local_day.contains(line));
        let utc_evening = TimeRange {
            since: Some(TimeBound::parse("2026-10-10T15:00Z", false).unwrap()),
            until: None,
        };
        assert!(!utc_evening.contains(line));
        assert!(TimeRange::default().contains(line) && TimeRange::default().is_all());
        assert_eq!(
            TimeBound::parse("2026-10-10T13:55+02:00", false)
                .unwrap()
                .describe(),
            "2026-10-10T11:55:00Z"
        );
        assert_eq!(
            TimeBound::parse("2026-10-10", true).unwrap().describe(),
            "2026-10-11 00:00:00 on each line's own clock"
        );
        // `until` excludes its own instant.
        let until = TimeRange {
            since: None,
            until: Some(TimeBound::Utc(line.utc_ms)),
        };
        assert!(!until.contains(line));
    }

    fn utc(s: &str) -> i64 {
        parse_clf_time(s.as_bytes()).unwrap().utc_ms
    }

    #[test]
    fn the_time_of_day_reads_as_three_two_digit_fields() {
        // The byte-at-a-time reading it replaced.
        fn slow(t: [u8; 8]) -> Result<u32, BadTime> {
            if t[2] != b':' || t[5] != b':' {
                return Err(BadTime);
            }
            let (h, m, s) = (
                two_digits(t[0], t[1])?,
                two_digits(t[3], t[4])?,
                two_digits(t[6], t[7])?,
            );
            if h > 23 || m > 59 || s > 60 {
                return Err(BadTime);
            }
            Ok(h * 3600 + m * 60 + s)
        }
        let mut checked = 0;
        // Every time of day, and the pairs just past their ranges.
        for h in 0..=99 {
            for m in 0..=99 {
                for s in [0, 9, 10, 59, 60, 61, 99] {
                    let t = format!("{h:02}:{m:02}:{s:02}");
                    let t: [u8; 8] = t.as_bytes().try_into().unwrap();
                    assert_eq!(second_of_day(t), slow(t), "{t:?}");
                    checked += 1;
                }
            }
        }
        // Each byte of a few times replaced by every byte value.
        for base in [*b"00:00:00", *b"23:59:60", *b"13:55:36", *b"09:09:09"] {
            for at in 0..8 {
                for b in 0..=255 {
                    let mut t = base;
                    t[at] = b;
                    assert_eq!(second_of_day(t), slow(t), "{t:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(second_of_day(*b"23:59:60"), Ok(86_400));
        assert!(checked > 70_000, "{checked}");
    }

    #[test]
    fn utc_offset_zero() {
        // 2026-10-10T13:55:36Z = 20736 days after the epoch (checked with `date -d`).
        assert_eq!(utc("10/Oct/2026:13:55:36 +0000"), 1_791_640_536_000);
    }

    #[test]
    fn offsets_convert_to_utc() {
        let base = utc("10/Oct/2026:13:55:36 +0000");
        assert_eq!(utc("10/Oct/2026:22:55:36 +0900"), base);
        assert_eq!(utc("10/Oct/2026:08:55:36 -0500"), base);
        assert_eq!(utc("10/Oct/2026:19:25:36 +0530"), base);
        let t = parse_clf_time(b"10/Oct/2026:08:55:36 -0500").unwrap();
        assert_eq!(t.offset_min, -300);
    }

    #[test]
    fn crosses_day_month_and_year_boundaries() {
        assert_eq!(
            utc("01/Jan/2027:08:59:59 +0900"),
            utc("31/Dec/2026:23:59:59 +0000")
        );
        assert_eq!(
            utc("01/Mar/2024:00:00:00 +0000") - utc("28/Feb/2024:00:00:00 +0000"),
            2 * 86_400_000
        );
        assert_eq!(utc("01/Jan/1970:00:00:00 +0000"), 0);
    }

    #[test]
    fn fractional_seconds_keep_milliseconds() {
        assert_eq!(
            utc("10/Oct/2026:13:55:36.1234 +0000") - utc("10/Oct/2026:13:55:36 +0000"),
            123
        );
        assert_eq!(
            utc("10/Oct/2026:13:55:36.5 +0000") - utc("10/Oct/2026:13:55:36 +0000"),
            500
        );
    }

    #[test]
    fn a_clf_time_without_zone_is_utc() {
        let zoneless = |s: &str| parse_clf_time_utc(s.as_bytes());
        for (with_zone, without) in [
            ("10/Oct/2026:13:55:36.120 +0000", "10/Oct/2026:13:55:36.120"),
            ("29/Feb/2028:23:59:60 +0000", "29/Feb/2028:23:59:60"),
            ("01/Jan/1970:00:00:00.5 +0000", "01/Jan/1970:00:00:00.5"),
        ] {
            let want = parse_clf_time(with_zone.as_bytes()).unwrap();
            assert_eq!(zoneless(without), Ok(want), "{without}");
        }
        assert_eq!(zoneless("10/Oct/2026:13:55:36.120").unwrap().offset_min, 0);
        for bad in [
            "10/Oct/2026:13:55:36 +0100",
            "10/Oct/2026:13:55:36.",
            "10/Oct/2026:13:55:3",
            "10/Oct/2026:24:55:36",
            "10/Oct/2026:13:55:36x",
        ] {
            assert_eq!(zoneless(bad), Err(BadTime), "{bad}");
        }
    }

    #[test]
    fn month_names_any_case() {
        assert_eq!(
            utc("10/OCT/2026:13:55:36 +0000"),
            utc("10/oct/2026:13:55:36 +0000")
        );
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "",
            "10/Oct/2026:13:55:36",
            "10/Oct/2026:13:55:36 0000",
            "32/Oct/2026:13:55:36 +0000",
            "29/Feb/2026:13:55:36 +0000",
            "10/Foo/2026:13:55:36 +0000",
            "10/Oct/2026:24:00:00 +0000",
            "10/Oct/2026:13:60:00 +0000",
            "1O/Oct/2026:13:55:36 +0000",
            "10/Oct/2026 13:55:36 +0000",
            "10/Oct/2026:13:55:36 +0000 ",
            "10/Oct/2026:13:55:36. +0000",
            "10/Oct/2026:13:55:36 +2400",
        ] {
            assert_eq!(parse_clf_time(bad.as_bytes()), Err(BadTime), "{bad:?}");
        }
        assert!(parse_clf_time(b"29/Feb/2024:13:55:36 +0000").is_ok());
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 60, 10_957, 20_736, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_utc(1_791_640_536_000), "2026-10-10 13:55:36");
    }

    #[test]
    fn iso8601_forms() {
        let base = utc("13/May/2015:23:39:43 +0000");
        let iso = |t: &str| parse_iso8601(t.as_bytes()).map(|t| t.utc_ms);
        assert_eq!(iso("2015-05-13T23:39:43Z"), Ok(base));
        assert_eq!(iso("2015-05-13T23:39:43.945958Z"), Ok(base + 945));
        assert_eq!(iso("2015-05-13T23:39:43.773360139Z"), Ok(base + 773));
        assert_eq!(iso("2015-05-13 23:39:43"), Ok(base));
        assert_eq!(iso("2015-05-14T08:39:43+09:00"), Ok(base));
        assert_eq!(iso("2015-05-13T18:39:43-0500"), Ok(base));
        let t = parse_iso8601(b"2015-05-14T08:39:43+09:00").unwrap();
        assert_eq!(t.offset_min, 540);
        for bad in [
            "",
            "2015-05-13",
            "2015-05-13T23:39",
            "2015-13-13T23:39:43Z",
            "2015-02-29T23:39:43Z",
            "2015-05-13T24:00:00Z",
            "2015-05-13T23:39:43.Z",
            "2015-05-13T23:39:43Q",
            "2015-05-13T23:39:43+25:00",
            "2015/05/13T23:39:43Z",
        ] {
            assert_eq!(parse_iso8601(bad.as_bytes()), Err(BadTime), "{bad:?}");
        }
    }

    #[test]
    fn w3c_date_and_time_are_utc() {
        let t = parse_w3c_date_time(b"2026-10-10", b"13:55:36").unwrap();
        assert_eq!(
            t,
            LogTime {
                utc_ms: 1_791_640_536_000,
                offset_min: 0
            }
        );
        let t = parse_w3c_date_time(b"2026-10-10", b"13:55:36.363").unwrap();
        assert_eq!(t.utc_ms, 1_791_640_536_363);
        assert!(parse_w3c_date_time(b"2026-10-10", b"13:55").is_err());
        assert!(parse_w3c_date_time(b"10/10/2026", b"13:55:36").is_err());
        assert!(parse_w3c_date_time(b"2026-10-10", b"13:55:36Z").is_err());
    }

    #[test]
    fn epoch_seconds_with_fraction() {
        let e = |t: &str| parse_epoch_seconds(t.as_bytes()).map(|t| t.utc_ms);
        assert_eq!(e("1791640536"), Ok(1_791_640_536_000));
        assert_eq!(e("1791640536.8155608"), Ok(1_791_640_536_815));
        assert_eq!(e("0.5"), Ok(500));
        for bad in [
            "",
            ".5",
            "1791640536.",
            "-1",
            "1e9",
            "1791640536.5x",
            "9999999999999",
        ] {
            assert_eq!(parse_epoch_seconds(bad.as_bytes()), Err(BadTime), "{bad:?}");
        }
    }
}
