//! `perfgate_workload::pipe` under signals: a handler installed without `SA_RESTART` makes blocked
//! `write`, `read`, `splice` and `vmsplice` calls (alone and chained by `vmsplice_splice`)
//! fail with `EINTR` or return short; the loops must carry on and deliver every byte in order.
//! A process-wide handler is why this lives in its own test binary.
#![cfg(target_os = "linux")]

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use perfgate_workload::pipe::{self, pipe_with_capacity, read_full, write_all};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTS.fetch_add(1, Ordering::Relaxed);
}

fn install_handler() {
    // SAFETY: a handler that only touches an atomic; no SA_RESTART on purpose.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = 0;
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 253) as u8).collect()
}

/// Sends SIGUSR1 to `thread` every 200 us until `stop`.
fn pester(thread: libc::pthread_t, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: the target thread is alive until `stop` is set.
        unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn every_path_survives_eintr_with_slow_readers() {
    install_handler();
    let data = pattern(4 << 20);
    for path in ["copy", "vmsplice", "splice", "vmsplice_splice"] {
        let (r, w) = pipe_with_capacity(4096).unwrap();
        let (r2, w2) = pipe_with_capacity(4096).unwrap();
        let stop = AtomicBool::new(false);
        let before = INTERRUPTS.load(Ordering::Relaxed);
        let got = std::thread::scope(|s| {
            let d = &data;
            let (tx, rx) = std::sync::mpsc::channel();
            s.spawn(move || {
                // SAFETY: pthread_self cannot fail.
                tx.send(unsafe { libc::pthread_self() }).unwrap();
                match path {
                    "copy" => write_all(w.as_fd(), d).unwrap(),
                    "vmsplice" => {
                        pipe::vmsplice(w.as_fd(), d).unwrap();
                    }
                    "vmsplice_splice" => {
                        // Through a one-page pipe, spliced on into the slow reader's pipe.
                        let t =
                            pipe::vmsplice_splice(r2.as_fd(), w2.as_fd(), w.as_fd(), d).unwrap();
                        assert_eq!(t.bytes, d.len() as u64);
                    }
                    _ => {
                        // Relay: data into pipe 2 on another thread, spliced on into pipe 1.
                        std::thread::scope(|s2| {
                            s2.spawn(move || write_all(w2.as_fd(), d).unwrap());
                            let t = pipe::splice(r2.as_fd(), w.as_fd(), None, 65536).unwrap();
                            assert_eq!(t.bytes, d.len() as u64);
                        });
                    }
                }
            });
            let handle = rx.recv().unwrap();
            let stop = &stop;
            s.spawn(move || pester(handle, stop));
            // A slow reader keeps the writer blocked, so the signals interrupt it.
            let mut got = Vec::with_capacity(d.len());
            let mut buf = vec![0u8; 8192];
            loop {
                let n = read_full(r.as_fd(), &mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                if n < buf.len() {
                    break;
                }
                if got.len() % (256 << 10) == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            stop.store(true, Ordering::Relaxed);
            got
        });
        assert!(
            got == data,
            "{path}: data differs ({} of {} bytes)",
            got.len(),
            data.len()
        );
        assert!(
            INTERRUPTS.load(Ordering::Relaxed) > before,
            "{path}: no signal landed"
        );
    }
}
