//! What every distinct value means: the classification stage, run once per distinct
//! request, referrer, user agent and visitor after all input is read.
//!
//! Requests become method, path, kind, campaign tags and goal; referrers become host,
//! internal or external, known source, search keyword and acquisition; user agents become
//! browser, OS, device and bot. Acquisitions (source, medium, campaign tags, channel) are
//! interned, so a session carries one id and reports group by it.

use std::collections::HashMap;

use rayon::prelude::*;

use super::channel::{self, Arrival, Channel};
use super::goals::Goals;
use super::intern::Interner;
use super::{
    AgentInfo, Bot, Dictionaries, Identity, Method, PathKind, PathRules, SiteDomains, SiteSearch,
    Text, agent, campaign, query, referrer, request, screen, sources, text, visitor_hash,
};
use crate::parse::AGENT_NOT_LOGGED;

/// Settings the classification needs.
#[derive(Debug, Clone, Default)]
pub struct EnrichRules {
    pub paths: PathRules,
    pub site: SiteDomains,
    pub goals: Goals,
    pub site_search: SiteSearch,
    /// How paths, referrers and user agents that are not UTF-8 are read.
    pub legacy: text::Legacy,
}

/// A distinct request, classified.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo {
    pub method: Method,
    /// Id into [`Lookups::paths`].
    pub path: u32,
    pub kind: PathKind,
    /// The acquisition its campaign tags or click id name, when it has any.
    pub campaign: Option<u32>,
    /// The goal its path reaches (index into [`Lookups::goals`]).
    pub goal: Option<u16>,
    /// The conversion value in its goal-value parameter, in millionths.
    pub value_micro: Option<i64>,
    /// For a goal page: its target (path and query) as an id, so that a session counts a
    /// goal URL's value once however the request line around it was written.
    pub goal_target: Option<u32>,
    /// For a page with a site-search parameter: the term (id into [`Lookups::search_terms`]).
    pub search_term: Option<u32>,
    /// For a beacon: what it says about the screen.
    pub screen: BeaconScreen,
}

/// The screen parameters of a beacon request, with the resolution as a label id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BeaconScreen {
    /// Id into [`Lookups::resolutions`].
    pub resolution: Option<u32>,
    pub color_depth: Option<u8>,
    /// A screen parameter was present but unusable.
    pub invalid: bool,
}

/// A distinct referrer, classified.
#[derive(Debug, Clone)]
pub struct ReferrerInfo {
    /// Display text (empty when the line had none).
    pub text: Text,
    /// The first referrer id with the same display text: reports key referrers by it, so
    /// two logged spellings of one URL (`\"` and `\x22`, two invalid bytes) make one row.
    pub canonical: u32,
    /// Id into [`Lookups::hosts`], when the referrer is a URL.
    pub host: Option<u32>,
    pub internal: bool,
    /// The acquisition of a session entering with this referrer and no campaign tags.
    pub acquisition: u32,
    /// Search engine name and keyword (label ids), for a search-engine referrer.
    pub engine: Option<u32>,
    pub keyword: Option<u32>,
}

impl ReferrerInfo {
    /// An external referrer: a traffic source.
    pub fn is_external(&self) -> bool {
        !self.text.is_empty() && !self.internal
    }
}

/// A distinct visitor key, classified.
#[derive(Debug, Clone, Copy)]
pub struct VisitorInfo {
    pub client: u32,
    pub agent: u32,
    /// XXH64 (seed 42) of the visitor key as shown: client and user agent with escapes
    /// resolved and invalid UTF-8 replaced.
    pub hash: u64,
}

/// Where a session came from: label ids and the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AcquisitionIds {
    pub source: u32,
    pub medium: u32,
    pub campaign: Option<u32>,
    pub term: Option<u32>,
    pub content: Option<u32>,
    pub channel: Channel,
}

/// What every distinct value means, by id.
pub struct Lookups {
    pub requests: Vec<RequestInfo>,
    /// Distinct paths (display text), indexed by [`RequestInfo::path`].
    pub paths: Vec<Text>,
    pub referrers: Vec<ReferrerInfo>,
    /// Distinct referrer hosts (lower case), indexed by [`ReferrerInfo::host`].
    pub hosts: Vec<Text>,
    pub agents: Vec<AgentInfo>,
    /// Distinct bots, sorted by name.
    pub bots: Vec<Bot>,
    /// For each user agent, its id in [`Lookups::bots`] when it is a bot.
    pub agent_bots: Vec<Option<u32>>,
    /// Client addresses (display text).
    pub clients: Vec<Text>,
    /// User agents (display text).
    pub agent_texts: Vec<Text>,
    pub visitors: Vec<VisitorInfo>,
    /// Distinct acquisitions; id 0 is direct.
    pub acquisitions: Vec<AcquisitionIds>,
    /// Source, medium, campaign, engine and keyword texts, by label id.
    pub labels: Vec<Text>,
    pub goals: Goals,
    /// Site-search terms, indexed by [`RequestInfo::search_term`].
    pub search_terms: Vec<Text>,
    /// Screen resolutions (`1920x1080`), indexed by [`BeaconScreen::resolution`].
    pub resolutions: Vec<Text>,
    /// Distinct device classes, sorted, and each user agent's index into them.
    pub devices: Vec<Text>,
    pub agent_devices: Vec<u16>,
}

/// Longest search keyword kept, in characters: a longer one (a pasted document, an attack
/// string) is cut, so one referrer cannot bloat the keyword tables.
pub const MAX_KEYWORD_CHARS: usize = 200;

pub(super) fn clip_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The name of a campaign whose tags do not name it.
pub const NOT_SET: &str = "(not set)";

/// The acquisition of direct traffic: always id 0.
pub const DIRECT: u32 = 0;

/// Interns acquisitions and their texts.
#[derive(Default)]
struct AcquisitionTable {
    labels: Interner,
    ids: HashMap<AcquisitionIds, u32>,
    list: Vec<AcquisitionIds>,
}

impl AcquisitionTable {
    fn label(&mut self, text: &str) -> u32 {
        self.labels.intern(text.as_bytes())
    }

    /// Interns an acquisition. One decided by campaign tags always has a campaign name:
    /// `(not set)` when the tags name none, so it is a row of the `campaigns` table.
    fn intern(&mut self, a: &channel::Acquisition, tagged: bool) -> u32 {
        let campaign = match a.campaign.as_deref() {
            Some(name) => Some(name),
            None if tagged => Some(NOT_SET),
            None => None,
        };
        let ids = AcquisitionIds {
            source: self.label(&a.source),
            medium: self.label(&a.medium),
            campaign: campaign.map(|t| self.label(t)),
            term: a.term.as_deref().map(|t| self.label(t)),
            content: a.content.as_deref().map(|t| self.label(t)),
            channel: a.channel,
        };
        *self.ids.entry(ids).or_insert_with(|| {
            self.list.push(ids);
            (self.list.len() - 1) as u32
        })
    }
}

/// What the parallel pass finds in a distinct request.
struct Classified {
    parts: request::RequestParts,
    /// The acquisition its campaign tags name, and whether it has tags (not only a click id).
    tagged: Option<(channel::Acquisition, bool)>,
    search_term: Option<String>,
    screen: screen::Screen,
}

impl Lookups {
    /// Classifies every distinct value (in parallel where it is expensive).
    pub fn build(dicts: &Dictionaries, rules: &EnrichRules) -> Lookups {
        let mut acquisitions = AcquisitionTable::default();
        let direct = acquisitions.intern(&channel::acquisition(None, Arrival::Direct), false);
        debug_assert_eq!(direct, DIRECT);

        // Requests: split and parse in parallel, then intern paths and acquisitions in order.
        let parsed: Vec<Classified> = par_map(&dicts.requests, |raw| {
            let parts = request::classify(raw, &rules.paths);
            let query = query::query_of(&parts.target);
            let search_term = match parts.kind {
                PathKind::Page => rules.site_search.term_of(query),
                _ => None,
            };
            let screen = match parts.kind {
                PathKind::Beacon => screen::screen_of(query),
                _ => screen::Screen::default(),
            };
            // Campaign tags matter only where a session can start: on pages.
            let tagged = (parts.kind == PathKind::Page)
                .then(|| campaign::campaign_of(&parts.target))
                .flatten()
                .filter(|c| c.is_tagged() || c.click_id.is_some())
                .map(|c| {
                    (
                        channel::acquisition(Some(&c), Arrival::Direct),
                        c.is_tagged(),
                    )
                });
            Classified {
                parts,
                tagged,
                search_term,
                screen,
            }
        });
        let mut path_ids = Interner::default();
        let mut goal_targets = Interner::default();
        let mut search_terms = Interner::default();
        let mut resolutions = Interner::default();
        let mut path_goals: Vec<Option<u16>> = Vec::new();
        let requests: Vec<RequestInfo> = parsed
            .iter()
            .map(|c| {
                let (parts, tagged) = (&c.parts, &c.tagged);
                // Paths are keyed by the text reports show, so that two byte sequences shown
                // alike (invalid UTF-8) are one path.
                let path_text = rules.legacy.decode(&parts.path);
                let path = path_ids.intern(path_text.as_bytes());
                if path as usize == path_goals.len() {
                    path_goals.push(rules.goals.goal_of(&path_text));
                }
                let goal = path_goals[path as usize];
                RequestInfo {
                    method: parts.method,
                    path,
                    kind: parts.kind,
                    campaign: tagged.as_ref().map(|(a, t)| acquisitions.intern(a, *t)),
                    goal,
                    value_micro: goal
                        .and_then(|_| rules.goals.value_of(&parts.target))
                        .map(|v| (v * 1e6).round() as i64),
                    goal_target: goal.map(|_| goal_targets.intern(&parts.target)),
                    search_term: c
                        .search_term
                        .as_ref()
                        .map(|t| search_terms.intern(t.as_bytes())),
                    screen: BeaconScreen {
                        resolution: c
                            .screen
                            .resolution_text()
                            .map(|r| resolutions.intern(r.as_bytes())),
                        color_depth: c.screen.color_depth,
                        invalid: c.screen.invalid,
                    },
                }
            })
            .collect();
        drop(parsed);
        let paths = texts(&path_ids);
        let search_terms = texts(&search_terms);
        let resolutions = texts(&resolutions);

        // Referrers: host, internal, known source and keyword in parallel.
        let classified: Vec<(Text, referrer::ReferrerParts, sources::ReferrerSource)> =
            par_map(&dicts.referrers, |raw| {
                let unescaped = text::unescape(raw);
                let text = rules.legacy.decode(&unescaped);
                let parts = referrer::classify(&text, &rules.site);
                let source = match &parts.host {
                    Some(host) if !parts.internal => sources::classify_referrer(host, &unescaped),
                    _ => sources::ReferrerSource::default(),
                };
                (Text::from(text), parts, source)
            });
        let mut referrer_texts = Interner::default();
        let mut canonical_ids: Vec<u32> = Vec::new();
        let mut host_ids = Interner::default();
        let referrers = classified
            .into_iter()
            .enumerate()
            .map(|(id, (text, parts, source))| {
                let text_id = referrer_texts.intern(text.as_bytes());
                if text_id as usize == canonical_ids.len() {
                    canonical_ids.push(id as u32);
                }
                let canonical = canonical_ids[text_id as usize];
                let acquisition = match &parts.host {
                    Some(host) if !parts.internal => acquisitions.intern(
                        &channel::acquisition(
                            None,
                            Arrival::External {
                                host,
                                referrer: &source,
                            },
                        ),
                        false,
                    ),
                    _ => DIRECT,
                };
                let engine = source
                    .known
                    .filter(|k| k.category == sources::SourceCategory::Search)
                    .map(|k| acquisitions.label(k.name));
                let keyword = engine
                    .and(source.keyword.as_deref())
                    .map(|k| acquisitions.label(clip_chars(k, MAX_KEYWORD_CHARS)));
                ReferrerInfo {
                    text,
                    canonical,
                    host: parts.host.map(|h| host_ids.intern(h.as_bytes())),
                    internal: parts.internal,
                    acquisition,
                    engine,
                    keyword,
                }
            })
            .collect();
        let hosts = texts(&host_ids);

        let agent_texts: Vec<Text> = par_map(&dicts.agents, |raw| {
            if raw == AGENT_NOT_LOGGED {
                Text::from(agent::NOT_LOGGED_TEXT)
            } else {
                Text::from(text::display(raw, rules.legacy))
            }
        });
        let agents: Vec<AgentInfo> = agent_texts
            .par_iter()
            .enumerate()
            .map(|(id, text)| {
                if dicts.agents.get(id as u32) == AGENT_NOT_LOGGED {
                    AgentInfo::unknown()
                } else {
                    agent::classify(text)
                }
            })
            .collect();
        let mut bots: Vec<Bot> = agents.iter().filter_map(|a| a.bot.clone()).collect();
        bots.sort();
        bots.dedup();
        let agent_bots = agents
            .iter()
            .map(|a| {
                let bot = a.bot.as_ref()?;
                bots.binary_search(bot).ok().map(|i| i as u32)
            })
            .collect();
        let mut devices: Vec<Text> = agents.iter().map(|a| a.device.clone()).collect();
        devices.sort_unstable();
        devices.dedup();
        let agent_devices = agents
            .iter()
            .map(|a| devices.binary_search(&a.device).unwrap_or(0) as u16)
            .collect();
        let clients = par_map(&dicts.clients, |raw| {
            Text::from(text::display(raw, rules.legacy))
        });
        let visitors = (0..dicts.visitors.len() as u32)
            .into_par_iter()
            .map(|v| {
                let (client, agent) = dicts.visitors.key(v);
                // The key as the tables show it, so that `xxhash64(visitor_key)` in any
                // engine gives this hash, also for agents logged with escapes.
                let seeded = |key: &[u8]| xxhash_rust::xxh64::xxh64(key, super::VISITOR_HASH_SEED);
                let hash = match dicts.visitors.identity(v) {
                    Identity::ClientAgent(c, a) => visitor_hash(
                        clients[c as usize].as_bytes(),
                        agent_texts[a as usize].as_bytes(),
                    ),
                    Identity::Client(c) => seeded(clients[c as usize].as_bytes()),
                    Identity::Named(ident) => seeded(dicts.idents.get(ident)),
                };
                VisitorInfo {
                    client,
                    agent,
                    hash,
                }
            })
            .collect();
        let labels = texts(&acquisitions.labels);
        Lookups {
            requests,
            paths,
            referrers,
            hosts,
            agents,
            bots,
            agent_bots,
            clients,
            agent_texts,
            visitors,
            acquisitions: acquisitions.list,
            labels,
            goals: rules.goals.clone(),
            search_terms,
            resolutions,
            devices,
            agent_devices,
        }
    }

    #[inline]
    pub fn request(&self, id: u32) -> &RequestInfo {
        &self.requests[id as usize]
    }

    #[inline]
    pub fn visitor(&self, id: u32) -> &VisitorInfo {
        &self.visitors[id as usize]
    }

    #[inline]
    pub fn agent_of(&self, visitor: u32) -> &AgentInfo {
        &self.agents[self.visitors[visitor as usize].agent as usize]
    }

    /// The bot id of a visitor, `None` for a human.
    #[inline]
    pub fn bot_of(&self, visitor: u32) -> Option<u32> {
        self.agent_bots[self.visitors[visitor as usize].agent as usize]
    }

    #[inline]
    pub fn referrer(&self, id: u32) -> &ReferrerInfo {
        &self.referrers[id as usize]
    }

    pub fn path(&self, id: u32) -> &str {
        &self.paths[id as usize]
    }

    #[inline]
    pub fn acquisition(&self, id: u32) -> &AcquisitionIds {
        &self.acquisitions[id as usize]
    }

    pub fn label(&self, id: u32) -> &str {
        &self.labels[id as usize]
    }

    /// The traffic source a page view names, for session rules that split on a source change:
    /// its campaign tags, else its external referrer; direct and internal views name none.
    pub fn view_source(&self, request: u32, referrer: u32) -> Option<u32> {
        self.request(request).campaign.or_else(|| {
            let r = self.referrer(referrer);
            (r.acquisition != DIRECT).then_some(r.acquisition)
        })
    }

    /// The acquisition of a session that enters with `request` from `referrer`.
    pub fn session_acquisition(&self, request: u32, referrer: u32) -> u32 {
        self.request(request)
            .campaign
            .unwrap_or(self.referrer(referrer).acquisition)
    }
}

/// The texts of an interner, in id order.
fn texts(dict: &Interner) -> Vec<Text> {
    dict.iter()
        .map(|t| Text::from(String::from_utf8_lossy(t)))
        .collect()
}

pub(super) fn par_map<T: Send>(dict: &Interner, f: impl Fn(&[u8]) -> T + Sync + Send) -> Vec<T> {
    (0..dict.len() as u32)
        .into_par_iter()
        .map(|id| f(dict.get(id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keywords_are_cut_at_a_character_boundary() {
        assert_eq!(clip_chars("abc", 5), "abc");
        assert_eq!(clip_chars("한국어", 2), "한국");
        assert_eq!(
            clip_chars(&"x".repeat(1000), MAX_KEYWORD_CHARS).len(),
            MAX_KEYWORD_CHARS
        );
    }
}
