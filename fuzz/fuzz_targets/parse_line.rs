//! Any bytes, as one log line in every format, then every per-distinct classification of
//! the fields that parsed: nothing may panic, and what parses must be consistent.
#![no_main]

use accesslens::enrich::{SiteDomains, agent, referrer, request, text};
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
        request::classify(parsed.request, &request::PathRules::default());
        let site = SiteDomains::new(["example.com"]);
        referrer::classify(&text::display(parsed.referrer), &site);
        agent::classify(&text::display(parsed.user_agent));
    }
});
