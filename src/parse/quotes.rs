//! Finding the next `"` or `\` in a line, sixteen bytes at a time: the search that ends
//! every JSON string (a key or a value), run some sixty times a Caddy line.
//!
//! Most strings in a JSON log are shorter than sixteen bytes, so one step of this search
//! usually ends it: one load, two byte compares, one mask. On x86_64 the step is SSE2 and on
//! aarch64 NEON, both part of the baseline of those targets (no detection at run time);
//! elsewhere it is eight bytes at a time in plain integer arithmetic. Strings longer than
//! [`LONG`] bytes are handed to memchr, which is faster on long runs.
//!
//! This module holds the crate's second `unsafe`: the call into the SIMD step, which is a
//! `#[target_feature]` function. The step itself reads only a `[u8; 16]` it is given (no
//! pointers), so the one obligation is that the CPU has the feature, which the
//! `cfg(target_feature = …)` on each call guarantees at compile time. The tests check the
//! SIMD answer against a byte-by-byte search on every length and alignment.

use memchr::memchr2;

/// After this many bytes without a quote or backslash the search goes to memchr.
const LONG: usize = 128;

/// Index of the first `"` or `\` in `s[from..]`.
#[inline(always)]
pub(super) fn quote_or_backslash(s: &[u8], mut from: usize) -> Option<usize> {
    let start = from;
    while let Some(chunk) = s.get(from..from + 16) {
        let mask = step(chunk.try_into().expect("sixteen bytes"));
        if mask != 0 {
            return Some(from + first(mask));
        }
        from += 16;
        if from - start >= LONG {
            return memchr2(b'"', b'\\', s.get(from..)?).map(|i| from + i);
        }
    }
    // Fewer than sixteen bytes left: the last sixteen of the line, with the bytes before
    // `from` shifted out of the mask.
    if from >= s.len() {
        return None;
    }
    if s.len() >= 16 {
        let base = s.len() - 16;
        let mask = step(s[base..].try_into().expect("sixteen bytes")) >> ((from - base) * STRIDE);
        return (mask != 0).then(|| from + first(mask));
    }
    s[from..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|i| from + i)
}

/// Index in the chunk of the byte a nonzero [`step`] mask names first.
#[inline(always)]
fn first(mask: Mask) -> usize {
    mask.trailing_zeros() as usize / STRIDE
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod imp {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };

    /// One bit a byte.
    pub type Mask = u32;
    pub const STRIDE: usize = 1;

    /// Bit `i` set when byte `i` of the chunk is `"` or `\`.
    #[inline(always)]
    pub fn step(chunk: &[u8; 16]) -> Mask {
        // SAFETY: `sse2` is enabled at compile time (the cfg above; it is in the x86_64
        // baseline), which is all `sse2_step` requires; it reads nothing but `chunk`.
        unsafe { sse2_step(chunk) }
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn sse2_step(chunk: &[u8; 16]) -> Mask {
        let lo = i64::from_le_bytes(chunk[..8].try_into().expect("eight bytes"));
        let hi = i64::from_le_bytes(chunk[8..].try_into().expect("eight bytes"));
        let bytes = _mm_set_epi64x(hi, lo);
        let quotes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
        let backslashes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
        _mm_movemask_epi8(_mm_or_si128(quotes, backslashes)) as Mask
    }
}

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod imp {
    use std::arch::aarch64::{
        vceqq_u8, vcombine_u8, vcreate_u8, vdupq_n_u8, vget_lane_u64, vorrq_u8,
        vreinterpret_u64_u8, vreinterpretq_u16_u8, vshrn_n_u16,
    };

    /// Four bits a byte (NEON has no byte mask; narrowing each 16-bit lane by four keeps
    /// four bits of each compared byte).
    pub type Mask = u64;
    pub const STRIDE: usize = 4;

    /// Bits `4i..4i+4` set when byte `i` of the chunk is `"` or `\`.
    #[inline(always)]
    pub fn step(chunk: &[u8; 16]) -> Mask {
        // SAFETY: `neon` is enabled at compile time (the cfg above; it is in the aarch64
        // baseline), which is all `neon_step` requires; it reads nothing but `chunk`.
        unsafe { neon_step(chunk) }
    }

    #[target_feature(enable = "neon")]
    #[inline]
    fn neon_step(chunk: &[u8; 16]) -> Mask {
        let lo = u64::from_le_bytes(chunk[..8].try_into().expect("eight bytes"));
        let hi = u64::from_le_bytes(chunk[8..].try_into().expect("eight bytes"));
        let bytes = vcombine_u8(vcreate_u8(lo), vcreate_u8(hi));
        let quotes = vceqq_u8(bytes, vdupq_n_u8(b'"'));
        let backslashes = vceqq_u8(bytes, vdupq_n_u8(b'\\'));
        let found = vorrq_u8(quotes, backslashes);
        vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(
            found,
        ))))
    }
}

#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "aarch64", target_feature = "neon")
)))]
mod imp {
    pub use super::scalar::{Mask, STRIDE, step};
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
    /// Eight bits a byte: the high bit of each byte that is `"` or `\`.
    pub type Mask = u128;
    pub const STRIDE: usize = 8;

    #[inline(always)]
    pub fn step(chunk: &[u8; 16]) -> Mask {
        const ONES: u128 = u128::from_le_bytes([1; 16]);
        const HIGHS: u128 = ONES * 0x80;
        let word = u128::from_le_bytes(*chunk);
        let (q, b) = (word ^ (ONES * b'"' as u128), word ^ (ONES * b'\\' as u128));
        // The zero bytes of `q` and `b`, exactly: `(x & 0x7f…) + 0x7f…` sets a byte's high
        // bit when its low seven bits are not all zero, with no carry between bytes.
        let zero = |x: u128| !(((x & !HIGHS) + ONES * 0x7f) | x) & HIGHS;
        zero(q) | zero(b)
    }
}

use imp::{Mask, STRIDE, step};

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
                    assert_eq!(bits(step(&chunk), STRIDE), want, "byte {b} at {at}");
                    assert_eq!(bits(scalar::step(&chunk), scalar::STRIDE), want);
                }
            }
        }
        let mut all = [0u8; 16];
        all.copy_from_slice(b"\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\");
        assert_eq!(first(step(&all)), 0);
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
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let len = (next() % 300) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| match next() % 40 {
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
}
