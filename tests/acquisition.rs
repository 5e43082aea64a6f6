//! Known answers for acquisition, conversions and attribution: small logs in
//! `fixtures/known/` whose reports are counted by hand from the README's Definitions.
//! `channels.log` sends one session down each channel rule (campaign tags, click ids, known
//! and unknown referrers, internal referrers) and checks `channels`, `sources`, `campaigns`,
//! `search_engines`, `search_keywords` (keywords decoded from UTF-8, EUC-KR and GBK),
//! `landing_pages_by_channel`, `goals`, the sessions' acquisition columns, the referrer tables'
//! channel and `errors.top_channel`. `attribution.log` gives converting visitors several
//! sessions over weeks and checks every attribution model with the default 30-day lookback
//! and with a 7-day one. `ua_sessions.log` holds sessions that the `ga4`, `ua` and `awstats`
//! presets cut differently. A settings file is compared with the equivalent command line, and
//! bad goals and settings files must exit 2 naming the option or the file and line.
//! Every timestamp below is UTC unless it says otherwise.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::util::*;

const SITE: [&str; 2] = ["--site-domain", "mysite.test"];
const PURCHASE: [&str; 4] = [
    "--goal",
    "purchase=/checkout/thank-you",
    "--goal-value-param",
    "value",
];
const SIGNUP: [&str; 2] = ["--goal", "signup=/account/*/welcome"];

/// Runs every query given as an argument on one DuckDB connection (time zone UTC, with a
/// `utc(ts)` macro printing `YYYY-MM-DD HH:MM:SS`) and prints each query's rows as
/// `a | b | c` lines, `NULL` for nulls, followed by a line holding only U+001E.
const SCRIPT: &str = r#"
import sys
try:
    import duckdb
except ImportError:
    sys.stderr.write("the duckdb Python package is missing: python3 -m pip install -r tests/requirements.txt\n")
    sys.exit(3)
sys.stdout.reconfigure(encoding="utf-8")
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("CREATE MACRO utc(t) AS strftime(t, '%Y-%m-%d %H:%M:%S')")
for sql in sys.argv[1:]:
    for row in con.sql(sql).fetchall():
        print(" | ".join("NULL" if v is None else str(v) for v in row))
    print("\x1e")
"#;

/// A finished run: the output directory lives as long as this value.
struct Run {
    _dir: TempDir,
    out: PathBuf,
}

impl Run {
    /// Analyses `fixtures/known/<log>` with `args`, asserting success.
    fn new(log: &str, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        analyze(&[&fixture("known").join(log)], &out, args);
        Run { _dir: dir, out }
    }

    /// The path of one of this run's tables, quoted for SQL.
    fn table(&self, name: &str) -> String {
        format!("'{}/{name}.parquet'", self.out.display())
    }

    /// A query on this run: `{out}` in `sql` stands for its output directory.
    fn check(&self, what: &str, sql: &str, expected: &[&str]) -> Check {
        let sql = sql.replace("{out}", &self.out.display().to_string());
        check(what, sql, expected)
    }
}

/// A query and the rows it must return, each rendered as `a | b | c`.
struct Check {
    what: String,
    sql: String,
    expected: Vec<String>,
}

fn check(what: &str, sql: String, expected: &[&str]) -> Check {
    Check {
        what: what.to_owned(),
        sql,
        expected: expected.iter().map(|row| (*row).to_owned()).collect(),
    }
}

/// Runs every check's query in one Python process (starting one costs more than all the
/// queries) and fails listing every check whose rows differ.
#[track_caller]
fn verify(checks: &[Check]) {
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(checks.iter().map(|c| &c.sql))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "duckdb queries failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    let results: Vec<Vec<&str>> = stdout
        .split_terminator("\u{1e}\n")
        .map(|block| block.lines().collect())
        .collect();
    assert_eq!(results.len(), checks.len(), "one result per query");
    let mut failures = String::new();
    for (check, got) in checks.iter().zip(&results) {
        if *got != check.expected {
            let _ = writeln!(
                failures,
                "\n{}: {}\n  expected:\n    {}\n  got:\n    {}",
                check.what,
                check.sql,
                check.expected.join("\n    "),
                got.join("\n    ")
            );
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// Six aggregate columns shared by the acquisition tables, in this order: sessions,
/// visitors, page_views, bounces, conversions, value.
const COUNTS: &str = "sessions, visitors, page_views, bounces, conversions, round(value, 4)";

// ---------------------------------------------------------------------------------------------
// channels.log
//
// 55 lines on 2024-05-14, all +0000 but 192.0.2.29's (-0400); run with
// `--site-domain mysite.test --goal purchase=/checkout/thank-you --goal-value-param value
// --goal signup=/account/*/welcome`. One visitor per IP (.N below is 192.0.2.N); every
// session's entry page view, its source / medium (Definitions: tags, then click id, then
// external referrer, then direct) and channel (first matching rule):
//
//   S1  .1  10:00 / without referrer: (direct)/(none), Direct. 10:02 /pricing, 10:05
//           /account/new/welcome (the signup glob): 3 pv, 300 s, goal signup, value 0.
//   S2  .2  10:10 /docs from www.mysite.test/blog/, internal: (direct)/(none), Direct. Bounce.
//   S2b .2  16:00 /pricing without referrer, 5 h later: Direct. Bounce.
//   S3  .3  10:20 /blog/running-tips from www.google.com/ without query: google/organic,
//           Organic Search, keyword (not provided). 10:21:30 /products/shoes: 2 pv, 90 s.
//   S4  .4  10:30 /products/shoes from Bing, q=running+shoes: bing/organic, Organic Search.
//           10:31:00 and 10:31:20 the same /checkout/thank-you?order=1001&value=89.90 (a
//           reload): 3 pv, 80 s, goal purchase, value 89.9 (one distinct goal URL).
//   S5  .5  10:40 /products/shoes from search.naver.com, query=%BD%C5%B9%DF&ie=euc-kr (신발
//           in EUC-KR): naver/organic, Organic Search. Bounce.
//   S6  .6  10:45 /products/shoes from m.search.naver.com, query=%EC%8B%A0%EB%B0%9C (신발 in
//           UTF-8): naver/organic, Organic Search. 10:46 /products/shoes/trail: 2 pv, 60 s.
//   S7  .7  10:50 /products/shoes from www.baidu.com, wd=%C5%DC%D0%AC (跑鞋 in GBK, no charset
//           parameter: Baidu's legacy one): baidu/organic, Organic Search. Bounce.
//   S8  .8  11:00 /products/cases from search.yahoo.co.jp, p=iPhone%20%20ケース&ei=UTF-8
//           (lower-cased, spaces collapsed: "iphone ケース"): yahoo/organic (Yahoo Japan's
//           source name), Organic Search. Bounce.
//   S9  .9  11:10 /products/shoes?gclid=… without referrer: google/cpc, Paid Search. 11:11
//           /checkout/oops 404 (not a page view), 11:12 thank-you value=120: 2 pv, 120 s,
//           purchase, value 120.
//   S10 .10 11:20 /?utm_source=google&utm_medium=cpc&utm_campaign=brand: google/cpc (a search
//           source, a paid medium), Paid Search. Bounce.
//   S11 .11 11:30 /sale?utm_source=facebook&utm_medium=paid&utm_campaign=spring-sale: a social
//           source, a paid medium, Paid Social. 11:33:20 /products/shoes: 2 pv, 200 s.
//   S12 .12 11:40 /blog/running-tips from l.facebook.com/: facebook/referral, Organic Social.
//           Bounce.
//   S13 .13 11:45 /blog/running-tips from t.co/x: x/referral, Organic Social. 11:50
//           /account/pro/welcome (signup), 11:52 thank-you value=30.5: 3 pv, 420 s, goal
//           signup (the first reached), value 30.5.
//   S14 .14 12:00 /videos/fit-guide from www.youtube.com/: youtube/referral, Organic Video.
//           Bounce.
//   S15 .15 12:10 /sale?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale
//           &utm_term=shoes&utm_content=hero: newsletter/email, Email. 12:11:00 thank-you
//           order 1004 value=45, 12:11:30 order 1005 value=15 (two distinct goal URLs):
//           3 pv, 90 s, purchase, value 60.
//   S16 .16 12:20 /sale from mail.google.com/ (webmail): gmail/email, Email. Bounce.
//   S17 .17 12:30 /guides/sizing from chatgpt.com/: chatgpt/referral, AI Assistants.
//           12:30:40 /products/shoes: 2 pv, 40 s.
//   S18 .18 12:40 /guides/sizing?utm_source=chatgpt.com: chatgpt.com/(not set), an AI
//           assistant's host and no paid medium, AI Assistants. Bounce.
//   S19 .19 12:50 /sale?utm_source=adnetwork&utm_medium=display&utm_campaign=retarget-q2:
//           Display. Bounce.
//   S20 .20 13:00 /products/shoes?utm_source=partnerblog&utm_medium=affiliate
//           &utm_campaign=spring-sale from partnerblog.example/picks (tags win):
//           partnerblog/affiliate, Affiliates. 13:05 thank-you value=75.25: 2 pv, 300 s,
//           purchase, value 75.25.
//   S21 .21 13:10 /products/shoes from runningblog.example/reviews/best-shoes:
//           runningblog.example/referral, Referral. Bounce.
//   S22 .22 13:20 /?utm_source=google&utm_medium=cpc&utm_campaign=summer-cross-network:
//           google/cpc, but the campaign contains "cross-network": Cross-network. Bounce.
//   S23 .23 13:30 /sale?utm_source=newsletterpartner&utm_medium=cpc: an unknown source, a
//           paid medium, Paid Other. Bounce: the 13:31 POST to the thank-you page is not a
//           page view, so no goal either.
//   S24 .24 13:40 /?utm_source=foo&utm_medium=bar: no rule matches, Unassigned. Bounce.
//   S25 .25 13:50 /products/shoes from www.amazon.com/: amazon/referral, Organic Shopping.
//           Bounce.
//   S26 .26 14:00 /sale?utm_source=sms: sms/(not set), SMS. Bounce.
//   S27 .27 14:10 /?utm_source=podcastnet&utm_medium=audio: Audio. Bounce.
//   S28 .28 14:20 /sale?utm_source=onesignal&utm_medium=push: Mobile Push Notifications.
//           Bounce.
//   S29 .29 14:30 (10:30 -0400) /?utm_source=google&utm_medium=cpc&utm_campaign=brand:
//           Paid Search. 14:30:05 /pricing: 2 pv, 5 s.
//
// Besides: an asset (.1), 404s (.2 /old-page without referrer; .9 /checkout/oops from
// mysite.test/cart; /promo from l.facebook.com (.12), t.co/a (.13), www.facebook.com (.14),
// runningblog.example/p (.21 and .24)), and Googlebot fetching a thank-you URL (a bot).
// 30 sessions, 45 page views, 29 visitors, 19 bounces; conversions S1 S4 S9 S13 S15 S20.
// Every bounce is not engaged and every other session has 2+ page views, so is engaged.
// ---------------------------------------------------------------------------------------------

fn channels_run() -> Run {
    Run::new("channels.log", &[&SITE[..], &PURCHASE, &SIGNUP].concat())
}

#[test]
fn channels_log_channels_and_sources() {
    let run = channels_run();
    verify(&[
        // channel | sessions | visitors | page_views | bounces | engaged | avg_session_s |
        // conversions | conversion_rate | value, from the session list above:
        //   AI Assistants  S17 (2 pv, 40 s) + S18 (bounce): mean 20 s
        //   Affiliates     S20: 2 pv, 300 s, converts with 75.25
        //   Direct         S1 (3 pv, 300 s, signup, value 0) + S2 + S2b (bounces; S2 and S2b
        //                  are one visitor): 3 sessions, 2 visitors, 5 pv, mean 100 s, 1/3 convert
        //   Email          S15 (3 pv, 90 s, 60) + S16 (bounce): mean 45 s
        //   Organic Search S3 (2 pv, 90 s) S4 (3 pv, 80 s, 89.9) S5 S6 (2 pv, 60 s) S7 S8:
        //                  10 pv, bounces S5 S7 S8, mean 230/6 = 38.3333 s, 1/6 convert
        //   Organic Social S12 (bounce) + S13 (3 pv, 420 s, 30.5): mean 210 s
        //   Paid Search    S9 (2 pv, 120 s, 120) S10 (bounce) S29 (2 pv, 5 s): mean 125/3 s
        //   Paid Social    S11: 2 pv, 200 s
        //   the other ten channels: one bounce each
        run.check(
            "channels",
            "select channel, sessions, visitors, page_views, bounces, engaged_sessions, \
             round(avg_session_s, 4), conversions, round(conversion_rate, 4), round(value, 4) \
             from '{out}/channels.parquet' order by channel",
            &[
                "AI Assistants | 2 | 2 | 3 | 1 | 1 | 20.0 | 0 | 0.0 | 0.0",
                "Affiliates | 1 | 1 | 2 | 0 | 1 | 300.0 | 1 | 1.0 | 75.25",
                "Audio | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Cross-network | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Direct | 3 | 2 | 5 | 2 | 1 | 100.0 | 1 | 0.3333 | 0.0",
                "Display | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Email | 2 | 2 | 4 | 1 | 1 | 45.0 | 1 | 0.5 | 60.0",
                "Mobile Push Notifications | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Organic Search | 6 | 6 | 10 | 3 | 3 | 38.3333 | 1 | 0.1667 | 89.9",
                "Organic Shopping | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Organic Social | 2 | 2 | 4 | 1 | 1 | 210.0 | 1 | 0.5 | 30.5",
                "Organic Video | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Paid Other | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Paid Search | 3 | 3 | 5 | 1 | 2 | 41.6667 | 1 | 0.3333 | 120.0",
                "Paid Social | 1 | 1 | 2 | 0 | 1 | 200.0 | 0 | 0.0 | 0.0",
                "Referral | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "SMS | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
                "Unassigned | 1 | 1 | 1 | 1 | 0 | 0.0 | 0 | 0.0 | 0.0",
            ],
        ),
        // 55 lines, one of them Googlebot's. 30 sessions, 45 page views, 29 visitors
        // (192.0.2.1-29), 19 bounces, 11 engaged; 6 conversions of 30 sessions; value
        // 0 + 89.9 + 120 + 30.5 + 60 + 75.25 = 375.65 (the reload, the POST and the bot add
        // nothing).
        run.check(
            "summary",
            "select hits, bot_hits, sessions, page_views, visitors, bounces, engaged_sessions, \
             conversions, round(conversion_rate, 4), round(value, 4) \
             from '{out}/summary.parquet'",
            &["55 | 1 | 30 | 45 | 29 | 19 | 11 | 6 | 0.2 | 375.65"],
        ),
        // source | medium | sessions | visitors | page_views | bounces | conversions | value.
        // A known referrer's source is its lower-case source name (Yahoo Japan is "yahoo",
        // Gmail "gmail", ChatGPT "chatgpt", X "x"); an unknown one's is its host. google/cpc
        // gathers S9 (gclid, 2 pv, 120), S10, S22 (cross-network) and S29 (2 pv): 4 sessions,
        // 6 pv, bounces S10 S22. (direct)/(none) is S1 S2 S2b; naver/organic S5 S6.
        run.check(
            "sources",
            &format!(
                "select source, medium, {COUNTS} from '{{out}}/sources.parquet' \
                 order by source, medium"
            ),
            &[
                "(direct) | (none) | 3 | 2 | 5 | 2 | 1 | 0.0",
                "adnetwork | display | 1 | 1 | 1 | 1 | 0 | 0.0",
                "amazon | referral | 1 | 1 | 1 | 1 | 0 | 0.0",
                "baidu | organic | 1 | 1 | 1 | 1 | 0 | 0.0",
                "bing | organic | 1 | 1 | 3 | 0 | 1 | 89.9",
                "chatgpt | referral | 1 | 1 | 2 | 0 | 0 | 0.0",
                "chatgpt.com | (not set) | 1 | 1 | 1 | 1 | 0 | 0.0",
                "facebook | paid | 1 | 1 | 2 | 0 | 0 | 0.0",
                "facebook | referral | 1 | 1 | 1 | 1 | 0 | 0.0",
                "foo | bar | 1 | 1 | 1 | 1 | 0 | 0.0",
                "gmail | email | 1 | 1 | 1 | 1 | 0 | 0.0",
                "google | cpc | 4 | 4 | 6 | 2 | 1 | 120.0",
                "google | organic | 1 | 1 | 2 | 0 | 0 | 0.0",
                "naver | organic | 2 | 2 | 3 | 1 | 0 | 0.0",
                "newsletter | email | 1 | 1 | 3 | 0 | 1 | 60.0",
                "newsletterpartner | cpc | 1 | 1 | 1 | 1 | 0 | 0.0",
                "onesignal | push | 1 | 1 | 1 | 1 | 0 | 0.0",
                "partnerblog | affiliate | 1 | 1 | 2 | 0 | 1 | 75.25",
                "podcastnet | audio | 1 | 1 | 1 | 1 | 0 | 0.0",
                "runningblog.example | referral | 1 | 1 | 1 | 1 | 0 | 0.0",
                "sms | (not set) | 1 | 1 | 1 | 1 | 0 | 0.0",
                "x | referral | 1 | 1 | 3 | 0 | 1 | 30.5",
                "yahoo | organic | 1 | 1 | 1 | 1 | 0 | 0.0",
                "youtube | referral | 1 | 1 | 1 | 1 | 0 | 0.0",
            ],
        ),
    ]);
}

#[test]
fn channels_log_campaigns() {
    let run = channels_run();
    verify(&[
        // Sessions with campaign tags (S10 S11 S15 S18 S19 S20 S22 S23 S24 S26 S27 S28 S29;
        // the gclid of S9 is a click id, not a tag). The README's columns say a missing
        // source, medium or campaign name is "(not set)", so a session tagged with only
        // utm_source (S18, S26) or utm_source and utm_medium (S23 S24 S27 S28) has a row with
        // campaign "(not set)"; a missing term or content is null. brand gathers S10 (bounce)
        // and S29 (2 pv); the three spring-sale rows differ by source and medium.
        run.check(
            "campaigns",
            &format!(
                "select source, medium, campaign, term, content, channel, {COUNTS} \
                 from '{{out}}/campaigns.parquet' order by source, medium, campaign"
            ),
            &[
                "adnetwork | display | retarget-q2 | NULL | NULL | Display | 1 | 1 | 1 | 1 | 0 | 0.0",
                "chatgpt.com | (not set) | (not set) | NULL | NULL | AI Assistants | 1 | 1 | 1 | 1 | 0 | 0.0",
                "facebook | paid | spring-sale | NULL | NULL | Paid Social | 1 | 1 | 2 | 0 | 0 | 0.0",
                "foo | bar | (not set) | NULL | NULL | Unassigned | 1 | 1 | 1 | 1 | 0 | 0.0",
                "google | cpc | brand | NULL | NULL | Paid Search | 2 | 2 | 3 | 1 | 0 | 0.0",
                "google | cpc | summer-cross-network | NULL | NULL | Cross-network | 1 | 1 | 1 | 1 | 0 | 0.0",
                "newsletter | email | spring-sale | shoes | hero | Email | 1 | 1 | 3 | 0 | 1 | 60.0",
                "newsletterpartner | cpc | (not set) | NULL | NULL | Paid Other | 1 | 1 | 1 | 1 | 0 | 0.0",
                "onesignal | push | (not set) | NULL | NULL | Mobile Push Notifications | 1 | 1 | 1 | 1 | 0 | 0.0",
                "partnerblog | affiliate | spring-sale | NULL | NULL | Affiliates | 1 | 1 | 2 | 0 | 1 | 75.25",
                "podcastnet | audio | (not set) | NULL | NULL | Audio | 1 | 1 | 1 | 1 | 0 | 0.0",
                "sms | (not set) | (not set) | NULL | NULL | SMS | 1 | 1 | 1 | 1 | 0 | 0.0",
            ],
        ),
    ]);
}

#[test]
fn channels_log_search_landing_pages_and_goals() {
    let run = channels_run();
    verify(&[
        // engine | sessions | visitors | page_views | bounces | avg_session_s | conversions |
        // value: Google S3 (2 pv, 90 s); Bing S4 (3 pv, 80 s, 89.9); Naver S5 (bounce) + S6
        // (2 pv, 60 s): mean 30 s; Baidu S7 and Yahoo Japan S8 bounce. No paid session has a
        // search referrer.
        run.check(
            "search_engines",
            "select engine, sessions, visitors, page_views, bounces, round(avg_session_s, 4), \
             conversions, round(value, 4) from '{out}/search_engines.parquet' order by engine",
            &[
                "Baidu | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
                "Bing | 1 | 1 | 3 | 0 | 80.0 | 1 | 89.9",
                "Google | 1 | 1 | 2 | 0 | 90.0 | 0 | 0.0",
                "Naver | 2 | 2 | 3 | 1 | 30.0 | 0 | 0.0",
                "Yahoo Japan | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
            ],
        ),
        // Keywords: Google has none → (not provided); Bing's + is a space; Naver's EUC-KR bytes
        // (ie=euc-kr) and UTF-8 bytes both decode to 신발, one row of 2 sessions; Baidu's GBK
        // bytes (no charset parameter) are its legacy charset → 跑鞋; Yahoo Japan's
        // "iPhone  ケース" lower-cased with its two spaces collapsed.
        run.check(
            "search_keywords",
            &format!(
                "select engine, keyword, {COUNTS} from '{{out}}/search_keywords.parquet' \
                 order by engine, keyword"
            ),
            &[
                "Baidu | 跑鞋 | 1 | 1 | 1 | 1 | 0 | 0.0",
                "Bing | running shoes | 1 | 1 | 3 | 0 | 1 | 89.9",
                "Google | (not provided) | 1 | 1 | 2 | 0 | 0 | 0.0",
                "Naver | 신발 | 2 | 2 | 3 | 1 | 0 | 0.0",
                "Yahoo Japan | iphone ケース | 1 | 1 | 1 | 1 | 0 | 0.0",
            ],
        ),
        // path | channel | sessions | visitors | page_views | bounces | avg_session_s |
        // conversions | value, for three entry pages (a landing URL's query string is not
        // part of its path):
        //   /blog/running-tips: S3 (Organic Search, 2 pv, 90 s); S12 + S13 (Organic Social)
        //   /products/shoes: S4 S5 S6 S7 (Organic Search: 3+1+2+1 pv, bounces S5 S7,
        //     (80+0+60+0)/4 = 35 s, S4 converts 89.9); S9 (Paid Search, gclid); S20
        //     (Affiliates); S21 (Referral); S25 (Organic Shopping)
        //   /sale: S11 (Paid Social, 2 pv, 200 s); S15 + S16 (Email, 3+1 pv, mean 45 s, 60);
        //     S19 (Display); S23 (Paid Other); S26 (SMS); S28 (Mobile Push Notifications)
        run.check(
            "landing_pages_by_channel",
            "select path, channel, sessions, visitors, page_views, bounces, \
             round(avg_session_s, 4), conversions, round(value, 4) \
             from '{out}/landing_pages_by_channel.parquet' \
             where path in ('/blog/running-tips', '/products/shoes', '/sale') \
             order by path, channel",
            &[
                "/blog/running-tips | Organic Search | 1 | 1 | 2 | 0 | 90.0 | 0 | 0.0",
                "/blog/running-tips | Organic Social | 2 | 2 | 4 | 1 | 210.0 | 1 | 30.5",
                "/products/shoes | Affiliates | 1 | 1 | 2 | 0 | 300.0 | 1 | 75.25",
                "/products/shoes | Organic Search | 4 | 4 | 7 | 2 | 35.0 | 1 | 89.9",
                "/products/shoes | Organic Shopping | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
                "/products/shoes | Paid Search | 1 | 1 | 2 | 0 | 120.0 | 1 | 120.0",
                "/products/shoes | Referral | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
                "/sale | Display | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
                "/sale | Email | 2 | 2 | 4 | 1 | 45.0 | 1 | 60.0",
                "/sale | Mobile Push Notifications | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
                "/sale | Paid Other | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
                "/sale | Paid Social | 1 | 1 | 2 | 0 | 200.0 | 0 | 0.0",
                "/sale | SMS | 1 | 1 | 1 | 1 | 0.0 | 0 | 0.0",
            ],
        ),
        // goal | pattern | conversions | visitors | conversion_rate | value. A session counts
        // under the first goal it reached: purchase S4 (89.9) S9 (120) S15 (45 + 15) S20
        // (75.25) = 345.15; signup S1 (no value parameter: 0) and S13, whose purchase after
        // the signup page brings its 30.5. Rates over all 30 sessions.
        run.check(
            "goals",
            "select goal, pattern, conversions, visitors, round(conversion_rate, 4), \
             round(value, 4) from '{out}/goals.parquet' order by goal",
            &[
                "purchase | /checkout/thank-you | 4 | 4 | 0.1333 | 345.15",
                "signup | /account/*/welcome | 2 | 2 | 0.0667 | 30.5",
            ],
        ),
        // Each converter has a single session in the 30 days before (S2b belongs to .2, who
        // does not convert), so all six models give the converting session's channel the
        // whole credit, one row each: S1 Direct (only Direct touchpoints, so
        // last_non_direct_click too), S4 Organic Search, S9 Paid Search, S13 Organic Social,
        // S15 Email, S20 Affiliates. Columns: channel | conversions | value | models.
        run.check(
            "attribution",
            "select channel, round(conversions, 4), round(value, 4), \
             count(*) from '{out}/attribution.parquet' \
             group by all order by channel",
            &[
                "Affiliates | 1.0 | 75.25 | 6",
                "Direct | 1.0 | 0.0 | 6",
                "Email | 1.0 | 60.0 | 6",
                "Organic Search | 1.0 | 89.9 | 6",
                "Organic Social | 1.0 | 30.5 | 6",
                "Paid Search | 1.0 | 120.0 | 6",
            ],
        ),
    ]);
}

#[test]
fn channels_log_session_columns_referrers_and_errors() {
    let run = channels_run();
    verify(&[
        // ip | channel | source | medium | campaign | term | content | search_engine |
        // keyword | converted | goal | value | referrer_internal, for the sessions whose
        // campaign is unambiguous ('-' stands for null), in start order; see the list above.
        run.check(
            "sessions",
            "select ip, channel, source, medium, coalesce(campaign, '-'), coalesce(term, '-'), \
             coalesce(content, '-'), coalesce(search_engine, '-'), coalesce(keyword, '-'), \
             converted, coalesce(goal, '-'), round(value, 4), \
             coalesce(referrer_internal, false) from '{out}/sessions.parquet' \
             where ip in ('192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5', \
             '192.0.2.6', '192.0.2.7', '192.0.2.8', '192.0.2.9', '192.0.2.10', '192.0.2.13', \
             '192.0.2.15', '192.0.2.16', '192.0.2.17', '192.0.2.20', '192.0.2.22', \
             '192.0.2.25') order by start",
            &[
                "192.0.2.1 | Direct | (direct) | (none) | - | - | - | - | - | True | signup | 0.0 | False",
                "192.0.2.2 | Direct | (direct) | (none) | - | - | - | - | - | False | - | 0.0 | True",
                "192.0.2.3 | Organic Search | google | organic | - | - | - | Google | (not provided) | False | - | 0.0 | False",
                "192.0.2.4 | Organic Search | bing | organic | - | - | - | Bing | running shoes | True | purchase | 89.9 | False",
                "192.0.2.5 | Organic Search | naver | organic | - | - | - | Naver | 신발 | False | - | 0.0 | False",
                "192.0.2.6 | Organic Search | naver | organic | - | - | - | Naver | 신발 | False | - | 0.0 | False",
                "192.0.2.7 | Organic Search | baidu | organic | - | - | - | Baidu | 跑鞋 | False | - | 0.0 | False",
                "192.0.2.8 | Organic Search | yahoo | organic | - | - | - | Yahoo Japan | iphone ケース | False | - | 0.0 | False",
                "192.0.2.9 | Paid Search | google | cpc | - | - | - | - | - | True | purchase | 120.0 | False",
                "192.0.2.10 | Paid Search | google | cpc | brand | - | - | - | - | False | - | 0.0 | False",
                "192.0.2.13 | Organic Social | x | referral | - | - | - | - | - | True | signup | 30.5 | False",
                "192.0.2.15 | Email | newsletter | email | spring-sale | shoes | hero | - | - | True | purchase | 60.0 | False",
                "192.0.2.16 | Email | gmail | email | - | - | - | - | - | False | - | 0.0 | False",
                "192.0.2.17 | AI Assistants | chatgpt | referral | - | - | - | - | - | False | - | 0.0 | False",
                "192.0.2.20 | Affiliates | partnerblog | affiliate | spring-sale | - | - | - | - | True | purchase | 75.25 | False",
                "192.0.2.22 | Cross-network | google | cpc | summer-cross-network | - | - | - | - | False | - | 0.0 | False",
                "192.0.2.25 | Organic Shopping | amazon | referral | - | - | - | - | - | False | - | 0.0 | False",
                "192.0.2.2 | Direct | (direct) | (none) | - | - | - | - | - | False | - | 0.0 | False",
            ],
        ),
        // host | channel | sessions | conversions | value | referrers: the external hosts of
        // session entries (S2's www.mysite.test is internal; the 404s' referrers are not
        // entries). The channel is that of an untagged arrival, so partnerblog.example is
        // Referral although S20's tags make that session Affiliates.
        run.check(
            "referring_sites",
            "select host, channel, sessions, conversions, round(value, 4), referrers \
             from '{out}/referring_sites.parquet' order by host",
            &[
                "chatgpt.com | AI Assistants | 1 | 0 | 0.0 | 1",
                "l.facebook.com | Organic Social | 1 | 0 | 0.0 | 1",
                "m.search.naver.com | Organic Search | 1 | 0 | 0.0 | 1",
                "mail.google.com | Email | 1 | 0 | 0.0 | 1",
                "partnerblog.example | Referral | 1 | 1 | 75.25 | 1",
                "runningblog.example | Referral | 1 | 0 | 0.0 | 1",
                "search.naver.com | Organic Search | 1 | 0 | 0.0 | 1",
                "search.yahoo.co.jp | Organic Search | 1 | 0 | 0.0 | 1",
                "t.co | Organic Social | 1 | 1 | 30.5 | 1",
                "www.amazon.com | Organic Shopping | 1 | 0 | 0.0 | 1",
                "www.baidu.com | Organic Search | 1 | 0 | 0.0 | 1",
                "www.bing.com | Organic Search | 1 | 1 | 89.9 | 1",
                "www.google.com | Organic Search | 1 | 0 | 0.0 | 1",
                "www.youtube.com | Organic Video | 1 | 0 | 0.0 | 1",
            ],
        ),
        // The same fourteen entries by full referrer URL.
        run.check(
            "referrers",
            "select referrer, channel, sessions from '{out}/referrers.parquet' order by referrer",
            &[
                "https://chatgpt.com/ | AI Assistants | 1",
                "https://l.facebook.com/ | Organic Social | 1",
                "https://m.search.naver.com/search.naver?where=m&query=%EC%8B%A0%EB%B0%9C | Organic Search | 1",
                "https://mail.google.com/ | Email | 1",
                "https://partnerblog.example/picks | Referral | 1",
                "https://runningblog.example/reviews/best-shoes | Referral | 1",
                "https://search.naver.com/search.naver?where=nexearch&query=%BD%C5%B9%DF&ie=euc-kr | Organic Search | 1",
                "https://search.yahoo.co.jp/search?p=iPhone%20%20%E3%82%B1%E3%83%BC%E3%82%B9&ei=UTF-8 | Organic Search | 1",
                "https://t.co/x | Organic Social | 1",
                "https://www.amazon.com/ | Organic Shopping | 1",
                "https://www.baidu.com/s?wd=%C5%DC%D0%AC | Organic Search | 1",
                "https://www.bing.com/search?q=running+shoes&form=QBLH | Organic Search | 1",
                "https://www.google.com/ | Organic Search | 1",
                "https://www.youtube.com/ | Organic Video | 1",
            ],
        ),
        // path | status | hits | visitors | referred_hits | top_referrer | top_referrer_hits |
        // top_referrer_internal | top_channel (hits and internal shown as 0/False when there
        // is no referrer):
        //   /checkout/oops: one hit from mysite.test/cart, internal, so Direct
        //   /old-page: one hit without referrer: Direct
        //   /promo: five hits by five visitors; runningblog.example/p sent two (the top
        //     referrer, Referral) but l.facebook.com, t.co and www.facebook.com sent three
        //     together, so Organic Social sent the most
        run.check(
            "errors",
            "select path, status, hits, visitors, referred_hits, top_referrer, \
             coalesce(top_referrer_hits, 0), coalesce(top_referrer_internal, false), top_channel \
             from '{out}/errors.parquet' order by path",
            &[
                "/checkout/oops | 404 | 1 | 1 | 1 | https://mysite.test/cart | 1 | True | Direct",
                "/old-page | 404 | 1 | 1 | 0 | NULL | 0 | False | Direct",
                "/promo | 404 | 5 | 5 | 5 | https://runningblog.example/p | 2 | False | Organic Social",
            ],
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------
// attribution.log
//
// 21 lines; run with `--site-domain mysite.test --goal purchase=/checkout/thank-you
// --goal-value-param value`. Each converting session reaches the thank-you page 30 s after it
// starts. Sessions (channel; days before each conversion):
//   A 198.51.100.1: A1 06-01 10:00 ref google → Organic Search; A2 06-10 10:00
//     utm_medium=email → Email (2 pv); A3 06-15 10:00 no referrer → Direct, converts 100.
//     Conversion cA: A1 14 d, A2 5 d, A3 0.
//   B 198.51.100.2: B1 06-03 12:00 Direct; B2 06-12 12:00 ref mysite.test (internal) → Direct,
//     converts 50. cB: B1 9 d, B2 0 (a 404 before B2 is not a page view).
//   C 198.51.100.3: C1 05-01 08:00 gclid → Paid Search, 44 days before C3: outside the
//     30-day lookback; C2 06-04 08:00 ref runningblog.example → Referral; C3 06-14 08:00 ref
//     t.co → Organic Social, converts 80. cC: C2 10 d, C3 0.
//   D 198.51.100.4 (written -0700): D1 05-25 18:00 facebook/paid → Paid Social; D2 06-08 18:00
//     ref mail.google.com → Email, converts 30; D3 06-12 18:00 Direct, converts 70.
//     cD2: D1 14 d, D2 0. cD3: D1 18 d, D2 4 d, D3 0 (the earlier converting session counts).
//   E 198.51.100.5: one Organic Video session (YouTube), 2 pv, no conversion.
// 12 sessions, 5 conversions, value 100 + 50 + 80 + 30 + 70 = 330.
//
// Time decay weighs a touchpoint 2^(-d/7) for d days between its session's start and the
// conversion, normalised per conversion. Measuring to the thank-you page 30 s after the
// converting session's start instead multiplies every weight of a conversion by the same
// 2^(-30 s / 7 d), which the normalisation cancels.
//   cA: 1/4, 2^(-5/7) = 0.609507, 1; sum 1.859507 → OS 0.134444, Email 0.327779, Direct 0.537777
//   cC: 2^(-10/7) = 0.371499, 1; sum 1.371499 → Referral 0.270871, Organic Social 0.729129
//   cD2: 1/4, 1 → Paid Social 1/5, Email 4/5
//   cD3: 2^(-18/7) = 0.168238, 2^(-4/7) = 0.672950, 1; sum 1.841188
//        → Paid Social 0.091374, Email 0.365498, Direct 0.543128
// ---------------------------------------------------------------------------------------------

const ATTRIBUTION_ARGS: [&str; 6] = SHOP_ARGS;

const ATTRIBUTION_ROWS: &str = "select model, channel, round(conversions, 4), round(value, 4) \
     from '{out}/attribution.parquet' order by model, channel";

/// Every model with the default 30-day lookback (see the sums below).
const ATTRIBUTION_30D: [&str; 28] = [
    // First touchpoint: cA A1 OS, cB B1 Direct, cC C2 Referral (C1 is too old),
    // cD2 and cD3 D1 Paid Social (30 + 70).
    "first_click | Direct | 1.0 | 50.0",
    "first_click | Organic Search | 1.0 | 100.0",
    "first_click | Paid Social | 2.0 | 100.0",
    "first_click | Referral | 1.0 | 80.0",
    // The converting session: A3 B2 D3 Direct (100 + 50 + 70), C3 Organic Social, D2 Email.
    "last_click | Direct | 3.0 | 220.0",
    "last_click | Email | 1.0 | 30.0",
    "last_click | Organic Social | 1.0 | 80.0",
    // Last non-Direct: cA A2 Email, cC C3, cD2 D2 Email, cD3 D2 Email (100 + 30 + 70); B has
    // only Direct touchpoints, so Direct.
    "last_non_direct_click | Direct | 1.0 | 50.0",
    "last_non_direct_click | Email | 3.0 | 200.0",
    "last_non_direct_click | Organic Social | 1.0 | 80.0",
    // Linear: cA thirds, cB all Direct, cC halves, cD2 halves, cD3 thirds.
    //   Direct 1/3 + 1 + 1/3 = 5/3; value 100/3 + 50 + 70/3 = 106.6667
    //   Email 1/3 + 1/2 + 1/3 = 7/6; value 100/3 + 15 + 70/3 = 71.6667
    //   Organic Search 1/3 (33.3333); Referral and Organic Social 1/2 (40)
    //   Paid Social 1/2 + 1/3 = 5/6; value 15 + 70/3 = 38.3333
    "linear | Direct | 1.6667 | 106.6667",
    "linear | Email | 1.1667 | 71.6667",
    "linear | Organic Search | 0.3333 | 33.3333",
    "linear | Organic Social | 0.5 | 40.0",
    "linear | Paid Social | 0.8333 | 38.3333",
    "linear | Referral | 0.5 | 40.0",
    // Position based: three touchpoints 0.4 / 0.2 / 0.4, two halves, one all.
    //   Direct cA 0.4 (40) + cB 1 (50) + cD3 0.4 (28) = 1.8, 118
    //   Email cA 0.2 (20) + cD2 0.5 (15) + cD3 0.2 (14) = 0.9, 49
    //   Organic Search cA 0.4 (40); Referral, Organic Social cC 0.5 (40)
    //   Paid Social cD2 0.5 (15) + cD3 0.4 (28) = 0.9, 43
    "position_based | Direct | 1.8 | 118.0",
    "position_based | Email | 0.9 | 49.0",
    "position_based | Organic Search | 0.4 | 40.0",
    "position_based | Organic Social | 0.5 | 40.0",
    "position_based | Paid Social | 0.9 | 43.0",
    "position_based | Referral | 0.5 | 40.0",
    // Time decay (weights in the header):
    //   Direct 0.537777 + 1 + 0.543128 = 2.080905; value 53.7777 + 50 + 38.0190 = 141.7966
    //   Email 0.327779 + 0.8 + 0.365498 = 1.493277; value 32.7779 + 24 + 25.5849 = 82.3627
    //   Organic Search 0.134444 (13.4444); Organic Social 0.729129 (58.3304);
    //   Referral 0.270871 (21.6696); Paid Social 0.2 + 0.091374 = 0.291374 (6 + 6.3962)
    "time_decay | Direct | 2.0809 | 141.7966",
    "time_decay | Email | 1.4933 | 82.3627",
    "time_decay | Organic Search | 0.1344 | 13.4444",
    "time_decay | Organic Social | 0.7291 | 58.3304",
    "time_decay | Paid Social | 0.2914 | 12.3962",
    "time_decay | Referral | 0.2709 | 21.6696",
];

/// Every model with `--attribution-lookback 7d`: the touchpoints shrink to cA A2 (5 d) + A3,
/// cB B2, cC C3, cD2 D2, cD3 D2 (4 d) + D3.
const ATTRIBUTION_7D: [&str; 18] = [
    // First touchpoint: A2 Email (100), B2 Direct, C3 Organic Social, D2 Email twice (30 + 70).
    "first_click | Direct | 1.0 | 50.0",
    "first_click | Email | 3.0 | 200.0",
    "first_click | Organic Social | 1.0 | 80.0",
    // The converting sessions do not change.
    "last_click | Direct | 3.0 | 220.0",
    "last_click | Email | 1.0 | 30.0",
    "last_click | Organic Social | 1.0 | 80.0",
    "last_non_direct_click | Direct | 1.0 | 50.0",
    "last_non_direct_click | Email | 3.0 | 200.0",
    "last_non_direct_click | Organic Social | 1.0 | 80.0",
    // Linear and position based agree (two touchpoints: halves): Direct cA 1/2 (50) + cB 1
    // (50) + cD3 1/2 (35) = 2, 135; Email cA 1/2 (50) + cD2 1 (30) + cD3 1/2 (35) = 2, 115.
    "linear | Direct | 2.0 | 135.0",
    "linear | Email | 2.0 | 115.0",
    "linear | Organic Social | 1.0 | 80.0",
    "position_based | Direct | 2.0 | 135.0",
    "position_based | Email | 2.0 | 115.0",
    "position_based | Organic Social | 1.0 | 80.0",
    // Time decay: cA 2^(-5/7), 1 → Email 0.378692, Direct 0.621308; cD3 2^(-4/7), 1 → Email
    // 0.402254, Direct 0.597746. Direct 0.621308 + 1 + 0.597746 = 2.219054, value 62.1308 +
    // 50 + 41.8422 = 153.9731; Email 0.378692 + 1 + 0.402254 = 1.780946, value 37.8692 + 30 +
    // 28.1578 = 96.0269.
    "time_decay | Direct | 2.2191 | 153.9731",
    "time_decay | Email | 1.7809 | 96.0269",
    "time_decay | Organic Social | 1.0 | 80.0",
];

#[test]
fn attribution_log_models_and_lookback() {
    let run = Run::new("attribution.log", &ATTRIBUTION_ARGS);
    let week = Run::new(
        "attribution.log",
        &[&ATTRIBUTION_ARGS[..], &["--attribution-lookback", "7d"]].concat(),
    );
    verify(&[
        // The twelve sessions and their channels, as listed in the header.
        run.check(
            "sessions",
            "select ip, utc(start), channel, converted, round(value, 4) \
             from '{out}/sessions.parquet' order by ip, start",
            &[
                "198.51.100.1 | 2024-06-01 10:00:00 | Organic Search | False | 0.0",
                "198.51.100.1 | 2024-06-10 10:00:00 | Email | False | 0.0",
                "198.51.100.1 | 2024-06-15 10:00:00 | Direct | True | 100.0",
                "198.51.100.2 | 2024-06-03 12:00:00 | Direct | False | 0.0",
                "198.51.100.2 | 2024-06-12 12:00:00 | Direct | True | 50.0",
                "198.51.100.3 | 2024-05-01 08:00:00 | Paid Search | False | 0.0",
                "198.51.100.3 | 2024-06-04 08:00:00 | Referral | False | 0.0",
                "198.51.100.3 | 2024-06-14 08:00:00 | Organic Social | True | 80.0",
                "198.51.100.4 | 2024-05-25 18:00:00 | Paid Social | False | 0.0",
                "198.51.100.4 | 2024-06-08 18:00:00 | Email | True | 30.0",
                "198.51.100.4 | 2024-06-12 18:00:00 | Direct | True | 70.0",
                "198.51.100.5 | 2024-06-05 09:00:00 | Organic Video | False | 0.0",
            ],
        ),
        // Five converting sessions worth 330.
        run.check(
            "summary",
            "select sessions, conversions, round(value, 4) from '{out}/summary.parquet'",
            &["12 | 5 | 330.0"],
        ),
        run.check("attribution 30d", ATTRIBUTION_ROWS, &ATTRIBUTION_30D),
        // Per model the credit sums to the 5 conversions and their value 330.
        run.check(
            "attribution sums",
            "select model, round(sum(conversions), 4), round(sum(value), 4) \
             from '{out}/attribution.parquet' group by model order by model",
            &[
                "first_click | 5.0 | 330.0",
                "last_click | 5.0 | 330.0",
                "last_non_direct_click | 5.0 | 330.0",
                "linear | 5.0 | 330.0",
                "position_based | 5.0 | 330.0",
                "time_decay | 5.0 | 330.0",
            ],
        ),
        week.check("attribution 7d", ATTRIBUTION_ROWS, &ATTRIBUTION_7D),
    ]);
}

// ---------------------------------------------------------------------------------------------
// ua_sessions.log
//
// 20 lines, all written +0900 on 2024-07-01/02, run with `--site-domain mysite.test`. Local
// times (UTC is 9 hours earlier):
//   M 203.0.113.1: 07-01 23:50 / (+ a css at 23:50:01), 07-02 00:10 /pricing (internal
//     referrer): 20 minutes apart across local midnight (UTC 14:50 and 15:10, one UTC day).
//   U 203.0.113.2: 08:50 /, 09:10 /pricing: 20 minutes apart across UTC midnight only.
//   N 203.0.113.3: 10:00 /blog ref google; 10:05 /pricing internal (+ a css at 10:05:01);
//     10:10 /sale?utm_source=newsletter&utm_medium=email (a new campaign); 10:15 /products
//     without referrer; 10:20 /cart internal; 10:25 /products/shoes ref bing (a new external
//     source); 10:30 /checkout internal.
//   P 203.0.113.4: 11:00 /blog ref google, 11:05 /docs ref google again (the same source).
//   Q 203.0.113.5: 12:00 /, 12:31 /pricing: 31 minutes apart.
//   R 203.0.113.6: 13:00 and 13:10 the same newsletter link (the same campaign), 13:12
//     /products/shoes?gclid=… (google/cpc: another source).
// ---------------------------------------------------------------------------------------------

const SESSION_COUNTS: &str = "select sum(n), string_agg(n::varchar, ',' order by ip) \
     from (select ip, count(*) as n from '{out}/sessions.parquet' group by ip)";

const UA_SESSION_ROWS: &str = r#"select ip, utc(start), utc("end"), page_views, entry_page,
    exit_page, channel, source from '{out}/sessions.parquet' order by start"#;

#[test]
fn ua_sessions_log_presets() {
    let ga4 = Run::new("ua_sessions.log", &SITE);
    let ua = Run::new(
        "ua_sessions.log",
        &[&SITE[..], &["--sessions", "ua"]].concat(),
    );
    let ua_same_source = Run::new(
        "ua_sessions.log",
        &[
            &SITE[..],
            &[
                "--sessions",
                "ua",
                "--new-session-on-source-change",
                "false",
            ],
        ]
        .concat(),
    );
    let ga4_source = Run::new(
        "ua_sessions.log",
        &[
            &SITE[..],
            &[
                "--sessions",
                "ga4",
                "--new-session-on-source-change",
                "true",
            ],
        ]
        .concat(),
    );
    let awstats = Run::new(
        "ua_sessions.log",
        &[&SITE[..], &["--sessions", "awstats"]].concat(),
    );
    verify(&[
        // ga4 cuts only Q's 31-minute gap: sessions per visitor M U N P Q R = 1 1 1 1 2 1.
        ga4.check("ga4 counts", SESSION_COUNTS, &["7 | 1,1,1,1,2,1"]),
        // ga4: one session per visitor but Q; N's is 10:00-10:30 local, 7 pv, decided by its
        // entry (google); R's by the newsletter tags.
        ga4.check(
            "ga4 sessions",
            UA_SESSION_ROWS,
            &[
                "203.0.113.1 | 2024-07-01 14:50:00 | 2024-07-01 15:10:00 | 2 | / | /pricing | Direct | (direct)",
                "203.0.113.2 | 2024-07-01 23:50:00 | 2024-07-02 00:10:00 | 2 | / | /pricing | Direct | (direct)",
                "203.0.113.3 | 2024-07-02 01:00:00 | 2024-07-02 01:30:00 | 7 | /blog | /checkout | Organic Search | google",
                "203.0.113.4 | 2024-07-02 02:00:00 | 2024-07-02 02:05:00 | 2 | /blog | /docs | Organic Search | google",
                "203.0.113.5 | 2024-07-02 03:00:00 | 2024-07-02 03:00:00 | 1 | / | / | Direct | (direct)",
                "203.0.113.5 | 2024-07-02 03:31:00 | 2024-07-02 03:31:00 | 1 | /pricing | /pricing | Direct | (direct)",
                "203.0.113.6 | 2024-07-02 04:00:00 | 2024-07-02 04:12:00 | 3 | /sale | /products/shoes | Email | newsletter",
            ],
        ),
        // ua also cuts M at local midnight (not U at UTC midnight), N at the newsletter and
        // at bing (not at the direct or internal page views between), R at the gclid (not at
        // the repeated newsletter link), and not P (google both times): 2 1 3 1 2 2.
        ua.check("ua counts", SESSION_COUNTS, &["11 | 2,1,3,1,2,2"]),
        ua.check(
            "ua sessions",
            UA_SESSION_ROWS,
            &[
                "203.0.113.1 | 2024-07-01 14:50:00 | 2024-07-01 14:50:00 | 1 | / | / | Direct | (direct)",
                "203.0.113.1 | 2024-07-01 15:10:00 | 2024-07-01 15:10:00 | 1 | /pricing | /pricing | Direct | (direct)",
                "203.0.113.2 | 2024-07-01 23:50:00 | 2024-07-02 00:10:00 | 2 | / | /pricing | Direct | (direct)",
                "203.0.113.3 | 2024-07-02 01:00:00 | 2024-07-02 01:05:00 | 2 | /blog | /pricing | Organic Search | google",
                "203.0.113.3 | 2024-07-02 01:10:00 | 2024-07-02 01:20:00 | 3 | /sale | /cart | Email | newsletter",
                "203.0.113.3 | 2024-07-02 01:25:00 | 2024-07-02 01:30:00 | 2 | /products/shoes | /checkout | Organic Search | bing",
                "203.0.113.4 | 2024-07-02 02:00:00 | 2024-07-02 02:05:00 | 2 | /blog | /docs | Organic Search | google",
                "203.0.113.5 | 2024-07-02 03:00:00 | 2024-07-02 03:00:00 | 1 | / | / | Direct | (direct)",
                "203.0.113.5 | 2024-07-02 03:31:00 | 2024-07-02 03:31:00 | 1 | /pricing | /pricing | Direct | (direct)",
                "203.0.113.6 | 2024-07-02 04:00:00 | 2024-07-02 04:10:00 | 2 | /sale | /sale | Email | newsletter",
                "203.0.113.6 | 2024-07-02 04:12:00 | 2024-07-02 04:12:00 | 1 | /products/shoes | /products/shoes | Paid Search | google",
            ],
        ),
        // ua without the source rule keeps only the midnight cut: M 2, N 1, R 1.
        ua_same_source.check("ua, no source rule", SESSION_COUNTS, &["8 | 2,1,1,1,2,1"]),
        // ga4 with the source rule: N 3, R 2, M 1 (no midnight rule).
        ga4_source.check("ga4 + source rule", SESSION_COUNTS, &["10 | 1,1,3,1,2,2"]),
        // awstats' 60-minute timeout also keeps Q's 31-minute gap: one session each.
        awstats.check("awstats counts", SESSION_COUNTS, &["6 | 1,1,1,1,1,1"]),
    ]);
}

// ---------------------------------------------------------------------------------------------
// Settings file and command-line errors
// ---------------------------------------------------------------------------------------------

/// The settings that `ATTRIBUTION_ARGS` plus `--attribution-lookback 7d` give on the command
/// line.
const ATTRIBUTION_TOML: &str = r#"# attribution.log with a one-week lookback
site_domains = ["mysite.test"]
sessions = "ga4"
goals = ["purchase=/checkout/thank-you"]
goal_value_param = "value"
attribution_lookback = "7d"
"#;

/// A query returning how many rows of table `t` run `a` has that run `b` lacks plus the
/// other way round, and how many rows `a` has.
fn same_table(t: &str, a: &Run, b: &Run) -> Check {
    let (a, b) = (a.table(t), b.table(t));
    check(
        t,
        format!(
            "select (select count(*) from (select * from {a} except all select * from {b})) + \
             (select count(*) from (select * from {b} except all select * from {a})), \
             (select count(*) from {a})"
        ),
        &[],
    )
}

#[test]
fn config_file_matches_the_command_line_which_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_file(dir.path(), "accesslens.toml", ATTRIBUTION_TOML.as_bytes());
    let config = config.to_str().expect("utf-8 path");
    let cli = Run::new(
        "attribution.log",
        &[&ATTRIBUTION_ARGS[..], &["--attribution-lookback", "7d"]].concat(),
    );
    let file = Run::new("attribution.log", &["--config", config]);
    // The command line's lookback and goal list replace the file's; its site domain and value
    // parameter stay.
    let overridden = Run::new(
        "attribution.log",
        &[
            "--config",
            config,
            "--attribution-lookback",
            "30d",
            "--goal",
            "order=/checkout/thank-you",
        ],
    );

    // Identical tables: no row of one run is missing from the other. Row counts: 12
    // sessions; 8 channels (Organic Search, Email, Direct, Paid Search, Referral, Organic
    // Social, Paid Social, Organic Video); 1 goal; 18 attribution rows (see ATTRIBUTION_7D);
    // sources (direct)/(none), google/organic, newsletter/email, google/cpc,
    // runningblog.example/referral, x/referral, facebook/paid, gmail/email, youtube/referral.
    let mut checks: Vec<Check> = [
        ("sessions", "0 | 12"),
        ("channels", "0 | 8"),
        ("goals", "0 | 1"),
        ("attribution", "0 | 18"),
        ("sources", "0 | 9"),
        ("summary", "0 | 1"),
    ]
    .into_iter()
    .map(|(t, expected)| Check {
        expected: vec![expected.to_owned()],
        ..same_table(t, &file, &cli)
    })
    .collect();
    checks.extend([
        // The file's 7-day lookback is used (see ATTRIBUTION_7D).
        file.check("file: attribution", ATTRIBUTION_ROWS, &ATTRIBUTION_7D),
        // With the command line's 30 days the attribution is the default run's.
        overridden.check("override: attribution", ATTRIBUTION_ROWS, &ATTRIBUTION_30D),
        // The command line's goal list replaces the file's: one goal, `order`, reached by
        // all five converting sessions of four visitors (A B C D), 5 of 12 sessions, 330.
        overridden.check(
            "override: goals",
            "select goal, pattern, conversions, visitors, round(conversion_rate, 4), \
             round(value, 4) from '{out}/goals.parquet'",
            &["order | /checkout/thank-you | 5 | 4 | 0.4167 | 330.0"],
        ),
    ]);
    verify(&checks);
}

/// Asserts that `output` is a command-line error: exit code 2 and a message containing every
/// one of `mentions`.
#[track_caller]
fn assert_usage_error(output: &Output, mentions: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    for mention in mentions {
        assert!(
            stderr.contains(mention),
            "stderr should name {mention:?}: {stderr}"
        );
    }
}

/// Whether an error message names line `line`, as `line 3` or `file:3:`.
fn names_line(message: &str, line: u32) -> bool {
    message.contains(&format!("line {line}"))
        || message.contains(&format!(":{line}:"))
        || message.contains(&format!(":{line}\n"))
        || message.contains(&format!(":{line} "))
}

#[test]
fn bad_goals_and_settings_files_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = fixture("known").join("attribution.log");
    let log = log.to_str().expect("utf-8 path");
    let out = dir.path().join("out");
    let out = out.to_str().expect("utf-8 path");
    let analyze_with = |extra: &[&str]| run(&[&["analyze", log, "--out", out][..], extra].concat());

    // A goal without `=` and a goal whose regular expression does not compile.
    for goal in ["purchase", "lead=re:("] {
        let output = analyze_with(&["--goal", goal]);
        assert_usage_error(&output, &["--goal"]);
    }

    // An unknown key on line 3, and a value that is not TOML (an unquoted string) on line 2.
    let unknown = write_file(
        dir.path(),
        "unknown-key.toml",
        b"sessions = \"ga4\"\ngoal_value_param = \"value\"\nlookback_days = 7\n",
    );
    let syntax = write_file(
        dir.path(),
        "syntax.toml",
        b"site_domains = [\"mysite.test\"]\nsessions = ga4\ngoal_value_param = \"value\"\n",
    );
    for (path, line) in [(&unknown, 3), (&syntax, 2)] {
        let path = path.to_str().expect("utf-8 path");
        let output = analyze_with(&["--config", path]);
        assert_usage_error(&output, &[path]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            names_line(&stderr, line),
            "stderr should name line {line}: {stderr}"
        );
    }

    // None of these runs wrote anything.
    assert!(!Path::new(out).exists(), "a failed run created {out}");
}
