//! Every preset against its fixture in `fixtures/formats/`: each field of each line, with
//! answers worked out by hand from the lines (written for these tests, not taken from any
//! server's output). Also: detection picks each fixture's format, and bad input of every
//! kind gives a reason, never a panic.

use super::*;

/// 2026-10-10T13:55:36Z in milliseconds.
const T0: i64 = 1_791_640_536_000;
const FF: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/formats")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every line of a fixture through a [`LineParser`]: hits, and malformed reasons.
fn parse_all(format: Format, bytes: &[u8]) -> Vec<Result<LogLine<'_>, Malformed>> {
    let mut parser = LineParser::new(format, None);
    lines(bytes)
        .filter_map(|line| match parser.parse(line) {
            Ok(Parsed::Hit(hit)) => Some(Ok(hit)),
            Ok(Parsed::Directive) => None,
            Err(e) => Some(Err(e)),
        })
        .collect()
}

fn hits(format: Format, bytes: &[u8]) -> Vec<LogLine<'_>> {
    parse_all(format, bytes)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{format:?}: {e}")))
        .collect()
}

fn request(l: &LogLine<'_>) -> String {
    let mut out = Vec::new();
    l.request.write_line(l.coding, &mut out);
    String::from_utf8(out).unwrap()
}

fn agent(l: &LogLine<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    l.coding.decode_into(l.user_agent, &mut out);
    out
}

#[test]
fn vcombined_and_vcommon() {
    let log = fixture("vcombined.log");
    let l = hits(Format::VCombined, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(
        (l[0].vhost, l[0].client, l[0].user),
        (
            &b"www.example.com:443"[..],
            &b"203.0.113.7"[..],
            &b"alice"[..]
        )
    );
    assert_eq!(l[0].time.utc_ms, T0 - 2 * 3_600_000);
    assert_eq!(l[0].time.offset_min, 120);
    assert_eq!(request(&l[0]), "GET /shop/cart?id=3 HTTP/1.1");
    assert_eq!((l[0].status, l[0].bytes), (200, 5120));
    assert_eq!(l[0].referrer, b"https://www.google.com/");
    assert_eq!(l[0].user_agent, FF);
    assert_eq!(
        (l[1].vhost, l[1].status, l[1].bytes),
        (&b"blog.example.com"[..], 304, 0)
    );
    assert_eq!(
        (l[2].vhost, l[2].client),
        (&b"www.example.com:80"[..], &b"2001:db8::7"[..])
    );
    assert_eq!(l[2].user_agent, b"curl/8.5.0");
    // A plain combined line has no virtual host.
    assert_eq!(
        Format::VCombined
            .parse(br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#),
        Err(Malformed::NoVirtualHost)
    );

    let log = fixture("vcommon.log");
    let l = hits(Format::VCommon, &log);
    assert_eq!(l.len(), 2);
    assert_eq!(
        (l[0].vhost, l[0].user, l[0].bytes),
        (&b"www.example.com:443"[..], &b"alice"[..], 5120)
    );
    assert_eq!((l[1].vhost, l[1].status), (&b"blog.example.com"[..], 304));
}

#[test]
fn nginx_response_times() {
    let log = fixture("nginx.log");
    let l = hits(Format::Nginx, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].response_time_us, 4_000);
    assert_eq!(l[0].user_agent, FF);
    assert_eq!((l[1].response_time_us, l[1].bytes), (0, 10240));
    assert_eq!(l[1].referrer, b"https://www.example.com/index.html");
    assert_eq!((l[2].status, l[2].response_time_us), (502, 1_503_000));
    assert_eq!(l[2].user_agent, b"python-requests/2.32.3");
    // Combined reads the same lines, times ignored; nginx needs the times.
    assert_eq!(hits(Format::Combined, &log).len(), 3);
    for bad in [
        &br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA""#[..],
        br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA" 0.1"#,
        br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA" 0.1x 0.1"#,
        br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA" 0.1 "up""#,
    ] {
        assert_eq!(Format::Nginx.parse(bad), Err(Malformed::BadResponseTime));
    }
}

#[test]
fn w3c_headers_change_mid_file() {
    let log = fixture("iis.log");
    let l = hits(Format::W3c, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(
        l[0].time,
        LogTime {
            utc_ms: T0,
            offset_min: 0
        }
    );
    assert_eq!(l[0].client, b"203.0.113.7");
    assert_eq!(request(&l[0]), "GET /default.aspx");
    assert_eq!(agent(&l[0]), FF);
    assert_eq!(l[0].referrer, b"https://www.bing.com/search?q=widgets");
    assert_eq!(
        (l[0].status, l[0].bytes, l[0].response_time_us),
        (200, 0, 15_000)
    );
    assert_eq!(l[1].user, b"bob");
    assert_eq!(request(&l[1]), "GET /products/list.aspx?cat=7&sort=price");
    assert_eq!(l[1].response_time_us, 1_250_000);
    // After the second #Fields: other columns, other order.
    assert_eq!(l[2].time.utc_ms, T0 + 265_000);
    assert_eq!(l[2].client, b"198.51.100.23");
    assert_eq!(request(&l[2]), "HEAD /health");
    assert_eq!(
        (l[2].vhost, l[2].user_agent),
        (&b"www.example.com"[..], &b"curl/8.5.0"[..])
    );
    assert_eq!(l[2].response_time_us, 2_000);
    assert_eq!(l[2].referrer, b"");

    // A parser started mid-file with the header in effect there reads on.
    let fields = b"#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status sc-bytes cs-host cs(User-Agent) time-taken";
    let mut parser = LineParser::new(Format::W3c, Some(fields));
    let Ok(Parsed::Hit(hit)) = parser.parse(
        b"2026-10-10 14:00:01 198.51.100.23 HEAD /health - 200 0 www.example.com curl/8.5.0 2",
    ) else {
        panic!("not a hit")
    };
    assert_eq!(hit.vhost, b"www.example.com");
    // Without a header, W3C lines cannot be read.
    let mut parser = LineParser::new(Format::W3c, None);
    assert_eq!(
        parser.parse(b"2026-10-10 14:00:01 198.51.100.23 HEAD /health - 200"),
        Err(Malformed::NoFieldsHeader)
    );
    assert_eq!(parser.parse(b"#Version: 1.0"), Ok(Parsed::Directive));
}

#[test]
fn w3c_quoted_fields_and_short_lines() {
    let mut parser = LineParser::new(
        Format::W3c,
        Some(b"#Fields:  date  time c-ip cs-method cs-uri-stem cs(User-Agent) sc-status  TimeTakenMS"),
    );
    let line = br#"2026-10-10 13:55:36 "203.0.113.7" GET /a "Mozilla/5.0 (X11; +x)" 200 109"#;
    let Ok(Parsed::Hit(hit)) = parser.parse(line) else {
        panic!("not a hit")
    };
    assert_eq!(hit.client, b"203.0.113.7");
    // Quoted: `+` is a plus, not a space.
    assert_eq!(agent(&hit), b"Mozilla/5.0 (X11; +x)");
    assert_eq!(hit.response_time_us, 109_000);
    assert_eq!(
        parser.parse(b"2026-10-10 13:55:36 203.0.113.7 GET /a"),
        Err(Malformed::FieldCount)
    );
    assert_eq!(
        parser.parse(b"2026-10-10 25:55:36 203.0.113.7 GET /a x 200 1"),
        Err(Malformed::W3cNoDateTime)
    );
    assert_eq!(
        parser.parse(b"2026-10-10 13:55:36 203.0.113.7 GET /a x 20 1"),
        Err(Malformed::BadStatus)
    );
    // A header without a field every hit needs says so, whatever the line holds; the next
    // header that has them all is read again.
    for fields in [
        &b"#Fields: date time c-ip cs-uri-stem x-status"[..],
        b"#Fields: date time cs-uri-stem sc-status",
        b"#Fields: date c-ip cs-uri-stem sc-status",
        // The server's clock with no date: `#Date:`, in UTC, cannot give its day.
        b"#Fields: time-local c-ip cs-uri-stem sc-status",
        b"#Fields: date time c-ip cs-uri-query sc-status",
    ] {
        assert_eq!(parser.parse(fields), Ok(Parsed::Directive));
        assert_eq!(
            parser.parse(b"2026-10-10 13:55:36 203.0.113.7 /a 200"),
            Err(Malformed::W3cMissingFields),
            "{}",
            String::from_utf8_lossy(fields)
        );
    }
    // The time may come last, and cs-uri stands for the stem.
    assert_eq!(
        parser.parse(b"#Fields: date c-ip cs-uri sc-status time"),
        Ok(Parsed::Directive)
    );
    let Ok(Parsed::Hit(hit)) = parser.parse(b"2026-10-10 203.0.113.7 /a?b=1 200 13:55:36") else {
        panic!("not a hit")
    };
    assert_eq!((hit.status, request(&hit).as_str()), (200, "- /a?b=1"));
}

#[test]
fn iis5_lines_are_dated_by_their_headers() {
    let log = fixture("iis5.log");
    let l = hits(Format::W3c, &log);
    let times: Vec<i64> = l.iter().map(|h| (h.time.utc_ms - T0) / 1000).collect();
    // 13:55:36 and 13:55:37; after the second header (23:59:50), 23:59:58 and, past
    // midnight, 00:00:04 of the next day: 10 h 4 min 22 s and 28 s after T0.
    assert_eq!(times, [0, 1, 36_262, 36_268]);
    assert_eq!(request(&l[3]), "GET /news.htm");
    assert_eq!(l[2].client, b"198.51.100.23");
}

/// IIS 5's default fields have a time and no date: the `#Date:` directive, written when the
/// log was started, gives the day, and a time earlier than the directive's (beyond ten
/// minutes of buffered requests) is on the next day.
#[test]
fn w3c_times_without_a_date_are_dated_by_the_date_directive() {
    let mut parser = LineParser::new(Format::W3c, None);
    let mut time = |line: &'static [u8]| match parser.parse(line) {
        Ok(Parsed::Hit(hit)) => Ok(hit.time.utc_ms / 1000),
        Ok(Parsed::Directive) => Ok(0),
        Err(e) => Err(e),
    };
    for directive in [
        &b"#Software: Microsoft Internet Information Services 5.0"[..],
        b"#Version: 1.0",
        b"#Date: 2002-05-02 17:42:15",
        b"#Fields: time c-ip cs-method cs-uri-stem sc-status",
    ] {
        assert_eq!(time(directive), Ok(0));
    }
    // Epoch seconds of each UTC time, worked out apart (Python's datetime).
    for (line, want) in [
        (
            &b"17:42:15 172.16.255.255 GET /default.htm 200"[..],
            1_020_361_335,
        ),
        (b"17:35:00 172.16.255.255 GET /a.htm 200", 1_020_360_900),
        (b"17:32:16 172.16.255.255 GET /a.htm 200", 1_020_360_736),
        (b"23:59:59 172.16.255.255 GET /a.htm 200", 1_020_383_999),
        (b"00:00:03 172.16.255.255 GET /a.htm 200", 1_020_384_003),
        (b"17:32:14 172.16.255.255 GET /a.htm 200", 1_020_447_134),
    ] {
        assert_eq!(time(line), Ok(want), "{}", String::from_utf8_lossy(line));
    }
    // A new header: its day from then on; a request buffered before a header written just
    // after midnight is on the day before.
    assert_eq!(time(b"#Date: 2002-05-04 00:00:01"), Ok(0));
    for (line, want) in [
        (&b"00:00:01 172.16.255.255 GET / 200"[..], 1_020_470_401),
        (b"23:59:58 172.16.255.255 GET / 200", 1_020_470_398),
        (b"23:50:02 172.16.255.255 GET / 200", 1_020_469_802),
        // The window's first second (ten minutes before 00:00:01), then the one before it.
        (b"23:50:01 172.16.255.255 GET / 200", 1_020_469_801),
        (b"23:50:00 172.16.255.255 GET / 200", 1_020_556_200),
    ] {
        assert_eq!(time(line), Ok(want), "{}", String::from_utf8_lossy(line));
    }
    assert_eq!(
        time(b"25:00:01 172.16.255.255 GET / 200"),
        Err(Malformed::W3cNoDateTime)
    );
    // A `#Date:` that does not read dates nothing, rather than leaving the old day.
    assert_eq!(time(b"#Date: 04/05/2002 00:00:01"), Ok(0));
    assert_eq!(
        time(b"00:00:01 172.16.255.255 GET / 200"),
        Err(Malformed::W3cNoDate)
    );
    // A layout with a date reads it, whatever the directive says.
    assert_eq!(
        time(b"#Fields: date time c-ip cs-uri-stem sc-status"),
        Ok(0)
    );
    assert_eq!(
        time(b"2002-05-02 17:42:15 172.16.255.255 / 200"),
        Ok(1_020_361_335)
    );
    // A parser started mid-file with the directives in effect there reads on; without a
    // `#Date:`, the lines say why they are not read.
    let fields = b"#Fields: time c-ip cs-method cs-uri-stem sc-status";
    let line = b"00:00:03 172.16.255.255 GET /a.htm 200";
    let mut parser = LineParser::new(Format::W3c, Some(fields))
        .with_w3c_date(Some(b"#Date: 2002-05-02 17:42:15"));
    let Ok(Parsed::Hit(hit)) = parser.parse(line) else {
        panic!("not a hit")
    };
    assert_eq!(hit.time.utc_ms, 1_020_384_003_000);
    let mut parser = LineParser::new(Format::W3c, Some(fields));
    assert_eq!(parser.parse(line), Err(Malformed::W3cNoDate));
}

#[test]
fn cloudfront_tabs_and_percent_encoding() {
    let log = fixture("cloudfront.log");
    let l = hits(Format::CloudFront, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].time.utc_ms, T0);
    assert_eq!(
        (l[0].client, l[0].status, l[0].bytes),
        (&b"203.0.113.7"[..], 200, 2326)
    );
    assert_eq!(
        request(&l[0]),
        "GET /index.html?utm_source=news&utm_medium=email HTTP/2.0"
    );
    assert_eq!(agent(&l[0]), FF);
    assert_eq!(l[0].vhost, b"www.example.com");
    assert_eq!((l[0].tls, l[0].response_time_us), (&b"TLSv1.3"[..], 2_000));
    assert_eq!((l[1].client, l[1].status), (&b"2001:db8::7"[..], 304));
    assert_eq!(l[1].forwarded_for, b"198.51.100.1");
    assert_eq!(l[1].response_time_us, 120_000);
    // Encoded once more by CloudFront: decoded once, the client's own encoding stays.
    assert_eq!(request(&l[2]), "GET /search?q=caf%C3%A9 HTTP/1.1");
    // Without its #Fields: line, CloudFront's documented layout is used.
    let body: Vec<u8> = lines(&log)
        .filter(|l| !l.starts_with(b"#"))
        .flat_map(|l| [l, b"\n"].concat())
        .collect();
    assert_eq!(hits(Format::CloudFront, &body).len(), 3);
}

#[test]
fn elb_lines_and_tcp_listeners() {
    let log = fixture("elb.log");
    let l = parse_all(Format::Elb, &log);
    assert_eq!(l.len(), 3);
    let a = l[0].unwrap();
    assert_eq!(a.time.utc_ms, T0 + 123);
    assert_eq!(a.client, b"203.0.113.7");
    assert_eq!(
        a.request,
        Request::Line(b"GET https://www.example.com:443/shop/cart?id=3 HTTP/1.1")
    );
    assert_eq!((a.status, a.bytes), (200, 4096));
    assert_eq!(a.user_agent, FF);
    // No host field: the absolute target's is read where it is shown (once per request).
    assert_eq!((a.vhost, a.tls), (&b""[..], &b"TLSv1.2"[..]));
    assert_eq!(a.response_time_us, 40 + 12_500 + 30);
    let b = l[1].unwrap();
    assert_eq!((b.status, b.response_time_us), (503, NO_RESPONSE_TIME));
    assert_eq!(b.tls, b"");
    assert_eq!(l[2], Err(Malformed::NotHttp));
}

#[test]
fn alb_types_and_quoted_fields() {
    let log = fixture("alb.log");
    let l = hits(Format::Alb, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].time.utc_ms, T0 + 123);
    assert_eq!(l[0].client, b"203.0.113.7");
    assert_eq!(
        l[0].request,
        Request::Line(b"GET https://shop.example.com:443/products?id=3 HTTP/1.1")
    );
    assert_eq!(
        (l[0].status, l[0].bytes, l[0].response_time_us),
        (200, 8192, 46_000)
    );
    assert_eq!(
        (l[0].vhost, l[0].tls),
        (&b"shop.example.com"[..], &b"TLSv1.2"[..])
    );
    assert_eq!(
        (l[1].client, l[1].status, l[1].tls),
        (&b"2001:db8::7"[..], 404, &b"TLSv1.3"[..])
    );
    assert_eq!(l[2].status, 101);
    assert_eq!(l[2].vhost, b"live.example.com");
    assert_eq!(
        l[2].request,
        Request::Line(b"GET wss://live.example.com:443/feed HTTP/1.1")
    );
    assert_eq!(
        Format::Alb.parse(b"tcp 2026-10-10T13:55:36Z app/x 1.2.3.4:1 - 0 0 0 200 200 0 0 \"GET / HTTP/1.1\" \"-\""),
        Err(Malformed::UnknownAlbType)
    );
}

#[test]
fn s3_server_access() {
    let log = fixture("s3.log");
    let l = hits(Format::S3, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].time.utc_ms, T0);
    assert_eq!((l[0].client, l[0].user), (&b"203.0.113.7"[..], &b""[..]));
    assert_eq!(l[0].request, Request::Line(b"GET /index.html HTTP/1.1"));
    assert_eq!(
        (l[0].status, l[0].bytes, l[0].response_time_us),
        (200, 2326, 12_000)
    );
    assert_eq!(l[0].referrer, b"https://www.google.com/");
    assert_eq!(l[0].user_agent, FF);
    assert_eq!(
        l[0].vhost,
        b"shop-assets.s3-website.eu-west-1.amazonaws.com"
    );
    assert_eq!(l[0].tls, b"TLSv1.2");
    assert_eq!(l[1].user, b"arn:aws:iam::123456789012:user/deploy");
    assert_eq!((l[1].bytes, l[1].tls), (0, &b"TLSv1.3"[..]));
    // An older line without the trailing fields: the bucket is the host.
    assert_eq!(
        (l[2].status, l[2].bytes, l[2].vhost),
        (404, 243, &b"shop-assets"[..])
    );
    assert_eq!(l[2].tls, b"");
}

#[test]
fn caddy_json() {
    let log = fixture("caddy.log");
    let l = hits(Format::Caddy, &log);
    assert_eq!(l.len(), 2);
    assert_eq!(
        l[0].time,
        LogTime {
            utc_ms: T0 + 250,
            offset_min: 0
        }
    );
    assert_eq!(l[0].client, b"203.0.113.7");
    // Escapes stay as written; enrich resolves them once per distinct value.
    assert_eq!(request(&l[0]), r"GET /shop?id=3\u0026ref=mail HTTP/2.0");
    assert_eq!(l[0].referrer, br#"https://news.example.org/?q=\"widgets\""#);
    assert_eq!(l[0].user_agent, FF);
    assert_eq!(
        (l[0].status, l[0].bytes, l[0].response_time_us),
        (200, 5120, 12_300)
    );
    assert_eq!(
        (l[0].vhost, l[0].tls),
        (&b"www.example.com"[..], &b"TLSv1.3"[..])
    );
    assert_eq!(l[0].forwarded_for, b"203.0.113.7");
    assert_eq!(l[1].time.utc_ms, T0 + 1000);
    assert_eq!(request(&l[1]), "HEAD / HTTP/1.1");
    assert_eq!(
        (l[1].status, l[1].referrer, l[1].tls),
        (404, &b""[..], &b""[..])
    );
}

#[test]
fn traefik_json_and_clf() {
    let log = fixture("traefik.log");
    let l = hits(Format::Traefik, &log);
    assert_eq!(l.len(), 2);
    assert_eq!(
        l[0].time,
        LogTime {
            utc_ms: T0 + 250,
            offset_min: 0
        }
    );
    assert_eq!(l[0].client, b"203.0.113.7");
    assert_eq!(l[0].user, b"");
    assert_eq!(request(&l[0]), r"GET /shop?id=3\u0026ref=mail HTTP/2.0");
    assert_eq!(
        (l[0].status, l[0].bytes, l[0].response_time_us),
        (200, 5120, 12_345)
    );
    assert_eq!(
        (l[0].referrer, l[0].user_agent),
        (&b"https://www.google.com/"[..], FF)
    );
    assert_eq!(
        (l[0].vhost, l[0].tls),
        (&b"www.example.com"[..], &b"1.3"[..])
    );
    // A status logged as a string reads the same.
    assert_eq!((l[1].status, l[1].response_time_us), (404, 411));

    // Traefik's CLF access log is combined plus fields: combined reads it.
    let log = fixture("traefik_clf.log");
    let l = hits(Format::Combined, &log);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].user_agent, FF);
    assert_eq!((l[1].status, l[1].user_agent), (404, &b"curl/8.5.0"[..]));
}

#[test]
fn haproxy_with_and_without_syslog() {
    let log = fixture("haproxy.log");
    let l = hits(Format::Haproxy, &log);
    assert_eq!(l.len(), 3);
    assert_eq!(
        l[0].time,
        LogTime {
            utc_ms: T0 + 120,
            offset_min: 0
        }
    );
    assert_eq!(l[0].client, b"203.0.113.7");
    assert_eq!(l[0].request, Request::Line(b"GET /shop?id=3 HTTP/1.1"));
    assert_eq!(
        (l[0].status, l[0].bytes, l[0].response_time_us),
        (200, 5120, 13_000)
    );
    assert_eq!(
        (l[0].referrer, l[0].user_agent),
        (&b"https://www.google.com/"[..], FF)
    );
    assert_eq!(
        (l[1].status, l[1].bytes, l[1].response_time_us),
        (503, 217, 2_000)
    );
    // No captured headers: no user agent logged, not an empty one.
    assert_eq!(
        (l[1].referrer, l[1].user_agent),
        (&b""[..], AGENT_NOT_LOGGED)
    );
    assert_eq!(l[2].client, b"2001:db8::7");
    assert_eq!((l[2].bytes, l[2].response_time_us), (2048, 105_000));
    assert_eq!(l[2].user_agent, b"curl/8.5.0");
    assert_eq!(
        Format::Haproxy.parse(b"203.0.113.7:1 [10/Oct/2026:13:55:36.120] www app/web1 0/0/1/12 200 5 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""),
        Err(Malformed::HaproxyBadTimers)
    );
}

#[test]
fn detection_picks_each_fixture_format() {
    for (name, format) in [
        ("vcombined.log", Format::VCombined),
        // vcombined reads vcommon lines whole, and is preferred (as combined is to common).
        ("vcommon.log", Format::VCombined),
        ("nginx.log", Format::Nginx),
        ("iis.log", Format::W3c),
        ("iis5.log", Format::W3c),
        ("cloudfront.log", Format::CloudFront),
        ("elb.log", Format::Elb),
        ("alb.log", Format::Alb),
        ("s3.log", Format::S3),
        ("caddy.log", Format::Caddy),
        ("traefik.log", Format::Traefik),
        ("traefik_clf.log", Format::Combined),
        ("haproxy.log", Format::Haproxy),
    ] {
        let got = detect::detect(&fixture(name)).unwrap();
        assert_eq!(got.format, format, "{name}: {got:?}");
    }
    let common = b"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5\n";
    assert_eq!(detect::detect(common).unwrap().format, Format::Combined);
    assert_eq!(detect::detect(b"\n\n").unwrap().format, Format::Combined);
    let err = detect::detect(b"hello\nworld\n").unwrap_err();
    assert_eq!(err.sampled, 2);
    assert!(err.describe().contains("none of alb"), "{}", err.describe());
}

/// Bytes that are not a line of any format, and damaged copies of good lines: every format
/// gives a reason (or, rarely, a hit) and none panics.
#[test]
fn bad_input_never_panics() {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\0\0\0".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"\"".to_vec(),
        b"[".to_vec(),
        b"#Fields:".to_vec(),
        b"#Fields: date time".to_vec(),
        vec![b'x'; 1 << 16],
        vec![b'"'; 1000],
        vec![b'{'; 1000],
        b"\xff\xfe\xc3\x28".to_vec(),
    ];
    let fixtures = [
        "vcombined.log",
        "nginx.log",
        "iis.log",
        "iis5.log",
        "cloudfront.log",
        "elb.log",
        "alb.log",
        "s3.log",
        "caddy.log",
        "traefik.log",
        "haproxy.log",
    ];
    // A fixed pseudo-random walk: truncations, NULs and swapped bytes of every fixture line.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in fixtures {
        for line in lines(&fixture(name)) {
            for cut in 0..line.len() {
                inputs.push(line[..cut].to_vec());
            }
            for _ in 0..50 {
                let mut damaged = line.to_vec();
                for _ in 0..3 {
                    let at = next() as usize % damaged.len().max(1);
                    let byte = [
                        b'\0', b'"', b'{', b'}', b' ', b'\t', b'\\', b'[', b']', 0xff,
                    ][next() as usize % 10];
                    if let Some(b) = damaged.get_mut(at) {
                        *b = byte;
                    }
                }
                inputs.push(damaged);
            }
        }
    }
    for format in Format::ALL {
        let mut parser = LineParser::new(format, None);
        for input in &inputs {
            let _ = parser.parse(input);
        }
    }
}

#[test]
fn a_user_agent_not_logged_is_told_from_an_empty_one() {
    let hit = |parser: &mut LineParser, line: &'static [u8]| match parser.parse(line) {
        Ok(Parsed::Hit(hit)) => hit.user_agent,
        other => panic!("{other:?}: {}", String::from_utf8_lossy(line)),
    };
    // W3C: fields without cs(User-Agent), then with it and a logged `-`.
    let mut w3c = LineParser::new(
        Format::W3c,
        Some(b"#Fields: date time c-ip cs-method cs-uri-stem sc-status"),
    );
    let line = b"2026-10-10 14:00:01 198.51.100.23 GET / 200";
    assert_eq!(hit(&mut w3c, line), AGENT_NOT_LOGGED);
    let mut w3c = LineParser::new(
        Format::W3c,
        Some(b"#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)"),
    );
    assert_eq!(
        hit(&mut w3c, b"2026-10-10 14:00:01 198.51.100.23 GET / 200 -"),
        b""
    );
    // Traefik keeps no headers by default; Caddy logs every header sent, so a missing
    // User-Agent was not sent.
    let mut traefik = LineParser::new(Format::Traefik, None);
    let line = br#"{"ClientHost":"198.51.100.23","DownstreamContentSize":19,"DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/","RequestProtocol":"HTTP/1.1","StartUTC":"2026-10-10T13:55:37Z"}"#;
    assert_eq!(hit(&mut traefik, line), AGENT_NOT_LOGGED);
    let line = br#"{"ClientHost":"198.51.100.23","DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/","StartUTC":"2026-10-10T13:55:37Z","request_User-Agent":"-"}"#;
    assert_eq!(hit(&mut traefik, line), b"");
    // Another header kept: this request sent no agent.
    let line = br#"{"ClientHost":"198.51.100.23","DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/","StartUTC":"2026-10-10T13:55:37Z","request_X-Forwarded-Proto":"https"}"#;
    assert_eq!(hit(&mut traefik, line), b"");
    let mut caddy = LineParser::new(Format::Caddy, None);
    let line = br#"{"ts":1791640537,"request":{"client_ip":"198.51.100.23","proto":"HTTP/1.1","method":"GET","host":"a","uri":"/","headers":{}},"size":0,"status":404}"#;
    assert_eq!(hit(&mut caddy, line), b"");
    // A custom format without %{User-Agent}i, then one with it.
    let custom = |spec: &str| {
        LineParser::custom(std::sync::Arc::new(
            CustomFormat::compile(spec, None).unwrap(),
        ))
    };
    let line = br#"1.2.3.4 [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200"#;
    assert_eq!(
        hit(&mut custom(r#"%h %t "%r" %>s"#), line),
        AGENT_NOT_LOGGED
    );
    let line = br#"1.2.3.4 [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 "-""#;
    assert_eq!(
        hit(&mut custom(r#"%h %t "%r" %>s "%{User-Agent}i""#), line),
        b""
    );
}

#[test]
fn shoutcast_w3c_status_method_and_encoded_agent() {
    // SHOUTcast's W3C log: `c-status`, no `cs-method`, a percent-encoded agent, the query
    // inside `cs-uri-stem`; the request is put together with `-` for its method.
    let mut w3c = LineParser::new(
        Format::W3c,
        Some(
            b"#Fields: c-ip c-dns date time cs-uri-stem c-status cs(User-Agent) sc-bytes \
              x-duration avgbandwidth",
        ),
    );
    let line = b"192.0.2.4 192.0.2.4 2026-10-10 10:37:05 /stream?title=Late%20Show 200 \
                 NSPlayer%2F10.0.0.3702%20WMFSDK%2F10.0+x 65580 1 524640";
    let Ok(Parsed::Hit(hit)) = w3c.parse(line) else {
        panic!("{}", String::from_utf8_lossy(line))
    };
    assert_eq!((hit.status, hit.bytes), (200, 65580));
    assert_eq!(request(&hit), "- /stream?title=Late%20Show");
    assert_eq!(agent(&hit), b"NSPlayer/10.0.0.3702 WMFSDK/10.0 x");
    // A query logged apart keeps its escapes (they are the URL's), and `+` is a space.
    let mut iis = LineParser::new(
        Format::W3c,
        Some(b"#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status"),
    );
    let Ok(Parsed::Hit(hit)) = iis.parse(b"2026-10-10 14:00:01 198.51.100.23 GET /s q=a%26b+c 200")
    else {
        panic!()
    };
    assert_eq!(request(&hit), "GET /s?q=a%26b c");
}

#[test]
fn a_w3c_header_says_whether_its_times_are_the_servers_clock() {
    let mut parser = LineParser::new(Format::W3c, None);
    for (fields, clock) in [
        (
            &b"#Fields: date time c-ip cs-uri-stem sc-status"[..],
            Clock::Utc,
        ),
        (
            b"#Fields: date-local time-local c-ip cs-uri-stem sc-status",
            Clock::Unzoned,
        ),
        (
            b"#Fields: date TIME-LOCAL c-ip cs-uri-stem sc-status",
            Clock::Unzoned,
        ),
        // The last column of a kind is the one read.
        (
            b"#Fields: date-local time-local c-ip cs-uri-stem sc-status date time",
            Clock::Utc,
        ),
        (
            b"#Fields: date time c-ip cs-uri-stem sc-status time-local",
            Clock::Unzoned,
        ),
    ] {
        assert_eq!(parser.parse(fields), Ok(Parsed::Directive));
        assert_eq!(parser.clock(), clock, "{}", String::from_utf8_lossy(fields));
    }
    // Other formats have the format's clock.
    assert_eq!(
        LineParser::new(Format::Haproxy, None).clock(),
        Clock::Unzoned
    );
    assert_eq!(
        LineParser::new(Format::CloudFront, None).clock(),
        Clock::Utc
    );
}
