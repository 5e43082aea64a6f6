//! The HTML report (`analyze --html`, `report`): its numbers on a log counted by hand, that
//! text from the logs is escaped, that it loads nothing, that both commands write the same
//! page, the error cases, and the page itself in headless Chromium (`tests/browser/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::util::*;

/// Two human visitors and a bot: visitor 1 comes from Google (no keyword: `(not provided)`)
/// and buys on the third page; visitor 2 opens a page whose path holds a script tag and then
/// a missing page, sent by a referrer that tries to close a script element. One bad line.
fn hand_made_log() -> String {
    let (a, b) = (FIREFOX_WIN, CHROME_MAC);
    let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    format!(
        "198.51.100.1 - - [10/Mar/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 900 \"https://www.google.com/\" \"{a}\"\n\
         198.51.100.1 - - [10/Mar/2024:10:01:00 +0000] \"GET /pricing HTTP/1.1\" 200 900 \"https://mysite.test/\" \"{a}\"\n\
         198.51.100.1 - - [10/Mar/2024:10:02:00 +0000] \"GET /checkout/thank-you?value=50 HTTP/1.1\" 200 900 \"https://mysite.test/pricing\" \"{a}\"\n\
         198.51.100.2 - - [10/Mar/2024:11:00:00 +0000] \"GET /x<script>alert(1)</script> HTTP/1.1\" 200 500 \"-\" \"{b}\"\n\
         198.51.100.2 - - [10/Mar/2024:11:00:05 +0000] \"GET /missing HTTP/1.1\" 404 100 \"https://evil.test/</script><script>alert(2)</script>\" \"{b}\"\n\
         66.249.66.1 - - [10/Mar/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 900 \"-\" \"{bot}\"\n\
         this is not a log line\n"
    )
}

/// Analyses the hand-made log, read from a directory whose name holds `</script>` (so the
/// input's name, embedded in the page's JSON, tries to end the script element), with
/// `--html`. Returns the temporary directory, the output directory and the page.
fn hand_made_report(extra: &[&str]) -> (TempDir, PathBuf, String) {
    let dir = TempDir::new().unwrap();
    let logs = dir.path().join("in<").join("script>");
    std::fs::create_dir_all(&logs).unwrap();
    let input = write_file(&logs, "access.log", hand_made_log().as_bytes());
    let out = dir.path().join("out");
    let html = dir.path().join("report.html");
    let mut args = vec!["--html", html.to_str().unwrap()];
    args.extend(SHOP_ARGS);
    args.extend(extra);
    analyze(&[&input], &out, &args);
    let page = std::fs::read_to_string(&html).unwrap();
    (dir, out, page)
}

/// The raw value of a headline number.
fn kpi(page: &str, key: &str) -> String {
    let at = format!("data-kpi=\"{key}\" data-value=\"");
    let start = page
        .find(&at)
        .unwrap_or_else(|| panic!("no headline {key}"))
        + at.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

#[test]
fn the_page_shows_the_hand_counted_numbers() {
    let (_dir, out, page) = hand_made_report(&[]);
    assert_eq!(kpi(&page, "visitors"), "2");
    assert_eq!(kpi(&page, "sessions"), "2");
    assert_eq!(kpi(&page, "page_views"), "4");
    assert_eq!(kpi(&page, "conversions"), "1");
    assert_eq!(kpi(&page, "malformed"), "1");
    assert_eq!(kpi(&page, "bounce_rate"), "0.5");
    // 1 bot hit of 6.
    assert_eq!(kpi(&page, "bot_share"), (1.0f64 / 6.0).to_string());
    assert!(page.contains("<div class=\"v\">50.0%</div><div class=\"l\">bounce rate"));
    assert!(page.contains("value 50.00"), "the conversion's value");
    // The same numbers as the Parquet.
    assert_eq!(
        duckdb_value(
            &out,
            "select visitors || ' ' || sessions || ' ' || page_views from '{out}/summary.parquet'"
        ),
        "2 2 4"
    );
    // Channels, keyword, attribution, errors with their referrer, robots, definitions.
    assert!(page.contains("<td>Organic Search</td><td class=\"n\">1</td>"));
    assert!(page.contains("<td>(not provided)</td><td>Google</td>"));
    assert!(page.contains("<option value=\"last_non_direct_click\">last non direct click"));
    assert!(page.contains("<td>/missing</td><td class=\"n\">404</td>"));
    assert!(page.contains("<td>Googlebot</td>"));
    assert!(page.contains("<dt>site domains</dt><dd>mysite.test</dd>"));
    assert!(page.contains("<dt>session timeout ms</dt><dd>1800000 (30m 00s)</dd>"));
    assert!(page.contains("<td>/pricing</td>"));
    assert!(page.contains("all in <code>pages.parquet</code>"));
}

#[test]
fn text_from_the_logs_is_escaped() {
    let (_dir, _out, page) = hand_made_report(&[]);
    // The path and the referrer, shown as text.
    assert!(page.contains("/x&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        page.contains("https://evil.test/&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;")
    );
    assert!(!page.contains("alert(1)</script>") && !page.contains("<script>alert"));
    // Two script elements, the data and the page's own script; the input's name inside the
    // data cannot end its element.
    assert_eq!(page.matches("<script").count(), 2, "script elements");
    assert_eq!(page.matches("</script>").count(), 2, "script ends");
    let data_start = page.find("<script type=\"application/json\"").unwrap();
    let data = &page[data_start..][..page[data_start..].find("</script>").unwrap()];
    assert!(data.contains(r"in\u003c/script>/access.log"), "{data}");
    assert!(
        page.contains("in&lt;/script&gt;/access.log"),
        "the inputs table"
    );
}

#[test]
fn the_page_loads_nothing() {
    let (_dir, _out, page) = hand_made_report(&[]);
    let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
               style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">";
    assert!(page.contains(csp));
    assert!(
        page.find(csp) < page.find("<style"),
        "the policy comes first"
    );
    // No attribute names a remote or any other resource; no CSS fetches.
    let remote = regex::Regex::new(
        r#"(?i)\b(src|href|srcset|action|poster|data|xlink:href)\s*=\s*["']?\s*(https?:|//|ftp:)"#,
    )
    .unwrap();
    assert!(!remote.is_match(&page), "{:?}", remote.find(&page));
    for pattern in [
        "url(",
        "@import",
        "<img",
        "<iframe",
        "<link rel=\"stylesheet",
        "xmlns",
    ] {
        assert!(!page.contains(pattern), "the page has {pattern}");
    }
    let hrefs = regex::Regex::new(r#"(?i)\b(?:src|href)\s*=\s*"([^"]*)""#).unwrap();
    for href in hrefs.captures_iter(&page) {
        let target = &href[1];
        assert!(
            target.starts_with('#') || target == "data:,",
            "a reference to {target}"
        );
    }
}

/// Runs `accesslens report OUT --html HTML --top TOP`, asserting success; returns the page.
fn report(out: &Path, html: &Path, top: &str) -> String {
    let output = run(&[
        "report",
        out.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--top",
        top,
    ]);
    assert!(output.status.success(), "{output:?}");
    std::fs::read_to_string(html).unwrap()
}

#[test]
fn report_writes_the_same_page_as_analyze() {
    let (dir, out, page) = hand_made_report(&["--html-top", "7"]);
    let html = dir.path().join("again.html");
    assert_eq!(report(&out, &html, "7"), page);
    // Nothing but the page and the output directory is left beside it.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["again.html", "in<", "out", "report.html"]);

    // --top cuts every table and says where the rest is.
    let short = report(&out, &html, "1");
    assert!(
        short.contains("1 of 5 rows; all in <code>pages.parquet</code>"),
        "{short}"
    );
}

#[test]
fn bad_report_command_lines_and_directories() {
    let dir = TempDir::new().unwrap();
    let html = dir.path().join("r.html");
    let html = html.to_str().unwrap();

    // Not an output directory: exit 1, naming the file it looked for.
    let missing = dir.path().join("nowhere");
    let output = run(&["report", missing.to_str().unwrap(), "--html", html]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nowhere/summary.parquet"), "{stderr}");

    // A summary that is not Parquet.
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    write_file(&broken, "summary.parquet", b"not parquet at all");
    let output = run(&["report", broken.to_str().unwrap(), "--html", html]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken/summary.parquet"), "{stderr}");
    assert!(!Path::new(html).exists(), "no page from a bad directory");

    // The command line: no --html, a zero --top.
    let output = run(&["report", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(&[
        "report",
        broken.to_str().unwrap(),
        "--html",
        html,
        "--top",
        "0",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--top"));

    // analyze --html into a directory that does not exist fails before writing anything.
    let input = write_file(dir.path(), "access.log", hand_made_log().as_bytes());
    let out = dir.path().join("out");
    let page = dir.path().join("no-such-dir").join("r.html");
    let output = run(&[
        "analyze",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-dir/r.html"), "{stderr}");
    assert!(!out.exists(), "nothing written");
}

/// Opens the sample's report in headless Chromium with `tests/browser/check.mjs`: no error,
/// no request, the headline numbers of `summary.parquet`, sorting, filtering, a phone's
/// width. Leaves screenshots in `target/tmp/report-screenshots/`.
#[test]
fn the_page_works_in_a_browser() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let html = dir.path().join("report.html");
    analyze(
        &[&fixture("sample.log")],
        &out,
        &[
            "--config",
            &fixture("../accesslens.example.toml").display().to_string(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    check_in_browser(&out, &html, &shots);
    for shot in ["report-light.png", "report-dark.png", "report-phone.png"] {
        assert!(shots.join(shot).is_file(), "{shot}");
    }
}

/// Opens `html` (rendered from the tables in `out`) in headless Chromium: its headline
/// numbers must be the summary's, sorting and filtering must work, it must fit a phone and
/// load nothing; screenshots go to `shots`.
fn check_in_browser(out: &Path, html: &Path, shots: &Path) {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: npm ci --prefix tests/browser (and apt-get install chromium)"
    );
    let dir = TempDir::new().unwrap();
    let columns = [
        "visitors",
        "sessions",
        "page_views",
        "conversions",
        "malformed",
        "bounce_rate",
        "engagement_rate",
    ];
    let values = duckdb_rows(
        out,
        &format!(
            "select {} from '{{out}}/summary.parquet'",
            columns.join(", ")
        ),
    );
    let expected: Vec<String> = columns
        .iter()
        .zip(&values[0])
        .map(|(c, v)| format!("\"{c}\": {v}"))
        .collect();
    let expected = write_file(
        dir.path(),
        "expected.json",
        format!("{{{}}}", expected.join(", ")).as_bytes(),
    );
    let output = Command::new("node")
        .arg(browser.join("check.mjs"))
        .arg(html)
        .arg(&expected)
        .arg(shots)
        .output()
        .expect("node runs (.ci/run installs nodejs)");
    assert!(
        output.status.success(),
        "the browser check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The same for a directory written by `accesslens merge`: its summary, its tables, and the
/// cards of the tables it leaves out.
#[test]
fn the_page_of_a_merged_directory_works_in_a_browser() {
    let dir = TempDir::new().unwrap();
    let state = dir.path().join("state");
    let config = fixture("../accesslens.example.toml").display().to_string();
    analyze(
        &[&fixture("sample.log")],
        &dir.path().join("out"),
        &["--config", &config, "--state", state.to_str().unwrap()],
    );
    let merged = dir.path().join("merged");
    let output = run(&[
        "merge",
        state.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let html = dir.path().join("report.html");
    let output = run(&[
        "report",
        merged.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("merged-report-screenshots");
    check_in_browser(&merged, &html, &shots);
}

#[test]
fn response_times_show_where_the_log_has_them() {
    // A log without them (combined): no response column.
    let (_dir, _out, page) = hand_made_report(&[]);
    let head = "<button type=\"button\">response</button>";
    assert!(
        !page.contains(head),
        "no response column for a combined log"
    );

    // nginx's $request_time: / answered in 12 and 30 ms, /slow in 1.5 s.
    let dir = TempDir::new().unwrap();
    let line = |second: u32, path: &str, taken: &str| {
        format!(
            "198.51.100.1 - - [10/Mar/2024:10:00:{second:02} +0000] \"GET {path} HTTP/1.1\" 200 900 \"-\" \"{FIREFOX_WIN}\" {taken} -\n"
        )
    };
    let log = [
        line(0, "/", "0.012"),
        line(1, "/slow", "1.5"),
        line(2, "/", "0.030"),
    ]
    .concat();
    let input = write_file(dir.path(), "access.log", log.as_bytes());
    let html = dir.path().join("report.html");
    let out = dir.path().join("out");
    analyze(
        &[&input],
        &out,
        &["--format", "nginx", "--html", html.to_str().unwrap()],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(head), "a response column");
    assert!(
        page.contains("<td>/</td><td class=\"n\">2</td>")
            && page.contains("<td class=\"n\" data-v=\"21\">21 ms</td>"),
        "/: 2 views, 21 ms"
    );
    assert!(
        page.contains("<td class=\"n\" data-v=\"1500\">1.50 s</td>"),
        "/slow"
    );

    // Reports written before pages had response times render without the column.
    drop_columns(
        &out.join("pages.parquet"),
        &["avg_response_ms", "max_response_ms"],
    );
    let again = dir.path().join("again.html");
    let page = report(&out, &again, "50");
    assert!(
        !page.contains(head) && page.contains("<td>/slow</td>"),
        "{page}"
    );
}
