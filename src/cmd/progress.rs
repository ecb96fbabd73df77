//! Progress on stderr, through indicatif: on a terminal, a live line at the bottom that shows
//! the phase (building, running the suite, the A/B rounds), what it is doing and the time left,
//! above which the phase's messages scroll; anywhere else (a CI log, a redirected stderr,
//! GitHub Actions) one plain line per message and nothing redrawn.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::note;
use crate::collect::run::Event;

/// A duration as `M:SS`.
pub(super) fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// Whether progress is drawn live: stderr is a terminal, outside GitHub Actions (whose runners
/// may give a step a terminal: act in self-hosted mode does, and every redraw of the spinner
/// then lands in the job log as a line of its own).
fn live() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("GITHUB_ACTIONS").is_none_or(|v| v != "true")
}

/// A live line, drawn on stderr at most 10 times a second.
fn bar(style: ProgressStyle, len: Option<u64>) -> ProgressBar {
    let b = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr_with_hz(10));
    b.set_style(style);
    b.enable_steady_tick(Duration::from_millis(200));
    b
}

/// A phase without a known number of steps (a build, the A/B rounds): a spinner with the
/// phase's name, the time it has taken and, with a time budget, the time left in it.
pub(super) struct Phase {
    bar: Option<ProgressBar>,
}

impl Phase {
    /// Starts phase `name` (`build`, `A/B rounds`), within `budget` when it has one.
    pub(super) fn new(name: &str, budget: Option<Duration>) -> Phase {
        if !live() {
            return Phase { bar: None };
        }
        let style = ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed}{left})")
            .expect("a valid template")
            .with_key(
                "left",
                move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    if let Some(b) = budget {
                        let left = b.saturating_sub(s.elapsed());
                        let _ = write!(w, ", {} of the budget left", clock(left));
                    }
                },
            );
        let b = bar(style, None);
        b.set_prefix(name.to_string());
        Phase { bar: Some(b) }
    }

    /// A message of the phase: kept above the live line (or printed as a line), and shown on
    /// the live line as what the phase is doing.
    pub(super) fn say(&self, msg: &str) {
        match &self.bar {
            Some(b) => {
                b.suspend(|| note(msg));
                b.set_message(crate::report::terminal_safe(msg));
            }
            None => note(msg),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Progress of a `cargo bench` run: a bar of the benchmarks with the current one and the time
/// left on a terminal, a line per benchmark otherwise.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    t0: Instant,
}

impl Progress {
    /// Progress for stderr.
    pub(super) fn new() -> Self {
        Progress {
            bar: None,
            t0: Instant::now(),
        }
    }

    /// Shows one event of a run.
    pub(super) fn show(&mut self, e: Event<'_>) {
        match e {
            Event::Building => {
                note("building and listing benchmarks...");
                if live() {
                    let style = ProgressStyle::with_template("{spinner} build: {elapsed}")
                        .expect("a valid template");
                    self.bar = Some(bar(style, None));
                }
            }
            Event::Started { id, done, total } => {
                if done == 0 {
                    self.t0 = Instant::now();
                    self.start_bar(total);
                }
                self.start(id, done, total)
            }
            Event::Finished { done } => self.finish(done),
        }
    }

    fn start_bar(&mut self, total: Option<usize>) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !live() {
            return;
        }
        let template = match total {
            Some(_) => "run [{bar:30}] {pos}/{len} {msg} ({elapsed}, about {eta} left)",
            None => "{spinner} run: {pos} {msg} ({elapsed})",
        };
        let style = ProgressStyle::with_template(template)
            .expect("a valid template")
            .progress_chars("=> ");
        self.bar = Some(bar(style, total.map(|t| t as u64)));
    }

    fn start(&mut self, id: &str, done: usize, total: Option<usize>) {
        if let Some(b) = &self.bar {
            b.set_position(done as u64);
            b.set_message(crate::report::terminal_safe(id));
            return;
        }
        let elapsed = self.t0.elapsed();
        let count = match total {
            Some(t) => format!("[{}/{t}]", done + 1),
            None => format!("[{}]", done + 1),
        };
        let eta = match total {
            Some(t) if done > 0 && t > done => {
                let per = elapsed.as_secs_f64() / done as f64;
                format!(
                    ", about {} left",
                    clock(Duration::from_secs_f64(per * (t - done) as f64))
                )
            }
            _ => String::new(),
        };
        note(&format!("{count} {id} (elapsed {}{eta})", clock(elapsed)));
    }

    fn finish(&mut self, done: usize) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        note(&format!(
            "{done} benchmark(s) measured in {}",
            clock(self.t0.elapsed())
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_format() {
        assert_eq!(clock(Duration::from_secs(130)), "2:10");
    }
}
