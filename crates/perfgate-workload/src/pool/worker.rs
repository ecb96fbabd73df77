//! The worker side of the pool: the loop that a worker process runs on its stdin and stdout.
//! [`main`] is a whole worker program (the `perfgate-pool-worker` binary of this crate is
//! nothing else); [`serve`] is the loop itself, over any reader and writer.
//!
//! It reads big chunks, runs every whole request in the chunk and answers them all with one
//! write, so a parent that pipelines thousands of tasks costs the worker two syscalls per
//! chunk, not per task. Before a task that takes time (sleep, crash, hang) the answers gathered
//! so far are written out, so that they are never held hostage by a slow or dying task.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::protocol::{
    self, FrameBuf, ProtocolError, STATUS_ERROR, STATUS_OK, TaskKind, checksum, encode,
    encode_hello,
};

/// Size of the worker's reads.
const READ_CHUNK: usize = 256 << 10;

/// Exit code of a worker that met a corrupt frame, a failing pipe or an unsupported platform.
const EXIT_FAILURE: u8 = 2;

/// The whole worker program: serves the pool's protocol on the process's stdin and stdout until
/// stdin closes. Call it from a binary's `main` and return its exit code.
///
/// Exits successfully on a clean shutdown. On a corrupt frame or a pipe error it prints
/// `<program>: <error>` to stderr and returns exit code 2; on a platform without the pool
/// (not Unix) it says so and returns 2.
pub fn main() -> std::process::ExitCode {
    let name = program_name();
    match serve_stdio() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The pool may have closed our stderr already: that is no reason to panic.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{name}: {e}");
            std::process::ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The name the worker was started as, for its error messages (the root package and this crate
/// install the same worker under different names).
fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "perfgate-pool-worker".to_string())
}

#[cfg(unix)]
fn serve_stdio() -> io::Result<()> {
    use std::fs::File;
    use std::mem::ManuallyDrop;
    use std::os::fd::FromRawFd;

    // Raw descriptors: std's stdin/stdout would add a buffer copy and a lock per call.
    // SAFETY: 0 and 1 are open for the life of the process; ManuallyDrop never closes them, so
    // nothing else that uses them (std's own handles included) sees them closed under it.
    let (input, output) = unsafe {
        (
            ManuallyDrop::new(File::from_raw_fd(0)),
            ManuallyDrop::new(File::from_raw_fd(1)),
        )
    };
    serve(&*input, &*output)
}

#[cfg(not(unix))]
fn serve_stdio() -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the process pool is only supported on Unix",
    ))
}

/// Serves requests from `input` until it reaches end of file (the parent closed the pipe:
/// a clean shutdown), writing the hello frame first.
///
/// Returns an error when a frame is corrupt or a pipe fails; a crash task aborts the process.
pub fn serve<R: Read, W: Write>(mut input: R, mut output: W) -> io::Result<()> {
    let mut out = Vec::with_capacity(READ_CHUNK);
    encode_hello(&mut out, std::process::id());
    flush(&mut output, &mut out)?;
    let mut buf = FrameBuf::new(READ_CHUNK);
    loop {
        let n = match input.read(buf.spare()) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        buf.filled(n);
        crate::inject::timed(crate::inject::Site::PoolAnswer, || {
            answer(&mut buf, &mut out, &mut output)
        })?;
    }
}

/// Runs every whole request that `buf` holds and writes their answers.
fn answer<W: Write>(buf: &mut FrameBuf, out: &mut Vec<u8>, output: &mut W) -> io::Result<()> {
    while let Some(body) = buf.next_body().map_err(invalid)? {
        let frame = protocol::decode(body).map_err(invalid)?;
        run(&frame, out, output)?;
    }
    flush(output, out)
}

fn run<W: Write>(frame: &protocol::Frame<'_>, out: &mut Vec<u8>, output: &mut W) -> io::Result<()> {
    let Some(kind) = TaskKind::from_code(frame.code) else {
        let msg = format!("unknown task kind {}", frame.code);
        encode(out, frame.id, STATUS_ERROR, msg.as_bytes());
        return Ok(());
    };
    if !kind.is_instant() {
        flush(output, out)?;
    }
    match kind {
        TaskKind::Echo => encode(out, frame.id, STATUS_OK, frame.payload),
        TaskKind::Checksum => encode(
            out,
            frame.id,
            STATUS_OK,
            &checksum(frame.payload).to_le_bytes(),
        ),
        TaskKind::Sleep => {
            let Ok(micros) = <[u8; 8]>::try_from(frame.payload) else {
                let msg = "sleep wants an 8-byte microsecond count";
                encode(out, frame.id, STATUS_ERROR, msg.as_bytes());
                return Ok(());
            };
            std::thread::sleep(Duration::from_micros(u64::from_le_bytes(micros)));
            encode(out, frame.id, STATUS_OK, &[]);
        }
        TaskKind::Crash => std::process::abort(),
        TaskKind::Hang => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
    }
    Ok(())
}

fn flush<W: Write>(output: &mut W, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        output.write_all(out)?;
        output.flush()?;
        out.clear();
    }
    Ok(())
}

fn invalid(e: ProtocolError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::protocol::{decode_hello, sleep_payload};

    fn answers(wire: &[u8]) -> (u32, Vec<(u64, u8, Vec<u8>)>) {
        let mut fb = FrameBuf::new(64);
        let mut all = wire;
        let mut got = Vec::new();
        let mut pid = None;
        while !all.is_empty() || fb.has_partial() {
            let spare = fb.spare();
            let n = spare.len().min(all.len());
            spare[..n].copy_from_slice(&all[..n]);
            fb.filled(n);
            all = &all[n..];
            while let Some(body) = fb.next_body().unwrap() {
                match pid {
                    None => pid = Some(decode_hello(body).unwrap()),
                    Some(_) => {
                        let f = protocol::decode(body).unwrap();
                        got.push((f.id, f.code, f.payload.to_vec()));
                    }
                }
            }
            if n == 0 {
                break;
            }
        }
        (pid.unwrap(), got)
    }

    #[test]
    fn answers_every_request_in_order() {
        let mut wire = Vec::new();
        encode(&mut wire, 1, TaskKind::Echo as u8, b"hello");
        encode(&mut wire, 2, TaskKind::Checksum as u8, b"a");
        encode(
            &mut wire,
            3,
            TaskKind::Sleep as u8,
            &sleep_payload(Duration::from_micros(10)),
        );
        encode(&mut wire, 4, 99, b"");
        encode(&mut wire, 5, TaskKind::Sleep as u8, b"short");
        let mut output = Vec::new();
        serve(&wire[..], &mut output).unwrap();
        let (pid, got) = answers(&output);
        assert_eq!(pid, std::process::id());
        assert_eq!(got[0], (1, STATUS_OK, b"hello".to_vec()));
        assert_eq!(
            got[1],
            (2, STATUS_OK, checksum(b"a").to_le_bytes().to_vec())
        );
        assert_eq!(got[2], (3, STATUS_OK, vec![]));
        assert_eq!(got[3], (4, STATUS_ERROR, b"unknown task kind 99".to_vec()));
        assert_eq!(got[4].1, STATUS_ERROR);
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn a_corrupt_frame_is_an_error() {
        let wire = 3u32
            .to_le_bytes()
            .iter()
            .chain(&[0, 0, 0])
            .copied()
            .collect::<Vec<_>>();
        let err = serve(&wire[..], Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
