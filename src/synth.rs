//! Synthetic access logs: a seeded, reproducible simulator of a shop's web traffic.
//!
//! This module owns the sample logs used by tests, benchmarks and the bundled fixture. It
//! writes Apache/Nginx "combined" lines for a fictional shop at `https://www.example.com`:
//! a site of about 300 pages with a popularity skew, human visitors who come back over hours
//! and days from search engines, social networks, AI assistants, e-mail, paid campaigns and
//! referring sites, the assets and tracking beacons their browsers fetch, crawlers and scripts,
//! errors, redirects, and a small share of malformed lines. Visits are simulated with an event
//! queue, so memory follows the number of concurrent visits, not the size of the log, and the
//! same options always give the same bytes.
//!
//! It does not parse, classify or analyse anything. The analyzer must never depend on it: its
//! output is just another log, and what it "knows" (which hits are bots, assets or beacons) is
//! only a convention of the traffic it makes:
//!
//! - The site is `www.example.com`; referrers on `example.com` or a subdomain (`blog.`,
//!   `help.`, bare `http://example.com/`) are internal. Assets and beacons carry the page's
//!   URL as referrer, internal navigation the previous page's.
//! - Assets live under `/css/`, `/js/`, `/fonts/`, `/img/`, plus `/favicon.ico` and missing
//!   `/apple-touch-icon*.png` (404). Beacons are `/collect?...`, `/matomo.php?...` and
//!   `/js/awstats_misc_tracker.js?...` (a `.js` path that is a beacon).
//! - A visit's page requests are at most 29 min 50 s apart, so its page views usually make one
//!   session (a 404 or a 5xx between two of them can stretch the gap); a visitor's visits are
//!   more than 30 minutes apart (one in eight 31 to 59 minutes, the rest hours to days).
//! - Bots never fetch assets; their user agents are those of `BOTS`, `-` included.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};

use crate::parse::Format;

mod layout;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Number of lines to write in total (malformed lines included).
    pub lines: u64,
    /// Seed of every random choice: the same options always give the same bytes.
    pub seed: u64,
    /// UTC milliseconds of the first request; default 2026-10-10T00:00:00Z.
    pub start_ms: i64,
    /// The UTC offset written in timestamps, in minutes; default +0900 (540).
    pub tz_offset_min: i16,
    /// Malformed lines per thousand; default 1 (0.1%).
    pub malformed_per_mille: u32,
    /// Largest delay, in milliseconds, between a request's timestamp and the moment its line
    /// is written (servers log at response completion); default 0, strict time order.
    pub disorder_ms: i64,
    /// The layout the lines are written in; default combined. Any preset writes the same
    /// requests, in what that server logs of them; `Format::Custom` writes combined.
    pub format: Format,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            lines: 2_000,
            seed: 7,
            start_ms: days_from_civil(2026, 10, 10) * DAY_MS,
            tz_offset_min: 540,
            malformed_per_mille: 1,
            disorder_ms: 0,
            format: Format::Combined,
        }
    }
}

/// Counts of what was written, useful for tests and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthStats {
    pub lines: u64,
    pub bytes: u64,
    pub malformed: u64,
}

/// Writes the log to one writer, lines in non-decreasing time order (when disorder_ms = 0).
///
/// With `disorder_ms > 0` a line may come up to that long after lines with later timestamps,
/// as in [`generate_split`]. Output is buffered here; the writer is flushed at the end.
pub fn generate<W: Write>(opts: &SynthOptions, out: W) -> io::Result<SynthStats> {
    let mut sinks = [Sink::new(out)];
    sinks[0].header(opts.format)?;
    run(opts, &mut sinks)?;
    let [sink] = sinks;
    sink.finish()
}

/// The same traffic (identical multiset of lines as `generate` with the same options) spread
/// over several writers as a load balancer would (each request to a pseudo-random server),
/// each writer's lines in time order except for `disorder_ms` jitter: within a server, a line
/// may be written up to disorder_ms after lines with later timestamps (as servers log at
/// response completion). Returns stats per writer.
pub fn generate_split<W: Write>(
    opts: &SynthOptions,
    outs: &mut [W],
) -> io::Result<Vec<SynthStats>> {
    if outs.is_empty() {
        if opts.lines == 0 {
            return Ok(Vec::new());
        }
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "generate_split needs at least one writer",
        ));
    }
    let mut sinks: Vec<Sink<&mut W>> = outs.iter_mut().map(Sink::new).collect();
    for sink in &mut sinks {
        sink.header(opts.format)?;
    }
    run(opts, &mut sinks)?;
    sinks.into_iter().map(Sink::finish).collect()
}

// ---------------------------------------------------------------------------------------------
// Constants of the simulated world.

/// The shop's own origin: internal referrers start with it.
const SITE: &str = "https://www.example.com";

/// The `analyze` settings of the generated shop: its own domain, and the purchase goal whose
/// value is the thank-you page's `value` parameter.
pub const SITE_ARGS: [&str; 6] = [
    "--site-domain",
    "example.com",
    "--goal",
    "purchase=/checkout/thank-you",
    "--goal-value-param",
    "value",
];
const SECOND_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Share of lines written by bots.
const BOT_SHARE: f64 = 0.15;
/// Human lines a visitor writes over all of their visits, on average (measured); sets the
/// arrival rate of new visitors so that there is about one visitor per 40 lines.
const HUMAN_LINES_PER_VISITOR: f64 = 28.0;
/// Log time per line, bounded below by a day and above by a month.
const MS_PER_LINE: i64 = 600;

/// Salts separating the random streams.
const VISITOR_SALT: u64 = 0x5EED_0F71_5170_4A11;
const ROUTE_SALT: u64 = 0x0B1A_CE5E_7E45_10AD;
const SITE_SEED: u64 = 0x00E7_A3B1_E5C0_0001;

/// The most requests after a page view: assets plus one beacon.
const MAX_ASSETS: usize = 6;
const MAX_SUBS: usize = MAX_ASSETS + 1;
const NO_PAGE: u16 = u16::MAX;

/// Relative traffic by local hour of day (mean about 1).
const DIURNAL: [f64; 24] = [
    0.45, 0.32, 0.24, 0.2, 0.2, 0.28, 0.45, 0.75, 1.05, 1.25, 1.35, 1.4, //
    1.38, 1.4, 1.45, 1.45, 1.4, 1.35, 1.35, 1.4, 1.38, 1.2, 0.95, 0.68,
];

// ---------------------------------------------------------------------------------------------
// Random numbers: xoshiro256** seeded through splitmix64.

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A well-mixed 64-bit hash of one number.
fn mix(x: u64) -> u64 {
    let mut s = x;
    splitmix64(&mut s)
}

/// FNV-1a, mixed: a stable hash of a string.
fn hash_str(s: &str) -> u64 {
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    mix(h)
}

#[derive(Clone)]
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut sm = seed;
        Self {
            s: std::array::from_fn(|_| splitmix64(&mut sm)),
        }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    fn text<'a, S: AsRef<str>>(&mut self, items: &'a [S]) -> &'a str {
        items[self.index(items.len())].as_ref()
    }

    /// Standard normal (Marsaglia's polar method).
    fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }

    /// Exponential with mean 1.
    fn exponential(&mut self) -> f64 {
        -ln(1.0 - self.unit())
    }

    /// Log-uniform in `[lo, hi]`.
    fn log_uniform(&mut self, lo: i64, hi: i64) -> i64 {
        let (a, b) = (ln(lo as f64), ln(hi as f64));
        (exp(a + (b - a) * self.unit()) as i64).clamp(lo, hi)
    }

    /// An index drawn with the given weights.
    fn weighted<T>(&mut self, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
        let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
        let mut x = self.below(total);
        for (i, item) in items.iter().enumerate() {
            let w = u64::from(weight(item));
            if x < w {
                return i;
            }
            x -= w;
        }
        items.len() - 1
    }

    fn alnum(&mut self, n: usize, out: &mut String) {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for _ in 0..n {
            out.push(char::from(*self.pick(CHARS)));
        }
    }

    fn hex(&mut self, n: usize, out: &mut String) {
        for _ in 0..n {
            out.push(char::from(HEX[self.index(16)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

// The logarithm and exponential are computed here from IEEE arithmetic alone (which is exact
// to the bit on every platform) rather than by the platform's math library, so that a seed
// gives the same bytes everywhere.

/// Natural logarithm of a positive, normal `x`.
fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2 atanh(t) with |t| < 0.172: the series converges fast.
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let (mut sum, mut power) = (0.0, t);
    for k in 0..12 {
        sum += power / f64::from(2 * k + 1);
        power *= t2;
    }
    2.0 * sum + e as f64 * std::f64::consts::LN_2
}

/// `e` to the power `x`, for `x` within ±700.
fn exp(x: f64) -> f64 {
    // ln 2 in two parts, the first short enough that `k * LN2_HI` is exact.
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let k = (x / std::f64::consts::LN_2)
        .round()
        .clamp(-1_000.0, 1_000.0);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let (mut sum, mut term) = (1.0, 1.0);
    for n in 1..18 {
        term *= r / f64::from(n);
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

// ---------------------------------------------------------------------------------------------
// Browsers, screens and languages of human visitors.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Device {
    Windows,
    Mac,
    Linux,
    Android,
    IPhone,
    IPad,
    Tablet,
    Tv,
}

struct Browser {
    ua: &'static str,
    weight: u32,
    device: Device,
    /// Speaks HTTP/2 (old browsers do not).
    h2: bool,
}

const fn b(weight: u32, device: Device, h2: bool, ua: &'static str) -> Browser {
    Browser {
        ua,
        weight,
        device,
        h2,
    }
}

/// Human user agents, as written in the log (so a quote inside is already escaped as `\"`).
/// Weights are in tenths of a percent, roughly.
#[rustfmt::skip]
const BROWSERS: &[Browser] = &[
    b(170, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36"),
    b( 60, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36"),
    b( 20, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36"),
    b( 40, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36 Edg/149.0.0.0"),
    b( 40, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:156.0) Gecko/20100101 Firefox/156.0"),
    b( 15, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:155.0) Gecko/20100101 Firefox/155.0"),
    b(  8, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36 OPR/133.0.0.0"),
    b(  4, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/146.0.0.0 YaBrowser/26.8.0.0 Safari/537.36"),
    b(  4, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/146.0.0.0 Whale/4.34.340.19 Safari/537.36"),
    b( 60, Device::Mac, true, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36"),
    b( 40, Device::Mac, true, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15"),
    b( 15, Device::Mac, true, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15"),
    b( 12, Device::Mac, true, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:156.0) Gecko/20100101 Firefox/156.0"),
    b(  6, Device::Mac, true, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36 Edg/149.0.0.0"),
    b( 15, Device::Linux, true, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36"),
    b( 10, Device::Linux, true, "Mozilla/5.0 (X11; Linux x86_64; rv:156.0) Gecko/20100101 Firefox/156.0"),
    b(  5, Device::Linux, true, "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:155.0) Gecko/20100101 Firefox/155.0"),
    b(  6, Device::Linux, true, "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36"),
    b( 55, Device::IPhone, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1"),
    b( 20, Device::IPhone, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1"),
    b( 25, Device::IPhone, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"),
    b( 20, Device::IPhone, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/149.0.7827.49 Mobile/15E148 Safari/604.1"),
    b(  5, Device::IPhone, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/146.0 Mobile/15E148 Safari/605.1.15"),
    b(  5, Device::IPhone, true, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 402.0.0.30.71 (iPhone15,2; iOS 18_6; en_US; en; scale=3.00; 1179x2556; 812345678)"),
    b( 15, Device::IPad, true, "Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1"),
    b(190, Device::Android, true, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Mobile Safari/537.36"),
    b( 40, Device::Android, true, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Mobile Safari/537.36"),
    b( 25, Device::Android, true, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36"),
    b( 10, Device::Android, true, "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36"),
    b(  8, Device::Android, true, "Mozilla/5.0 (Android 15; Mobile; rv:156.0) Gecko/156.0 Firefox/156.0"),
    b(  3, Device::Android, true, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Mobile Safari/537.36 EdgA/149.0.0.0"),
    b(  5, Device::Android, true, "Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/148.0.7778.96 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/521.0.0.47.73;]"),
    b(  7, Device::Tablet, true, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/149.0.0.0 Safari/537.36"),
    b(  2, Device::Tv, false, "Mozilla/5.0 (SMART-TV; LINUX; Tizen 8.0) AppleWebKit/537.36 (KHTML, like Gecko) 120.0.6099.5/8.0 TV Safari/537.36"),
    b(  3, Device::Windows, false, "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36"),
    b(  3, Device::Windows, false, "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0"),
    b(  2, Device::Windows, false, "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"),
    b(  2, Device::IPhone, false, "Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1"),
    b(  1, Device::Tablet, false, "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-T530 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30"),
    b(  3, Device::Windows, true, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36 \\\"Kiosk/3.2\\\""),
];

fn resolutions(device: Device) -> &'static [&'static str] {
    match device {
        Device::Windows | Device::Linux => &[
            "1920x1080",
            "1920x1080",
            "1366x768",
            "1536x864",
            "2560x1440",
            "1440x900",
            "1280x720",
            "1600x900",
            "3840x2160",
        ],
        Device::Mac => &[
            "1440x900",
            "1512x982",
            "1728x1117",
            "2560x1440",
            "1680x1050",
        ],
        Device::Android => &["412x915", "360x800", "384x854", "412x892", "393x873"],
        Device::IPhone => &[
            "390x844", "393x852", "430x932", "375x667", "414x896", "402x874",
        ],
        Device::IPad => &["820x1180", "810x1080", "1024x1366"],
        Device::Tablet => &["800x1280", "1280x800"],
        Device::Tv => &["1920x1080"],
    }
}

const LANGUAGES: &[&str] = &[
    "en-us", "en-us", "en-us", "en-us", "ja-jp", "ja-jp", "ko-kr", "de-de", "fr-fr", "en-gb",
    "es-es", "pt-br", "zh-cn",
];

/// First octets of public IPv4 space handed to the visitors.
const V4_FIRST: &[u8] = &[
    1, 5, 24, 27, 31, 36, 37, 42, 46, 49, 58, 59, 60, 61, 62, 67, 68, 70, 71, 72, 73, 74, 75, 76,
    77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 98, 99, 101, 103,
    106, 108, 109, 110, 111, 112, 113, 114, 115, 116, 118, 119, 121, 122, 123, 124, 125, 126, 133,
    151, 175, 176, 178, 180, 183, 188, 193, 194, 195, 203, 210, 211, 212, 213, 217, 218, 219, 220,
    221, 222,
];

/// Routing prefixes of consumer IPv6 networks.
const V6_PREFIXES: &[[u16; 2]] = &[
    [0x2a02, 0x8108],
    [0x2a01, 0xcb00],
    [0x2600, 0x1700],
    [0x2601, 0x646],
    [0x240d, 0x1a],
    [0x2409, 0x10],
    [0x2a00, 0x23c5],
    [0x2003, 0xe2],
    [0x2405, 0x6580],
    [0x2804, 0x14c],
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ip {
    V4([u8; 4]),
    V6([u16; 8]),
}

/// A human visitor: everything is derived from the seed and the visitor's number, so nothing
/// about a visitor has to be remembered between visits.
#[derive(Clone, Copy)]
struct Visitor {
    id: u64,
    ip: Ip,
    browser: u8,
    h2: bool,
    resolution: &'static str,
    language: &'static str,
    /// Blocks tracking beacons.
    blocks_trackers: bool,
    /// Visits over the visitor's lifetime.
    visits: u32,
}

impl Visitor {
    fn derive(seed: u64, id: u64) -> Self {
        let (mut me, behind_nat, host) = Self::own(seed, id);
        if behind_nat {
            // Shares a public address with a visitor who arrived shortly before.
            let (other, other_behind_nat, _) = Self::own(seed, host);
            if !other_behind_nat {
                me.ip = other.ip;
                if me.browser == other.browser {
                    me.browser = ((usize::from(me.browser) + 1) % BROWSERS.len()) as u8;
                    me.resolution = resolutions(me.browser().device)[0];
                }
            }
        }
        me
    }

    fn own(seed: u64, id: u64) -> (Self, bool, u64) {
        let mut r = Rng::new(mix(seed ^ VISITOR_SALT).wrapping_add(id));
        let behind_nat = id >= 8 && r.chance(0.04);
        let host = id.saturating_sub(1 + r.below(6));
        let ip = if r.chance(0.09) {
            let [a, b] = *r.pick(V6_PREFIXES);
            let mut g = [0u16; 8];
            g[0] = a;
            g[1] = b;
            for x in &mut g[2..] {
                *x = r.below(0x1_0000) as u16;
            }
            Ip::V6(g)
        } else {
            Ip::V4([
                *r.pick(V4_FIRST),
                r.below(256) as u8,
                r.below(256) as u8,
                1 + r.below(254) as u8,
            ])
        };
        let browser = r.weighted(BROWSERS, |b| b.weight);
        let info = &BROWSERS[browser];
        let visits = if r.chance(0.4) {
            1
        } else {
            2 + ((r.exponential() * 3.0) as u32).min(10)
        };
        let me = Self {
            id,
            ip,
            browser: browser as u8,
            h2: info.h2 && r.chance(0.6),
            resolution: *r.pick(resolutions(info.device)),
            language: *r.pick(LANGUAGES),
            blocks_trackers: r.chance(0.25),
            visits,
        };
        (me, behind_nat, host)
    }

    fn browser(&self) -> &'static Browser {
        &BROWSERS[usize::from(self.browser)]
    }

    fn proto(&self) -> &'static str {
        if self.h2 { "HTTP/2.0" } else { "HTTP/1.1" }
    }
}

// ---------------------------------------------------------------------------------------------
// Bots.

#[derive(Clone, Copy, PartialEq, Eq)]
enum BotKind {
    /// Search, AI and SEO crawlers: robots.txt, then pages.
    Crawler,
    /// Link previews: one or two pages.
    Preview,
    /// Uptime checks: `HEAD /` and a health endpoint.
    Monitor,
    /// Scripts scraping products.
    Scraper,
    /// Vulnerability scanners probing for well-known files.
    Prober,
}

struct Bot {
    ua: &'static str,
    /// Share of bot lines, in percent.
    share: u32,
    kind: BotKind,
    /// Requests per visit, inclusive range.
    requests: (i64, i64),
    /// Pause between requests, inclusive range in milliseconds.
    pause_ms: (i64, i64),
    /// Chance of starting with `/robots.txt`.
    robots: f64,
    /// Chance that a conditional request finds the page unchanged (304).
    not_modified: f64,
    /// First two octets of the networks it crawls from.
    nets: &'static [[u8; 2]],
}

#[rustfmt::skip]
const BOTS: &[Bot] = &[
    Bot { share: 15, kind: BotKind::Crawler, requests: (5, 60), pause_ms: (2_000, 40_000), robots: 0.3, not_modified: 0.12, nets: &[[66, 249]],
          ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" },
    Bot { share: 9, kind: BotKind::Crawler, requests: (5, 60), pause_ms: (2_000, 40_000), robots: 0.2, not_modified: 0.12, nets: &[[66, 249]],
          ua: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.7390.122 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" },
    Bot { share: 10, kind: BotKind::Crawler, requests: (5, 50), pause_ms: (3_000, 60_000), robots: 0.4, not_modified: 0.12, nets: &[[40, 77], [157, 55], [207, 46]],
          ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)" },
    Bot { share: 8, kind: BotKind::Crawler, requests: (10, 80), pause_ms: (500, 8_000), robots: 0.5, not_modified: 0.0, nets: &[[20, 171], [52, 230]],
          ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)" },
    Bot { share: 6, kind: BotKind::Crawler, requests: (10, 60), pause_ms: (1_000, 10_000), robots: 0.6, not_modified: 0.0, nets: &[[216, 73], [160, 79]],
          ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)" },
    Bot { share: 3, kind: BotKind::Crawler, requests: (2, 20), pause_ms: (1_000, 15_000), robots: 0.5, not_modified: 0.0, nets: &[[54, 90], [18, 97]],
          ua: "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)" },
    Bot { share: 9, kind: BotKind::Crawler, requests: (10, 80), pause_ms: (2_000, 20_000), robots: 0.5, not_modified: 0.0, nets: &[[54, 36], [5, 39], [51, 222]],
          ua: "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)" },
    Bot { share: 7, kind: BotKind::Crawler, requests: (10, 60), pause_ms: (2_000, 20_000), robots: 0.5, not_modified: 0.0, nets: &[[85, 208], [185, 191]],
          ua: "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)" },
    Bot { share: 5, kind: BotKind::Crawler, requests: (5, 40), pause_ms: (3_000, 30_000), robots: 0.5, not_modified: 0.05, nets: &[[5, 255], [213, 180], [87, 250]],
          ua: "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)" },
    Bot { share: 6, kind: BotKind::Crawler, requests: (10, 80), pause_ms: (300, 5_000), robots: 0.2, not_modified: 0.0, nets: &[[110, 249], [220, 243], [47, 128]],
          ua: "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)" },
    Bot { share: 3, kind: BotKind::Preview, requests: (1, 2), pause_ms: (200, 2_000), robots: 0.0, not_modified: 0.0, nets: &[[69, 171], [173, 252], [31, 13]],
          ua: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)" },
    Bot { share: 4, kind: BotKind::Monitor, requests: (1, 4), pause_ms: (200, 2_000), robots: 0.0, not_modified: 0.0, nets: &[[45, 79], [159, 89], [139, 162]],
          ua: "curl/8.12.1" },
    Bot { share: 2, kind: BotKind::Prober, requests: (2, 8), pause_ms: (100, 1_500), robots: 0.0, not_modified: 0.0, nets: &[[45, 79], [193, 41], [104, 248]],
          ua: "curl/8.5.0" },
    Bot { share: 4, kind: BotKind::Scraper, requests: (5, 40), pause_ms: (300, 4_000), robots: 0.1, not_modified: 0.0, nets: &[[34, 91], [3, 238], [35, 180]],
          ua: "python-requests/2.32.3" },
    Bot { share: 1, kind: BotKind::Prober, requests: (2, 10), pause_ms: (100, 2_000), robots: 0.0, not_modified: 0.0, nets: &[[167, 94], [64, 227]],
          ua: "python-requests/2.31.0" },
    Bot { share: 4, kind: BotKind::Prober, requests: (3, 15), pause_ms: (100, 1_500), robots: 0.0, not_modified: 0.0, nets: &[[185, 242], [194, 165], [45, 148]],
          ua: "Go-http-client/1.1" },
    Bot { share: 4, kind: BotKind::Prober, requests: (1, 8), pause_ms: (100, 3_000), robots: 0.0, not_modified: 0.0, nets: &[[185, 224], [179, 43], [80, 94]],
          ua: "-" },
];

/// Well-known paths scanners probe for; all are missing here.
const PROBES: &[&str] = &[
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/xmlrpc.php",
    "/.env",
    "/.git/config",
    "/phpmyadmin/",
    "/admin/config.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/.aws/credentials",
    "/config.json",
    "/server-status",
    "/cgi-bin/luci/;stok=/locale",
];

// ---------------------------------------------------------------------------------------------
// The site.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Home,
    Products,
    Category,
    Product,
    Blog,
    Post,
    Docs,
    Search,
    Cart,
    Checkout,
    ThankYou,
    Account,
    Info,
}

struct Page {
    path: String,
    kind: Kind,
    /// Category of a product or category page.
    group: u8,
    /// Typical response size (compressed HTML).
    size: u32,
}

impl Page {
    fn slug(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }

    /// Pages that search engines, links and crawlers lead to.
    fn is_landing(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Cart | Kind::Checkout | Kind::ThankYou | Kind::Account
        )
    }
}

const CATEGORIES: &[(&str, &str)] = &[
    ("widgets", "widget"),
    ("gadgets", "gadget"),
    ("lamps", "lamp"),
    ("chairs", "chair"),
    ("desks", "desk"),
    ("bags", "bag"),
    ("bottles", "bottle"),
    ("cables", "cable"),
];

const ADJECTIVES: &[&str] = &[
    "aurora", "basalt", "cobalt", "delta", "ember", "fjord", "granite", "harbor", "iris",
    "juniper", "kestrel", "lumen", "meridian", "nimbus", "onyx", "prism", "quartz", "ridge",
];

const TOPICS: &[&str] = &[
    "standing-desk",
    "desk-lamp",
    "cable-management",
    "travel-backpack",
    "water-bottle",
    "ergonomic-chair",
    "home-office",
    "usb-c-hub",
    "smart-widget",
    "pocket-gadget",
    "reading-light",
    "office-chair",
    "laptop-bag",
    "insulated-bottle",
    "charging-cable",
    "small-desk",
    "gift-box",
    "repair-kit",
    "desk-setup",
    "commuter-bag",
    "led-strip",
    "monitor-arm",
    "hydration-pack",
    "focus-timer",
    "recycled-bottle",
];

const POST_TEMPLATES: &[&str] = &["{}-guide", "{}-tips", "best-{}", "{}-review"];

const DOC_SECTIONS: &[&str] = &[
    "getting-started",
    "guides",
    "api",
    "integrations",
    "troubleshooting",
];
const DOC_ITEMS: &[&str] = &[
    "overview",
    "setup",
    "configuration",
    "examples",
    "limits",
    "changelog",
];

const INFO_PAGES: &[&str] = &[
    "/about",
    "/contact",
    "/pricing",
    "/faq",
    "/shipping",
    "/returns",
    "/privacy",
    "/terms",
    "/careers",
    "/press",
    "/stores",
    "/gift-cards",
    "/sale",
    "/new-arrivals",
    "/login",
    "/wishlist",
];

/// Inbound links to pages that do not exist (broken links on other sites).
const BROKEN_INBOUND: &[&str] = &[
    "/products/aurora-widget-2024",
    "/blog/2024/black-friday-deals",
    "/promo/summer-2025",
    "/products/halo-lamp",
    "/docs/v1/quickstart",
    "/store-locator",
    "/blog/2025/standing-desk-guide/amp",
];

/// Links on the site itself to pages that do not exist.
const BROKEN_INTERNAL: &[&str] = &[
    "/docs/api/webhooks-legacy",
    "/blog/2026/widget-pro-launch-video",
    "/products/oak-desk-classic",
    "/about/team",
    "/gift-cards/balance",
];

/// What people type wrong.
const TYPOS: &[&str] = &[
    "/prodcuts",
    "/checkuot",
    "/blgo",
    "/cart/",
    "/Sale",
    "/contact-us",
];

const SITE_SEARCHES: &[&str] = &[
    "blue widget",
    "standing desk",
    "usb c cable",
    "gift card",
    "return policy",
    "oak desk lamp",
    "waterproof backpack",
    "chair",
    "sale",
    "shipping",
    "ergonomic chair",
    "widget pro",
    "cable organizer",
    "위젯",
    "デスクライト",
];

struct Site {
    /// Pages in order of popularity.
    pages: Vec<Page>,
    /// Cumulative Zipf weights over `pages`.
    zipf: Vec<f64>,
    home: u16,
    products: u16,
    blog: u16,
    search: u16,
    cart: u16,
    checkout: u16,
    thank_you: u16,
    sale: u16,
    new_arrivals: u16,
    /// Category pages, by category number.
    categories: Vec<u16>,
    /// Product pages by category number, the more popular first.
    by_category: Vec<Vec<u16>>,
    posts: Vec<u16>,
    docs: Vec<u16>,
    /// Pages that outsiders link to.
    landings: Vec<u16>,
}

impl Site {
    fn build() -> Self {
        let mut core = Vec::new();
        let mut rest = Vec::new();
        let page = |path: String, kind, group, size| Page {
            size: size + (hash_str(&path) % 4_000) as u32,
            path,
            kind,
            group,
        };
        for (path, kind, size) in [
            ("/", Kind::Home, 24_000),
            ("/products", Kind::Products, 21_000),
            ("/search", Kind::Search, 17_500),
            ("/blog", Kind::Blog, 16_000),
        ] {
            core.push(page(path.to_owned(), kind, 0, size));
        }
        for (c, (category, noun)) in CATEGORIES.iter().enumerate() {
            core.push(page(
                format!("/products/{category}"),
                Kind::Category,
                c as u8,
                26_000,
            ));
            for a in 0..ADJECTIVES.len() {
                let adjective = ADJECTIVES[(a + 7 * c) % ADJECTIVES.len()];
                rest.push(page(
                    format!("/products/{adjective}-{noun}"),
                    Kind::Product,
                    c as u8,
                    18_000,
                ));
            }
        }
        for (i, path) in INFO_PAGES.iter().enumerate() {
            let kind = if *path == "/login" || *path == "/wishlist" {
                Kind::Account
            } else {
                Kind::Info
            };
            let p = page((*path).to_owned(), kind, 0, 9_000);
            if i < 4 { core.push(p) } else { rest.push(p) }
        }
        core.push(page("/cart".to_owned(), Kind::Cart, 0, 9_800));
        core.push(page("/checkout".to_owned(), Kind::Checkout, 0, 12_400));
        rest.push(page("/account".to_owned(), Kind::Account, 0, 8_000));
        rest.push(page("/account/orders".to_owned(), Kind::Account, 0, 11_000));
        rest.push(page(
            "/checkout/thank-you".to_owned(),
            Kind::ThankYou,
            0,
            8_500,
        ));
        for (t, template) in POST_TEMPLATES.iter().enumerate() {
            for (i, topic) in TOPICS.iter().enumerate() {
                let year = if (t * TOPICS.len() + i) % 5 < 3 {
                    2026
                } else {
                    2025
                };
                let slug = template.replace("{}", topic);
                rest.push(page(format!("/blog/{year}/{slug}"), Kind::Post, 0, 15_000));
            }
        }
        for section in DOC_SECTIONS {
            for item in DOC_ITEMS {
                rest.push(page(
                    format!("/docs/{section}/{item}"),
                    Kind::Docs,
                    0,
                    11_000,
                ));
            }
        }

        // The core pages keep their order at the top; the rest get a fixed, seed-independent
        // popularity order.
        let mut r = Rng::new(SITE_SEED);
        for i in (1..rest.len()).rev() {
            let j = r.index(i + 1);
            rest.swap(i, j);
        }
        let pages: Vec<Page> = core.into_iter().chain(rest).collect();

        let mut zipf = Vec::with_capacity(pages.len());
        let mut total = 0.0;
        for rank in 0..pages.len() {
            total += 1.0 / exp(1.05 * ln(rank as f64 + 1.5));
            zipf.push(total);
        }

        let find = |kind: Kind, path: &str| {
            pages
                .iter()
                .position(|p| p.kind == kind && p.path == path)
                .expect("the site map has this page") as u16
        };
        let indices = |pred: &dyn Fn(&Page) -> bool| -> Vec<u16> {
            (0..pages.len() as u16)
                .filter(|&i| pred(&pages[usize::from(i)]))
                .collect()
        };
        let groups = 0..CATEGORIES.len() as u8;
        let categories = groups
            .clone()
            .map(|c| indices(&|p| p.kind == Kind::Category && p.group == c)[0])
            .collect();
        let by_category = groups
            .map(|c| indices(&|p| p.kind == Kind::Product && p.group == c))
            .collect();
        Self {
            home: find(Kind::Home, "/"),
            products: find(Kind::Products, "/products"),
            blog: find(Kind::Blog, "/blog"),
            search: find(Kind::Search, "/search"),
            cart: find(Kind::Cart, "/cart"),
            checkout: find(Kind::Checkout, "/checkout"),
            thank_you: find(Kind::ThankYou, "/checkout/thank-you"),
            sale: find(Kind::Info, "/sale"),
            new_arrivals: find(Kind::Info, "/new-arrivals"),
            posts: indices(&|p| p.kind == Kind::Post),
            docs: indices(&|p| p.kind == Kind::Docs),
            landings: indices(&|p| p.is_landing()),
            categories,
            by_category,
            zipf,
            pages,
        }
    }

    fn page(&self, idx: u16) -> &Page {
        &self.pages[usize::from(idx)]
    }

    /// A page by popularity.
    fn popular(&self, r: &mut Rng) -> u16 {
        let total = self.zipf[self.zipf.len() - 1];
        let x = r.unit() * total;
        self.zipf
            .partition_point(|&c| c <= x)
            .min(self.pages.len() - 1) as u16
    }

    /// A popular page that outsiders link to.
    fn popular_landing(&self, r: &mut Rng) -> u16 {
        for _ in 0..8 {
            let idx = self.popular(r);
            if self.page(idx).is_landing() {
                return idx;
            }
        }
        self.home
    }

    /// One of `items`, skewed towards the first ones (which are the more popular).
    fn skewed(items: &[u16], r: &mut Rng) -> u16 {
        let u = r.unit();
        items[((u * u) * items.len() as f64) as usize % items.len()]
    }

    fn product(&self, r: &mut Rng) -> u16 {
        let c = r.index(self.by_category.len());
        Self::skewed(&self.by_category[c], r)
    }

    /// Where a visitor goes from page `from` (`None`: an error page).
    fn next_page(&self, from: Option<u16>, r: &mut Rng) -> Next {
        let Some(from) = from else {
            return Next::Page(if r.chance(0.5) {
                self.home
            } else {
                self.popular_inside(r)
            });
        };
        let page = self.page(from);
        let group = usize::from(page.group);
        let roll = r.unit();
        let next = match page.kind {
            Kind::Home => match roll {
                x if x < 0.35 => *r.pick(&self.categories),
                x if x < 0.5 => self.product(r),
                x if x < 0.58 => self.blog,
                x if x < 0.66 => self.search,
                x if x < 0.69 => self.sale,
                x if x < 0.72 => self.new_arrivals,
                x if x < 0.78 => self.products,
                _ => self.popular_inside(r),
            },
            Kind::Products => match roll {
                x if x < 0.6 => *r.pick(&self.categories),
                x if x < 0.8 => self.product(r),
                _ => self.popular_inside(r),
            },
            Kind::Category => match roll {
                x if x < 0.55 => Self::skewed(&self.by_category[group], r),
                x if x < 0.67 => *r.pick(&self.categories),
                x if x < 0.75 => self.search,
                _ => self.popular_inside(r),
            },
            Kind::Product => match roll {
                x if x < 0.12 => return Next::AddToCart,
                x if x < 0.42 => Self::skewed(&self.by_category[group], r),
                x if x < 0.57 => self.categories[group],
                x if x < 0.62 => self.search,
                _ => self.popular_inside(r),
            },
            Kind::Cart => match roll {
                x if x < 0.5 => self.checkout,
                x if x < 0.75 => self.product(r),
                _ => self.popular_inside(r),
            },
            Kind::Checkout => match roll {
                x if x < 0.55 => return Next::PlaceOrder,
                x if x < 0.75 => self.cart,
                _ => self.popular_inside(r),
            },
            Kind::ThankYou if roll < 0.4 => self.home,
            Kind::Blog if roll < 0.7 => Self::skewed(&self.posts, r),
            Kind::Post => match roll {
                x if x < 0.35 => Self::skewed(&self.posts, r),
                x if x < 0.55 => self.product(r),
                x if x < 0.65 => self.blog,
                _ => self.popular_inside(r),
            },
            Kind::Docs if roll < 0.55 => Self::skewed(&self.docs, r),
            Kind::Search => match roll {
                x if x < 0.6 => self.product(r),
                x if x < 0.75 => self.search,
                x if x < 0.85 => *r.pick(&self.categories),
                _ => self.popular_inside(r),
            },
            _ => self.popular_inside(r),
        };
        Next::Page(next)
    }

    /// A popular page reached by the site's menus (the thank-you page needs an order).
    fn popular_inside(&self, r: &mut Rng) -> u16 {
        loop {
            let idx = self.popular(r);
            if self.page(idx).kind != Kind::ThankYou {
                return idx;
            }
        }
    }
}

/// A visitor's next step.
enum Next {
    Page(u16),
    /// `POST /cart` from a product page.
    AddToCart,
    /// `POST /checkout` from the checkout page.
    PlaceOrder,
}

// ---------------------------------------------------------------------------------------------
// Traffic sources of a visit's first request.

#[derive(Clone, Copy)]
enum Source {
    Direct,
    Google,
    Bing,
    DuckDuckGo,
    Yahoo,
    Naver,
    Yandex,
    Baidu,
    Social,
    Email,
    Assistant,
    Referral,
    Newsletter,
    GoogleAds,
    MetaAds,
    MicrosoftAds,
    OwnSite,
}

/// Share of visits by source, in tenths of a percent.
const SOURCES: &[(Source, u32)] = &[
    (Source::Direct, 300),
    (Source::Google, 200),
    (Source::Bing, 40),
    (Source::DuckDuckGo, 20),
    (Source::Yahoo, 15),
    (Source::Naver, 10),
    (Source::Yandex, 7),
    (Source::Baidu, 5),
    (Source::Social, 90),
    (Source::Email, 25),
    (Source::Assistant, 30),
    (Source::Referral, 80),
    (Source::Newsletter, 30),
    (Source::GoogleAds, 50),
    (Source::MetaAds, 20),
    (Source::MicrosoftAds, 10),
    (Source::OwnSite, 10),
];

const GOOGLES: &[&str] = &[
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.google.co.jp/",
    "https://www.google.co.jp/",
    "https://www.google.de/",
    "https://www.google.co.uk/",
    "https://www.google.fr/",
    "https://www.google.com.br/",
    "https://www.google.co.kr/",
    "https://www.google.ca/",
    "https://www.google.com.au/",
    "https://www.google.co.in/",
];

const EN_QUERIES: &[&str] = &[
    "example widgets",
    "best standing desk 2026",
    "ergonomic chair review",
    "example.com coupon",
    "usb c hub for macbook",
    "waterproof travel backpack",
    "desk lamp with usb charging",
];
const JA_QUERIES: &[&str] = &["スタンディングデスク おすすめ", "デスクライト 目に優しい"];
const KO_QUERIES: &[&str] = &["스탠딩 책상", "위젯 추천", "example 쿠폰"];
const RU_QUERIES: &[&str] = &["эргономичное кресло", "купить рюкзак"];
const ZH_QUERIES: &[&str] = &["升降桌 推荐", "人体工学椅"];

const SOCIAL: &[&str] = &[
    "https://www.facebook.com/",
    "https://l.facebook.com/",
    "https://m.facebook.com/",
    "https://lm.facebook.com/",
    "https://www.linkedin.com/",
    "https://www.youtube.com/",
    "https://www.instagram.com/",
    "https://l.instagram.com/",
    "https://www.reddit.com/r/battlestations/comments/1nq4x2k/finally_finished_my_desk_setup/",
    "https://www.reddit.com/r/BuyItForLife/comments/1o2b7c9/best_water_bottle_that_lasts/",
    "https://out.reddit.com/",
];

const MAIL: &[&str] = &[
    "https://mail.google.com/",
    "https://outlook.live.com/",
    "https://outlook.office.com/",
];

const ASSISTANTS: &[&str] = &[
    "https://chatgpt.com/",
    "https://chatgpt.com/",
    "https://www.perplexity.ai/",
    "https://gemini.google.com/",
    "https://copilot.microsoft.com/",
];

const REFERRALS: &[&str] = &[
    "https://news.ycombinator.com/item?id=45123987",
    "https://www.theverge.com/2026/9/24/best-desk-lamps",
    "https://techcrunch.com/2026/09/30/example-raises-series-b/",
    "https://dev.to/marta/my-2026-home-office-setup-3k1d",
    "https://medium.com/@deskhacks/the-only-cable-guide-you-need-8c1f0e2b",
    "https://github.com/example/widget-sdk",
    "https://stackoverflow.com/questions/79012345/widget-api-rate-limit",
    "https://en.wikipedia.org/wiki/Standing_desk",
    "https://www.producthunt.com/posts/example-widget-pro",
    "https://blog.deskreviewer.net/2026/10/ergonomic-chairs-tested/",
    "https://www.wirecutter-like.org/reviews/best-backpacks/",
    "https://lifehacker.com/home/desk-setup-ideas",
];

const OWN_REFERRERS: &[&str] = &[
    "https://blog.example.com/",
    "https://blog.example.com/2026/10/fall-collection/",
    "http://example.com/",
    "https://example.com/products",
    "https://help.example.com/hc/en-us",
];

struct Sources {
    bing: Vec<String>,
    yahoo: Vec<String>,
    naver: Vec<String>,
    yandex: Vec<String>,
    baidu: Vec<String>,
}

impl Sources {
    fn build() -> Self {
        let with = |prefix: &str, queries: &[&str], suffix: &str| -> Vec<String> {
            queries
                .iter()
                .map(|q| {
                    let mut s = prefix.to_owned();
                    percent_encode(q, &mut s);
                    s.push_str(suffix);
                    s
                })
                .collect()
        };
        let mut yahoo = with(
            "https://search.yahoo.com/search?p=",
            EN_QUERIES,
            "&fr=yfp-t",
        );
        yahoo.extend(with(
            "https://search.yahoo.co.jp/search?p=",
            JA_QUERIES,
            "&ei=UTF-8",
        ));
        Self {
            bing: with("https://www.bing.com/search?q=", EN_QUERIES, "&form=QBLH"),
            yahoo,
            naver: with(
                "https://search.naver.com/search.naver?where=nexearch&sm=top_hty&fbm=0&ie=utf8&query=",
                KO_QUERIES,
                "",
            ),
            yandex: with("https://yandex.ru/search/?text=", RU_QUERIES, "&lr=213"),
            baidu: with("https://www.baidu.com/s?wd=", ZH_QUERIES, "&ie=utf-8"),
        }
    }
}

/// Percent-encodes UTF-8 as a query value (space as `+`).
fn percent_encode(s: &str, out: &mut String) {
    for &byte in s.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)].to_ascii_uppercase()));
                out.push(char::from(HEX[usize::from(byte & 15)].to_ascii_uppercase()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Assets and beacons.

/// Assets every page links to: path and size.
const CORE_ASSETS: &[(&str, u64)] = &[
    ("/css/main.4f1c9a.css", 31_874),
    ("/js/app.c31f08.js", 61_207),
    ("/fonts/inter-var.woff2", 48_256),
    ("/img/logo.svg", 3_214),
];

#[derive(Clone, Copy)]
enum Asset {
    Core(u8),
    Favicon,
    TouchIcon {
        precomposed: bool,
    },
    Icons,
    SearchJs,
    CheckoutJs,
    DocsCss,
    Hero,
    ProductImage {
        page: u16,
        second: bool,
    },
    PostImage(u16),
    CategoryImage(u8),
    /// A small picture of a product, on listings.
    Thumbnail(u16),
}

#[derive(Clone, Copy)]
enum Tracker {
    /// `/collect` (a GA4-style endpoint on the own domain).
    Collect,
    /// `/matomo.php`.
    Matomo,
    /// `/js/awstats_misc_tracker.js`.
    Awstats,
}

#[derive(Clone, Copy)]
enum Sub {
    Asset { asset: Asset, status: u16 },
    Beacon(Tracker),
}

// ---------------------------------------------------------------------------------------------
// The simulation.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The next line is the main request (`req`).
    Main,
    /// The next line is `subs[next_sub]`.
    Sub,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Req {
    Page(u16),
    /// An old address that redirects (301) to `next_url`, page `.0`.
    Legacy(u16),
    /// A page that does not exist.
    Broken,
    /// `POST /cart` from a product page, redirecting to the cart.
    AddToCart,
    /// `POST /checkout`, redirecting to the thank-you page.
    PlaceOrder,
}

/// One visit in progress.
struct Visit {
    who: Visitor,
    visit_no: u32,
    /// Navigations left after the current one.
    pages_left: u32,
    step: Step,
    req: Req,
    /// Target of the next main request.
    url: String,
    /// Where a redirect of the next main request leads.
    next_url: String,
    /// Referrer sent with the next main request (`-` for none).
    referrer: String,
    /// The page on screen and its target.
    page_idx: u16,
    page_url: String,
    page_at: i64,
    first_page: bool,
    subs: [Sub; MAX_SUBS],
    n_subs: u8,
    next_sub: u8,
    last_at: i64,
}

impl Visit {
    fn new(who: Visitor, visit_no: u32, pages_left: u32) -> Self {
        Self {
            who,
            visit_no,
            pages_left,
            step: Step::Main,
            req: Req::Broken,
            url: String::new(),
            next_url: String::new(),
            referrer: String::new(),
            page_idx: NO_PAGE,
            page_url: String::new(),
            page_at: 0,
            first_page: true,
            subs: [Sub::Beacon(Tracker::Collect); MAX_SUBS],
            n_subs: 0,
            next_sub: 0,
            last_at: 0,
        }
    }
}

/// One crawl or script run in progress.
struct BotVisit {
    bot: u8,
    ip: Ip,
    left: u32,
    robots: bool,
    /// A redirect to follow on the next request.
    redirect: Option<String>,
}

enum What {
    NewVisitor,
    NewBot,
    Return { visitor: u64, visit_no: u32 },
    Visit(Box<Visit>),
    Bot(Box<BotVisit>),
}

struct Event {
    at: i64,
    seq: u64,
    what: What,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that the max-heap pops the earliest event (ties: the first scheduled).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// One request as written in the log.
struct Hit<'a> {
    ip: Ip,
    method: &'a str,
    target: &'a str,
    proto: &'a str,
    status: u16,
    /// `None` is written as `-`.
    bytes: Option<u64>,
    referrer: &'a str,
    ua: &'a str,
}

/// The simulator: pops events in time order, each visit step writing one line.
struct Sim {
    rng: Rng,
    seed: u64,
    site: Site,
    sources: Sources,
    queue: BinaryHeap<Event>,
    seq: u64,
    remaining: u64,
    malformed_per_mille: u64,
    span_ms: i64,
    visitor_gap_ms: f64,
    bot_gap_ms: f64,
    tz_offset_s: i64,
    next_visitor: u64,
    /// Lines written so far, and how many of them by bots.
    written: u64,
    bot_lines: u64,
    now: i64,
    clock: Clock,
    line: Vec<u8>,
    target: String,
    /// The layout written, and the line in it when that is not combined.
    format: Format,
    other: Vec<u8>,
}

impl Sim {
    fn new(opts: &SynthOptions) -> Self {
        let lines = opts.lines.max(1) as f64;
        let span_ms = ((opts.lines.min(i64::MAX as u64 / 1_000) as i64) * MS_PER_LINE)
            .clamp(DAY_MS, 30 * DAY_MS);
        let bot_lines_per_visit: f64 = {
            let total: f64 = BOTS.iter().map(|b| f64::from(b.share)).sum();
            let visits: f64 = BOTS
                .iter()
                .map(|b| f64::from(b.share) / bot_visit_lines(b))
                .sum();
            total / visits
        };
        let visitors = (lines * (1.0 - BOT_SHARE) / HUMAN_LINES_PER_VISITOR).max(1.0);
        let bot_visits = (lines * BOT_SHARE / bot_lines_per_visit).max(1.0);
        let mut sim = Self {
            rng: Rng::new(opts.seed),
            seed: opts.seed,
            site: Site::build(),
            sources: Sources::build(),
            queue: BinaryHeap::new(),
            seq: 0,
            remaining: opts.lines,
            malformed_per_mille: u64::from(opts.malformed_per_mille.min(1000)),
            span_ms,
            visitor_gap_ms: span_ms as f64 / visitors,
            bot_gap_ms: span_ms as f64 / bot_visits,
            tz_offset_s: i64::from(opts.tz_offset_min) * 60,
            next_visitor: 0,
            written: 0,
            bot_lines: 0,
            now: opts.start_ms,
            clock: Clock::new(opts.tz_offset_min),
            line: Vec::with_capacity(512),
            target: String::with_capacity(256),
            format: opts.format,
            other: Vec::with_capacity(1024),
        };
        sim.schedule(opts.start_ms, What::NewVisitor);
        let first_bot = opts.start_ms + (sim.rng.exponential() * sim.bot_gap_ms) as i64;
        sim.schedule(first_bot, What::NewBot);
        sim
    }

    fn schedule(&mut self, at: i64, what: What) {
        self.seq += 1;
        self.queue.push(Event {
            at,
            seq: self.seq,
            what,
        });
    }

    /// Writes the next line into `self.line`; returns its time and whether it is malformed.
    fn next_line(&mut self) -> Option<(i64, bool)> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            let event = self.queue.pop().expect("arrivals keep the queue non-empty");
            debug_assert!(event.at >= self.now);
            self.now = event.at;
            if self.handle(event.what) {
                break;
            }
        }
        self.remaining -= 1;
        self.written += 1;
        let malformed = self.rng.below(1000) < self.malformed_per_mille;
        if malformed {
            // The combined line broken, whatever the layout: the same draws in every one.
            self.corrupt();
        } else if !layout::is_combined(self.format) {
            std::mem::swap(&mut self.line, &mut self.other);
        }
        Some((self.now, malformed))
    }

    /// Handles one event; returns whether it wrote a line.
    fn handle(&mut self, what: What) -> bool {
        let now = self.now;
        match what {
            What::NewVisitor => {
                let id = self.next_visitor;
                self.next_visitor += 1;
                let hour = (now.div_euclid(1000) + self.tz_offset_s).rem_euclid(86_400) / 3_600;
                let gap = self.rng.exponential() * self.visitor_gap_ms / DIURNAL[hour as usize];
                self.schedule(now + gap as i64 + 1, What::NewVisitor);
                self.start_visit(id, 1);
                false
            }
            What::NewBot => {
                // Steer towards the intended share: slower arrivals while bots are ahead.
                let written = self.written.max(1) as f64;
                let ahead = if self.written < 1_000 {
                    1.0
                } else {
                    (self.bot_lines as f64 / written / BOT_SHARE).clamp(0.5, 2.0)
                };
                let gap = self.rng.exponential() * self.bot_gap_ms * ahead;
                self.schedule(now + gap as i64 + 1, What::NewBot);
                self.start_bot();
                false
            }
            What::Return { visitor, visit_no } => {
                self.start_visit(visitor, visit_no);
                false
            }
            What::Visit(visit) => {
                self.visit_step(visit);
                true
            }
            What::Bot(bot) => {
                self.bot_lines += 1;
                self.bot_step(bot);
                true
            }
        }
    }

    // --- humans ------------------------------------------------------------------------------

    fn start_visit(&mut self, id: u64, visit_no: u32) {
        let who = Visitor::derive(self.seed, id);
        let pages = if self.rng.chance(0.4) {
            1
        } else {
            2 + ((self.rng.exponential() * 3.2) as u32).min(10)
        };
        let mut v = Box::new(Visit::new(who, visit_no, pages - 1));
        self.entry(&mut v);
        let now = self.now;
        self.schedule(now, What::Visit(v));
    }

    /// Chooses where a visit comes from and where it lands.
    fn entry(&mut self, v: &mut Visit) {
        let source = SOURCES[self.rng.weighted(SOURCES, |s| s.1)].0;
        let r = &mut self.rng;
        let site = &self.site;
        v.referrer.clear();
        let mut campaign: Option<&str> = None;
        let mut click_id: Option<(&str, usize)> = None;
        let mut external = true;
        let landing = match source {
            Source::Direct => {
                external = false;
                if r.chance(0.015) {
                    v.referrer.push('-');
                    v.req = Req::Broken;
                    v.url.clear();
                    v.url.push_str(r.text(TYPOS));
                    return;
                }
                if r.chance(0.55) {
                    site.home
                } else {
                    site.popular_landing(r)
                }
            }
            Source::Google => {
                v.referrer.push_str(r.text(GOOGLES));
                site.popular_landing(r)
            }
            Source::Bing => {
                v.referrer.push_str(r.text(&self.sources.bing));
                site.popular_landing(r)
            }
            Source::DuckDuckGo => {
                v.referrer.push_str("https://duckduckgo.com/");
                site.popular_landing(r)
            }
            Source::Yahoo => {
                v.referrer.push_str(r.text(&self.sources.yahoo));
                site.popular_landing(r)
            }
            Source::Naver => {
                v.referrer.push_str(r.text(&self.sources.naver));
                site.popular_landing(r)
            }
            Source::Yandex => {
                v.referrer.push_str(r.text(&self.sources.yandex));
                site.popular_landing(r)
            }
            Source::Baidu => {
                v.referrer.push_str(r.text(&self.sources.baidu));
                site.popular_landing(r)
            }
            Source::Social => {
                if r.chance(0.2) {
                    v.referrer.push_str("https://t.co/");
                    r.alnum(10, &mut v.referrer);
                } else {
                    v.referrer.push_str(r.text(SOCIAL));
                }
                match r.below(4) {
                    0 | 1 => Site::skewed(&site.posts, r),
                    2 => site.product(r),
                    _ => site.popular_landing(r),
                }
            }
            Source::Email => {
                v.referrer.push_str(r.text(MAIL));
                if r.chance(0.6) {
                    campaign = Some(newsletter_campaign(r));
                }
                newsletter_landing(site, r)
            }
            Source::Assistant => {
                let referrer = *r.pick(ASSISTANTS);
                v.referrer.push_str(referrer);
                if referrer == "https://chatgpt.com/" && r.chance(0.7) {
                    campaign = Some("utm_source=chatgpt.com");
                }
                match r.below(3) {
                    0 => Site::skewed(&site.docs, r),
                    1 => site.product(r),
                    _ => Site::skewed(&site.posts, r),
                }
            }
            Source::Referral => {
                v.referrer.push_str(r.text(REFERRALS));
                match r.below(5) {
                    0 | 1 => Site::skewed(&site.posts, r),
                    2 => site.product(r),
                    _ => site.popular_landing(r),
                }
            }
            Source::Newsletter => {
                if r.chance(0.3) {
                    v.referrer.push_str(r.text(MAIL));
                } else {
                    external = false;
                }
                campaign = Some(newsletter_campaign(r));
                newsletter_landing(site, r)
            }
            Source::GoogleAds => {
                v.referrer.push_str(if r.chance(0.7) {
                    "https://www.google.com/"
                } else {
                    r.text(GOOGLES)
                });
                click_id = Some(("gclid=Cj0KCQjw", 72));
                match r.below(5) {
                    0 | 1 => site.product(r),
                    2 | 3 => *r.pick(&site.categories),
                    _ => site.home,
                }
            }
            Source::MetaAds => {
                v.referrer.push_str(r.text(&SOCIAL[..4]));
                click_id = Some(("fbclid=IwZXh0bgNhZW0CMTEAAR", 60));
                match r.below(3) {
                    0 => site.product(r),
                    1 => Site::skewed(&site.posts, r),
                    _ => site.sale,
                }
            }
            Source::MicrosoftAds => {
                v.referrer.push_str("https://www.bing.com/");
                click_id = Some(("msclkid=", 32));
                if r.chance(0.5) {
                    site.product(r)
                } else {
                    *r.pick(&site.categories)
                }
            }
            Source::OwnSite => {
                v.referrer.push_str(r.text(OWN_REFERRERS));
                external = false;
                site.popular_landing(r)
            }
        };
        if v.referrer.is_empty() {
            v.referrer.push('-');
        }
        if external && self.rng.chance(0.04) {
            v.req = Req::Broken;
            v.url.clear();
            v.url.push_str(self.rng.text(BROKEN_INBOUND));
            return;
        }
        if self.rng.chance(0.03) {
            self.set_legacy(v, landing);
        } else {
            self.set_page(v, landing);
        }
        if let Some(c) = campaign {
            push_param(v, c);
        }
        if let Some((prefix, n)) = click_id {
            let mut id = String::with_capacity(prefix.len() + n);
            id.push_str(prefix);
            if prefix.starts_with("msclkid") {
                self.rng.hex(n, &mut id);
            } else {
                self.rng.alnum(n, &mut id);
            }
            push_param(v, &id);
        }
    }

    /// Sets the next main request to `idx`, with a query string where the page takes one.
    fn set_page(&mut self, v: &mut Visit, idx: u16) {
        v.req = Req::Page(idx);
        v.url.clear();
        self.page_target(idx, &mut v.url);
    }

    /// Sets the next main request to an old address of `idx` that redirects to it.
    fn set_legacy(&mut self, v: &mut Visit, idx: u16) {
        v.req = Req::Legacy(idx);
        self.legacy_targets(idx, &mut v.url, &mut v.next_url);
    }

    /// Writes an old address of page `idx` and the current one it redirects to.
    fn legacy_targets(&mut self, idx: u16, old: &mut String, current: &mut String) {
        current.clear();
        self.page_target(idx, current);
        let page = self.site.page(idx);
        old.clear();
        match page.kind {
            Kind::Home => old.push_str("/index.html"),
            Kind::Product => {
                old.push_str("/shop/");
                old.push_str(page.slug());
            }
            Kind::Category => {
                old.push_str("/category/");
                old.push_str(page.slug());
            }
            _ => {
                old.push_str(&page.path);
                old.push('/');
            }
        }
        if let Some(q) = current.find('?') {
            old.push_str(&current[q..]);
        }
    }

    fn page_target(&mut self, idx: u16, out: &mut String) {
        let page = self.site.page(idx);
        out.push_str(&page.path);
        let r = &mut self.rng;
        match page.kind {
            Kind::Search => {
                out.push_str("?q=");
                percent_encode(r.text(SITE_SEARCHES), out);
            }
            Kind::Category if r.chance(0.25) => out.push_str(r.text(&[
                "?sort=price-asc",
                "?sort=newest",
                "?page=2",
                "?page=3",
                "?color=black",
            ])),
            Kind::Product if r.chance(0.1) => {
                out.push_str("?variant=");
                out.push_str(r.text(&["blue", "black", "oak", "large", "sand"]));
            }
            Kind::Blog if r.chance(0.2) => {
                out.push_str("?tag=");
                out.push_str(r.text(&["guides", "news", "design", "how-to"]));
            }
            Kind::ThankYou => {
                let order = 100_000 + r.below(900_000);
                let (units, cents) = (12 + r.below(480), r.below(100));
                let _ = write!(out, "?order={order}&value={units}.{cents:02}");
            }
            _ => {}
        }
    }

    fn visit_step(&mut self, mut v: Box<Visit>) {
        let now = self.now;
        v.last_at = now;
        match v.step {
            Step::Main => self.main_request(v),
            Step::Sub => {
                let sub = v.subs[usize::from(v.next_sub)];
                v.next_sub += 1;
                self.write_sub(&v, sub);
                if v.next_sub < v.n_subs {
                    let cap = (v.page_at.div_euclid(SECOND_MS) + 2) * SECOND_MS - 1;
                    let pause = match v.subs[usize::from(v.next_sub)] {
                        Sub::Asset { .. } => self.rng.range(5, 280),
                        Sub::Beacon(_) => self.rng.range(150, 900),
                    };
                    self.schedule((now + pause).min(cap).max(now), What::Visit(v));
                } else {
                    self.navigate(v);
                }
            }
        }
    }

    fn main_request(&mut self, mut v: Box<Visit>) {
        let now = self.now;
        let who = v.who;
        let ua = who.browser().ua;
        let proto = who.proto();
        match v.req {
            Req::Page(idx) => {
                let page = self.site.page(idx);
                let fragile = matches!(page.kind, Kind::Search | Kind::Checkout);
                let (status, bytes) = if self.rng.chance(if fragile { 0.03 } else { 0.009 }) {
                    let status = *self.rng.pick(&[500, 500, 502, 502, 503, 504]);
                    (status, Some(self.rng.range(150, 600) as u64))
                } else if v.visit_no > 1 && self.rng.chance(0.03) {
                    (304, None)
                } else {
                    let size = i64::from(page.size);
                    (
                        200,
                        Some(self.rng.range(size - size / 25, size + size / 25) as u64),
                    )
                };
                self.write(&Hit {
                    ip: who.ip,
                    method: "GET",
                    target: &v.url,
                    proto,
                    status,
                    bytes,
                    referrer: &v.referrer,
                    ua,
                });
                if status >= 500 {
                    if self.rng.chance(0.6) {
                        // Reload.
                        let pause = self.rng.range(2_000, 9_000);
                        self.schedule(now + pause, What::Visit(v));
                    } else {
                        self.end_visit(v);
                    }
                    return;
                }
                v.page_idx = idx;
                std::mem::swap(&mut v.page_url, &mut v.url);
                v.page_at = now;
                self.plan_subs(&mut v);
                v.first_page = false;
                self.after_page(v);
            }
            Req::Broken => {
                let bytes = self.rng.range(5_100, 5_300) as u64;
                self.write(&Hit {
                    ip: who.ip,
                    method: "GET",
                    target: &v.url,
                    proto,
                    status: 404,
                    bytes: Some(bytes),
                    referrer: &v.referrer,
                    ua,
                });
                v.page_idx = NO_PAGE;
                std::mem::swap(&mut v.page_url, &mut v.url);
                v.page_at = now;
                // The error page has the site's style sheet.
                v.n_subs = 0;
                v.next_sub = 0;
                let status = if v.first_page && v.visit_no == 1 {
                    200
                } else {
                    304
                };
                v.subs[0] = Sub::Asset {
                    asset: Asset::Core(0),
                    status,
                };
                v.n_subs = 1;
                v.first_page = false;
                self.after_page(v);
            }
            Req::Legacy(idx) => {
                let bytes = self.rng.range(162, 170) as u64;
                self.write(&Hit {
                    ip: who.ip,
                    method: "GET",
                    target: &v.url,
                    proto,
                    status: 301,
                    bytes: Some(bytes),
                    referrer: &v.referrer,
                    ua,
                });
                v.req = Req::Page(idx);
                std::mem::swap(&mut v.url, &mut v.next_url);
                let pause = self.rng.range(20, 300);
                self.schedule(now + pause, What::Visit(v));
            }
            Req::AddToCart | Req::PlaceOrder => {
                let (target, status, next) = if v.req == Req::AddToCart {
                    ("/cart", 302, self.site.cart)
                } else {
                    ("/checkout", 303, self.site.thank_you)
                };
                self.write(&Hit {
                    ip: who.ip,
                    method: "POST",
                    target,
                    proto,
                    status,
                    bytes: Some(0),
                    referrer: &v.referrer,
                    ua,
                });
                // The browser follows with a GET that keeps the form page as referrer.
                self.set_page(&mut v, next);
                let pause = self.rng.range(60, 400);
                self.schedule(now + pause, What::Visit(v));
            }
        }
    }

    /// Plans the assets and beacon that follow a page view.
    fn plan_subs(&mut self, v: &mut Visit) {
        let r = &mut self.rng;
        let site = &self.site;
        let page = site.page(v.page_idx);
        let returning = v.visit_no > 1;
        let device = v.who.browser().device;
        // (asset, status, priority): when there are too many, the lowest priorities go.
        let mut assets: [Option<(Asset, u16, u8)>; 16] = [None; 16];
        let mut n = 0;
        let mut add = |asset: Asset, status: u16, priority: u8| {
            if n < assets.len() {
                assets[n] = Some((asset, status, priority));
                n += 1;
            }
        };
        if v.first_page {
            for i in 0..CORE_ASSETS.len() {
                if !returning {
                    add(Asset::Core(i as u8), 200, 3);
                } else if r.chance(0.2) {
                    add(Asset::Core(i as u8), 304, 3);
                }
            }
            if !returning && r.chance(0.3) {
                add(Asset::Favicon, 200, 1);
            }
            if !returning && matches!(device, Device::IPhone | Device::IPad) && r.chance(0.3) {
                add(Asset::TouchIcon { precomposed: true }, 404, 0);
                add(Asset::TouchIcon { precomposed: false }, 404, 0);
            }
        } else if r.chance(0.1) {
            add(Asset::Icons, 200, 1);
        }
        // Pictures of other products in a listing: distinct, never the page's own product.
        let thumbs = |r: &mut Rng, from: &[u16], (lo, hi), add: &mut dyn FnMut(Asset, u16, u8)| {
            let start = r.index(from.len());
            let others = (0..from.len())
                .map(|k| from[(start + k) % from.len()])
                .filter(|&idx| idx != v.page_idx);
            for idx in others.take(r.range(lo, hi) as usize) {
                add(Asset::Thumbnail(idx), 200, 1);
            }
        };
        match page.kind {
            Kind::Home => {
                if !returning {
                    add(Asset::Hero, 200, 2);
                } else if r.chance(0.3) {
                    add(Asset::Hero, 304, 2);
                }
                let c = r.index(site.by_category.len());
                thumbs(r, &site.by_category[c], (0, 2), &mut add);
            }
            Kind::Product => {
                add(
                    Asset::ProductImage {
                        page: v.page_idx,
                        second: false,
                    },
                    200,
                    2,
                );
                if r.chance(0.2) {
                    add(
                        Asset::ProductImage {
                            page: v.page_idx,
                            second: true,
                        },
                        200,
                        2,
                    );
                }
                let related = &site.by_category[usize::from(page.group)];
                thumbs(r, related, (0, 2), &mut add);
            }
            Kind::Post => add(Asset::PostImage(v.page_idx), 200, 2),
            Kind::Category => {
                add(Asset::CategoryImage(page.group), 200, 2);
                let products = &site.by_category[usize::from(page.group)];
                thumbs(r, products, (2, 4), &mut add);
            }
            Kind::Search => {
                if r.chance(0.3) {
                    add(Asset::SearchJs, 200, 2);
                }
                let c = r.index(site.by_category.len());
                thumbs(r, &site.by_category[c], (0, 4), &mut add);
            }
            Kind::Checkout => add(Asset::CheckoutJs, if r.chance(0.3) { 304 } else { 200 }, 2),
            Kind::Docs if r.chance(0.3) => add(Asset::DocsCss, 200, 2),
            _ => {}
        }
        let mut len = n;
        while len > MAX_ASSETS {
            // The last of the least important goes.
            let drop = (0..len)
                .rev()
                .min_by_key(|&i| assets[i].map_or(0, |a| a.2))
                .expect("more than MAX_ASSETS");
            assets[drop..len].rotate_left(1);
            len -= 1;
        }
        let mut subs = 0;
        for (asset, status, _) in assets[..len].iter().flatten() {
            v.subs[subs] = Sub::Asset {
                asset: *asset,
                status: *status,
            };
            subs += 1;
        }
        if !v.who.blocks_trackers {
            let roll = r.unit();
            let tracker = if roll < 0.3 {
                Some(Tracker::Collect)
            } else if roll < 0.34 {
                Some(Tracker::Matomo)
            } else if roll < 0.36 {
                Some(Tracker::Awstats)
            } else {
                None
            };
            if let Some(t) = tracker {
                v.subs[subs] = Sub::Beacon(t);
                subs += 1;
            }
        }
        v.n_subs = subs as u8;
        v.next_sub = 0;
    }

    /// After a page (or error page) was requested: its assets, then the next navigation.
    fn after_page(&mut self, mut v: Box<Visit>) {
        if v.n_subs > 0 {
            v.step = Step::Sub;
            let first = match v.subs[0] {
                Sub::Asset { .. } => self.rng.range(20, 250),
                Sub::Beacon(_) => self.rng.range(200, 1_200),
            };
            let at = self.now + first;
            self.schedule(at, What::Visit(v));
        } else {
            self.navigate(v);
        }
    }

    /// Decides the visit's next request after a think time, or ends the visit.
    fn navigate(&mut self, mut v: Box<Visit>) {
        let leaves_error = v.page_idx == NO_PAGE && self.rng.chance(0.55);
        if v.pages_left == 0 || leaves_error {
            self.end_visit(v);
            return;
        }
        v.pages_left -= 1;
        v.step = Step::Main;
        v.n_subs = 0;
        v.next_sub = 0;
        v.referrer.clear();
        v.referrer.push_str(SITE);
        v.referrer.push_str(&v.page_url);
        let at = v.page_at + self.think_ms();
        let from = (v.page_idx != NO_PAGE).then_some(v.page_idx);
        let broken_link = match from.map(|idx| self.site.page(idx).kind) {
            Some(Kind::Post | Kind::Docs) => 0.03,
            _ => 0.012,
        };
        if self.rng.chance(broken_link) {
            v.req = Req::Broken;
            v.url.clear();
            v.url.push_str(self.rng.text(BROKEN_INTERNAL));
        } else {
            match self.site.next_page(from, &mut self.rng) {
                Next::AddToCart => v.req = Req::AddToCart,
                Next::PlaceOrder => v.req = Req::PlaceOrder,
                Next::Page(idx) if self.rng.chance(0.018) => self.set_legacy(&mut v, idx),
                Next::Page(idx) => self.set_page(&mut v, idx),
            }
        }
        self.schedule(at, What::Visit(v));
    }

    /// Time between two page views: log-normal around 35 s within 5 s to 5 min, with a few
    /// long reads just under 30 minutes.
    fn think_ms(&mut self) -> i64 {
        if self.rng.chance(0.015) {
            return self
                .rng
                .range(25 * MINUTE_MS, 30 * MINUTE_MS - 10 * SECOND_MS);
        }
        loop {
            let x = exp(ln(35_000.0) + 1.1 * self.rng.normal());
            if (5_000.0..=300_000.0).contains(&x) {
                return x as i64;
            }
        }
    }

    fn end_visit(&mut self, v: Box<Visit>) {
        if v.visit_no < v.who.visits {
            // Back after more than 30 minutes: sometimes under an hour, mostly hours or days.
            let gap = if self.rng.chance(0.12) {
                self.rng.range(31 * MINUTE_MS, 59 * MINUTE_MS)
            } else {
                let longest = (self.span_ms * 3 / 5).max(2 * HOUR_MS);
                self.rng.log_uniform(HOUR_MS, longest)
            };
            let what = What::Return {
                visitor: v.who.id,
                visit_no: v.visit_no + 1,
            };
            self.schedule(v.last_at + gap, what);
        }
    }

    fn write_sub(&mut self, v: &Visit, sub: Sub) {
        let mut target = std::mem::take(&mut self.target);
        target.clear();
        let (status, bytes) = match sub {
            Sub::Asset { asset, status } => {
                let size = self.asset_target(asset, &mut target);
                let bytes = match status {
                    304 => None,
                    404 => Some(153),
                    _ => Some(size),
                };
                (status, bytes)
            }
            Sub::Beacon(tracker) => {
                self.beacon_target(v, tracker, &mut target);
                match tracker {
                    Tracker::Collect | Tracker::Matomo => (204, Some(0)),
                    Tracker::Awstats => (200, Some(8_932)),
                }
            }
        };
        let mut referrer = String::with_capacity(SITE.len() + v.page_url.len());
        referrer.push_str(SITE);
        referrer.push_str(&v.page_url);
        self.write(&Hit {
            ip: v.who.ip,
            method: "GET",
            target: &target,
            proto: v.who.proto(),
            status,
            bytes,
            referrer: &referrer,
            ua: v.who.browser().ua,
        });
        self.target = target;
    }

    /// Writes an asset's path; returns its size.
    fn asset_target(&self, asset: Asset, out: &mut String) -> u64 {
        let sized = |lo: u64, span: u64, key: u64| lo + mix(key) % span;
        match asset {
            Asset::Core(i) => {
                let (path, size) = CORE_ASSETS[usize::from(i)];
                out.push_str(path);
                size
            }
            Asset::Favicon => {
                out.push_str("/favicon.ico");
                15_086
            }
            Asset::TouchIcon { precomposed } => {
                out.push_str(if precomposed {
                    "/apple-touch-icon-precomposed.png"
                } else {
                    "/apple-touch-icon.png"
                });
                0
            }
            Asset::Icons => {
                out.push_str("/img/icons.svg");
                7_912
            }
            Asset::SearchJs => {
                out.push_str("/js/search.5a9c3e.js");
                18_344
            }
            Asset::CheckoutJs => {
                out.push_str("/js/checkout.7d0e11.js");
                42_610
            }
            Asset::DocsCss => {
                out.push_str("/css/docs.1b8f2d.css");
                9_881
            }
            Asset::Hero => {
                out.push_str("/img/hero-fall-2026.avif");
                112_409
            }
            Asset::ProductImage { page, second } => {
                let slug = self.site.page(page).slug();
                out.push_str("/img/products/");
                out.push_str(slug);
                if second {
                    out.push_str("-2.jpg");
                    sized(60_000, 140_000, u64::from(page) * 2 + 1)
                } else {
                    out.push_str(".webp");
                    sized(30_000, 90_000, u64::from(page) * 2)
                }
            }
            Asset::PostImage(page) => {
                out.push_str("/img/blog/");
                out.push_str(self.site.page(page).slug());
                out.push_str(".jpg");
                sized(70_000, 150_000, u64::from(page) + 7_777)
            }
            Asset::Thumbnail(page) => {
                out.push_str("/img/products/");
                out.push_str(self.site.page(page).slug());
                out.push_str("-sm.webp");
                sized(6_000, 14_000, u64::from(page) + 31_337)
            }
            Asset::CategoryImage(group) => {
                out.push_str("/img/categories/");
                out.push_str(CATEGORIES[usize::from(group)].0);
                out.push_str(".png");
                sized(90_000, 70_000, u64::from(group) + 99)
            }
        }
    }

    fn beacon_target(&mut self, v: &Visit, tracker: Tracker, out: &mut String) {
        let who = &v.who;
        let key = mix(self.seed ^ who.id);
        let r = &mut self.rng;
        match tracker {
            Tracker::Collect => {
                let _ = write!(
                    out,
                    "/collect?v=2&tid=G-7QX2M4K9PL&cid={}.{}&ul={}&sr={}&sd=24-bit",
                    key % 2_000_000_000,
                    1_780_000_000 + (key >> 40) % 20_000_000,
                    who.language,
                    who.resolution,
                );
            }
            Tracker::Matomo => {
                let _ = write!(
                    out,
                    "/matomo.php?idsite=1&rec=1&res={}&_id={:016x}&url=",
                    who.resolution, key
                );
                percent_encode(SITE, out);
                percent_encode(&v.page_url, out);
            }
            Tracker::Awstats => {
                let _ = write!(
                    out,
                    "/js/awstats_misc_tracker.js?screen={}&cdi=24&java=false&shk=y&svg=y&fla=n&rp=n&mov=n&wma=n&pdf=y&uid=awsuid{}&sid=awssid{}",
                    who.resolution,
                    key % 1_000_000_000,
                    r.below(1_000_000_000)
                );
            }
        }
    }

    // --- bots --------------------------------------------------------------------------------

    fn start_bot(&mut self) {
        let r = &mut self.rng;
        let bot = r.weighted(BOTS, |b| {
            (f64::from(b.share) * 1_000.0 / bot_visit_lines(b)).round() as u32
        });
        let info = &BOTS[bot];
        let [a, b] = *r.pick(info.nets);
        let ip = Ip::V4([a, b, r.below(256) as u8, 1 + r.below(254) as u8]);
        let robots = r.chance(info.robots);
        let left = r.range(info.requests.0, info.requests.1) as u32;
        let visit = Box::new(BotVisit {
            bot: bot as u8,
            ip,
            left,
            robots,
            redirect: None,
        });
        let now = self.now;
        self.schedule(now, What::Bot(visit));
    }

    fn bot_step(&mut self, mut b: Box<BotVisit>) {
        let info = &BOTS[usize::from(b.bot)];
        let mut target = std::mem::take(&mut self.target);
        target.clear();
        let mut method = "GET";
        let (status, bytes): (u16, Option<u64>) = if b.robots {
            b.robots = false;
            target.push_str("/robots.txt");
            (200, Some(412))
        } else if let Some(current) = b.redirect.take() {
            b.left = b.left.saturating_sub(1);
            target.push_str(&current);
            (200, Some(self.rng.range(9_000, 30_000) as u64))
        } else {
            b.left = b.left.saturating_sub(1);
            self.bot_request(&mut b, info, &mut target, &mut method)
        };
        let bytes = if method == "HEAD" { Some(0) } else { bytes };
        self.write(&Hit {
            ip: b.ip,
            method,
            target: &target,
            proto: "HTTP/1.1",
            status,
            bytes,
            referrer: "-",
            ua: info.ua,
        });
        self.target = target;
        if b.left > 0 || b.redirect.is_some() {
            let pause = if b.redirect.is_some() {
                self.rng.range(50, 500)
            } else {
                self.rng.log_uniform(info.pause_ms.0, info.pause_ms.1)
            };
            let at = self.now + pause;
            self.schedule(at, What::Bot(b));
        }
    }

    /// Chooses a bot's next request; returns status and size.
    fn bot_request(
        &mut self,
        b: &mut BotVisit,
        info: &Bot,
        target: &mut String,
        method: &mut &'static str,
    ) -> (u16, Option<u64>) {
        let roll = self.rng.unit();
        match info.kind {
            BotKind::Crawler => {
                if roll < 0.03 {
                    target.push_str("/sitemap.xml");
                    return (200, Some(24_310));
                }
                if roll < 0.06 {
                    let r = &mut self.rng;
                    target.push_str(if r.chance(0.5) {
                        r.text(BROKEN_INBOUND)
                    } else {
                        r.text(BROKEN_INTERNAL)
                    });
                    return (404, Some(5_184));
                }
                let idx = if self.rng.chance(0.5) {
                    *self.rng.pick(&self.site.landings)
                } else {
                    self.site.popular_landing(&mut self.rng)
                };
                if roll < 0.085 {
                    let mut current = String::new();
                    self.legacy_targets(idx, target, &mut current);
                    b.redirect = Some(current);
                    return (301, Some(162));
                }
                self.page_target(idx, target);
                if roll < 0.088 {
                    return (503, Some(197));
                }
                if self.rng.chance(info.not_modified) {
                    return (304, None);
                }
                (200, Some(u64::from(self.site.page(idx).size)))
            }
            BotKind::Preview => {
                let idx = if roll < 0.6 {
                    Site::skewed(&self.site.posts, &mut self.rng)
                } else {
                    self.site.product(&mut self.rng)
                };
                self.page_target(idx, target);
                (200, Some(u64::from(self.site.page(idx).size)))
            }
            BotKind::Monitor => {
                if roll < 0.7 {
                    *method = "HEAD";
                    target.push('/');
                    (200, Some(0))
                } else {
                    target.push_str("/api/health");
                    (200, Some(15))
                }
            }
            BotKind::Scraper => {
                let idx = if roll < 0.7 {
                    self.site.product(&mut self.rng)
                } else {
                    *self.rng.pick(&self.site.categories)
                };
                self.page_target(idx, target);
                if self.rng.chance(0.05) {
                    (429, Some(162))
                } else {
                    (200, Some(u64::from(self.site.page(idx).size)))
                }
            }
            BotKind::Prober => {
                if roll < 0.65 {
                    target.push_str(self.rng.text(PROBES));
                    let status = if target.as_str() == "/server-status" {
                        403
                    } else {
                        404
                    };
                    (status, Some(if status == 403 { 199 } else { 5_184 }))
                } else if roll < 0.8 {
                    target.push('/');
                    (200, Some(u64::from(self.site.page(self.site.home).size)))
                } else if roll < 0.9 {
                    *method = "HEAD";
                    target.push('/');
                    (200, Some(0))
                } else {
                    let idx = *self.rng.pick(&self.site.landings);
                    self.page_target(idx, target);
                    (200, Some(u64::from(self.site.page(idx).size)))
                }
            }
        }
    }

    // --- lines -------------------------------------------------------------------------------

    fn write(&mut self, hit: &Hit<'_>) {
        let line = &mut self.line;
        line.clear();
        write_ip(line, hit.ip);
        line.extend_from_slice(b" - - [");
        line.extend_from_slice(self.clock.text(self.now));
        line.extend_from_slice(b"] \"");
        line.extend_from_slice(hit.method.as_bytes());
        line.push(b' ');
        line.extend_from_slice(hit.target.as_bytes());
        line.push(b' ');
        line.extend_from_slice(hit.proto.as_bytes());
        line.extend_from_slice(b"\" ");
        push_u64(line, u64::from(hit.status));
        line.push(b' ');
        match hit.bytes {
            Some(n) => push_u64(line, n),
            None => line.push(b'-'),
        }
        line.extend_from_slice(b" \"");
        line.extend_from_slice(hit.referrer.as_bytes());
        line.extend_from_slice(b"\" \"");
        line.extend_from_slice(hit.ua.as_bytes());
        line.extend_from_slice(b"\"\n");
        if !layout::is_combined(self.format) {
            let clf = *self.clock.text(self.now);
            layout::write(self.format, hit, self.now, &clf, &mut self.other);
        }
    }

    /// Turns the line just written into a malformed one.
    fn corrupt(&mut self) {
        let agents = !matches!(self.format, Format::Common | Format::VCommon);
        let line = &mut self.line;
        let r = &mut self.rng;
        let body = line.len() - 1; // without the newline
        let quotes: Vec<usize> = (0..body).filter(|&i| line[i] == b'"').collect();
        let (request_open, request_close) = (quotes[0], quotes[1]);
        let ua_close = body - 1;
        let ua_open = quotes[quotes.len() - 2];
        match r.below(6) {
            // Cut before the request is complete.
            0 | 1 => line.truncate(r.range(1, request_close as i64 - 1) as usize),
            // Cut inside the user agent: the last quote is never closed. A layout without
            // user agents would read that as a whole line: its request is cut instead (the
            // same draw, so the traffic after it is the same in every layout).
            2 => {
                let cut = r
                    .range(ua_open as i64 + 1, ua_close as i64 - 1)
                    .max(ua_open as i64 + 1) as usize;
                line.truncate(if agents { cut } else { request_close });
            }
            // Garbage: binary bytes, invalid UTF-8 included.
            3 => {
                line.clear();
                if r.chance(0.5) {
                    // A TLS handshake sent to the plain-text port.
                    line.extend_from_slice(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
                } else {
                    line.extend_from_slice(b"\xff\xfe\xc3\x28");
                }
                for _ in 0..r.range(8, 120) {
                    let byte = match r.below(4) {
                        0 | 1 => 0x21 + r.below(0x5e) as u8,
                        2 => 0x80 + r.below(0x80) as u8,
                        _ => 1 + r.below(0x1f) as u8,
                    };
                    if byte != b'\n' && byte != b'\r' {
                        line.push(byte);
                    }
                }
            }
            // No timestamp.
            4 => {
                let open = line.iter().position(|&c| c == b'[').expect("timestamp");
                let close = open + 28; // "[" + 26 characters + "] "
                line.drain(open..=close);
            }
            // The request's closing quote is missing.
            _ => {
                debug_assert!(request_open < request_close);
                line.remove(request_close);
            }
        }
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
    }
}

fn push_param(v: &mut Visit, param: &str) {
    let add = |url: &mut String| {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(param);
    };
    add(&mut v.url);
    if matches!(v.req, Req::Legacy(_)) {
        add(&mut v.next_url);
    }
}

fn newsletter_campaign(r: &mut Rng) -> &'static str {
    r.text(&[
        "utm_source=newsletter&utm_medium=email&utm_campaign=fall_sale",
        "utm_source=newsletter&utm_medium=email&utm_campaign=fall_sale&utm_content=hero_button",
        "utm_source=newsletter&utm_medium=email&utm_campaign=weekly_digest_41",
    ])
}

fn newsletter_landing(site: &Site, r: &mut Rng) -> u16 {
    match r.below(4) {
        0 | 1 => site.sale,
        2 => site.new_arrivals,
        _ => site.product(r),
    }
}

/// Expected lines of one visit of a bot.
fn bot_visit_lines(b: &Bot) -> f64 {
    b.robots + (b.requests.0 + b.requests.1) as f64 / 2.0
}

// ---------------------------------------------------------------------------------------------
// Formatting.

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn write_ip(out: &mut Vec<u8>, ip: Ip) {
    match ip {
        Ip::V4(octets) => {
            for (i, o) in octets.iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, u64::from(*o));
            }
        }
        Ip::V6(groups) => {
            for (i, g) in groups.iter().enumerate() {
                if i > 0 {
                    out.push(b':');
                }
                let mut started = false;
                for shift in [12, 8, 4, 0] {
                    let nibble = (g >> shift) & 15;
                    if nibble != 0 || started || shift == 0 {
                        out.push(HEX[usize::from(nibble)]);
                        started = true;
                    }
                }
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01: (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Formats `10/Oct/2026:13:55:36 +0900`, once per second.
struct Clock {
    offset_s: i64,
    second: i64,
    text: [u8; 26],
}

impl Clock {
    fn new(offset_min: i16) -> Self {
        let mut text = *b"01/Jan/1970:00:00:00 +0000";
        let abs = i64::from(offset_min).abs();
        text[21] = if offset_min < 0 { b'-' } else { b'+' };
        put2(&mut text[22..24], abs / 60 % 100);
        put2(&mut text[24..26], abs % 60);
        Self {
            offset_s: i64::from(offset_min) * 60,
            second: i64::MIN,
            text,
        }
    }

    fn text(&mut self, ms: i64) -> &[u8; 26] {
        let second = ms.div_euclid(1000);
        if second != self.second {
            self.second = second;
            let local = second + self.offset_s;
            let (y, m, d) = civil_from_days(local.div_euclid(86_400));
            let sod = local.rem_euclid(86_400);
            let t = &mut self.text;
            put2(&mut t[0..2], d);
            t[3..6].copy_from_slice(MONTHS[(m - 1) as usize]);
            put2(&mut t[7..9], y.rem_euclid(10_000) / 100);
            put2(&mut t[9..11], y.rem_euclid(100));
            put2(&mut t[12..14], sod / 3_600);
            put2(&mut t[15..17], sod / 60 % 60);
            put2(&mut t[18..20], sod % 60);
        }
        &self.text
    }
}

fn put2(out: &mut [u8], n: i64) {
    out[0] = b'0' + (n / 10 % 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

// ---------------------------------------------------------------------------------------------
// Output: one sink per server, holding back lines until their response "completes".

struct Held {
    due: i64,
    seq: u64,
    line: Vec<u8>,
    malformed: bool,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

struct Sink<W: Write> {
    out: BufWriter<W>,
    stats: SynthStats,
    held: BinaryHeap<Held>,
    seq: u64,
    spare: Vec<Vec<u8>>,
}

impl<W: Write> Sink<W> {
    fn new(out: W) -> Self {
        Self {
            out: BufWriter::with_capacity(64 * 1024, out),
            stats: SynthStats::default(),
            held: BinaryHeap::new(),
            seq: 0,
            spare: Vec::new(),
        }
    }

    /// Writes the lines a log of `format` starts with (W3C's `#Fields:`), counted in bytes
    /// but not in lines.
    fn header(&mut self, format: Format) -> io::Result<()> {
        let header = layout::header(format);
        self.out.write_all(header)?;
        self.stats.bytes += header.len() as u64;
        Ok(())
    }

    /// Takes a line stamped `at` that the server writes `delay` ms later.
    fn push(&mut self, at: i64, delay: i64, line: &[u8], malformed: bool) -> io::Result<()> {
        // Every later line is written at `at` or after: release what is due by then.
        while self.held.peek().is_some_and(|h| h.due <= at) {
            let held = self.held.pop().expect("peeked");
            self.emit(&held.line, held.malformed)?;
            self.spare.push(held.line);
        }
        if delay == 0 {
            return self.emit(line, malformed);
        }
        let mut copy = self.spare.pop().unwrap_or_default();
        copy.clear();
        copy.extend_from_slice(line);
        self.seq += 1;
        self.held.push(Held {
            due: at + delay,
            seq: self.seq,
            line: copy,
            malformed,
        });
        Ok(())
    }

    fn emit(&mut self, line: &[u8], malformed: bool) -> io::Result<()> {
        self.out.write_all(line)?;
        self.stats.lines += 1;
        self.stats.bytes += line.len() as u64;
        self.stats.malformed += u64::from(malformed);
        Ok(())
    }

    fn finish(mut self) -> io::Result<SynthStats> {
        while let Some(held) = self.held.pop() {
            self.emit(&held.line, held.malformed)?;
        }
        self.out.flush()?;
        Ok(self.stats)
    }
}

/// How long after its timestamp a response completes: mostly fast, sometimes up to `max`.
fn response_delay(r: &mut Rng, max: i64) -> i64 {
    let u = r.unit();
    ((max as f64) * u * u * u * u).round() as i64
}

fn run<W: Write>(opts: &SynthOptions, sinks: &mut [Sink<W>]) -> io::Result<()> {
    let mut sim = Sim::new(opts);
    let mut route = Rng::new(opts.seed ^ ROUTE_SALT);
    let servers = sinks.len() as u64;
    let disorder = opts.disorder_ms.max(0);
    while let Some((at, malformed)) = sim.next_line() {
        let server = if servers > 1 {
            route.below(servers) as usize
        } else {
            0
        };
        let delay = if disorder > 0 {
            response_delay(&mut route, disorder)
        } else {
            0
        };
        sinks[server].push(at, delay, &sim.line, malformed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of a well-formed combined line.
    #[derive(Debug)]
    struct Parsed<'a> {
        ip: &'a str,
        utc_s: i64,
        method: &'a str,
        target: &'a str,
        status: u16,
        referrer: &'a str,
        ua: &'a str,
    }

    /// A strict combined-format parser, to check the output against.
    fn parse(line: &[u8]) -> Option<Parsed<'_>> {
        let line = std::str::from_utf8(line).ok()?;
        let (ip, rest) = line.split_once(' ')?;
        ip.parse::<std::net::IpAddr>().ok()?;
        let rest = rest.strip_prefix("- - [")?;
        let (ts, rest) = rest.split_once("] \"")?;
        let utc_s = parse_ts(ts)?;
        let (request, rest) = rest.split_once("\" ")?;
        let mut parts = request.split(' ');
        let (method, target, proto) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !proto.starts_with("HTTP/") || !target.starts_with('/') {
            return None;
        }
        let (status, rest) = rest.split_once(' ')?;
        let (bytes, rest) = rest.split_once(' ')?;
        if bytes != "-" {
            bytes.parse::<u64>().ok()?;
        }
        let (referrer, ua) = rest.strip_prefix('"')?.split_once("\" \"")?;
        let ua = ua.strip_suffix('"')?;
        // A quote inside the user agent must be escaped.
        if ua.replace("\\\"", "").contains('"') || ua.ends_with('\\') {
            return None;
        }
        Some(Parsed {
            ip,
            utc_s,
            method,
            target,
            status: status.parse().ok()?,
            referrer,
            ua,
        })
    }

    /// `10/Oct/2026:13:55:36 +0900` to seconds since the epoch.
    fn parse_ts(ts: &str) -> Option<i64> {
        let b = ts.as_bytes();
        if b.len() != 26 {
            return None;
        }
        let num = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
        let month = MONTHS.iter().position(|m| &b[3..6] == *m)? as i64 + 1;
        let days = days_from_civil(num(7..11)?, month, num(0..2)?);
        let local = days * 86_400 + num(12..14)? * 3_600 + num(15..17)? * 60 + num(18..20)?;
        let offset = (num(22..24)? * 60 + num(24..26)?) * 60;
        match b[21] {
            b'+' => Some(local - offset),
            b'-' => Some(local + offset),
            _ => None,
        }
    }

    fn lines(bytes: &[u8]) -> Vec<&[u8]> {
        let mut v: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
        assert_eq!(v.pop(), Some(&b""[..]), "the output ends with a newline");
        v
    }

    fn opts(lines: u64, seed: u64) -> SynthOptions {
        SynthOptions {
            lines,
            seed,
            ..SynthOptions::default()
        }
    }

    fn single(o: &SynthOptions) -> (Vec<u8>, SynthStats) {
        let mut out = Vec::new();
        let stats = generate(o, &mut out).unwrap();
        (out, stats)
    }

    fn split(o: &SynthOptions, servers: usize) -> (Vec<Vec<u8>>, Vec<SynthStats>) {
        let mut outs = vec![Vec::new(); servers];
        let stats = generate_split(o, &mut outs).unwrap();
        (outs, stats)
    }

    fn is_bot(ua: &str) -> bool {
        BOTS.iter().any(|b| b.ua == ua)
    }

    #[test]
    fn same_seed_same_bytes() {
        let (a, _) = single(&opts(5_000, 11));
        let (b, _) = single(&opts(5_000, 11));
        let (c, _) = single(&opts(5_000, 12));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let o = SynthOptions {
            disorder_ms: 3_000,
            ..opts(5_000, 11)
        };
        assert_eq!(split(&o, 2), split(&o, 2));
    }

    #[test]
    fn writes_exactly_the_lines_asked_for() {
        for n in [0, 1, 2, 7, 999, 20_000] {
            let (out, stats) = single(&opts(n, 3));
            assert_eq!(lines(&out).len() as u64, n);
            assert_eq!(stats.lines, n);
            assert_eq!(stats.bytes, out.len() as u64);
            let (outs, stats) = split(&opts(n, 3), 4);
            let total: usize = outs.iter().map(|o| lines(o).len()).sum();
            assert_eq!(total as u64, n);
            assert_eq!(stats.iter().map(|s| s.lines).sum::<u64>(), n);
        }
        let mut none: [Vec<u8>; 0] = [];
        assert!(generate_split(&opts(0, 3), &mut none).unwrap().is_empty());
        assert!(generate_split(&opts(1, 3), &mut none).is_err());
    }

    #[test]
    fn split_writes_the_same_lines() {
        for (disorder_ms, servers) in [(0, 3), (4_000, 3), (250, 1)] {
            let o = SynthOptions {
                disorder_ms,
                malformed_per_mille: 5,
                ..opts(30_000, 21)
            };
            let (whole, stats) = single(&o);
            let (outs, split_stats) = split(&o, servers);
            assert!(outs.iter().all(|o| !o.is_empty()));

            let mut a = lines(&whole);
            let mut b: Vec<&[u8]> = outs.iter().flat_map(|o| lines(o)).collect();
            a.sort_unstable();
            b.sort_unstable();
            assert!(a == b, "the split log differs from the single one");

            let sum = split_stats
                .iter()
                .fold(SynthStats::default(), |s, t| SynthStats {
                    lines: s.lines + t.lines,
                    bytes: s.bytes + t.bytes,
                    malformed: s.malformed + t.malformed,
                });
            assert_eq!(sum, stats);
            for (out, st) in outs.iter().zip(&split_stats) {
                assert_eq!(st.bytes, out.len() as u64);
            }
        }
    }

    #[test]
    fn lines_are_in_time_order() {
        let o = SynthOptions {
            malformed_per_mille: 0,
            ..opts(50_000, 5)
        };
        let (out, _) = single(&o);
        let times: Vec<i64> = lines(&out)
            .iter()
            .map(|l| parse(l).expect("well formed").utc_s)
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(times[0], o.start_ms / 1000);

        // With disorder, a line never follows one stamped more than disorder_ms later.
        let disorder_ms = 5_000;
        let o = SynthOptions { disorder_ms, ..o };
        let mut late = 0;
        for out in split(&o, 2).0 {
            let mut latest = o.start_ms / 1000;
            for line in lines(&out) {
                let t = parse(line).unwrap().utc_s;
                assert!(latest - t <= disorder_ms / 1000, "{t} after {latest}");
                late += usize::from(t < latest);
                latest = latest.max(t);
            }
        }
        assert!(late > 100, "only {late} lines out of order");
    }

    #[test]
    fn malformed_lines_are_malformed_and_counted() {
        let o = SynthOptions {
            malformed_per_mille: 10,
            ..opts(100_000, 9)
        };
        let (out, stats) = single(&o);
        assert!(
            (800..=1_200).contains(&stats.malformed),
            "{}",
            stats.malformed
        );
        let all = lines(&out);
        let bad = all.iter().filter(|l| parse(l).is_none()).count() as u64;
        assert_eq!(bad, stats.malformed);
        assert!(all.iter().all(|l| !l.iter().all(u8::is_ascii_whitespace)));
        assert!(all.iter().any(|l| std::str::from_utf8(l).is_err()));
        assert!(all.iter().any(|l| l.starts_with(b"\x16\x03\x01")));

        let (out, stats) = single(&SynthOptions {
            malformed_per_mille: 0,
            ..opts(20_000, 9)
        });
        assert_eq!(stats.malformed, 0);
        assert!(lines(&out).iter().all(|l| parse(l).is_some()));

        let default = single(&opts(100_000, 4)).1.malformed;
        assert!((50..=160).contains(&default), "{default}");
    }

    #[test]
    fn traffic_looks_like_a_real_site() {
        let (out, stats) = single(&opts(200_000, 7));
        let all = lines(&out);
        let hits: Vec<Parsed> = all.iter().filter_map(|l| parse(l)).collect();
        let n = hits.len() as f64;
        let share = |f: &dyn Fn(&Parsed) -> bool| hits.iter().filter(|h| f(h)).count() as f64 / n;

        let avg = stats.bytes as f64 / stats.lines as f64;
        assert!(
            (200.0..=260.0).contains(&avg),
            "average line {avg:.1} bytes"
        );

        let bots = share(&|h| is_bot(h.ua));
        assert!((0.12..=0.19).contains(&bots), "bot share {bots:.3}");
        let bot_assets = hits.iter().filter(|h| is_bot(h.ua)).filter(|h| {
            [".css", ".js", ".png", ".webp", ".svg", ".woff2"]
                .iter()
                .any(|ext| h.target.ends_with(ext))
        });
        assert_eq!(bot_assets.count(), 0);

        let mut visitors: Vec<(&str, &str)> = hits
            .iter()
            .filter(|h| !is_bot(h.ua) && h.method == "GET" && h.status == 200)
            .map(|h| (h.ip, h.ua))
            .collect();
        visitors.sort_unstable();
        visitors.dedup();
        let per_visitor = n / visitors.len() as f64;
        assert!(
            (25.0..=45.0).contains(&per_visitor),
            "{per_visitor:.1} lines per visitor"
        );
        let v6 = visitors.iter().filter(|v| v.0.contains(':')).count() as f64;
        assert!((0.05..0.15).contains(&(v6 / visitors.len() as f64)));
        let shared_ips = visitors.windows(2).filter(|w| w[0].0 == w[1].0).count();
        assert!(
            shared_ips > 10,
            "{shared_ips} addresses shared by two browsers"
        );

        let s404 = share(&|h| h.status == 404);
        let s5xx = share(&|h| h.status >= 500);
        let s301 = share(&|h| h.status == 301);
        assert!((0.01..0.03).contains(&s404), "404 share {s404:.4}");
        assert!((0.001..0.006).contains(&s5xx), "5xx share {s5xx:.4}");
        assert!((0.002..0.02).contains(&s301), "301 share {s301:.4}");
        assert!(
            hits.iter()
                .any(|h| h.status == 404 && h.referrer.starts_with(SITE))
        );
        assert!(
            hits.iter()
                .any(|h| h.status == 404 && h.referrer.starts_with("https://news."))
        );
        assert!(hits.iter().any(|h| h.status == 304 && !is_bot(h.ua)));

        for needle in [
            "\"https://www.google.com/\"",
            "https://www.bing.com/search?q=",
            "query=%EC%9C%84%EC%A0%AF",
            "https://yandex.ru/search/?text=%D0%",
            "https://www.baidu.com/s?wd=%E",
            "https://chatgpt.com/",
            "https://t.co/",
            "https://l.facebook.com/",
            "https://mail.google.com/",
            "utm_source=newsletter&utm_medium=email&utm_campaign=fall_sale",
            "?gclid=",
            "fbclid=",
            "?msclkid=",
            "\"GET /collect?v=2&",
            "\"GET /matomo.php?idsite=1&rec=1&res=",
            "\"GET /js/awstats_misc_tracker.js?",
            "\"POST /cart HTTP/",
            "\"GET /checkout/thank-you?order=",
            "\"HEAD / HTTP/1.1\"",
            "\"GET /robots.txt ",
            " 304 - ",
            "\"-\" \"-\"\n",
            "\\\"Kiosk/3.2\\\"\"",
            "HTTP/2.0",
        ] {
            let found = out.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(found, "no {needle:?} in the log");
        }
        for bot in [
            "Googlebot",
            "bingbot",
            "GPTBot",
            "ClaudeBot",
            "PerplexityBot",
            "Bytespider",
        ] {
            assert!(hits.iter().any(|h| h.ua.contains(bot)), "no {bot}");
        }
    }

    #[test]
    fn memory_follows_concurrent_visits() {
        let mut sim = Sim::new(&opts(400_000, 1));
        let mut largest = 0;
        while sim.next_line().is_some() {
            largest = largest.max(sim.queue.len());
        }
        // Mostly visitors who will come back; bounded by the arrivals of a few days.
        assert!(largest < 20_000, "{largest} events queued");
    }

    #[test]
    fn logarithm_and_exponential_are_accurate() {
        for x in [
            1e-16, 0.001, 0.5, 0.999_999, 1.0, 1.5, 2.0, 35_000.0, 2.6e9, 1e300,
        ] {
            let (ours, std) = (ln(x), x.ln());
            assert!(
                (ours - std).abs() <= 1e-14 * std.abs().max(1.0),
                "ln {x}: {ours} {std}"
            );
        }
        for x in [-30.0, -1.0, -1e-9, 0.0, 0.3, 1.0, 10.4, 21.7, 300.0] {
            let (ours, std) = (exp(x), x.exp());
            assert!((ours - std).abs() <= 1e-14 * std, "exp {x}: {ours} {std}");
        }
    }

    #[test]
    fn timestamps_format_as_in_apache() {
        let mut clock = Clock::new(540);
        let ms = days_from_civil(2026, 10, 10) * DAY_MS + (4 * 3_600 + 55 * 60 + 36) * 1_000 + 999;
        assert_eq!(clock.text(ms), b"10/Oct/2026:13:55:36 +0900");
        let mut clock = Clock::new(-330);
        assert_eq!(clock.text(0), b"31/Dec/1969:18:30:00 -0530");
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(SynthOptions::default().start_ms, 1_791_590_400_000);
    }
}
