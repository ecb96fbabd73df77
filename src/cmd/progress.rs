//! Progress of a `cargo bench` run on stderr: the current benchmark, how many remain, the
//! time so far and an estimate of the time left.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::note;
use crate::collect::run::Event;

/// Erases the terminal line (ECMA-48 EL 2), so the rewritten progress line leaves no tail.
const CLEAR_LINE: &str = "\x1b[2K";

/// Progress on stderr: one rewritten line on a terminal, a line per benchmark otherwise.
pub(super) struct Progress {
    tty: bool,
    t0: Instant,
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

impl Progress {
    /// Progress for stderr, rewriting one line when stderr is a terminal.
    pub(super) fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            t0: Instant::now(),
        }
    }

    /// Shows one event of a run.
    pub(super) fn show(&mut self, e: Event<'_>) {
        match e {
            Event::Building => note("building and listing benchmarks..."),
            Event::Started { id, done, total } => {
                if done == 0 {
                    self.t0 = Instant::now();
                }
                self.start(id, done, total)
            }
            Event::Finished { done } => self.finish(done),
        }
    }

    fn start(&mut self, id: &str, done: usize, total: Option<usize>) {
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
        let line = format!("{count} {id} (elapsed {}{eta})", clock(elapsed));
        if self.tty {
            let _ = write!(
                std::io::stderr(),
                "\r{}{}",
                CLEAR_LINE,
                crate::report::terminal_safe(&line)
            );
        } else {
            note(&line);
        }
    }

    fn finish(&self, done: usize) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r{CLEAR_LINE}");
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
