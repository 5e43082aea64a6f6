//! A walk over space-separated fields where a field may be `"quoted"` (quotes may be escaped
//! inside, `\"`) or `[bracketed]` (a bracket field may hold spaces): the layout of the load
//! balancer, S3 and HAProxy logs. It borrows, allocates nothing and never reads past the line.

use memchr::memchr;

use super::clf::quoted_end;

/// The fields of one line, left to right.
pub(super) struct Tokens<'a> {
    rest: &'a [u8],
}

impl<'a> Tokens<'a> {
    pub(super) fn new(line: &'a [u8]) -> Self {
        Tokens { rest: line }
    }

    /// The next field without its quotes or brackets; `None` at the end of the line or when
    /// a quote or bracket is not closed.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub(super) fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest;
        match rest.first()? {
            b'"' => {
                let end = closing_quote(rest)?;
                self.rest = rest.get(end + 2..).unwrap_or_default();
                Some(&rest[1..end])
            }
            b'[' => {
                let end = find_byte(b']', rest)?;
                if !matches!(rest.get(end + 1), None | Some(b' ')) {
                    return None;
                }
                self.rest = rest.get(end + 2..).unwrap_or_default();
                Some(&rest[1..end])
            }
            _ => match find_byte(b' ', rest) {
                Some(i) => {
                    self.rest = &rest[i + 1..];
                    Some(&rest[..i])
                }
                None => {
                    self.rest = &rest[rest.len()..];
                    Some(rest)
                }
            },
        }
    }

    /// Skips `n` fields; `None` when the line has fewer.
    #[inline]
    pub(super) fn skip(&mut self, n: usize) -> Option<()> {
        for _ in 0..n {
            self.next()?;
        }
        Some(())
    }

    /// What is left of the line.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// The bytes [`find_byte`] reads eight at a time before it hands the rest to memchr.
const SHORT: usize = 32;

/// Index of the first `needle` in `s`, eight bytes a step in integer arithmetic: the search
/// that ends a field, here, in the W3C splitter, the virtual-host scanner and compiled
/// custom formats. Most fields are a few bytes long, where memchr's call and vector set-up
/// cost more than the search itself (the load balancer, S3 and HAProxy presets parse 7 to
/// 15% more bytes a second with this than with memchr alone). Past [`SHORT`] bytes the
/// search goes to memchr.
#[inline(always)]
pub(super) fn find_byte(needle: u8, s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    let mut i = 0;
    while let Some(word) = s.get(i..i + 8) {
        if i == SHORT {
            // A long field (a user agent, a URL): memchr's vector search wins there.
            return memchr(needle, &s[i..]).map(|at| i + at);
        }
        let x =
            u64::from_le_bytes(word.try_into().expect("eight bytes")) ^ (ONES * u64::from(needle));
        // The lowest zero byte of `x` (the first needle) sets its high bit here; bytes above
        // it may be set too, by the borrow, but the lowest one is exact.
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(i + zero.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    s[i..].iter().position(|&b| b == needle).map(|at| i + at)
}

/// Index of the quote closing the field that opens at `field[0]`: an unescaped `"` followed
/// by a space or the end of the line.
#[inline(always)]
fn closing_quote(field: &[u8]) -> Option<usize> {
    quoted_end(field, 1, |after| matches!(after, [] | [b' ', ..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_finds_what_a_byte_search_finds_at_every_length_and_place() {
        let mut checked = 0;
        for len in 0..80 {
            for needle in [b' ', b'\t'] {
                for at in (0..len).map(Some).chain([None]) {
                    let mut field: Vec<u8> = (0..len).map(|i| b"ab\x80\xa0c!"[i % 6]).collect();
                    if let Some(at) = at {
                        field[at] = needle;
                        if at + 3 < len {
                            field[at + 3] = needle;
                        }
                    }
                    let want = field.iter().position(|&b| b == needle);
                    assert_eq!(find_byte(needle, &field), want, "{field:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 6_000, "{checked}");
    }

    #[test]
    fn plain_quoted_and_bracketed_fields() {
        let mut t = Tokens::new(br#"a [1 2] "x \"y\" z" "" b"#);
        assert_eq!(t.next(), Some(&b"a"[..]));
        assert_eq!(t.next(), Some(&b"1 2"[..]));
        assert_eq!(t.next(), Some(&br#"x \"y\" z"#[..]));
        assert_eq!(t.next(), Some(&b""[..]));
        assert_eq!(t.next(), Some(&b"b"[..]));
        assert_eq!(t.next(), None);
        assert_eq!(Tokens::new(br#""open"#).next(), None);
        assert_eq!(Tokens::new(b"[open").next(), None);
    }

    #[test]
    fn fields_come_back_as_written_at_every_length() {
        // Lines built from known fields (plain, quoted with escapes and spaces inside,
        // bracketed with spaces inside; empty plain fields from doubled spaces), long enough
        // that plain fields pass the eight-byte search's hand-off to memchr: each comes back
        // as written, then nothing; `rest` is the line after the fields read.
        let mut next = crate::parse::numbers(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let mut fields: Vec<Vec<u8>> = Vec::new();
            let mut starts = Vec::new();
            let mut line = Vec::new();
            let count = next(12) + 1;
            for i in 0..count {
                if i > 0 {
                    line.push(b' ');
                }
                starts.push(line.len());
                let len = [next(3), next(12), next(70)][next(3) as usize];
                let kind = next(4);
                let pieces: &[&[u8]] = match kind {
                    0 => &[b"a", b" ", br#"\""#, br"\\", b"["],
                    1 => &[b"b", b" ", b"[", b"\""],
                    _ => &[b"c", b"\"", b"]", b"0"],
                };
                let mut value = Vec::new();
                while (value.len() as u64) < len {
                    value.extend_from_slice(pieces[next(pieces.len() as u64) as usize]);
                }
                match kind {
                    0 => line.extend([&b"\""[..], &value, b"\""].concat()),
                    1 => line.extend([&b"["[..], &value, b"]"].concat()),
                    _ => {
                        if value.first().is_some_and(|b| matches!(b, b'"' | b'[')) {
                            value[0] = b'c';
                        }
                        // An empty plain field at the end is the end of the line.
                        if i == count - 1 && value.is_empty() {
                            value.push(b'c');
                        }
                        line.extend_from_slice(&value);
                    }
                }
                fields.push(value);
            }
            let text = String::from_utf8_lossy(&line).into_owned();
            let mut t = Tokens::new(&line);
            for (i, field) in fields.iter().enumerate() {
                assert_eq!(&line[starts[i]..], t.rest(), "{text}");
                assert_eq!(t.next(), Some(&field[..]), "field {i}: {text}");
            }
            assert_eq!(t.next(), None, "{text}");
            assert_eq!(t.rest(), b"");
        }
    }
}
