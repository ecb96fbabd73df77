//! One worker as the pool sees it: its process, its two pipes, the output and input buffers,
//! the tasks sent to it and not answered yet, and the timeout rule for the oldest of them.
//!
//! Spawning, stopping and killing the process is in `child.rs`; this file is the I/O.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::Child;
use std::time::{Duration, Instant};

use super::error::TaskError;
use super::protocol::{self, FrameBuf, STATUS_OK};
use super::sys;
use super::task::{Table, Ticket};

/// A worker's output buffer is written out as soon as it holds this much.
const FLUSH_BYTES: usize = 32 << 10;
/// Initial read buffer per worker.
const READ_BYTES: usize = 256 << 10;
/// Pipe buffer asked for: a full pipeline of small frames fits without blocking.
const PIPE_BYTES: usize = 1 << 20;

/// Why a worker is being buried.
#[derive(Debug)]
pub(super) enum Death {
    /// Its output closed: it exited or was killed.
    Eof,
    /// A read or write on its pipes failed.
    Pipe(io::Error),
    /// It sent something that is not a valid answer to the oldest task sent.
    Protocol(String),
    /// Its oldest task ran past this timeout.
    TimedOut(Duration),
}

/// One worker process and the pool's side of its pipes.
#[derive(Debug)]
pub(super) struct Worker {
    pub(super) child: Child,
    pub(super) pid: u32,
    /// Our end of the worker's stdin; `None` once closed to make it exit.
    pub(super) tx: Option<OwnedFd>,
    pub(super) rx: OwnedFd,
    out: Vec<u8>,
    out_pos: usize,
    inbuf: FrameBuf,
    /// Slots sent and not yet answered, in the order the worker answers them.
    pub(super) inflight: VecDeque<u32>,
    /// The front task and when the pool first saw it at the front (see [`Worker::front_clock`]).
    front_seen: Option<(Ticket, Instant)>,
    pub(super) idle_since: Option<Instant>,
    /// The process has been waited for: never kill or wait again (its pid may be reused).
    pub(super) reaped: bool,
}

/// The timeout of a worker's front task and when its clock started.
struct FrontClock {
    ticket: Ticket,
    timeout: Duration,
    /// `None` until the pool has seen the task at the front: its clock starts then.
    since: Option<Instant>,
}

impl Worker {
    /// The pool's side of a freshly spawned `child`, whose stdin and stdout are pipes; idle,
    /// with empty buffers, not yet handshaken.
    pub(super) fn new(mut child: Child) -> Worker {
        let tx: OwnedFd = child.stdin.take().expect("stdin is piped").into();
        let rx: OwnedFd = child.stdout.take().expect("stdout is piped").into();
        Worker {
            pid: child.id(),
            child,
            tx: Some(tx),
            rx,
            out: Vec::with_capacity(FLUSH_BYTES * 2),
            out_pos: 0,
            inbuf: FrameBuf::new(READ_BYTES),
            inflight: VecDeque::new(),
            front_seen: None,
            idle_since: Some(Instant::now()),
            reaped: false,
        }
    }

    /// Our end of the worker's stdin, unless it was closed.
    fn tx_fd(&self) -> Result<BorrowedFd<'_>, String> {
        self.tx
            .as_ref()
            .map(|fd| fd.as_fd())
            .ok_or_else(|| "input already closed".to_string())
    }

    /// Makes both pipes non-blocking and big, then waits up to `timeout` for the worker's
    /// hello. On failure the message says why; a worker that exited first is reaped.
    pub(super) fn handshake(&mut self, timeout: Duration) -> Result<(), String> {
        for fd in [self.tx_fd()?, self.rx.as_fd()] {
            sys::set_nonblocking(fd).map_err(|e| e.to_string())?;
            sys::grow_pipe(fd, PIPE_BYTES);
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(body) = self.inbuf.next_body().map_err(|e| e.to_string())? {
                protocol::decode_hello(body).map_err(|e| e.to_string())?;
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no hello within {timeout:?}"));
            }
            let mut fds = [pollfd(&self.rx, libc::POLLIN)];
            sys::poll(&mut fds, Some(left)).map_err(|e| e.to_string())?;
            match sys::read(self.rx.as_fd(), self.inbuf.spare()) {
                Ok(Some(0)) => {
                    let status = self.kill();
                    return Err(format!("exited before its hello ({status})"));
                }
                Ok(Some(n)) => self.inbuf.filled(n),
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Buffers a task's frame; it goes out with the next [`Worker::flush`].
    #[inline]
    pub(super) fn send(&mut self, ticket: Ticket, kind: u8, payload: &[u8]) {
        protocol::encode(&mut self.out, ticket.wire_id(), kind, payload);
        self.inflight.push_back(ticket.slot);
        self.idle_since = None;
    }

    /// Buffered output not written yet.
    pub(super) fn has_output(&self) -> bool {
        self.out_pos < self.out.len()
    }

    /// Whether enough output is buffered to be worth a write now rather than at the next
    /// round.
    pub(super) fn should_flush(&self) -> bool {
        self.out.len() - self.out_pos >= FLUSH_BYTES
    }

    /// Writes as much buffered output as the pipe takes without blocking.
    pub(super) fn flush(&mut self) -> Result<(), Death> {
        let Some(tx) = &self.tx else {
            return Err(Death::Eof);
        };
        while self.has_output() {
            match sys::write(tx.as_fd(), &self.out[self.out_pos..]) {
                Ok(0) => return Ok(()),
                Ok(n) => self.out_pos += n,
                Err(e) => return Err(Death::Pipe(e)),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }

    /// Reads what the worker has answered, without blocking, and finishes those tasks in
    /// `table`. An answer that is not for the oldest task sent is a protocol violation: the
    /// worker answers in order, so anything else means it is broken.
    pub(super) fn read_answers(&mut self, table: &mut Table) -> Result<(), Death> {
        loop {
            let spare = self.inbuf.spare();
            let room = spare.len();
            let n = match sys::read(self.rx.as_fd(), spare) {
                Ok(Some(0)) => return Err(Death::Eof),
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(e) => return Err(Death::Pipe(e)),
            };
            self.inbuf.filled(n);
            while let Some(body) = self.inbuf.next_body().map_err(protocol_death)? {
                let frame = protocol::decode(body).map_err(protocol_death)?;
                let answered = Ticket::from_wire_id(frame.id);
                let expected = self.inflight.front().copied();
                // The slot is checked first: only then is it a valid index into the table.
                if expected != Some(answered.slot) || table.ticket(answered.slot) != answered {
                    return Err(Death::Protocol(format!(
                        "answer {:#x} does not match the oldest task sent",
                        frame.id
                    )));
                }
                self.inflight.pop_front();
                let outcome = if frame.code == STATUS_OK {
                    Ok(table.answer(frame.payload))
                } else {
                    Err(TaskError::Refused(
                        String::from_utf8_lossy(frame.payload).into_owned(),
                    ))
                };
                table.finish(answered.slot, outcome);
            }
            // A short read drained the pipe; a full one may have left more behind.
            if n < room {
                break;
            }
        }
        if self.inflight.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
        Ok(())
    }

    /// The timeout rule, the one place it is written: a task's timeout counts from the first
    /// time the pool sees it at the front of its worker's pipeline, which is when the worker
    /// starts on it (it answers in order), not from when it was submitted or sent. `None`
    /// when the front task has no timeout or there is no task.
    fn front_clock(&self, table: &Table) -> Option<FrontClock> {
        let ticket = table.ticket(*self.inflight.front()?);
        let timeout = table.slot(ticket.slot).timeout?;
        let since = match self.front_seen {
            Some((seen, since)) if seen == ticket => Some(since),
            _ => None,
        };
        Some(FrontClock {
            ticket,
            timeout,
            since,
        })
    }

    /// Applies the timeout rule at `now`: starts the front task's clock if it has not started,
    /// and returns the timeout if it has run out.
    pub(super) fn check_timeout(&mut self, table: &Table, now: Instant) -> Option<Duration> {
        let clock = self.front_clock(table)?;
        match clock.since {
            Some(since) => (now.duration_since(since) >= clock.timeout).then_some(clock.timeout),
            None => {
                self.front_seen = Some((clock.ticket, now));
                None
            }
        }
    }

    /// When the front task's timeout runs out, counting from `now` if its clock has not
    /// started yet.
    pub(super) fn timeout_deadline(&self, table: &Table, now: Instant) -> Option<Instant> {
        let clock = self.front_clock(table)?;
        Some(clock.since.unwrap_or(now) + clock.timeout)
    }
}

/// A `pollfd` waiting for `events` on `fd`.
pub(super) fn pollfd(fd: &OwnedFd, events: libc::c_short) -> libc::pollfd {
    use std::os::fd::AsRawFd;
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    }
}

fn protocol_death(e: protocol::ProtocolError) -> Death {
    Death::Protocol(e.to_string())
}
