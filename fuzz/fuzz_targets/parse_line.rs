//! Any bytes as one log line: the first byte picks a preset, the rest is the line, parsed
//! through `LineParser` as the ingest loop does (W3C with a typical `#Fields:` line in
//! effect, one with `cs(Cookie)` and the `sid` cookie as visitor key when the first byte's
//! high bit is set, IIS 5's with no date and a `#Date:` in effect when only the next bit
//! is);
//! what parses then goes through every per-distinct classification.
//! Nothing may panic, and parsed fields must be slices of the line (or, for the user agent,
//! the mark of one not logged).
#![no_main]

use accesslens::enrich::channel::{self, Arrival};
use accesslens::enrich::{
    SiteDomains, SiteSearch, agent, campaign, query, referrer, request, screen, sources, text,
};
use accesslens::parse::{AGENT_NOT_LOGGED, Format, LineParser, Parsed, Request, TextCoding};
use libfuzzer_sys::fuzz_target;

const FIELDS: &[u8] = b"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
const FIELDS_WITH_COOKIE: &[u8] = b"#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query cs(User-Agent) cs(Cookie) sc-status time-taken";
const FIELDS_WITHOUT_DATE: &[u8] = b"#Fields: time c-ip cs-method cs-uri-stem sc-status";

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, line)) = bytes.split_first() else {
        return;
    };
    let format = Format::ALL[pick as usize % Format::ALL.len()];
    let fields = match pick >> 6 {
        2 | 3 => FIELDS_WITH_COOKIE,
        1 => FIELDS_WITHOUT_DATE,
        _ => FIELDS,
    };
    let mut parser = LineParser::new(format, format.is_w3c().then_some(fields))
        .with_w3c_date(Some(b"#Date: 2002-05-02 17:42:15"))
        .with_visitor_cookie(Some("sid".into()));
    let Ok(Parsed::Hit(parsed)) = parser.parse(line) else {
        return;
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
        } => vec![method, target, query, protocol],
    };
    for field in [
        parsed.client,
        parsed.user,
        parsed.referrer,
        parsed.user_agent,
        parsed.vhost,
        parsed.cookie,
    ]
    .into_iter()
    .chain(request_parts)
    {
        assert!(within(field), "{format:?}: a field outside the line");
    }
    assert!(parsed.status <= 999, "status is three digits");
    let mut request_line = Vec::new();
    parsed.request.write_line(parsed.coding, &mut request_line);
    let parts = request::classify(&request_line, &request::PathRules::default());
    let tags = campaign::campaign_of(&parts.target);
    // Beacon screen parameters and site-search terms: any query, valid or not.
    let q = query::query_of(&parts.target);
    let screen = screen::screen_of(q);
    if let Some((w, h)) = screen.resolution {
        assert!((1..=screen::MAX_SIDE).contains(&w) && (1..=screen::MAX_SIDE).contains(&h));
    }
    if let Some(term) = SiteSearch::default().term_of(q) {
        assert!(!term.is_empty() && term.chars().count() <= 200);
    }
    let site = SiteDomains::new(["example.com"]);
    let mut raw_referrer = Vec::new();
    if parsed.coding.applies_to_referrer() {
        parsed
            .coding
            .decode_into(parsed.referrer, &mut raw_referrer);
    } else {
        raw_referrer.extend_from_slice(parsed.referrer);
    }
    let unescaped = text::unescape(&raw_referrer);
    let referrer_text = String::from_utf8_lossy(&unescaped);
    let parts = referrer::classify(&referrer_text, &site);
    let source = parts
        .host
        .as_deref()
        .map(|host| sources::classify_referrer(host, &unescaped))
        .unwrap_or_default();
    let arrival = match &parts.host {
        Some(host) if !parts.internal => Arrival::External {
            host,
            referrer: &source,
        },
        _ => Arrival::Direct,
    };
    let acquisition = channel::acquisition(tags.as_ref(), arrival);
    assert!(!acquisition.source.is_empty() && !acquisition.medium.is_empty());
    let mut agent_text = Vec::new();
    match parsed.coding {
        TextCoding::AsLogged => agent_text.extend_from_slice(parsed.user_agent),
        coding => coding.decode_into(parsed.user_agent, &mut agent_text),
    }
    agent::classify(&text::display(&agent_text, text::Legacy::default()));
});
