//! Any bytes as a whole log: lines are split, parsed, interned and counted. Every line is
//! exactly one of hit, malformed or blank.
#![no_main]

use accesslens::enrich::{ChunkHits, SharedDictionaries};
use accesslens::parse::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dicts = SharedDictionaries::default();
    let mut chunk = ChunkHits::default();
    let (mut lines, mut blank, mut malformed) = (0usize, 0usize, 0usize);
    for line in parse::lines(bytes) {
        lines += 1;
        match Format::Combined.parse(line) {
            Ok(parsed) => chunk.push(&parsed),
            Err(_) if parse::is_blank(line) => blank += 1,
            Err(_) => malformed += 1,
        }
    }
    let hits = chunk.len();
    assert_eq!(lines, hits + blank + malformed);
    assert_eq!(chunk.into_global(&dicts).len(), hits);
});
