//! Internal site search: the `internal_search` table, what visitors looked for on the site
//! and whether they found it.

use super::{IdMap, Merge, Session, View, count_distinct, ratio, sort_rows};
use crate::enrich::{Lookups, Text};

/// Counts for one search term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TermCounts {
    /// Page views of a search page with this term.
    pub searches: u64,
    pub sessions: u64,
    pub visitors: u64,
    /// Searches that were the session's last page view.
    pub exits: u64,
    /// Searches after which the session viewed no page other than search pages.
    pub no_result_views: u64,
    /// Searches followed directly by a search for another term.
    pub refinements: u64,
    /// Sessions with this term that converted.
    pub conversions: u64,
}

impl Merge for TermCounts {
    fn merge(&mut self, o: Self) {
        self.searches += o.searches;
        self.sessions += o.sessions;
        self.visitors += o.visitors;
        self.exits += o.exits;
        self.no_result_views += o.no_result_views;
        self.refinements += o.refinements;
        self.conversions += o.conversions;
    }
}

#[derive(Default)]
pub struct SiteSearches {
    /// Keyed by search-term id.
    pub by_term: IdMap<u32, TermCounts>,
    pub searches: u64,
    /// Sessions with at least one search.
    pub sessions: u64,
}

impl Merge for SiteSearches {
    fn merge(&mut self, o: Self) {
        self.by_term.merge(o.by_term);
        self.searches += o.searches;
        self.sessions += o.sessions;
    }
}

#[derive(Default)]
pub struct SearchScratch {
    session_terms: Vec<u32>,
    visitor_terms: Vec<u32>,
}

impl SiteSearches {
    /// One visitor's sessions; `views[i]` are the page views of `sessions[i]`.
    pub fn add_visitor<'v>(
        &mut self,
        sessions: &[Session],
        views: impl Iterator<Item = &'v [View]>,
        lookups: &Lookups,
        scratch: &mut SearchScratch,
    ) {
        let term = |v: &View| lookups.request(v.request).search_term;
        scratch.visitor_terms.clear();
        for (session, views) in sessions.iter().zip(views) {
            // The last page view that is not a search: a search before it led somewhere.
            let last_plain = views.iter().rposition(|v| term(v).is_none());
            scratch.session_terms.clear();
            for (i, v) in views.iter().enumerate() {
                let Some(t) = term(v) else { continue };
                let c = self.by_term.entry(t).or_default();
                c.searches += 1;
                c.exits += u64::from(i + 1 == views.len());
                c.no_result_views += u64::from(last_plain.is_none_or(|p| p < i));
                c.refinements += u64::from(
                    views
                        .get(i + 1)
                        .and_then(term)
                        .is_some_and(|next| next != t),
                );
                self.searches += 1;
                scratch.session_terms.push(t);
            }
            if scratch.session_terms.is_empty() {
                continue;
            }
            self.sessions += 1;
            let converted = u64::from(session.goal.is_some());
            scratch
                .visitor_terms
                .extend_from_slice(&scratch.session_terms);
            count_distinct(&mut scratch.session_terms, |t| {
                let c = self.by_term.entry(t).or_default();
                c.sessions += 1;
                c.conversions += converted;
            });
        }
        count_distinct(&mut scratch.visitor_terms, |t| {
            self.by_term.entry(t).or_default().visitors += 1
        });
    }
}

/// One row of the `internal_search` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRow {
    pub term: Text,
    pub counts: TermCounts,
    pub exit_rate: Option<f64>,
    pub conversion_rate: Option<f64>,
}

pub fn finish(s: &SiteSearches, lookups: &Lookups) -> Vec<SearchRow> {
    rows(
        s.by_term
            .iter()
            .map(|(&t, c)| (lookups.search_terms[t as usize].clone(), c)),
    )
}

/// The `internal_search` rows of counts per term, in table order.
pub fn rows<'a>(terms: impl Iterator<Item = (Text, &'a TermCounts)>) -> Vec<SearchRow> {
    let mut rows: Vec<SearchRow> = terms
        .map(|(term, c)| SearchRow {
            term,
            counts: *c,
            exit_rate: ratio(c.exits, c.searches),
            conversion_rate: ratio(c.conversions, c.sessions),
        })
        .collect();
    sort_rows(&mut rows, |r| r.counts.searches, |a, b| a.term.cmp(&b.term));
    rows
}
