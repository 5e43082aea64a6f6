//! Log format presets through the real binary: each fixture in `fixtures/formats/` is
//! detected as its format and read whole; W3C `#Fields:` state survives chunks, windows,
//! standard input and compression; files of one run may differ in format; a file no format
//! reads fails the run, naming the file.

use std::io::Write;
use std::process::Stdio;

use crate::util::*;

fn formats_fixture(name: &str) -> std::path::PathBuf {
    fixture(&format!("formats/{name}"))
}

#[test]
fn every_fixture_is_detected_and_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // file, format, hits, malformed (elb's TCP listener line), blank (W3C directives)
    let expected = [
        ("alb.log", "alb", 3, 0, 0),
        ("caddy.log", "caddy", 2, 0, 0),
        ("cloudfront.log", "cloudfront", 3, 0, 2),
        ("elb.log", "elb", 2, 1, 0),
        ("haproxy.log", "haproxy", 3, 0, 0),
        ("iis.log", "w3c", 3, 0, 8),
        ("iis5.log", "w3c", 4, 0, 8),
        ("nginx.log", "nginx", 3, 0, 0),
        ("s3.log", "s3", 3, 0, 0),
        ("traefik.log", "traefik", 2, 0, 0),
        ("traefik_clf.log", "combined", 2, 0, 0),
        ("vcombined.log", "vcombined", 3, 0, 0),
        ("vcommon.log", "vcombined", 2, 0, 0),
    ];
    let inputs: Vec<_> = expected.iter().map(|e| formats_fixture(e.0)).collect();
    let refs: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    let out = dir.path().join("out");
    analyze(&refs, &out, &[]);
    let rows = duckdb_rows(
        &out,
        "select parse_filename(file), format, hits, malformed, blank_lines from '{out}/inputs.parquet' order by 1",
    );
    let want: Vec<Vec<String>> = expected
        .iter()
        .map(|(f, fmt, h, m, b)| {
            vec![
                f.to_string(),
                fmt.to_string(),
                h.to_string(),
                m.to_string(),
                b.to_string(),
            ]
        })
        .collect();
    assert_eq!(rows, want);
    let formats = duckdb_value(
        &out,
        "select json_extract_string(decode(value), '$.format') \
         from parquet_kv_metadata('{out}/summary.parquet') where decode(key) = 'accesslens.definitions'",
    );
    assert!(
        formats.contains("alb,") && formats.contains(",w3c"),
        "{formats}"
    );
}

#[test]
fn detection_is_reported_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let log = formats_fixture("nginx.log");
    let out = dir.path().join("out");
    let output = run(&[
        "analyze",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "accesslens: {}: format nginx (3/3 sample lines)",
            log.display()
        )),
        "{stderr}"
    );
    // Named with --format: no detection, nothing said.
    let output = run(&[
        "analyze",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--format",
        "combined",
    ]);
    assert!(output.status.success() && output.stderr.is_empty());
}

#[test]
fn a_log_without_user_agents_counts_visitors_by_address_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Common format: no user-agent field. Two visitors by address, the first with two page
    // views four seconds apart (one session), the second with one.
    let common = b"203.0.113.7 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 512\n\
203.0.113.7 - - [10/Oct/2026:13:55:40 +0000] \"GET /shop HTTP/1.1\" 200 1024\n\
198.51.100.2 - - [10/Oct/2026:13:56:00 +0000] \"GET / HTTP/1.1\" 200 512\n";
    let not_logged = "a user-agent field (the format logs none)";
    let empty = "warning: every hit's user agent is empty";
    let run_on = |names: &[&str], logs: &[&[u8]]| {
        let paths: Vec<_> = names
            .iter()
            .zip(logs)
            .map(|(name, log)| write_file(dir.path(), name, log))
            .collect();
        let inputs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
        let out = dir.path().join(format!("out-{}", names.join("-")));
        let output = analyze(&inputs, &out, &[]);
        let summary = duckdb_rows(
            &out,
            "select hits, bot_hits, visitors, sessions, page_views from '{out}/summary.parquet'",
        );
        (
            String::from_utf8_lossy(&output.stderr).into_owned(),
            summary,
            out,
        )
    };
    let (stderr, summary, out) = run_on(&["common.log"], &[common]);
    assert!(
        stderr.contains(&format!("warning: no hit has {not_logged}")),
        "{stderr}"
    );
    assert!(!stderr.contains(empty), "{stderr}");
    assert_eq!(summary, [["3", "0", "2", "2", "3"]]);
    // Their agent is shown as not logged, and classified as nothing known.
    let visitors = duckdb_rows(
        &out,
        "select ip, user_agent, browser, os, device from '{out}/visitors.parquet' order by 1",
    );
    assert_eq!(
        visitors,
        [
            ["198.51.100.2", "-", "Unknown", "Unknown", "unknown"],
            ["203.0.113.7", "-", "Unknown", "Unknown", "unknown"]
        ]
    );

    // The same requests with the user agent logged empty: clients that send none are bots.
    let dashes = String::from_utf8_lossy(common).replace('\n', " \"-\" \"-\"\n");
    let (stderr, summary, _) = run_on(&["dashes.log"], &[dashes.as_bytes()]);
    assert!(stderr.contains(empty), "{stderr}");
    assert!(!stderr.contains(not_logged), "{stderr}");
    assert_eq!(summary, [["3", "3", "0", "0", "0"]]);

    // With a combined log beside it, only the common one is named.
    let combined = b"192.0.2.9 - - [10/Oct/2026:13:57:00 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\"\n";
    let (stderr, summary, _) = run_on(&["a.log", "b.log"], &[common, combined]);
    let named = dir.path().join("a.log");
    assert!(
        stderr.contains(&format!(
            "warning: no hit of {} has {not_logged}",
            named.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("b.log"), "{stderr}");
    assert_eq!(summary, [["4", "0", "3", "3", "4"]]);
}

#[test]
fn a_log_without_methods_counts_its_page_views_as_gets_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // SHOUTcast's W3C layout: `c-status`, no `cs-method`, a percent-encoded agent. Two
    // listeners: the first tunes in twice, four seconds apart (one session of two page
    // views), the second once; a `/favicon.ico` is an asset, not a page view.
    let firefox = "Mozilla%2F5.0%20(X11%3B%20Linux%20x86_64%3B%20rv%3A133.0)%20Gecko%2F20100101%20Firefox%2F133.0";
    let shoutcast = format!(
        "#Software: SHOUTcast\n#Version: 2.4.7.256\n\
#Fields: c-ip c-dns date time cs-uri-stem c-status cs(User-Agent) sc-bytes x-duration avgbandwidth\n\
203.0.113.7 203.0.113.7 2026-10-10 13:55:36 /stream?title=Late%20Show 200 {firefox} 65580 4 524640\n\
203.0.113.7 203.0.113.7 2026-10-10 13:55:40 /stream?title=Late%20Show 200 {firefox} 1024 1 8192\n\
203.0.113.7 203.0.113.7 2026-10-10 13:55:40 /favicon.ico 200 {firefox} 318 0 0\n\
198.51.100.2 198.51.100.2 2026-10-10 13:56:00 /stream 200 NSPlayer%2F10.0.0.3702%20WMFSDK%2F10.0 512 1 4096\n"
    );
    let log = write_file(dir.path(), "shoutcast.log", shoutcast.as_bytes());
    let out = dir.path().join("out");
    let output = analyze(&[&log], &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warning = "warning: no hit has a request method (the format logs none)";
    assert!(stderr.contains(warning), "{stderr}");
    let summary = duckdb_rows(
        &out,
        "select hits, bot_hits, visitors, sessions, page_views from '{out}/summary.parquet'",
    );
    assert_eq!(summary, [["4", "0", "2", "2", "3"]]);
    let browsers = duckdb_rows(
        &out,
        "select browser, hits from '{out}/browsers.parquet' order by 1",
    );
    assert!(
        browsers.contains(&vec!["Firefox".into(), "3".into()]),
        "{browsers:?}"
    );
    let pages = duckdb_rows(
        &out,
        "select path, page_views from '{out}/pages.parquet' order by 1",
    );
    assert_eq!(pages, [["/stream", "3"]]);

    // The same with a method logged: the warning goes.
    let with_method = shoutcast
        .replace("cs-uri-stem c-status", "cs-method cs-uri-stem c-status")
        .replace(" /", " GET /");
    let log = write_file(dir.path(), "methods.log", with_method.as_bytes());
    let out = dir.path().join("out-methods");
    let output = analyze(&[&log], &out, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("request method"), "{stderr}");
    let summary = duckdb_rows(&out, "select page_views from '{out}/summary.parquet'");
    assert_eq!(summary, [["3"]]);

    // A --log-format with the path alone.
    let path_only = b"203.0.113.7 [10/Oct/2026:13:55:36 +0000] /shop 200\n";
    let custom = write_file(dir.path(), "custom.log", path_only);
    let out = dir.path().join("out-custom");
    let output = analyze(&[&custom], &out, &["--log-format", "%h %t %U %>s"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(warning), "{stderr}");
    let summary = duckdb_rows(&out, "select page_views from '{out}/summary.parquet'");
    assert_eq!(summary, [["1"]]);
}

#[test]
fn requests_in_parts_and_encoded_agents_reach_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    for (name, page, agent) in [
        ("caddy.log", "/shop", "Firefox"),
        ("iis.log", "/products/list.aspx", "Firefox"),
        ("cloudfront.log", "/index.html", "Firefox"),
    ] {
        let out = dir.path().join(name);
        analyze(&[&formats_fixture(name)], &out, &[]);
        let pages = duckdb_rows(&out, "select path from '{out}/pages.parquet' order by 1");
        assert!(pages.iter().any(|r| r[0] == page), "{name}: {pages:?}");
        let browsers = duckdb_rows(&out, "select browser from '{out}/browsers.parquet'");
        assert!(
            browsers.iter().any(|r| r[0] == agent),
            "{name}: {browsers:?}"
        );
    }
    // Caddy's `\u0026` is an `&`: the query has two parameters, utm-free, so the visit is
    // Direct... and the referrer's escaped quotes are quotes.
    let out = dir.path().join("caddy.log");
    assert_eq!(
        duckdb_rows(&out, "select referrer from '{out}/referrers.parquet'"),
        [["https://news.example.org/?q=\"widgets\""]]
    );
}

/// An IIS-like log whose `#Fields:` change every 40 lines (columns reordered and added).
/// Its lines are on 2026-10-10, but for those of the fourth layout, IIS 5's default fields
/// (no date), whose `#Date:` directives put them on the next day: 80 of its 320 lines.
fn shifting_w3c_log() -> (Vec<u8>, u64) {
    let layouts = [
        "date time c-ip cs-method cs-uri-stem sc-status sc-bytes cs(User-Agent)",
        "date time cs(User-Agent) sc-bytes sc-status cs-uri-stem cs-method c-ip time-taken",
        "time date c-ip cs-method cs-uri-stem cs-uri-query sc-status cs(Referer) cs(User-Agent) sc-bytes",
        "time c-ip cs-method cs-uri-stem sc-status",
    ];
    let mut log = Vec::new();
    let mut hits = 0;
    for i in 0..320u64 {
        let layout = layouts[(i / 40) as usize % 4];
        if i % 40 == 0 {
            let date = if layout.starts_with("time c-ip") {
                "2026-10-11"
            } else {
                "2026-10-10"
            };
            writeln!(
                log,
                "#Software: test\n#Date: {date} 13:00:00\n#Fields: {layout}"
            )
            .unwrap();
        }
        let date = "2026-10-10";
        let time = format!("13:{:02}:{:02}", i / 60, i % 60);
        let ip = format!("203.0.113.{}", i % 7);
        let fields: Vec<String> = layout
            .split(' ')
            .map(|f| match f {
                "date" => date.to_owned(),
                "time" => time.clone(),
                "c-ip" => ip.clone(),
                "cs-method" => "GET".into(),
                "cs-uri-stem" => format!("/p{}", i % 5),
                "cs-uri-query" => "-".into(),
                "sc-status" => "200".into(),
                "sc-bytes" => "100".into(),
                "cs(User-Agent)" => "Mozilla/5.0+(X11;+Linux+x86_64)".into(),
                "cs(Referer)" => "-".into(),
                "time-taken" => "3".into(),
                other => panic!("{other}"),
            })
            .collect();
        writeln!(log, "{}", fields.join(" ")).unwrap();
        hits += 1;
    }
    (log, hits)
}

#[test]
fn w3c_fields_carry_across_chunks_windows_stdin_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let (log, hits) = shifting_w3c_log();
    let plain = write_file(dir.path(), "u_ex261010.log", &log);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&log).unwrap();
    let gzipped = write_file(dir.path(), "u_ex261010.log.gz", &gz.finish().unwrap());
    let summary = |out: &std::path::Path| {
        duckdb_rows(
            out,
            "select hits, malformed, page_views from '{out}/summary.parquet'",
        )
    };
    let want = [[hits.to_string(), "0".into(), hits.to_string()]];
    let days = |out: &std::path::Path| {
        duckdb_rows(
            out,
            "select date::varchar, hits from '{out}/traffic_by_day.parquet' order by 1",
        )
    };
    let want_days = [["2026-10-10", "240"], ["2026-10-11", "80"]];
    for (name, input, extra) in [
        ("whole", &plain, &[][..]),
        (
            "chunks",
            &plain,
            &["--chunk-size", "300", "--window-size", "1500", "-j", "2"][..],
        ),
        (
            "nommap",
            &plain,
            &["--chunk-size", "200", "--no-mmap", "--window-size", "999"][..],
        ),
        (
            "gzip",
            &gzipped,
            &["--chunk-size", "250", "--window-size", "1200"][..],
        ),
    ] {
        let out = dir.path().join(name);
        analyze(&[input], &out, extra);
        assert_eq!(summary(&out), want, "{name}");
        assert_eq!(days(&out), want_days, "{name}");
    }
    // Standard input, in small windows.
    let out = dir.path().join("stdin");
    let mut child = bin()
        .args([
            "analyze",
            "-",
            "--quiet",
            "--chunk-size",
            "300",
            "--window-size",
            "1000",
            "--out",
        ])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&log).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(summary(&out), want, "stdin");
    assert_eq!(days(&out), want_days, "stdin");
}

#[test]
fn a_file_no_format_reads_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = formats_fixture("nginx.log");
    let bad = write_file(
        dir.path(),
        "notes.txt",
        b"shopping list\nmilk\neggs\n\nbread\n",
    );
    let out = dir.path().join("out");
    let output = run(&[
        "analyze",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("notes.txt: cannot tell the log format")
            && stderr.contains("first 4 lines")
            && stderr.contains("--format"),
        "{stderr}"
    );
    assert!(!out.join("summary.parquet").exists());
}

/// The generator's requests written in every preset's layout (`SynthOptions::format`) give
/// the reports of the same requests in combined, as far as the layout carries the fields:
/// the same hits, malformed lines, statuses and bytes in all; the same sessions (and their
/// UTC hours), page views, pages and browsers where a user agent is logged, and the same
/// user agents where it is logged as written (W3C writes its spaces as `+`); the same
/// channels where a referrer is logged too (Classic ELB and ALB log none).
#[test]
fn every_layout_of_the_same_requests_gives_the_same_reports() {
    use accesslens::parse::Format;
    use accesslens::synth::{SynthOptions, generate};

    const ALL_TRAFFIC: &[&str] = &[
        "select hits, malformed from '{out}/inputs.parquet'",
        "select status, hits, bytes from '{out}/status_codes.parquet' order by 1",
    ];
    const SESSIONS: &[&str] = &[
        "select sum(sessions), sum(page_views), sum(bounces) from '{out}/channels.parquet'",
        "select date_trunc('hour', start), count(*), sum(page_views) \
         from '{out}/sessions.parquet' group by 1 order by 1",
        "select path, hits, page_views, entries, exits from '{out}/pages.parquet' order by 1",
        "select browser, sum(sessions), sum(hits) from '{out}/browsers.parquet' group by 1 order by 1",
    ];
    const AGENTS: &[&str] = &[
        "select user_agent, count(*), sum(hits), sum(bytes) from '{out}/visitors.parquet' \
         group by 1 order by 1",
    ];
    const CHANNELS: &[&str] =
        &["select channel, sessions, page_views, bounces from '{out}/channels.parquet' order by 1"];

    let dir = tempfile::tempdir().unwrap();
    let opts = |format| SynthOptions {
        lines: 3_000,
        seed: 11,
        // Enough broken lines for every way the generator breaks one.
        malformed_per_mille: 30,
        format,
        ..SynthOptions::default()
    };
    let report = |format: Format, queries: &[&str]| {
        let mut log = Vec::new();
        let stats = generate(&opts(format), &mut log).unwrap();
        let path = write_file(dir.path(), &format!("{}.log", format.name()), &log);
        let out = dir.path().join(format!("out-{}", format.name()));
        analyze(&[&path], &out, &["--format", format.name()]);
        let rows: Vec<_> = queries.iter().map(|sql| duckdb_rows(&out, sql)).collect();
        (stats, rows)
    };
    let all: Vec<&str> = [ALL_TRAFFIC, SESSIONS, AGENTS, CHANNELS].concat();
    let (stats, combined) = report(Format::Combined, &all);
    assert!(stats.malformed > 50, "{stats:?}");
    let hits = (stats.lines - stats.malformed).to_string();
    assert_eq!(combined[0], [[hits, stats.malformed.to_string()]]);
    assert!(
        combined[2][0][0].parse::<u64>().unwrap() > 100,
        "{combined:?}"
    );
    for format in Format::ALL {
        let queries: Vec<&str> = match format {
            Format::Combined => continue,
            Format::Common | Format::VCommon => ALL_TRAFFIC.to_vec(),
            Format::Elb | Format::Alb => [ALL_TRAFFIC, SESSIONS, AGENTS].concat(),
            Format::W3c => [ALL_TRAFFIC, SESSIONS, CHANNELS].concat(),
            _ => all.clone(),
        };
        let (layout_stats, rows) = report(format, &queries);
        assert_eq!(layout_stats.malformed, stats.malformed, "{}", format.name());
        let want: Vec<_> = queries
            .iter()
            .map(|q| combined[all.iter().position(|a| a == q).unwrap()].clone())
            .collect();
        for ((got, want), sql) in rows.iter().zip(&want).zip(&queries) {
            assert_eq!(got, want, "{}: {sql}", format.name());
        }
    }
}
