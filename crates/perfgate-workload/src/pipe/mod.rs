//! Moving bytes between processes: a plain copy path and Linux's zero-copy paths.
//!
//! - [`copy`]: `read` into a buffer, `write` it out. Works between any two descriptors.
//! - [`splice`]: pipe to file, pipe to pipe, pipe to socket (or file to pipe) inside the
//!   kernel, without the data crossing into user space.
//! - [`vmsplice`]: user memory into a pipe by reference (the reader's `read` is then the only
//!   copy).
//! - [`sendfile`]: a file to a socket or a pipe inside the kernel.
//! - [`vmsplice_splice`]: user memory to a socket, pipe or file through a pipe, by reference
//!   in and spliced out, from one thread without deadlocking on a full pipe.
//!
//! Each zero-copy function falls back to copying, automatically and only before any byte has
//! moved, when the kernel refuses the pair of descriptors (`EINVAL`, `ESPIPE`, `ENOSYS`, or
//! `vmsplice` on something that is not a pipe); the returned [`Transfer`] says which path was
//! taken. Every loop here handles partial transfers, `EINTR` (retried) and non-blocking
//! descriptors (`EAGAIN`: wait with `poll`, then retry).
//!
//! [`pipe`] creates close-on-exec pipes and [`set_pipe_size`] raises their capacity with
//! `F_SETPIPE_SZ`, as far as `/proc/sys/fs/pipe-max-size` allows for unprivileged users.
//! [`Pipeline`] runs `a | b | c` from [`crate::spawn`] and these pipes.

mod pipeline;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub use pipeline::Pipeline;

/// Capacity [`pipe_with_capacity`] asks for by default: 1 MiB, the default
/// `/proc/sys/fs/pipe-max-size`, and large enough for a 1 MiB chunk to move in one call.
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// Which path a transfer actually took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `read` + `write` through a user-space buffer.
    Copy,
    /// `splice`.
    Splice,
    /// `vmsplice`.
    Vmsplice,
    /// `sendfile`.
    Sendfile,
}

/// The outcome of a transfer: how many bytes moved and by which path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Bytes moved.
    pub bytes: u64,
    /// The path taken (a zero-copy function reports [`Path::Copy`] when it fell back).
    pub path: Path,
}

/// A new pipe, both ends close-on-exec: `(read end, write end)`.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((owned_fd(fds[0])?, owned_fd(fds[1])?))
}

/// A new pipe whose capacity was raised towards `capacity` bytes with [`set_pipe_size`].
pub fn pipe_with_capacity(capacity: usize) -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = pipe()?;
    set_pipe_size(w.as_fd(), capacity)?;
    Ok((r, w))
}

/// Asks for a pipe capacity of `bytes` and returns the capacity obtained. Where the request is
/// refused because it exceeds what an unprivileged process may ask (`EPERM`, or `EINVAL`
/// beyond the kernel's limit), the largest allowed size (`/proc/sys/fs/pipe-max-size`) is
/// tried, and failing that the capacity is left as it was: a small pipe is slower, not wrong.
pub fn set_pipe_size(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    let set = |n: usize| {
        // SAFETY: fcntl on a borrowed descriptor; the kernel validates the size.
        let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, n as libc::c_int) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r as usize)
        }
    };
    match set(bytes) {
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EPERM | libc::EINVAL | libc::EBUSY)
            ) =>
        {
            let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok());
            if let Some(n) = max.filter(|&m| m < bytes).and_then(|m| set(m).ok()) {
                return Ok(n);
            }
            // SAFETY: as above.
            let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ) };
            if r < 0 { Err(e) } else { Ok(r as usize) }
        }
        Err(e) => Err(e),
    }
}

/// Takes ownership of a descriptor a system call just returned, or returns its error.
pub(crate) fn owned_fd(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor just returned by the kernel, owned by nobody else.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

/// Result of one system call: bytes, or the error.
fn ret(r: isize) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// What a loop does with an error: retry now (`EINTR`), wait for readiness then retry
/// (`EAGAIN` on a non-blocking descriptor), or give up.
fn retry(e: &io::Error, fd: BorrowedFd<'_>, events: libc::c_short) -> io::Result<()> {
    match e.raw_os_error() {
        Some(libc::EINTR) => Ok(()),
        Some(libc::EAGAIN) => {
            let mut p = libc::pollfd {
                fd: fd.as_raw_fd(),
                events,
                revents: 0,
            };
            // SAFETY: one valid pollfd. EINTR from poll just means another round.
            let r = unsafe { libc::poll(&mut p, 1, -1) };
            if r < 0 {
                let pe = io::Error::last_os_error();
                if pe.raw_os_error() != Some(libc::EINTR) {
                    return Err(pe);
                }
            }
            Ok(())
        }
        _ => Err(io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0))),
    }
}

/// Writes all of `buf`, across partial writes, `EINTR` and `EAGAIN`.
pub fn write_all(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<()> {
    crate::inject::timed(crate::inject::Site::PipeCopy, || write_all_now(fd, buf))
}

fn write_all_now(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: writes from a valid slice.
        match ret(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) }) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) => retry(&e, fd, libc::POLLOUT)?,
        }
    }
    Ok(())
}

/// Reads into `buf` until it is full or end-of-file; returns the bytes read.
pub fn read_full(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    crate::inject::timed(crate::inject::Site::PipeCopy, || read_full_now(fd, buf))
}

fn read_full_now(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: reads into a valid mutable slice.
        match ret(unsafe { libc::read(fd.as_raw_fd(), rest.as_mut_ptr().cast(), rest.len()) }) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) => retry(&e, fd, libc::POLLIN)?,
        }
    }
    Ok(done)
}

/// Copies up to `len` bytes (or to end-of-file with `None`) from `from` to `to` through `buf`,
/// whose size is the chunk size.
pub fn copy(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    len: Option<u64>,
    buf: &mut [u8],
) -> io::Result<Transfer> {
    assert!(!buf.is_empty(), "copy needs a non-empty buffer");
    let mut moved = 0u64;
    loop {
        let want = len.map_or(buf.len() as u64, |l| (l - moved).min(buf.len() as u64)) as usize;
        if want == 0 {
            break;
        }
        // SAFETY: reads into a valid mutable slice.
        let n = match ret(unsafe { libc::read(from.as_raw_fd(), buf.as_mut_ptr().cast(), want) }) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                retry(&e, from, libc::POLLIN)?;
                continue;
            }
        };
        write_all(to, &buf[..n])?;
        moved += n as u64;
    }
    Ok(Transfer {
        bytes: moved,
        path: Path::Copy,
    })
}

/// Chunk used when a zero-copy function falls back to [`copy`].
const FALLBACK_CHUNK: usize = 64 * 1024;

fn refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ESPIPE | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// Moves up to `len` bytes (to end-of-file with `None`) from `from` to `to` with `splice`, at
/// most `chunk` bytes per call; one of the two must be a pipe. Falls back to [`copy`] if the
/// kernel refuses the pair before anything moved.
pub fn splice(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    len: Option<u64>,
    chunk: usize,
) -> io::Result<Transfer> {
    let mut moved = 0u64;
    loop {
        let want = len.map_or(chunk as u64, |l| (l - moved).min(chunk as u64)) as usize;
        if want == 0 {
            break;
        }
        // SAFETY: splice between two borrowed descriptors, no offsets.
        let r = unsafe {
            libc::splice(
                from.as_raw_fd(),
                std::ptr::null_mut(),
                to.as_raw_fd(),
                std::ptr::null_mut(),
                want,
                libc::SPLICE_F_MOVE,
            )
        };
        match ret(r) {
            Ok(0) => break,
            Ok(n) => moved += n as u64,
            Err(e) if moved == 0 && refused(&e) => {
                let mut buf = vec![0u8; chunk.clamp(1, FALLBACK_CHUNK)];
                return copy(from, to, len, &mut buf);
            }
            Err(e) => {
                // Readiness of both ends is unknown: wait for input, then output.
                retry(&e, from, libc::POLLIN)?;
                if e.raw_os_error() == Some(libc::EAGAIN) {
                    retry(&e, to, libc::POLLOUT)?;
                }
            }
        }
    }
    Ok(Transfer {
        bytes: moved,
        path: Path::Splice,
    })
}

fn is_pipe(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on a borrowed descriptor, into a struct we exclusively borrow.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFIFO)
}

/// Puts all of `buf` into the pipe `to` by reference with `vmsplice` (falls back to
/// [`write_all`] when `to` is not a pipe or the kernel refuses).
///
/// The pages of `buf` are read by the pipe's reader after this returns: the caller must not
/// modify `buf` until the reader has consumed the data (for example by keeping a buffer per
/// pipe capacity in rotation), or the reader will see the new contents.
pub fn vmsplice(to: BorrowedFd<'_>, buf: &[u8]) -> io::Result<Transfer> {
    if !is_pipe(to)? {
        write_all(to, buf)?;
        return Ok(Transfer {
            bytes: buf.len() as u64,
            path: Path::Copy,
        });
    }
    let mut rest = buf;
    while !rest.is_empty() {
        let iov = libc::iovec {
            iov_base: rest.as_ptr() as *mut libc::c_void,
            iov_len: rest.len(),
        };
        // SAFETY: one iovec over a valid slice; without SPLICE_F_GIFT the kernel only reads.
        match ret(unsafe { libc::vmsplice(to.as_raw_fd(), &iov, 1, 0) }) {
            Ok(n) => rest = &rest[n..],
            Err(e) if rest.len() == buf.len() && refused(&e) => {
                write_all(to, buf)?;
                return Ok(Transfer {
                    bytes: buf.len() as u64,
                    path: Path::Copy,
                });
            }
            Err(e) => retry(&e, to, libc::POLLOUT)?,
        }
    }
    Ok(Transfer {
        bytes: buf.len() as u64,
        path: Path::Vmsplice,
    })
}

/// Moves all of `buf` to `to` (a socket, a pipe, a file) through the pipe `(pipe_r, pipe_w)`
/// without copying it in user space: [`vmsplice`] into the pipe, then [`splice`] on to `to`.
///
/// One thread fills and drains the pipe here, so a piece put in must always fit: `buf` goes in
/// pieces that occupy at most the pipe's capacity (`F_GETPIPE_SZ`) in page slots, counting the
/// partial pages at an unaligned start. A single `vmsplice` of the whole buffer would block
/// forever once the buffer spans more pages than the pipe has slots (a 1 MiB heap buffer in a
/// 1 MiB pipe, or 64 KiB in a pipe left at its 64 KiB default), with the pipe full and `to`
/// empty. The pipe must be empty on entry and have no other reader; it is empty again on
/// success. The same page-reuse rule as [`vmsplice`] holds until `to`'s reader has the bytes.
pub fn vmsplice_splice(
    pipe_r: BorrowedFd<'_>,
    pipe_w: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    buf: &[u8],
) -> io::Result<Transfer> {
    // SAFETY: fcntl on a borrowed descriptor.
    let cap = unsafe { libc::fcntl(pipe_w.as_raw_fd(), libc::F_GETPIPE_SZ) };
    if cap <= 0 {
        return Err(io::Error::last_os_error());
    }
    let cap = cap as usize;
    let page = page_size();
    let mut rest = buf;
    let mut path = Path::Splice;
    while !rest.is_empty() {
        // Pages spanned = ceil((start offset in its page + len) / page) <= cap / page slots.
        let len = rest.len().min(cap - rest.as_ptr() as usize % page);
        let (piece, tail) = rest.split_at(len);
        if vmsplice(pipe_w, piece)?.path == Path::Copy {
            path = Path::Copy;
        }
        let t = splice(pipe_r, to, Some(len as u64), len)?;
        if t.bytes != len as u64 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        if t.path == Path::Copy {
            path = Path::Copy;
        }
        rest = tail;
    }
    Ok(Transfer {
        bytes: buf.len() as u64,
        path,
    })
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

/// Sends `len` bytes of the file `from`, starting at `offset`, to `to` (a socket, a pipe or a
/// file) with `sendfile`, at most `chunk` bytes per call, stopping early at end-of-file. Falls
/// back to `pread` + [`write_all`] if the kernel refuses before anything moved (for example
/// when `from` is a pipe or a socket).
pub fn sendfile(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    offset: u64,
    len: u64,
    chunk: usize,
) -> io::Result<Transfer> {
    let mut off = offset as libc::off_t;
    let mut moved = 0u64;
    while moved < len {
        let want = (len - moved).min(chunk as u64) as usize;
        // SAFETY: sendfile with a valid offset pointer; the kernel advances it.
        match ret(unsafe { libc::sendfile(to.as_raw_fd(), from.as_raw_fd(), &mut off, want) }) {
            Ok(0) => break,
            Ok(n) => moved += n as u64,
            Err(e) if moved == 0 && refused(&e) => return pread_copy(from, to, offset, len, chunk),
            Err(e) => retry(&e, to, libc::POLLOUT)?,
        }
    }
    Ok(Transfer {
        bytes: moved,
        path: Path::Sendfile,
    })
}

/// The copying fallback of [`sendfile`]: positional reads when `from` supports them, plain
/// reads (ignoring `offset`) when it is a stream.
fn pread_copy(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    offset: u64,
    len: u64,
    chunk: usize,
) -> io::Result<Transfer> {
    let mut buf = vec![0u8; chunk.clamp(1, FALLBACK_CHUNK)];
    let mut moved = 0u64;
    let mut positional = true;
    while moved < len {
        let want = (len - moved).min(buf.len() as u64) as usize;
        let r = if positional {
            // SAFETY: reads into a valid slice.
            unsafe {
                libc::pread(
                    from.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    want,
                    (offset + moved) as libc::off_t,
                )
            }
        } else {
            // SAFETY: as above.
            unsafe { libc::read(from.as_raw_fd(), buf.as_mut_ptr().cast(), want) }
        };
        match ret(r) {
            Ok(0) => break,
            Ok(n) => {
                write_all(to, &buf[..n])?;
                moved += n as u64;
            }
            Err(e) if positional && e.raw_os_error() == Some(libc::ESPIPE) => positional = false,
            Err(e) => retry(&e, from, libc::POLLIN)?,
        }
    }
    Ok(Transfer {
        bytes: moved,
        path: Path::Copy,
    })
}

#[cfg(test)]
mod tests;
