//! Input arguments → files: a directory stands for the log files in it, a pattern
//! (`access.log*`, quoted so that the shell leaves it alone) for the files it matches, and a
//! file named twice is read once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::Source;
use crate::error::Error;

/// Whether a file name is a pattern: it has `*`, `?` or `[`.
fn is_pattern(name: &str) -> bool {
    name.contains(['*', '?', '['])
}

/// Matches a file name against a pattern: `*` any run of characters, `?` one character,
/// `[abc]`, `[a-z]` and `[!abc]` one character of (or not of) a set. A `.` at the start of a
/// name is matched only by a `.` in the pattern, as shells do.
pub fn matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob(&p, &n)
}

fn glob(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|skip| glob(&p[1..], &n[skip..])),
        Some('?') => !n.is_empty() && glob(&p[1..], &n[1..]),
        Some('[') => match (class(&p[1..]), n.first()) {
            (Some((set, negated, len)), Some(&c)) => {
                set.contains(c) != negated && glob(&p[1 + len..], &n[1..])
            }
            (None, Some(&c)) => c == '[' && glob(&p[1..], &n[1..]),
            (_, None) => false,
        },
        Some(&c) => n.first() == Some(&c) && glob(&p[1..], &n[1..]),
    }
}

/// A character set `...]` after a `[`: the set, whether it is negated, and the characters
/// it takes up to and including `]`. `None` when there is no closing `]`.
fn class(p: &[char]) -> Option<(CharSet, bool, usize)> {
    let negated = matches!(p.first(), Some('!' | '^'));
    let start = usize::from(negated);
    // A `]` first in the set is a member; the set ends at the next `]`.
    let close = start + 1 + p.get(start + 1..)?.iter().position(|&c| c == ']')?;
    Some((CharSet(p[start..close].to_vec()), negated, close + 1))
}

struct CharSet(Vec<char>);

impl CharSet {
    fn contains(&self, c: char) -> bool {
        let s = &self.0;
        let mut i = 0;
        while i < s.len() {
            if i + 2 < s.len() && s[i + 1] == '-' {
                if (s[i]..=s[i + 2]).contains(&c) {
                    return true;
                }
                i += 3;
            } else {
                if s[i] == c {
                    return true;
                }
                i += 1;
            }
        }
        false
    }
}

/// The regular, non-hidden files directly in `dir`, sorted by name.
fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, Error> {
    let error = |source| Error::Input {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
        if is_file && keep(&name) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The files one argument stands for.
pub fn expand(source: &Source) -> Result<Vec<Source>, Error> {
    let Source::File(path) = source else {
        return Ok(vec![Source::Stdin]);
    };
    if path.is_dir() {
        let files = files_in(path, |name| !name.starts_with('.'))?;
        if files.is_empty() {
            return Err(Error::NoFiles {
                what: format!("directory {}", path.display()),
            });
        }
        return Ok(files.into_iter().map(Source::File).collect());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if path.exists() || !is_pattern(&name) {
        return Ok(vec![source.clone()]);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let files = files_in(parent, |n| matches(&name, n))?;
    if files.is_empty() {
        return Err(Error::NoFiles {
            what: format!("pattern {}", path.display()),
        });
    }
    Ok(files
        .into_iter()
        .map(|f| {
            // Keep the path as the user wrote it: `logs/access.log.1`, not `./logs/…`.
            Source::File(match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => f,
                _ => PathBuf::from(f.file_name().unwrap_or_default()),
            })
        })
        .collect())
}

/// Drops files already listed (by their canonical path), keeping the first mention.
pub fn dedup(sources: Vec<Source>) -> Vec<Source> {
    let mut seen = HashSet::new();
    sources
        .into_iter()
        .filter(|s| match s {
            Source::Stdin => true,
            Source::File(p) => seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("access.log*", "access.log"));
        assert!(matches("access.log*", "access.log.2.gz"));
        assert!(!matches("access.log*", "error.log"));
        assert!(matches("access.log.?", "access.log.1"));
        assert!(!matches("access.log.?", "access.log.10"));
        assert!(matches("access.log.[0-9]*", "access.log.10.gz"));
        assert!(!matches("access.log.[!0-9]", "access.log.7"));
        assert!(matches("access.log.[!0-9]", "access.log.x"));
        assert!(matches("[]x]", "]"));
        assert!(matches("a[", "a["));
        assert!(matches("*", "x"));
        assert!(
            !matches("*", ".hidden"),
            "a leading dot is matched only by a dot"
        );
        assert!(matches(".*", ".hidden"));
        assert!(matches("*.log", "日本.log"));
    }

    #[test]
    fn directories_patterns_and_repeats() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "access.log",
            "access.log.1",
            "access.log.2.gz",
            ".hidden",
            "error.log",
        ] {
            std::fs::write(dir.path().join(name), b"x\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names = |sources: Vec<Source>| -> Vec<String> {
            sources
                .iter()
                .map(|s| match s {
                    Source::File(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
                    Source::Stdin => "-".into(),
                })
                .collect()
        };
        let all = expand(&Source::File(dir.path().to_path_buf())).unwrap();
        assert_eq!(
            names(all),
            ["access.log", "access.log.1", "access.log.2.gz", "error.log"]
        );
        let pattern = expand(&Source::File(dir.path().join("access.log*"))).unwrap();
        assert_eq!(
            names(pattern.clone()),
            ["access.log", "access.log.1", "access.log.2.gz"]
        );
        // A file named twice (and through a pattern) is read once.
        let twice = [vec![Source::File(dir.path().join("access.log"))], pattern].concat();
        assert_eq!(
            names(dedup(twice)),
            ["access.log", "access.log.1", "access.log.2.gz"]
        );
        let none = expand(&Source::File(dir.path().join("nothing*"))).unwrap_err();
        assert!(none.to_string().contains("nothing*"), "{none}");
        let empty = expand(&Source::File(dir.path().join("sub"))).unwrap_err();
        assert!(empty.to_string().contains("sub"), "{empty}");
        // A missing plain name is left for opening to report.
        assert_eq!(
            expand(&Source::File(dir.path().join("missing.log")))
                .unwrap()
                .len(),
            1
        );
    }
}
