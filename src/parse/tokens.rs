//! A walk over space-separated fields where a field may be `"quoted"` (quotes may be escaped
//! inside, `\"`) or `[bracketed]` (a bracket field may hold spaces): the layout of the load
//! balancer, S3 and HAProxy logs. It borrows, allocates nothing and never reads past the line.

use memchr::memchr;

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
    #[inline]
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
                let end = memchr(b']', rest)?;
                if !matches!(rest.get(end + 1), None | Some(b' ')) {
                    return None;
                }
                self.rest = rest.get(end + 2..).unwrap_or_default();
                Some(&rest[1..end])
            }
            _ => match memchr(b' ', rest) {
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

/// Index of the quote closing the field that opens at `field[0]`: an unescaped `"` followed
/// by a space or the end of the line.
fn closing_quote(field: &[u8]) -> Option<usize> {
    let mut from = 1;
    while let Some(i) = memchr(b'"', &field[from..]) {
        let quote = from + i;
        let backslashes = field[1..quote]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 && matches!(field.get(quote + 1), None | Some(b' ')) {
            return Some(quote);
        }
        from = quote + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
