//! Tasks, tickets and the completion table.
//!
//! Every submitted task occupies a slot of the table from `submit` until its outcome is taken.
//! A [`Ticket`] is the slot's index and generation; taking the outcome frees the slot and bumps
//! its generation, so a stale ticket is refused instead of reading a later task's outcome. The
//! same pair, packed in a `u64`, is the task's id on the wire.

use std::time::Duration;

use super::error::{Outcome, TaskError};
use super::protocol::TaskKind;

/// A task to submit: borrowed payload, so submitting does not allocate.
#[derive(Debug, Clone, Copy)]
pub struct Task<'a> {
    /// What the worker does.
    pub kind: TaskKind,
    /// Its input.
    pub payload: &'a [u8],
    /// Resend once to another worker if the worker dies before answering.
    pub idempotent: bool,
    /// Fail the task, and kill its worker, if it runs longer than this.
    pub timeout: Option<Duration>,
}

impl<'a> Task<'a> {
    /// A task of `kind` with `payload`, not idempotent, without timeout.
    pub fn new(kind: TaskKind, payload: &'a [u8]) -> Self {
        Task {
            kind,
            payload,
            idempotent: false,
            timeout: None,
        }
    }

    /// An echo task.
    pub fn echo(payload: &'a [u8]) -> Self {
        Task::new(TaskKind::Echo, payload)
    }

    /// Marks the task idempotent: it may be run twice if its worker dies.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sets the task's timeout (counted from when its worker starts on it).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// The handle of a submitted task: redeem it once with [`Pool::wait`](super::Pool::wait) or
/// [`Pool::try_take`](super::Pool::try_take).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket {
    pub(super) slot: u32,
    pub(super) generation: u32,
}

impl Ticket {
    /// The task's id in the protocol's frames.
    pub(super) fn wire_id(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.slot)
    }

    /// The inverse of [`Ticket::wire_id`], for an id a worker sent back.
    pub(super) fn from_wire_id(id: u64) -> Ticket {
        Ticket {
            slot: id as u32,
            generation: (id >> 32) as u32,
        }
    }
}

/// Where a slot's task is.
#[derive(Debug)]
pub(super) enum State {
    /// No task: the slot is on the free list (or about to be handed out).
    Free,
    /// In the pool's queue, waiting for a worker with room.
    Queued,
    /// Sent to a worker, not answered yet.
    InFlight,
    /// Finished; the outcome waits to be taken.
    Done(Outcome),
}

/// One task's entry in the completion table.
#[derive(Debug)]
pub(super) struct Slot {
    /// Bumped each time the slot is freed, so old tickets no longer match.
    pub(super) generation: u32,
    pub(super) state: State,
    /// The task kind's wire code.
    pub(super) kind: u8,
    pub(super) idempotent: bool,
    /// Already resent once after a worker died.
    pub(super) retried: bool,
    pub(super) timeout: Option<Duration>,
    /// Kept only while the task may still have to be sent: queued, or idempotent.
    pub(super) payload: Option<Box<[u8]>>,
    /// When the task was submitted (only with metrics).
    #[cfg(feature = "metrics")]
    pub(super) opened: Option<std::time::Instant>,
}

/// The completion table: every task from submission until its outcome is taken, and how many
/// of them are still unfinished.
#[derive(Debug, Default)]
pub(super) struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Tasks opened and not finished (queued or in flight).
    outstanding: usize,
    /// Answer buffers given back by the caller ([`crate::pool::Pool::recycle`]), reused for
    /// later answers so that a caller who recycles makes its round trips allocation-free.
    spare: Vec<Vec<u8>>,
    /// Where task durations go (cargo feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(super) metrics: Option<crate::metrics::Metrics>,
}

/// The most answer buffers kept for reuse: enough for every task a pipelined caller has in
/// flight on a few workers, few enough that recycling never holds much memory.
const SPARE_BUFFERS: usize = 16_384;

impl Table {
    /// Tasks submitted that have no outcome yet.
    pub(super) fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// The entry of slot `slot`, which the pool got from [`Table::open`].
    pub(super) fn slot(&self, slot: u32) -> &Slot {
        &self.slots[slot as usize]
    }

    /// The entry of slot `slot`, mutably.
    pub(super) fn slot_mut(&mut self, slot: u32) -> &mut Slot {
        &mut self.slots[slot as usize]
    }

    /// The ticket of the task now in `slot`.
    pub(super) fn ticket(&self, slot: u32) -> Ticket {
        Ticket {
            slot,
            generation: self.slot(slot).generation,
        }
    }

    /// Takes a slot for `task` (reusing a freed one: the table only grows to the most tasks
    /// ever outstanding at once) and counts the task as outstanding. The slot stays `Free`
    /// until the caller queues or sends the task, or finishes it at once.
    pub(super) fn open(&mut self, task: &Task<'_>) -> Ticket {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    state: State::Free,
                    kind: 0,
                    idempotent: false,
                    retried: false,
                    timeout: None,
                    payload: None,
                    #[cfg(feature = "metrics")]
                    opened: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.kind = task.kind as u8;
        s.idempotent = task.idempotent;
        s.retried = false;
        s.timeout = task.timeout;
        // An idempotent task may be resent after its worker dies, so it keeps its payload.
        s.payload = task.idempotent.then(|| task.payload.into());
        #[cfg(feature = "metrics")]
        {
            s.opened = self.metrics.as_ref().map(|_| std::time::Instant::now());
        }
        self.outstanding += 1;
        Ticket {
            slot,
            generation: s.generation,
        }
    }

    /// An answer holding `payload`, in a recycled buffer when one is spare (no allocation when
    /// it is large enough), else in a new one.
    pub(super) fn answer(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(payload);
        buf
    }

    /// Keeps an answer's buffer for a later answer (up to [`SPARE_BUFFERS`] of them; a buffer
    /// that never allocated is not worth keeping).
    pub(super) fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() > 0 && self.spare.len() < SPARE_BUFFERS {
            self.spare.push(buf);
        }
    }

    /// Gives an unfinished task its outcome. Every way a task ends (answered, refused, timed
    /// out, orphaned by a dead worker, left without workers, cancelled) comes through here.
    pub(super) fn finish(&mut self, slot: u32, outcome: Outcome) {
        let s = &mut self.slots[slot as usize];
        s.state = State::Done(outcome);
        s.payload = None;
        self.outstanding -= 1;
        #[cfg(feature = "metrics")]
        if let (Some(m), Some(t)) = (&self.metrics, s.opened.take()) {
            m.task_done(t.elapsed());
        }
    }

    /// Finishes every queued or in-flight task with [`TaskError::Cancelled`].
    pub(super) fn cancel_unfinished(&mut self) {
        for slot in 0..self.slots.len() as u32 {
            if matches!(
                self.slots[slot as usize].state,
                State::Queued | State::InFlight
            ) {
                self.finish(slot, Err(TaskError::Cancelled));
            }
        }
    }

    /// Takes a task's outcome if it has one and frees its slot; a ticket that is stale, not
    /// from this table or already redeemed gets [`TaskError::UnknownTicket`].
    pub(super) fn try_take(&mut self, ticket: Ticket) -> Option<Outcome> {
        let Some(slot) = self.slots.get_mut(ticket.slot as usize) else {
            return Some(Err(TaskError::UnknownTicket));
        };
        if slot.generation != ticket.generation {
            return Some(Err(TaskError::UnknownTicket));
        }
        match slot.state {
            State::Queued | State::InFlight => None,
            State::Free => Some(Err(TaskError::UnknownTicket)),
            State::Done(_) => {
                let State::Done(outcome) = std::mem::replace(&mut slot.state, State::Free) else {
                    unreachable!("matched Done above")
                };
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(ticket.slot);
                Some(outcome)
            }
        }
    }

    /// Takes every finished outcome nobody took yet.
    pub(super) fn untaken(&mut self) -> Vec<(Ticket, Outcome)> {
        let tickets: Vec<Ticket> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.state, State::Done(_)))
            .map(|(i, s)| Ticket {
                slot: i as u32,
                generation: s.generation,
            })
            .collect();
        tickets
            .into_iter()
            .filter_map(|t| self.try_take(t).map(|o| (t, o)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_answer_buffer_carries_the_next_answer() {
        let mut t = Table::default();
        let first = t.answer(b"12345678");
        let ptr = first.as_ptr();
        t.recycle(first);
        let second = t.answer(b"abcdefgh");
        assert_eq!(second, b"abcdefgh");
        assert_eq!(second.as_ptr(), ptr, "the same buffer, no new allocation");
        // An empty buffer never allocated: nothing to keep.
        t.recycle(Vec::new());
        assert!(t.spare.is_empty());
    }
}
