//! User agents → browser, operating system, device class and bot, once per distinct agent.
//!
//! The project's bot table (`data/bots.tsv`, compiled in) is asked first: woothee's data
//! stops in 2021, names no AI crawler and takes some bots for browsers. Then woothee
//! (1–3 µs a call, which is why this runs per distinct agent and never per line). Agents
//! that neither knows but that look like bots (a `…bot/1.0` token, `crawler`, `spider`, a
//! `+http://` contact URL) are bots of kind `crawler`, named after their token. An empty
//! user agent is a bot of kind `unknown`: browsers always send one.
//!
//! For agents that are not bots, an override layer then corrects woothee for today's
//! traffic. Browsers come from `data/browsers.tsv` (compiled in), a token list tried in
//! order before woothee's name, since Edge, Samsung Internet, Opera, in-app browsers and
//! the like also send `Chrome/` and `Safari/`. Operating systems become a family plus a
//! version (`Windows` `10/11`, `macOS` `10.15.7`, `iOS`, `iPadOS`, `Android`, `ChromeOS`,
//! `Linux`, with frozen or reduced versions left as their meaning allows), and devices gain
//! `tablet` (iPads, Android without `Mobile`) while smart TVs and consoles are
//! `appliance`. Bots keep woothee's answer.

use std::sync::OnceLock;

use super::Text;

/// A bot's name and kind (`ai`, `search`, `seo`, `social`, `monitor`, `tool`, `crawler`,
/// `unknown`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bot {
    pub name: String,
    pub kind: &'static str,
}

/// A distinct user agent, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    pub browser: Text,
    /// The full version (`131.0.2903.86`); empty when unknown.
    pub browser_version: Text,
    /// The leading digits of `browser_version` (`131`); empty when unknown.
    pub browser_major: Text,
    /// A family: `Windows`, `macOS`, `iOS`, `iPadOS`, `Android`, `ChromeOS`, `Linux`, … or
    /// woothee's name for the rest; `Unknown` when nothing is known.
    pub os: Text,
    /// Empty when unknown (or when the agent's version is a frozen placeholder).
    pub os_version: Text,
    /// woothee's category (pc, smartphone, mobilephone, appliance, crawler, misc, unknown)
    /// plus `tablet`.
    pub device: Text,
    pub bot: Option<Bot>,
}

impl AgentInfo {
    /// Nothing known: a human of unknown browser, OS and device. What a hit whose format
    /// logs no user agent is.
    pub fn unknown() -> Self {
        AgentInfo {
            browser: "Unknown".into(),
            browser_version: "".into(),
            browser_major: "".into(),
            os: "Unknown".into(),
            os_version: "".into(),
            device: "unknown".into(),
            bot: None,
        }
    }
}

/// How the user agent of a hit whose line has no user-agent field
/// ([`crate::parse::AGENT_NOT_LOGGED`]) is shown: the common log format's mark for a value
/// not logged.
pub const NOT_LOGGED_TEXT: &str = "-";

struct BotRule {
    needle: String,
    name: String,
    kind: &'static str,
}

const KINDS: [&str; 7] = [
    "ai", "search", "seo", "social", "monitor", "tool", "crawler",
];

fn bot_rules() -> &'static [BotRule] {
    static RULES: OnceLock<Vec<BotRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        include_str!("../../data/bots.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split('\t');
                let (Some(needle), Some(name), Some(kind), None) =
                    (f.next(), f.next(), f.next(), f.next())
                else {
                    panic!("data/bots.tsv: expected needle<TAB>name<TAB>kind, got {l:?}");
                };
                let kind = KINDS
                    .iter()
                    .find(|k| **k == kind)
                    .unwrap_or_else(|| panic!("data/bots.tsv: unknown kind {kind:?}"));
                BotRule {
                    needle: needle.to_ascii_lowercase(),
                    name: name.to_owned(),
                    kind,
                }
            })
            .collect()
    })
}

/// The kind named `name` as a bot's `kind` holds it ("unknown" for a name no bot has).
pub fn bot_kind(name: &str) -> &'static str {
    KINDS
        .iter()
        .copied()
        .find(|&k| k == name)
        .unwrap_or("unknown")
}

/// The bot name of hits without a user agent.
pub const NO_AGENT: &str = "(no user agent)";

/// Classifies one user agent (already unescaped display text).
pub fn classify(agent: &str) -> AgentInfo {
    let trimmed = agent.trim();
    let lower = trimmed.to_ascii_lowercase();
    let mut bot = if trimmed.is_empty() {
        Some(Bot {
            name: NO_AGENT.into(),
            kind: "unknown",
        })
    } else {
        bot_rules()
            .iter()
            .find(|r| lower.contains(&r.needle))
            .map(|r| Bot {
                name: r.name.clone(),
                kind: r.kind,
            })
    };
    let parsed = woothee::parser::Parser::new().parse(trimmed);
    let mut info = match &parsed {
        Some(r) => AgentInfo {
            browser: known(r.name),
            browser_version: version(r.version),
            browser_major: Text::from(""),
            os: known(r.os),
            os_version: version(&r.os_version),
            device: Text::from(r.category.to_ascii_lowercase()),
            bot: None,
        },
        None => AgentInfo::unknown(),
    };
    if bot.is_none() {
        bot = match &parsed {
            // woothee names the crawlers it knows; its catch-all name says nothing.
            Some(r) if r.category == "crawler" && !matches!(r.name, "misc crawler" | "UNKNOWN") => {
                Some(Bot {
                    name: r.name.to_owned(),
                    kind: "crawler",
                })
            }
            Some(r) if r.category == "crawler" => {
                Some(generic_bot(trimmed, &lower).unwrap_or(Bot {
                    name: "(unnamed bot)".into(),
                    kind: "crawler",
                }))
            }
            _ => generic_bot(trimmed, &lower),
        };
    }
    if bot.is_none() {
        override_browser(trimmed, &mut info);
        override_os(trimmed, &mut info);
        override_device(trimmed, &mut info);
    }
    info.browser_major = Text::from(major(&info.browser_version));
    info.bot = bot;
    info
}

fn known(s: &str) -> Text {
    Text::from(if s == "UNKNOWN" { "Unknown" } else { s })
}

fn version(s: &str) -> Text {
    Text::from(if s == "UNKNOWN" { "" } else { s })
}

/// `131.0.2903.86` → `131`; empty when the version does not start with a digit.
fn major(version: &str) -> &str {
    let end = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    &version[..end]
}

struct BrowserRule {
    token: &'static str,
    name: Text,
}

fn browser_rules() -> &'static [BrowserRule] {
    static RULES: OnceLock<Vec<BrowserRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        include_str!("../../data/browsers.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split('\t');
                let (Some(token), Some(name), None) = (f.next(), f.next(), f.next()) else {
                    panic!("data/browsers.tsv: expected token<TAB>name, got {l:?}");
                };
                assert!(
                    !token.trim().is_empty() && !name.trim().is_empty(),
                    "data/browsers.tsv: empty token or name in {l:?}"
                );
                BrowserRule {
                    token,
                    name: Text::from(name.trim()),
                }
            })
            .collect()
    })
}

/// Where `token` starts a word in `agent` (not preceded by a letter or digit), the text
/// after it.
fn after_token<'a>(agent: &'a str, token: &str) -> Option<&'a str> {
    agent.match_indices(token).find_map(|(i, _)| {
        let at_word_start = agent[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        at_word_start.then(|| &agent[i + token.len()..])
    })
}

/// The first `data/browsers.tsv` token in the agent names the browser.
fn override_browser(agent: &str, info: &mut AgentInfo) {
    for rule in browser_rules() {
        if let Some(rest) = after_token(agent, rule.token) {
            let rest = rest.trim_start_matches([' ', '/']);
            let end = rest
                .find([' ', ';', ')', '(', '/', ']'])
                .unwrap_or(rest.len());
            let version = &rest[..end];
            info.browser = rule.name.clone();
            info.browser_version =
                Text::from(if version.starts_with(|c: char| c.is_ascii_digit()) {
                    version
                } else {
                    ""
                });
            return;
        }
    }
}

/// woothee's OS names (`Windows 10`, `Mac OSX`, `iPhone`, …) → a family and a version.
fn override_os(agent: &str, info: &mut AgentInfo) {
    let woothee_version = &*info.os_version;
    let (os, version): (&str, String) = match &*info.os {
        // Smart TVs (and a few old phones) that woothee takes for plain Linux.
        "Linux" | "Unknown" if agent.contains("Tizen") => {
            let v = after_token(agent, "Tizen ").unwrap_or("");
            let end = v.find([';', ')', ' ']).unwrap_or(v.len());
            ("Tizen", v[..end].to_owned())
        }
        "Linux" | "Unknown" if agent.contains("Web0S") || agent.contains("webOS") => {
            ("webOS", String::new())
        }
        // Chrome and Edge keep saying NT 10.0 on Windows 11 (only client hints tell them
        // apart), so NT 10.0 is either.
        "Windows 10" => ("Windows", "10/11".to_owned()),
        "Windows UNKNOWN Ver" => ("Windows", String::new()),
        // woothee's own names for older versions: `Windows 8.1` (NT 6.3), `Windows 8`
        // (6.2), `Windows 7` (6.1), `Windows Vista`, `Windows XP`, …
        w if w.starts_with("Windows ") && !matches!(w, "Windows Phone OS" | "Windows CE") => {
            ("Windows", w["Windows ".len()..].to_owned())
        }
        // Safari and Chrome freeze `Mac OS X 10_15_7` (Firefox `10.15`) on macOS 11 and
        // later, so `10.15.7` means "10.15.7 or later". Safari on an iPad asks for desktop
        // sites by default and lands here too: its agent is a Mac's.
        "Mac OSX" => {
            let v = after_token(agent, "Mac OS X ").unwrap_or("");
            let end = v
                .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.'))
                .unwrap_or(v.len());
            let v = v[..end].replace('_', ".");
            ("macOS", v.trim_end_matches('.').to_owned())
        }
        // `CPU iPhone OS 18_1`: woothee already reads 18.1.
        "iPhone" | "iPod" => ("iOS", woothee_version.to_owned()),
        "iPad" => ("iPadOS", woothee_version.to_owned()),
        // Chrome's reduced agent says `Android 10; K` whatever the real version is.
        "Android" if agent.contains("Android 10; K)") => ("Android", String::new()),
        "Android" => ("Android", woothee_version.to_owned()),
        // `CrOS x86_64 14541.0.0`: the platform version, which Chrome's reduced agent
        // freezes at 14541.0.0.
        "ChromeOS" => match woothee_version.rsplit(' ').next().unwrap_or("") {
            "14541.0.0" => ("ChromeOS", String::new()),
            v => ("ChromeOS", v.to_owned()),
        },
        "Linux" => ("Linux", String::new()),
        _ => return,
    };
    info.os = Text::from(os);
    info.os_version = Text::from(version);
}

/// Tokens of smart TVs, streaming sticks and game consoles (case-sensitive).
const APPLIANCES: [&str; 17] = [
    "SMART-TV",
    "SmartTV",
    "SMARTTV",
    "HbbTV",
    "Web0S",
    "webOS.TV",
    "NetCast",
    "BRAVIA",
    "GoogleTV",
    "Android TV",
    "CrKey",
    "; AFT",
    "Roku",
    "AppleTV",
    "PlayStation",
    "Xbox",
    "Nintendo",
];

fn override_device(agent: &str, info: &mut AgentInfo) {
    let device = if APPLIANCES.iter().any(|t| agent.contains(t)) {
        "appliance"
    } else if &*info.os == "iPadOS" {
        "tablet"
    } else if &*info.os == "Android" && &*info.device == "smartphone" && !agent.contains("Mobile") {
        // Android phones always send `Mobile` (Chrome: `Mobile Safari/`, Firefox:
        // `; Mobile;`); tablets do not.
        "tablet"
    } else {
        return;
    };
    info.device = Text::from(device);
}

/// Agents that announce themselves as bots without being in any table.
fn generic_bot(agent: &str, lower: &str) -> Option<Bot> {
    let tokens = || {
        agent
            .split([' ', ';', '(', ')', ','])
            .filter(|t| !t.is_empty())
    };
    // "FooBot/1.0", "Some-Crawler/2", "ExampleSpider": but not a phone model like "CUBOT".
    let botlike = |t: &str| {
        let l = t.to_ascii_lowercase();
        match l.split_once('/') {
            Some((product, _)) => {
                product.ends_with("bot")
                    || product.contains("crawler")
                    || product.contains("spider")
            }
            None => l.contains("crawler") || l.contains("spider"),
        }
    };
    let name_of = |t: &str| t.split('/').next().unwrap_or(t).to_owned();
    if let Some(token) = tokens().find(|t| botlike(t) && !t.starts_with('+') && !t.contains("://"))
    {
        return Some(Bot {
            name: name_of(token),
            kind: "crawler",
        });
    }
    if lower.contains("+http") {
        // "(compatible; Name/1.0; +https://…)": the product before the contact URL.
        let before = &agent[..lower.find("+http").unwrap_or(0)];
        let name = before
            .rsplit([';', '('])
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(|s| name_of(s.split(' ').next().unwrap_or(s)))
            .unwrap_or_else(|| "(unnamed bot)".to_owned());
        return Some(Bot {
            name,
            kind: "crawler",
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot(agent: &str) -> Option<(String, &'static str)> {
        classify(agent).bot.map(|b| (b.name, b.kind))
    }

    #[test]
    fn modern_bots_by_table() {
        let cases = [
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
                "GPTBot",
                "ai",
            ),
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
                "ClaudeBot",
                "ai",
            ),
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
                "PerplexityBot",
                "ai",
            ),
            (
                "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
                "Bytespider",
                "ai",
            ),
            (
                "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
                "AhrefsBot",
                "seo",
            ),
            (
                "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
                "SemrushBot",
                "seo",
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                "bingbot",
                "search",
            ),
            (
                "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
                "YandexBot",
                "search",
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Googlebot",
                "search",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
                "Applebot",
                "search",
            ),
            (
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                "facebookexternalhit",
                "social",
            ),
            ("curl/8.5.0", "curl", "tool"),
            ("python-requests/2.32.3", "python-requests", "tool"),
            ("Go-http-client/1.1", "Go-http-client", "tool"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
                "HeadlessChrome",
                "tool",
            ),
        ];
        for (agent, name, kind) in cases {
            assert_eq!(bot(agent), Some((name.to_owned(), kind)), "{agent}");
        }
    }

    #[test]
    fn unknown_bots_named_by_their_token() {
        assert_eq!(
            bot("Mozilla/5.0 (compatible; FooBot/1.0; +https://foo.example/bot)"),
            Some(("FooBot".into(), "crawler"))
        );
        assert_eq!(
            bot("Mozilla/5.0 (compatible; Linespider/1.1; +https://lin.ee/4dwXkTH)"),
            Some(("Linespider".into(), "crawler"))
        );
        assert_eq!(
            bot("Mozilla/5.0 (compatible; Qux/0.9; +https://qux.example/about)"),
            Some(("Qux".into(), "crawler"))
        );
        assert_eq!(bot(""), Some(("(no user agent)".into(), "unknown")));
    }

    #[test]
    fn browsers_are_not_bots() {
        let agents = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ];
        for agent in agents {
            assert_eq!(bot(agent), None, "{agent}");
        }
    }

    #[test]
    fn browser_os_device() {
        let a = classify(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        );
        assert_eq!(
            (&*a.browser, &*a.os, &*a.os_version, &*a.device),
            ("Chrome", "Windows", "10/11", "pc")
        );
        assert_eq!(
            (&*a.browser_version, &*a.browser_major),
            ("131.0.0.0", "131")
        );
        let a = classify(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        );
        assert_eq!(
            (&*a.browser, &*a.os, &*a.os_version, &*a.device),
            ("Safari", "iOS", "18.1", "smartphone")
        );
        let a = classify("something odd");
        assert_eq!(
            (
                &*a.browser,
                &*a.browser_version,
                &*a.browser_major,
                &*a.os,
                &*a.os_version,
                &*a.device
            ),
            ("Unknown", "", "", "Unknown", "", "unknown")
        );
    }

    /// (browser, browser_major, os, os_version, device) of a browser's agent.
    #[track_caller]
    fn check(agent: &str, expected: (&str, &str, &str, &str, &str)) {
        let a = classify(agent);
        assert_eq!(a.bot, None, "{agent}");
        assert_eq!(
            (
                &*a.browser,
                &*a.browser_major,
                &*a.os,
                &*a.os_version,
                &*a.device
            ),
            expected,
            "{agent}"
        );
    }

    #[test]
    fn browser_table_parses() {
        let rules = browser_rules();
        assert!(rules.len() >= 20);
        assert!(
            rules
                .iter()
                .all(|r| !r.token.is_empty() && !r.name.is_empty())
        );
        assert_eq!(major("131.0.2903.86"), "131");
        assert_eq!(major("14.7.10-gn"), "14");
        assert_eq!(major("5"), "5");
        assert_eq!(major("P903i"), "");
        assert_eq!(major(""), "");
    }

    #[test]
    fn browser_overrides() {
        // woothee: Edge already, but Windows 10 for Windows 11 too.
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            ("Edge", "131", "Windows", "10/11", "pc"),
        );
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
            ("Edge", "131", "Android", "", "smartphone"),
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 EdgiOS/131.2903.86 Mobile/15E148 Safari/605.1.15",
            ("Edge", "131", "iOS", "18.1", "smartphone"),
        );
        // woothee: "SamsungBrowser".
        check(
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            ("Samsung Internet", "26", "Android", "14", "smartphone"),
        );
        // woothee: Chrome.
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Whale/3.28.266.14 Safari/537.36",
            ("Whale", "3", "Windows", "10/11", "pc"),
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",
            ("Yandex Browser", "24", "Windows", "10/11", "pc"),
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0",
            ("Opera", "116", "Windows", "10/11", "pc"),
        );
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
            ("Opera", "86", "Android", "", "smartphone"),
        );
        // woothee: Safari.
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1 OPX/2.6.0",
            ("Opera", "2", "iOS", "18.1", "smartphone"),
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18",
            ("Vivaldi", "7", "Windows", "10/11", "pc"),
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            ("Chrome", "131", "iOS", "18.1", "smartphone"),
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
            ("Firefox", "133", "iOS", "18.1", "smartphone"),
        );
        // woothee: Chrome.
        check(
            "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2020 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
            ("UC Browser", "13", "Android", "10", "smartphone"),
        );
        check(
            "Mozilla/5.0 (Linux; U; Android 12; en-us; 22101316G Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.7.10-gn",
            ("Mi Browser", "14", "Android", "12", "smartphone"),
        );
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 DuckDuckGo/5",
            ("DuckDuckGo", "5", "Android", "", "smartphone"),
        );
        // woothee: Safari.
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Ddg/18.1 Safari/604.1",
            ("DuckDuckGo", "18", "iOS", "18.1", "smartphone"),
        );
        // woothee: Chrome.
        check(
            "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.3.1 like Chrome/131.0.6778.135 Safari/537.36",
            ("Amazon Silk", "131", "Android", "9", "tablet"),
        );
    }

    #[test]
    fn in_app_browser_overrides() {
        // woothee: "Webview" for all of these but the Google app.
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 [FBAN/FBIOS;FBAV/490.0.0.45.105;FBBV/665093744;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/18.1;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]",
            ("Facebook", "490", "iOS", "18.1", "smartphone"),
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/490.0.0.47.106;]",
            ("Facebook", "490", "Android", "14", "smartphone"),
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 Instagram 358.0.0.15.88 (iPhone15,2; iOS 18_1; en_US; en; scale=3.00; 1179x2556; 669374425)",
            ("Instagram", "358", "iOS", "18.1", "smartphone"),
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 Safari Line/14.19.0",
            ("LINE", "14", "iOS", "18.1", "smartphone"),
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.81 Mobile Safari/537.36 KAKAOTALK/10.9.5 (INAPP)",
            ("KakaoTalk", "10", "Android", "14", "smartphone"),
        );
        // woothee: "Google Search App", the app's old name.
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/343.0.695551749 Mobile/15E148 Safari/604.1",
            ("Google App", "343", "iOS", "18.1", "smartphone"),
        );
    }

    #[test]
    fn os_overrides() {
        // woothee: "Windows 10" / "NT 10.0".
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            ("Chrome", "131", "Windows", "10/11", "pc"),
        );
        // woothee: "Windows 7" / "NT 6.1".
        check(
            "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
            ("Chrome", "109", "Windows", "7", "pc"),
        );
        // woothee: "Mac OSX".
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            ("Safari", "18", "macOS", "10.15.7", "pc"),
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
            ("Firefox", "133", "macOS", "10.15", "pc"),
        );
        // woothee: "iPhone".
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            ("Safari", "18", "iOS", "18.1", "smartphone"),
        );
        // woothee: "Android" "10" (the reduced agent's placeholder).
        check(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
            ("Chrome", "131", "Android", "", "smartphone"),
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36",
            ("Chrome", "131", "Android", "14", "smartphone"),
        );
        // woothee: "ChromeOS" "x86_64 14541.0.0" (frozen).
        check(
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            ("Chrome", "131", "ChromeOS", "", "pc"),
        );
        // woothee: "Linux" "UNKNOWN".
        check(
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            ("Firefox", "133", "Linux", "", "pc"),
        );
        // Not overridden: woothee's name for the rest.
        check(
            "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
            ("Edge", "15", "Windows Phone OS", "10.0", "smartphone"),
        );
        check(
            "DoCoMo/2.0 P903i(c100;TB;W24H12)",
            ("docomo", "", "docomo", "", "mobilephone"),
        );
    }

    #[test]
    fn device_overrides() {
        // woothee: "iPad", smartphone.
        check(
            "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            ("Safari", "18", "iPadOS", "18.1", "tablet"),
        );
        // woothee: smartphone.
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            ("Chrome", "131", "Android", "13", "tablet"),
        );
        check(
            "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
            ("Firefox", "133", "Android", "14", "tablet"),
        );
        check(
            "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
            ("Firefox", "133", "Android", "14", "smartphone"),
        );
        // woothee: "SamsungBrowser" on Linux, pc.
        check(
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 5.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.2 Chrome/63.0.3239.84 TV Safari/537.36",
            ("Samsung Internet", "2", "Tizen", "5.0", "appliance"),
        );
        // woothee: Linux, pc.
        check(
            "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.211 Safari/537.36 WebAppManager",
            ("Chrome", "108", "webOS", "", "appliance"),
        );
        // woothee: Android smartphone (a Fire TV stick).
        check(
            "Mozilla/5.0 (Linux; Android 9; AFTMM) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            ("Chrome", "131", "Android", "9", "appliance"),
        );
        // woothee: category UNKNOWN.
        check(
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
            ("Safari", "13", "Unknown", "", "appliance"),
        );
        // woothee already knows the Xbox.
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edge/44.18363.8131",
            ("Xbox One", "44", "Xbox One", "", "appliance"),
        );
    }

    #[test]
    fn bots_keep_woothee_names() {
        let a = classify(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        );
        assert!(a.bot.is_some());
        assert_eq!(
            (&*a.browser, &*a.browser_major, &*a.os, &*a.os_version),
            ("Safari", "13", "Mac OSX", "10.15.7")
        );
    }
}
