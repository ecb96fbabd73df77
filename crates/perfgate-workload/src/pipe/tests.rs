use super::*;
use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Runs `write` on a thread with the write end, reads everything from the read end.
fn through_pipe(cap: usize, write: impl FnOnce(OwnedFd) + Send) -> Vec<u8> {
    let (r, w) = pipe_with_capacity(cap).unwrap();
    std::thread::scope(|s| {
        s.spawn(move || write(w));
        let mut out = Vec::new();
        std::fs::File::from(r).read_to_end(&mut out).unwrap();
        out
    })
}

#[test]
fn pipes_are_cloexec_and_capacity_is_raised() {
    let (r, w) = pipe().unwrap();
    for fd in [&r, &w] {
        // SAFETY: F_GETFD on a descriptor we own; no memory is passed.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }
    assert_eq!(set_pipe_size(w.as_fd(), 256 * 1024).unwrap(), 256 * 1024);
    // Beyond any limit: capped (root) or left as it was, never an error.
    let got = set_pipe_size(w.as_fd(), 1 << 30).unwrap();
    assert!(got >= 256 * 1024, "{got}");
    // Not a pipe: a real error.
    let f = tempfile::tempfile().unwrap();
    assert!(set_pipe_size(f.as_fd(), 65536).is_err());
}

#[test]
fn copy_moves_everything_in_any_chunk_size() {
    let data = pattern(300_001);
    for chunk in [1usize, 4096, 65536, 1 << 20] {
        let d = &data;
        let out = through_pipe(65536, move |w| {
            let (sr, sw) = pipe().unwrap();
            std::thread::scope(|s| {
                s.spawn(move || write_all(sw.as_fd(), d).unwrap());
                let mut buf = vec![0u8; chunk];
                let t = copy(sr.as_fd(), w.as_fd(), None, &mut buf).unwrap();
                assert_eq!(
                    t,
                    Transfer {
                        bytes: d.len() as u64,
                        path: Path::Copy
                    }
                );
            });
        });
        assert_eq!(out, data, "chunk {chunk}");
    }
}

#[test]
fn copy_stops_at_len_and_read_full_at_eof() {
    let mut src = tempfile::tempfile().unwrap();
    src.write_all(&pattern(10_000)).unwrap();
    src.rewind().unwrap();
    let mut dst = tempfile::tempfile().unwrap();
    let t = copy(src.as_fd(), dst.as_fd(), Some(5000), &mut [0u8; 3000]).unwrap();
    assert_eq!(t.bytes, 5000);
    dst.rewind().unwrap();
    let mut buf = vec![0u8; 8000];
    assert_eq!(read_full(dst.as_fd(), &mut buf).unwrap(), 5000);
    assert_eq!(&buf[..5000], &pattern(10_000)[..5000]);
}

#[test]
fn write_all_survives_partial_writes_on_a_nonblocking_pipe() {
    let data = pattern(1 << 20);
    let d = &data;
    let out = through_pipe(4096, move |w| {
        // SAFETY: F_SETFL on the writer end we own; no memory is passed.
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        write_all(w.as_fd(), d).unwrap();
    });
    assert_eq!(out, data);
}

#[test]
fn vmsplice_into_a_pipe_and_falls_back_elsewhere() {
    let data = pattern(3 << 20);
    let d = &data;
    let out = through_pipe(65536, move |w| {
        let t = vmsplice(w.as_fd(), d).unwrap();
        assert_eq!(
            t,
            Transfer {
                bytes: d.len() as u64,
                path: Path::Vmsplice
            }
        );
    });
    assert_eq!(out, data);
    let mut f = tempfile::tempfile().unwrap();
    let t = vmsplice(f.as_fd(), &data[..1000]).unwrap();
    assert_eq!(t.path, Path::Copy);
    f.rewind().unwrap();
    let mut back = Vec::new();
    f.read_to_end(&mut back).unwrap();
    assert_eq!(back, &data[..1000]);
}

#[test]
fn splice_pipe_to_file_pipe_and_socket() {
    let data = pattern(2 << 20);
    // pipe -> file
    let file = tempfile::tempfile().unwrap();
    let (r, w) = pipe().unwrap();
    std::thread::scope(|s| {
        let d = &data;
        s.spawn(move || write_all(w.as_fd(), d).unwrap());
        let t = splice(r.as_fd(), file.as_fd(), None, 65536).unwrap();
        assert_eq!(
            t,
            Transfer {
                bytes: data.len() as u64,
                path: Path::Splice
            }
        );
    });
    let mut back = Vec::new();
    let mut f = file;
    f.rewind().unwrap();
    f.read_to_end(&mut back).unwrap();
    assert_eq!(back, data);
    // pipe -> pipe, limited length
    let d = &data;
    let out = through_pipe(65536, move |w| {
        let (r2, w2) = pipe().unwrap();
        std::thread::scope(|s| {
            // What splice leaves behind (48,576 bytes) must fit in the pipe, or the writer blocks.
            s.spawn(move || write_all(w2.as_fd(), &d[..1 << 20]).unwrap());
            let t = splice(r2.as_fd(), w.as_fd(), Some(1_000_000), 4096).unwrap();
            assert_eq!(
                t,
                Transfer {
                    bytes: 1_000_000,
                    path: Path::Splice
                }
            );
        });
    });
    assert_eq!(out, &data[..1_000_000]);
    // pipe -> socket
    let (a, mut b) = UnixStream::pair().unwrap();
    let (r, w) = pipe().unwrap();
    std::thread::scope(|s| {
        s.spawn(move || {
            write_all(w.as_fd(), d).unwrap();
        });
        s.spawn(move || {
            let t = splice(r.as_fd(), a.as_fd(), None, 1 << 20).unwrap();
            assert_eq!(t.path, Path::Splice);
        });
        let mut out = Vec::new();
        b.read_to_end(&mut out).unwrap();
        assert_eq!(&out, d);
    });
}

#[test]
fn splice_between_two_files_falls_back_to_copy() {
    let data = pattern(200_000);
    let mut src = tempfile::tempfile().unwrap();
    src.write_all(&data).unwrap();
    src.rewind().unwrap();
    let mut dst = tempfile::tempfile().unwrap();
    let t = splice(src.as_fd(), dst.as_fd(), None, 65536).unwrap();
    assert_eq!(
        t,
        Transfer {
            bytes: data.len() as u64,
            path: Path::Copy
        }
    );
    dst.rewind().unwrap();
    let mut back = Vec::new();
    dst.read_to_end(&mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn sendfile_to_socket_and_pipe_with_offset_and_fallback_from_a_pipe() {
    let data = pattern(1_500_000);
    let mut src = tempfile::tempfile().unwrap();
    src.write_all(&data).unwrap();
    // file -> socket from an offset, length beyond end-of-file stops at the end
    let (a, mut b) = UnixStream::pair().unwrap();
    std::thread::scope(|s| {
        let src = &src;
        let total = data.len() as u64;
        s.spawn(move || {
            let t = sendfile(src.as_fd(), a.as_fd(), 1000, 10_000_000, 65536).unwrap();
            assert_eq!(
                t,
                Transfer {
                    bytes: total - 1000,
                    path: Path::Sendfile
                }
            );
        });
        let mut out = Vec::new();
        b.read_to_end(&mut out).unwrap();
        assert_eq!(out, &data[1000..]);
    });
    // file -> pipe
    let d = &data;
    let s2 = &src;
    let out = through_pipe(65536, move |w| {
        let t = sendfile(s2.as_fd(), w.as_fd(), 0, d.len() as u64, 1 << 20).unwrap();
        assert_eq!(t.path, Path::Sendfile);
    });
    assert_eq!(out, data);
    // pipe -> pipe: the kernel refuses a pipe as the source, the copy fallback does it.
    let out = through_pipe(65536, move |w| {
        let (r2, w2) = pipe().unwrap();
        std::thread::scope(|s| {
            s.spawn(move || write_all(w2.as_fd(), &d[..300_000]).unwrap());
            let t = sendfile(r2.as_fd(), w.as_fd(), 0, 300_000, 65536).unwrap();
            assert_eq!(
                t,
                Transfer {
                    bytes: 300_000,
                    path: Path::Copy
                }
            );
        });
    });
    assert_eq!(out, &data[..300_000]);
}

#[test]
fn pipeline_of_three_stages_transforms_and_counts() {
    use crate::spawn::Spawn;
    let mut p = Pipeline::spawn(vec![
        Spawn::new("cat"),
        Spawn::new("tr").args(["a-z", "A-Z"]),
        Spawn::new("cat"),
    ])
    .unwrap();
    let mut out = Vec::new();
    let n = p
        .transfer(b"hello pipe\n", 1000, &mut |b| out.extend_from_slice(b))
        .unwrap();
    assert_eq!(n, 11_000);
    assert_eq!(out, b"HELLO PIPE\n".repeat(1000));
    let statuses = p.wait().unwrap();
    assert_eq!(statuses.len(), 3);
    assert!(statuses.iter().all(|s| s.success()));
}

#[test]
fn pipeline_stage_that_fails_to_spawn_is_an_error() {
    use crate::spawn::{Spawn, SpawnError};
    let err = Pipeline::spawn(vec![Spawn::new("cat"), Spawn::new("/nonexistent/x")]).unwrap_err();
    assert!(matches!(err, SpawnError::NotFound { .. }), "{err:?}");
}

/// Runs `work` on its own thread and fails the test if it has not finished within 20 s, so a
/// deadlock is a failure instead of a hung test run (the stuck thread is left behind).
fn within_deadline<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(work()).unwrap());
    match rx.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(v) => v,
        Err(_) => panic!("{what}: no progress in 20 s (deadlock)"),
    }
}

#[test]
fn vmsplice_splice_moves_buffers_larger_than_the_pipe_without_deadlock() {
    // The bench's old relay (one thread: vmsplice the whole chunk, then splice it on) hung as
    // soon as a chunk spanned more pages than the pipe has slots. Unaligned 1 MiB and 64 KiB
    // + 1 buffers through a 64 KiB pipe, to a socket and to a pipe, each read on another thread.
    let data = std::sync::Arc::new(pattern((1 << 20) + 4097));
    for (start, len, to_socket) in [
        (1usize, 1 << 20, true),
        (3, 65537, true),
        (0, (1 << 20) + 4097, false),
        (4095, 65536, false),
    ] {
        let d = data.clone();
        let out = within_deadline("vmsplice_splice", move || {
            let (r, w) = pipe().unwrap();
            assert_eq!(
                // SAFETY: F_GETPIPE_SZ on a pipe we own; no memory is passed.
                unsafe { libc::fcntl(w.as_raw_fd(), libc::F_GETPIPE_SZ) },
                65536
            );
            let (to, from): (OwnedFd, OwnedFd) = if to_socket {
                let (a, b) = UnixStream::pair().unwrap();
                (a.into(), b.into())
            } else {
                let (r2, w2) = pipe().unwrap();
                (w2, r2)
            };
            std::thread::scope(|s| {
                let piece = &d[start..start + len];
                s.spawn(move || {
                    let t = vmsplice_splice(r.as_fd(), w.as_fd(), to.as_fd(), piece).unwrap();
                    assert_eq!(
                        t,
                        Transfer {
                            bytes: len as u64,
                            path: Path::Splice
                        }
                    );
                });
                let mut out = Vec::new();
                std::fs::File::from(from).read_to_end(&mut out).unwrap();
                out
            })
        });
        assert!(
            out == data[start..start + len],
            "start {start} len {len} socket {to_socket}"
        );
    }
}
