//! Known-answer tests: small logs in `fixtures/known/` (and one written byte by byte below)
//! whose report values are counted by hand from the README's Definitions and Reports
//! sections. `sessions.log` covers visitor keys, session cutting at the timeout boundary,
//! page views versus assets, beacons, other methods and statuses, entry and exit pages,
//! referrers and time-zone conversion; `bots.log` covers bot detection and where bots are
//! (and are not) counted; `errors.log` covers the errors table; the malformed log covers line
//! accounting, malformed samples and parser edge cases. Every timestamp below is UTC.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::util::*;

const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0";
const EDGE_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                        (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92";

const SITE: [&str; 2] = ["--site-domain", "mysite.test"];

/// Pins DuckDB's time zone to UTC and defines `utc(ts)`, which prints a timestamp as
/// `YYYY-MM-DD HH:MM:SS` in UTC.
const PRELUDE: &str =
    "SET TimeZone = 'UTC'; CREATE OR REPLACE MACRO utc(t) AS strftime(t, '%Y-%m-%d %H:%M:%S');";

const SUMMARY_COUNTS: &str = "select lines, blank_lines, malformed, hits, human_hits, bot_hits, \
     bytes, bot_bytes, page_views, visitors, sessions, bounces, engaged_sessions, \
     utc(first_ts), utc(last_ts), inputs from '{out}/summary.parquet'";

const SESSION_ROWS: &str = r#"select ip, utc(start), utc("end"), round(duration_s, 4),
    page_views, bounce, engaged, entry_page, exit_page, referrer, referrer_host,
    coalesce(referrer_internal, false)
    from '{out}/sessions.parquet' order by ip, start"#;

/// A finished run: the output directory lives as long as this value.
struct Run {
    dir: TempDir,
    out: PathBuf,
}

impl Run {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        Run { dir, out }
    }

    fn analyze(self, inputs: &[&Path], extra: &[&str]) -> Self {
        analyze(inputs, &self.out, extra);
        self
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        duckdb_rows(&self.out, &format!("{PRELUDE} {sql}"))
    }

    fn value(&self, sql: &str) -> String {
        duckdb_value(&self.out, &format!("{PRELUDE} {sql}"))
    }

    #[track_caller]
    fn assert_rows(&self, sql: &str, expected: &[&[&str]]) {
        assert_eq!(self.rows(sql), expected, "query: {sql}");
    }
}

fn known(name: &str) -> PathBuf {
    fixture("known").join(name)
}

fn file_len(path: &Path) -> String {
    std::fs::metadata(path)
        .expect("fixture exists")
        .len()
        .to_string()
}

fn run_known(name: &str, extra: &[&str]) -> Run {
    Run::new().analyze(&[&known(name)], extra)
}

// ---------------------------------------------------------------------------------------------
// sessions.log
//
// Six human keys (no bots), 31 lines. In UTC:
//   alice 203.0.113.10 + Firefox/Windows:
//     09:00:00 GET / 200 (ref google)        page view
//     09:00:01 css, 09:00:02 png              assets
//     09:00:03 GET /collect?... 204           beacon
//     09:10:00 GET /pricing 200               page view (written 18:10:00 +0900)
//     09:40:00 GET /features 200              page view, exactly 30:00 after /pricing: same session
//     10:10:01 GET /blog/post-1 200           page view 30:01 after /features: new session
//                                             (written 15:40:01 +0530, ref news.example.org/article)
//     10:10:30 js                             asset
//     10:15:00 GET /pricing 304               page view (304)
//     10:16:00 POST /signup 302               not a page view
//     10:16:01 GET /welcome 200               page view
//   bob 203.0.113.10 + Chrome/Mac (same IP as alice, other UA: another visitor):
//     09:05:00 GET /pricing?plan=pro 200      page view, path /pricing (ref news.example.org/article)
//     09:05:02 css; 09:05:30 HEAD /features; 09:06:00 GET /old-page 301   none are page views
//     09:06:01 GET /features 200              page view
//     11:00:00 GET http://www.mysite.test/docs 200 (written 06:00:00 -0500, no referrer)
//                                             page view of /docs, new session
//   carol 198.51.100.7 + Firefox/Windows (alice's UA on another IP: another visitor):
//     09:20:00 GET /blog/post-1 200 (ref google)   page view
//     09:20:05 /img/Hero.JPG (asset, upper case)   09:20:08 GET /missing 404 (internal referrer)
//     12:00:00 GET / 200 (ref google)              page view, new session (listed first in the file)
//     12:01:01 GET /pricing 200                    page view (written 07:01:01 -0500)
//   dave 192.0.2.44 + Safari/iPhone:
//     08:55:00 GET /features 200 (written 17:55:00 +0900, ref https://blog.mysite.test/...: internal)
//     09:25:00 GET /pricing 200                    exactly 30:00 later: same session
//     09:55:01 GET / 200 (ref news.example.org/other)   30:01 later: new session
//   erin 192.0.2.55 + Firefox/Linux:
//     09:30:00 css; 09:30:01 POST /contact 200; 09:30:02 GET /missing 404 (no referrer)
//     09:45:00 GET /about 200 (ref https://notmysite.test/links: not a subdomain, external)
//   frank 192.0.2.99 + Edge: 10:30:00 HEAD / (written 23:30:00 -1100 the day before),
//     10:30:01 png. No page view: a human key but not a visitor.
//
// Sessions (9):
//   A1 alice 09:00:00-09:40:00 2400 s, 3 pv  / -> /features         ref google
//   A2 alice 10:10:01-10:16:01  360 s, 3 pv  /blog/post-1 -> /welcome  ref news/article
//   B1 bob   09:05:00-09:06:01   61 s, 2 pv  /pricing -> /features  ref news/article
//   B2 bob   11:00:00             0 s, 1 pv  /docs (bounce)         no referrer
//   C1 carol 09:20:00             0 s, 1 pv  /blog/post-1 (bounce)  ref google
//   C2 carol 12:00:00-12:01:01   61 s, 2 pv  / -> /pricing          ref google
//   D1 dave  08:55:00-09:25:00 1800 s, 2 pv  /features -> /pricing  ref blog.mysite.test (internal)
//   D2 dave  09:55:01             0 s, 1 pv  / (bounce)             ref news/other
//   E1 erin  09:45:00             0 s, 1 pv  /about (bounce)        ref notmysite.test
// ---------------------------------------------------------------------------------------------

const SESSIONS_LOG_SESSIONS: &[&[&str]] = &[
    &[
        "192.0.2.44",
        "2024-03-10 08:55:00",
        "2024-03-10 09:25:00",
        "1800.0",
        "2",
        "False",
        "True",
        "/features",
        "/pricing",
        "https://blog.mysite.test/2024/launch",
        "blog.mysite.test",
        "True",
    ],
    &[
        "192.0.2.44",
        "2024-03-10 09:55:01",
        "2024-03-10 09:55:01",
        "0.0",
        "1",
        "True",
        "False",
        "/",
        "/",
        "https://news.example.org/other",
        "news.example.org",
        "False",
    ],
    &[
        "192.0.2.55",
        "2024-03-10 09:45:00",
        "2024-03-10 09:45:00",
        "0.0",
        "1",
        "True",
        "False",
        "/about",
        "/about",
        "https://notmysite.test/links",
        "notmysite.test",
        "False",
    ],
    &[
        "198.51.100.7",
        "2024-03-10 09:20:00",
        "2024-03-10 09:20:00",
        "0.0",
        "1",
        "True",
        "False",
        "/blog/post-1",
        "/blog/post-1",
        "https://www.google.com/",
        "www.google.com",
        "False",
    ],
    &[
        "198.51.100.7",
        "2024-03-10 12:00:00",
        "2024-03-10 12:01:01",
        "61.0",
        "2",
        "False",
        "True",
        "/",
        "/pricing",
        "https://www.google.com/",
        "www.google.com",
        "False",
    ],
    &[
        "203.0.113.10",
        "2024-03-10 09:00:00",
        "2024-03-10 09:40:00",
        "2400.0",
        "3",
        "False",
        "True",
        "/",
        "/features",
        "https://www.google.com/",
        "www.google.com",
        "False",
    ],
    &[
        "203.0.113.10",
        "2024-03-10 09:05:00",
        "2024-03-10 09:06:01",
        "61.0",
        "2",
        "False",
        "True",
        "/pricing",
        "/features",
        "https://news.example.org/article",
        "news.example.org",
        "False",
    ],
    &[
        "203.0.113.10",
        "2024-03-10 10:10:01",
        "2024-03-10 10:16:01",
        "360.0",
        "3",
        "False",
        "True",
        "/blog/post-1",
        "/welcome",
        "https://news.example.org/article",
        "news.example.org",
        "False",
    ],
    &[
        "203.0.113.10",
        "2024-03-10 11:00:00",
        "2024-03-10 11:00:00",
        "0.0",
        "1",
        "True",
        "False",
        "/docs",
        "/docs",
        "NULL",
        "NULL",
        "False",
    ],
];

#[test]
fn sessions_log_summary() {
    let path = known("sessions.log");
    let run = run_known("sessions.log", &SITE);

    // 31 lines, all parsed, all human. Bytes per visitor: alice 25000, bob 11750,
    // carol 23300, dave 12000, erin 3800, frank 2000 = 77850.
    // Page views: alice 6, bob 3, carol 3, dave 3, erin 1 = 16; visitors: the five keys
    // with a page view (frank has none). Sessions 9, bounces B2 C1 D2 E1 = 4, engaged the
    // other 5 (each has 2+ page views). first_ts is dave's 17:55:00 +0900 = 08:55:00;
    // last_ts is carol's 07:01:01 -0500 = 12:01:01.
    run.assert_rows(
        SUMMARY_COUNTS,
        &[&[
            "31",
            "0",
            "0",
            "31",
            "31",
            "0",
            "77850",
            "0",
            "16",
            "5",
            "9",
            "4",
            "5",
            "2024-03-10 08:55:00",
            "2024-03-10 12:01:01",
            "1",
        ]],
    );

    // bounce_rate 4/9, engagement_rate 5/9, pages_per_session 16/9; durations
    // 2400 + 360 + 61 + 0 + 0 + 61 + 1800 + 0 + 0 = 4682 s over 9 sessions = 520.2222.
    run.assert_rows(
        "select round(bounce_rate, 4), round(engagement_rate, 4), round(avg_session_s, 4), \
         round(pages_per_session, 4), input_bytes from '{out}/summary.parquet'",
        &[&["0.4444", "0.5556", "520.2222", "1.7778", &file_len(&path)]],
    );

    // Sorted durations 0 0 0 0 61 61 360 1800 2400: the median (5th of 9) is 61 s.
    assert_eq!(
        run.value("select abs(median_session_s - 61) <= 0.061 from '{out}/summary.parquet'"),
        "True"
    );
}

#[test]
fn sessions_log_sessions_table() {
    let run = run_known("sessions.log", &SITE);

    // See the table of nine sessions above. The 30:00 gaps (alice /pricing -> /features,
    // dave /features -> /pricing) stay in the session; the 30:01 gaps cut. D1's referrer is
    // a subdomain of mysite.test, so it is internal.
    run.assert_rows(SESSION_ROWS, SESSIONS_LOG_SESSIONS);

    // Alice and bob share 203.0.113.10 but are two visitor keys.
    run.assert_rows(
        "select ip, count(distinct visitor) from '{out}/sessions.parquet' group by ip order by ip",
        &[
            &["192.0.2.44", "1"],
            &["192.0.2.55", "1"],
            &["198.51.100.7", "1"],
            &["203.0.113.10", "2"],
        ],
    );

    // session_id is the visitor as 16 hex digits, '-', the start in ms since the epoch.
    assert_eq!(
        run.value(
            "select count(*) from '{out}/sessions.parquet' \
             where lower(session_id) <> printf('%016x', visitor) || '-' || epoch_ms(start)"
        ),
        "0"
    );

    // Every session's visitor is a row of `visitors` with the same IP.
    assert_eq!(
        run.value(
            "select count(*) from '{out}/sessions.parquet' s \
             left join '{out}/visitors.parquet' v using (visitor) \
             where v.ip is null or v.ip <> s.ip"
        ),
        "0"
    );

    // Source, medium and channel follow from each entry referrer (see Definitions): no
    // referrer or an internal one (blog.mysite.test) is (direct)/(none) → Direct; Google
    // without a query is google/organic with the keyword (not provided) → Organic Search;
    // any other external site is host/referral → Referral. No campaign tags, no goals.
    assert_eq!(
        run.rows(
            "select ip, channel, source, medium, coalesce(keyword, '-'), \
             coalesce(search_engine, '-'), coalesce(campaign, '-'), converted, value \
             from '{out}/sessions.parquet' order by ip, start"
        ),
        [
            [
                "192.0.2.44",
                "Direct",
                "(direct)",
                "(none)",
                "-",
                "-",
                "-",
                "False",
                "0.0"
            ],
            [
                "192.0.2.44",
                "Referral",
                "news.example.org",
                "referral",
                "-",
                "-",
                "-",
                "False",
                "0.0"
            ],
            [
                "192.0.2.55",
                "Referral",
                "notmysite.test",
                "referral",
                "-",
                "-",
                "-",
                "False",
                "0.0"
            ],
            [
                "198.51.100.7",
                "Organic Search",
                "google",
                "organic",
                "(not provided)",
                "Google",
                "-",
                "False",
                "0.0"
            ],
            [
                "198.51.100.7",
                "Organic Search",
                "google",
                "organic",
                "(not provided)",
                "Google",
                "-",
                "False",
                "0.0"
            ],
            [
                "203.0.113.10",
                "Organic Search",
                "google",
                "organic",
                "(not provided)",
                "Google",
                "-",
                "False",
                "0.0"
            ],
            [
                "203.0.113.10",
                "Referral",
                "news.example.org",
                "referral",
                "-",
                "-",
                "-",
                "False",
                "0.0"
            ],
            [
                "203.0.113.10",
                "Referral",
                "news.example.org",
                "referral",
                "-",
                "-",
                "-",
                "False",
                "0.0"
            ],
            [
                "203.0.113.10",
                "Direct",
                "(direct)",
                "(none)",
                "-",
                "-",
                "-",
                "False",
                "0.0"
            ],
        ]
        .map(|row| row.map(str::to_owned).to_vec())
    );
    // One beacon (/collect?…&sr=1920x1080, no colour depth), three seconds into the
    // Firefox visitor's 09:00 session: that session, and only it, has screen data.
    run.assert_rows(
        "select strftime(start, '%H:%M:%S'), entry_page, resolution, color_depth \
         from '{out}/sessions.parquet' where resolution is not null or color_depth is not null",
        &[&["09:00:00", "/", "1920x1080", "NULL"]],
    );
}

#[test]
fn sessions_log_visitors() {
    let run = run_known("sessions.log", &SITE);

    // One row per key with a page view; frank (HEAD / and a png only) is absent.
    // Hits include assets, beacons, HEAD, POST, 301 and 404:
    //   dave  3 hits 3000+4000+5000 = 12000, first 08:55:00, last 09:55:01
    //   erin  4 hits 1000+500+300+2000 = 3800, 09:30:00 .. 09:45:00
    //   carol 5 hits 6000+8000+300+5000+4000 = 23300, 09:20:00 .. 12:01:01
    //   bob   6 hits 4000+1000+0+250+3000+3500 = 11750, 09:05:00 .. 11:00:00
    //   alice 11 hits 5000+1000+2000+0+4000+3000+6000+1500+0+0+2500 = 25000, 09:00:00 .. 10:16:01
    // (Chrome's "(Macintosh" sorts before Firefox's "(Windows".)
    run.assert_rows(
        "select ip, user_agent, device, sessions, page_views, hits, bytes, utc(first_seen), \
         utc(last_seen) from '{out}/visitors.parquet' order by ip, user_agent",
        &[
            &[
                "192.0.2.44",
                SAFARI_IPHONE,
                "smartphone",
                "2",
                "3",
                "3",
                "12000",
                "2024-03-10 08:55:00",
                "2024-03-10 09:55:01",
            ],
            &[
                "192.0.2.55",
                FIREFOX_LINUX,
                "pc",
                "1",
                "1",
                "4",
                "3800",
                "2024-03-10 09:30:00",
                "2024-03-10 09:45:00",
            ],
            &[
                "198.51.100.7",
                FIREFOX_WIN,
                "pc",
                "2",
                "3",
                "5",
                "23300",
                "2024-03-10 09:20:00",
                "2024-03-10 12:01:01",
            ],
            &[
                "203.0.113.10",
                CHROME_MAC,
                "pc",
                "2",
                "3",
                "6",
                "11750",
                "2024-03-10 09:05:00",
                "2024-03-10 11:00:00",
            ],
            &[
                "203.0.113.10",
                FIREFOX_WIN,
                "pc",
                "2",
                "6",
                "11",
                "25000",
                "2024-03-10 09:00:00",
                "2024-03-10 10:16:01",
            ],
        ],
    );
}

#[test]
fn sessions_log_pages() {
    let run = run_known("sessions.log", &SITE);

    // Page paths only: the css/png/js/JPG assets and the /collect beacon have no row.
    //   /          hits a1 c4 d3 + frank's HEAD = 4; pv 3 (alice carol dave); entries A1 C2 D2;
    //              exits D2; bounces D2
    //   /about     erin's one page view: entry, exit and bounce of E1
    //   /blog/post-1  pv alice (A2 entry) and carol (C1 entry, exit, bounce)
    //   /contact   erin's POST: a hit, no page view
    //   /docs      bob's absolute-URI GET: B2 entry, exit, bounce
    //   /features  hits a6, bob's HEAD, b5, d1 = 4; pv 3; entry D1; exits A1 B1
    //   /missing   carol's and erin's 404s: 2 hits, no page views
    //   /old-page  bob's 301: a hit, no page view
    //   /pricing   a5, alice's 304, bob's ?plan=pro, c5, d2 = 5 hits and 5 pv by 4 visitors;
    //              entry B1; exits C2 D1
    //   /signup    alice's POST 302: a hit, no page view
    //   /welcome   alice's page view, exit of A2
    // exit_rate = exits / page_views, bounce_rate = bounces / entries, null without denominator.
    run.assert_rows(
        "select path, hits, page_views, visitors, entries, exits, bounces, round(exit_rate, 4), \
         round(bounce_rate, 4) from '{out}/pages.parquet' order by path",
        &[
            &["/", "4", "3", "3", "3", "1", "1", "0.3333", "0.3333"],
            &["/about", "1", "1", "1", "1", "1", "1", "1.0", "1.0"],
            &["/blog/post-1", "2", "2", "2", "2", "1", "1", "0.5", "0.5"],
            &["/contact", "1", "0", "0", "0", "0", "0", "NULL", "NULL"],
            &["/docs", "1", "1", "1", "1", "1", "1", "1.0", "1.0"],
            &["/features", "4", "3", "3", "1", "2", "0", "0.6667", "0.0"],
            &["/missing", "2", "0", "0", "0", "0", "0", "NULL", "NULL"],
            &["/old-page", "1", "0", "0", "0", "0", "0", "NULL", "NULL"],
            &["/pricing", "5", "5", "4", "1", "2", "0", "0.4", "0.0"],
            &["/signup", "1", "0", "0", "0", "0", "0", "NULL", "NULL"],
            &["/welcome", "1", "1", "1", "0", "1", "0", "1.0", "NULL"],
        ],
    );
}

#[test]
fn sessions_log_entry_and_exit_pages() {
    let run = run_known("sessions.log", &SITE);

    // Entries: / (A1 2400 s 3 pv, C2 61 s 2 pv, D2 bounce 0 s 1 pv) -> 3 sessions, 1 bounce,
    // 6 pv, mean 2461/3 s; /about (E1); /blog/post-1 (A2 360 s 3 pv, C1 bounce) -> mean 180 s;
    // /docs (B2); /features (D1 1800 s); /pricing (B1 61 s). share = sessions / 9.
    run.assert_rows(
        "select path, sessions, bounces, round(bounce_rate, 4), round(share, 4), page_views, \
         round(avg_session_s, 4) from '{out}/entry_pages.parquet' order by path",
        &[
            &["/", "3", "1", "0.3333", "0.3333", "6", "820.3333"],
            &["/about", "1", "1", "1.0", "0.1111", "1", "0.0"],
            &["/blog/post-1", "2", "1", "0.5", "0.2222", "4", "180.0"],
            &["/docs", "1", "1", "1.0", "0.1111", "1", "0.0"],
            &["/features", "1", "0", "0.0", "0.1111", "2", "1800.0"],
            &["/pricing", "1", "0", "0.0", "0.1111", "2", "61.0"],
        ],
    );

    // Exits: / (D2), /about (E1), /blog/post-1 (C1), /docs (B2), /features (A1 B1),
    // /pricing (C2 D1), /welcome (A2). page_views are all page views of the path
    // (/ 3, /about 1, /blog/post-1 2, /docs 1, /features 3, /pricing 5, /welcome 1);
    // exit_rate = sessions / page_views.
    run.assert_rows(
        "select path, sessions, round(share, 4), page_views, round(exit_rate, 4) \
         from '{out}/exit_pages.parquet' order by path",
        &[
            &["/", "1", "0.1111", "3", "0.3333"],
            &["/about", "1", "0.1111", "1", "1.0"],
            &["/blog/post-1", "1", "0.1111", "2", "0.5"],
            &["/docs", "1", "0.1111", "1", "1.0"],
            &["/features", "2", "0.2222", "3", "0.6667"],
            &["/pricing", "2", "0.2222", "5", "0.4"],
            &["/welcome", "1", "0.1111", "1", "1.0"],
        ],
    );
}

#[test]
fn sessions_log_referrers() {
    let run = run_known("sessions.log", &SITE);

    // Entry referrers: google -> A1 (alice, 3 pv), C1 (carol, bounce), C2 (carol, 2 pv);
    // news/article -> A2 (alice, 3 pv), B1 (bob, 2 pv); news/other -> D2 (dave, bounce);
    // notmysite.test/links -> E1 (erin, bounce). D1's blog.mysite.test referrer is internal
    // and B2 has none; internal referrers on non-entry hits never count.
    run.assert_rows(
        "select referrer, host, sessions, visitors, page_views, bounces, round(bounce_rate, 4) \
         from '{out}/referrers.parquet' order by referrer",
        &[
            &[
                "https://news.example.org/article",
                "news.example.org",
                "2",
                "2",
                "5",
                "0",
                "0.0",
            ],
            &[
                "https://news.example.org/other",
                "news.example.org",
                "1",
                "1",
                "1",
                "1",
                "1.0",
            ],
            &[
                "https://notmysite.test/links",
                "notmysite.test",
                "1",
                "1",
                "1",
                "1",
                "1.0",
            ],
            &[
                "https://www.google.com/",
                "www.google.com",
                "3",
                "2",
                "6",
                "1",
                "0.3333",
            ],
        ],
    );

    // By host: news.example.org = A2 + B1 + D2 (alice, bob, dave; 3+2+1 pv; D2 bounces;
    // two distinct URLs); www.google.com = A1 + C1 + C2 (alice, carol; 3+1+2 pv).
    run.assert_rows(
        "select host, sessions, visitors, page_views, bounces, round(bounce_rate, 4), referrers \
         from '{out}/referring_sites.parquet' order by host",
        &[
            &["news.example.org", "3", "3", "6", "1", "0.3333", "2"],
            &["notmysite.test", "1", "1", "1", "1", "1.0", "1"],
            &["www.google.com", "3", "2", "6", "1", "0.3333", "1"],
        ],
    );
}

#[test]
fn sessions_log_status_codes_and_errors() {
    let run = run_known("sessions.log", &SITE);

    // 200: 25 lines (alice 8, bob 5, carol 4, dave 3, erin 3, frank 2), bytes
    // 25000 + 11500 + 23000 + 12000 + 3500 + 2000 = 77000, six distinct keys.
    // 204 alice's beacon; 301 bob's /old-page (250 bytes); 302 alice's POST; 304 alice's
    // /pricing; 404 carol's and erin's /missing (300 bytes each).
    run.assert_rows(
        "select status, class, hits, bytes, human_hits, bot_hits, visitors \
         from '{out}/status_codes.parquet' order by status",
        &[
            &["200", "2xx", "25", "77000", "25", "0", "6"],
            &["204", "2xx", "1", "0", "1", "0", "1"],
            &["301", "3xx", "1", "250", "1", "0", "1"],
            &["302", "3xx", "1", "0", "1", "0", "1"],
            &["304", "3xx", "1", "0", "1", "0", "1"],
            &["404", "4xx", "2", "600", "2", "0", "2"],
        ],
    );

    // The only errors are the two /missing 404s; carol's carried the internal referrer
    // https://www.mysite.test/blog/post-1, erin's none.
    run.assert_rows(
        "select path, status, hits, visitors, referred_hits, top_referrer, top_referrer_hits, \
         top_referrer_internal from '{out}/errors.parquet' order by path, status",
        &[&[
            "/missing",
            "404",
            "2",
            "2",
            "1",
            "https://www.mysite.test/blog/post-1",
            "1",
            "True",
        ]],
    );

    // No bots in this log.
    assert_eq!(
        run.value("select count(*) from '{out}/robots.parquet'"),
        "0"
    );
}

#[test]
fn sessions_log_session_rules() {
    let path = known("sessions.log");
    // Page-view gaps per visitor (UTC): alice 10m, 30m, 30m01s, 4m59s, 61s; bob 61s,
    // 1h53m59s; carol 2h40m, 61s; dave 30m, 30m01s; erin a single page view.
    //   60 min (awstats or 1h): alice 1, bob 2, carol 2, dave 1, erin 1 = 7 sessions;
    //     bounces bob /docs, carol /blog/post-1, erin = 3.
    //   2h: as above but bob's 1h53m59s stays: 6 sessions, bounces carol and erin = 2.
    //   61s: only the 61 s gaps stay: alice 5, bob 2, carol 2, dave 3, erin 1 = 13
    //     sessions, of which 3 have two page views: 10 bounces.
    //   60s: every gap cuts: 16 sessions of one page view each.
    let cases: [(&[&str], &str, &str); 7] = [
        (&[], "9", "4"),
        (&["--sessions", "ga4"], "9", "4"),
        (&["--sessions", "awstats"], "7", "3"),
        (&["--session-timeout", "1h"], "7", "3"),
        (&["--session-timeout", "2h"], "6", "2"),
        (
            &["--sessions", "awstats", "--session-timeout", "61s"],
            "13",
            "10",
        ),
        (&["--session-timeout", "60s"], "16", "16"),
    ];
    for (flags, sessions, bounces) in cases {
        let mut extra = SITE.to_vec();
        extra.extend_from_slice(flags);
        let run = Run::new().analyze(&[&path], &extra);
        assert_eq!(
            run.rows("select sessions, bounces, page_views from '{out}/summary.parquet'"),
            [[sessions, bounces, "16"]],
            "flags {flags:?}"
        );
    }

    // Under awstats alice's six page views are one session 09:00:00-10:16:01 (4561 s)
    // and dave's three one session 08:55:00-09:55:01 (3601 s).
    let run = Run::new().analyze(&[&path], &[&SITE[..], &["--sessions", "awstats"]].concat());
    run.assert_rows(
        "select ip, utc(start), round(duration_s, 4), page_views, entry_page, exit_page \
         from '{out}/sessions.parquet' where page_views >= 3 order by ip",
        &[
            &[
                "192.0.2.44",
                "2024-03-10 08:55:00",
                "3601.0",
                "3",
                "/features",
                "/",
            ],
            &[
                "203.0.113.10",
                "2024-03-10 09:00:00",
                "4561.0",
                "6",
                "/",
                "/welcome",
            ],
        ],
    );
}

#[test]
fn sessions_do_not_depend_on_line_order_or_files() {
    // The lines of sessions.log reversed and dealt alternately into two files, read with
    // three threads: the same nine sessions as the original file.
    let text = std::fs::read_to_string(known("sessions.log")).expect("read fixture");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let (mut first, mut second) = (String::new(), String::new());
    for (i, line) in lines.iter().enumerate() {
        let part = if i % 2 == 0 { &mut first } else { &mut second };
        part.push_str(line);
        part.push('\n');
    }
    let run = Run::new();
    let a = write_file(run.dir.path(), "a.log", first.as_bytes());
    let b = write_file(run.dir.path(), "b.log", second.as_bytes());
    let run = run.analyze(&[&a, &b], &[&SITE[..], &["--threads", "3"]].concat());

    run.assert_rows(SESSION_ROWS, SESSIONS_LOG_SESSIONS);
    run.assert_rows(
        "select lines, hits, page_views, visitors, sessions, bounces, inputs \
         from '{out}/summary.parquet'",
        &[&["31", "31", "16", "5", "9", "4", "2"]],
    );
}

// ---------------------------------------------------------------------------------------------
// bots.log (17 lines, UTC):
//   Googlebot 66.249.66.1: 09:59:00 GET / 200 5000 (written 18:59:00 +0900),
//     10:01:00 /old-page 301 250, 10:02:00 /gone 404 300           -> 3 hits, 5550 bytes
//   GPTBot 20.171.207.1: 10:00:00 /robots.txt 200 120, 10:00:05 / 200 5000;
//     GPTBot 20.171.207.2: 10:00:10 /pricing 200 4000, 10:00:15 /blog/post-1 200 6000
//                                                                  -> 4 hits, 15120 bytes, 2 keys
//   curl 198.51.100.200: 10:05:00 /health 200 2, 10:05:30 HEAD / 200 0  -> 2 hits, 2 bytes
//   python-requests 198.51.100.201: 10:06:00 and 10:06:01 /api/items 200 800,
//     10:06:02 /wp-login.php 404 150                               -> 3 hits, 1750 bytes
//   no user agent 192.0.2.200: 10:07:00 /.env 404 150, 10:07:01 / 200 5000
//     (written 05:07:01 -0500)                                     -> 2 hits, 5150 bytes
//   human 203.0.113.10 + Firefox: 10:03:00 / 200 5000 (ref google), 10:03:01 css 1000,
//     10:04:00 /pricing 200 4000                                   -> 3 hits, 10000 bytes
// Bots: 14 hits, 27572 bytes; all: 17 hits, 37572 bytes.
// ---------------------------------------------------------------------------------------------

#[test]
fn bots_log() {
    let run = run_known("bots.log", &SITE);

    // Only the human's 2 page views make a visitor and a 60 s session; the earliest hit is
    // Googlebot's 09:59:00 and the latest the no-UA bot's 10:07:01.
    run.assert_rows(
        SUMMARY_COUNTS,
        &[&[
            "17",
            "0",
            "0",
            "17",
            "3",
            "14",
            "37572",
            "27572",
            "2",
            "1",
            "1",
            "0",
            "1",
            "2024-03-10 09:59:00",
            "2024-03-10 10:07:01",
            "1",
        ]],
    );

    // The named bots, by name case-insensitively.
    run.assert_rows(
        "select lower(bot), kind, hits, bytes, visitors, utc(first_seen), utc(last_seen) \
         from '{out}/robots.parquet' \
         where lower(bot) in ('gptbot', 'googlebot', 'curl', 'python-requests') \
         order by lower(bot)",
        &[
            &[
                "curl",
                "tool",
                "2",
                "2",
                "1",
                "2024-03-10 10:05:00",
                "2024-03-10 10:05:30",
            ],
            &[
                "googlebot",
                "search",
                "3",
                "5550",
                "1",
                "2024-03-10 09:59:00",
                "2024-03-10 10:02:00",
            ],
            &[
                "gptbot",
                "ai",
                "4",
                "15120",
                "2",
                "2024-03-10 10:00:00",
                "2024-03-10 10:00:15",
            ],
            &[
                "python-requests",
                "tool",
                "3",
                "1750",
                "1",
                "2024-03-10 10:06:00",
                "2024-03-10 10:06:02",
            ],
        ],
    );

    // Whatever it is called, the client without a user agent is one more row.
    run.assert_rows(
        "select kind, hits, bytes, visitors, utc(first_seen), utc(last_seen) \
         from '{out}/robots.parquet' \
         where lower(bot) not in ('gptbot', 'googlebot', 'curl', 'python-requests')",
        &[&[
            "unknown",
            "2",
            "5150",
            "1",
            "2024-03-10 10:07:00",
            "2024-03-10 10:07:01",
        ]],
    );

    // 200: 13 hits (Googlebot 1, GPTBot 4, human 3, curl 2, python-requests 2, no UA 1),
    // bytes 5000 + 15120 + 10000 + 2 + 1600 + 5000 = 36722; 301 Googlebot; 404 Googlebot,
    // python-requests and no UA (300 + 150 + 150).
    run.assert_rows(
        "select status, class, hits, bytes, human_hits, bot_hits, visitors \
         from '{out}/status_codes.parquet' order by status",
        &[
            &["200", "2xx", "13", "36722", "3", "10", "1"],
            &["301", "3xx", "1", "250", "0", "1", "0"],
            &["404", "4xx", "3", "600", "0", "3", "0"],
        ],
    );

    // Human-only reports: the bots' GETs of /, /pricing, /robots.txt... are no page views,
    // and their 404s are no errors.
    run.assert_rows(
        "select path, hits, page_views, visitors, entries, exits, bounces \
         from '{out}/pages.parquet' order by path",
        &[
            &["/", "1", "1", "1", "1", "0", "0"],
            &["/pricing", "1", "1", "1", "0", "1", "0"],
        ],
    );
    run.assert_rows(
        "select ip, user_agent, sessions, page_views, hits, bytes from '{out}/visitors.parquet'",
        &[&["203.0.113.10", FIREFOX_WIN, "1", "2", "3", "10000"]],
    );
    run.assert_rows(
        "select ip, utc(start), utc(\"end\"), round(duration_s, 4), page_views, bounce, \
         entry_page, exit_page, referrer from '{out}/sessions.parquet'",
        &[&[
            "203.0.113.10",
            "2024-03-10 10:03:00",
            "2024-03-10 10:04:00",
            "60.0",
            "2",
            "False",
            "/",
            "/pricing",
            "https://www.google.com/",
        ]],
    );
    run.assert_rows(
        "select host, sessions, visitors, page_views from '{out}/referring_sites.parquet'",
        &[&["www.google.com", "1", "1", "2"]],
    );
    assert_eq!(
        run.value("select count(*) from '{out}/errors.parquet'"),
        "0"
    );
}

// ---------------------------------------------------------------------------------------------
// errors.log (17 lines, 11:00-11:12 UTC). Keys: V1 203.0.113.10 + Firefox, V2 198.51.100.7 +
// Firefox, V3 192.0.2.44 + iPhone, V4 203.0.113.10 + Chrome, and Googlebot.
//   /old-promo 404: V1 (forum/42), V2 (forum/42, written 13:01:00 +0200),
//     V3 (?utm_source=..., blog.example.net/post), V1 (no referrer), Googlebot (not counted)
//   /docs/v1 404: V2 and V3 from https://www.mysite.test/docs, V4 from
//     https://mysite.test/blog/launch
//   /api/cart 500: V1 and V4 POST from https://www.mysite.test/cart (120 bytes each)
//   /api/cart 503: V1, no referrer
//   /favicon.ico 404: V3, no referrer (an asset, but still a human hit with status >= 400)
//   /search 400: V4 from https://www.mysite.test/
//   page views: V1 /, V2 /, V3 /docs, V4 /cart (one each)
// ---------------------------------------------------------------------------------------------

#[test]
fn errors_log() {
    let run = run_known("errors.log", &SITE);

    // top_referrer: forum/42 sent 2 of the 3 referred /old-promo hits (external);
    // www.mysite.test/docs 2 of 3 /docs/v1 hits and www.mysite.test/cart both /api/cart 500s
    // (internal: broken internal links). Rows without any referrer have no top referrer.
    run.assert_rows(
        "select path, status, hits, visitors, referred_hits, top_referrer, \
         coalesce(top_referrer_hits, 0), coalesce(top_referrer_internal, false) \
         from '{out}/errors.parquet' order by path, status",
        &[
            &[
                "/api/cart",
                "500",
                "2",
                "2",
                "2",
                "https://www.mysite.test/cart",
                "2",
                "True",
            ],
            &["/api/cart", "503", "1", "1", "0", "NULL", "0", "False"],
            &[
                "/docs/v1",
                "404",
                "3",
                "3",
                "3",
                "https://www.mysite.test/docs",
                "2",
                "True",
            ],
            &["/favicon.ico", "404", "1", "1", "0", "NULL", "0", "False"],
            &[
                "/old-promo",
                "404",
                "4",
                "3",
                "3",
                "https://forum.example.com/thread/42",
                "2",
                "False",
            ],
            &[
                "/search",
                "400",
                "1",
                "1",
                "1",
                "https://www.mysite.test/",
                "1",
                "True",
            ],
        ],
    );

    // 200: V1 / 5000, V2 / 5000, V3 /docs 3500, V4 /cart 2000. 404: 8 human + Googlebot,
    // 300 bytes each except the favicon's 0; keys V1 V2 V3 V4.
    run.assert_rows(
        "select status, class, hits, bytes, human_hits, bot_hits, visitors \
         from '{out}/status_codes.parquet' order by status",
        &[
            &["200", "2xx", "4", "15500", "4", "0", "4"],
            &["400", "4xx", "1", "150", "1", "0", "1"],
            &["404", "4xx", "9", "2400", "8", "1", "4"],
            &["500", "5xx", "2", "240", "2", "0", "2"],
            &["503", "5xx", "1", "0", "1", "0", "1"],
        ],
    );

    // Four visitors with one page view each: four bounced sessions. The +0200 line is
    // 11:01:00, so the range is 11:00:00 .. 11:12:00.
    run.assert_rows(
        SUMMARY_COUNTS,
        &[&[
            "17",
            "0",
            "0",
            "17",
            "16",
            "1",
            "18290",
            "300",
            "4",
            "4",
            "4",
            "4",
            "0",
            "2024-03-10 11:00:00",
            "2024-03-10 11:12:00",
            "1",
        ]],
    );
}

// ---------------------------------------------------------------------------------------------
// The malformed log, written byte by byte so its CRLF, invalid UTF-8 and missing final
// newline are exact.
// ---------------------------------------------------------------------------------------------

fn malformed_log() -> Vec<u8> {
    let lines: Vec<Vec<u8>> = vec![
        // 1: hit
        format!(
            r#"203.0.113.10 - - [10/Mar/2024:09:00:00 +0000] "GET / HTTP/1.1" 200 5000 "-" "{FIREFOX_WIN}""#
        )
        .into_bytes(),
        // 2: blank (empty)
        Vec::new(),
        // 3: malformed, no '[' before the time
        format!(
            r#"203.0.113.10 - - 10/Mar/2024:09:00:01 +0000] "GET /a HTTP/1.1" 200 100 "-" "{FIREFOX_WIN}""#
        )
        .into_bytes(),
        // 4: blank (spaces and a tab)
        b"   \t  ".to_vec(),
        // 5: hit from an IPv6 client
        format!(
            r#"2001:db8::1 - - [10/Mar/2024:09:00:02 +0000] "GET /ipv6 HTTP/1.1" 200 700 "-" "{CHROME_MAC}""#
        )
        .into_bytes(),
        // 6: malformed, the request quote is never closed
        br#"198.51.100.7 - - [10/Mar/2024:09:00:03 +0000] "GET /broken HTTP/1.1 200 100"#.to_vec(),
        // 7: malformed garbage with invalid UTF-8
        b"\xff\xfe garbage \xc3\x28 not a log line".to_vec(),
        // 8: hit ending in CRLF
        format!(
            "192.0.2.44 - - [10/Mar/2024:09:00:04 +0000] \"GET /crlf HTTP/1.1\" 200 800 \"-\" \"{SAFARI_IPHONE}\"\r"
        )
        .into_bytes(),
        // 9: hit with an escaped quote inside the request
        format!(
            r#"192.0.2.55 - - [10/Mar/2024:09:00:05 +0000] "GET /search?q=\"rust\" HTTP/1.1" 200 900 "-" "{FIREFOX_LINUX}""#
        )
        .into_bytes(),
        // 10: hit with bytes '-'
        format!(
            r#"192.0.2.99 - - [10/Mar/2024:09:00:06 +0000] "GET /nobytes HTTP/1.1" 304 - "-" "{EDGE_WIN}""#
        )
        .into_bytes(),
        // 11: malformed, the status is not a number
        format!(
            r#"203.0.113.10 - - [10/Mar/2024:09:00:07 +0000] "GET /bad-status HTTP/1.1" abc 100 "-" "{FIREFOX_WIN}""#
        )
        .into_bytes(),
        // 12: malformed, 400 bytes of garbage (the sample keeps 300)
        "x".repeat(400).into_bytes(),
        // 13: blank (a lone CR before the LF)
        b"\r".to_vec(),
    ];
    let mut log = lines.join(&b'\n');
    log.push(b'\n');
    // 14: hit, the last line, without a final newline
    log.extend_from_slice(
        format!(
            r#"203.0.113.10 - - [10/Mar/2024:09:00:08 +0000] "GET /last HTTP/1.1" 200 1000 "-" "{FIREFOX_WIN}""#
        )
        .as_bytes(),
    );
    log
}

/// Writes the malformed log into a fresh run directory, analyses it and returns the run with
/// the log's size in bytes.
fn run_malformed() -> (Run, String) {
    let log = malformed_log();
    let run = Run::new();
    let path = write_file(run.dir.path(), "malformed.log", &log);
    (run.analyze(&[&path], &SITE), log.len().to_string())
}

#[test]
fn malformed_log_accounting() {
    let (run, size) = run_malformed();

    // 14 lines = 6 hits (1 5 8 9 10 14) + 5 malformed (3 6 7 11 12) + 3 blank (2 4 13).
    // Bytes 5000 + 700 + 800 + 900 + 0 + 1000 = 8400. Every hit is a page view (the 304
    // included); 203.0.113.10 has two (09:00:00 and 09:00:08, one 8 s session), the four
    // other keys one each: 5 visitors, 5 sessions, 4 bounces, 1 engaged.
    run.assert_rows(
        SUMMARY_COUNTS,
        &[&[
            "14",
            "3",
            "5",
            "6",
            "6",
            "0",
            "8400",
            "0",
            "6",
            "5",
            "5",
            "4",
            "1",
            "2024-03-10 09:00:00",
            "2024-03-10 09:00:08",
            "1",
        ]],
    );
    run.assert_rows(
        "select lines = hits + malformed + blank_lines, input_bytes from '{out}/summary.parquet'",
        &[&["True", &size]],
    );
    run.assert_rows(
        "select suffix(file, 'malformed.log'), bytes, lines, blank_lines, hits, malformed \
         from '{out}/inputs.parquet'",
        &[&["True", &size, "14", "3", "6", "5"]],
    );

    // Samples: line numbers from 1, a non-empty reason, the text without its line ending,
    // invalid UTF-8 replaced by U+FFFD, and the 400-byte line cut to 300 bytes.
    run.assert_rows(
        "select line, suffix(file, 'malformed.log'), length(reason) > 0, \
         case when line in (7, 12) then null else text end \
         from '{out}/malformed_samples.parquet' order by line",
        &[
            &[
                "3",
                "True",
                "True",
                &format!(
                    r#"203.0.113.10 - - 10/Mar/2024:09:00:01 +0000] "GET /a HTTP/1.1" 200 100 "-" "{FIREFOX_WIN}""#
                ),
            ],
            &[
                "6",
                "True",
                "True",
                r#"198.51.100.7 - - [10/Mar/2024:09:00:03 +0000] "GET /broken HTTP/1.1 200 100"#,
            ],
            &["7", "True", "True", "NULL"],
            &[
                "11",
                "True",
                "True",
                &format!(
                    r#"203.0.113.10 - - [10/Mar/2024:09:00:07 +0000] "GET /bad-status HTTP/1.1" abc 100 "-" "{FIREFOX_WIN}""#
                ),
            ],
            &["12", "True", "True", "NULL"],
        ],
    );
    run.assert_rows(
        "select contains(text, chr(65533)), contains(text, ' garbage '), \
         ends_with(text, ' not a log line') \
         from '{out}/malformed_samples.parquet' where line = 7",
        &[&["True", "True", "True"]],
    );
    run.assert_rows(
        "select octet_length(encode(text)), text = repeat('x', 300) \
         from '{out}/malformed_samples.parquet' where line = 12",
        &[&["300", "True"]],
    );
}

#[test]
fn malformed_log_edge_cases_parse() {
    let (run, _) = run_malformed();

    // The parsed lines: the CRLF line's user agent has no trailing CR, the escaped-quote
    // request is /search, the IPv6 address is kept, bytes '-' is 0.
    run.assert_rows(
        "select ip, user_agent, sessions, page_views, hits, bytes \
         from '{out}/visitors.parquet' order by ip",
        &[
            &["192.0.2.44", SAFARI_IPHONE, "1", "1", "1", "800"],
            &["192.0.2.55", FIREFOX_LINUX, "1", "1", "1", "900"],
            &["192.0.2.99", EDGE_WIN, "1", "1", "1", "0"],
            &["2001:db8::1", CHROME_MAC, "1", "1", "1", "700"],
            &["203.0.113.10", FIREFOX_WIN, "1", "2", "2", "6000"],
        ],
    );
    run.assert_rows(
        "select path, hits, page_views from '{out}/pages.parquet' order by path",
        &[
            &["/", "1", "1"],
            &["/crlf", "1", "1"],
            &["/ipv6", "1", "1"],
            &["/last", "1", "1"],
            &["/nobytes", "1", "1"],
            &["/search", "1", "1"],
        ],
    );
    run.assert_rows(
        "select status, hits, bytes from '{out}/status_codes.parquet' order by status",
        &[&["200", "5", "8400"], &["304", "1", "0"]],
    );
}
