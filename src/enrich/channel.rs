//! Channels: where a session came from, as GA4's default channel grouping names it.
//!
//! A session's acquisition is decided once per distinct (campaign tags, referrer) pair:
//! [`acquisition`] turns the landing URL's tags or click id, or else the referrer, into a
//! source and medium, and [`channel_of`] files that source/medium/campaign under a channel
//! with GA4's rules, in GA4's order, plus one channel of accesslens's own: AI Assistants.

use std::borrow::Cow;
use std::fmt;

use super::campaign::{Campaign, ClickId};
use super::sources::{self, ReferrerSource, SourceCategory};

/// A channel of GA4's default channel grouping, or AI Assistants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Direct,
    CrossNetwork,
    PaidShopping,
    PaidSearch,
    PaidSocial,
    PaidVideo,
    Display,
    PaidOther,
    AiAssistants,
    OrganicShopping,
    OrganicSocial,
    OrganicVideo,
    OrganicSearch,
    Email,
    Affiliates,
    Referral,
    Audio,
    Sms,
    MobilePush,
    Unassigned,
}

impl Channel {
    /// Every channel, in the order its rule is tried.
    pub const ALL: [Channel; 20] = [
        Channel::Direct,
        Channel::CrossNetwork,
        Channel::PaidShopping,
        Channel::PaidSearch,
        Channel::PaidSocial,
        Channel::PaidVideo,
        Channel::Display,
        Channel::PaidOther,
        Channel::AiAssistants,
        Channel::OrganicShopping,
        Channel::OrganicSocial,
        Channel::OrganicVideo,
        Channel::OrganicSearch,
        Channel::Email,
        Channel::Affiliates,
        Channel::Referral,
        Channel::Audio,
        Channel::Sms,
        Channel::MobilePush,
        Channel::Unassigned,
    ];

    /// The channel's name as GA4 writes it: `Paid Search`, `Cross-network`, `SMS`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Direct => "Direct",
            Channel::CrossNetwork => "Cross-network",
            Channel::PaidShopping => "Paid Shopping",
            Channel::PaidSearch => "Paid Search",
            Channel::PaidSocial => "Paid Social",
            Channel::PaidVideo => "Paid Video",
            Channel::Display => "Display",
            Channel::PaidOther => "Paid Other",
            Channel::AiAssistants => "AI Assistants",
            Channel::OrganicShopping => "Organic Shopping",
            Channel::OrganicSocial => "Organic Social",
            Channel::OrganicVideo => "Organic Video",
            Channel::OrganicSearch => "Organic Search",
            Channel::Email => "Email",
            Channel::Affiliates => "Affiliates",
            Channel::Referral => "Referral",
            Channel::Audio => "Audio",
            Channel::Sms => "SMS",
            Channel::MobilePush => "Mobile Push Notifications",
            Channel::Unassigned => "Unassigned",
        }
    }

    /// The rule that files a session under this channel, in GA4's words.
    pub fn definition(self) -> &'static str {
        RULES
            .iter()
            .find(|rule| rule.channel == self)
            .map_or("", |rule| rule.definition)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the channel rules look at: a session's source, medium and campaign name (empty
/// when there is none), and the category of its source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touch<'a> {
    pub source: &'a str,
    pub medium: &'a str,
    pub campaign: &'a str,
    /// The kind of site the source is ([`sources::category_of`] for a tagged source,
    /// the referrer's for an untagged visit).
    pub category: Option<SourceCategory>,
}

/// A touch as the rules see it: lower case.
struct Lowered<'a> {
    source: Cow<'a, str>,
    medium: Cow<'a, str>,
    campaign: Cow<'a, str>,
    category: Option<SourceCategory>,
}

impl Lowered<'_> {
    fn is(&self, category: SourceCategory) -> bool {
        self.category == Some(category)
    }

    fn medium_in(&self, list: &[&str]) -> bool {
        list.contains(&&*self.medium)
    }
}

/// One channel rule: the channel, GA4's definition of it and the test that implements it.
struct Rule {
    channel: Channel,
    definition: &'static str,
    matches: fn(&Lowered<'_>) -> bool,
}

/// The channel rules, tried in order; the first that matches decides. This is GA4's default
/// channel grouping, with AI Assistants added after Paid Other. GA4's "matches a list of
/// search (social, video, shopping) sites" is the source's category here; all comparisons are
/// case-insensitive.
static RULES: &[Rule] = &[
    Rule {
        channel: Channel::Direct,
        definition: "Source exactly matches \"(direct)\" AND Medium is one of \
                     (\"(not set)\", \"(none)\")",
        matches: |t| t.source == "(direct)" && t.medium_in(&["(not set)", "(none)"]),
    },
    Rule {
        channel: Channel::CrossNetwork,
        definition: r#"Campaign Name contains "cross-network""#,
        matches: |t| t.campaign.contains("cross-network"),
    },
    Rule {
        channel: Channel::PaidShopping,
        definition: "(Source matches a list of shopping sites OR Campaign Name matches regex \
                     ^(.*(([^a-df-z]|^)shop|shopping).*)$) AND Medium matches regex \
                     ^(.*cp.*|ppc|retargeting|paid.*)$",
        matches: |t| {
            (t.is(SourceCategory::Shopping) || is_shopping_campaign(&t.campaign))
                && is_paid_medium(&t.medium)
        },
    },
    Rule {
        channel: Channel::PaidSearch,
        definition: "Source matches a list of search sites AND Medium matches regex \
                     ^(.*cp.*|ppc|retargeting|paid.*)$",
        matches: |t| t.is(SourceCategory::Search) && is_paid_medium(&t.medium),
    },
    Rule {
        channel: Channel::PaidSocial,
        definition: "Source matches a list of social sites AND Medium matches regex \
                     ^(.*cp.*|ppc|retargeting|paid.*)$",
        matches: |t| t.is(SourceCategory::Social) && is_paid_medium(&t.medium),
    },
    Rule {
        channel: Channel::PaidVideo,
        definition: "Source matches a list of video sites AND Medium matches regex \
                     ^(.*cp.*|ppc|retargeting|paid.*)$",
        matches: |t| t.is(SourceCategory::Video) && is_paid_medium(&t.medium),
    },
    Rule {
        channel: Channel::Display,
        definition: "Medium is one of (\"display\", \"banner\", \"expandable\", \
                     \"interstitial\", \"cpm\")",
        matches: |t| t.medium_in(&["display", "banner", "expandable", "interstitial", "cpm"]),
    },
    Rule {
        channel: Channel::PaidOther,
        definition: "Medium matches regex ^(.*cp.*|ppc|retargeting|paid.*)$",
        matches: |t| is_paid_medium(&t.medium),
    },
    Rule {
        channel: Channel::AiAssistants,
        definition: "Source matches a list of AI assistants (chatgpt.com, perplexity.ai, \
                     gemini.google.com, …); accesslens's addition, which GA4 files under \
                     Referral",
        matches: |t| t.is(SourceCategory::Ai),
    },
    Rule {
        channel: Channel::OrganicShopping,
        definition: "Source matches a list of shopping sites OR Campaign Name matches regex \
                     ^(.*(([^a-df-z]|^)shop|shopping).*)$",
        matches: |t| t.is(SourceCategory::Shopping) || is_shopping_campaign(&t.campaign),
    },
    Rule {
        channel: Channel::OrganicSocial,
        definition: "Source matches a list of social sites OR Medium is one of \
                     (\"social\", \"social-network\", \"social-media\", \"sm\", \
                     \"social network\", \"social media\")",
        matches: |t| {
            t.is(SourceCategory::Social)
                || t.medium_in(&[
                    "social",
                    "social-network",
                    "social-media",
                    "sm",
                    "social network",
                    "social media",
                ])
        },
    },
    Rule {
        channel: Channel::OrganicVideo,
        definition: "Source matches a list of video sites OR Medium matches regex ^(.*video.*)$",
        matches: |t| t.is(SourceCategory::Video) || t.medium.contains("video"),
    },
    Rule {
        channel: Channel::OrganicSearch,
        definition: r#"Source matches a list of search sites OR Medium exactly matches "organic""#,
        matches: |t| t.is(SourceCategory::Search) || t.medium == "organic",
    },
    Rule {
        channel: Channel::Email,
        definition: "Source or Medium is one of (\"email\", \"e-mail\", \"e_mail\", \
                     \"e mail\"); accesslens adds webmail referrers",
        matches: |t| {
            const EMAIL: [&str; 4] = ["email", "e-mail", "e_mail", "e mail"];
            t.is(SourceCategory::Email)
                || EMAIL.contains(&&*t.source)
                || EMAIL.contains(&&*t.medium)
        },
    },
    Rule {
        channel: Channel::Affiliates,
        definition: r#"Medium exactly matches "affiliate""#,
        matches: |t| t.medium == "affiliate",
    },
    Rule {
        channel: Channel::Referral,
        definition: r#"Medium is one of ("referral", "app", "link")"#,
        matches: |t| t.medium_in(&["referral", "app", "link"]),
    },
    Rule {
        channel: Channel::Audio,
        definition: r#"Medium exactly matches "audio""#,
        matches: |t| t.medium == "audio",
    },
    Rule {
        channel: Channel::Sms,
        definition: r#"Source exactly matches "sms" OR Medium exactly matches "sms""#,
        matches: |t| t.source == "sms" || t.medium == "sms",
    },
    Rule {
        channel: Channel::MobilePush,
        definition: "Medium ends with \"push\" OR Medium contains \"mobile\" or \
                     \"notification\" OR Source exactly matches \"firebase\"",
        matches: |t| {
            t.medium.ends_with("push")
                || t.medium.contains("mobile")
                || t.medium.contains("notification")
                || t.source == "firebase"
        },
    },
    Rule {
        channel: Channel::Unassigned,
        definition: "Anything else",
        matches: |_| true,
    },
];

/// GA4's paid-medium regex `^(.*cp.*|ppc|retargeting|paid.*)$`, on a lower-case medium.
fn is_paid_medium(medium: &str) -> bool {
    medium.contains("cp")
        || medium == "ppc"
        || medium == "retargeting"
        || medium.starts_with("paid")
}

/// GA4's shopping-campaign regex `^(.*(([^a-df-z]|^)shop|shopping).*)$`, on a lower-case
/// campaign name: `shopping` anywhere, or `shop` at the start or after anything but a
/// lower-case letter other than `e` (so `e-shop` and `eshop` match, `workshop` does not).
fn is_shopping_campaign(campaign: &str) -> bool {
    let bytes = campaign.as_bytes();
    campaign.contains("shopping")
        || campaign
            .match_indices("shop")
            .any(|(i, _)| i == 0 || !matches!(bytes[i - 1], b'a'..=b'd' | b'f'..=b'z'))
}

fn lower(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_uppercase) {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// The channel of a source/medium/campaign: the first rule of GA4's default channel grouping
/// (plus AI Assistants after Paid Other) that matches, comparing case-insensitively.
pub fn channel_of(touch: &Touch<'_>) -> Channel {
    let lowered = Lowered {
        source: lower(touch.source),
        medium: lower(touch.medium),
        campaign: lower(touch.campaign),
        category: touch.category,
    };
    RULES
        .iter()
        .find(|rule| (rule.matches)(&lowered))
        .map_or(Channel::Unassigned, |rule| rule.channel)
}

/// How a session's entry page view arrived.
#[derive(Debug, Clone, Copy)]
pub enum Arrival<'a> {
    /// No referrer.
    Direct,
    /// A referrer on the site itself (`--site-domain`).
    Internal,
    /// A referrer on another site: its lower-case host and what the source table knows of it.
    External {
        host: &'a str,
        referrer: &'a ReferrerSource,
    },
}

/// Where a session came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquisition {
    pub source: String,
    pub medium: String,
    /// The campaign name, when tags decided the source.
    pub campaign: Option<String>,
    /// The tagged keyword (`utm_term`), when tags decided the source.
    pub term: Option<String>,
    /// The tagged content (`utm_content`), when tags decided the source.
    pub content: Option<String>,
    /// The search keyword, or `(not provided)`, when the referrer is a search engine.
    pub keyword: Option<String>,
    /// The search engine's display name (`Google`, `Naver`), when the referrer is one.
    pub engine: Option<&'static str>,
    pub channel: Channel,
}

const NOT_SET: &str = "(not set)";

/// A session's source, medium and channel, from the campaign tags of its landing URL and
/// how it arrived. The first of these that applies decides:
///
/// 1. **Campaign tags** naming a source, medium or campaign (`utm_*`, `mtm_*`, `pk_*`):
///    source and medium as tagged, `(not set)` when missing; campaign, term and content as
///    tagged. The source's category is [`sources::category_of`] of the tagged source.
/// 2. **A click id**, for auto-tagged ads:
///
///    | click id | source / medium | category |
///    |---|---|---|
///    | `gclid`, `gbraid`, `wbraid` | `google` / `cpc` | search |
///    | `dclid` | `google` / `cpm` | none, so the channel is Display |
///    | `msclkid` | `bing` / `cpc` | search |
///    | `ttclid` | `tiktok` / `cpc` | social |
///    | `twclid` | `x` / `cpc` | social |
///    | `li_fat_id` | `linkedin` / `cpc` | social |
///    | `yclid` | `yandex` / `cpc` | search |
///    | `fbclid` | `facebook` / `referral` | social: on all Facebook links, organic too |
/// 3. **An external referrer**: a known search engine is its source name (`google`) /
///    `organic`; a known webmail is its source name / `email`; another known source (social,
///    video, shopping, AI assistant) is its source name / `referral`; an unknown site is its
///    host without a leading `www.` (`(not set)` if that leaves nothing) / `referral`. The
///    category is the known source's.
/// 4. Otherwise, **direct**: `(direct)` / `(none)`. A referrer on the site itself is
///    navigation, never a source, so it counts as direct too.
///
/// Whatever decides the source, a search-engine referrer's keyword and engine are kept in
/// `keyword` and `engine` (so `utm_term` and the searched words can be told apart). The
/// channel is [`channel_of`] the source, medium, campaign and category.
pub fn acquisition(campaign: Option<&Campaign>, arrival: Arrival<'_>) -> Acquisition {
    let (keyword, engine) = match arrival {
        Arrival::External { referrer, .. } => match referrer.known {
            Some(known) if known.category == SourceCategory::Search => {
                (referrer.keyword.clone(), Some(known.name))
            }
            _ => (None, None),
        },
        Arrival::Direct | Arrival::Internal => (None, None),
    };
    let (source, medium, tags, category): (&str, &str, Option<&Campaign>, _) =
        if let Some(tags) = campaign.filter(|c| c.is_tagged()) {
            let source = tags.source.as_deref().unwrap_or(NOT_SET);
            let medium = tags.medium.as_deref().unwrap_or(NOT_SET);
            (source, medium, Some(tags), sources::category_of(source))
        } else if let Some(id) = campaign.and_then(|c| c.click_id) {
            let (source, medium, category) = click_source(id);
            (source, medium, None, category)
        } else if let Arrival::External { host, referrer } = arrival {
            let category = referrer.known.map(|k| k.category);
            let medium = match category {
                Some(SourceCategory::Search) => "organic",
                Some(SourceCategory::Email) => "email",
                _ => "referral",
            };
            let source = match referrer.known {
                Some(known) => known.source,
                None => match host.strip_prefix("www.").unwrap_or(host) {
                    "" => NOT_SET,
                    site => site,
                },
            };
            (source, medium, None, category)
        } else {
            ("(direct)", "(none)", None, None)
        };
    let campaign_name = tags.and_then(|t| t.campaign.clone());
    let channel = channel_of(&Touch {
        source,
        medium,
        campaign: campaign_name.as_deref().unwrap_or(""),
        category,
    });
    Acquisition {
        source: source.to_owned(),
        medium: medium.to_owned(),
        campaign: campaign_name,
        term: tags.and_then(|t| t.term.clone()),
        content: tags.and_then(|t| t.content.clone()),
        keyword,
        engine,
        channel,
    }
}

/// The source, medium and source category a click id stands for. The category is set here
/// rather than looked up, so that a click id means the same whatever the source table holds;
/// `dclid` has none, so that `google` / `cpm` is Display rather than Paid Search.
fn click_source(id: ClickId) -> (&'static str, &'static str, Option<SourceCategory>) {
    use SourceCategory::{Search, Social};
    match id {
        ClickId::GoogleAds => ("google", "cpc", Some(Search)),
        ClickId::GoogleDisplay => ("google", "cpm", None),
        ClickId::MicrosoftAds => ("bing", "cpc", Some(Search)),
        ClickId::TikTok => ("tiktok", "cpc", Some(Social)),
        ClickId::X => ("x", "cpc", Some(Social)),
        ClickId::LinkedIn => ("linkedin", "cpc", Some(Social)),
        ClickId::Yandex => ("yandex", "cpc", Some(Search)),
        ClickId::Facebook => ("facebook", "referral", Some(Social)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::enrich::sources::KnownSource;
    use SourceCategory::{Ai, Email, Search, Shopping, Social, Video};

    fn channel(
        source: &str,
        medium: &str,
        campaign: &str,
        category: Option<SourceCategory>,
    ) -> Channel {
        channel_of(&Touch {
            source,
            medium,
            campaign,
            category,
        })
    }

    /// Source and medium only, no campaign, no category.
    fn sm(source: &str, medium: &str) -> Channel {
        channel(source, medium, "", None)
    }

    #[test]
    fn rules_follow_the_channel_order_one_each() {
        let order: Vec<Channel> = RULES.iter().map(|r| r.channel).collect();
        assert_eq!(order, Channel::ALL);
        for rule in RULES {
            assert!(!rule.definition.is_empty());
            assert_eq!(rule.channel.definition(), rule.definition);
        }
    }

    #[test]
    fn names_are_unique() {
        let names: HashSet<&str> = Channel::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Channel::ALL.len());
        assert_eq!(Channel::PaidSearch.name(), "Paid Search");
        assert_eq!(Channel::AiAssistants.to_string(), "AI Assistants");
        assert_eq!(Channel::MobilePush.name(), "Mobile Push Notifications");
        assert_eq!(Channel::CrossNetwork.name(), "Cross-network");
        assert_eq!(Channel::Sms.name(), "SMS");
    }

    #[test]
    fn every_channel_is_reachable() {
        let cases = [
            channel("(direct)", "(none)", "", None),
            channel("google", "cpc", "Summer cross-network", Some(Search)),
            channel("amazon", "cpc", "", Some(Shopping)),
            channel("google", "cpc", "", Some(Search)),
            channel("facebook", "paid_social", "", Some(Social)),
            channel("youtube", "cpv", "", Some(Video)),
            sm("dv360", "display"),
            sm("partner", "ppc"),
            channel("chatgpt.com", "referral", "", Some(Ai)),
            channel("amazon", "referral", "", Some(Shopping)),
            channel("facebook", "referral", "", Some(Social)),
            channel("youtube", "referral", "", Some(Video)),
            channel("google", "organic", "", Some(Search)),
            sm("newsletter", "email"),
            sm("partner", "affiliate"),
            sm("blog.example", "referral"),
            sm("podcast", "audio"),
            sm("sms", "text"),
            sm("app", "push"),
            sm("", ""),
        ];
        let reached: HashSet<Channel> = cases.into_iter().collect();
        assert_eq!(reached, Channel::ALL.into_iter().collect());
        // And each case hits the channel of the same position: the rules in order.
        assert_eq!(cases, Channel::ALL);
    }

    #[test]
    fn direct() {
        assert_eq!(sm("(direct)", "(none)"), Channel::Direct);
        assert_eq!(sm("(direct)", "(not set)"), Channel::Direct);
        assert_eq!(sm("(DIRECT)", "(None)"), Channel::Direct);
        // Tagged "direct" with another medium is not Direct.
        assert_eq!(sm("(direct)", "referral"), Channel::Referral);
        assert_eq!(sm("direct", "(none)"), Channel::Unassigned);
    }

    #[test]
    fn cross_network() {
        assert_eq!(
            channel("google", "cpc", "pmax-Cross-Network", Some(Search)),
            Channel::CrossNetwork
        );
        assert_eq!(
            channel("google", "cpc", "cross network", Some(Search)),
            Channel::PaidSearch
        );
    }

    #[test]
    fn paid_shopping() {
        assert_eq!(
            channel("amazon", "cpc", "", Some(Shopping)),
            Channel::PaidShopping
        );
        assert_eq!(
            channel("google", "cpc", "summer-shop", Some(Search)),
            Channel::PaidShopping
        );
        assert_eq!(
            sm_c("x", "retargeting", "Shopping Q3"),
            Channel::PaidShopping
        );
        assert_eq!(sm_c("x", "paid", "shop-now"), Channel::PaidShopping);
        // The regex's guard: "shop" after a letter other than "e" does not count.
        assert_eq!(
            channel("google", "cpc", "workshop", Some(Search)),
            Channel::PaidSearch
        );
        assert_eq!(sm_c("x", "cpc", "bishop"), Channel::PaidOther);
        // A shopping source with an organic medium is Organic Shopping.
        assert_eq!(
            channel("amazon", "referral", "", Some(Shopping)),
            Channel::OrganicShopping
        );
    }

    fn sm_c(source: &str, medium: &str, campaign: &str) -> Channel {
        channel(source, medium, campaign, None)
    }

    #[test]
    fn shopping_regex() {
        for yes in [
            "shop",
            "summer-shop",
            "eshop",
            "e-shop",
            "2shop",
            "shopping",
            "workshopping",
            "Zürich shop",
            "ü-shop",
        ] {
            assert!(is_shopping_campaign(&lower(yes)), "{yes}");
        }
        for no in ["workshop", "bishop", "WORKSHOP", "sho", "", "shoe"] {
            assert!(!is_shopping_campaign(&lower(no)), "{no}");
        }
        // A non-ASCII letter before "shop" is not in [a-df-z].
        assert!(is_shopping_campaign("äshop"));
    }

    #[test]
    fn paid_medium_regex() {
        for yes in [
            "cpc",
            "CPM",
            "cpv",
            "xcpx",
            "ppc",
            "retargeting",
            "paid",
            "paid_social",
            "Paid Search",
        ] {
            assert!(is_paid_medium(&lower(yes)), "{yes}");
        }
        for no in ["organic", "ppcx", "retargeting2", "unpaid", "c p", ""] {
            assert!(!is_paid_medium(&lower(no)), "{no}");
        }
    }

    /// The hand-written regexes agree with GA4's regexes, compiled case-insensitively, on
    /// every string of a small alphabet up to five letters and on a few longer names.
    #[test]
    fn hand_regexes_agree_with_ga4s() {
        let paid = regex::Regex::new("(?i)^(.*cp.*|ppc|retargeting|paid.*)$").unwrap();
        let shop = regex::Regex::new("(?i)^(.*(([^a-df-z]|^)shop|shopping).*)$").unwrap();
        let alphabet = ["s", "h", "o", "p", "c", "e", "k", "-", "P", "ä", "i"];
        let mut words = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(last.iter().cloned());
        }
        words.extend(
            [
                "retargeting",
                "PPC",
                "paid_social",
                "workshopping",
                "Black Friday Shop",
                "WORKSHOP",
                "e-shop",
                "eshop",
                "shopify",
            ]
            .map(str::to_owned),
        );
        for word in &words {
            let lowered = lower(word);
            assert_eq!(is_paid_medium(&lowered), paid.is_match(word), "{word:?}");
            assert_eq!(
                is_shopping_campaign(&lowered),
                shop.is_match(word),
                "{word:?}"
            );
        }
    }

    #[test]
    fn paid_search() {
        assert_eq!(
            channel("google", "cpc", "", Some(Search)),
            Channel::PaidSearch
        );
        assert_eq!(
            channel("Bing", "PPC", "brand", Some(Search)),
            Channel::PaidSearch
        );
        // The same medium without a search source falls through to Paid Other.
        assert_eq!(channel("google", "cpc", "", None), Channel::PaidOther);
    }

    #[test]
    fn paid_social() {
        assert_eq!(
            channel("facebook", "cpc", "", Some(Social)),
            Channel::PaidSocial
        );
        assert_eq!(
            channel("facebook", "social", "", Some(Social)),
            Channel::OrganicSocial
        );
    }

    #[test]
    fn paid_video() {
        assert_eq!(
            channel("youtube", "cpv", "", Some(Video)),
            Channel::PaidVideo
        );
        assert_eq!(
            channel("youtube", "video", "", Some(Video)),
            Channel::OrganicVideo
        );
    }

    #[test]
    fn display() {
        for medium in [
            "display",
            "banner",
            "expandable",
            "interstitial",
            "cpm",
            "Display",
        ] {
            assert_eq!(sm("dv360", medium), Channel::Display, "{medium}");
        }
        // A search source with "cpm" is paid search first: "cpm" matches the paid regex.
        assert_eq!(
            channel("google", "cpm", "", Some(Search)),
            Channel::PaidSearch
        );
        assert_eq!(sm("dv360", "displays"), Channel::Unassigned);
    }

    #[test]
    fn paid_other() {
        assert_eq!(sm("partner", "cpc"), Channel::PaidOther);
        assert_eq!(sm("partner", "paid-newsletter"), Channel::PaidOther);
        // A paid medium beats the AI category: paid rules come first.
        assert_eq!(
            channel("chatgpt.com", "cpc", "", Some(Ai)),
            Channel::PaidOther
        );
    }

    #[test]
    fn ai_assistants() {
        assert_eq!(
            channel("chatgpt.com", "referral", "", Some(Ai)),
            Channel::AiAssistants
        );
        assert_eq!(
            channel("perplexity", "(not set)", "", Some(Ai)),
            Channel::AiAssistants
        );
        // Without the category it is a plain referral.
        assert_eq!(sm("chatgpt.com", "referral"), Channel::Referral);
    }

    #[test]
    fn organic_shopping() {
        assert_eq!(
            channel("amazon", "referral", "", Some(Shopping)),
            Channel::OrganicShopping
        );
        assert_eq!(
            sm_c("newsletter", "email", "summer-shop"),
            Channel::OrganicShopping
        );
        // "workshop" is not a shopping campaign.
        assert_eq!(sm_c("newsletter", "email", "workshop"), Channel::Email);
    }

    #[test]
    fn organic_social() {
        assert_eq!(
            channel("l.instagram.com", "referral", "", Some(Social)),
            Channel::OrganicSocial
        );
        for medium in [
            "social",
            "social-network",
            "social-media",
            "sm",
            "social network",
            "Social Media",
        ] {
            assert_eq!(sm("mastodon", medium), Channel::OrganicSocial, "{medium}");
        }
        assert_eq!(sm("mastodon", "socials"), Channel::Unassigned);
    }

    #[test]
    fn organic_video() {
        assert_eq!(
            channel("vimeo", "referral", "", Some(Video)),
            Channel::OrganicVideo
        );
        assert_eq!(sm("webinar", "Video-Embed"), Channel::OrganicVideo);
    }

    #[test]
    fn organic_search() {
        assert_eq!(
            channel("google", "organic", "", Some(Search)),
            Channel::OrganicSearch
        );
        assert_eq!(
            channel("duckduckgo", "referral", "", Some(Search)),
            Channel::OrganicSearch
        );
        assert_eq!(sm("some-engine", "Organic"), Channel::OrganicSearch);
        assert_eq!(sm("some-engine", "organic-ish"), Channel::Unassigned);
    }

    #[test]
    fn email() {
        for value in ["email", "e-mail", "e_mail", "e mail", "Email", "E-Mail"] {
            assert_eq!(sm("newsletter", value), Channel::Email, "medium {value}");
            assert_eq!(sm(value, "(not set)"), Channel::Email, "source {value}");
        }
        // A webmail referrer.
        assert_eq!(
            channel("mail.yahoo.com", "referral", "", Some(Email)),
            Channel::Email
        );
        assert_eq!(sm("newsletter", "emails"), Channel::Unassigned);
    }

    #[test]
    fn affiliates() {
        assert_eq!(sm("partner", "affiliate"), Channel::Affiliates);
        assert_eq!(sm("partner", "Affiliate"), Channel::Affiliates);
        assert_eq!(sm("partner", "affiliates"), Channel::Unassigned);
    }

    #[test]
    fn referral() {
        for medium in ["referral", "app", "link", "Referral"] {
            assert_eq!(sm("blog.example", medium), Channel::Referral, "{medium}");
        }
        assert_eq!(sm("blog.example", "links"), Channel::Unassigned);
    }

    #[test]
    fn audio() {
        assert_eq!(sm("spotify-ads", "audio"), Channel::Audio);
        assert_eq!(sm("spotify-ads", "audio-ad"), Channel::Unassigned);
    }

    #[test]
    fn sms() {
        assert_eq!(sm("sms", "text"), Channel::Sms);
        assert_eq!(sm("twilio", "SMS"), Channel::Sms);
        assert_eq!(sm("twilio", "sms-blast"), Channel::Unassigned);
    }

    #[test]
    fn mobile_push() {
        assert_eq!(sm("app", "web-push"), Channel::MobilePush);
        assert_eq!(sm("app", "Mobile"), Channel::MobilePush);
        assert_eq!(sm("app", "in-app-notification"), Channel::MobilePush);
        assert_eq!(sm("firebase", "(not set)"), Channel::MobilePush);
        assert_eq!(sm("Firebase", "x"), Channel::MobilePush);
        assert_eq!(sm("app", "pushed"), Channel::Unassigned);
    }

    #[test]
    fn unassigned() {
        assert_eq!(sm("", ""), Channel::Unassigned);
        assert_eq!(sm("(not set)", "(not set)"), Channel::Unassigned);
        assert_eq!(sm("newsletter", "weekly"), Channel::Unassigned);
    }

    // Acquisition.

    const GOOGLE: KnownSource = KnownSource {
        name: "Google",
        source: "google",
        category: Search,
    };

    fn search_referrer(keyword: &str) -> ReferrerSource {
        ReferrerSource {
            known: Some(GOOGLE),
            keyword: Some(keyword.to_owned()),
        }
    }

    fn tagged(source: Option<&str>, medium: Option<&str>, campaign: Option<&str>) -> Campaign {
        Campaign {
            source: source.map(str::to_owned),
            medium: medium.map(str::to_owned),
            campaign: campaign.map(str::to_owned),
            ..Campaign::default()
        }
    }

    #[test]
    fn tags_decide_first() {
        let tags = Campaign {
            term: Some("shoes".into()),
            content: Some("hero".into()),
            ..tagged(Some("Newsletter"), Some("Email"), Some("Spring"))
        };
        let unknown = ReferrerSource::default();
        let a = acquisition(
            Some(&tags),
            Arrival::External {
                host: "blog.example",
                referrer: &unknown,
            },
        );
        assert_eq!(
            a,
            Acquisition {
                source: "Newsletter".into(),
                medium: "Email".into(),
                campaign: Some("Spring".into()),
                term: Some("shoes".into()),
                content: Some("hero".into()),
                keyword: None,
                engine: None,
                channel: Channel::Email,
            }
        );
        // Missing source or medium is "(not set)"; the campaign name alone is enough.
        let a = acquisition(
            Some(&tagged(None, None, Some("spring-shop"))),
            Arrival::Direct,
        );
        assert_eq!((a.source.as_str(), a.medium.as_str()), (NOT_SET, NOT_SET));
        assert_eq!(a.channel, Channel::OrganicShopping);
        // Tags win over a click id.
        let tags = Campaign {
            click_id: Some(ClickId::GoogleAds),
            ..tagged(Some("newsletter"), Some("email"), None)
        };
        let a = acquisition(Some(&tags), Arrival::Internal);
        assert_eq!(
            (a.source.as_str(), a.medium.as_str()),
            ("newsletter", "email")
        );
        // The category of a tagged source comes from the source table.
        let tags = tagged(Some("ChatGPT.com"), Some("referral"), None);
        let a = acquisition(Some(&tags), Arrival::Direct);
        let expected = channel(
            "ChatGPT.com",
            "referral",
            "",
            sources::category_of("ChatGPT.com"),
        );
        assert_eq!(a.channel, expected);
    }

    #[test]
    fn tags_on_a_search_referrer_keep_the_keyword() {
        let tags = Campaign {
            term: Some("utm words".into()),
            ..tagged(Some("newsletter"), Some("email"), Some("spring"))
        };
        let google = search_referrer("searched words");
        let a = acquisition(
            Some(&tags),
            Arrival::External {
                host: "www.google.com",
                referrer: &google,
            },
        );
        assert_eq!(a.source, "newsletter");
        assert_eq!(a.medium, "email");
        assert_eq!(a.term.as_deref(), Some("utm words"));
        assert_eq!(a.keyword.as_deref(), Some("searched words"));
        assert_eq!(a.engine, Some("Google"));
        assert_eq!(a.channel, Channel::Email);
    }

    #[test]
    fn click_ids_decide_second() {
        let cases = [
            (ClickId::GoogleAds, "google", "cpc", Channel::PaidSearch),
            (ClickId::GoogleDisplay, "google", "cpm", Channel::Display),
            (ClickId::MicrosoftAds, "bing", "cpc", Channel::PaidSearch),
            (ClickId::TikTok, "tiktok", "cpc", Channel::PaidSocial),
            (ClickId::X, "x", "cpc", Channel::PaidSocial),
            (ClickId::LinkedIn, "linkedin", "cpc", Channel::PaidSocial),
            (ClickId::Yandex, "yandex", "cpc", Channel::PaidSearch),
            (
                ClickId::Facebook,
                "facebook",
                "referral",
                Channel::OrganicSocial,
            ),
        ];
        let unknown = ReferrerSource::default();
        for (id, source, medium, channel) in cases {
            // Untagged apart from the click id and a term, which alone decides nothing.
            let tags = Campaign {
                click_id: Some(id),
                term: Some("ignored".into()),
                ..Campaign::default()
            };
            let a = acquisition(
                Some(&tags),
                Arrival::External {
                    host: "blog.example",
                    referrer: &unknown,
                },
            );
            assert_eq!(
                a,
                Acquisition {
                    source: source.into(),
                    medium: medium.into(),
                    campaign: None,
                    term: None,
                    content: None,
                    keyword: None,
                    engine: None,
                    channel,
                },
                "{id:?}"
            );
        }
        // A Google Ads click from Google's results keeps the engine and keyword.
        let google = search_referrer("(not provided)");
        let tags = Campaign {
            click_id: Some(ClickId::GoogleAds),
            ..Campaign::default()
        };
        let a = acquisition(
            Some(&tags),
            Arrival::External {
                host: "www.google.com",
                referrer: &google,
            },
        );
        assert_eq!((a.source.as_str(), a.medium.as_str()), ("google", "cpc"));
        assert_eq!(a.keyword.as_deref(), Some("(not provided)"));
        assert_eq!(a.engine, Some("Google"));
    }

    #[test]
    fn referrers_decide_third() {
        let google = search_referrer("running shoes");
        let a = acquisition(
            None,
            Arrival::External {
                host: "www.google.com",
                referrer: &google,
            },
        );
        assert_eq!(
            a,
            Acquisition {
                source: "google".into(),
                medium: "organic".into(),
                campaign: None,
                term: None,
                content: None,
                keyword: Some("running shoes".into()),
                engine: Some("Google"),
                channel: Channel::OrganicSearch,
            }
        );

        let known = |name, source, category| ReferrerSource {
            known: Some(KnownSource {
                name,
                source,
                category,
            }),
            keyword: None,
        };
        let cases = [
            (
                known("Gmail", "gmail", Email),
                "mail.google.com",
                "gmail",
                "email",
                Channel::Email,
            ),
            (
                known("Facebook", "facebook", Social),
                "l.facebook.com",
                "facebook",
                "referral",
                Channel::OrganicSocial,
            ),
            (
                known("YouTube", "youtube", Video),
                "m.youtube.com",
                "youtube",
                "referral",
                Channel::OrganicVideo,
            ),
            (
                known("Amazon", "amazon", Shopping),
                "www.amazon.com",
                "amazon",
                "referral",
                Channel::OrganicShopping,
            ),
            (
                known("ChatGPT", "chatgpt.com", Ai),
                "chatgpt.com",
                "chatgpt.com",
                "referral",
                Channel::AiAssistants,
            ),
            (
                ReferrerSource::default(),
                "www.blog.example",
                "blog.example",
                "referral",
                Channel::Referral,
            ),
            (
                ReferrerSource::default(),
                "news.example",
                "news.example",
                "referral",
                Channel::Referral,
            ),
        ];
        for (referrer, host, source, medium, channel) in cases {
            let a = acquisition(
                None,
                Arrival::External {
                    host,
                    referrer: &referrer,
                },
            );
            assert_eq!(a.source, source, "{host}");
            assert_eq!(a.medium, medium, "{host}");
            assert_eq!(a.channel, channel, "{host}");
            assert_eq!((a.keyword, a.engine), (None, None), "{host}");
        }
        // Tags that name no source, medium or campaign leave the referrer in charge.
        let tags = Campaign {
            term: Some("shoes".into()),
            ..Campaign::default()
        };
        let unknown = ReferrerSource::default();
        let a = acquisition(
            Some(&tags),
            Arrival::External {
                host: "blog.example",
                referrer: &unknown,
            },
        );
        assert_eq!(
            (a.source.as_str(), a.medium.as_str(), a.term),
            ("blog.example", "referral", None)
        );
    }

    #[test]
    fn otherwise_direct() {
        let direct = Acquisition {
            source: "(direct)".into(),
            medium: "(none)".into(),
            campaign: None,
            term: None,
            content: None,
            keyword: None,
            engine: None,
            channel: Channel::Direct,
        };
        assert_eq!(acquisition(None, Arrival::Direct), direct);
        // A self-referral is never a source.
        assert_eq!(acquisition(None, Arrival::Internal), direct);
        let untagged = Campaign {
            content: Some("hero".into()),
            ..Campaign::default()
        };
        assert_eq!(acquisition(Some(&untagged), Arrival::Internal), direct);
    }
}
