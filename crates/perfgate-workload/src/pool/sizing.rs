//! Sizing: one more worker per `grow_after` of sustained backlog, one fewer after a worker
//! idled for `shrink_after`, and never fewer than `min_workers` for long.

use std::time::Instant;

use super::driver::Pool;

impl Pool {
    /// Grows on sustained backlog, shrinks after idling, refills to the minimum.
    pub(super) fn adapt(&mut self, now: Instant) {
        if self.queue.len() > self.cfg.grow_backlog && self.workers.len() < self.cfg.max_workers {
            let since = *self.backlog_since.get_or_insert(now);
            if now.duration_since(since) >= self.cfg.grow_after {
                if self.spawn_one() {
                    self.stats.grown += 1;
                    self.dispatch_queued();
                }
                // The next worker needs a backlog that lasts another `grow_after`.
                self.backlog_since = Some(now);
            }
        } else {
            self.backlog_since = None;
        }
        if self.workers.len() > self.cfg.min_workers && self.queue.is_empty() {
            let shrink_after = self.cfg.shrink_after;
            let idle = self.workers.iter().position(|w| {
                w.inflight.is_empty()
                    && !w.has_output()
                    && w.idle_since
                        .is_some_and(|t| now.duration_since(t) >= shrink_after)
            });
            if let Some(i) = idle {
                let w = self.workers.swap_remove(i);
                w.stop(self.cfg.stop_timeout);
                self.stats.shrunk += 1;
            }
        }
        self.replace_to_min();
    }

    /// The nearest moment [`Pool::adapt`] has something to do without any I/O happening: a
    /// backlog that has lasted long enough, an idle worker to retire, a failed spawn to retry.
    pub(super) fn next_resize(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        if let Some(since) = self.backlog_since {
            consider(since + self.cfg.grow_after);
        }
        if self.workers.len() > self.cfg.min_workers {
            for w in &self.workers {
                if let Some(idle) = w.idle_since {
                    consider(idle + self.cfg.shrink_after);
                }
            }
        }
        if self.workers.len() < self.cfg.min_workers
            && let Some(t) = self.next_spawn
        {
            consider(t);
        }
        next
    }
}
