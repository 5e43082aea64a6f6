//! Known-answer tests for the audience & behaviour reports: small hand-made logs in
//! `fixtures/known/` whose values are counted by hand from the definitions of the new tables
//! (loyalty, journeys, internal site search, traffic over time, time on page, browsers,
//! operating systems, devices, beacons, resolutions and colour depths). `audience.log`
//! covers everything but screens; `beacons.log` covers tracking beacons. Every timestamp
//! below is UTC unless written with its offset.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::util::*;

const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 \
                           (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1";
const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/122.0.6261.105 Mobile Safari/537.36";

const SITE: [&str; 2] = ["--site-domain", "mysite.test"];
const GOAL: [&str; 2] = ["--goal", "purchase=/checkout/thank-you"];

/// Pins DuckDB's time zone to UTC and defines `utc(ts)`, which prints a timestamp as
/// `YYYY-MM-DD HH:MM:SS` in UTC.
const PRELUDE: &str =
    "SET TimeZone = 'UTC'; CREATE OR REPLACE MACRO utc(t) AS strftime(t, '%Y-%m-%d %H:%M:%S');";

/// The session metrics group shared by the audience, loyalty and path tables.
const METRICS: &str = "sessions, visitors, page_views, bounces, round(bounce_rate, 4), \
     engaged_sessions, round(engagement_rate, 4), round(avg_session_s, 4), conversions, \
     round(conversion_rate, 4), value";

/// A finished run: the output directory lives as long as this value.
struct Run {
    _dir: TempDir,
    out: PathBuf,
}

impl Run {
    fn new(inputs: &[&Path], extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        analyze(inputs, &out, extra);
        Run { _dir: dir, out }
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        duckdb_rows(&self.out, &format!("{PRELUDE} {sql}"))
    }

    #[track_caller]
    fn assert_rows(&self, sql: &str, expected: &[&[&str]]) {
        assert_eq!(self.rows(sql), expected, "query: {sql}");
    }
}

fn known(name: &str) -> PathBuf {
    fixture("known").join(name)
}

/// `audience.log` with the site domain, the purchase goal and `extra`.
fn run_audience(extra: &[&str]) -> Run {
    let args: Vec<&str> = SITE.iter().chain(&GOAL).chain(extra).copied().collect();
    Run::new(&[&known("audience.log")], &args)
}

// ---------------------------------------------------------------------------------------------
// audience.log (24 lines). Five visitors, one human key without a page view, and Googlebot:
//   ana 203.0.113.1  Firefox 123 / Windows 10/11 / pc
//   ben 203.0.113.2  Chrome 122 / macOS 10.15.7 / pc
//   cai 203.0.113.3  Safari 17 / iOS 17.3 / smartphone
//   dee 203.0.113.4  Safari 17 / iPadOS 17.3 / tablet (logs with +0900)
//   eli 203.0.113.5  Chrome 122 (122.0.6261.105) / Android 14 / smartphone
//   fay 203.0.113.6  ana's Firefox agent: one GET /missing 404 (300 B) at Mon 09:50, no
//                    page view, so a human key but not a visitor
//   Googlebot 66.249.66.1: Mon 09:05 GET / (5000 B), Mon 10:15 GET /robots.txt (100 B)
// Mon = 2024-03-11, Tue = 2024-03-12, Fri = 2024-03-15. Page views (bytes):
//   A1 ana Mon 09:00:00 /  (5000; + 09:00:01 css 1000, an asset)
//                 09:00:30 /search?q=Red+Shoes (3000)   search "red shoes"
//                 09:01:30 /products/shoes (4000)       its result click
//                 09:03:00 /checkout (2000)
//                 09:04:00 /checkout/thank-you (1000)   the purchase goal: A1 converts
//   A2 ana Tue 10:00:00 /search?q=red%20shoes (3000)    "red shoes" again, the session's exit
//   A3 ana Fri 09:00:00 / (5000), 09:00:40 /about (2000)
//   B1 ben Mon 09:10:00 / (5000), 09:10:20 /search?q=red%20shoes (3000),
//                 09:11:00 /products/shoes (4000)
//   B2 ben Mon 11:00:00 /blog (6000)                     1:49 after B1: a new session
//   C1 cai Mon 09:20:00 /?s=lamp (5000)                  search "lamp" on path /
//                 09:20:30 /search?q=Desk+Lamp (3000)   "desk lamp": refines "lamp"
//                 09:21:00 /products/lamp (4000)
//   D1 dee Mon 18:30:00 +0900 = 09:30:00 /search?q=lamp (3000)
//          Mon 18:30:40 +0900 = 09:30:40 /search?q=Blue+Lamp (3000)  refines "lamp"; exit
//   D2 dee Tue 05:00:00 +0900 = Mon 20:00:00 /products/lamp (4000)   local date Tue
//   E1 eli Tue 10:59:40 /search?find=Blue+Hat (3000)     not a search by default (`find`)
//              11:00:10 /about (2000)
//
// Sessions (9), with duration and page views:
//   A1 240 s 5 pv converts | A2 0 s 1 pv | A3 40 s 2 pv | B1 60 s 3 pv | B2 0 s 1 pv
//   C1 60 s 3 pv | D1 40 s 2 pv | D2 0 s 1 pv | E1 30 s 2 pv
// 20 page views, bounces A2 B2 D2 (3), engaged the other 6, one conversion (A1, value 0).
// ---------------------------------------------------------------------------------------------

#[test]
fn audience_log_summary() {
    let run = run_audience(&[]);

    // 24 hits: 22 human (fay's 404 included), 2 Googlebot. Bytes: ana 16000 + 3000 + 7000 =
    // 26000, ben 18000, cai 12000, dee 10000, eli 5000, fay 300, Googlebot 5100 = 76400.
    // Returning visitors: ana (3 sessions), ben (2), dee (2). Searches (default params):
    // A1 1, A2 1, B1 1, C1 2, D1 2 = 7 in 5 sessions; E1's `find` is no search parameter.
    // No beacons in this log.
    run.assert_rows(
        "select lines, hits, human_hits, bot_hits, bytes, bot_bytes, page_views, visitors, \
         returning_visitors, sessions, bounces, engaged_sessions, conversions, \
         internal_searches, search_sessions, beacon_hits, beacon_invalid \
         from '{out}/summary.parquet'",
        &[&[
            "24", "24", "22", "2", "76400", "5100", "20", "5", "3", "9", "3", "6", "1", "7", "5",
            "0", "0",
        ]],
    );
}

#[test]
fn audience_log_sessions_and_visitors_loyalty() {
    let run = run_audience(&[]);

    // Sessions are numbered per visitor in time order; days_since_last_visit is the floor of
    // (this start - previous session's last page view) in days:
    //   A2: Tue 10:00:00 - Mon 09:04:00 = 24 h 56 min -> 1
    //   A3: Fri 09:00:00 - Tue 10:00:00 = 71 h -> 2
    //   B2: Mon 11:00:00 - Mon 09:11:00 -> 0
    //   D2: Mon 20:00:00 - Mon 09:30:40 -> 0 (although its local date is the next day)
    run.assert_rows(
        "select ip, utc(start), page_views, converted, session_number, \"returning\", \
         days_since_last_visit from '{out}/sessions.parquet' order by ip, start",
        &[
            &[
                "203.0.113.1",
                "2024-03-11 09:00:00",
                "5",
                "True",
                "1",
                "False",
                "NULL",
            ],
            &[
                "203.0.113.1",
                "2024-03-12 10:00:00",
                "1",
                "False",
                "2",
                "True",
                "1",
            ],
            &[
                "203.0.113.1",
                "2024-03-15 09:00:00",
                "2",
                "False",
                "3",
                "True",
                "2",
            ],
            &[
                "203.0.113.2",
                "2024-03-11 09:10:00",
                "3",
                "False",
                "1",
                "False",
                "NULL",
            ],
            &[
                "203.0.113.2",
                "2024-03-11 11:00:00",
                "1",
                "False",
                "2",
                "True",
                "0",
            ],
            &[
                "203.0.113.3",
                "2024-03-11 09:20:00",
                "3",
                "False",
                "1",
                "False",
                "NULL",
            ],
            &[
                "203.0.113.4",
                "2024-03-11 09:30:00",
                "2",
                "False",
                "1",
                "False",
                "NULL",
            ],
            &[
                "203.0.113.4",
                "2024-03-11 20:00:00",
                "1",
                "False",
                "2",
                "True",
                "0",
            ],
            &[
                "203.0.113.5",
                "2024-03-12 10:59:40",
                "2",
                "False",
                "1",
                "False",
                "NULL",
            ],
        ],
    );

    // returning = 2+ sessions; active_days = distinct local dates with a session start
    // (ana Mon Tue Fri; dee Mon and, at +0900, Tue); days_since_previous_visit is the last
    // session's days_since_last_visit. fay has no page view: no row.
    run.assert_rows(
        "select ip, user_agent, sessions, \"returning\", active_days, days_since_previous_visit \
         from '{out}/visitors.parquet' order by ip",
        &[
            &["203.0.113.1", FIREFOX_WIN, "3", "True", "3", "2"],
            &["203.0.113.2", CHROME_MAC, "2", "True", "1", "0"],
            &["203.0.113.3", SAFARI_IPHONE, "1", "False", "1", "NULL"],
            &["203.0.113.4", SAFARI_IPAD, "2", "True", "2", "0"],
            &["203.0.113.5", CHROME_ANDROID, "1", "False", "1", "NULL"],
        ],
    );
}

#[test]
fn audience_log_loyalty_tables() {
    let run = run_audience(&[]);

    // new = first sessions A1 B1 C1 D1 E1: 5 of 9 sessions, 5 visitors, 5+3+3+2+2 = 15 pv,
    //   no bounce, all engaged, durations 240+60+60+40+30 = 430 -> 86 s, A1 converts (1/5).
    // returning = A2 A3 B2 D2: 4 sessions of ana, ben, dee (3 visitors), 1+2+1+1 = 5 pv,
    //   bounces A2 B2 D2 (3/4), engaged A3 (1/4), durations 0+40+0+0 -> 10 s.
    run.assert_rows(
        &format!(
            "select visitor_type, round(share, 4), {METRICS} from '{{out}}/visitor_types.parquet' \
             order by visitor_type"
        ),
        &[
            &[
                "new", "0.5556", "5", "5", "15", "0", "0.0", "5", "1.0", "86.0", "1", "0.2", "0.0",
            ],
            &[
                "returning",
                "0.4444",
                "4",
                "3",
                "5",
                "3",
                "0.75",
                "1",
                "0.25",
                "10.0",
                "0",
                "0.0",
                "0.0",
            ],
        ],
    );

    // share = visitors in the bucket / 5 visitors.
    //   "1":   cai (C1), eli (E1): 2 sessions, 3+2 pv, durations 60+30 -> 45 s
    //   "2":   ben (B1 B2), dee (D1 D2): 4 sessions, 3+1+2+1 = 7 pv, bounces B2 D2,
    //          engaged B1 D1, durations 60+0+40+0 -> 25 s
    //   "3-5": ana (A1 A2 A3): 3 sessions, 5+1+2 = 8 pv, bounce A2, engaged A1 A3,
    //          durations 240+0+40 -> 93.3333 s, A1 converts (1/3)
    //   "6-10", "11+": empty; rates and the mean duration have no denominator.
    run.assert_rows(
        &format!(
            "select sessions_per_visitor, min_sessions, round(share, 4), {METRICS} \
             from '{{out}}/visit_frequency.parquet' order by min_sessions"
        ),
        &[
            &[
                "1", "1", "0.4", "2", "2", "5", "0", "0.0", "2", "1.0", "45.0", "0", "0.0", "0.0",
            ],
            &[
                "2", "2", "0.4", "4", "2", "7", "2", "0.5", "2", "0.5", "25.0", "0", "0.0", "0.0",
            ],
            &[
                "3-5", "3", "0.2", "3", "1", "8", "1", "0.3333", "2", "0.6667", "93.3333", "1",
                "0.3333", "0.0",
            ],
            &[
                "6-10", "6", "0.0", "0", "0", "0", "0", "NULL", "0", "NULL", "NULL", "0", "NULL",
                "0.0",
            ],
            &[
                "11+", "11", "0.0", "0", "0", "0", "0", "NULL", "0", "NULL", "NULL", "0", "NULL",
                "0.0",
            ],
        ],
    );

    // Returning sessions by days since the previous visit, share of the 4 returning sessions:
    // 0 -> B2 and D2 (two bounces), 1 -> A2 (a bounce), 2 -> A3 (2 pv, 40 s).
    run.assert_rows(
        &format!(
            "select days_since_last_visit, round(share, 4), {METRICS} \
             from '{{out}}/visit_recency.parquet' order by days_since_last_visit"
        ),
        &[
            &[
                "0", "0.5", "2", "2", "2", "2", "1.0", "0", "0.0", "0.0", "0", "0.0", "0.0",
            ],
            &[
                "1", "0.25", "1", "1", "1", "1", "1.0", "0", "0.0", "0.0", "0", "0.0", "0.0",
            ],
            &[
                "2", "0.25", "1", "1", "2", "0", "0.0", "1", "1.0", "40.0", "0", "0.0", "0.0",
            ],
        ],
    );

    // Cohorts by the local date of the first session: Mon = ana, ben, cai and dee (18:30
    // +0900 is still Monday there); Tue = eli. The last local date with a session start is
    // Fri (A3), so Mon has days 0-4 and Tue days 0-3.
    //   Mon+1 (Tue): ana (A2) and dee (D2, Tue 05:00 +0900) -> 2/4; Mon+2, Mon+3: nobody;
    //   Mon+4 (Fri): ana (A3) -> 1/4. Tue+0: eli; Tue+1..3: nobody.
    run.assert_rows(
        "select cohort, day, cohort_visitors, visitors, round(return_rate, 4) \
         from '{out}/retention.parquet' order by cohort, day",
        &[
            &["2024-03-11", "0", "4", "4", "1.0"],
            &["2024-03-11", "1", "4", "2", "0.5"],
            &["2024-03-11", "2", "4", "0", "0.0"],
            &["2024-03-11", "3", "4", "0", "0.0"],
            &["2024-03-11", "4", "4", "1", "0.25"],
            &["2024-03-12", "0", "1", "1", "1.0"],
            &["2024-03-12", "1", "1", "0", "0.0"],
            &["2024-03-12", "2", "1", "0", "0.0"],
            &["2024-03-12", "3", "1", "0", "0.0"],
        ],
    );
}

const PATH_ROWS: &str = "select path, steps, entry_page, exits, round(share, 4), sessions, \
     visitors, page_views, bounces, round(bounce_rate, 4), engaged_sessions, \
     round(engagement_rate, 4), round(avg_session_s, 4), conversions, round(conversion_rate, 4), \
     value from '{out}/paths.parquet' order by sessions desc, path";

const TRANSITION_ROWS: &str = "select from_page, to_page, transitions, round(share, 4) \
     from '{out}/transitions.parquet' order by from_page nulls first, to_page nulls last";

#[test]
fn audience_log_paths() {
    let run = run_audience(&[]);

    // The first 3 page views of each session (9 sessions; share = sessions / 9):
    //   A1 (5 pv) and B1 (3 pv) share "/ → /search → /products/shoes"; only B1 ended within
    //   it (exits 1); 5+3 = 8 pv, durations 240 and 60 -> 150 s, A1 converts (1/2).
    //   The rest are one session each, ending within the path: A3 "/ → /about" (40 s),
    //   C1 "/ → /search → /products/lamp" (60 s), B2 "/blog", D2 "/products/lamp",
    //   A2 "/search" (bounces), E1 "/search → /about" (30 s), D1 "/search → /search" (40 s).
    run.assert_rows(
        PATH_ROWS,
        &[
            &[
                "/ → /search → /products/shoes",
                "3",
                "/",
                "1",
                "0.2222",
                "2",
                "2",
                "8",
                "0",
                "0.0",
                "2",
                "1.0",
                "150.0",
                "1",
                "0.5",
                "0.0",
            ],
            &[
                "/ → /about",
                "2",
                "/",
                "1",
                "0.1111",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "40.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "/ → /search → /products/lamp",
                "3",
                "/",
                "1",
                "0.1111",
                "1",
                "1",
                "3",
                "0",
                "0.0",
                "1",
                "1.0",
                "60.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "/blog", "1", "/blog", "1", "0.1111", "1", "1", "1", "1", "1.0", "0", "0.0", "0.0",
                "0", "0.0", "0.0",
            ],
            &[
                "/products/lamp",
                "1",
                "/products/lamp",
                "1",
                "0.1111",
                "1",
                "1",
                "1",
                "1",
                "1.0",
                "0",
                "0.0",
                "0.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "/search", "1", "/search", "1", "0.1111", "1", "1", "1", "1", "1.0", "0", "0.0",
                "0.0", "0", "0.0", "0.0",
            ],
            &[
                "/search → /about",
                "2",
                "/search",
                "1",
                "0.1111",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "30.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "/search → /search",
                "2",
                "/search",
                "1",
                "0.1111",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "40.0",
                "0",
                "0.0",
                "0.0",
            ],
        ],
    );

    // Depth 2: A1, B1 and C1 all start "/ → /search", and none of them ended within two
    // page views (5, 3, 3): exits 0; 11 pv, durations 240+60+60 -> 120 s, A1 converts.
    // The sessions of 1 and 2 page views keep their paths.
    let run = run_audience(&["--path-depth", "2"]);
    run.assert_rows(
        "select path, steps, entry_page, exits, sessions, visitors, page_views, \
         round(avg_session_s, 4), conversions, round(conversion_rate, 4) \
         from '{out}/paths.parquet' order by sessions desc, path",
        &[
            &[
                "/ → /search",
                "2",
                "/",
                "0",
                "3",
                "3",
                "11",
                "120.0",
                "1",
                "0.3333",
            ],
            &[
                "/ → /about",
                "2",
                "/",
                "1",
                "1",
                "1",
                "2",
                "40.0",
                "0",
                "0.0",
            ],
            &["/blog", "1", "/blog", "1", "1", "1", "1", "0.0", "0", "0.0"],
            &[
                "/products/lamp",
                "1",
                "/products/lamp",
                "1",
                "1",
                "1",
                "1",
                "0.0",
                "0",
                "0.0",
            ],
            &[
                "/search", "1", "/search", "1", "1", "1", "1", "0.0", "0", "0.0",
            ],
            &[
                "/search → /about",
                "2",
                "/search",
                "1",
                "1",
                "1",
                "2",
                "30.0",
                "0",
                "0.0",
            ],
            &[
                "/search → /search",
                "2",
                "/search",
                "1",
                "1",
                "1",
                "2",
                "40.0",
                "0",
                "0.0",
            ],
        ],
    );
}

#[test]
fn audience_log_transitions() {
    let run = run_audience(&[]);

    // Entrances (one per session, share of 9): / A1 A3 B1 C1; /search A2 D1 E1; /blog B2;
    // /products/lamp D2. Then consecutive page views; share = of the from page's 4 + 7 + 2 +
    // 1 + 1 + 2 + 1 + 2 page views in sessions:
    //   / (4): -> /search A1 B1 C1, -> /about A3
    //   /search (7): -> /products/shoes A1 B1, -> /products/lamp C1, -> /search D1 (a search
    //     page twice), -> /about E1, exit A2 D1
    //   /products/shoes (2): -> /checkout A1, exit B1
    //   /checkout -> /checkout/thank-you; the thank-you page, /about (A3 E1), /blog and
    //   /products/lamp (C1 D2) are always exits.
    run.assert_rows(
        TRANSITION_ROWS,
        &[
            &["NULL", "/", "4", "0.4444"],
            &["NULL", "/blog", "1", "0.1111"],
            &["NULL", "/products/lamp", "1", "0.1111"],
            &["NULL", "/search", "3", "0.3333"],
            &["/", "/about", "1", "0.25"],
            &["/", "/search", "3", "0.75"],
            &["/about", "NULL", "2", "1.0"],
            &["/blog", "NULL", "1", "1.0"],
            &["/checkout", "/checkout/thank-you", "1", "1.0"],
            &["/checkout/thank-you", "NULL", "1", "1.0"],
            &["/products/lamp", "NULL", "2", "1.0"],
            &["/products/shoes", "/checkout", "1", "0.5"],
            &["/products/shoes", "NULL", "1", "0.5"],
            &["/search", "/about", "1", "0.1429"],
            &["/search", "/products/lamp", "1", "0.1429"],
            &["/search", "/products/shoes", "2", "0.2857"],
            &["/search", "/search", "1", "0.1429"],
            &["/search", "NULL", "2", "0.2857"],
        ],
    );
}

#[test]
fn audience_log_path_pages_other() {
    // Page views per page: /search 7, / 4, /about 2, /products/lamp 2, /products/shoes 2,
    // /blog 1, /checkout 1, /checkout/thank-you 1. With 2 pages named, only /search and /
    // keep their names; every other page is "(other)".
    let run = run_audience(&["--path-pages", "2"]);

    //   A1 (5 pv), B1 and C1 (3 pv each): "/ → /search → (other)", exits B1 C1, 11 pv,
    //     durations 240+60+60 -> 120 s, A1 converts
    //   B2 (/blog) and D2 (/products/lamp): "(other)", two bounces of ben and dee
    //   A3 "/ → (other)", A2 "/search", E1 "/search → (other)", D1 "/search → /search"
    run.assert_rows(
        "select path, steps, entry_page, exits, round(share, 4), sessions, visitors, \
         page_views, bounces, round(avg_session_s, 4), conversions \
         from '{out}/paths.parquet' order by sessions desc, path",
        &[
            &[
                "/ → /search → (other)",
                "3",
                "/",
                "2",
                "0.3333",
                "3",
                "3",
                "11",
                "0",
                "120.0",
                "1",
            ],
            &[
                "(other)", "1", "(other)", "2", "0.2222", "2", "2", "2", "2", "0.0", "0",
            ],
            &[
                "/ → (other)",
                "2",
                "/",
                "1",
                "0.1111",
                "1",
                "1",
                "2",
                "0",
                "40.0",
                "0",
            ],
            &[
                "/search", "1", "/search", "1", "0.1111", "1", "1", "1", "1", "0.0", "0",
            ],
            &[
                "/search → (other)",
                "2",
                "/search",
                "1",
                "0.1111",
                "1",
                "1",
                "2",
                "0",
                "30.0",
                "0",
            ],
            &[
                "/search → /search",
                "2",
                "/search",
                "1",
                "0.1111",
                "1",
                "1",
                "2",
                "0",
                "40.0",
                "0",
            ],
        ],
    );

    // Transitions with the same naming: entrances / 4, /search 3, (other) 2 (B2 D2);
    // / -> /search 3, -> (other) 1 (A3's /about); /search (7 pv) -> (other) 4 (A1 B1 C1 E1),
    // -> /search 1, exit 2; (other) (9 pv) -> (other) 2 (A1's /products/shoes -> /checkout
    // -> /checkout/thank-you), exit 7 (A1 A3 B1 B2 C1 D2 E1).
    run.assert_rows(
        TRANSITION_ROWS,
        &[
            &["NULL", "(other)", "2", "0.2222"],
            &["NULL", "/", "4", "0.4444"],
            &["NULL", "/search", "3", "0.3333"],
            &["(other)", "(other)", "2", "0.2222"],
            &["(other)", "NULL", "7", "0.7778"],
            &["/", "(other)", "1", "0.25"],
            &["/", "/search", "3", "0.75"],
            &["/search", "(other)", "4", "0.5714"],
            &["/search", "/search", "1", "0.1429"],
            &["/search", "NULL", "2", "0.2857"],
        ],
    );
}

const SEARCH_ROWS: &str = "select term, searches, sessions, visitors, exits, round(exit_rate, 4), \
     no_result_views, refinements, conversions, round(conversion_rate, 4) \
     from '{out}/internal_search.parquet' order by searches desc, term";

#[test]
fn audience_log_internal_search() {
    let run = run_audience(&[]);

    // "red shoes": A1 (q=Red+Shoes, then /products/shoes: a result, not an exit), A2
    //   (q=red%20shoes, the only page view: exit, no result), B1 (q=red%20shoes, then
    //   /products/shoes). 3 searches in 3 sessions of 2 visitors; A1 converts -> 1/3.
    // "lamp": C1 (/?s=lamp, then "desk lamp": a refinement, and /products/lamp after it) and
    //   D1 (q=lamp, then "blue lamp": a refinement; nothing but searches after it: no result).
    // "blue lamp": D1's last page view: exit, no result.
    // "desk lamp": C1, followed by /products/lamp.
    run.assert_rows(
        SEARCH_ROWS,
        &[
            &[
                "red shoes",
                "3",
                "3",
                "2",
                "1",
                "0.3333",
                "1",
                "0",
                "1",
                "0.3333",
            ],
            &["lamp", "2", "2", "2", "0", "0.0", "1", "2", "0", "0.0"],
            &["blue lamp", "1", "1", "1", "1", "1.0", "1", "0", "0", "0.0"],
            &["desk lamp", "1", "1", "1", "0", "0.0", "0", "0", "0", "0.0"],
        ],
    );
    run.assert_rows(
        "select internal_searches, search_sessions from '{out}/summary.parquet'",
        &[&["7", "5"]],
    );
}

#[test]
fn audience_log_site_search_param() {
    // Only `find` counts: E1's /search?find=Blue+Hat is the one search, followed by /about.
    // The q= and s= page views are plain page views now.
    let run = run_audience(&["--site-search-param", "find"]);
    run.assert_rows(
        SEARCH_ROWS,
        &[&["blue hat", "1", "1", "1", "0", "0.0", "0", "0", "0", "0.0"]],
    );
    run.assert_rows(
        "select internal_searches, search_sessions from '{out}/summary.parquet'",
        &[&["1", "1"]],
    );
}

#[test]
fn audience_log_traffic_by_hour_and_day() {
    let run = run_audience(&[]);

    // Local hours keyed with their offset, in UTC order:
    //   Mon 09:00 +0000: ana 6 hits (16000 B; 5 pv), Googlebot / (5000 B), ben 3 (12000 B),
    //     cai 3 (12000 B), fay's 404 (300 B): 14 hits, 1 bot, 45300 B, 11 pv, sessions
    //     A1 B1 C1, visitors ana ben cai
    //   Mon 18:00 +0900 (09:00 UTC too, another row): dee's D1, 2 hits 6000 B
    //   Mon 10:00 +0000: Googlebot's /robots.txt only (100 B)
    //   Mon 11:00 +0000: ben's B2 /blog (6000 B)
    //   Tue 05:00 +0900 (Mon 20:00 UTC): dee's D2 (4000 B)
    //   Tue 10:00 +0000: ana's A2 (3000 B) and eli's E1 start (3000 B): 2 sessions
    //   Tue 11:00 +0000: eli's /about (2000 B): a page view and a visitor, but E1 started
    //     in the hour before
    //   Fri 09:00 +0000: ana's A3, 2 hits 7000 B
    run.assert_rows(
        "select utc(hour_utc), hour_local, utc_offset_min, hour_of_day, hits, bot_hits, bytes, \
         page_views, sessions, visitors from '{out}/traffic_by_hour.parquet' \
         order by hour_utc, utc_offset_min",
        &[
            &[
                "2024-03-11 09:00:00",
                "2024-03-11 09:00:00",
                "0",
                "9",
                "14",
                "1",
                "45300",
                "11",
                "3",
                "3",
            ],
            &[
                "2024-03-11 09:00:00",
                "2024-03-11 18:00:00",
                "540",
                "18",
                "2",
                "0",
                "6000",
                "2",
                "1",
                "1",
            ],
            &[
                "2024-03-11 10:00:00",
                "2024-03-11 10:00:00",
                "0",
                "10",
                "1",
                "1",
                "100",
                "0",
                "0",
                "0",
            ],
            &[
                "2024-03-11 11:00:00",
                "2024-03-11 11:00:00",
                "0",
                "11",
                "1",
                "0",
                "6000",
                "1",
                "1",
                "1",
            ],
            &[
                "2024-03-11 20:00:00",
                "2024-03-12 05:00:00",
                "540",
                "5",
                "1",
                "0",
                "4000",
                "1",
                "1",
                "1",
            ],
            &[
                "2024-03-12 10:00:00",
                "2024-03-12 10:00:00",
                "0",
                "10",
                "2",
                "0",
                "6000",
                "2",
                "2",
                "2",
            ],
            &[
                "2024-03-12 11:00:00",
                "2024-03-12 11:00:00",
                "0",
                "11",
                "1",
                "0",
                "2000",
                "1",
                "0",
                "1",
            ],
            &[
                "2024-03-15 09:00:00",
                "2024-03-15 09:00:00",
                "0",
                "9",
                "2",
                "0",
                "7000",
                "2",
                "1",
                "1",
            ],
        ],
    );

    // Local days: Mon at +0900 starts Sun 15:00 UTC; Mon at +0000 sums the three +0000 Monday
    // hours above (16 hits, 2 bot, 51400 B, 12 pv, sessions A1 B1 C1 B2, visitors ana ben
    // cai); Tue at +0900 (dee's D2) starts Mon 15:00 UTC; Tue at +0000 (ana, eli); Fri.
    // 2024-03-11 was a Monday (ISO weekday 1).
    run.assert_rows(
        "select date, utc(day_start_utc), utc_offset_min, weekday, hits, bot_hits, bytes, \
         page_views, sessions, visitors from '{out}/traffic_by_day.parquet' \
         order by day_start_utc, utc_offset_min",
        &[
            &[
                "2024-03-11",
                "2024-03-10 15:00:00",
                "540",
                "1",
                "2",
                "0",
                "6000",
                "2",
                "1",
                "1",
            ],
            &[
                "2024-03-11",
                "2024-03-11 00:00:00",
                "0",
                "1",
                "16",
                "2",
                "51400",
                "12",
                "4",
                "3",
            ],
            &[
                "2024-03-12",
                "2024-03-11 15:00:00",
                "540",
                "2",
                "1",
                "0",
                "4000",
                "1",
                "1",
                "1",
            ],
            &[
                "2024-03-12",
                "2024-03-12 00:00:00",
                "0",
                "2",
                "3",
                "0",
                "8000",
                "3",
                "2",
                "2",
            ],
            &[
                "2024-03-15",
                "2024-03-15 00:00:00",
                "0",
                "5",
                "2",
                "0",
                "7000",
                "2",
                "1",
                "1",
            ],
        ],
    );
}

#[test]
fn audience_log_pages_time_on_page() {
    let run = run_audience(&[]);

    // Time to the next page view in the session; views that end a session are left out.
    //   /         A1 30 s, A3 40 s, B1 20 s, C1 30 s (the /?s=lamp view) -> 30 s
    //   /search   A1 60, B1 40, C1 30, D1's first 40, E1 30 (A2's and D1's last are exits)
    //             -> 200 / 5 = 40 s
    //   /products/shoes  A1 90 s (B1's is an exit); /checkout  A1 60 s
    //   /about, /blog, /checkout/thank-you, /products/lamp: only exits -> null
    //   /missing: fay's 404, no page view -> null
    run.assert_rows(
        "select path, page_views, round(avg_time_on_page_s, 4) from '{out}/pages.parquet' \
         order by path",
        &[
            &["/", "4", "30.0"],
            &["/about", "2", "NULL"],
            &["/blog", "1", "NULL"],
            &["/checkout", "1", "60.0"],
            &["/checkout/thank-you", "1", "NULL"],
            &["/missing", "0", "NULL"],
            &["/products/lamp", "2", "NULL"],
            &["/products/shoes", "2", "90.0"],
            &["/search", "7", "40.0"],
        ],
    );

    // The README's least-popular query: /missing (0), the three pages viewed once, the three
    // viewed twice, then / (4) and /search (7). Googlebot's /robots.txt is no human hit.
    run.assert_rows(
        "SELECT path, page_views FROM '{out}/pages.parquet' ORDER BY page_views, path LIMIT 20",
        &[
            &["/missing", "0"],
            &["/blog", "1"],
            &["/checkout", "1"],
            &["/checkout/thank-you", "1"],
            &["/about", "2"],
            &["/products/lamp", "2"],
            &["/products/shoes", "2"],
            &["/", "4"],
            &["/search", "7"],
        ],
    );
}

#[test]
fn audience_log_browsers() {
    let run = run_audience(&[]);

    // hits = human hits of the visitors in the row: ana 9 (6 + 1 + 2), ben 4, cai 3,
    // dee 3, eli 2. fay (ana's agent, one 404) is not a visitor and is not counted.
    //   Chrome 122: ben (B1 B2) + eli (E1; 122.0.6261.105 has major 122 too): 3 sessions,
    //     3+1+2 = 6 pv, bounce B2, durations 60+0+30 -> 30 s, hits 6
    //   Firefox 123: ana: A1 A2 A3, 8 pv, bounce A2, 240+0+40 -> 93.3333 s, converts 1/3
    //   Safari 17: cai (C1) + dee (D1 D2): 3 sessions, 3+2+1 = 6 pv, bounce D2,
    //     60+40+0 -> 33.3333 s, hits 6
    run.assert_rows(
        &format!(
            "select browser, version, round(share, 4), {METRICS}, hits \
             from '{{out}}/browsers.parquet' order by browser, version"
        ),
        &[
            &[
                "Chrome", "122", "0.3333", "3", "2", "6", "1", "0.3333", "2", "0.6667", "30.0",
                "0", "0.0", "0.0", "6",
            ],
            &[
                "Firefox", "123", "0.3333", "3", "1", "8", "1", "0.3333", "2", "0.6667", "93.3333",
                "1", "0.3333", "0.0", "9",
            ],
            &[
                "Safari", "17", "0.3333", "3", "2", "6", "1", "0.3333", "2", "0.6667", "33.3333",
                "0", "0.0", "0.0", "6",
            ],
        ],
    );
}

#[test]
fn audience_log_operating_systems() {
    let run = run_audience(&[]);

    // hits as for browsers: ana 9 (fay's 404 is not a visitor's), ben 4, cai 3, dee 3, eli 2.
    //   Android 14: eli; iOS 17.3: cai; iPadOS 17.3: dee (D1 40 s, D2 bounce -> 20 s);
    //   Windows 10/11: ana; macOS 10.15.7: ben (B1 60 s, B2 bounce -> 30 s)
    run.assert_rows(
        &format!(
            "select os, version, round(share, 4), {METRICS}, hits \
             from '{{out}}/operating_systems.parquet' order by os, version"
        ),
        &[
            &[
                "Android", "14", "0.1111", "1", "1", "2", "0", "0.0", "1", "1.0", "30.0", "0",
                "0.0", "0.0", "2",
            ],
            &[
                "Windows", "10/11", "0.3333", "3", "1", "8", "1", "0.3333", "2", "0.6667",
                "93.3333", "1", "0.3333", "0.0", "9",
            ],
            &[
                "iOS", "17.3", "0.1111", "1", "1", "3", "0", "0.0", "1", "1.0", "60.0", "0", "0.0",
                "0.0", "3",
            ],
            &[
                "iPadOS", "17.3", "0.2222", "2", "1", "3", "1", "0.5", "1", "0.5", "20.0", "0",
                "0.0", "0.0", "3",
            ],
            &[
                "macOS", "10.15.7", "0.2222", "2", "1", "4", "1", "0.5", "1", "0.5", "30.0", "0",
                "0.0", "0.0", "4",
            ],
        ],
    );
}

#[test]
fn audience_log_devices() {
    let run = run_audience(&[]);

    //   pc: ana + ben, 5 sessions, 8+4 = 12 pv, bounces A2 B2, engaged A1 A3 B1,
    //     240+0+40+60+0 = 340 -> 68 s, A1 converts (1/5), hits 9+4
    //   smartphone: cai (iPhone) + eli (Android with "Mobile"): C1 E1, 5 pv, 45 s, hits 3+2
    //   tablet: dee (iPad): D1 D2, 3 pv, hits 3
    run.assert_rows(
        &format!(
            "select device, round(share, 4), {METRICS}, hits \
             from '{{out}}/devices.parquet' order by device"
        ),
        &[
            &[
                "pc", "0.5556", "5", "2", "12", "2", "0.4", "3", "0.6", "68.0", "1", "0.2", "0.0",
                "13",
            ],
            &[
                "smartphone",
                "0.2222",
                "2",
                "2",
                "5",
                "0",
                "0.0",
                "2",
                "1.0",
                "45.0",
                "0",
                "0.0",
                "0.0",
                "5",
            ],
            &[
                "tablet", "0.2222", "2", "1", "3", "1", "0.5", "1", "0.5", "20.0", "0", "0.0",
                "0.0", "3",
            ],
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// beacons.log (22 lines, Mon 2024-03-11, all +0000). Visitors and their page views:
//   pat   198.51.100.1 Firefox/Windows (pc)
//     S1 10:00:00 /, 10:01:00 /pricing (60 s)
//        10:00:02 /collect?…&sr=1920x1080&sd=24-bit      -> S1: 1920x1080, 24 bits
//        10:00:40 /matomo.php?…&res=1280x720             S1 already has a resolution
//        10:31:01 /matomo.php?…&res=800x600              30:01 after S1's last page view and
//                                                        88:59 before S2: attached to none
//     S2 12:00:00 /docs (bounce)                          no screen
//   quinn 198.51.100.2 Chrome/macOS (pc)
//        10:04:57 /matomo.php?…&res=1366x768             3 s before Q1, which it belongs to
//     Q1 10:05:00 / (bounce)
//        10:05:20 /collect?…&sd=32-bit                   -> Q1: 1366x768, 32 bits
//     Q2 11:00:00 /pricing (bounce)                       no screen
//   rio   198.51.100.3 Safari/iPad (tablet)
//     R1 10:10:00 /, 10:12:00 /features (120 s)
//        10:10:05 /js/awstats_misc_tracker.js?screen=2560x1440&win=1024x1300&cdi=30
//                                                        -> R1: 2560x1440, 30 bits
//        10:11:00 /matomo.php?…&res=                     empty: absent, not invalid
//   sam   198.51.100.4 Safari/iPhone (smartphone)
//     M1 10:20:00 / (bounce); beacons sr=99999999x1, res=abc, cd=-8: three invalid beacon
//        hits, no screen
//   tia   198.51.100.5 Chrome/Android (smartphone)
//     T1 10:30:00 /, 10:30:30 /features (30 s)
//        10:30:03 /collect?…&sr=412x915&sd=24-bit        -> T1: 412x915, 24 bits
//   Googlebot 10:40:00 /collect?v=2&sr=1x1&sd=8: a bot, not a beacon hit of the reports
// ---------------------------------------------------------------------------------------------

#[test]
fn beacons_log_summary_and_sessions() {
    let run = Run::new(&[&known("beacons.log")], &SITE);

    // 11 human beacon hits (pat 3, quinn 2, rio 2, sam 3, tia 1), 3 of them invalid (sam's).
    // Beacons are no page views: 10 page views (S1 2, S2 1, Q1 1, Q2 1, R1 2, M1 1, T1 2)
    // in 7 sessions; pat's late beacon starts no session.
    run.assert_rows(
        "select lines, hits, human_hits, bot_hits, page_views, visitors, sessions, bounces, \
         beacon_hits, beacon_invalid from '{out}/summary.parquet'",
        &[&["22", "22", "21", "1", "10", "5", "7", "4", "11", "3"]],
    );

    // No beacon path is a page.
    run.assert_rows(
        "select path, hits, page_views from '{out}/pages.parquet' order by path",
        &[
            &["/", "5", "5"],
            &["/docs", "1", "1"],
            &["/features", "2", "2"],
            &["/pricing", "2", "2"],
        ],
    );

    run.assert_rows(
        "select ip, utc(start), page_views, device, resolution, color_depth \
         from '{out}/sessions.parquet' order by ip, start",
        &[
            &[
                "198.51.100.1",
                "2024-03-11 10:00:00",
                "2",
                "pc",
                "1920x1080",
                "24",
            ],
            &[
                "198.51.100.1",
                "2024-03-11 12:00:00",
                "1",
                "pc",
                "NULL",
                "NULL",
            ],
            &[
                "198.51.100.2",
                "2024-03-11 10:05:00",
                "1",
                "pc",
                "1366x768",
                "32",
            ],
            &[
                "198.51.100.2",
                "2024-03-11 11:00:00",
                "1",
                "pc",
                "NULL",
                "NULL",
            ],
            &[
                "198.51.100.3",
                "2024-03-11 10:10:00",
                "2",
                "tablet",
                "2560x1440",
                "30",
            ],
            &[
                "198.51.100.4",
                "2024-03-11 10:20:00",
                "1",
                "smartphone",
                "NULL",
                "NULL",
            ],
            &[
                "198.51.100.5",
                "2024-03-11 10:30:00",
                "2",
                "smartphone",
                "412x915",
                "24",
            ],
        ],
    );
}

#[test]
fn beacons_log_resolutions_and_color_depths() {
    let run = Run::new(&[&known("beacons.log")], &SITE);

    // Keyed by (resolution, device), share of 7 sessions. (NULL, pc) = S2 and Q2 (two
    // bounces of two visitors); (NULL, smartphone) = M1. 800x600 and 1280x720 never count.
    // No goals: conversion rates are 0 of the sessions.
    run.assert_rows(
        &format!(
            "select resolution, device, round(share, 4), {METRICS} \
             from '{{out}}/resolutions.parquet' order by resolution nulls last, device"
        ),
        &[
            &[
                "1366x768", "pc", "0.1429", "1", "1", "1", "1", "1.0", "0", "0.0", "0.0", "0",
                "0.0", "0.0",
            ],
            &[
                "1920x1080",
                "pc",
                "0.1429",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "60.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "2560x1440",
                "tablet",
                "0.1429",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "120.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "412x915",
                "smartphone",
                "0.1429",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "30.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "NULL", "pc", "0.2857", "2", "2", "2", "2", "1.0", "0", "0.0", "0.0", "0", "0.0",
                "0.0",
            ],
            &[
                "NULL",
                "smartphone",
                "0.1429",
                "1",
                "1",
                "1",
                "1",
                "1.0",
                "0",
                "0.0",
                "0.0",
                "0",
                "0.0",
                "0.0",
            ],
        ],
    );

    // Keyed by (bits, device): 24 on pat's pc (S1) and on tia's phone (T1) are two rows;
    // 30 rio's iPad (R1); 32 quinn's Q1 (its depth from a later beacon than its
    // resolution); NULL pc = S2 Q2; NULL smartphone = M1 (cd=-8 is not 8 or -8).
    run.assert_rows(
        &format!(
            "select color_depth, device, round(share, 4), {METRICS} \
             from '{{out}}/color_depths.parquet' order by color_depth nulls last, device"
        ),
        &[
            &[
                "24", "pc", "0.1429", "1", "1", "2", "0", "0.0", "1", "1.0", "60.0", "0", "0.0",
                "0.0",
            ],
            &[
                "24",
                "smartphone",
                "0.1429",
                "1",
                "1",
                "2",
                "0",
                "0.0",
                "1",
                "1.0",
                "30.0",
                "0",
                "0.0",
                "0.0",
            ],
            &[
                "30", "tablet", "0.1429", "1", "1", "2", "0", "0.0", "1", "1.0", "120.0", "0",
                "0.0", "0.0",
            ],
            &[
                "32", "pc", "0.1429", "1", "1", "1", "1", "1.0", "0", "0.0", "0.0", "0", "0.0",
                "0.0",
            ],
            &[
                "NULL", "pc", "0.2857", "2", "2", "2", "2", "1.0", "0", "0.0", "0.0", "0", "0.0",
                "0.0",
            ],
            &[
                "NULL",
                "smartphone",
                "0.1429",
                "1",
                "1",
                "1",
                "1",
                "1.0",
                "0",
                "0.0",
                "0.0",
                "0",
                "0.0",
                "0.0",
            ],
        ],
    );
}
