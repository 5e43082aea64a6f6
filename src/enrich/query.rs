//! URL query strings: parameters, percent-decoding and character sets, once per distinct URL.
//!
//! Search keywords and campaign tags arrive percent-encoded, in whatever character set the
//! page that built the link used: UTF-8 today, EUC-KR, Shift_JIS or GBK on older Korean,
//! Japanese and Chinese engines. Decoding is lenient: malformed escapes stay as they were,
//! bytes that fit no character set become U+FFFD, and nothing here can fail.

use std::borrow::Cow;

use encoding_rs::Encoding;

use super::text::hex;

/// The query part of a URL or request target: after the first `?`, before any `#`; empty
/// when there is no `?`.
pub fn query_of(url: &[u8]) -> &[u8] {
    let url = match memchr::memchr(b'#', url) {
        Some(i) => &url[..i],
        None => url,
    };
    match memchr::memchr(b'?', url) {
        Some(i) => &url[i + 1..],
        None => b"",
    }
}

/// The fragment of a URL (after `#`): some engines (and single-page sites) carry the query
/// there.
pub fn fragment_of(url: &[u8]) -> &[u8] {
    match memchr::memchr(b'#', url) {
        Some(i) => &url[i + 1..],
        None => b"",
    }
}

/// Raw `key=value` pairs of a query string, split on `&` (and `;`). A key without `=` has an
/// empty value. Nothing is decoded.
pub fn params(query: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = Some(query);
    std::iter::from_fn(move || {
        let q = rest?;
        Some(match memchr::memchr2(b'&', b';', q) {
            Some(i) => {
                rest = Some(&q[i + 1..]);
                &q[..i]
            }
            None => {
                rest = None;
                q
            }
        })
    })
    .filter(|pair| !pair.is_empty())
    .map(|pair| match memchr::memchr(b'=', pair) {
        Some(i) => (&pair[..i], &pair[i + 1..]),
        None => (pair, &b""[..]),
    })
}

/// The raw value of the first parameter named `name` (compared case-insensitively, after
/// decoding the name).
pub fn param<'a>(query: &'a [u8], name: &str) -> Option<&'a [u8]> {
    params(query)
        .find(|(k, _)| percent_decode(k, true).eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v)
}

/// Resolves `%hh` escapes, and `+` as a space when `plus_is_space` (form encoding, as search
/// engines use). A `%` not followed by two hex digits is kept as it is.
pub fn percent_decode(raw: &[u8], plus_is_space: bool) -> Cow<'_, [u8]> {
    if !raw
        .iter()
        .any(|&b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' => match (
                raw.get(i + 1).and_then(|&c| hex(c)),
                raw.get(i + 2).and_then(|&c| hex(c)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Decodes text bytes: as UTF-8 when they are valid UTF-8; otherwise with `fallback` (an
/// engine's legacy character set, or the one a parameter names) when it decodes them without
/// errors; otherwise as UTF-8 with U+FFFD for what does not fit.
pub fn decode_text(bytes: &[u8], fallback: Option<&'static Encoding>) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    if let Some(encoding) = fallback {
        let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
        if !had_errors {
            return text.into_owned();
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// The character set a label names (`utf-8`, `euc-kr`, `cp949`, `sjis`, `gb2312`, …), per
/// the WHATWG Encoding Standard's labels.
pub fn charset(label: &[u8]) -> Option<&'static Encoding> {
    let label = percent_decode(label, true);
    match label.to_ascii_lowercase().as_slice() {
        // Labels engines use that the standard does not list.
        b"utf8" => Some(encoding_rs::UTF_8),
        b"sjis" | b"shiftjis" => Some(encoding_rs::SHIFT_JIS),
        b"cp949" | b"uhc" => Some(encoding_rs::EUC_KR),
        b"eucjp" => Some(encoding_rs::EUC_JP),
        b"euckr" => Some(encoding_rs::EUC_KR),
        other => Encoding::for_label(other),
    }
}

/// A search term as reports key it: decoded (see [`decode_text`]), whitespace collapsed and
/// trimmed, lower-cased. Search-engine keywords and site-search terms both go through it.
pub fn normalize_term(bytes: &[u8], fallback: Option<&'static Encoding>) -> String {
    normalize_space(&decode_text(bytes, fallback)).to_lowercase()
}

/// Collapses runs of whitespace to one space and trims the ends.
pub fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_params() {
        let url = b"https://s.example/search?q=a+b&ie=UTF-8&empty=&flag#frag";
        assert_eq!(query_of(url), b"q=a+b&ie=UTF-8&empty=&flag");
        assert_eq!(fragment_of(url), b"frag");
        let pairs: Vec<_> = params(query_of(url)).collect();
        assert_eq!(
            pairs,
            [
                (&b"q"[..], &b"a+b"[..]),
                (b"ie", b"UTF-8"),
                (b"empty", b""),
                (b"flag", b"")
            ]
        );
        assert_eq!(param(query_of(url), "IE"), Some(&b"UTF-8"[..]));
        assert_eq!(param(query_of(url), "missing"), None);
        assert_eq!(query_of(b"/path"), b"");
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(&*percent_decode(b"a%20b+c", true), b"a b c");
        assert_eq!(&*percent_decode(b"a+b", false), b"a+b");
        assert_eq!(&*percent_decode(b"100%", true), b"100%");
        assert_eq!(&*percent_decode(b"%zz%4", true), b"%zz%4");
        assert_eq!(&*percent_decode(b"%e2%82%ac", true), "€".as_bytes());
    }

    #[test]
    fn charsets() {
        // "한국" in EUC-KR is C7 D1 B1 B9.
        let euc_kr = percent_decode(b"%C7%D1%B1%B9", true);
        assert_eq!(decode_text(&euc_kr, charset(b"euc-kr")), "한국");
        assert_eq!(decode_text(&euc_kr, charset(b"cp949")), "한국");
        // The same text in UTF-8 decodes as UTF-8 whatever the fallback says.
        let utf8 = percent_decode(b"%ED%95%9C%EA%B5%AD", true);
        assert_eq!(decode_text(&utf8, charset(b"euc-kr")), "한국");
        // Shift_JIS "日本" is 93 FA 96 7B; GBK "中文" is D6 D0 CE C4.
        assert_eq!(
            decode_text(&percent_decode(b"%93%FA%96%7B", true), charset(b"sjis")),
            "日本"
        );
        assert_eq!(
            decode_text(&percent_decode(b"%D6%D0%CE%C4", true), charset(b"gbk")),
            "中文"
        );
        // No fallback, or a fallback that fails too: replacement characters, never an error.
        assert_eq!(decode_text(&[0xff, b'a'], None), "\u{fffd}a");
        assert!(charset(b"no-such-charset").is_none());
        // A truncated multibyte sequence.
        assert_eq!(decode_text(&[0xED, 0x95], charset(b"utf-8")), "\u{fffd}");
    }

    #[test]
    fn whitespace() {
        assert_eq!(normalize_space("  a \t b\n"), "a b");
        assert_eq!(normalize_space(""), "");
    }
}
