//! Known traffic sources: search engines, social networks, video and shopping sites, webmail
//! and AI assistants, from the data table `data/sources.tsv`; search keywords.
//!
//! This module owns that table (compiled in, parsed once) and the two questions asked of it:
//! which known source an external referrer comes from, with the search keyword when it is a
//! search engine ([`classify_referrer`], once per distinct referrer), and which category a
//! campaign's `utm_source` names ([`category_of`]). Host rules are indexed by kind in hash
//! maps, so a lookup is a handful of hash probes on the host and its suffixes, whatever the
//! table's size. The table's header documents its syntax and the choices it makes.

use std::borrow::Cow;
use std::sync::OnceLock;

use encoding_rs::Encoding;
use rustc_hash::FxHashMap;

use super::query;
use super::referrer::host_of;

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

impl SourceCategory {
    /// The category as the table spells it: `search`, `social`, `video`, `shopping`,
    /// `email`, `ai`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceCategory::Search => "search",
            SourceCategory::Social => "social",
            SourceCategory::Video => "video",
            SourceCategory::Shopping => "shopping",
            SourceCategory::Email => "email",
            SourceCategory::Ai => "ai",
        }
    }

    fn parse(kind: &str) -> Option<SourceCategory> {
        Some(match kind {
            "search" => SourceCategory::Search,
            "social" => SourceCategory::Social,
            "video" => SourceCategory::Video,
            "shopping" => SourceCategory::Shopping,
            "email" => SourceCategory::Email,
            "ai" => SourceCategory::Ai,
            _ => return None,
        })
    }
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

/// The keyword of a search-engine referrer that carries none (as Google's do today).
pub const NOT_PROVIDED: &str = "(not provided)";

/// Classifies an external referrer: `host` is its lower-case host, `url` the referrer with
/// the log's escapes resolved (raw bytes, not yet percent-decoded).
pub fn classify_referrer(host: &str, url: &[u8]) -> ReferrerSource {
    let Some(entry) = table().lookup(host) else {
        return ReferrerSource::default();
    };
    let keyword = (entry.known.category == SourceCategory::Search).then(|| entry.keyword(url));
    ReferrerSource {
        known: Some(entry.known),
        keyword,
    }
}

/// The category of a campaign source (`utm_source`), by name or domain: `google` and
/// `www.bing.com` are search, `fb` and `l.instagram.com` social, `newsletter` nothing.
pub fn category_of(source: &str) -> Option<SourceCategory> {
    let value = source.trim().to_lowercase();
    if value.is_empty() {
        return None;
    }
    let table = table();
    if let Some(&(category, _)) = table.names.get(&name_key(&value)) {
        return Some(category);
    }
    // A domain, or a URL where a domain was expected.
    let host = host_of(&value).unwrap_or(&value);
    let host = host.split(['/', '?', '#', ':']).next().unwrap_or(host);
    if !host.contains('.') {
        return None;
    }
    table.lookup(host).map(|entry| entry.known.category)
}

/// How a host rule matches, from the least specific to the most: at an equal number of
/// literal labels, the greater kind wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RuleKind {
    /// `webmail.+`: a first label followed by two labels or more.
    Prefix,
    /// `*.example.*`
    SubdomainsAnyTld,
    /// `example.*`
    ExactAnyTld,
    /// `*.example.com`
    Subdomains,
    /// `example.com`
    Exact,
}

const RULE_KINDS: usize = RuleKind::Exact as usize + 1;

/// Generic second levels under which a two-letter country code makes one top-level domain
/// for `example.*` rules (`co.uk`, `com.br`, `ne.jp`).
const SECOND_LEVELS: [&str; 11] = [
    "co", "com", "net", "org", "ne", "or", "ac", "go", "gov", "gob", "edu",
];

/// The longest DNS name.
const MAX_HOST_LEN: usize = 253;

/// One line of the table.
#[derive(Debug)]
struct Entry {
    known: KnownSource,
    /// The host rules and aliases, kept for the tests that check every one is reachable.
    #[cfg(test)]
    hosts: Vec<&'static str>,
    #[cfg(test)]
    aliases: Vec<&'static str>,
    keyword_params: Vec<&'static str>,
    legacy_charsets: Vec<&'static Encoding>,
    charset_params: Vec<&'static str>,
    line: usize,
}

#[derive(Debug, Default)]
struct Table {
    entries: Vec<Entry>,
    /// Per rule kind: the rule's literal part → entry index.
    rules: [FxHashMap<&'static str, u32>; RULE_KINDS],
    /// Name, source and aliases ([`name_key`]) → category, and the line that defined it.
    names: FxHashMap<String, (SourceCategory, usize)>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse_table(include_str!("../../data/sources.tsv"))
            .unwrap_or_else(|e| panic!("data/sources.tsv {e}"))
    })
}

/// A name as campaign sources spell it: lower case, without spaces, `_` or `-`.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn parse_table(text: &'static str) -> Result<Table, String> {
    let mut table = Table::default();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let number = i + 1;
        table
            .add(line, number)
            .map_err(|e| format!("line {number}: {e}: {line:?}"))?;
    }
    Ok(table)
}

/// A `-` or a comma-separated list.
fn list(field: &'static str, what: &str) -> Result<Vec<&'static str>, String> {
    if field == "-" {
        return Ok(Vec::new());
    }
    field
        .split(',')
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                Err(format!("empty item in {what}"))
            } else {
                Ok(item)
            }
        })
        .collect()
}

impl Table {
    fn add(&mut self, line: &'static str, number: usize) -> Result<(), String> {
        let fields: Vec<&'static str> = line.split('\t').map(str::trim).collect();
        let [
            kind,
            name,
            source,
            hosts,
            keyword,
            charset,
            charset_params,
            aliases,
        ] = fields[..]
        else {
            return Err(format!(
                "expected 8 tab-separated fields, found {}",
                fields.len()
            ));
        };
        if let Some(empty) = fields.iter().position(|f| f.is_empty()) {
            return Err(format!("field {} is empty (write `-`)", empty + 1));
        }
        let category =
            SourceCategory::parse(kind).ok_or_else(|| format!("unknown kind {kind:?}"))?;
        if source
            .chars()
            .any(|c| c.is_whitespace() || c.is_uppercase())
        {
            return Err(format!(
                "source {source:?} must be lower case, without spaces"
            ));
        }
        let hosts = list(hosts, "hosts")?;
        if hosts.is_empty() {
            return Err("no host rule".into());
        }
        let aliases = list(aliases, "aliases")?;
        let keyword_params = list(keyword, "keyword")?;
        let charset_names = list(charset, "charset")?;
        let charset_params = list(charset_params, "charset-params")?;
        if category == SourceCategory::Search && keyword_params.is_empty() {
            return Err("a search engine needs its keyword parameters".into());
        }
        if category != SourceCategory::Search
            && !(keyword_params.is_empty() && charset_names.is_empty() && charset_params.is_empty())
        {
            return Err("only search engines have keyword and charset fields".into());
        }
        let legacy_charsets = charset_names
            .iter()
            .map(|label| {
                query::charset(label.as_bytes())
                    .filter(|e| e.is_ascii_compatible())
                    .ok_or_else(|| format!("unknown character set {label:?}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(other) = self.entries.iter().find(|e| e.known.name == name) {
            return Err(format!("name {name:?} is already on line {}", other.line));
        }

        let index = u32::try_from(self.entries.len()).expect("fewer than 2^32 sources");
        for &rule in &hosts {
            let (kind, key) = parse_rule(rule)?;
            if let Some(&other) = self.rules[kind as usize].get(key) {
                return Err(format!(
                    "host rule {rule:?} is already on line {}",
                    self.entries[other as usize].line
                ));
            }
            self.rules[kind as usize].insert(key, index);
        }
        for spelling in [name, source].into_iter().chain(aliases.iter().copied()) {
            let key = name_key(spelling);
            match self.names.get(&key) {
                Some(&(other, line)) if other != category => {
                    return Err(format!(
                        "{spelling:?} names a {} source on line {line}",
                        other.as_str()
                    ));
                }
                Some(_) => {}
                None => {
                    self.names.insert(key, (category, number));
                }
            }
        }
        self.entries.push(Entry {
            known: KnownSource {
                name,
                source,
                category,
            },
            #[cfg(test)]
            hosts,
            #[cfg(test)]
            aliases,
            keyword_params,
            legacy_charsets,
            charset_params,
            line: number,
        });
        Ok(())
    }

    /// The entry whose most specific host rule matches `host`.
    fn lookup(&self, host: &str) -> Option<&Entry> {
        let host: Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        };
        let host = host.trim_end_matches('.');
        let host = match host.strip_prefix("www.") {
            Some(rest) if rest.contains('.') => rest,
            _ => host,
        };
        // No DNS name is longer; the bound keeps a junk host from costing more.
        if host.is_empty() || host.len() > MAX_HOST_LEN {
            return None;
        }

        let mut best: Option<((usize, RuleKind), u32)> = None;
        let mut consider = |labels: usize, kind: RuleKind, key: &str| {
            if let Some(&entry) = self.rules[kind as usize].get(key)
                && best.is_none_or(|(score, _)| (labels, kind) > score)
            {
                best = Some(((labels, kind), entry));
            }
        };
        let labels = label_count(host);
        consider(labels, RuleKind::Exact, host);
        for_each_suffix(host, |n, suffix| {
            consider(n, RuleKind::Subdomains, suffix);
        });
        for base in top_level_bases(host).into_iter().flatten() {
            consider(label_count(base), RuleKind::ExactAnyTld, base);
            for_each_suffix(base, |n, suffix| {
                consider(n, RuleKind::SubdomainsAnyTld, suffix);
            });
        }
        if labels >= 3
            && let Some((first, _)) = host.split_once('.')
        {
            consider(1, RuleKind::Prefix, first);
        }
        best.map(|(_, entry)| &self.entries[entry as usize])
    }
}

/// Parses a host rule into its kind and literal part (`*.google.*` → `google`).
fn parse_rule(rule: &'static str) -> Result<(RuleKind, &'static str), String> {
    let (subdomains, rest) = match rule.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, rule),
    };
    let (kind, literal) = if let Some(literal) = rest.strip_suffix(".*") {
        let kind = if subdomains {
            RuleKind::SubdomainsAnyTld
        } else {
            RuleKind::ExactAnyTld
        };
        (kind, literal)
    } else if let Some(literal) = rest.strip_suffix(".+") {
        if subdomains || literal.contains('.') {
            return Err(format!(
                "host rule {rule:?}: a `.+` rule is one label and `.+`"
            ));
        }
        (RuleKind::Prefix, literal)
    } else {
        let kind = if subdomains {
            RuleKind::Subdomains
        } else {
            RuleKind::Exact
        };
        if !rest.contains('.') {
            return Err(format!("host rule {rule:?}: a host has two labels or more"));
        }
        (kind, rest)
    };
    let valid_label = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !literal.split('.').all(valid_label) {
        return Err(format!(
            "host rule {rule:?}: labels are lower-case letters, digits and `-`, \
             with `*.` only first and `.*` or `.+` only last"
        ));
    }
    if literal.starts_with("www.") {
        return Err(format!(
            "host rule {rule:?}: a leading `www.` is ignored, leave it out"
        ));
    }
    Ok((kind, literal))
}

fn label_count(host: &str) -> usize {
    memchr::memchr_iter(b'.', host.as_bytes()).count() + 1
}

/// Calls `f` with the host and each of its parent domains, with their label counts:
/// `a.b.c` gives (3, `a.b.c`), (2, `b.c`), (1, `c`).
fn for_each_suffix<'h>(host: &'h str, mut f: impl FnMut(usize, &'h str)) {
    let mut labels = label_count(host);
    let mut suffix = host;
    loop {
        f(labels, suffix);
        match suffix.find('.') {
            Some(i) => {
                suffix = &suffix[i + 1..];
                labels -= 1;
            }
            None => break,
        }
    }
}

/// The host without its top-level domain, for `example.*` rules: without the last label
/// (`google.de` → `google`), and without the last two when they are a country code under a
/// generic second level (`google.co.uk` → `google`, besides `google.co`).
fn top_level_bases(host: &str) -> [Option<&str>; 2] {
    let Some(last_dot) = host.rfind('.') else {
        return [None, None];
    };
    let tld = &host[last_dot + 1..];
    if tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_lowercase()) {
        return [None, None];
    }
    let base = &host[..last_dot];
    let country_base = if tld.len() == 2 {
        base.rfind('.')
            .filter(|&i| SECOND_LEVELS.contains(&&base[i + 1..]))
            .map(|i| &base[..i])
    } else {
        None
    };
    [Some(base), country_base]
}

impl Entry {
    /// The search keyword of a referrer from this engine: the first of its keyword
    /// parameters with a value, from the query, or from the fragment when the query has none;
    /// decoded, whitespace-normalised and lower-cased; `(not provided)` when there is none.
    fn keyword(&self, url: &[u8]) -> String {
        let query = query::query_of(url);
        let fragment = fragment_query(query::fragment_of(url));
        let parts = [query, fragment];
        let raw = parts.iter().find_map(|part| {
            self.keyword_params
                .iter()
                .find_map(|name| query::param(part, name).filter(|v| !v.is_empty()))
        });
        let Some(raw) = raw else {
            return NOT_PROVIDED.to_owned();
        };
        let bytes = query::percent_decode(raw, true);
        let named = self.charset_params.iter().find_map(|name| {
            parts
                .iter()
                .find_map(|part| query::param(part, name))
                .and_then(query::charset)
        });
        let fallback = fallback_charset(&bytes, named, &self.legacy_charsets);
        let keyword = query::normalize_term(&bytes, fallback);
        if keyword.is_empty() {
            NOT_PROVIDED.to_owned()
        } else {
            keyword
        }
    }
}

/// The parameters of a fragment: `#q=x`, or `#!/search?q=x` after its `?`.
fn fragment_query(fragment: &[u8]) -> &[u8] {
    match memchr::memchr(b'?', fragment) {
        Some(i) => &fragment[i + 1..],
        None => fragment,
    }
}

/// The character set to decode keyword bytes that are not UTF-8 with: the one the engine's
/// parameter names, else the engine's legacy ones in order, whichever first decodes them
/// without errors. `None` (lossy UTF-8) when none does, or when the bytes are UTF-8.
fn fallback_charset(
    bytes: &[u8],
    named: Option<&'static Encoding>,
    legacy: &[&'static Encoding],
) -> Option<&'static Encoding> {
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    named
        .into_iter()
        .chain(legacy.iter().copied())
        .filter(|e| e.is_ascii_compatible())
        .find(|e| {
            e.decode_without_bom_handling_and_without_replacement(bytes)
                .is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(url: &str) -> ReferrerSource {
        let host = host_of(url).expect("a URL").to_ascii_lowercase();
        classify_referrer(&host, url.as_bytes())
    }

    fn name(url: &str) -> Option<&'static str> {
        classify(url).known.map(|k| k.name)
    }

    fn category(url: &str) -> Option<SourceCategory> {
        classify(url).known.map(|k| k.category)
    }

    fn keyword(url: &str) -> Option<String> {
        classify(url).keyword
    }

    #[test]
    fn table_parses() {
        let table = table();
        assert!(table.entries.len() > 100, "{}", table.entries.len());
        for category in [
            SourceCategory::Search,
            SourceCategory::Social,
            SourceCategory::Video,
            SourceCategory::Shopping,
            SourceCategory::Email,
            SourceCategory::Ai,
        ] {
            assert!(
                table.entries.iter().any(|e| e.known.category == category),
                "{category:?}"
            );
        }
    }

    /// A host that the rule matches, and the literal label count that makes it match.
    fn example_host(rule: &str) -> String {
        let rule = rule.strip_prefix("*.").unwrap_or(rule);
        if let Some(literal) = rule.strip_suffix(".*") {
            format!("{literal}.com")
        } else if let Some(literal) = rule.strip_suffix(".+") {
            format!("{literal}.example.net")
        } else {
            rule.to_owned()
        }
    }

    #[test]
    fn every_row_and_rule_is_reachable() {
        for entry in &table().entries {
            for (i, rule) in entry.hosts.iter().enumerate() {
                let host = example_host(rule);
                for url in [format!("https://{host}/"), format!("https://www.{host}/x")] {
                    let got = classify(&url);
                    assert_eq!(
                        got.known,
                        Some(entry.known),
                        "line {} rule {} {rule:?}: {url}",
                        entry.line,
                        i + 1
                    );
                    let expected = (entry.known.category == SourceCategory::Search)
                        .then(|| NOT_PROVIDED.to_owned());
                    assert_eq!(got.keyword, expected, "{url}");
                }
            }
        }
    }

    #[test]
    fn every_name_source_and_alias_has_its_category() {
        for entry in &table().entries {
            let spellings = [entry.known.name, entry.known.source]
                .into_iter()
                .chain(entry.aliases.iter().copied());
            for spelling in spellings {
                for variant in [spelling.to_owned(), spelling.to_uppercase()] {
                    assert_eq!(
                        category_of(&variant),
                        Some(entry.known.category),
                        "line {}: {variant:?}",
                        entry.line
                    );
                }
            }
        }
    }

    #[test]
    fn search_keywords_of_every_engine() {
        let cases = [
            (
                "https://www.google.com/search?q=Running+Shoes&oq=running&sourceid=chrome&ie=UTF-8",
                "Google",
                "running shoes",
            ),
            (
                "https://www.google.co.uk/search?hl=en&q=caf%C3%A9+au+lait",
                "Google",
                "café au lait",
            ),
            (
                "https://www.google.com.br/search?q=t%C3%AAnis&client=safari",
                "Google",
                "tênis",
            ),
            (
                "https://images.google.de/imgres?imgurl=x&q=Katze",
                "Google Images",
                "katze",
            ),
            (
                "https://www.bing.com/search?q=best+CRM+software&form=QBLH&sp=-1",
                "Bing",
                "best crm software",
            ),
            (
                "https://search.yahoo.com/search?p=weather+today&fr=yfp-t",
                "Yahoo",
                "weather today",
            ),
            (
                "https://uk.search.yahoo.com/search?p=london+hotels&fr=yfp",
                "Yahoo",
                "london hotels",
            ),
            (
                "https://duckduckgo.com/?q=rust+parquet&t=h_&ia=web",
                "DuckDuckGo",
                "rust parquet",
            ),
            (
                "https://yandex.ru/search/?text=%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD&lr=213",
                "Yandex",
                "купить диван",
            ),
            (
                "https://yandex.com.tr/search/?text=ayakkab%C4%B1",
                "Yandex",
                "ayakkabı",
            ),
            (
                "https://www.baidu.com/s?ie=utf-8&wd=%E4%B8%AD%E6%96%87",
                "Baidu",
                "中文",
            ),
            (
                "https://m.baidu.com/s?word=%E5%A4%A9%E6%B0%94",
                "Baidu",
                "天气",
            ),
            (
                "https://search.naver.com/search.naver?where=nexearch&sm=top_hty&fbm=0&ie=utf8&query=%EB%84%A4%EC%9D%B4%EB%B2%84",
                "Naver",
                "네이버",
            ),
            (
                "https://m.search.naver.com/search.naver?query=%EB%82%A0%EC%94%A8&where=m",
                "Naver",
                "날씨",
            ),
            (
                "https://search.daum.net/search?w=tot&DA=YZR&q=%EB%89%B4%EC%8A%A4",
                "Daum",
                "뉴스",
            ),
            (
                "https://search.nate.com/search/all.html?q=%C0%BD%BE%C7&x=0&y=0",
                "Nate",
                "음악",
            ),
            (
                "https://search.zum.com/search.zum?method=uni&option=accu&query=%EC%A4%8C",
                "Zum",
                "줌",
            ),
            (
                "https://www.ecosia.org/search?method=index&q=trees",
                "Ecosia",
                "trees",
            ),
            (
                "https://search.seznam.cz/?q=po%C4%8Das%C3%AD&oq=pocasi",
                "Seznam",
                "počasí",
            ),
            (
                "https://www.qwant.com/?q=m%C3%A9t%C3%A9o&t=web",
                "Qwant",
                "météo",
            ),
            (
                "https://www.startpage.com/sp/search?query=privacy+search",
                "Startpage",
                "privacy search",
            ),
            (
                "https://www.startpage.com/do/search?q=old+form",
                "Startpage",
                "old form",
            ),
            (
                "https://search.brave.com/search?q=brave+browser&source=web",
                "Brave Search",
                "brave browser",
            ),
            (
                "https://www.sogou.com/web?query=%CB%D1%B9%B7&ie=gbk",
                "Sogou",
                "搜狗",
            ),
            (
                "https://www.so.com/s?ie=utf-8&q=360%E6%90%9C%E7%B4%A2",
                "360 Search",
                "360搜索",
            ),
            (
                "https://www.ask.com/web?q=how+to+tie+a+tie&qo=homepageSearchBox",
                "Ask",
                "how to tie a tie",
            ),
            (
                "https://search.aol.com/aol/search?q=aol+news&s_it=sb-top",
                "AOL",
                "aol news",
            ),
            (
                "https://www.mojeek.com/search?q=independent+search",
                "Mojeek",
                "independent search",
            ),
            ("https://yep.com/web?q=yep+search", "Yep", "yep search"),
            (
                "https://kagi.com/search?q=paid+search",
                "Kagi",
                "paid search",
            ),
            (
                "https://search.yahoo.co.jp/search?p=%E6%97%A5%E6%9C%AC&ei=UTF-8",
                "Yahoo Japan",
                "日本",
            ),
            (
                "https://coccoc.com/search#query=th%E1%BB%9Di+ti%E1%BA%BFt",
                "Coc Coc",
                "thời tiết",
            ),
        ];
        for (url, engine, expected) in cases {
            let got = classify(url);
            let known = got.known.unwrap_or_else(|| panic!("unknown: {url}"));
            assert_eq!(known.name, engine, "{url}");
            assert_eq!(known.category, SourceCategory::Search, "{url}");
            assert_eq!(got.keyword.as_deref(), Some(expected), "{url}");
        }
    }

    #[test]
    fn korean_keywords_in_euc_kr_and_utf8() {
        // "한국" is C7 D1 B1 B9 in EUC-KR and ED 95 9C EA B5 AD in UTF-8.
        let cases = [
            "https://search.naver.com/search.naver?where=nexearch&query=%C7%D1%B1%B9&ie=euc-kr",
            "https://search.naver.com/search.naver?where=nexearch&query=%ED%95%9C%EA%B5%AD&ie=utf8",
            // No `ie`: Naver's legacy character set.
            "https://search.naver.com/search.naver?where=nexearch&query=%C7%D1%B1%B9",
            // An `ie` that contradicts the bytes: the legacy character set still decodes them.
            "https://search.naver.com/search.naver?query=%C7%D1%B1%B9&ie=utf8",
            // An unknown character set name.
            "https://search.naver.com/search.naver?query=%C7%D1%B1%B9&ie=x-no-such-charset",
            "https://search.daum.net/search?w=tot&q=%C7%D1%B1%B9",
            "https://search.nate.com/search/all.html?q=%C7%D1%B1%B9",
        ];
        for url in cases {
            assert_eq!(keyword(url).as_deref(), Some("한국"), "{url}");
        }
    }

    #[test]
    fn japanese_and_chinese_legacy_charsets() {
        // "日本" is C6 FC CB DC in EUC-JP and 93 FA 96 7B in Shift_JIS; "中文" D6 D0 CE C4
        // in GBK.
        let cases = [
            (
                "https://search.yahoo.co.jp/search?p=%C6%FC%CB%DC&ei=EUC-JP&fr=top_ga1_sa",
                "日本",
            ),
            (
                "https://search.yahoo.co.jp/search?p=%E6%97%A5%E6%9C%AC&ei=UTF-8",
                "日本",
            ),
            // No `ei`: EUC-JP first, then Shift_JIS.
            ("https://search.yahoo.co.jp/search?p=%C6%FC%CB%DC", "日本"),
            ("https://search.yahoo.co.jp/search?p=%93%FA%96%7B", "日本"),
            (
                "https://search.yahoo.co.jp/search?p=%93%FA%96%7B&ei=Shift_JIS",
                "日本",
            ),
            ("https://www.baidu.com/s?wd=%D6%D0%CE%C4&ie=gbk", "中文"),
            ("https://www.baidu.com/s?wd=%D6%D0%CE%C4", "中文"),
            (
                "https://www.baidu.com/s?ie=utf-8&wd=%E4%B8%AD%E6%96%87&rsv_spt=1",
                "中文",
            ),
            ("https://www.sogou.com/web?query=%D6%D0%CE%C4", "中文"),
            // Yandex's legacy windows-1251: "окна" is EE EA ED E0.
            ("https://yandex.ru/yandsearch?text=%EE%EA%ED%E0", "окна"),
        ];
        for (url, expected) in cases {
            assert_eq!(keyword(url).as_deref(), Some(expected), "{url}");
        }
    }

    #[test]
    fn keyword_not_provided() {
        for url in [
            "https://www.google.com/",
            "https://www.google.com/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1&url=https%3A%2F%2Fexample.com%2F",
            "https://www.google.co.jp/search?q=+++&ie=UTF-8",
            "https://www.bing.com/",
            "https://r.search.yahoo.com/_ylt=AwrE;_ylu=Y29sbwM/RV=2/RE=1700000000/RO=10/RU=https%3a%2f%2fexample.com%2f/RK=2/RS=abc-",
            "https://search.naver.com/search.naver",
            "android-app://com.google.android.googlequicksearchbox/https/www.google.com",
            "https://duckduckgo.com",
        ] {
            let got = classify(url);
            assert_eq!(
                got.known.map(|k| k.category),
                Some(SourceCategory::Search),
                "{url}"
            );
            assert_eq!(got.keyword.as_deref(), Some(NOT_PROVIDED), "{url}");
        }
    }

    #[test]
    fn keyword_in_the_fragment() {
        assert_eq!(
            keyword("https://www.google.com/#q=fragment+keyword&hl=en").as_deref(),
            Some("fragment keyword")
        );
        assert_eq!(
            keyword("https://www.google.com/webhp?hl=en&q=#hl=en&q=instant+search").as_deref(),
            Some("instant search")
        );
        assert_eq!(
            keyword("https://www.google.com/#!/search?q=bang").as_deref(),
            Some("bang")
        );
        // The query's keyword wins over the fragment's.
        assert_eq!(
            keyword("https://www.google.com/search?q=query#q=fragment").as_deref(),
            Some("query")
        );
    }

    #[test]
    fn whitespace_and_case_are_normalised() {
        assert_eq!(
            keyword("https://www.google.com/search?q=%20%20New%09York++CITY%0A").as_deref(),
            Some("new york city")
        );
        assert_eq!(
            keyword("https://www.google.de/search?q=%C3%9CBER+STRA%C3%9FE").as_deref(),
            Some("über straße")
        );
        assert_eq!(
            keyword("https://www.google.com/search?Q=Upper+Name").as_deref(),
            Some("upper name")
        );
        // `+` is a space; an encoded plus is a plus.
        assert_eq!(
            keyword("https://www.google.com/search?q=c%2B%2B+templates").as_deref(),
            Some("c++ templates")
        );
    }

    #[test]
    fn malformed_input_never_fails() {
        // A truncated UTF-8 sequence ("中" is E4 B8 AD).
        assert_eq!(
            keyword("https://www.google.com/search?q=%E4%B8").as_deref(),
            Some("\u{fffd}")
        );
        // Escapes that are not escapes stay as they were.
        assert_eq!(
            keyword("https://www.google.com/search?q=100%zz+off%").as_deref(),
            Some("100%zz off%")
        );
        // An unknown character set and bytes that are not UTF-8: replacement characters.
        assert_eq!(
            keyword("https://www.google.com/search?q=caf%E9%FF&ie=no-such-charset").as_deref(),
            Some("caf\u{fffd}\u{fffd}")
        );
        // A character set that decodes them.
        assert_eq!(
            keyword("https://www.google.com/search?q=caf%E9&ie=ISO-8859-1").as_deref(),
            Some("café")
        );
        // A non-ASCII-compatible character set is ignored.
        assert_eq!(
            keyword("https://www.google.com/search?q=%E9&ie=utf-16").as_deref(),
            Some("\u{fffd}")
        );
        // Raw bytes in the referrer (an unescaped log).
        let url = b"https://www.google.com/search?q=caf\xe9";
        assert_eq!(
            classify_referrer("www.google.com", url).keyword.as_deref(),
            Some("caf\u{fffd}")
        );
        // Odd query shapes.
        for url in [
            "https://www.google.com/search?",
            "https://www.google.com/search?&&=&q",
            "https://www.google.com/search?q=%",
            "https://www.google.com/#",
            "https://www.google.com/search?q=a#",
        ] {
            assert!(keyword(url).is_some(), "{url}");
        }
    }

    #[test]
    fn absurdly_long_referrer() {
        let mut url = String::from("https://www.google.com/search?q=");
        while url.len() < 100_000 {
            url.push_str("%E4%B8%AD+x%zz%");
        }
        let got = classify(&url);
        assert_eq!(got.known.map(|k| k.name), Some("Google"));
        assert!(got.keyword.is_some_and(|k| k.starts_with("中 x%zz%中")));

        let mut host = "a.".repeat(50_000);
        host.push_str("google.com");
        assert_eq!(
            classify_referrer(&host, format!("https://{host}/").as_bytes()).known,
            None
        );
        let host = "x".repeat(100_000);
        assert_eq!(classify_referrer(&host, host.as_bytes()).known, None);
    }

    #[test]
    fn host_rule_precedence() {
        let cases = [
            (
                "https://mail.google.com/mail/u/0/",
                Some(SourceCategory::Email),
            ),
            (
                "https://gemini.google.com/app/abc",
                Some(SourceCategory::Ai),
            ),
            ("https://bard.google.com/", Some(SourceCategory::Ai)),
            (
                "https://shopping.google.com/",
                Some(SourceCategory::Shopping),
            ),
            ("https://www.google.co.uk/", Some(SourceCategory::Search)),
            ("https://google.com/", Some(SourceCategory::Search)),
            ("https://www.google.com.br/", Some(SourceCategory::Search)),
            ("https://www.google.de/", Some(SourceCategory::Search)),
            ("https://google.co/", Some(SourceCategory::Search)),
            ("https://googleusercontent.com/", None),
            ("https://lh3.googleusercontent.com/x.png", None),
            ("https://docs.google.com/document/d/1", None),
            ("https://google.evil.example/", None),
            ("https://google.com.evil.example/", None),
            ("https://notgoogle.com/", None),
            (
                "https://l.facebook.com/l.php?u=x",
                Some(SourceCategory::Social),
            ),
            ("https://lm.facebook.com/", Some(SourceCategory::Social)),
            ("https://m.facebook.com/", Some(SourceCategory::Social)),
            ("https://t.co/abc", Some(SourceCategory::Social)),
            (
                "https://m.youtube.com/watch?v=x",
                Some(SourceCategory::Video),
            ),
            ("https://youtu.be/x", Some(SourceCategory::Video)),
            (
                "https://mail.yahoo.com/d/folders/1",
                Some(SourceCategory::Email),
            ),
            (
                "https://us-mg5.mail.yahoo.com/neo/launch",
                Some(SourceCategory::Email),
            ),
            ("https://news.yahoo.com/", None),
            (
                "https://blog.naver.com/someone/123",
                Some(SourceCategory::Social),
            ),
            (
                "https://m.blog.naver.com/someone/123",
                Some(SourceCategory::Social),
            ),
            ("https://tv.naver.com/v/1", Some(SourceCategory::Video)),
            (
                "https://search.shopping.naver.com/search/all?query=x",
                Some(SourceCategory::Shopping),
            ),
            ("https://mail.naver.com/", Some(SourceCategory::Email)),
            ("https://www.naver.com/", None),
            ("https://mail.yandex.ru/", Some(SourceCategory::Email)),
            ("https://market.yandex.ru/", None),
            (
                "https://go.mail.ru/search?q=x",
                Some(SourceCategory::Search),
            ),
            ("https://e.mail.ru/inbox/", Some(SourceCategory::Email)),
            (
                "https://webmail.example-isp.net/",
                Some(SourceCategory::Email),
            ),
            (
                "https://mail.company.co.uk/owa/",
                Some(SourceCategory::Email),
            ),
            ("https://mail.ru/", None),
            (
                "https://uk.pinterest.com/pin/1",
                Some(SourceCategory::Social),
            ),
            ("https://www.pinterest.co.uk/", Some(SourceCategory::Social)),
            (
                "https://www.amazon.co.jp/dp/1",
                Some(SourceCategory::Shopping),
            ),
            ("https://amazonaws.com/", None),
            ("https://chatgpt.com/", Some(SourceCategory::Ai)),
            ("https://chat.openai.com/", Some(SourceCategory::Ai)),
            (
                "https://www.perplexity.ai/search/x",
                Some(SourceCategory::Ai),
            ),
            ("https://copilot.microsoft.com/", Some(SourceCategory::Ai)),
            (
                "android-app://com.google.android.gm/",
                Some(SourceCategory::Email),
            ),
            (
                "https://WWW.Google.COM/search?q=x",
                Some(SourceCategory::Search),
            ),
            (
                "https://www.google.com./search?q=x",
                Some(SourceCategory::Search),
            ),
            ("https://192.168.0.1/", None),
            ("https://example.com/", None),
        ];
        for (url, expected) in cases {
            assert_eq!(category(url), expected, "{url}");
        }
        assert_eq!(name("https://mail.google.com/"), Some("Gmail"));
        assert_eq!(name("https://gemini.google.com/"), Some("Gemini"));
        assert_eq!(name("https://news.google.com/"), Some("Google News"));
        assert_eq!(name("https://x.com/someone"), Some("X"));
        assert_eq!(name("https://twitter.com/someone"), Some("X"));
        assert_eq!(name("https://out.reddit.com/t3_x"), Some("Reddit"));
        assert_eq!(name("https://l.instagram.com/?u=x"), Some("Instagram"));
        assert_eq!(name("https://lnkd.in/abc"), Some("LinkedIn"));
        assert_eq!(name("https://pin.it/abc"), Some("Pinterest"));
        assert_eq!(name("https://pf.kakao.com/_abc"), Some("KakaoTalk"));
        assert_eq!(name("https://wa.me/123"), Some("WhatsApp"));
        assert_eq!(name("https://t.me/channel"), Some("Telegram"));
        assert_eq!(name("https://outlook.office365.com/mail/"), Some("Outlook"));
        // Non-search sources carry no keyword, even with a `q`.
        assert_eq!(keyword("https://www.facebook.com/search?q=x"), None);
        assert_eq!(
            keyword("https://www.youtube.com/results?search_query=x"),
            None
        );
        assert_eq!(
            classify("https://example.com/?q=x"),
            ReferrerSource::default()
        );
    }

    #[test]
    fn campaign_source_categories() {
        let cases = [
            ("google", Some(SourceCategory::Search)),
            ("Google", Some(SourceCategory::Search)),
            ("GOOGLE", Some(SourceCategory::Search)),
            ("bing", Some(SourceCategory::Search)),
            ("naver", Some(SourceCategory::Search)),
            ("yahoo.co.jp", Some(SourceCategory::Search)),
            ("www.bing.com", Some(SourceCategory::Search)),
            ("https://www.google.co.uk/", Some(SourceCategory::Search)),
            ("fb", Some(SourceCategory::Social)),
            ("Facebook", Some(SourceCategory::Social)),
            ("www.facebook.com", Some(SourceCategory::Social)),
            ("facebook.com", Some(SourceCategory::Social)),
            ("l.instagram.com", Some(SourceCategory::Social)),
            ("ig", Some(SourceCategory::Social)),
            ("tw", Some(SourceCategory::Social)),
            ("x", Some(SourceCategory::Social)),
            ("Twitter", Some(SourceCategory::Social)),
            ("Naver Blog", Some(SourceCategory::Social)),
            ("naver_blog", Some(SourceCategory::Social)),
            ("blog.naver.com", Some(SourceCategory::Social)),
            ("kakaotalk", Some(SourceCategory::Social)),
            ("yt", Some(SourceCategory::Video)),
            ("YouTube", Some(SourceCategory::Video)),
            ("m.youtube.com", Some(SourceCategory::Video)),
            ("amazon", Some(SourceCategory::Shopping)),
            ("amazon.de", Some(SourceCategory::Shopping)),
            ("gmail", Some(SourceCategory::Email)),
            ("mail.google.com", Some(SourceCategory::Email)),
            ("ChatGPT", Some(SourceCategory::Ai)),
            ("chatgpt.com", Some(SourceCategory::Ai)),
            ("  perplexity  ", Some(SourceCategory::Ai)),
            ("newsletter", None),
            ("partner-site", None),
            ("example.com", None),
            ("", None),
            ("   ", None),
        ];
        for (source, expected) in cases {
            assert_eq!(category_of(source), expected, "{source:?}");
        }
    }

    #[test]
    fn malformed_tables_name_the_line() {
        let cases = [
            ("search\tX\tx\tx.com\tq\t-\t-", "line 1: expected 8"),
            ("# c\nnews\tX\tx\tx.com\t-\t-\t-\t-", "line 2: unknown kind"),
            ("social\tX\tx\tx.com\tq\t-\t-\t-", "line 1: only search"),
            ("search\tX\tx\tx.com\t-\t-\t-\t-", "line 1: a search engine"),
            (
                "search\tX\tx\tx.com\tq\tno-such\t-\t-",
                "line 1: unknown character",
            ),
            ("social\tX\tX\tx.com\t-\t-\t-\t-", "line 1: source"),
            ("social\tX\tx\t\t-\t-\t-\t-", "line 1: field 4 is empty"),
            ("social\tX\tx\twww.x.com\t-\t-\t-\t-", "line 1: host rule"),
            ("social\tX\tx\tx.*.com\t-\t-\t-\t-", "line 1: host rule"),
            ("social\tX\tx\t*.a.+\t-\t-\t-\t-", "line 1: host rule"),
            ("social\tX\tx\tlocalhost\t-\t-\t-\t-", "line 1: host rule"),
            ("social\tX\tx\tX.com\t-\t-\t-\t-", "line 1: host rule"),
            (
                "social\tX\tx\ta.com,,b.com\t-\t-\t-\t-",
                "line 1: empty item",
            ),
            (
                "social\tX\tx\tx.com\t-\t-\t-\t-\nvideo\tY\ty\tx.com\t-\t-\t-\t-",
                "line 2: host rule \"x.com\" is already on line 1",
            ),
            (
                "social\tX\tx\tx.com\t-\t-\t-\t-\nvideo\tX\ty\ty.com\t-\t-\t-\t-",
                "line 2: name",
            ),
            (
                "social\tX\tx\tx.com\t-\t-\t-\t-\nvideo\tY\ty\ty.com\t-\t-\t-\tx",
                "line 2: \"x\" names a social source on line 1",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_table(text).expect_err(text);
            assert!(err.starts_with(expected), "{err}");
        }
        // The same source twice is fine within one kind.
        assert!(
            parse_table("search\tA\tg\ta.com\tq\t-\t-\t-\nsearch\tB\tg\tb.com\tq\t-\t-\t-").is_ok()
        );
    }
}
