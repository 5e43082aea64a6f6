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

/// How text that is not UTF-8 is read: a legacy character set, by default windows-1252
/// (which decodes every byte, so two different byte strings never become one text and
/// nothing turns into U+FFFD); `--text-encoding` names another (big5, shift_jis, euc-kr,
/// gbk…). Text that is valid UTF-8 is always read as UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legacy(pub &'static encoding_rs::Encoding);

impl Default for Legacy {
    fn default() -> Self {
        Legacy(encoding_rs::WINDOWS_1252)
    }
}

impl Legacy {
    /// The character set a WHATWG label names (`latin1`, `big5`, `sjis`…); only those that
    /// keep ASCII as ASCII, as a log's structure needs.
    pub fn from_label(label: &str) -> Option<Legacy> {
        encoding_rs::Encoding::for_label(label.trim().as_bytes())
            .filter(|e| e.is_ascii_compatible())
            .map(Legacy)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Bytes as text: UTF-8 when they are; else decoded with this character set; U+FFFD
    /// only for what neither decodes.
    pub fn decode(self, bytes: &[u8]) -> String {
        super::query::decode_text(bytes, Some(self.0))
    }
}

/// Logged bytes → display string: escapes resolved, then decoded (see [`Legacy`]).
pub fn display(raw: &[u8], legacy: Legacy) -> String {
    legacy.decode(&unescape(raw))
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
        assert_eq!(
            display(br#"a \"b\" c\\d"#, Legacy::default()),
            r#"a "b" c\d"#
        );
        assert_eq!(
            display(br"\x22quoted\x22 \x41", Legacy::default()),
            "\"quoted\" A"
        );
        assert_eq!(display(br"trailing \", Legacy::default()), r"trailing \");
        assert_eq!(display(br"\xZZ \q", Legacy::default()), r"\xZZ \q");
        assert!(matches!(unescape(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn resolves_json_escapes() {
        assert_eq!(
            display(br"/a?x=1\u0026y=\u003cb\u003e", Legacy::default()),
            "/a?x=1&y=<b>"
        );
        assert_eq!(
            display(br"caf\u00e9 \ud83d\ude00 \/p", Legacy::default()),
            "caf\u{e9} \u{1f600} /p"
        );
        assert_eq!(display(br"a\nb\tc", Legacy::default()), "a\nb\tc");
        // Not escapes: left as written.
        assert_eq!(
            display(br"\u12 \ud83d \uZZZZ", Legacy::default()),
            r"\u12 \ud83d \uZZZZ"
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(
            display(b"caf\xc3\xa9 \xff", Legacy(encoding_rs::UTF_8)),
            "caf\u{e9} \u{fffd}"
        );
        assert_eq!(display(br"\xff", Legacy(encoding_rs::UTF_8)), "\u{fffd}");
    }

    #[test]
    fn legacy_text_is_decoded_not_replaced() {
        // windows-1252 by default: two different Latin-1 bytes stay two different texts.
        let latin = Legacy::default();
        assert_eq!(display(b"/caf\xe9", latin), "/caf\u{e9}");
        assert_eq!(display(b"/caf\xe8", latin), "/caf\u{e8}");
        assert_eq!(
            display(b"caf\xc3\xa9", latin),
            "caf\u{e9}",
            "UTF-8 stays UTF-8"
        );
        // Big5 when named: 新聞 is b7 73 bb 44.
        let big5 = Legacy::from_label("big5").unwrap();
        assert_eq!(big5.name(), "Big5");
        assert_eq!(display(b"/\xb7\x73\xbb\x44", big5), "/\u{65b0}\u{805e}");
        // Bytes Big5 cannot decode either are replaced, never dropped.
        assert_eq!(display(b"/\xff", big5), "/\u{fffd}");
        assert_eq!(
            Legacy::from_label(" Latin1 ").unwrap().name(),
            "windows-1252"
        );
        assert!(
            Legacy::from_label("utf-16le").is_none(),
            "not ASCII-compatible"
        );
        assert!(Legacy::from_label("klingon").is_none());
    }
}
