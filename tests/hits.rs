//! The hits table (`--emit hits`): one row per hit, partitioned by UTC date, sorted by
//! visitor bucket, visitor key and time, byte for byte the same whatever the threads and the
//! order of the inputs; a rerun replaces the whole table.

use std::path::{Path, PathBuf};

use accesslens::synth::SynthOptions;

use crate::util::{
    CHROME_MAC, analyze, duckdb_rows, duckdb_value, files_under, run, server_logs, write_file,
};

/// Hits of every partition, as DuckDB reads them (`date` from the directory names).
const HITS: &str = "read_parquet('{out}/hits/*/*.parquet', hive_partitioning = true)";

fn generated(dir: &Path) -> Vec<PathBuf> {
    let opts = SynthOptions {
        lines: 6_000,
        seed: 11,
        disorder_ms: 2_000,
        ..SynthOptions::default()
    };
    server_logs(dir, &opts, 3)
}

#[test]
fn same_bytes_whatever_threads_chunks_and_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let files = generated(dir.path());
    let forward: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let backward: Vec<&Path> = files.iter().rev().map(PathBuf::as_path).collect();
    let base = dir.path().join("base");
    analyze(&forward, &base, &["--emit", "hits", "--threads", "1"]);
    let expected = files_under(&base.join("hits"));
    assert!(expected.len() >= 2, "{} partitions", expected.len());
    for (label, inputs, extra) in [
        ("threads", &forward, &["--threads", "2"][..]),
        ("reversed", &backward, &["--threads", "2"][..]),
        (
            "chunks",
            &backward,
            &["--chunk-size", "4096", "--threads", "3"][..],
        ),
    ] {
        let out = dir.path().join(label);
        analyze(inputs, &out, &[&["--emit", "hits"][..], extra].concat());
        assert!(
            files_under(&out.join("hits")) == expected,
            "{label}: different bytes"
        );
    }
}

#[test]
fn one_row_per_hit_sorted_and_bucketed() {
    let dir = tempfile::tempdir().unwrap();
    let files = generated(dir.path());
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = dir.path().join("out");
    analyze(&inputs, &out, &["--emit", "hits", "--hit-buckets", "8"]);
    let totals = duckdb_rows(
        &out,
        &format!(
            "select count(*), count(*) filter (where page_view), count(*) filter (where bot),
                    count(*) filter (where visitor_bucket <> (visitor_hash & 7)),
                    count(*) filter (where date <> cast(timezone('UTC', ts) as date)),
                    count(distinct source_file)
             from {HITS}"
        ),
    );
    let summary = duckdb_rows(
        &out,
        "select hits, page_views, bot_hits from '{out}/summary.parquet'",
    );
    assert_eq!(totals[0][..3], summary[0][..], "hits, page views, bot hits");
    assert_eq!(totals[0][3..], ["0", "0", "3"], "buckets, dates, files");
    // Within each file, rows are in (bucket, visitor key, time, visitor_seq) order, and
    // visitor_seq counts a visitor's hits from 0.
    let disorder = duckdb_value(
        &out,
        "select count(*) from (
             select visitor_seq, row_number() over () as pos,
                    row_number() over (order by visitor_bucket, visitor_key, ts, visitor_seq) as sorted,
                    row_number() over (partition by visitor_key order by ts, visitor_seq) - 1 as seq
             from read_parquet('{out}/hits/date=2026-10-10/part-00000.parquet'))
         where pos <> sorted or seq <> visitor_seq",
    );
    assert_eq!(disorder, "0");
}

#[test]
fn a_rerun_replaces_the_whole_table() {
    let dir = tempfile::tempdir().unwrap();
    let line = |day: u32| {
        format!(
            "203.0.113.9 - - [{day}/Oct/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"{CHROME_MAC}\"\n"
        )
    };
    let first = write_file(dir.path(), "a.log", line(10).as_bytes());
    let second = write_file(dir.path(), "b.log", line(12).as_bytes());
    let out = dir.path().join("out");
    analyze(&[&first], &out, &["--emit", "hits"]);
    analyze(&[&second], &out, &["--emit", "hits"]);
    let names: Vec<String> = files_under(&out.join("hits"))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["date=2026-10-12/part-00000.parquet"]);
    // Without --emit hits, the table is left as it was.
    analyze(&[&first], &out, &[]);
    assert!(out.join("hits/date=2026-10-12").is_dir());
    assert!(!out.join(".accesslens-staging").exists());
}

#[test]
fn hit_buckets_must_be_a_power_of_two() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_file(dir.path(), "a.log", b"");
    let out = dir.path().join("out");
    let output = run(&[
        "analyze",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit",
        "hits",
        "--hit-buckets",
        "48",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--hit-buckets") && stderr.contains("power of two"),
        "{stderr}"
    );
}

#[test]
fn hosts_response_times_tls_and_forwarded_for_are_kept_as_logged() {
    let dir = tempfile::tempdir().unwrap();
    // An Apache format with the canonical server name and port (%V:%p is logged as one
    // field here) and the time taken in microseconds (%D); "-" where nothing was logged.
    let log = write_file(
        dir.path(),
        "vhosts.log",
        format!(
            "shop.example:443 10.0.0.1 - - [10/Oct/2026:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"{CHROME_MAC}\" 1500\n\
             blog.example 10.0.0.1 - - [10/Oct/2026:10:00:01 +0000] \"GET /b HTTP/1.1\" 200 10 \"-\" \"{CHROME_MAC}\" 250000\n\
             - 10.0.0.2 - - [10/Oct/2026:10:00:02 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"{CHROME_MAC}\" -\n\
             SHOP.example 10.0.0.2 - - [10/Oct/2026:10:00:03 +0000] \"GET /a HTTP/1.1\" 404 10 \"-\" \"{CHROME_MAC}\" 7\n"
        )
        .as_bytes(),
    );
    let out = dir.path().join("out");
    analyze(
        &[&log],
        &out,
        &[
            "--emit",
            "hits",
            "--log-format",
            r#"%V %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#,
        ],
    );
    let rows = duckdb_rows(
        &out,
        &format!("select host, path, response_time_us from {HITS} order by ts"),
    );
    let want = [
        ["shop.example", "/a", "1500"],
        ["blog.example", "/b", "250000"],
        ["NULL", "/a", "NULL"],
        ["shop.example", "/a", "7"],
    ];
    assert_eq!(rows, want.map(|r| r.map(str::to_owned).to_vec()));
    assert_eq!(
        duckdb_value(
            &out,
            &format!("select typeof(response_time_us) || ' ' || typeof(host) from {HITS} limit 1")
        ),
        "BIGINT VARCHAR"
    );

    // nginx's preset: $request_time in seconds, $upstream_response_time not the answer's.
    let nginx = write_file(
        dir.path(),
        "nginx.log",
        format!(
            "10.0.0.1 - - [10/Oct/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" 0.012 0.010\n\
             10.0.0.1 - - [10/Oct/2026:10:00:01 +0000] \"GET /x HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" 1.5 -\n"
        )
        .as_bytes(),
    );
    let out = dir.path().join("nginx");
    analyze(&[&nginx], &out, &["--emit", "hits", "--format", "nginx"]);
    let rows = duckdb_rows(
        &out,
        &format!(
            "select count(host), count(tls_protocol), count(forwarded_for), \
             list(response_time_us order by ts) from {HITS}"
        ),
    );
    assert_eq!(rows, [["0", "0", "0", "[12000, 1500000]"]]);

    // vcombined's %v:%p: the port is dropped where the host is shown.
    let out = dir.path().join("vcombined");
    let vcombined = crate::util::fixture("formats/vcombined.log");
    analyze(
        &[&vcombined],
        &out,
        &["--emit", "hits", "--format", "vcombined"],
    );
    let rows = duckdb_rows(&out, &format!("select host from {HITS} order by ts"));
    assert_eq!(
        rows,
        [
            ["www.example.com"],
            ["blog.example.com"],
            ["www.example.com"]
        ]
    );

    // Caddy keeps the Host header's port: the column does not.
    let caddy = write_file(
        dir.path(),
        "caddy.log",
        br#"{"ts":1791640536.25,"request":{"client_ip":"203.0.113.7","proto":"HTTP/1.1","method":"GET","host":"Shop.Example:8443","uri":"/","headers":{"User-Agent":["curl/8.5.0"]}},"duration":0.5,"size":1,"status":200}
"#,
    );
    let out = dir.path().join("caddy");
    analyze(&[&caddy], &out, &["--emit", "hits", "--format", "caddy"]);
    let rows = duckdb_rows(
        &out,
        &format!("select host, response_time_us, tls_protocol, forwarded_for from {HITS}"),
    );
    assert_eq!(rows, [["shop.example", "500000", "NULL", "NULL"]]);

    // A line that logs no host but asks for an absolute target (as proxies log it) has the
    // target's host.
    let proxy = write_file(
        dir.path(),
        "proxy.log",
        format!(
            "10.0.0.1 - - [10/Oct/2026:10:00:00 +0000] \"GET http://Proxy.Example:8080/x HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\"\n\
             10.0.0.1 - - [10/Oct/2026:10:00:01 +0000] \"GET /go?to=http://elsewhere/ HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\"\n"
        )
        .as_bytes(),
    );
    let out = dir.path().join("proxy");
    analyze(&[&proxy], &out, &["--emit", "hits", "--format", "combined"]);
    let rows = duckdb_rows(&out, &format!("select path, host from {HITS} order by ts"));
    assert_eq!(rows, [["/x", "proxy.example"], ["/go", "NULL"]]);

    // The TLS protocol and the X-Forwarded-For header, each where the line has it; the
    // cache of the last line's details must not carry one line's into the next (/a to /b
    // differ in the header alone), and must give a repeat its own (/c).
    let main = write_file(
        dir.path(),
        "main.log",
        format!(
            "10.0.0.1 - - [10/Oct/2026:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"203.0.113.9, 10.0.0.1\" TLSv1.3\n\
             10.0.0.1 - - [10/Oct/2026:10:00:01 +0000] \"GET /b HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"198.51.100.7, 10.0.0.1\" TLSv1.3\n\
             10.0.0.1 - - [10/Oct/2026:10:00:02 +0000] \"GET /c HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"198.51.100.7, 10.0.0.1\" TLSv1.3\n\
             10.0.0.1 - - [10/Oct/2026:10:00:03 +0000] \"GET /d HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"-\" TLSv1.2\n\
             10.0.0.1 - - [10/Oct/2026:10:00:04 +0000] \"GET /e HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"198.51.100.4\" -\n\
             10.0.0.1 - - [10/Oct/2026:10:00:05 +0000] \"GET /f HTTP/1.1\" 200 5 \"-\" \"{CHROME_MAC}\" \"-\" -\n"
        )
        .as_bytes(),
    );
    let out = dir.path().join("main");
    analyze(
        &[&main],
        &out,
        &[
            "--emit",
            "hits",
            "--log-format",
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $ssl_protocol"#,
        ],
    );
    let rows = duckdb_rows(
        &out,
        &format!("select path, tls_protocol, forwarded_for, host from {HITS} order by ts"),
    );
    let want = [
        ["/a", "TLSv1.3", "203.0.113.9, 10.0.0.1", "NULL"],
        ["/b", "TLSv1.3", "198.51.100.7, 10.0.0.1", "NULL"],
        ["/c", "TLSv1.3", "198.51.100.7, 10.0.0.1", "NULL"],
        ["/d", "TLSv1.2", "NULL", "NULL"],
        ["/e", "NULL", "198.51.100.4", "NULL"],
        ["/f", "NULL", "NULL", "NULL"],
    ];
    assert_eq!(rows, want.map(|r| r.map(str::to_owned).to_vec()));

    // The presets that log them: a load balancer's protocol, Caddy's numeric version and
    // forwarded header, Traefik's bare version number.
    for (format, want) in [
        (
            "alb",
            &[
                ["shop.example.com", "TLSv1.2", "NULL"],
                ["shop.example.com", "TLSv1.3", "NULL"],
                ["live.example.com", "TLSv1.2", "NULL"],
            ][..],
        ),
        (
            "caddy",
            &[
                ["www.example.com", "TLSv1.3", "203.0.113.7"],
                ["www.example.com", "NULL", "NULL"],
            ][..],
        ),
        // ELB logs no host: its absolute request targets name it.
        (
            "elb",
            &[
                ["www.example.com", "TLSv1.2", "NULL"],
                ["www.example.com", "NULL", "NULL"],
            ][..],
        ),
        (
            "traefik",
            &[
                ["www.example.com", "TLSv1.3", "NULL"],
                ["www.example.com", "NULL", "NULL"],
            ][..],
        ),
    ] {
        let out = dir.path().join(format);
        let log = crate::util::fixture(&format!("formats/{format}.log"));
        analyze(&[&log], &out, &["--emit", "hits", "--format", format]);
        let rows = duckdb_rows(
            &out,
            &format!("select host, tls_protocol, forwarded_for from {HITS} order by ts"),
        );
        let want: Vec<Vec<String>> = want.iter().map(|r| r.map(str::to_owned).to_vec()).collect();
        assert_eq!(rows, want, "{format}");
    }
}
