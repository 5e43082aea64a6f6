//! Memory-mapping a byte range of a file: the crate's only `unsafe`.
//!
//! # Safety contract
//!
//! A mapping is only sound while no other process truncates or rewrites the mapped part of
//! the file. Access logs are append-only; a file that grows while it is read is fine (only
//! the length seen when it was opened is mapped). A file truncated underneath a mapping makes
//! the kernel raise SIGBUS when the vanished pages are touched. Users who read logs that
//! something may truncate (`logrotate` with `copytruncate` running at that moment) can pass
//! `--no-mmap`, which reads the same windows with `read()` instead.

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};

/// A read-only mapping of `len` bytes of `file` starting at `offset`; derefs to exactly
/// those bytes (the mapping itself starts at the page boundary below `offset`).
pub struct MappedRange {
    map: Mmap,
    skip: usize,
}

impl MappedRange {
    pub fn new(file: &File, offset: u64, len: usize) -> io::Result<MappedRange> {
        let page = page_size();
        let aligned = offset - offset % page;
        let skip = (offset - aligned) as usize;
        // SAFETY: see the module's contract. The mapping is private to this value and
        // read-only; its length never exceeds the file length observed at open time.
        let map = unsafe {
            MmapOptions::new()
                .offset(aligned)
                .len(skip + len)
                .map(file)?
        };
        Ok(MappedRange { map, skip })
    }
}

impl std::ops::Deref for MappedRange {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map[self.skip..]
    }
}

fn page_size() -> u64 {
    // Mapping offsets must be multiples of the allocation granularity. 64 KiB is a multiple
    // of every page size Linux and macOS use (4 KiB, 16 KiB, 64 KiB), and of Windows'
    // allocation granularity.
    64 * 1024
}
