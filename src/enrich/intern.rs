//! Interning: each distinct byte string gets a dense `u32` id.
//!
//! Parser threads intern into a [`LocalInterner`] that borrows from the chunk being parsed
//! (no copy, no allocation per line). At the end of a chunk its distinct values are merged
//! into the run's [`Interner`], which owns one copy of each value in a single arena, and the
//! chunk's ids are remapped. Hashes are computed once (XXH3) and carried along, so the merge
//! does not hash again.

use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

/// Hash used by the interners (not the visitor hash, which is a fixed contract elsewhere).
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// Distinct values of one chunk, borrowed from the chunk.
#[derive(Default)]
pub struct LocalInterner<'a> {
    values: Vec<(&'a [u8], u64)>,
    table: HashTable<u32>,
}

impl<'a> LocalInterner<'a> {
    #[inline]
    pub fn intern(&mut self, value: &'a [u8]) -> u32 {
        let hash = hash_bytes(value);
        let values = &mut self.values;
        if let Some(&id) = self.table.find(hash, |&id| values[id as usize].0 == value) {
            return id;
        }
        let id = values.len() as u32;
        values.push((value, hash));
        self.table
            .insert_unique(hash, id, |&id| values[id as usize].1);
        id
    }

    /// The distinct values with their hashes, in id order.
    pub fn values(&self) -> &[(&'a [u8], u64)] {
        &self.values
    }
}

/// The run-wide dictionary of one kind of value. Ids are dense and never change.
#[derive(Default)]
pub struct Interner {
    arena: Vec<u8>,
    spans: Vec<(usize, usize)>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

impl Interner {
    /// The id of `value`, whose [`hash_bytes`] is `hash`; adds it when new.
    pub fn intern_hashed(&mut self, value: &[u8], hash: u64) -> u32 {
        let (arena, spans) = (&self.arena, &self.spans);
        if let Some(&id) = self.table.find(hash, |&id| {
            let (start, end) = spans[id as usize];
            &arena[start..end] == value
        }) {
            return id;
        }
        let id = u32::try_from(self.spans.len()).expect("fewer than 2^32 distinct values");
        let start = self.arena.len();
        self.arena.extend_from_slice(value);
        self.spans.push((start, self.arena.len()));
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table
            .insert_unique(hash, id, |&id| hashes[id as usize]);
        id
    }

    pub fn intern(&mut self, value: &[u8]) -> u32 {
        self.intern_hashed(value, hash_bytes(value))
    }

    /// Maps every value of a chunk's interner to its run-wide id.
    pub fn merge_local(&mut self, local: &LocalInterner<'_>) -> Vec<u32> {
        local
            .values()
            .iter()
            .map(|&(value, hash)| self.intern_hashed(value, hash))
            .collect()
    }

    /// Maps every value of another run-wide interner (a chunk's owned values) to its id here.
    pub fn merge_owned(&mut self, other: &Interner) -> Vec<u32> {
        (0..other.len())
            .map(|id| self.intern_hashed(other.get(id as u32), other.hashes[id]))
            .collect()
    }

    #[inline]
    pub fn get(&self, id: u32) -> &[u8] {
        let (start, end) = self.spans[id as usize];
        &self.arena[start..end]
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// All values in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.spans
            .iter()
            .map(|&(start, end)| &self.arena[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_then_global_ids() {
        let text = b"a b a c b a".to_vec();
        let mut local = LocalInterner::default();
        let ids: Vec<u32> = text
            .split(|&b| b == b' ')
            .map(|w| local.intern(w))
            .collect();
        assert_eq!(ids, [0, 1, 0, 2, 1, 0]);

        let mut global = Interner::default();
        global.intern(b"c");
        let remap = global.merge_local(&local);
        assert_eq!(remap, [1, 2, 0]);
        assert_eq!(global.get(remap[0]), b"a");
        assert_eq!(global.len(), 3);
        assert_eq!(global.iter().collect::<Vec<_>>(), [&b"c"[..], b"a", b"b"]);
    }

    #[test]
    fn empty_value_is_a_value() {
        let mut global = Interner::default();
        let e = global.intern(b"");
        assert_eq!(global.intern(b"x"), 1);
        assert_eq!(global.intern(b""), e);
        assert_eq!(global.get(e), b"");
    }
}
