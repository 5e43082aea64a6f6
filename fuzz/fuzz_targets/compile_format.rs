//! Any text as a `--log-format` string (its first line), compiled with or without a visitor
//! cookie (the first byte says), then the lines after it parsed with what compiled. Nothing
//! may panic; a compiled format parses every line to a hit or a reason, and a hit's fields
//! are slices of its line.
#![no_main]

use accesslens::parse::{self, AGENT_NOT_LOGGED, CustomFormat, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, rest)) = bytes.split_first() else {
        return;
    };
    let (spec, lines) = match memchr_newline(rest) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let Ok(spec) = std::str::from_utf8(spec) else {
        return;
    };
    let cookie = (flags & 1 == 1).then_some("sid");
    let Ok(format) = CustomFormat::compile(spec, cookie) else {
        return;
    };
    for line in parse::lines(lines) {
        let Ok(parsed) = format.parse(line) else {
            continue;
        };
        let within = |field: &[u8]| {
            field.is_empty()
                || field == AGENT_NOT_LOGGED
                || line.as_ptr_range().contains(&field.as_ptr())
        };
        let request_parts: Vec<&[u8]> = match parsed.request {
            Request::Line(l) => vec![l],
            Request::Parts {
                method,
                target,
                query,
                protocol,
            } => {
                vec![method, target, query, protocol]
            }
        };
        for field in [
            parsed.client,
            parsed.user,
            parsed.referrer,
            parsed.user_agent,
            parsed.vhost,
            parsed.forwarded_for,
            parsed.tls,
            parsed.cookie,
        ]
        .into_iter()
        .chain(request_parts)
        {
            assert!(within(field), "a field outside the line");
        }
        assert!(parsed.status <= 999, "status is three digits");
        if cookie.is_none() {
            assert!(parsed.cookie.is_empty(), "a cookie nobody asked for");
        }
    }
});

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}
