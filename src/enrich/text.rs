//! Turning logged bytes into display text, once per distinct value.
//!
//! Servers escape what they log: Apache writes `\"` and `\\` and `\xhh` for bytes that are
//! not printable, and `\n`, `\t` and the like for control characters; Nginx writes `\xhh`
//! (and `\x22` for a quote); JSON logs (Caddy, Traefik, nginx's `escape=json`) write `\"`,
//! `\\`, `\/` and `\uXXXX` (Go writes `&`, `<` and `>` as `\u0026`, `\u003c`, `\u003e`). Reports show the text the
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
                Some(&c @ (b'/' | b'n' | b't' | b'r' | b'b' | b'f' | b'v')) => {
                    out.push(match c {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'v' => 0x0b,
                        _ => c,
                    });
                    i += 2;
                    continue;
                }
                Some(b'u') => {
                    if let Some((ch, len)) = json_unicode(&raw[i..]) {
                        let mut utf8 = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                        i += len;
                        continue;
                    }
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

/// `\uXXXX` (or a surrogate pair `\uD83D\uDE00`) at the start of `s` → the character and
/// the bytes it took; `None` when it is not one (a lone surrogate is left as written).
fn json_unicode(s: &[u8]) -> Option<(char, usize)> {
    let unit = |at: usize| -> Option<u32> {
        let digits = s.get(at..at + 4)?;
        if s.get(at - 2..at)? != b"\\u" {
            return None;
        }
        digits
            .iter()
            .try_fold(0u32, |acc, &c| Some(acc << 4 | u32::from(hex(c)?)))
    };
    let first = unit(2)?;
    if (0xD800..0xDC00).contains(&first) {
        let second = unit(8)?;
        if !(0xDC00..0xE000).contains(&second) {
            return None;
        }
        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        return Some((char::from_u32(code)?, 12));
    }
    Some((char::from_u32(first)?, 6))
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
    fn resolves_json_escapes() {
        assert_eq!(display(br"/a?x=1\u0026y=\u003cb\u003e"), "/a?x=1&y=<b>");
        assert_eq!(
            display(br"caf\u00e9 \ud83d\ude00 \/p"),
            "caf\u{e9} \u{1f600} /p"
        );
        assert_eq!(display(br"a\nb\tc"), "a\nb\tc");
        // Not escapes: left as written.
        assert_eq!(display(br"\u12 \ud83d \uZZZZ"), r"\u12 \ud83d \uZZZZ");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(display(b"caf\xc3\xa9 \xff"), "caf\u{e9} \u{fffd}");
        assert_eq!(display(br"\xff"), "\u{fffd}");
    }
}
