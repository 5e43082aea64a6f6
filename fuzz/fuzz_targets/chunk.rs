//! Any bytes as a whole log: the first byte picks the visitor key, the rest is split,
//! parsed (a custom format that logs a cookie, or combined), interned and merged into the
//! run's dictionaries, then classified. Every line is exactly one of hit, malformed or
//! blank, and every hit's visitor exists.
#![no_main]

use accesslens::enrich::{ChunkHits, EnrichRules, Lookups, SharedDictionaries, VisitorKey};
use accesslens::parse::{self, CustomFormat, Format};
use libfuzzer_sys::fuzz_target;

const KEYS: [VisitorKey; 4] = [
    VisitorKey::IpUserAgent,
    VisitorKey::Ip,
    VisitorKey::User,
    VisitorKey::Cookie,
];

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, log)) = bytes.split_first() else {
        return;
    };
    let key = KEYS[pick as usize % KEYS.len()];
    let custom = CustomFormat::compile(
        r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" \"%{Cookie}i\""#,
        Some("sid"),
    )
    .expect("a valid format");
    let use_custom = pick & 0x80 != 0;
    let dicts = SharedDictionaries::default();
    let (mut lines, mut blank, mut malformed, mut hits) = (0usize, 0usize, 0usize, 0usize);
    // Two chunks, as the ingest loop cuts a window, so the merge meets known values.
    let half = log.len() / 2;
    let cut = log[half..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(log.len(), |i| half + i + 1);
    for chunk in [&log[..cut], &log[cut..]] {
        let mut chunk_hits = ChunkHits::with_key(16, key);
        for line in parse::lines(chunk) {
            lines += 1;
            let parsed = if use_custom {
                custom.parse(line)
            } else {
                Format::Combined.parse(line)
            };
            match parsed {
                Ok(parsed) => chunk_hits.push(&parsed),
                Err(_) if parse::is_blank(line) => blank += 1,
                Err(_) => malformed += 1,
            }
        }
        let n = chunk_hits.len();
        hits += n;
        let global = chunk_hits.into_global(&dicts);
        assert_eq!(global.len(), n);
    }
    assert_eq!(lines, hits + blank + malformed);
    let dicts = dicts.into_inner();
    let lookups = Lookups::build(&dicts, &EnrichRules::default());
    assert_eq!(lookups.visitors.len(), dicts.visitors.len());
});
