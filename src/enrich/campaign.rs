//! Campaign tags of a landing URL, once per distinct request.
//!
//! Marketers tag the links they place with query parameters: Google Analytics' `utm_*`,
//! Matomo's `mtm_*` or the older Piwik `pk_*`. Ad platforms add a click id of their own
//! (`gclid`, `msclkid`, `fbclid`, …). This module reads both from a request target; deciding
//! what they mean for a session is [`super::channel::acquisition`]'s job.

use super::query::{decode_text, normalize_space, params, percent_decode, query_of};

/// The ad platform a click id names, from the parameter the platform adds to its links.
///
/// | parameter | click id |
/// |---|---|
/// | `gclid`, `gbraid`, `wbraid` | [`ClickId::GoogleAds`] |
/// | `dclid` | [`ClickId::GoogleDisplay`] (Display & Video 360, Campaign Manager 360) |
/// | `msclkid` | [`ClickId::MicrosoftAds`] |
/// | `ttclid` | [`ClickId::TikTok`] |
/// | `twclid` | [`ClickId::X`] |
/// | `li_fat_id` | [`ClickId::LinkedIn`] |
/// | `yclid` | [`ClickId::Yandex`] |
/// | `fbclid` | [`ClickId::Facebook`] (added to every outbound link, paid or not) |
///
/// Parameter names are compared case-insensitively and an empty value is no click id. When
/// a URL carries several, the first in this table wins: `fbclid` comes last because
/// Facebook adds it to links that another platform's ad may also have tagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClickId {
    GoogleAds,
    GoogleDisplay,
    MicrosoftAds,
    TikTok,
    X,
    LinkedIn,
    Yandex,
    Facebook,
}

impl ClickId {
    /// Display name: `Google Ads`, `Microsoft Ads`, `Facebook`.
    pub fn name(self) -> &'static str {
        match self {
            ClickId::GoogleAds => "Google Ads",
            ClickId::GoogleDisplay => "Google Display",
            ClickId::MicrosoftAds => "Microsoft Ads",
            ClickId::TikTok => "TikTok",
            ClickId::X => "X",
            ClickId::LinkedIn => "LinkedIn",
            ClickId::Yandex => "Yandex",
            ClickId::Facebook => "Facebook",
        }
    }
}

/// Click-id parameters, in the order they win (see [`ClickId`]).
const CLICK_IDS: [(&str, ClickId); 10] = [
    ("gclid", ClickId::GoogleAds),
    ("gbraid", ClickId::GoogleAds),
    ("wbraid", ClickId::GoogleAds),
    ("dclid", ClickId::GoogleDisplay),
    ("msclkid", ClickId::MicrosoftAds),
    ("ttclid", ClickId::TikTok),
    ("twclid", ClickId::X),
    ("li_fat_id", ClickId::LinkedIn),
    ("yclid", ClickId::Yandex),
    ("fbclid", ClickId::Facebook),
];

/// The campaign tags of a landing URL. Values are decoded and whitespace-normalised but keep
/// the case the marketer typed; an empty value is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Campaign {
    pub source: Option<String>,
    pub medium: Option<String>,
    /// The campaign name.
    pub campaign: Option<String>,
    /// The paid keyword (`utm_term`).
    pub term: Option<String>,
    /// What was clicked, to tell apart links of one campaign (`utm_content`).
    pub content: Option<String>,
    pub click_id: Option<ClickId>,
}

impl Campaign {
    /// Whether the tags name a source, medium or campaign: only then do they decide where a
    /// session came from.
    pub fn is_tagged(&self) -> bool {
        self.source.is_some() || self.medium.is_some() || self.campaign.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Source,
    Medium,
    Campaign,
    Term,
    Content,
}

/// Campaign parameters in order of precedence: for each field, UTM wins over Matomo, which
/// wins over Piwik. `utm_id` (a campaign id, not a name) is not read.
const TAGS: [(&str, Field); 18] = [
    ("utm_source", Field::Source),
    ("utm_medium", Field::Medium),
    ("utm_campaign", Field::Campaign),
    ("utm_term", Field::Term),
    ("utm_content", Field::Content),
    ("mtm_source", Field::Source),
    ("mtm_medium", Field::Medium),
    ("mtm_campaign", Field::Campaign),
    ("mtm_cid", Field::Campaign),
    ("mtm_keyword", Field::Term),
    ("mtm_content", Field::Content),
    ("pk_source", Field::Source),
    ("pk_medium", Field::Medium),
    ("pk_campaign", Field::Campaign),
    ("pk_cpn", Field::Campaign),
    ("pk_kwd", Field::Term),
    ("pk_keyword", Field::Term),
    ("pk_content", Field::Content),
];

/// Campaign tags of a request target or URL (`/landing?utm_source=x&...`), `None` when it
/// has none.
///
/// - Tags: `utm_source`, `utm_medium`, `utm_campaign`, `utm_term`, `utm_content`; Matomo's
///   `mtm_source`, `mtm_medium`, `mtm_campaign` (or `mtm_cid`), `mtm_keyword`,
///   `mtm_content`; Piwik's `pk_source`, `pk_medium`, `pk_campaign` (or `pk_cpn`),
///   `pk_kwd` (or `pk_keyword`), `pk_content`. When several name the same field, UTM wins,
///   then Matomo, then Piwik; among repeats of one parameter, the first.
/// - Click ids: see [`ClickId`].
/// - Names are compared case-insensitively. Values are percent-decoded with `+` as a space,
///   read as UTF-8 (bytes that are not become U+FFFD), and whitespace-normalised; a value
///   that ends up empty counts as absent, so a lower-precedence tag can fill the field.
pub fn campaign_of(target: &[u8]) -> Option<Campaign> {
    let query = query_of(target);
    if query.is_empty() {
        return None;
    }
    // For each field: the rank in `TAGS` of the parameter that filled it, and its value.
    let mut fields: [Option<(usize, String)>; 5] = Default::default();
    let mut click: Option<(usize, ClickId)> = None;
    for (raw_name, raw_value) in params(query) {
        let name = percent_decode(raw_name, true);
        if let Some(rank) = TAGS
            .iter()
            .position(|(tag, _)| name.eq_ignore_ascii_case(tag.as_bytes()))
        {
            let slot = &mut fields[TAGS[rank].1 as usize];
            if slot.as_ref().is_none_or(|(held, _)| rank < *held)
                && let Some(value) = value_of(raw_value)
            {
                *slot = Some((rank, value));
            }
        } else if let Some(rank) = CLICK_IDS
            .iter()
            .position(|(param, _)| name.eq_ignore_ascii_case(param.as_bytes()))
            && click.is_none_or(|(held, _)| rank < held)
            && value_of(raw_value).is_some()
        {
            click = Some((rank, CLICK_IDS[rank].1));
        }
    }
    let [source, medium, campaign, term, content] = fields.map(|f| f.map(|(_, value)| value));
    let campaign = Campaign {
        source,
        medium,
        campaign,
        term,
        content,
        click_id: click.map(|(_, id)| id),
    };
    (campaign != Campaign::default()).then_some(campaign)
}

/// A parameter value, decoded and normalised; `None` when nothing is left.
fn value_of(raw: &[u8]) -> Option<String> {
    let text = normalize_space(&decode_text(&percent_decode(raw, true), None));
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(target: &str) -> Campaign {
        campaign_of(target.as_bytes()).expect("campaign tags")
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn no_tags_is_none() {
        assert_eq!(campaign_of(b"/"), None);
        assert_eq!(campaign_of(b"/landing"), None);
        assert_eq!(campaign_of(b"/landing?"), None);
        assert_eq!(campaign_of(b"/search?q=shoes&page=2"), None);
        // The campaign id is not a tag; a fragment is not the query.
        assert_eq!(campaign_of(b"/landing?utm_id=123"), None);
        assert_eq!(campaign_of(b"/landing#utm_source=x"), None);
    }

    #[test]
    fn utm_tags() {
        let c = tags(
            "/landing?utm_source=Newsletter&utm_medium=email&utm_campaign=Spring%20Sale\
             &utm_term=running+shoes&utm_content=hero&utm_id=42",
        );
        assert_eq!(
            c,
            Campaign {
                source: s("Newsletter"),
                medium: s("email"),
                campaign: s("Spring Sale"),
                term: s("running shoes"),
                content: s("hero"),
                click_id: None,
            }
        );
        assert!(c.is_tagged());
        // An absolute URL, as a proxy logs it, and a fragment after the query.
        let c = tags("https://shop.example/p?utm_source=x#top");
        assert_eq!(c.source, s("x"));
    }

    #[test]
    fn matomo_and_piwik_tags() {
        let c = tags("/?mtm_source=a&mtm_medium=b&mtm_campaign=c&mtm_keyword=d&mtm_content=e");
        assert_eq!(
            (c.source, c.medium, c.campaign, c.term, c.content),
            (s("a"), s("b"), s("c"), s("d"), s("e"))
        );
        let c = tags("/?pk_source=a&pk_medium=b&pk_campaign=c&pk_kwd=d&pk_content=e");
        assert_eq!(
            (c.source, c.medium, c.campaign, c.term, c.content),
            (s("a"), s("b"), s("c"), s("d"), s("e"))
        );
        // The alternative names.
        let c = tags("/?pk_cpn=spring&pk_keyword=shoes");
        assert_eq!((c.campaign, c.term), (s("spring"), s("shoes")));
        assert_eq!(tags("/?mtm_cid=summer").campaign, s("summer"));
        // The preferred name wins over its alternative wherever it stands.
        assert_eq!(tags("/?pk_cpn=b&pk_campaign=a").campaign, s("a"));
        assert_eq!(tags("/?mtm_cid=b&mtm_campaign=a").campaign, s("a"));
        assert_eq!(tags("/?pk_keyword=b&pk_kwd=a").term, s("a"));
    }

    #[test]
    fn precedence_is_per_field() {
        // pk first in the URL, then mtm, then utm: utm still wins each field it has.
        let c = tags(
            "/?pk_source=pk&pk_medium=pk&pk_campaign=pk&pk_kwd=pk&pk_content=pk\
             &mtm_source=mtm&mtm_campaign=mtm&mtm_keyword=mtm\
             &utm_source=utm",
        );
        assert_eq!(c.source, s("utm"));
        assert_eq!(c.medium, s("pk"));
        assert_eq!(c.campaign, s("mtm"));
        assert_eq!(c.term, s("mtm"));
        assert_eq!(c.content, s("pk"));
        // Among repeats of one parameter, the first counts.
        assert_eq!(
            tags("/?utm_source=first&utm_source=second").source,
            s("first")
        );
    }

    #[test]
    fn names_are_case_insensitive() {
        let c = tags("/?UTM_Source=Google&Utm_Medium=CPC&MTM_CAMPAIGN=x&Pk_Kwd=y&GCLID=abc");
        assert_eq!(c.source, s("Google"));
        assert_eq!(c.medium, s("CPC"));
        assert_eq!(c.campaign, s("x"));
        assert_eq!(c.term, s("y"));
        assert_eq!(c.click_id, Some(ClickId::GoogleAds));
        // An escaped name is decoded before it is compared.
        assert_eq!(tags("/?utm%5Fsource=x").source, s("x"));
    }

    #[test]
    fn values_are_decoded_and_normalised() {
        let c =
            tags("/?utm_campaign=Black+Friday%202026&utm_term=%E2%82%AC+deals&utm_content=a%2Bb");
        assert_eq!(c.campaign, s("Black Friday 2026"));
        assert_eq!(c.term, s("€ deals"));
        assert_eq!(c.content, s("a+b"));
        // Whitespace runs collapse and ends are trimmed; case is kept.
        assert_eq!(tags("/?utm_source=+%20My%09Site++").source, s("My Site"));
        // Bytes that are not UTF-8 become U+FFFD rather than failing.
        assert_eq!(tags("/?utm_source=caf%E9").source, s("caf\u{fffd}"));
        // `;` separates parameters as `&` does.
        let c = tags("/?utm_source=a;utm_medium=b");
        assert_eq!((c.source, c.medium), (s("a"), s("b")));
    }

    #[test]
    fn malformed_escapes_stay_as_they_are() {
        let c = tags("/?utm_campaign=100%&utm_source=%zz%4&utm_medium=50%25");
        assert_eq!(c.campaign, s("100%"));
        assert_eq!(c.source, s("%zz%4"));
        assert_eq!(c.medium, s("50%"));
    }

    #[test]
    fn empty_values_are_absent() {
        assert_eq!(campaign_of(b"/?utm_source=&utm_medium=&utm_campaign"), None);
        assert_eq!(campaign_of(b"/?utm_source=+%20+"), None);
        // An empty tag gives way to a lower-precedence one that has a value.
        let c = tags("/?utm_source=&mtm_source=&pk_source=piwik&utm_medium=email");
        assert_eq!((c.source, c.medium), (s("piwik"), s("email")));
        // A repeated parameter whose first value is empty.
        assert_eq!(tags("/?utm_source=&utm_source=x").source, s("x"));
        // Tags without a source, medium or campaign are kept but decide nothing.
        let c = tags("/?utm_term=shoes");
        assert_eq!(c.term, s("shoes"));
        assert!(!c.is_tagged());
    }

    #[test]
    fn every_click_id() {
        let cases = [
            ("gclid", ClickId::GoogleAds),
            ("gbraid", ClickId::GoogleAds),
            ("wbraid", ClickId::GoogleAds),
            ("dclid", ClickId::GoogleDisplay),
            ("msclkid", ClickId::MicrosoftAds),
            ("fbclid", ClickId::Facebook),
            ("ttclid", ClickId::TikTok),
            ("twclid", ClickId::X),
            ("li_fat_id", ClickId::LinkedIn),
            ("yclid", ClickId::Yandex),
        ];
        for (param, id) in cases {
            let c = tags(&format!("/p?{param}=Cj0KCQ_1"));
            assert_eq!(
                c,
                Campaign {
                    click_id: Some(id),
                    ..Campaign::default()
                },
                "{param}"
            );
            assert!(!c.is_tagged(), "{param}");
            // An empty click id is none.
            assert_eq!(
                campaign_of(format!("/p?{param}=").as_bytes()),
                None,
                "{param}"
            );
        }
        // Every id has a distinct display name.
        let mut names: Vec<_> = CLICK_IDS.iter().map(|(_, id)| id.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 8);
    }

    #[test]
    fn click_id_precedence_and_tags_together() {
        // fbclid rides along on other platforms' links: the ad platform's id wins.
        assert_eq!(
            tags("/?fbclid=a&gclid=b").click_id,
            Some(ClickId::GoogleAds)
        );
        assert_eq!(
            tags("/?fbclid=a&msclkid=b").click_id,
            Some(ClickId::MicrosoftAds)
        );
        let c = tags("/?utm_source=google&utm_medium=cpc&gclid=x");
        assert_eq!(c.source, s("google"));
        assert_eq!(c.click_id, Some(ClickId::GoogleAds));
    }
}
