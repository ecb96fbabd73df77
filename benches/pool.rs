//! The prefork process pool (`perfgate_workload::pool`) against its raw floors, in tasks/s.
//!
//! - `pool/roundtrip`: submit one 8-byte echo task and wait for it (per-task latency through
//!   perfgate's recorder); floor `pool/roundtrip_raw`: a 21-byte message (the size of that
//!   task's frame) written to a forked child that echoes it back, bare `read`/`write`.
//! - `pool/pipelined_1_worker`, `pool/pipelined_2_workers`: a stream of echo tasks with
//!   4,096 per worker in flight; floor `pool/pipelined_raw`: the same messages streamed
//!   through a forked echo child with bare syscalls, 4,096 in flight.
//! - `pool/spawn_per_task`: the naive design, one `perfgate-worker` process per task.
//!
//! Every benchmark is one task per iteration with `Throughput::Elements(1)`, so the gate
//! compares tasks/s. Ratios are in docs/performance-pool.md.
//!
//! The bench runs on perfgate's counting allocator, so the two round trips also record their
//! heap allocations and bytes per task (`allocs`, `alloc_bytes`), which the gate holds exactly.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use perfgate_recorder::profile::Profile;
use perfgate_recorder::recorder::LatencyRecorder;
use perfgate_workload::pool::protocol::{self, HEADER, STATUS_OK, TaskKind};
use perfgate_workload::pool::{Pool, PoolConfig, Task};

#[global_allocator]
static ALLOC: perfgate_recorder::CountingAllocator = perfgate_recorder::CountingAllocator;

const WORKER: &str = env!("CARGO_BIN_EXE_perfgate-worker");
/// Tasks in flight per worker in the pipelined benchmarks (the pool's default depth).
const DEPTH: usize = 4096;
/// Wire size of an 8-byte echo task, request or answer.
const FRAME: usize = HEADER + 8;

fn pool_with(workers: usize) -> Pool {
    let mut cfg = PoolConfig::new(WORKER).workers(workers, workers);
    cfg.max_in_flight_per_worker = DEPTH;
    Pool::new(cfg).expect("start the pool")
}

/// A forked child echoing every byte it reads, with bare syscalls: the floor of both the
/// round trip and the pipelined stream.
struct RawEcho {
    pid: libc::pid_t,
    to_child: libc::c_int,
    from_child: libc::c_int,
}

impl RawEcho {
    fn start() -> RawEcho {
        let (mut down, mut up) = ([0; 2], [0; 2]);
        // SAFETY: plain syscalls on arrays of two descriptors.
        unsafe {
            assert_eq!(libc::pipe2(down.as_mut_ptr(), libc::O_CLOEXEC), 0);
            assert_eq!(libc::pipe2(up.as_mut_ptr(), libc::O_CLOEXEC), 0);
            for fd in [down[1], up[1]] {
                libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
            }
        }
        // SAFETY: the child only calls async-signal-safe functions (read, write, _exit).
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: the parent's ends; holding our own write end would hide its EOF.
            unsafe {
                libc::close(down[1]);
                libc::close(up[0]);
            }
            let mut buf = [0u8; 64 << 10];
            loop {
                // SAFETY: buf is valid for its length.
                let n = unsafe { libc::read(down[0], buf.as_mut_ptr().cast(), buf.len()) };
                if n <= 0 {
                    // SAFETY: leaving the forked child without running any destructor.
                    unsafe { libc::_exit(0) };
                }
                let mut off = 0;
                while off < n as usize {
                    // SAFETY: buf[off..n] is initialised.
                    let w =
                        unsafe { libc::write(up[1], buf[off..].as_ptr().cast(), n as usize - off) };
                    if w <= 0 {
                        // SAFETY: as above.
                        unsafe { libc::_exit(1) };
                    }
                    off += w as usize;
                }
            }
        }
        // SAFETY: closing the child's ends in the parent.
        unsafe {
            libc::close(down[0]);
            libc::close(up[1]);
        }
        RawEcho {
            pid,
            to_child: down[1],
            from_child: up[0],
        }
    }

    fn write_all(&self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            // SAFETY: bytes is valid for its length.
            let n = unsafe { libc::write(self.to_child, bytes.as_ptr().cast(), bytes.len()) };
            assert!(n > 0, "raw echo write failed");
            bytes = &bytes[n as usize..];
        }
    }

    fn read_some(&self, buf: &mut [u8]) -> usize {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(self.from_child, buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n > 0, "raw echo read failed");
        n as usize
    }
}

impl Drop for RawEcho {
    fn drop(&mut self) {
        // SAFETY: our own descriptors and child; closing its input makes it exit.
        unsafe {
            libc::close(self.to_child);
            libc::close(self.from_child);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

/// The `pool` group with the profile's times, one task per iteration.
///
/// The quick profile (a smoke run, and every paired round of `perfgate check`) takes the brief
/// times of the spawn and pipe suites: even 150 ms is about 15,000 round trips and millions of
/// pipelined tasks, and at the longer quick times these 6 benchmarks were 4.3 s of a side's
/// 15.6 s round of the whole suite (docs/eval/README.md, set `2026-12-06-k9`).
fn group(c: &mut Criterion, profile: Profile) -> BenchmarkGroup<'_, WallTime> {
    let (warm_up, measurement) = match profile {
        Profile::Quick => (profile.brief_warm_up(), profile.brief_measurement()),
        Profile::Default => (profile.warm_up(), profile.measurement()),
    };
    let mut g = c.benchmark_group("pool");
    g.sample_size(profile.sample_size())
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .throughput(Throughput::Elements(1));
    g
}

fn roundtrip(c: &mut Criterion, profile: Profile) {
    let mut g = group(c, profile);
    g.sampling_mode(SamplingMode::Flat);

    let raw = RawEcho::start();
    let msg = [7u8; FRAME];
    let mut back = [0u8; FRAME];
    let mut rec = LatencyRecorder::new("pool/roundtrip_raw", profile.sample_size());
    g.bench_function("roundtrip_raw", |b| {
        b.iter_custom(|iters| {
            rec.time_ops(iters, || {
                raw.write_all(&msg);
                let mut got = 0;
                while got < FRAME {
                    got += raw.read_some(&mut back[got..]);
                }
            })
        })
    });
    rec.finish().expect("latency log");
    drop(raw);

    let mut pool = pool_with(1);
    let mut rec = LatencyRecorder::new("pool/roundtrip", profile.sample_size());
    let mut n = 0u64;
    g.bench_function("roundtrip", |b| {
        b.iter_custom(|iters| {
            rec.time_ops(iters, || {
                n += 1;
                let t = pool.submit(Task::echo(&n.to_le_bytes()));
                let answer = pool.wait(t).expect("echo");
                assert_eq!(answer, n.to_le_bytes());
                pool.recycle(answer);
            })
        })
    });
    rec.finish().expect("latency log");
    assert_eq!(pool.stats().died, 0);
    pool.shutdown();
    g.finish();
}

/// `iters` echo tasks through the pool, `depth` in flight; returns the elapsed time.
fn stream(pool: &mut Pool, iters: u64, depth: usize) -> Duration {
    let mut window = VecDeque::with_capacity(depth);
    let mut failed = 0u64;
    let start = Instant::now();
    for i in 0..iters {
        if window.len() == depth {
            failed += u64::from(pool.wait(window.pop_front().expect("full")).is_err());
        }
        window.push_back(pool.submit(Task::echo(&i.to_le_bytes())));
    }
    for t in window {
        failed += u64::from(pool.wait(t).is_err());
    }
    let elapsed = start.elapsed();
    assert_eq!(failed, 0, "pipelined tasks failed");
    elapsed
}

/// `iters` frame-sized messages through the raw echo child, `depth` in flight.
fn raw_stream(raw: &RawEcho, batch: &[u8], back: &mut [u8], iters: u64, depth: u64) -> Duration {
    let per_batch = (batch.len() / FRAME) as u64;
    let (mut sent, mut received_bytes) = (0u64, 0u64);
    let start = Instant::now();
    while received_bytes < iters * FRAME as u64 {
        let received = received_bytes / FRAME as u64;
        while sent < iters && sent - received < depth {
            let n = per_batch.min(iters - sent).min(depth - (sent - received));
            raw.write_all(&batch[..n as usize * FRAME]);
            sent += n;
        }
        received_bytes += raw.read_some(back) as u64;
    }
    start.elapsed()
}

fn pipelined(c: &mut Criterion, profile: Profile) {
    let mut g = group(c, profile);

    let raw = RawEcho::start();
    let mut batch = Vec::new();
    for i in 0..1024u64 {
        protocol::encode(&mut batch, i, TaskKind::Echo as u8, &i.to_le_bytes());
    }
    let mut back = vec![0u8; 256 << 10];
    g.bench_function("pipelined_raw", |b| {
        b.iter_custom(|iters| raw_stream(&raw, &batch, &mut back, iters, DEPTH as u64))
    });
    drop(raw);

    for (workers, id) in [(1, "pipelined_1_worker"), (2, "pipelined_2_workers")] {
        let mut pool = pool_with(workers);
        g.bench_function(id, |b| {
            b.iter_custom(|iters| stream(&mut pool, iters, DEPTH * workers))
        });
        assert_eq!(pool.stats().died, 0);
        pool.shutdown();
    }
    g.finish();
}

/// The naive design: a fresh worker process per task (spawn, handshake, one echo, exit, reap).
fn spawn_one_task(i: u64) {
    let mut child = Command::new(WORKER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn perfgate-worker");
    let mut request = Vec::new();
    protocol::encode(&mut request, i, TaskKind::Echo as u8, &i.to_le_bytes());
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(&request).expect("send the task");
    drop(stdin);
    let mut answer = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut answer)
        .expect("read the answer");
    assert!(child.wait().expect("reap").success());
    // Skip the 16-byte hello frame and the answer's 4-byte length prefix.
    let frame = protocol::decode(&answer[20..]).expect("answer frame");
    assert_eq!((frame.id, frame.code), (i, STATUS_OK));
}

fn spawn_per_task(c: &mut Criterion, profile: Profile) {
    let mut g = group(c, profile);
    let mut i = 0u64;
    g.bench_function("spawn_per_task", |b| {
        b.iter(|| {
            i += 1;
            spawn_one_task(i)
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let profile = Profile::from_env();
    roundtrip(c, profile);
    pipelined(c, profile);
    spawn_per_task(c, profile);
}

criterion_group!(pool_benches, benches);
criterion_main!(pool_benches);
