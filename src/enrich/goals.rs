//! Goals: which pages count as conversions, matched once per distinct path.
//!
//! A goal is `NAME=PATTERN`. The pattern is a path prefix (`/checkout/thank-you` matches that
//! page and everything below it), a glob when it holds `*` or `?` (`/signup/*/done`: `*`
//! stays within one path segment, `**` crosses segments; the whole path must match), or a
//! regular expression after `re:` (searched anywhere in the path; anchor it with `^`/`$`).
//! Goals are tried in the order given; a path belongs to the first goal it matches.

use regex::Regex;

use super::query;

/// One goal.
#[derive(Debug, Clone)]
pub struct Goal {
    pub name: String,
    /// The pattern as the user wrote it.
    pub pattern: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Prefix(String),
    Regex(Regex),
}

impl Goal {
    /// Parses `NAME=PATTERN`; the error says what is wrong with it.
    pub fn parse(spec: &str) -> Result<Goal, String> {
        let (name, pattern) = spec
            .split_once('=')
            .ok_or_else(|| "expected NAME=PATTERN, e.g. purchase=/checkout/thank-you".to_owned())?;
        let (name, pattern) = (name.trim(), pattern.trim());
        if name.is_empty() {
            return Err("the goal has no name (NAME=PATTERN)".into());
        }
        if pattern.is_empty() {
            return Err(format!("goal {name:?} has no pattern (NAME=PATTERN)"));
        }
        let matcher = if let Some(re) = pattern.strip_prefix("re:") {
            Matcher::Regex(
                Regex::new(re)
                    .map_err(|e| format!("goal {name:?}: invalid regular expression: {e}"))?,
            )
        } else if pattern.contains(['*', '?']) {
            Matcher::Regex(
                glob_regex(pattern).map_err(|e| format!("goal {name:?}: invalid glob: {e}"))?,
            )
        } else {
            Matcher::Prefix(pattern.to_owned())
        };
        Ok(Goal {
            name: name.to_owned(),
            pattern: pattern.to_owned(),
            matcher,
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

/// A glob as an anchored regular expression: `**` any characters, `*` any but `/`, `?` one
/// character but `/`; everything else literal.
fn glob_regex(glob: &str) -> Result<Regex, regex::Error> {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re)
}

/// The configured goals and where a conversion's value comes from.
#[derive(Debug, Clone, Default)]
pub struct Goals {
    pub goals: Vec<Goal>,
    /// Query parameter of a goal page's URL that holds the conversion's value.
    pub value_param: Option<String>,
}

impl Goals {
    pub fn is_empty(&self) -> bool {
        self.goals.is_empty()
    }

    /// The index of the first goal `path` reaches.
    pub fn goal_of(&self, path: &str) -> Option<u16> {
        self.goals
            .iter()
            .position(|g| g.matches(path))
            .map(|i| i as u16)
    }

    /// The value a goal page's request target carries in the value parameter: a decimal
    /// number from 0 to [`MAX_VALUE`] (`49.90`, `1,299.00` with thousands separators,
    /// `12.5EUR` with a trailing currency), or `None` when absent or not such a number.
    pub fn value_of(&self, target: &[u8]) -> Option<f64> {
        let name = self.value_param.as_deref()?;
        let raw = query::param(query::query_of(target), name)?;
        parse_value(&query::percent_decode(raw, true))
    }
}

fn parse_value(raw: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    let number: String = text
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace())
        .chars()
        .filter(|&c| c != ',')
        .collect();
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && (0.0..=MAX_VALUE).contains(&value)).then_some(value)
}

/// The largest conversion value taken (a trillion): a larger or negative one is not a
/// value but a typo or an attack, and is ignored.
pub const MAX_VALUE: f64 = 1e12;

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(spec: &str) -> Goal {
        Goal::parse(spec).unwrap()
    }

    #[test]
    fn prefix_glob_and_regex() {
        let thanks = goal("purchase=/checkout/thank-you");
        assert!(thanks.matches("/checkout/thank-you"));
        assert!(thanks.matches("/checkout/thank-you/123"));
        assert!(!thanks.matches("/checkout"));

        let glob = goal("signup = /signup/*/done");
        assert_eq!(
            (glob.name.as_str(), glob.pattern.as_str()),
            ("signup", "/signup/*/done")
        );
        assert!(glob.matches("/signup/pro/done"));
        assert!(!glob.matches("/signup/pro/x/done"));
        assert!(!glob.matches("/signup/pro/done/more"));
        assert!(goal("any=/docs/**.pdf").matches("/docs/a/b/c.pdf"));
        assert!(goal("one=/p?").matches("/p1"));
        assert!(!goal("one=/p?").matches("/p/"));
        assert!(goal("dot=/a.b*").matches("/a.bc"));
        assert!(!goal("dot=/a.b*").matches("/axbc"));

        let re = goal(r"lead=re:^/(contact|demo)/sent$");
        assert!(re.matches("/demo/sent"));
        assert!(!re.matches("/demo/sent/x"));
    }

    #[test]
    fn bad_specs_say_why() {
        assert!(
            Goal::parse("no-equals")
                .unwrap_err()
                .contains("NAME=PATTERN")
        );
        assert!(Goal::parse("=/x").unwrap_err().contains("no name"));
        assert!(Goal::parse("x=").unwrap_err().contains("no pattern"));
        assert!(
            Goal::parse("x=re:(")
                .unwrap_err()
                .contains("invalid regular expression")
        );
    }

    #[test]
    fn first_goal_wins_and_values() {
        let goals = Goals {
            goals: vec![
                goal("purchase=/checkout/thank-you"),
                goal("checkout=/checkout"),
            ],
            value_param: Some("value".into()),
        };
        assert_eq!(goals.goal_of("/checkout/thank-you"), Some(0));
        assert_eq!(goals.goal_of("/checkout/step-2"), Some(1));
        assert_eq!(goals.goal_of("/"), None);
        assert_eq!(
            goals.value_of(b"/checkout/thank-you?order=7&value=49.90"),
            Some(49.9)
        );
        assert_eq!(goals.value_of(b"/t?VALUE=1%2C299.00"), Some(1299.0));
        assert_eq!(goals.value_of(b"/t?value=12.5EUR"), Some(12.5));
        assert_eq!(goals.value_of(b"/t?value=abc"), None);
        assert_eq!(goals.value_of(b"/t?value=inf"), None);
        assert_eq!(goals.value_of(b"/t?value=-5"), None);
        assert_eq!(goals.value_of(b"/t?value=1e13"), None);
        assert_eq!(goals.value_of(b"/t?value=1e12"), Some(1e12));
        assert_eq!(goals.value_of(b"/t"), None);
        assert_eq!(Goals::default().value_of(b"/t?value=1"), None);
    }
}
