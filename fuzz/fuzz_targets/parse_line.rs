//! Any bytes, as one log line in every format, then every per-distinct classification of
//! the fields that parsed: nothing may panic, and what parses must be consistent.
#![no_main]

use accesslens::enrich::channel::{self, Arrival};
use accesslens::enrich::{
    SiteDomains, SiteSearch, agent, campaign, query, referrer, request, screen, sources, text,
};
use accesslens::parse::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    for format in [Format::Combined, Format::Common] {
        let Ok(parsed) = format.parse(line) else { continue };
        // Borrowed fields are slices of the line.
        for field in [parsed.client, parsed.user, parsed.request, parsed.referrer, parsed.user_agent] {
            assert!(field.is_empty() || line.as_ptr_range().contains(&field.as_ptr()));
        }
        assert!(parsed.status <= 999, "status is three digits");
        let parts = request::classify(parsed.request, &request::PathRules::default());
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
        let unescaped = text::unescape(parsed.referrer);
        let referrer_text = String::from_utf8_lossy(&unescaped);
        let parts = referrer::classify(&referrer_text, &site);
        let source = parts
            .host
            .as_deref()
            .map(|host| sources::classify_referrer(host, &unescaped))
            .unwrap_or_default();
        let arrival = match &parts.host {
            Some(host) if !parts.internal => Arrival::External { host, referrer: &source },
            _ => Arrival::Direct,
        };
        let acquisition = channel::acquisition(tags.as_ref(), arrival);
        assert!(!acquisition.source.is_empty() && !acquisition.medium.is_empty());
        agent::classify(&text::display(parsed.user_agent));
    }
});
