//! `--log-format` and `--visitor-key` through the real binary: a log in the user's own Apache
//! or nginx format is read whole, its format string and the visitor key are recorded in the
//! definitions, mistakes exit 2 naming the option, and the visitor key changes who counts as
//! one visitor.

use std::path::Path;

use crate::util::*;

/// Three requests in an Apache format with the response time and the `sid` cookie logged,
/// plus one line that does not fit. Two browsers share one address (an office behind NAT):
/// cookie `A` (two page views) and cookie `B` (one).
fn apache_log(dir: &Path) -> std::path::PathBuf {
    let lines = [
        format!(
            r#"shop.example.com 203.0.113.7 - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "{FIREFOX_WIN}" 1200 A"#
        ),
        format!(
            r#"shop.example.com 203.0.113.7 - [10/Oct/2026:13:56:36 +0000] "GET /b HTTP/1.1" 200 512 "https://www.google.com/" "{FIREFOX_WIN}" 800 B"#
        ),
        format!(
            r#"shop.example.com 203.0.113.7 - [10/Oct/2026:13:57:36 +0000] "GET /c HTTP/1.1" 200 512 "-" "{FIREFOX_WIN}" 950 A"#
        ),
        "shop.example.com 203.0.113.7 - [10/Oct/2026:13:57:36 +0000] GET /c".to_owned(),
    ];
    write_file(dir, "access.log", (lines.join("\n") + "\n").as_bytes())
}

const APACHE_FORMAT: &str =
    r#"%v %h %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D %{sid}C"#;

fn definition(out: &Path, key: &str) -> String {
    duckdb_value(
        out,
        &format!(
            "select json_extract_string(decode(value), '$.{key}') \
             from parquet_kv_metadata('{{out}}/summary.parquet') where decode(key) = 'accesslens.definitions'"
        ),
    )
}

#[test]
fn an_apache_format_is_read_whole_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let log = apache_log(dir.path());
    let out = dir.path().join("out");
    analyze(&[&log], &out, &["--log-format", APACHE_FORMAT]);
    let rows = duckdb_rows(
        &out,
        "select format, lines, hits, malformed from '{out}/inputs.parquet'",
    );
    assert_eq!(rows, [["custom", "4", "3", "1"]]);
    let reason = duckdb_value(&out, "select reason from '{out}/malformed_samples.parquet'");
    assert_eq!(reason, "no quoted request after the timestamp");
    assert_eq!(definition(&out, "format"), "custom");
    assert_eq!(definition(&out, "log_format"), APACHE_FORMAT);
    assert_eq!(definition(&out, "visitor_key"), "ip+user_agent");
    // One browser behind one address: one visitor by default.
    assert_eq!(
        duckdb_value(&out, "select visitors from '{out}/summary.parquet'"),
        "1"
    );
}

#[test]
fn the_visitor_key_decides_who_is_one_visitor() {
    let dir = tempfile::tempdir().unwrap();
    let log = apache_log(dir.path());
    let count = |key: &str| {
        let out = dir.path().join(key.replace(':', "_"));
        analyze(
            &[&log],
            &out,
            &["--log-format", APACHE_FORMAT, "--visitor-key", key],
        );
        (
            duckdb_value(&out, "select visitors from '{out}/summary.parquet'"),
            duckdb_value(&out, "select sessions from '{out}/summary.parquet'"),
            definition(&out, "visitor_key"),
        )
    };
    assert_eq!(
        count("cookie:sid"),
        ("2".into(), "2".into(), "cookie:sid".into())
    );
    assert_eq!(count("ip"), ("1".into(), "1".into(), "ip".into()));
    // Nobody logged in: every line falls back to ip+ua.
    assert_eq!(count("user"), ("1".into(), "1".into(), "user".into()));
}

/// An IIS log with the Cookie header logged (`cs(Cookie)`, spaces as `+`): one address and
/// one browser, cookie `sid=A` on two page views, `sid=B` on one, and one line without a
/// cookie (it falls back to ip+ua, a visitor of its own).
#[test]
fn the_visitor_cookie_from_a_w3c_log() {
    let dir = tempfile::tempdir().unwrap();
    let agent = FIREFOX_WIN.replace(' ', "+");
    let log = write_file(
        dir.path(),
        "u_ex261010.log",
        format!(
            "#Software: Microsoft Internet Information Services 10.0\n\
             #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Cookie) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n\
             2026-10-10 13:55:36 10.0.0.1 GET / - 443 - 203.0.113.7 {agent} _ga=GA1.2.3;+sid=A - 200 0 0 15\n\
             2026-10-10 13:56:36 10.0.0.1 GET /b - 443 - 203.0.113.7 {agent} sid=B;+_ga=GA1.2.4 - 200 0 0 15\n\
             2026-10-10 13:57:36 10.0.0.1 GET /c - 443 - 203.0.113.7 {agent} _ga=GA1.2.3;+sid=A - 200 0 0 15\n\
             2026-10-10 13:58:36 10.0.0.1 GET /d - 443 - 203.0.113.7 {agent} - - 200 0 0 15\n"
        )
        .as_bytes(),
    );
    let count = |extra: &[&str]| {
        let out = dir.path().join(extra.join("_").replace(':', "_"));
        analyze(&[&log], &out, extra);
        (
            duckdb_value(&out, "select visitors from '{out}/summary.parquet'"),
            duckdb_value(&out, "select sessions from '{out}/summary.parquet'"),
            duckdb_value(&out, "select page_views from '{out}/summary.parquet'"),
            definition(&out, "visitor_key"),
        )
    };
    assert_eq!(
        count(&["--format", "w3c", "--visitor-key", "cookie:sid"]),
        ("3".into(), "3".into(), "4".into(), "cookie:sid".into())
    );
    // Detected formats may log no cookie: the key needs the format named.
    let out = dir.path().join("refused");
    let output = run(&[
        "analyze",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--visitor-key",
        "cookie:sid",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        count(&["--format", "w3c"]),
        ("1".into(), "1".into(), "4".into(), "ip+user_agent".into())
    );
}

#[test]
fn an_nginx_format_from_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_file(
        dir.path(),
        "access.log",
        format!(
            "203.0.113.7 - - [10/Oct/2026:13:55:36 +0000] \"GET /a?x=1 HTTP/2.0\" 200 612 \"-\" \"{CHROME_MAC}\" \"198.51.100.1\" 0.012 0.010, 0.002\n\
             203.0.113.8 - ann [10/Oct/2026:13:55:37 +0000] \"GET /b HTTP/2.0\" 404 0 \"-\" \"{SAFARI_IPHONE}\" \"-\" 0.001 -\n"
        )
        .as_bytes(),
    );
    // A log_format line as it stands in nginx.conf, split over two quoted strings.
    let settings = write_file(
        dir.path(),
        "accesslens.toml",
        br#"log_format = '''log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                    '"$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $upstream_response_time';'''
"#,
    );
    let out = dir.path().join("out");
    analyze(&[&log], &out, &["--config", settings.to_str().unwrap()]);
    let rows = duckdb_rows(
        &out,
        "select format, hits, malformed from '{out}/inputs.parquet'",
    );
    assert_eq!(rows, [["custom", "2", "0"]]);
    let rows = duckdb_rows(
        &out,
        "select status, hits from '{out}/status_codes.parquet' order by status",
    );
    assert_eq!(rows, [["200", "1"], ["404", "1"]]);
    // The string as given, line break included.
    let recorded = duckdb_value(
        &out,
        "select strlen(json_extract_string(decode(value), '$.log_format')) \
         from parquet_kv_metadata('{out}/summary.parquet') where decode(key) = 'accesslens.definitions'",
    );
    let given = std::fs::read_to_string(&settings).unwrap();
    let given = given.split("'''").nth(1).unwrap().len();
    assert_eq!(recorded, given.to_string());
}

#[test]
fn format_mistakes_exit_2_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let log = apache_log(dir.path());
    let out = dir.path().join("out");
    let (log, out) = (log.to_str().unwrap(), out.to_str().unwrap());
    let cases: &[(&[&str], &str)] = &[
        (
            &["--format", "combined", "--log-format", APACHE_FORMAT],
            "cannot be used with",
        ),
        (&["--log-format", "%h %u"], "the format has no time (%t"),
        (
            &["--log-format", "$remote_addr [$time_local] $status"],
            "no request ($request",
        ),
        (
            &["--log-format", "%h %t %{%s}t %r %s"],
            "unsupported time format",
        ),
        (
            &["--visitor-key", "browser"],
            "ip+ua, ip, user or cookie:NAME",
        ),
        (
            &["--visitor-key", "cookie:sid"],
            "the other presets log no cookies",
        ),
        (
            &["--visitor-key", "cookie:uid", "--log-format", APACHE_FORMAT],
            "add %{uid}C",
        ),
    ];
    for (args, message) in cases {
        let mut argv = vec!["analyze", log, "--out", out];
        argv.extend_from_slice(args);
        let output = run(&argv);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!Path::new(out).exists(), "{args:?} wrote output");
    }
    let settings = write_file(
        dir.path(),
        "both.toml",
        b"format = \"combined\"\nlog_format = \"%h %t %r %s\"\n",
    );
    let output = run(&[
        "analyze",
        log,
        "--out",
        out,
        "--config",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("exclude each other"));
    // On the command line, --format wins over the file's log_format.
    let settings = write_file(dir.path(), "custom.toml", b"log_format = \"%h %u\"\n");
    let output = run(&[
        "analyze",
        log,
        "--out",
        out,
        "--quiet",
        "--config",
        settings.to_str().unwrap(),
        "--format",
        "combined",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

/// nginx's `escape=json` with a JSON-shaped format, as people write it to ship logs: quotes
/// inside values come as `\"`, a backslash as `\\`, other bytes as `\u00XX`, and an empty
/// variable as `""` rather than `-`. The format's text between fields (`","ua":"`) is read
/// like any other, and the escapes resolve once per distinct value.
#[test]
fn an_nginx_json_format_with_escape_json() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        format!(
            r#"{{"time":"2026-10-10T13:55:36+00:00","remote_addr":"203.0.113.7","request":"GET /search?q=\"red shoes\" HTTP/1.1","status":200,"bytes":5120,"referer":"https://www.google.com/","ua":"{FIREFOX_WIN}","rt":0.012}}"#
        ),
        format!(
            r#"{{"time":"2026-10-10T13:56:36+00:00","remote_addr":"203.0.113.7","request":"GET /caf\u00e9 HTTP/1.1","status":404,"bytes":0,"referer":"","ua":"{FIREFOX_WIN}","rt":0.002}}"#
        ),
        format!(
            r#"{{"time":"2026-10-10T13:57:36+00:00","remote_addr":"198.51.100.9","request":"GET /a\\b HTTP/1.1","status":200,"bytes":12,"referer":"","ua":"{FIREFOX_WIN}","rt":0.001}}"#
        ),
        r#"{"time":"2026-10-10T13:58:36+00:00","remote_addr":"198.51.100.10","request":"GET / HTTP/1.1","status":200,"bytes":12,"referer":"","ua":"curl/8.5.0 \"x\"","rt":0.001}"#.to_owned(),
    ];
    let log = write_file(
        dir.path(),
        "access.log",
        (lines.join("\n") + "\n").as_bytes(),
    );
    let format = r#"log_format ship escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request",'
                    '"status":$status,"bytes":$body_bytes_sent,"referer":"$http_referer","ua":"$http_user_agent","rt":$request_time}';"#;
    let out = dir.path().join("out");
    analyze(&[&log], &out, &["--log-format", format]);
    let rows = duckdb_rows(
        &out,
        "select format, hits, malformed from '{out}/inputs.parquet'",
    );
    assert_eq!(rows, [["custom", "4", "0"]]);
    // `\u00e9` is é, `\\` one backslash; the quoted search term has its quotes.
    let rows = duckdb_rows(
        &out,
        "select path, hits from '{out}/pages.parquet' order by path",
    );
    assert_eq!(rows, [["/a\\b", "1"], ["/café", "1"], ["/search", "1"]]);
    let rows = duckdb_rows(&out, "select path, status from '{out}/errors.parquet'");
    assert_eq!(rows, [["/café", "404"]]);
    let rows = duckdb_rows(
        &out,
        "select term, searches from '{out}/internal_search.parquet'",
    );
    assert_eq!(rows, [["\"red shoes\"", "1"]]);
    // The empty referrer is no referrer; the one there is counted once.
    let rows = duckdb_rows(
        &out,
        "select host, sessions from '{out}/referring_sites.parquet'",
    );
    assert_eq!(rows, [["www.google.com", "1"]]);
    let rows = duckdb_rows(&out, "select bot, hits from '{out}/robots.parquet'");
    assert_eq!(rows, [["curl", "1"]]);
}

/// nginx's default `main` format behind a load balancer (10.0.0.1): every line's peer is the
/// balancer, the visitors are in X-Forwarded-For.
#[test]
fn client_ip_forwarded_for_tells_visitors_behind_a_balancer_apart() {
    let dir = tempfile::tempdir().unwrap();
    let line = |second: u32, path: &str, forwarded: &str| {
        format!(
            "10.0.0.1 - - [10/Oct/2026:10:00:{second:02} +0000] \"GET {path} HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"{forwarded}\"\n"
        )
    };
    let log = [
        line(0, "/", "203.0.113.7, 10.0.0.2"),
        line(10, "/", "198.51.100.9"),
        // No address: the peer's.
        line(20, "/", "-"),
        line(30, "/x", "unknown"),
        line(40, "/", "[2001:db8::1]:443"),
        line(50, "/y", "203.0.113.7"),
    ]
    .concat();
    let log = write_file(dir.path(), "access.log", log.as_bytes());
    let format = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#;
    let summary = "select visitors, sessions, page_views from '{out}/summary.parquet'";

    let out = dir.path().join("remote");
    analyze(&[&log], &out, &["--log-format", format]);
    assert_eq!(duckdb_rows(&out, summary), [["1", "1", "6"]]);

    let out = dir.path().join("forwarded");
    let output = analyze(
        &[&log],
        &out,
        &[
            "--log-format",
            format,
            "--client-ip",
            "forwarded-for",
            "--emit",
            "hits",
        ],
    );
    assert!(output.stderr.is_empty(), "{output:?}");
    assert_eq!(duckdb_rows(&out, summary), [["4", "4", "6"]]);
    let clients = duckdb_rows(
        &out,
        "select client, count(*) from read_parquet('{out}/hits/*/*.parquet') group by client order by client",
    );
    let want = [
        ["10.0.0.1", "2"],
        ["198.51.100.9", "1"],
        ["2001:db8::1", "1"],
        ["203.0.113.7", "2"],
    ];
    assert_eq!(clients, want.map(|r| r.map(str::to_owned).to_vec()));
    let key = duckdb_value(
        &out,
        "select json_extract_string(decode(value), '$.visitor_key') \
         from parquet_kv_metadata('{out}/summary.parquet') where decode(key) = 'accesslens.definitions'",
    );
    assert_eq!(key, "ip+user_agent (ip: X-Forwarded-For)");

    // A format without the header: said, and every client is the peer.
    let combined = write_file(
        dir.path(),
        "combined.log",
        format!(
            "10.0.0.1 - - [10/Oct/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\"\n"
        )
        .as_bytes(),
    );
    let out = dir.path().join("combined");
    let output = run(&[
        "analyze",
        combined.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--client-ip",
        "forwarded-for",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("no hit has an X-Forwarded-For address"),
        "{stderr}"
    );
    assert_eq!(duckdb_rows(&out, summary), [["1", "1", "1"]]);
}
