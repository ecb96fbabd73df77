//! The spawn suite: spawn + wait of a tiny static child and of `/bin/true`, with and without
//! three piped standard streams, by each method of `perfgate_workload::spawn`, by
//! `std::process::Command` (the reference) and by a bare `vfork` + `execve` written here (the
//! raw floor); then the same spawn from a parent holding 1 GiB of touched memory, with a plain
//! `fork` + `exec` for contrast.
//!
//! Ids: `spawn/<method>/<child>` with method `raw_vfork`, `clone_vfork`, `posix_spawn`,
//! `command` (and `fork` for the big parent) and child `static`, `static_piped`, `true`,
//! `true_piped`, `static_1GiB_parent`. Every id has per-operation p50/p99/p999 from perfgate's
//! recorder and `Throughput::Elements(1)`, so the gate reads spawns/s.

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    use criterion::{Criterion, SamplingMode, Throughput};
    use perfgate_recorder::profile::Profile;
    use perfgate_recorder::recorder::LatencyRecorder;
    use perfgate_workload::spawn::{Method, Spawn, Stdio, tiny_static_child};

    /// The raw floor: a vfork (`clone(CLONE_VM | CLONE_VFORK | SIGCHLD)`, which is what the
    /// kernel's vfork is; libc's `vfork()` cannot be called soundly from Rust) then `execve`,
    /// with nothing else: no signal hygiene, no error reporting, a stack allocated once,
    /// optionally three fresh pipes installed as the child's 0, 1 and 2. Or, for contrast, a
    /// plain `fork()`.
    struct Raw {
        path: CString,
        argv: [*const libc::c_char; 2],
        stack: Vec<u128>,
    }

    #[repr(C)]
    struct RawArgs {
        path: *const libc::c_char,
        argv: *const *const libc::c_char,
        fds: [libc::c_int; 3],
    }

    unsafe extern "C" {
        static environ: *const *const libc::c_char;
    }

    extern "C" fn raw_child(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the suspended parent's RawArgs; only dup2, execve and _exit.
        unsafe {
            let a = &*(arg as *const RawArgs);
            for (target, fd) in a.fds.iter().enumerate() {
                if *fd >= 0 {
                    libc::dup2(*fd, target as libc::c_int);
                }
            }
            libc::execve(a.path, a.argv, environ);
            libc::_exit(127)
        }
    }

    impl Raw {
        fn new(path: &Path) -> Raw {
            let path = CString::new(path.as_os_str().as_bytes()).unwrap();
            let argv = [path.as_ptr(), std::ptr::null()];
            Raw {
                path,
                argv,
                stack: vec![0u128; 64 * 1024 / 16],
            }
        }

        fn spawn_wait(&mut self, piped: bool, fork: bool) {
            // SAFETY: bench-only floor; the child side is `raw_child` (vfork) or an immediate
            // execve (fork); every descriptor used is created and closed here.
            unsafe {
                let mut pipes = [[-1; 2]; 3];
                if piped {
                    for p in &mut pipes {
                        assert_eq!(libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC), 0);
                    }
                }
                let mut args = RawArgs {
                    path: self.path.as_ptr(),
                    argv: self.argv.as_ptr(),
                    fds: [pipes[0][0], pipes[1][1], pipes[2][1]],
                };
                let pid = if fork {
                    let pid = libc::fork();
                    if pid == 0 {
                        libc::execve(args.path, args.argv, environ);
                        libc::_exit(127);
                    }
                    pid
                } else {
                    let top = self.stack.as_mut_ptr().add(self.stack.len()) as *mut libc::c_void;
                    libc::clone(
                        raw_child,
                        top,
                        libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                        &mut args as *mut RawArgs as *mut libc::c_void,
                    )
                };
                assert!(pid > 0, "spawn failed");
                if piped {
                    for fd in args.fds {
                        libc::close(fd);
                    }
                }
                let mut status = 0;
                assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
                assert_eq!(status, 0, "raw child failed");
                if piped {
                    for fd in [pipes[0][1], pipes[1][0], pipes[2][0]] {
                        libc::close(fd);
                    }
                }
            }
        }
    }

    fn workload(path: &Path, piped: bool, method: Method) {
        let mut s = Spawn::new(path).method(method);
        if piped {
            s = s
                .stdin(Stdio::Piped)
                .stdout(Stdio::Piped)
                .stderr(Stdio::Piped);
        }
        let mut child = s.spawn().expect("spawn");
        assert!(child.wait().expect("wait").success());
    }

    fn command(path: &Path, piped: bool) {
        use std::process::{Command, Stdio};
        let mut c = Command::new(path);
        if piped {
            c.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        let mut child = c.spawn().expect("spawn");
        drop(child.stdin.take());
        assert!(child.wait().expect("wait").success());
    }

    /// 1 GiB of anonymous memory, every 4 KiB page written, transparent huge pages refused:
    /// the page tables a plain `fork` would have to copy are those of 262,144 small pages.
    struct BigMemory {
        ptr: *mut libc::c_void,
        len: usize,
    }

    impl BigMemory {
        fn new(len: usize) -> BigMemory {
            // SAFETY: a fresh anonymous mapping, written only inside its bounds.
            unsafe {
                let ptr = libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                assert_ne!(ptr, libc::MAP_FAILED, "mmap 1 GiB");
                libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE);
                // One call faults every page in (Linux 5.14+), several times faster than a
                // write per page; the same private, 4 KiB-mapped memory either way.
                if libc::madvise(ptr, len, libc::MADV_POPULATE_WRITE) != 0 {
                    let bytes = ptr as *mut u8;
                    for off in (0..len).step_by(4096) {
                        bytes.add(off).write_volatile(1);
                    }
                }
                BigMemory { ptr, len }
            }
        }
    }

    impl Drop for BigMemory {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`.
            unsafe {
                libc::munmap(self.ptr, self.len);
            }
        }
    }

    pub fn benches(c: &mut Criterion) {
        let profile = Profile::from_env();
        let samples = profile.sample_size();
        let tiny = tiny_static_child().expect("tiny static child");
        let children: [(&str, PathBuf); 2] =
            [("static", tiny.clone()), ("true", "/bin/true".into())];
        let mut group = c.benchmark_group("spawn");
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(samples)
            .warm_up_time(profile.brief_warm_up())
            .measurement_time(profile.brief_measurement())
            .throughput(Throughput::Elements(1));
        let measure = |group: &mut criterion::BenchmarkGroup<'_, _>,
                       method: &str,
                       child: &str,
                       samples: usize,
                       prepare: &dyn Fn(),
                       op: &mut dyn FnMut()| {
            let mut rec = LatencyRecorder::new(format!("spawn/{method}/{child}"), samples);
            group.bench_function(format!("{method}/{child}"), |b| {
                // Outside the timed call: criterion counts only what `iter_custom` returns,
                // in warm-up too.
                prepare();
                b.iter_custom(|iters| rec.time_ops(iters, &mut *op))
            });
            rec.finish().expect("latency log");
        };
        for (name, path) in &children {
            let mut raw = Raw::new(path);
            for piped in [false, true] {
                let child = if piped {
                    format!("{name}_piped")
                } else {
                    name.to_string()
                };
                measure(
                    &mut group,
                    "raw_vfork",
                    &child,
                    samples,
                    &|| {},
                    &mut || raw.spawn_wait(piped, false),
                );
                for method in Method::ALL {
                    measure(
                        &mut group,
                        method.name(),
                        &child,
                        samples,
                        &|| {},
                        &mut || workload(path, piped, method),
                    );
                }
                measure(&mut group, "command", &child, samples, &|| {}, &mut || {
                    command(path, piped)
                });
            }
        }

        // Faulted in only when one of these benchmarks runs: touching a gigabyte takes longer
        // than a short measurement, and the confirmation rounds invoke this binary once per
        // benchmark with a filter that selects one other benchmark.
        let big = std::cell::OnceCell::new();
        let hold = || {
            big.get_or_init(|| BigMemory::new(1 << 30));
        };
        let child = "static_1GiB_parent";
        let mut raw = Raw::new(&tiny);
        measure(&mut group, "raw_vfork", child, samples, &hold, &mut || {
            raw.spawn_wait(false, false)
        });
        for method in Method::ALL {
            measure(
                &mut group,
                method.name(),
                child,
                samples,
                &hold,
                &mut || workload(&tiny, false, method),
            );
        }
        // A plain fork copies the page tables of the whole gigabyte: tens of ms per spawn, so
        // it gets criterion's minimum sample count to stay within the suite's time budget.
        group.sample_size(10);
        measure(&mut group, "fork", child, 10, &hold, &mut || {
            raw.spawn_wait(false, true)
        });
        drop(big);
        group.finish();
    }
}

#[cfg(target_os = "linux")]
criterion::criterion_group!(benches, linux::benches);
#[cfg(target_os = "linux")]
criterion::criterion_main!(benches);

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the spawn suite runs on Linux only");
}
