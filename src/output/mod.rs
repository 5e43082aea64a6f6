//! Write: reports → Parquet files, the terminal overview, the HTML report, progress.
//!
//! Output is all-or-nothing: tables are written into a staging directory inside `--out`
//! ([`OutputDir`]), and only when every table is complete are they renamed into place. A run
//! that fails leaves the previous contents of `--out` as they were.

pub mod export;
pub mod hits;
pub mod html;
pub mod overview;
pub mod parquet;
pub mod progress;
pub mod table;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The output directory, with a staging directory for the run's files.
pub struct OutputDir {
    dir: PathBuf,
    staging: PathBuf,
    created_dir: bool,
    committed: bool,
    /// The staging directory, and `dir` when this run created it, removed if a mapped
    /// input shrinks under the reader (the run stops at once, without unwinding).
    _on_fault: Vec<crate::input::FaultCleanup>,
}

impl OutputDir {
    /// Creates `dir` if needed and a staging directory inside it. Called before any input is
    /// read, so an output that cannot be written fails the run at once.
    pub fn prepare(dir: &Path) -> Result<OutputDir> {
        Self::prepare_tagged(dir, "")
    }

    /// [`OutputDir::prepare`] with a tag in the staging directory's name, for a second output
    /// directory of the same run.
    pub fn prepare_tagged(dir: &Path, tag: &str) -> Result<OutputDir> {
        let error = |source| Error::Output {
            path: dir.display().to_string(),
            source,
        };
        let created_dir = !dir.exists();
        fs::create_dir_all(dir).map_err(error)?;
        let staging = dir.join(format!(".accesslens-staging{tag}-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(error)?;
        }
        fs::create_dir(&staging).map_err(error)?;
        let mut on_fault: Vec<_> = crate::input::remove_on_fault(&staging)
            .into_iter()
            .collect();
        if created_dir {
            on_fault.extend(crate::input::remove_on_fault(dir));
        }
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            staging,
            created_dir,
            committed: false,
            _on_fault: on_fault,
        })
    }

    /// Where the run writes its files until [`OutputDir::commit`].
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The directory the staged files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Commits with `move_in(staging, dir)` instead of [`OutputDir::commit`]'s renames, for
    /// an output with rules of its own (the state's partitions); then removes the staging
    /// directory.
    pub fn commit_with(mut self, move_in: impl FnOnce(&Path, &Path) -> Result<()>) -> Result<()> {
        move_in(&self.staging, &self.dir)?;
        fs::remove_dir_all(&self.staging).map_err(|source| Error::Output {
            path: self.staging.display().to_string(),
            source,
        })?;
        self.committed = true;
        Ok(())
    }

    /// Moves every staged file and directory into the output directory, replacing older
    /// ones. A directory (a partitioned table) replaces the old one whole, never merged into
    /// it: the old one is first moved aside into the staging directory, and removed with it.
    pub fn commit(mut self) -> Result<()> {
        let error = |path: &Path, source| Error::Output {
            path: path.display().to_string(),
            source,
        };
        let mut staged: Vec<_> = fs::read_dir(&self.staging)
            .map_err(|e| error(&self.staging, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| error(&self.staging, e))?;
        staged.sort_by_key(|e| e.file_name());
        let replaced = self.staging.join(".replaced");
        for entry in staged {
            let target = self.dir.join(entry.file_name());
            if target.is_dir() && !target.is_symlink() {
                fs::create_dir_all(&replaced).map_err(|e| error(&replaced, e))?;
                let aside = replaced.join(entry.file_name());
                fs::rename(&target, &aside).map_err(|e| error(&target, e))?;
            }
            fs::rename(entry.path(), &target).map_err(|e| error(&target, e))?;
        }
        if replaced.exists() {
            fs::remove_dir_all(&replaced).map_err(|e| error(&replaced, e))?;
        }
        fs::remove_dir(&self.staging).map_err(|e| error(&self.staging, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
            if self.created_dir {
                let _ = fs::remove_dir(&self.dir);
            }
        }
    }
}

/// Minimal JSON string escaping for the metadata values.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of strings.
pub fn json_strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let parts: Vec<String> = items.into_iter().map(|s| json_string(s.as_ref())).collect();
    format!("[{}]", parts.join(","))
}

/// UTC milliseconds as an RFC 3339 timestamp (`2026-10-10T13:55:36.000Z`).
pub fn rfc3339(ms: i64) -> String {
    let text = crate::parse::time::format_utc(ms);
    format!(
        "{}T{}.{:03}Z",
        &text[..10],
        &text[11..],
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes() {
        assert_eq!(json_string("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\u0001é""#);
        assert_eq!(json_strings(["x", "y"]), r#"["x","y"]"#);
        assert_eq!(rfc3339(1_791_640_536_007), "2026-10-10T13:55:36.007Z");
    }

    #[test]
    fn failed_run_leaves_nothing_behind() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("out");
        {
            let out = OutputDir::prepare(&dir).unwrap();
            fs::write(out.staging().join("t.parquet"), b"x").unwrap();
        }
        assert!(!dir.exists());

        let out = OutputDir::prepare(&dir).unwrap();
        fs::write(out.staging().join("t.parquet"), b"x").unwrap();
        out.commit().unwrap();
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["t.parquet"]);
    }

    #[test]
    fn a_staged_directory_replaces_the_old_one_whole() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("out");
        let stage = |files: &[&str]| {
            let out = OutputDir::prepare(&dir).unwrap();
            for f in files {
                let path = out.staging().join("hits").join(f);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, b"x").unwrap();
            }
            out.commit().unwrap();
        };
        stage(&["date=2026-10-10/part-00000.parquet"]);
        stage(&["date=2026-10-11/part-00000.parquet"]);
        let dates: Vec<_> = fs::read_dir(dir.join("hits"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(dates, ["date=2026-10-11"]);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["hits"]);
    }
}
