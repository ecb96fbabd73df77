//! The process pool against the real `perfgate-pool-worker` binary: results, failure paths
//! (crash, kill -9 under load, hang), backpressure, adaptive sizing, and that shutdown leaves
//! neither zombies nor file descriptors behind.
#![cfg(unix)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use perfgate_workload::pool::protocol::{TaskKind, checksum, sleep_payload};
use perfgate_workload::pool::{Pool, PoolConfig, PoolError, QueueFull, Task, TaskError, Ticket};

/// Descriptor and child counts are per process: the tests of this file run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn config(min: usize, max: usize) -> PoolConfig {
    PoolConfig::new(env!("CARGO_BIN_EXE_perfgate-pool-worker")).workers(min, max)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Processes (zombies included) whose parent is this test process.
fn children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        if after_name.split_whitespace().nth(1) == Some(me.as_str()) {
            found.push(pid);
        }
    }
    found
}

fn kill9(pid: u32) {
    // SAFETY: kill(2) with a pid of our own child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
}

#[test]
fn runs_echo_checksum_and_sleep_and_refuses_bad_tasks() {
    let _g = serial();
    let mut pool = Pool::new(config(1, 1)).unwrap();
    let echo = pool.submit(Task::echo(b"hello"));
    let sum = pool.submit(Task::new(TaskKind::Checksum, b"payload"));
    let nap = sleep_payload(Duration::from_millis(5));
    let sleep = pool.submit(Task::new(TaskKind::Sleep, &nap));
    let bad = pool.submit(Task::new(TaskKind::Sleep, b"not 8 bytes"));
    assert_eq!(pool.wait(echo), Ok(b"hello".to_vec()));
    assert_eq!(
        pool.wait(sum),
        Ok(checksum(b"payload").to_le_bytes().to_vec())
    );
    assert_eq!(pool.wait(sleep), Ok(vec![]));
    assert!(matches!(pool.wait(bad), Err(TaskError::Refused(m)) if m.contains("8-byte")));
    // A ticket yields its outcome exactly once.
    assert_eq!(pool.wait(echo), Err(TaskError::UnknownTicket));
    assert_eq!(pool.stats().died, 0);
    assert!(pool.shutdown().is_empty());
}

#[test]
fn pipelines_many_tasks_over_two_workers_in_order() {
    let _g = serial();
    let mut cfg = config(2, 2);
    cfg.max_in_flight_per_worker = 1000;
    cfg.queue_capacity = 3000;
    let mut pool = Pool::new(cfg).unwrap();
    let tickets: Vec<(Ticket, u64)> = (0..100_000u64)
        .map(|i| (pool.submit(Task::echo(&i.to_le_bytes())), i))
        .collect();
    for (t, i) in tickets {
        assert_eq!(pool.wait(t), Ok(i.to_le_bytes().to_vec()));
    }
    let stats = pool.stats();
    assert_eq!((stats.spawned, stats.died), (2, 0));
    assert!(pool.shutdown().is_empty());
}

#[test]
fn a_crashing_task_fails_its_worker_s_tasks_and_the_worker_is_replaced() {
    let _g = serial();
    let mut pool = Pool::new(config(1, 1)).unwrap();
    let first = pool.worker_pids()[0];
    let before = pool.submit(Task::echo(b"before"));
    let crash = pool.submit(Task::new(TaskKind::Crash, b""));
    let plain = pool.submit(Task::echo(b"plain"));
    let retried = pool.submit(Task::echo(b"retried").idempotent());
    assert_eq!(pool.wait(before), Ok(b"before".to_vec()));
    let died = pool.wait(crash).unwrap_err();
    assert!(
        matches!(&died, TaskError::WorkerDied { pid, cause } if *pid == first && cause.contains("signal 6")),
        "{died:?}"
    );
    assert!(matches!(
        pool.wait(plain),
        Err(TaskError::WorkerDied { .. })
    ));
    assert_eq!(pool.wait(retried), Ok(b"retried".to_vec()));
    assert_eq!(pool.workers(), 1);
    assert_ne!(pool.worker_pids()[0], first);
    let after = pool.submit(Task::echo(b"after"));
    assert_eq!(pool.wait(after), Ok(b"after".to_vec()));
    let stats = pool.stats();
    assert_eq!((stats.spawned, stats.died, stats.retried), (2, 1, 1));
    pool.shutdown();
}

#[test]
fn kill_9_under_load_loses_no_task() {
    let _g = serial();
    let mut cfg = config(2, 2);
    cfg.max_in_flight_per_worker = 2000;
    let mut pool = Pool::new(cfg).unwrap();
    let (mut ok, mut died) = (0, 0);
    let killed = 2;
    for round in 0..killed {
        let mut tickets = Vec::new();
        for i in 0..20_000u64 {
            let n = round * 20_000 + i;
            let payload = n.to_le_bytes();
            let task = Task::new(TaskKind::Checksum, &payload);
            let task = if n % 2 == 0 { task.idempotent() } else { task };
            tickets.push((pool.submit(task), n));
            if i == 10_000 {
                // The work has reached the workers: kill one while it holds thousands.
                pool.poll(Duration::ZERO);
                kill9(pool.worker_pids()[round as usize]);
            }
        }
        // Settle the round, so that the next kill cannot hit a task already retried once.
        for (t, n) in tickets {
            match pool.wait(t) {
                Ok(sum) => {
                    assert_eq!(sum, checksum(&n.to_le_bytes()).to_le_bytes().to_vec());
                    ok += 1;
                }
                Err(TaskError::WorkerDied { cause, .. }) => {
                    assert_eq!(n % 2, 1, "idempotent task {n} was not retried");
                    assert!(cause.contains("signal 9"), "{cause}");
                    died += 1;
                }
                Err(e) => panic!("task {n}: unexpected {e}"),
            }
        }
    }
    assert!(died > 0, "the kill hit no task in flight");
    assert_eq!(ok + died, 40_000);
    let stats = pool.stats();
    assert_eq!(stats.died, killed);
    assert_eq!(stats.spawned, 2 + killed);
    assert!(stats.retried > 0, "{stats:?}");
    assert_eq!(pool.workers(), 2);
    pool.shutdown();
}

#[test]
fn a_hung_task_times_out_and_its_worker_is_replaced() {
    let _g = serial();
    let mut pool = Pool::new(config(1, 1)).unwrap();
    let hung_pid = pool.worker_pids()[0];
    let started = Instant::now();
    let hang = pool.submit(Task::new(TaskKind::Hang, b"").timeout(Duration::from_millis(100)));
    let behind = pool.submit(Task::echo(b"behind").idempotent());
    assert_eq!(
        pool.wait(hang),
        Err(TaskError::TimedOut {
            pid: hung_pid,
            timeout: Duration::from_millis(100)
        })
    );
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(pool.wait(behind), Ok(b"behind".to_vec()));
    let nap = sleep_payload(Duration::from_millis(10));
    let quick = pool.submit(Task::new(TaskKind::Sleep, &nap).timeout(Duration::from_secs(5)));
    assert_eq!(pool.wait(quick), Ok(vec![]));
    assert_eq!(pool.stats().timed_out, 1);
    assert_ne!(pool.worker_pids(), vec![hung_pid]);
    pool.shutdown();
}

#[test]
fn a_full_queue_pushes_back() {
    let _g = serial();
    let mut cfg = config(1, 1);
    cfg.queue_capacity = 3;
    let mut pool = Pool::new(cfg).unwrap();
    let nap = sleep_payload(Duration::from_millis(20));
    let held: Vec<Ticket> = (0..3)
        .map(|_| pool.try_submit(Task::new(TaskKind::Sleep, &nap)).unwrap())
        .collect();
    assert_eq!(pool.try_submit(Task::echo(b"x")), Err(QueueFull(3)));
    // submit blocks until a slot frees, then goes through.
    let t = pool.submit(Task::echo(b"x"));
    assert!(pool.outstanding() <= 3);
    assert_eq!(pool.wait(t), Ok(b"x".to_vec()));
    for t in held {
        assert_eq!(pool.wait(t), Ok(vec![]));
    }
    pool.shutdown();
}

#[test]
fn grows_under_backlog_and_shrinks_when_idle() {
    let _g = serial();
    let mut cfg = config(1, 3);
    cfg.max_in_flight_per_worker = 1;
    cfg.grow_after = Duration::from_millis(20);
    cfg.shrink_after = Duration::from_millis(150);
    let mut pool = Pool::new(cfg).unwrap();
    let nap = sleep_payload(Duration::from_millis(20));
    let tickets: Vec<Ticket> = (0..30)
        .map(|_| pool.submit(Task::new(TaskKind::Sleep, &nap)))
        .collect();
    let mut most = pool.workers();
    while pool.outstanding() > 0 {
        pool.poll(Duration::from_millis(50));
        most = most.max(pool.workers());
    }
    assert_eq!(most, 3);
    assert_eq!(pool.stats().grown, 2);
    for t in tickets {
        assert_eq!(pool.wait(t), Ok(vec![]));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while pool.workers() > 1 && Instant::now() < deadline {
        pool.poll(Duration::from_millis(50));
    }
    assert_eq!(pool.workers(), 1);
    assert_eq!(pool.stats().shrunk, 2);
    assert_eq!(pool.stats().died, 0);
    pool.shutdown();
}

#[test]
fn shutdown_drains_and_leaves_no_zombie_or_descriptor() {
    let _g = serial();
    let fds = open_fds();
    assert!(children().is_empty());
    let mut pool = Pool::new(config(2, 2)).unwrap();
    assert_eq!(children().len(), 2);
    assert!(open_fds() > fds);
    let nap = sleep_payload(Duration::from_millis(10));
    let mut tickets: Vec<Ticket> = (0..6)
        .map(|_| pool.submit(Task::new(TaskKind::Sleep, &nap)))
        .collect();
    tickets.extend((0..1000u32).map(|i| pool.submit(Task::echo(&i.to_le_bytes()))));
    kill9(pool.worker_pids()[0]);
    let taken = pool.wait(tickets[6]);
    assert!(taken.is_ok() || matches!(taken, Err(TaskError::WorkerDied { .. })));
    let untaken = pool.shutdown();
    // Every task but the one waited on comes back, settled: none is silently dropped.
    assert_eq!(untaken.len(), tickets.len() - 1);
    assert!(untaken.iter().all(|(t, _)| *t != tickets[6]));
    assert_eq!(open_fds(), fds);
    assert!(children().is_empty(), "{:?}", children());
}

#[test]
fn cancel_fails_unfinished_tasks_and_cleans_up() {
    let _g = serial();
    let fds = open_fds();
    let mut pool = Pool::new(config(1, 1)).unwrap();
    let done = pool.submit(Task::echo(b"done"));
    while pool.outstanding() > 0 {
        pool.poll(Duration::from_millis(10));
    }
    let nap = sleep_payload(Duration::from_secs(10));
    let slow: Vec<Ticket> = (0..3)
        .map(|_| pool.submit(Task::new(TaskKind::Sleep, &nap)))
        .collect();
    pool.poll(Duration::ZERO);
    let started = Instant::now();
    let untaken = pool.cancel();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(untaken.len(), 4);
    for (t, outcome) in untaken {
        if t == done {
            assert_eq!(outcome, Ok(b"done".to_vec()));
        } else {
            assert!(slow.contains(&t));
            assert_eq!(outcome, Err(TaskError::Cancelled));
        }
    }
    assert_eq!(open_fds(), fds);
    assert!(children().is_empty());
}

#[test]
fn workers_that_cannot_start_are_errors() {
    let _g = serial();
    let err = Pool::new(PoolConfig::new("/nonexistent/perfgate-worker")).unwrap_err();
    assert!(matches!(err, PoolError::Spawn { .. }), "{err}");
    let err = Pool::new(PoolConfig::new("/bin/true")).unwrap_err();
    assert!(err.to_string().contains("exited before its hello"), "{err}");
    let err = Pool::new(config(3, 2)).unwrap_err();
    assert!(matches!(err, PoolError::Config(_)), "{err}");
    assert!(children().is_empty());
}
