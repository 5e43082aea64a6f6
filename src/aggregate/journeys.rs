//! Journeys: the routes visitors take through the site. The `paths` table (the first pages of
//! each session) and the `transitions` table (page → next page, entrance → page, page → exit).
//!
//! **Bounded state.** A site with millions of distinct URLs (product ids, session tokens in
//! paths, scanners trying random paths) would otherwise make both tables as large as the log.
//! Journeys therefore name only the [`JourneyRules::max_pages`] most viewed pages (ties by
//! path); every other page is `(other)`. The choice is made from exact page-view counts of the
//! whole run before any session is aggregated, so it never depends on shards or threads. With
//! `P` named pages, `transitions` holds at most `(P + 2)²` pairs, and `paths` at most one
//! sequence per session (the sessions table already holds every session) and at most
//! `(P + 1)^depth`.

use rayon::prelude::*;

use super::acquisition::{Keyed, SessionMetrics};
use super::{IdMap, Merge, Session, View, is_page_view, ratio};
use crate::enrich::{Hit, Lookups, Text};

/// The deepest path sequence offered.
pub const MAX_DEPTH: usize = 8;

/// Settings of the journey tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JourneyRules {
    /// Page views per path sequence (1 to [`MAX_DEPTH`]).
    pub depth: usize,
    /// Pages named in paths and transitions; the rest are `(other)`.
    pub max_pages: usize,
}

impl Default for JourneyRules {
    fn default() -> Self {
        JourneyRules {
            depth: 3,
            max_pages: 1000,
        }
    }
}

/// A page outside the named pages.
pub const OTHER: u32 = u32::MAX;
/// The entrance (as a transition's origin) or the exit (as its destination).
const BOUNDARY: u32 = u32::MAX - 1;
/// Padding after the last step of a short path.
const NONE: u32 = u32::MAX - 2;

/// The text of `(other)` pages.
pub const OTHER_TEXT: &str = "(other)";

/// Which page paths journeys name.
pub struct Vocabulary {
    /// Path id → itself when named, [`OTHER`] when not; empty when every path is named.
    map: Vec<u32>,
}

impl Vocabulary {
    /// Whether the run has more distinct paths than journeys name, so that page views must
    /// be counted (with [`Vocabulary::count`]) to choose them.
    pub fn needs_counts(lookups: &Lookups, max_pages: usize) -> bool {
        lookups.paths.len() > max_pages
    }

    /// Adds one visitor's human page views to `by_path` (indexed by path id).
    pub fn count(lookups: &Lookups, visitor: u32, hits: &[Hit], by_path: &mut [u64]) {
        if lookups.bot_of(visitor).is_some() {
            return;
        }
        for hit in hits {
            let r = lookups.request(hit.request);
            if is_page_view(r.method, r.kind, hit.status) {
                by_path[r.path as usize] += 1;
            }
        }
    }

    /// Names the `max_pages` most viewed pages, from the run's human page views per path
    /// (`None` when [`Vocabulary::needs_counts`] said every path is named).
    pub fn build(by_path: Option<&[u64]>, lookups: &Lookups, max_pages: usize) -> Vocabulary {
        let Some(by_path) = by_path else {
            return Vocabulary { map: Vec::new() };
        };
        let mut map = vec![OTHER; lookups.paths.len()];
        for p in most_viewed(by_path, |p| lookups.path(p), max_pages) {
            map[p as usize] = p;
        }
        Vocabulary { map }
    }

    /// Every path named (for tests and small runs).
    pub fn all() -> Vocabulary {
        Vocabulary { map: Vec::new() }
    }

    #[inline]
    fn page(&self, path: u32) -> u32 {
        if self.map.is_empty() {
            path
        } else {
            self.map[path as usize]
        }
    }
}

/// The pages journeys name: the `max_pages` paths with the most page views (`views`, by
/// path id), ties by the path's text; those with none are never named.
pub fn most_viewed<'a>(views: &[u64], text: impl Fn(u32) -> &'a str, max_pages: usize) -> Vec<u32> {
    let mut ranked: Vec<u32> = (0..views.len() as u32)
        .filter(|&p| views[p as usize] > 0)
        .collect();
    ranked.sort_unstable_by(|&a, &b| {
        views[b as usize]
            .cmp(&views[a as usize])
            .then_with(|| text(a).cmp(text(b)))
    });
    ranked.truncate(max_pages);
    ranked
}

/// A path sequence: named path ids, then `NONE`.
pub type PathKey = [u32; MAX_DEPTH];

#[derive(Default)]
pub struct Journeys {
    pub paths: Keyed<PathKey>,
    /// Sessions that ended on the path's last step.
    pub path_exits: IdMap<PathKey, u64>,
    /// (from, to) → count; `BOUNDARY` is the entrance as `from`, the exit as `to`.
    pub transitions: IdMap<(u32, u32), u64>,
}

impl Merge for Journeys {
    fn merge(&mut self, o: Self) {
        self.paths.merge(o.paths);
        self.path_exits.merge(o.path_exits);
        self.transitions.merge(o.transitions);
    }
}

#[derive(Default)]
pub struct JourneyScratch {
    keys: Vec<Option<PathKey>>,
    distinct: Vec<PathKey>,
}

/// A page view as journeys see it: the id of its path.
pub trait Step {
    fn path(&self) -> u32;
}

impl Step for View {
    #[inline]
    fn path(&self) -> u32 {
        self.path
    }
}

/// A path id (`merge` keeps only those of a session's page views).
impl Step for u32 {
    #[inline]
    fn path(&self) -> u32 {
        *self
    }
}

impl Journeys {
    /// One visitor's sessions; `views[i]` are the page views of `sessions[i]`.
    pub fn add_visitor<'v, V: Step + 'v>(
        &mut self,
        sessions: &[Session],
        views: impl Iterator<Item = &'v [V]>,
        vocabulary: &Vocabulary,
        rules: &JourneyRules,
        scratch: &mut JourneyScratch,
    ) {
        scratch.keys.clear();
        for views in views.take(sessions.len()) {
            let key = self.add_steps(views, vocabulary, rules);
            scratch.keys.push(Some(key));
        }
        let keys = &scratch.keys;
        self.paths
            .add_indexed(sessions, |i, _| keys[i], &mut scratch.distinct);
    }

    /// Counts one session's page views in `transitions` and `path_exits`, and gives its
    /// path: all of `paths` but the visitors, which take the visitor's other sessions.
    pub fn add_steps<V: Step>(
        &mut self,
        views: &[V],
        vocabulary: &Vocabulary,
        rules: &JourneyRules,
    ) -> PathKey {
        let mut key = [NONE; MAX_DEPTH];
        for (slot, v) in key.iter_mut().zip(views.iter().take(rules.depth)) {
            *slot = vocabulary.page(v.path());
        }
        if views.len() <= rules.depth {
            *self.path_exits.entry(key).or_default() += 1;
        }
        let mut from = BOUNDARY;
        for v in views {
            let to = vocabulary.page(v.path());
            *self.transitions.entry((from, to)).or_default() += 1;
            from = to;
        }
        if !views.is_empty() {
            *self.transitions.entry((from, BOUNDARY)).or_default() += 1;
        }
        key
    }
}

/// One row of the `paths` table.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRow {
    pub path: String,
    pub steps: u64,
    pub entry_page: Text,
    pub exits: u64,
    pub share: Option<f64>,
    pub metrics: SessionMetrics,
    pub rates: super::acquisition::Rates,
}

/// One row of the `transitions` table.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionRow {
    /// `None`: the session's entrance.
    pub from_page: Option<Text>,
    /// `None`: the session's exit.
    pub to_page: Option<Text>,
    pub transitions: u64,
    /// Of every way out of `from_page` (its page views, or all sessions for the entrance).
    pub share: Option<f64>,
}

/// The separator of a path's steps.
pub const STEP_SEPARATOR: &str = " → ";

/// The text of a page id, `paths` being every path's text by id.
fn page_text(paths: &[Text], page: u32) -> Text {
    if page == OTHER {
        Text::from(OTHER_TEXT)
    } else {
        paths[page as usize].clone()
    }
}

/// [`page_text`], borrowed.
fn page_name(paths: &[Text], page: u32) -> &str {
    if page == OTHER {
        OTHER_TEXT
    } else {
        &paths[page as usize]
    }
}

/// Orders page ids by their text, for tie-breaks that compare integers: the entrance or exit
/// and the end of a short path come first.
struct PageOrder(IdMap<u32, u32>);

impl PageOrder {
    fn new(j: &Journeys, paths: &[Text]) -> PageOrder {
        let mut pages: Vec<u32> = j
            .transitions
            .keys()
            .flat_map(|&(from, to)| [from, to])
            .filter(|&p| p != BOUNDARY)
            .collect();
        pages.sort_unstable();
        pages.dedup();
        pages.sort_by_cached_key(|&p| page_text(paths, p));
        PageOrder(
            pages
                .into_iter()
                .enumerate()
                .map(|(rank, p)| (p, rank as u32 + 1))
                .collect(),
        )
    }

    fn rank(&self, page: u32) -> u32 {
        self.0.get(&page).copied().unwrap_or(0)
    }
}

/// The rows of both tables; `names` holds every path's text by id, `sessions` is the
/// period's sessions (for the shares).
pub fn finish(j: &Journeys, names: &[Text], sessions: u64) -> (Vec<PathRow>, Vec<TransitionRow>) {
    finish_with(j.paths.by.iter(), j, names, sessions)
}

/// [`finish`] with the paths' counts given apart (`j.paths` is not read).
pub fn finish_with<'a>(
    paths: impl Iterator<Item = (&'a PathKey, &'a SessionMetrics)>,
    j: &Journeys,
    names: &[Text],
    sessions: u64,
) -> (Vec<PathRow>, Vec<TransitionRow>) {
    let order = PageOrder::new(j, names);
    let mut keys: Vec<(&PathKey, &SessionMetrics, [u32; MAX_DEPTH])> = paths
        .map(|(key, m)| {
            (
                key,
                m,
                key.map(|p| if p == NONE { 0 } else { order.rank(p) }),
            )
        })
        .collect();
    // A month of sessions has hundreds of thousands of paths: sorted and named in parallel.
    keys.par_sort_unstable_by(|a, b| b.1.sessions.cmp(&a.1.sessions).then(a.2.cmp(&b.2)));
    let paths = keys
        .into_par_iter()
        .map(|(key, m, _)| {
            let steps = key.iter().take_while(|&&p| p != NONE);
            let length = steps
                .clone()
                .map(|&p| page_name(names, p).len() + STEP_SEPARATOR.len())
                .sum();
            let mut path = String::with_capacity(length);
            for (i, &p) in steps.clone().enumerate() {
                if i > 0 {
                    path.push_str(STEP_SEPARATOR);
                }
                path.push_str(page_name(names, p));
            }
            PathRow {
                path,
                steps: steps.count() as u64,
                entry_page: page_text(names, key[0]),
                exits: j.path_exits.get(key).copied().unwrap_or(0),
                share: ratio(m.sessions, sessions),
                metrics: *m,
                rates: m.rates(),
            }
        })
        .collect();

    let mut outgoing: IdMap<u32, u64> = IdMap::default();
    for (&(from, _), &n) in &j.transitions {
        *outgoing.entry(from).or_default() += n;
    }
    // (count, from, to), in output order: most first, ties by the pages' text.
    let mut pairs: Vec<(u64, u32, u32)> = j
        .transitions
        .iter()
        .map(|(&(from, to), &n)| (n, from, to))
        .collect();
    pairs.sort_by_cached_key(|&(n, from, to)| {
        (std::cmp::Reverse(n), order.rank(from), order.rank(to))
    });
    let text = |p: u32| (p != BOUNDARY).then(|| page_text(names, p));
    let transitions = pairs
        .into_iter()
        .map(|(n, from, to)| TransitionRow {
            from_page: text(from),
            to_page: text(to),
            transitions: n,
            share: ratio(n, outgoing.get(&from).copied().unwrap_or(0)),
        })
        .collect();
    (paths, transitions)
}
