//! The pipe suite: GB/s moved from a writer thread to a reader thread for 4 KiB, 64 KiB and
//! 1 MiB chunks on each path of `perfgate_workload::pipe`, next to a raw `write`/`read` loop
//! written here with bare system calls (the floor of the copy path); then the throughput of a
//! three-process pipeline `cat | cat | cat` built by `perfgate_workload::pipe::Pipeline`.
//!
//! Ids `pipe/<path>/<chunk>`: `raw_copy` (floor), `copy` (`write_all` + `read_full`),
//! `vmsplice` (user memory into the pipe by reference, read out), `splice_file` (vmsplice in,
//! spliced out to a file in the page cache), `splice_pipe` and `splice_socket`
//! (`perfgate_workload::pipe::vmsplice_splice` on the writer thread: user memory into a pipe by
//! reference, spliced on into a second pipe or a Unix socket, read out), `sendfile_socket` (a
//! cached file sent to a Unix socket, read out); and `pipe/pipeline/cat3`. Every pipe has the
//! capacity [`DEFAULT_CAPACITY`] (1 MiB), the floor's too, so that the comparison is of the
//! code, not of the pipe size; every path sends the same page-aligned chunk and every reader
//! `read`s into the same sink, so each id moves and consumes the same bytes.
//!
//! The bench runs on perfgate's counting allocator: every `pipe/<path>/<chunk>` also records the
//! heap allocations of its transfers per chunk (`allocs`, `alloc_bytes`), counted on the reader
//! between the writer thread's start (a barrier both pass) and the last chunk read, so the
//! thread's own start-up is not counted and the copy loops are held at what they allocate.

#[global_allocator]
static ALLOC: perfgate_recorder::CountingAllocator = perfgate_recorder::CountingAllocator;

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{Seek, Write};
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    use std::sync::Barrier;
    use std::time::{Duration, Instant};

    use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
    use perfgate_recorder::AllocRecorder;
    use perfgate_recorder::alloc::counts;
    use perfgate_recorder::profile::Profile;
    use perfgate_workload::pipe::{
        self, DEFAULT_CAPACITY, Pipeline, pipe_with_capacity, read_full, write_all,
    };
    use perfgate_workload::spawn::Spawn;

    #[derive(Clone, Copy)]
    enum Kind {
        RawCopy,
        Copy,
        Vmsplice,
        SpliceFile,
        SplicePipe,
        SpliceSocket,
        SendfileSocket,
    }

    impl Kind {
        const ALL: [Kind; 7] = [
            Kind::RawCopy,
            Kind::Copy,
            Kind::Vmsplice,
            Kind::SpliceFile,
            Kind::SplicePipe,
            Kind::SpliceSocket,
            Kind::SendfileSocket,
        ];

        fn name(self) -> &'static str {
            match self {
                Kind::RawCopy => "raw_copy",
                Kind::Copy => "copy",
                Kind::Vmsplice => "vmsplice",
                Kind::SpliceFile => "splice_file",
                Kind::SplicePipe => "splice_pipe",
                Kind::SpliceSocket => "splice_socket",
                Kind::SendfileSocket => "sendfile_socket",
            }
        }
    }

    /// Size of the file that `splice_file` writes into (rewound when full) and that
    /// `sendfile_socket` sends from (cycled): large enough to leave the caches, small enough to
    /// stay in the page cache.
    const FILE_SPAN: u64 = 64 << 20;

    /// The descriptors of one benchmark, made once and reused by every sample.
    struct Ends {
        pipe_r: OwnedFd,
        pipe_w: OwnedFd,
        /// The second pipe of `splice_pipe`, which the first is spliced into.
        pipe2_r: OwnedFd,
        pipe2_w: OwnedFd,
        sock_a: UnixStream,
        sock_b: UnixStream,
        file: File,
    }

    impl Ends {
        fn new(kind: Kind) -> Ends {
            let (pipe_r, pipe_w) = if matches!(kind, Kind::RawCopy) {
                // The floor sets its pipe up with bare calls too.
                let mut fds = [0; 2];
                // SAFETY: plain syscalls on fresh descriptors.
                unsafe {
                    assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
                    libc::fcntl(fds[1], libc::F_SETPIPE_SZ, DEFAULT_CAPACITY as libc::c_int);
                    use std::os::fd::FromRawFd;
                    (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
                }
            } else {
                pipe_with_capacity(DEFAULT_CAPACITY).expect("pipe")
            };
            let (pipe2_r, pipe2_w) = pipe_with_capacity(DEFAULT_CAPACITY).expect("pipe");
            let (sock_a, sock_b) = UnixStream::pair().expect("socketpair");
            let mut file = tempfile::tempfile().expect("temp file");
            if matches!(kind, Kind::SendfileSocket) {
                let block = vec![0x5au8; 1 << 20];
                for _ in 0..FILE_SPAN >> 20 {
                    file.write_all(&block).expect("fill file");
                }
            }
            Ends {
                pipe_r,
                pipe_w,
                pipe2_r,
                pipe2_w,
                sock_a,
                sock_b,
                file,
            }
        }
    }

    fn writer(kind: Kind, ends: &Ends, src: &[u8], iters: u64) {
        let c = src.len();
        let mut off = 0u64;
        for _ in 0..iters {
            match kind {
                Kind::RawCopy => {
                    let mut done = 0;
                    while done < c {
                        // SAFETY: writes from a valid slice.
                        let n = unsafe {
                            libc::write(
                                ends.pipe_w.as_raw_fd(),
                                src[done..].as_ptr().cast(),
                                c - done,
                            )
                        };
                        assert!(n > 0, "raw write");
                        done += n as usize;
                    }
                }
                Kind::Copy => write_all(ends.pipe_w.as_fd(), src).expect("write"),
                Kind::Vmsplice | Kind::SpliceFile => {
                    pipe::vmsplice(ends.pipe_w.as_fd(), src).expect("vmsplice");
                }
                Kind::SplicePipe | Kind::SpliceSocket => {
                    let to = if matches!(kind, Kind::SplicePipe) {
                        ends.pipe2_w.as_fd()
                    } else {
                        ends.sock_a.as_fd()
                    };
                    let t =
                        pipe::vmsplice_splice(ends.pipe_r.as_fd(), ends.pipe_w.as_fd(), to, src)
                            .expect("vmsplice + splice");
                    assert_eq!(t.bytes, c as u64);
                }
                Kind::SendfileSocket => {
                    if off + c as u64 > FILE_SPAN {
                        off = 0;
                    }
                    let t =
                        pipe::sendfile(ends.file.as_fd(), ends.sock_a.as_fd(), off, c as u64, c)
                            .expect("sendfile");
                    assert_eq!(t.bytes, c as u64);
                    off += c as u64;
                }
            }
        }
    }

    fn reader(kind: Kind, ends: &Ends, sink: &mut [u8], iters: u64) {
        let c = sink.len();
        for _ in 0..iters {
            match kind {
                Kind::RawCopy => {
                    let mut done = 0;
                    while done < c {
                        // SAFETY: reads into a valid slice.
                        let n = unsafe {
                            libc::read(
                                ends.pipe_r.as_raw_fd(),
                                sink[done..].as_mut_ptr().cast(),
                                c - done,
                            )
                        };
                        assert!(n > 0, "raw read");
                        done += n as usize;
                    }
                }
                Kind::Copy | Kind::Vmsplice => {
                    assert_eq!(read_full(ends.pipe_r.as_fd(), sink).expect("read"), c);
                }
                Kind::SpliceFile => {
                    let mut file = &ends.file;
                    if file.stream_position().expect("tell") + c as u64 > FILE_SPAN {
                        file.rewind().expect("rewind");
                    }
                    let t = pipe::splice(ends.pipe_r.as_fd(), ends.file.as_fd(), Some(c as u64), c)
                        .expect("splice to file");
                    assert_eq!(t.bytes, c as u64);
                }
                Kind::SplicePipe => {
                    assert_eq!(read_full(ends.pipe2_r.as_fd(), sink).expect("read"), c);
                }
                Kind::SendfileSocket | Kind::SpliceSocket => {
                    assert_eq!(read_full(ends.sock_b.as_fd(), sink).expect("read"), c);
                }
            }
        }
    }

    /// One criterion sample: `iters` chunks from a writer thread to this thread, with the
    /// allocations of the transfer recorded in `allocs`.
    fn sample(
        kind: Kind,
        ends: &Ends,
        src: &[u8],
        sink: &mut [u8],
        iters: u64,
        allocs: &mut AllocRecorder,
    ) -> Duration {
        let go = Barrier::new(2);
        let start = Instant::now();
        std::thread::scope(|s| {
            let go = &go;
            s.spawn(move || {
                go.wait();
                writer(kind, ends, src, iters)
            });
            go.wait();
            let before = counts();
            reader(kind, ends, sink, iters);
            allocs.record(iters, counts().since(before));
        });
        start.elapsed()
    }

    pub fn benches(c: &mut Criterion) {
        let profile = Profile::from_env();
        // Quick: seven paths share the time five had, so that this file and the spawn suite
        // stay within their 14 s together (about 5.4 s here for 22 ids).
        let measurement = match profile {
            Profile::Quick => profile.brief_measurement() * 5 / 7,
            Profile::Default => profile.brief_measurement(),
        };
        let mut group = c.benchmark_group("pipe");
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(profile.sample_size())
            .warm_up_time(profile.brief_warm_up())
            .measurement_time(measurement);
        for chunk in [4usize << 10, 64 << 10, 1 << 20] {
            let label = if chunk >= 1 << 20 {
                format!("{}MiB", chunk >> 20)
            } else {
                format!("{}KiB", chunk >> 10)
            };
            group.throughput(Throughput::Bytes(chunk as u64));
            // Page-aligned, as a buffer meant for vmsplice would be: every path reads the same
            // bytes, and a chunk occupies chunk / 4 KiB pipe slots, not one more.
            let backing: Vec<u8> = (0..chunk + 4096).map(|i| i as u8).collect();
            let skip = backing.as_ptr().align_offset(4096);
            let src = &backing[skip..skip + chunk];
            let mut sink = vec![0u8; chunk];
            for kind in Kind::ALL {
                let ends = Ends::new(kind);
                let mut allocs = AllocRecorder::new(
                    format!("pipe/{}/{label}", kind.name()),
                    profile.sample_size(),
                );
                group.bench_function(BenchmarkId::new(kind.name(), &label), |b| {
                    b.iter_custom(|iters| sample(kind, &ends, src, &mut sink, iters, &mut allocs))
                });
                allocs.finish().expect("allocation log");
            }
        }

        // The pipeline: spawn `cat | cat | cat`, push 8 MiB through it, wait for all three.
        const PIPELINE_BYTES: u64 = 8 << 20;
        let chunk = vec![0x61u8; 1 << 20];
        group.throughput(Throughput::Bytes(PIPELINE_BYTES));
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("pipeline", "cat3"), |b| {
            b.iter(|| {
                let mut p = Pipeline::spawn(vec![
                    Spawn::new("cat"),
                    Spawn::new("cat"),
                    Spawn::new("cat"),
                ])
                .expect("spawn pipeline");
                let got = p
                    .transfer(&chunk, PIPELINE_BYTES / chunk.len() as u64, &mut |_| {})
                    .expect("transfer");
                assert_eq!(got, PIPELINE_BYTES);
                assert!(p.wait().expect("wait").iter().all(|s| s.success()));
            })
        });
        group.finish();
    }
}

#[cfg(target_os = "linux")]
criterion::criterion_group!(benches, linux::benches);
#[cfg(target_os = "linux")]
criterion::criterion_main!(benches);

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the pipe suite runs on Linux only");
}
