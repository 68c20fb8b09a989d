//! Stage progress of a running analysis, on standard error so the result on
//! standard output stays clean: a spinner with the current stage on a terminal,
//! one plain line per stage otherwise (logs, CI, tests).

use std::cell::Cell;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oncall_core::analysis::{AnalysisEvent, AnalysisStatus, Stage};

/// What the user sees while an analysis runs.
#[derive(Debug)]
pub struct Progress {
    /// Set on a terminal.
    spinner: Option<ProgressBar>,
    /// Print plain lines (not a terminal, and not asked to be quiet).
    plain: bool,
    /// The last status shown, for status-only updates (polling).
    shown: Cell<Option<AnalysisStatus>>,
}

impl Progress {
    /// A spinner when standard error is a terminal (unless `quiet`); plain lines
    /// otherwise, unless `quiet` or `lines` is false.
    pub fn start(quiet: bool, lines: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let spinner = (terminal && !quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner:.cyan} {elapsed:>4} {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.set_message("submitting the alert ...");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            spinner,
            plain: !terminal && !quiet && lines,
            shown: Cell::new(None),
        }
    }

    /// The analysis was accepted.
    pub fn accepted(&self, id: uuid::Uuid, server: Option<&str>) {
        let text = match server {
            Some(s) => format!("analysing {id} on {s} ..."),
            None => format!("analysing {id} ..."),
        };
        self.say(&text);
    }

    /// A progress event of the pipeline.
    pub fn event(&self, e: &AnalysisEvent) {
        let text = format!("{}: {}", e.stage.as_str(), e.message);
        match &self.spinner {
            // Per-source outcomes stay on screen above the spinner.
            Some(bar) if e.stage == Stage::Collected => bar.println(format!("  {text}")),
            Some(bar) => bar.set_message(text),
            None if self.plain => eprintln!("{text}"),
            None => {}
        }
    }

    /// A status read by polling (no events to show); said once per change.
    pub fn status(&self, status: AnalysisStatus) {
        if self.shown.replace(Some(status)) != Some(status) {
            self.say(&format!("status: {}", status.as_str()));
        }
    }

    /// Removes the spinner before the result is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }

    fn say(&self, text: &str) {
        match &self.spinner {
            Some(bar) => bar.set_message(text.to_owned()),
            None if self.plain => eprintln!("{text}"),
            None => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // An error path must not leave a spinner line behind the error message.
        self.finish();
    }
}
