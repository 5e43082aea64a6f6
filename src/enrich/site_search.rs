//! Internal site search: the term a visitor searched for on the site itself, read from the
//! query string of a page view, once per distinct request.
//!
//! A page view is a search when its query has one of the configured parameters with a
//! non-blank value (`/search?q=red+shoes`, WordPress' `/?s=red+shoes`). The term is
//! percent-decoded (`+` is a space), decoded as UTF-8 (or the character set an `ie`, `oe` or
//! `charset` parameter names), its whitespace collapsed, lower-cased and cut at
//! [`MAX_KEYWORD_CHARS`] characters, so `Red  Shoes` and
//! `red shoes` are one term.

use super::lookups::{MAX_KEYWORD_CHARS, clip_chars};
use super::query::{charset, normalize_term, param, params, percent_decode};

/// Parameters that carry a site-search term by default, in order of preference.
pub const DEFAULT_PARAMS: [&str; 7] = ["q", "query", "s", "search", "searchword", "k", "keyword"];

/// Which query parameters carry a site-search term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSearch {
    /// Parameter names (matched case-insensitively), in order of preference.
    pub params: Vec<String>,
}

impl Default for SiteSearch {
    fn default() -> Self {
        SiteSearch {
            params: DEFAULT_PARAMS.map(String::from).to_vec(),
        }
    }
}

impl SiteSearch {
    /// The normalized search term in a query string, if it has one: the first configured
    /// parameter whose value is not blank.
    pub fn term_of(&self, query: &[u8]) -> Option<String> {
        if query.is_empty() || self.params.is_empty() {
            return None;
        }
        // Values of configured parameters, in one pass; most queries have none, and an empty
        // Vec does not allocate.
        let mut candidates: Vec<(usize, &[u8])> = Vec::new();
        for (k, v) in params(query) {
            if v.is_empty() {
                continue;
            }
            let k = percent_decode(k, true);
            if let Some(rank) = self
                .params
                .iter()
                .position(|name| k.eq_ignore_ascii_case(name.as_bytes()))
            {
                candidates.push((rank, v));
            }
        }
        if candidates.is_empty() {
            return None;
        }
        // By preference; a stable sort keeps a repeated parameter's values in URL order.
        candidates.sort_by_key(|&(rank, _)| rank);
        let fallback = ["ie", "oe", "charset"]
            .iter()
            .find_map(|p| param(query, p).and_then(charset));
        candidates
            .into_iter()
            .find_map(|(_, raw)| normalize(raw, fallback))
    }
}

/// Decodes, collapses whitespace, lower-cases and cuts a raw term; `None` when it is blank.
fn normalize(raw: &[u8], fallback: Option<&'static encoding_rs::Encoding>) -> Option<String> {
    let text = normalize_term(&percent_decode(raw, true), fallback);
    if text.is_empty() {
        return None;
    }
    Some(clip_chars(&text, MAX_KEYWORD_CHARS).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(query: &str) -> Option<String> {
        SiteSearch::default().term_of(query.as_bytes())
    }

    #[test]
    fn terms_by_parameter() {
        assert_eq!(term("q=red+shoes").as_deref(), Some("red shoes"));
        assert_eq!(term("s=Red%20%20Shoes%20").as_deref(), Some("red shoes"));
        assert_eq!(term("page=2&query=Boots").as_deref(), Some("boots"));
        assert_eq!(term("searchword=x&k=y").as_deref(), Some("x"));
        assert_eq!(term("KEYWORD=Hats").as_deref(), Some("hats"));
        assert_eq!(term("q=caf%C3%A9").as_deref(), Some("café"));
        // EUC-KR with its charset named.
        assert_eq!(term("q=%C7%D1%B1%B9&ie=euc-kr").as_deref(), Some("한국"));
        // Preference follows the configured order, not the URL's.
        assert_eq!(term("s=second&q=first").as_deref(), Some("first"));
        // A blank preferred parameter falls through to the next.
        assert_eq!(term("q=+&s=hats").as_deref(), Some("hats"));
    }

    #[test]
    fn not_a_search() {
        assert_eq!(term(""), None);
        assert_eq!(term("id=3&page=2"), None);
        assert_eq!(term("q="), None);
        assert_eq!(term("q=%20+"), None);
        assert_eq!(term("q=%E3%80%80"), None);
        assert_eq!(term("q=%E3%80%80&s=lamp").as_deref(), Some("lamp"));
        assert_eq!(term("sort=q"), None);
        let none = SiteSearch { params: vec![] };
        assert_eq!(none.term_of(b"q=x"), None);
        let custom = SiteSearch {
            params: vec!["find".into()],
        };
        assert_eq!(custom.term_of(b"q=x&find=Y").as_deref(), Some("y"));
    }

    #[test]
    fn long_terms_are_cut() {
        let long = "a".repeat(500);
        assert_eq!(
            term(&format!("q={long}")).map(|t| t.len()),
            Some(super::super::lookups::MAX_KEYWORD_CHARS)
        );
    }
}
