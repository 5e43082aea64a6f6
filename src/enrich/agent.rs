//! User agents → browser, operating system, device class and bot, once per distinct agent.
//!
//! The project's bot table (`data/bots.tsv`, compiled in) is asked first: woothee's data
//! stops in 2021, names no AI crawler and takes some bots for browsers. Then woothee
//! (1–3 µs a call, which is why this runs per distinct agent and never per line). Agents
//! that neither knows but that look like bots (a `…bot/1.0` token, `crawler`, `spider`, a
//! `+http://` contact URL) are bots of kind `crawler`, named after their token. An empty
//! user agent is a bot of kind `unknown`: browsers always send one.

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
    pub browser_version: Text,
    pub os: Text,
    pub os_version: Text,
    /// woothee's category: pc, smartphone, mobilephone, appliance, crawler, misc, unknown.
    pub device: Text,
    pub bot: Option<Bot>,
}

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

/// Classifies one user agent (already unescaped display text).
pub fn classify(agent: &str) -> AgentInfo {
    let trimmed = agent.trim();
    let lower = trimmed.to_ascii_lowercase();
    let mut bot = if trimmed.is_empty() {
        Some(Bot {
            name: "(no user agent)".into(),
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
    let (browser, browser_version, os, os_version, device) = match &parsed {
        Some(r) => (
            known(r.name),
            known(r.version),
            known(r.os),
            known(&r.os_version),
            Text::from(r.category.to_ascii_lowercase()),
        ),
        None => (
            "Unknown".into(),
            "".into(),
            "Unknown".into(),
            "".into(),
            "unknown".into(),
        ),
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
    AgentInfo {
        browser,
        browser_version,
        os,
        os_version,
        device,
        bot,
    }
}

fn known(s: &str) -> Text {
    Text::from(if s == "UNKNOWN" { "Unknown" } else { s })
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
            (&*a.browser, &*a.os, &*a.device),
            ("Chrome", "Windows 10", "pc")
        );
        let a = classify(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        );
        assert_eq!(
            (&*a.browser, &*a.os, &*a.device),
            ("Safari", "iPhone", "smartphone")
        );
        let a = classify("something odd");
        assert_eq!((&*a.browser, &*a.device), ("Unknown", "unknown"));
    }
}
