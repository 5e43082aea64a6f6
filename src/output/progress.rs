//! The progress bar on standard error, shown only when standard error is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bytes read so far, drawn as a bar (or a spinner when the total is unknown).
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar on standard error if `wanted` and standard error is a terminal; else nothing.
    pub fn new(wanted: bool) -> Progress {
        if !(wanted && std::io::stderr().is_terminal()) {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
        let progress = Progress { bar };
        progress.set_length(None);
        progress.message("reading");
        progress.bar.enable_steady_tick(Duration::from_millis(125));
        progress
    }

    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// Sets the total bytes to read, when known.
    pub fn set_length(&self, total: Option<u64>) {
        let template = match total {
            Some(total) => {
                self.bar.set_length(total);
                "{spinner} {msg:11} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}"
            }
            None => "{spinner} {msg:11} {bytes} {binary_bytes_per_sec}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
    }

    pub fn inc(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    pub fn message(&self, stage: &'static str) {
        self.bar.set_message(stage);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
