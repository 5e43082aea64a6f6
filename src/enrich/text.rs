//! Turning logged bytes into display text, once per distinct value.
//!
//! Servers escape what they log: Apache writes `\"` and `\\` and `\xhh` for bytes that are
//! not printable; Nginx writes `\xhh` (and `\x22` for a quote). Reports show the text the
//! client sent, so escapes are resolved here. Bytes that are not UTF-8 become U+FFFD, since
//! Parquet strings must be UTF-8.

use std::borrow::Cow;

/// Resolves `\"`, `\\` and `\xhh` escapes. Borrows when there is nothing to resolve.
pub fn unescape(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\' {
            match raw.get(i + 1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(c);
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    if let (Some(h), Some(l)) = (
                        raw.get(i + 2).and_then(|&c| hex(c)),
                        raw.get(i + 3).and_then(|&c| hex(c)),
                    ) {
                        out.push(h << 4 | l);
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

/// Logged bytes → display string: escapes resolved, invalid UTF-8 replaced.
pub fn display(raw: &[u8]) -> String {
    String::from_utf8_lossy(&unescape(raw)).into_owned()
}

/// The value of one hexadecimal digit.
pub(super) fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_apache_and_nginx_escapes() {
        assert_eq!(display(br#"a \"b\" c\\d"#), r#"a "b" c\d"#);
        assert_eq!(display(br"\x22quoted\x22 \x41"), "\"quoted\" A");
        assert_eq!(display(br"trailing \"), r"trailing \");
        assert_eq!(display(br"\xZZ \q"), r"\xZZ \q");
        assert!(matches!(unescape(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(display(b"caf\xc3\xa9 \xff"), "caf\u{e9} \u{fffd}");
        assert_eq!(display(br"\xff"), "\u{fffd}");
    }
}
