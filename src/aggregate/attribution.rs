//! Attribution: which channels get credit for a conversion, under six models.
//!
//! A conversion is a session that reached a goal. Its touchpoints are the same visitor's
//! sessions that started within the lookback window before it (default 30 days), itself
//! included, in time order. Each model splits one conversion (and its value) over them:
//!
//! | model | credit |
//! |---|---|
//! | `last_non_direct_click` | all to the last touchpoint whose channel is not Direct (GA's rule); Direct only when every touchpoint is |
//! | `first_click` | all to the first touchpoint |
//! | `last_click` | all to the converting session |
//! | `linear` | equal shares |
//! | `position_based` | 40% first, 40% last, 20% shared by the ones between (one touchpoint: 100%; two: 50/50) |
//! | `time_decay` | weights halving every 7 days before the conversion |
//!
//! Credit is kept in billionths of a conversion, as integers, with each conversion's
//! rounding remainder given to its last touchpoint: sums are exact and do not depend on the
//! order in which shards are merged.

use super::{IdMap, Merge, Session};
use crate::enrich::channel::Channel;

/// One conversion, in billionths.
const WHOLE: u64 = 1_000_000_000;
const DAY_MS: i64 = 86_400_000;

/// How attribution is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributionRules {
    /// How far before a conversion a session still counts as a touchpoint.
    pub lookback_ms: i64,
}

impl Default for AttributionRules {
    fn default() -> Self {
        AttributionRules {
            lookback_ms: 30 * DAY_MS,
        }
    }
}

/// The attribution models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    LastNonDirectClick,
    FirstClick,
    LastClick,
    Linear,
    PositionBased,
    TimeDecay,
}

impl Model {
    pub const ALL: [Model; 6] = [
        Model::LastNonDirectClick,
        Model::FirstClick,
        Model::LastClick,
        Model::Linear,
        Model::PositionBased,
        Model::TimeDecay,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Model::LastNonDirectClick => "last_non_direct_click",
            Model::FirstClick => "first_click",
            Model::LastClick => "last_click",
            Model::Linear => "linear",
            Model::PositionBased => "position_based",
            Model::TimeDecay => "time_decay",
        }
    }

    /// Shares of one conversion for touchpoints `(start_ms, channel)` in time order, the last
    /// being the converting session: billionths per touchpoint, summing to exactly one.
    pub fn shares(self, touches: &[(i64, Channel)]) -> Vec<u64> {
        let n = touches.len();
        assert!(n > 0, "a conversion has at least its own session");
        let mut weights = vec![0.0f64; n];
        match self {
            Model::LastNonDirectClick => {
                let i = touches
                    .iter()
                    .rposition(|&(_, c)| c != Channel::Direct)
                    .unwrap_or(n - 1);
                weights[i] = 1.0;
            }
            Model::FirstClick => weights[0] = 1.0,
            Model::LastClick => weights[n - 1] = 1.0,
            Model::Linear => weights.fill(1.0),
            Model::PositionBased => match n {
                1 => weights[0] = 1.0,
                2 => weights.fill(0.5),
                _ => {
                    weights.fill(0.2 / (n - 2) as f64);
                    weights[0] = 0.4;
                    weights[n - 1] = 0.4;
                }
            },
            Model::TimeDecay => {
                let conversion = touches[n - 1].0;
                for (w, &(start, _)) in weights.iter_mut().zip(touches) {
                    *w = 0.5f64.powf((conversion - start) as f64 / (7 * DAY_MS) as f64);
                }
            }
        }
        let total: f64 = weights.iter().sum();
        let mut shares: Vec<u64> = weights
            .iter()
            .map(|w| (w / total * WHOLE as f64).floor() as u64)
            .collect();
        let given: u64 = shares.iter().sum();
        // The rounding remainder goes to the last touchpoint with credit.
        let last = shares.iter().rposition(|&s| s > 0).unwrap_or(n - 1);
        shares[last] += WHOLE - given;
        shares
    }
}

/// Credit given to one (model, channel).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Credit {
    /// Conversions, in billionths.
    pub conversions: u64,
    /// Value in millionths, times billionths of a conversion.
    pub value: i128,
}

impl Merge for Credit {
    fn merge(&mut self, o: Self) {
        self.conversions += o.conversions;
        self.value += o.value;
    }
}

/// Credit per (model, channel).
#[derive(Debug, Default)]
pub struct Attribution {
    pub credit: IdMap<(Model, Channel), Credit>,
}

impl Merge for Attribution {
    fn merge(&mut self, other: Self) {
        self.credit.merge(other.credit);
    }
}

impl Attribution {
    /// One visitor's sessions, in time order, and the channel of a session.
    pub fn add_visitor(
        &mut self,
        sessions: &[Session],
        channel_of: impl Fn(&Session) -> Channel,
        rules: &AttributionRules,
    ) {
        let mut touches: Vec<(i64, Channel)> = Vec::new();
        for (i, conversion) in sessions.iter().enumerate() {
            if conversion.goal.is_none() {
                continue;
            }
            let from = conversion.start_ms.saturating_sub(rules.lookback_ms);
            touches.clear();
            touches.extend(
                sessions[..=i]
                    .iter()
                    .filter(|s| s.start_ms >= from)
                    .map(|s| (s.start_ms, channel_of(s))),
            );
            for model in Model::ALL {
                for (share, &(_, channel)) in model.shares(&touches).into_iter().zip(&touches) {
                    if share > 0 {
                        let credit = self.credit.entry((model, channel)).or_default();
                        credit.conversions += share;
                        credit.value += i128::from(conversion.value_micro) * i128::from(share);
                    }
                }
            }
        }
    }
}

/// One row of the `attribution` table.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionRow {
    pub model: &'static str,
    pub channel: &'static str,
    pub conversions: f64,
    pub value: f64,
}

pub fn finish(a: &Attribution) -> Vec<AttributionRow> {
    let mut keyed: Vec<(&(Model, Channel), &Credit)> = a.credit.iter().collect();
    // Model order, then most credit first, then channel order.
    keyed.sort_by(|(ka, ca), (kb, cb)| {
        ka.0.cmp(&kb.0)
            .then(cb.conversions.cmp(&ca.conversions))
            .then(ka.1.cmp(&kb.1))
    });
    keyed
        .into_iter()
        .map(|(&(model, channel), c)| AttributionRow {
            model: model.name(),
            channel: channel.name(),
            conversions: c.conversions as f64 / WHOLE as f64,
            value: c.value as f64 / (WHOLE as f64 * 1e6),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = DAY_MS;

    fn shares(model: Model, touches: &[(i64, Channel)]) -> Vec<f64> {
        let s = model.shares(touches);
        assert_eq!(s.iter().sum::<u64>(), WHOLE, "{model:?}");
        s.iter().map(|&x| x as f64 / WHOLE as f64).collect()
    }

    #[test]
    fn every_model_on_three_touchpoints() {
        use Channel::*;
        let t = [(0, OrganicSearch), (7 * D, Email), (14 * D, Direct)];
        assert_eq!(shares(Model::LastNonDirectClick, &t), [0.0, 1.0, 0.0]);
        assert_eq!(shares(Model::FirstClick, &t), [1.0, 0.0, 0.0]);
        assert_eq!(shares(Model::LastClick, &t), [0.0, 0.0, 1.0]);
        let linear = shares(Model::Linear, &t);
        assert!((linear[0] - 1.0 / 3.0).abs() < 1e-9 && (linear[2] - 1.0 / 3.0).abs() < 1e-8);
        assert_eq!(shares(Model::PositionBased, &t), [0.4, 0.2, 0.4]);
        // Time decay, half-life 7 days: weights 1/4, 1/2, 1 → 1/7, 2/7, 4/7.
        let decay = shares(Model::TimeDecay, &t);
        for (got, want) in decay.iter().zip([1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0]) {
            assert!((got - want).abs() < 1e-8, "{decay:?}");
        }
    }

    #[test]
    fn small_and_all_direct_paths() {
        use Channel::*;
        assert_eq!(shares(Model::PositionBased, &[(0, Email)]), [1.0]);
        assert_eq!(
            shares(Model::PositionBased, &[(0, Email), (D, Referral)]),
            [0.5, 0.5]
        );
        assert_eq!(
            shares(Model::LastNonDirectClick, &[(0, Direct), (D, Direct)]),
            [0.0, 1.0]
        );
        let four = shares(
            Model::PositionBased,
            &[(0, Email), (1, Direct), (2, Direct), (3, Referral)],
        );
        assert_eq!(four, [0.4, 0.1, 0.1, 0.4]);
    }
}
