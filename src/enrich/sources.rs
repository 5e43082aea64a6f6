//! Known traffic sources: search engines, social networks, video and shopping sites, webmail
//! and AI assistants, from the data table `data/sources.tsv`; search keywords.

/// What kind of site a traffic source is (GA4's source categories, plus webmail and AI
/// assistants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceCategory {
    Search,
    Social,
    Video,
    Shopping,
    Email,
    Ai,
}

/// A source the data table knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownSource {
    /// Display name: `Google`, `Naver`, `Facebook`, `ChatGPT`.
    pub name: &'static str,
    /// The source as a campaign would name it, lower case: `google`, `naver`, `facebook`.
    pub source: &'static str,
    pub category: SourceCategory,
}

/// An external referrer, classified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReferrerSource {
    pub known: Option<KnownSource>,
    /// For a search engine: the decoded, normalised keyword, or `(not provided)`.
    pub keyword: Option<String>,
}

/// Classifies an external referrer: `host` is its lower-case host, `url` the referrer with
/// the log's escapes resolved (raw bytes, not yet percent-decoded).
pub fn classify_referrer(_host: &str, _url: &[u8]) -> ReferrerSource {
    ReferrerSource::default()
}

/// The category of a campaign source (`utm_source`), by name or domain: `google` and
/// `www.bing.com` are search, `fb` and `l.instagram.com` social, `newsletter` nothing.
pub fn category_of(_source: &str) -> Option<SourceCategory> {
    None
}
