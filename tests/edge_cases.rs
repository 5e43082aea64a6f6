//! Input that pushes the definitions to their edges: sizes and values no server would send,
//! two spellings of one path or referrer, two sessions cut at the same millisecond, and a
//! goal URL requested over two protocols. Each answer follows from the README's Definitions.

use crate::util::*;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn line(ip: &str, time: &str, request: &str, status: u16, bytes: &str, referrer: &str) -> String {
    format!(
        "{ip} - - [10/Oct/2026:{time} +0000] \"{request}\" {status} {bytes} \"{referrer}\" \"{UA}\"\n"
    )
}

#[test]
fn absurd_sizes_and_values_saturate_instead_of_overflowing() {
    let dir = tempfile::tempdir().unwrap();
    // Two 19-digit sizes overflow 64 bits when added; the sum saturates at the largest
    // signed 64-bit count. A value above 10^12 or below 0 is not a value.
    let log = [
        line(
            "10.0.0.1",
            "10:00:00",
            "GET /a HTTP/1.1",
            200,
            "9999999999999999999",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:01",
            "GET /b HTTP/1.1",
            200,
            "9999999999999999999",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:02",
            "GET /thanks?value=1e13 HTTP/1.1",
            200,
            "10",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:03",
            "GET /thanks?value=-5&x=1 HTTP/1.1",
            200,
            "10",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:04",
            "GET /thanks?value=2.50&y=1 HTTP/1.1",
            200,
            "10",
            "-",
        ),
    ]
    .concat();
    let input = write_file(dir.path(), "huge.log", log.as_bytes());
    let out = dir.path().join("out");
    analyze(
        &[&input],
        &out,
        &["--goal", "buy=/thanks", "--goal-value-param", "value"],
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select bytes, hits, conversions, value from '{out}/summary.parquet'"
        ),
        [["9223372036854775807", "5", "1", "2.5"]]
    );
}

#[test]
fn paths_and_referrers_shown_alike_are_one_row() {
    let dir = tempfile::tempdir().unwrap();
    // Read as UTF-8 only (no legacy character set), /\xff and /\xfe are both shown as
    // "/\u{fffd}": one page with 2 page views. The same referrer logged with \" (Apache) and
    // \x22 (nginx) is one referrer with 2 sessions.
    let mut log = Vec::new();
    log.extend_from_slice(b"10.0.0.1 - - [10/Oct/2026:10:00:00 +0000] \"GET /\xff HTTP/1.1\" 200 1 \"https://r.example/?q=\\\"a\\\"\" \"UA one\"\n");
    log.extend_from_slice(b"10.0.0.2 - - [10/Oct/2026:10:00:00 +0000] \"GET /\xfe HTTP/1.1\" 200 1 \"https://r.example/?q=\\x22a\\x22\" \"UA two\"\n");
    let input = write_file(dir.path(), "alike.log", &log);
    let out = dir.path().join("out");
    analyze(&[&input], &out, &["--text-encoding", "utf-8"]);
    assert_eq!(
        duckdb_rows(
            &out,
            "select path, page_views, visitors, entries from '{out}/pages.parquet'"
        ),
        [["/\u{fffd}", "2", "2", "2"]]
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select referrer, sessions, visitors from '{out}/referrers.parquet'"
        ),
        [["https://r.example/?q=\"a\"", "2", "2"]]
    );
}

#[test]
fn sessions_cut_at_the_same_millisecond_have_distinct_ids_in_a_fixed_order() {
    let dir = tempfile::tempdir().unwrap();
    // Under ua, two page views of one visitor in the same second from two campaigns are two
    // sessions starting at the same millisecond; the second one's id ends in "-1". Which one
    // is first follows the content order of the hits (request text), so reversing the lines
    // changes nothing.
    let lines = [
        line(
            "10.0.0.1",
            "10:00:00",
            "GET /a?utm_source=x&utm_medium=email HTTP/1.1",
            200,
            "1",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:00",
            "GET /b?utm_source=y&utm_medium=email HTTP/1.1",
            200,
            "1",
            "-",
        ),
    ];
    let mut results = Vec::new();
    for (name, log) in [
        ("forward.log", lines.concat()),
        ("reverse.log", [lines[1].clone(), lines[0].clone()].concat()),
    ] {
        let input = write_file(dir.path(), name, log.as_bytes());
        let out = dir.path().join(name.replace(".log", ""));
        analyze(&[&input], &out, &["--sessions", "ua"]);
        results.push(duckdb_rows(
            &out,
            "select session_id, printf('%016x', visitor) || '-' || epoch_ms(start), entry_page, source \
             from read_parquet('{out}/sessions.parquet', file_row_number = true) \
             order by file_row_number",
        ));
    }
    let rows = &results[0];
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], rows[0][1]);
    assert_eq!(rows[1][0], format!("{}-1", rows[1][1]));
    assert_eq!(rows[0][1], rows[1][1]);
    assert_eq!((rows[0][2].as_str(), rows[0][3].as_str()), ("/a", "x"));
    assert_eq!((rows[1][2].as_str(), rows[1][3].as_str()), ("/b", "y"));
    assert_eq!(results[0], results[1]);
}

#[test]
fn a_goal_url_counts_once_whatever_the_request_line_around_it() {
    let dir = tempfile::tempdir().unwrap();
    // The same thank-you URL over HTTP/1.1, HTTP/2.0 and as an absolute target is one goal
    // URL: its value counts once. A second order in the session adds its own value.
    let log = [
        line(
            "10.0.0.1",
            "10:00:00",
            "GET /thanks?order=1&value=10 HTTP/1.1",
            200,
            "1",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:05",
            "GET /thanks?order=1&value=10 HTTP/2.0",
            200,
            "1",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:09",
            "GET https://shop.example/thanks?order=1&value=10 HTTP/1.1",
            200,
            "1",
            "-",
        ),
        line(
            "10.0.0.1",
            "10:00:20",
            "GET /thanks?order=2&value=10 HTTP/1.1",
            200,
            "1",
            "-",
        ),
    ]
    .concat();
    let input = write_file(dir.path(), "goal.log", log.as_bytes());
    let out = dir.path().join("out");
    analyze(
        &[&input],
        &out,
        &["--goal", "buy=/thanks", "--goal-value-param", "value"],
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select page_views, converted, goal, value from '{out}/sessions.parquet'"
        ),
        [["4", "True", "buy", "20.0"]]
    );
}

#[test]
fn text_in_a_legacy_encoding_is_decoded_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let raw = |ip: &str, path: &[u8], agent: &[u8]| {
        let mut l = format!("{ip} - - [10/Mar/2024:10:00:00 +0000] \"GET ").into_bytes();
        l.extend_from_slice(path);
        l.extend_from_slice(b" HTTP/1.1\" 200 10 \"-\" \"");
        l.extend_from_slice(agent);
        l.extend_from_slice(b"\"\n");
        l
    };
    // Latin-1 (windows-1252) bytes: é and è in paths, ü in a user agent; read by default.
    let latin = [
        raw(
            "192.0.2.1",
            b"/caf\xe9",
            b"Mozilla/5.0 (X11; Linux x86_64) M\xfcller/1.0",
        ),
        raw(
            "192.0.2.2",
            b"/caf\xe8",
            b"Mozilla/5.0 (X11; Linux x86_64) M\xfcller/1.0",
        ),
        raw(
            "192.0.2.3",
            b"/caf\xe9",
            b"Mozilla/5.0 (X11; Linux x86_64) M\xfcller/1.0",
        ),
    ]
    .concat();
    let input = write_file(dir.path(), "latin.log", &latin);
    let out = dir.path().join("latin");
    analyze(&[&input], &out, &[]);
    assert_eq!(
        duckdb_rows(
            &out,
            "select path, hits from '{out}/pages.parquet' order by path"
        ),
        [["/cafè", "1"], ["/café", "2"]]
    );
    assert_eq!(
        duckdb_rows(
            &out,
            "select distinct user_agent from '{out}/visitors.parquet'"
        ),
        [["Mozilla/5.0 (X11; Linux x86_64) Müller/1.0"]]
    );

    // Big5, when named: 新聞 is b7 73 bb 44.
    let big5 = [
        raw("192.0.2.4", b"/\xb7\x73\xbb\x44", FIREFOX_WIN.as_bytes()),
        raw("192.0.2.5", b"/\xb7\x73\xbb\x44", FIREFOX_WIN.as_bytes()),
    ]
    .concat();
    let input = write_file(dir.path(), "big5.log", &big5);
    let out = dir.path().join("big5");
    analyze(&[&input], &out, &["--text-encoding", "big5"]);
    assert_eq!(
        duckdb_rows(&out, "select path, hits from '{out}/pages.parquet'"),
        [["/新聞", "2"]]
    );
    let definitions = duckdb_value(
        &out,
        "select decode(value) from parquet_kv_metadata('{out}/summary.parquet') \
         where decode(key) = 'accesslens.definitions'",
    );
    assert!(
        definitions.contains("\"text_encoding\":\"Big5\""),
        "{definitions}"
    );

    let output = bin()
        .args(["analyze", "--text-encoding", "utf-16le", "--out"])
        .arg(dir.path().join("bad"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--text-encoding"));
}
