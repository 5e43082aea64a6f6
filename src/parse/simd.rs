//! Byte searches many bytes a step, for the scanners whose lines have many fields:
//!
//! - [`quote_or_backslash`], the search that ends every JSON string (a key or a value), run
//!   some sixty times a Caddy line ([`first_of_two`] for any two bytes: a W3C line's first
//!   space or tab). Most strings in a JSON log are shorter than sixteen
//!   bytes, so one sixteen-byte step usually ends it: one load, two byte compares, one mask.
//!   Strings longer than [`LONG`] bytes are handed to memchr, which is faster on long runs.
//! - [`Marks`], the separators of a line, sixty-four bytes a step, handed out left to right:
//!   a W3C line of a dozen short fields is looked at once, not searched again for each field
//!   (searching field by field, the short searches and their mispredicted exits cost more
//!   than the bytes).
//!
//! On x86_64 the steps are SSE2 and on aarch64 NEON, both part of the baseline of those
//! targets (no detection at run time); elsewhere they are plain integer arithmetic.
//!
//! This module holds the crate's second `unsafe`: the calls into the SIMD steps, which are
//! `#[target_feature]` functions. The steps read only the `[u8; 16]` or `[u8; 64]` they are
//! given (no pointers), so the one obligation is that the CPU has the feature, which the
//! `cfg(target_feature = …)` on each call guarantees at compile time. The tests check the
//! SIMD answers against byte-by-byte searches on every byte value, length and alignment.

use memchr::memchr2;

/// After this many bytes without a quote or backslash the search goes to memchr.
const LONG: usize = 128;

/// Index of the first `"` or `\` in `s[from..]`.
#[inline(always)]
pub(super) fn quote_or_backslash(s: &[u8], from: usize) -> Option<usize> {
    first_of_two(s, from, b'"', b'\\')
}

/// Index of the first `a` or `b` in `s[from..]`: sixteen bytes a step, memchr after
/// [`LONG`] bytes (for searches that mostly end within a few bytes, where memchr's call
/// costs more than the search).
#[inline(always)]
pub(super) fn first_of_two(s: &[u8], mut from: usize, a: u8, b: u8) -> Option<usize> {
    let start = from;
    while let Some(chunk) = s.get(from..from + 16) {
        let mask = step(chunk.try_into().expect("sixteen bytes"), a, b);
        if mask != 0 {
            return Some(from + first(mask));
        }
        from += 16;
        if from - start >= LONG {
            return memchr2(a, b, s.get(from..)?).map(|i| from + i);
        }
    }
    // Fewer than sixteen bytes left: the last sixteen of the line, with the bytes before
    // `from` shifted out of the mask.
    if from >= s.len() {
        return None;
    }
    if s.len() >= 16 {
        let base = s.len() - 16;
        let mask =
            step(s[base..].try_into().expect("sixteen bytes"), a, b) >> ((from - base) * STRIDE);
        return (mask != 0).then(|| from + first(mask));
    }
    s[from..]
        .iter()
        .position(|&x| x == a || x == b)
        .map(|i| from + i)
}

/// The places of one byte (a field separator) in a line, found sixty-four bytes a step and
/// handed out left to right. The byte may not be NUL (a line's last bytes are padded with
/// NULs when it is shorter than sixty-four).
pub(super) struct Marks<'a> {
    line: &'a [u8],
    byte: u8,
    /// Index in the line of the byte bit 0 of `mask` stands for.
    base: usize,
    /// The places in `line[base..base + 64]` not handed out yet, one bit a byte.
    mask: u64,
}

impl<'a> Marks<'a> {
    #[inline(always)]
    pub(super) fn new(line: &'a [u8], byte: u8) -> Self {
        debug_assert_ne!(byte, 0, "NUL pads short lines");
        let mut marks = Marks {
            line,
            byte,
            base: 0,
            mask: 0,
        };
        marks.load(0);
        marks
    }

    /// The next place of the byte; `None` when there are no more.
    #[inline(always)]
    pub(super) fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let next = self.base + 64;
            if next >= self.line.len() {
                return None;
            }
            self.load(next);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }

    /// Starts again at `at` (after a field that held the byte, a quoted one): the next
    /// place handed out is the first at or after `at`.
    #[inline]
    pub(super) fn seek(&mut self, at: usize) {
        self.load(at);
    }

    /// The places in the sixty-four bytes from `at`, or in what is left of the line.
    #[inline(always)]
    fn load(&mut self, at: usize) {
        self.base = at;
        self.mask = match self.line.get(at..at + 64) {
            Some(bytes) => block(bytes.try_into().expect("64 bytes"), self.byte),
            None => self.last(at),
        };
    }

    /// The places from `at` to the end of a line with fewer than sixty-four bytes left: the
    /// line's last sixty-four bytes with those before `at` shifted out or, on a shorter line,
    /// the rest padded with NULs.
    #[inline]
    fn last(&self, at: usize) -> u64 {
        let len = self.line.len();
        if at >= len {
            return 0;
        }
        if let Some(start) = len.checked_sub(64) {
            let bytes = self.line[start..].try_into().expect("64 bytes");
            return block(bytes, self.byte) >> (at - start);
        }
        let mut bytes = [0; 64];
        bytes[..len - at].copy_from_slice(&self.line[at..]);
        block(&bytes, self.byte)
    }
}

/// Index in the chunk of the byte a nonzero [`step`] mask names first.
#[inline(always)]
fn first(mask: Mask) -> usize {
    mask.trailing_zeros() as usize / STRIDE
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod imp {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };

    /// One bit a byte.
    pub type Mask = u32;
    pub const STRIDE: usize = 1;

    /// Bit `i` set when byte `i` of the chunk is `a` or `b`.
    #[inline(always)]
    pub fn step(chunk: &[u8; 16], a: u8, b: u8) -> Mask {
        // SAFETY: `sse2` is enabled at compile time (the cfg above; it is in the x86_64
        // baseline), which is all `sse2_step` requires; it reads nothing but `chunk`.
        unsafe { sse2_step(chunk, a, b) }
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn sse2_step(chunk: &[u8; 16], a: u8, b: u8) -> Mask {
        let bytes = vector(chunk);
        let is_a = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(a as i8));
        let is_b = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b as i8));
        _mm_movemask_epi8(_mm_or_si128(is_a, is_b)) as Mask
    }

    /// Bit `i` set when byte `i` of the block is `byte`.
    #[inline(always)]
    pub fn block(bytes: &[u8; 64], byte: u8) -> u64 {
        // SAFETY: as for `step`: `sse2` is enabled at compile time; reads only `bytes`.
        unsafe { sse2_block(bytes, byte) }
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn sse2_block(bytes: &[u8; 64], byte: u8) -> u64 {
        let needle = _mm_set1_epi8(byte as i8);
        let mut mask = 0;
        for (i, chunk) in bytes.as_chunks::<16>().0.iter().enumerate() {
            let found = _mm_movemask_epi8(_mm_cmpeq_epi8(vector(chunk), needle)) as u16;
            mask |= u64::from(found) << (16 * i);
        }
        mask
    }

    /// The sixteen bytes in a register, from two integer loads (no pointers).
    #[target_feature(enable = "sse2")]
    #[inline]
    fn vector(chunk: &[u8; 16]) -> __m128i {
        let lo = i64::from_le_bytes(chunk[..8].try_into().expect("eight bytes"));
        let hi = i64::from_le_bytes(chunk[8..].try_into().expect("eight bytes"));
        _mm_set_epi64x(hi, lo)
    }
}

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod imp {
    use std::arch::aarch64::{
        uint8x16_t, vandq_u8, vceqq_u8, vcombine_u8, vcreate_u8, vdupq_n_u8, vget_lane_u64,
        vgetq_lane_u64, vorrq_u8, vpaddq_u8, vreinterpret_u64_u8, vreinterpretq_u16_u8,
        vreinterpretq_u64_u8, vshrn_n_u16,
    };

    /// Four bits a byte (NEON has no byte mask; narrowing each 16-bit lane by four keeps
    /// four bits of each compared byte).
    pub type Mask = u64;
    pub const STRIDE: usize = 4;

    /// Bits `4i..4i+4` set when byte `i` of the chunk is `a` or `b`.
    #[inline(always)]
    pub fn step(chunk: &[u8; 16], a: u8, b: u8) -> Mask {
        // SAFETY: `neon` is enabled at compile time (the cfg above; it is in the aarch64
        // baseline), which is all `neon_step` requires; it reads nothing but `chunk`.
        unsafe { neon_step(chunk, a, b) }
    }

    #[target_feature(enable = "neon")]
    #[inline]
    fn neon_step(chunk: &[u8; 16], a: u8, b: u8) -> Mask {
        let bytes = vector(chunk);
        let is_a = vceqq_u8(bytes, vdupq_n_u8(a));
        let is_b = vceqq_u8(bytes, vdupq_n_u8(b));
        let found = vorrq_u8(is_a, is_b);
        vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(
            found,
        ))))
    }

    /// Bit `i` set when byte `i` of the block is `byte`.
    #[inline(always)]
    pub fn block(bytes: &[u8; 64], byte: u8) -> u64 {
        // SAFETY: as for `step`: `neon` is enabled at compile time; reads only `bytes`.
        unsafe { neon_block(bytes, byte) }
    }

    #[target_feature(enable = "neon")]
    #[inline]
    fn neon_block(bytes: &[u8; 64], byte: u8) -> u64 {
        // Each found byte keeps its bit of its place in eight (1, 2, 4 … 128); three rounds
        // of pairwise adds sum each eight bytes into one mask byte.
        let weights = vcombine_u8(
            vcreate_u8(0x8040_2010_0804_0201),
            vcreate_u8(0x8040_2010_0804_0201),
        );
        let [c0, c1, c2, c3] = bytes.as_chunks::<16>().0 else {
            unreachable!("64 bytes are four chunks of sixteen")
        };
        let needle = vdupq_n_u8(byte);
        let [p0, p1, p2, p3] =
            [c0, c1, c2, c3].map(|chunk| vandq_u8(vceqq_u8(vector(chunk), needle), weights));
        let quads = vpaddq_u8(vpaddq_u8(p0, p1), vpaddq_u8(p2, p3));
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(vpaddq_u8(quads, quads)))
    }

    /// The sixteen bytes in a register, from two integer loads (no pointers).
    #[target_feature(enable = "neon")]
    #[inline]
    fn vector(chunk: &[u8; 16]) -> uint8x16_t {
        let lo = u64::from_le_bytes(chunk[..8].try_into().expect("eight bytes"));
        let hi = u64::from_le_bytes(chunk[8..].try_into().expect("eight bytes"));
        vcombine_u8(vcreate_u8(lo), vcreate_u8(hi))
    }
}

#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "aarch64", target_feature = "neon")
)))]
mod imp {
    pub use super::scalar::{Mask, STRIDE, block, step};
}

/// The step in plain integer arithmetic, for other targets (and tested everywhere).
#[cfg_attr(
    any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "aarch64", target_feature = "neon")
    ),
    allow(dead_code)
)]
mod scalar {
    /// Eight bits a byte: the high bit of each byte that is `a` or `b`.
    pub type Mask = u128;
    pub const STRIDE: usize = 8;

    #[inline(always)]
    pub fn step(chunk: &[u8; 16], a: u8, b: u8) -> Mask {
        const ONES: u128 = u128::from_le_bytes([1; 16]);
        const HIGHS: u128 = ONES * 0x80;
        let word = u128::from_le_bytes(*chunk);
        let (q, b) = (word ^ (ONES * u128::from(a)), word ^ (ONES * u128::from(b)));
        // The zero bytes of `q` and `b`, exactly: `(x & 0x7f…) + 0x7f…` sets a byte's high
        // bit when its low seven bits are not all zero, with no carry between bytes.
        let zero = |x: u128| !(((x & !HIGHS) + ONES * 0x7f) | x) & HIGHS;
        zero(q) | zero(b)
    }

    /// Bit `i` set when byte `i` of the block is `byte`.
    #[inline(always)]
    pub fn block(bytes: &[u8; 64], byte: u8) -> u64 {
        const ONES: u64 = u64::from_le_bytes([1; 8]);
        const HIGHS: u64 = ONES * 0x80;
        let zero = |x: u64| !(((x & !HIGHS) + ONES * 0x7f) | x) & HIGHS;
        let mut mask = 0;
        for (i, word) in bytes.chunks_exact(8).enumerate() {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            let found = zero(word ^ (ONES * u64::from(byte)));
            // The high bits of the eight bytes, gathered into the top byte by the multiply
            // (each lands on its own bit, none carries).
            let byte = ((found >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
            mask |= byte << (8 * i);
        }
        mask
    }
}

use imp::{Mask, STRIDE, block, step};

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(s: &[u8], from: usize) -> Option<usize> {
        s.get(from..)?
            .iter()
            .position(|&b| b == b'"' || b == b'\\')
            .map(|i| from + i)
    }

    /// The step's mask as one bit a byte.
    fn bits<M: Copy + Into<u128>>(mask: M, stride: usize) -> u32 {
        let mask: u128 = mask.into();
        (0..16)
            .map(|i| u32::from(mask >> (i * stride + stride - 1) & 1 == 1) << i)
            .sum()
    }

    #[test]
    fn step_marks_exactly_quotes_and_backslashes() {
        for b in 0..=255u8 {
            for other in [b'a', 0, 0xff, b'"', b'\\'] {
                for at in 0..16 {
                    let mut chunk = [other; 16];
                    chunk[at] = b;
                    let want: u32 = (0..16)
                        .map(|i| u32::from(chunk[i] == b'"' || chunk[i] == b'\\') << i)
                        .sum();
                    let (fast, slow) =
                        (step(&chunk, b'"', b'\\'), scalar::step(&chunk, b'"', b'\\'));
                    assert_eq!(bits(fast, STRIDE), want, "byte {b} at {at}");
                    assert_eq!(bits(slow, scalar::STRIDE), want);
                }
            }
        }
        let mut all = [0u8; 16];
        all.copy_from_slice(b"\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\");
        assert_eq!(first(step(&all, b'"', b'\\')), 0);
    }

    #[test]
    fn block_marks_exactly_the_byte() {
        for b in 0..=255u8 {
            for other in [b'a', 0, 0xff, 0x80 | b' ', b' ', b'\t'] {
                for at in 0..64 {
                    let mut bytes = [other; 64];
                    bytes[at] = b;
                    bytes[63 - at] = b;
                    let want: u64 = (0..64).map(|i| u64::from(bytes[i] == b' ') << i).sum();
                    assert_eq!(block(&bytes, b' '), want, "byte {b} at {at}");
                    assert_eq!(scalar::block(&bytes, b' '), want, "byte {b} at {at}");
                }
            }
        }
    }

    /// The places of `byte` in `line` from `start`, as [`Marks`] hands them out.
    fn marks_from(line: &[u8], byte: u8, start: usize) -> Vec<usize> {
        let mut marks = Marks::new(line, byte);
        if start > 0 {
            marks.seek(start);
        }
        std::iter::from_fn(|| marks.next()).collect()
    }

    #[test]
    fn marks_are_the_places_of_the_byte_at_every_length_and_start() {
        // Lines of every length up to 200 from a fixed generator (separators, NULs, high
        // bytes, runs), read from every start: at block edges, in the last bytes, on short
        // lines.
        let mut next = crate::parse::numbers(0x2545_f491_4f6c_dd1d);
        let mut checked = 0;
        for len in 0..200 {
            for density in [2, 9, 70] {
                let line: Vec<u8> = (0..len)
                    .map(|_| match next(density) {
                        0 => b'\t',
                        1 => 0,
                        2 => 0x80 | b'\t',
                        n => b'a' + (n % 26) as u8,
                    })
                    .collect();
                for start in 0..=len + 1 {
                    let want: Vec<usize> = (start..len).filter(|&i| line[i] == b'\t').collect();
                    assert_eq!(
                        marks_from(&line, b'\t', start),
                        want,
                        "len {len} from {start}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 60_000, "{checked}");
        // Every place of a line that is nothing but the byte.
        let all = vec![b' '; 150];
        assert_eq!(marks_from(&all, b' ', 0), (0..150).collect::<Vec<_>>());
    }

    #[test]
    fn finds_what_a_byte_search_finds_at_every_length_and_start() {
        // Lines of every length up to 200 with a quote or backslash at each place, seen
        // from every start (so at every alignment, at chunk edges and in the tail).
        let mut checked = 0;
        for len in 0..200 {
            for special in [None, Some(b'"'), Some(b'\\')] {
                for at in 0..len.max(1) {
                    let mut line = vec![b'x'; len];
                    if let (Some(b), Some(slot)) = (special, line.get_mut(at)) {
                        *slot = b;
                    }
                    for from in 0..=len + 1 {
                        assert_eq!(
                            quote_or_backslash(&line, from),
                            slow(&line, from),
                            "len {len} at {at} from {from}"
                        );
                        checked += 1;
                    }
                    if special.is_none() {
                        break;
                    }
                }
            }
        }
        assert!(checked > 2_000_000, "{checked}");
    }

    #[test]
    fn finds_what_a_byte_search_finds_on_mixed_lines() {
        // Runs of quotes, backslashes and other bytes (high bytes too) from a fixed
        // generator, searched from every start.
        let mut next = crate::parse::numbers(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2_000 {
            let len = next(300) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| match next(40) {
                    0 => b'"',
                    1 => b'\\',
                    2 => 0x80 | b'"',
                    3 => 0x80 | b'\\',
                    n => (n * 7) as u8,
                })
                .collect();
            for from in 0..=len {
                assert_eq!(quote_or_backslash(&line, from), slow(&line, from));
            }
        }
    }

    #[test]
    fn finds_either_of_any_two_bytes() {
        // A W3C line's first separator: spaces and tabs at random places, and NUL and 0xff,
        // the ends of the byte range, from every start.
        let mut next = crate::parse::numbers(0x2545_f491_4f6c_dd1d);
        for (a, b) in [(b' ', b'\t'), (0, 0xff)] {
            for _ in 0..1_000 {
                let len = next(300) as usize;
                let line: Vec<u8> = (0..len)
                    .map(|_| match next(30) {
                        0 => a,
                        1 => b,
                        n => b'a' + n as u8,
                    })
                    .collect();
                for from in 0..=len {
                    let slow = line
                        .get(from..)
                        .and_then(|rest| rest.iter().position(|&x| x == a || x == b))
                        .map(|i| from + i);
                    assert_eq!(first_of_two(&line, from, a, b), slow, "{line:?} {from}");
                }
            }
        }
    }
}
