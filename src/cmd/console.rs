//! Workflow commands under GitHub Actions. The runner reads every line a step prints, on stdout
//! and stderr alike, for workflow commands: `::name ...::` at the start of a line, and the
//! legacy `##[name ...]` anywhere in one. Text from files reaches perfgate's output (benchmark
//! ids, a CPU model, a testbed, an error about a file), so any of it could be a command. With
//! `GITHUB_ACTIONS=true` perfgate therefore stops the runner's command processing
//! (`::stop-commands::<token>`) before it prints anything, resumes it (`::<token>::`) only to
//! print its own annotations, stops it again with a new token, and resumes it before it exits.
//!
//! The runner's command state belongs to the job, not to the step's process: a stop left
//! unresumed would make the runner ignore the workflow commands of every later step, so the
//! binary calls [`end`] on every way out, errors and panics included.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::report::github::{resume_commands, stop_commands, stop_token};

/// One of the process's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

struct State {
    /// `GITHUB_ACTIONS=true`, as read by [`begin`].
    active: bool,
    /// Where the stop and resume lines and the annotations go.
    stream: Stream,
    /// The token of the stop in force, if commands are stopped.
    token: Option<String>,
}

static STATE: Mutex<State> = Mutex::new(State {
    active: false,
    stream: Stream::Stderr,
    token: None,
});

/// Whether what [`super::out`] last wrote to stdout ended inside a line: a resume glued to the
/// end of that line would not start a line, the runner would not see it, and commands would
/// stay stopped.
static STDOUT_MID_LINE: AtomicBool = AtomicBool::new(false);

fn state() -> MutexGuard<'static, State> {
    // Nothing panics while holding the lock; a poisoned one still holds a consistent state.
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Chooses the stream of the workflow commands and, under GitHub Actions, stops the runner's
/// command processing. Call it before anything else is printed; while a stop is in force a
/// second call changes nothing, since the resume must go where the stop went.
pub fn begin(stream: Stream) {
    let mut s = state();
    if s.token.is_some() {
        return;
    }
    s.stream = stream;
    s.active = crate::report::github::GithubEnv::from_env().active;
    if s.active {
        let token = stop_token();
        emit(stream, &stop_commands(&token));
        s.token = Some(token);
    }
}

/// Prints workflow commands of perfgate's own (the annotations) where the runner obeys them:
/// resumed just before them and stopped again, with a new token, just after, in one write.
/// Without [`begin`] under GitHub Actions, it only prints them. A closed stream is ignored, as
/// for every other diagnostic.
pub fn commands(text: &str) {
    let mut s = state();
    let mut block = String::new();
    if let Some(token) = s.token.take() {
        block.push_str(&resume_commands(&token));
    }
    block.push_str(text);
    if s.active {
        // A new token: the old one has been printed, and what follows must not be able to
        // resume with it.
        let token = stop_token();
        block.push_str(&stop_commands(&token));
        s.token = Some(token);
    }
    emit(s.stream, &block);
}

/// Resumes the runner's command processing if it is stopped. Call it last, on every way out of
/// the process (`std::process::exit` runs no destructors).
pub fn end() {
    let mut s = state();
    if let Some(token) = s.token.take() {
        emit(s.stream, &resume_commands(&token));
    }
}

/// Notes what was written to stdout outside this module, to know whether it ended a line.
pub(super) fn wrote_stdout(text: &str) {
    if let Some(last) = text.as_bytes().last() {
        STDOUT_MID_LINE.store(*last != b'\n', Ordering::Relaxed);
    }
}

/// Writes `text` to `stream` after flushing the other one. The runner reads the two streams
/// through two pipes and merges their lines in the order it happens to read them, so only lines
/// of one stream keep their order against each other: the stop and resume lines and the
/// annotations go on one stream, in order, and whatever the other stream holds is pushed out
/// first, so that it reaches the runner before a resume rather than after it.
fn emit(stream: Stream, text: &str) {
    match stream {
        Stream::Stdout => {
            let _ = std::io::stderr().flush();
            let mut out = std::io::stdout().lock();
            if STDOUT_MID_LINE.swap(false, Ordering::Relaxed) {
                let _ = out.write_all(b"\n");
            }
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
        }
        Stream::Stderr => {
            let _ = std::io::stdout().flush();
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
        }
    }
}
