//! Spawning child processes on Linux without ever copying the parent's address space.
//!
//! [`Spawn`] is a small builder in the spirit of [`std::process::Command`]: a program, its
//! arguments, and what each of stdin, stdout and stderr is connected to ([`Stdio`]). It spawns
//! by one of two [`Method`]s, both of which cost the same whatever the parent's size, because
//! neither copies page tables the way a plain `fork()` does:
//!
//! - [`Method::CloneVfork`] (the default, and the fastest measured here, within 5% of a bare
//!   vfork + exec): `clone3(CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND)` on a preallocated
//!   per-thread stack, then `execve` (glibc's `clone` with signals blocked where `clone3` is
//!   unavailable). The child shares the parent's memory until it execs, so everything it needs
//!   (argv, the resolved path, the file descriptors to install) is prepared before the clone
//!   and the child only makes async-signal-safe system calls. Details in `clone.rs`.
//! - [`Method::PosixSpawn`]: glibc's `posix_spawn`, which does the same internally but maps a
//!   fresh stack for every spawn.
//!
//! Failures are reported by [`SpawnError`]: a missing program, permission denied, an argument
//! that cannot be passed (an interior NUL byte), or any other `exec` error, each naming the
//! program. Every descriptor the parent creates is close-on-exec, so children inherit only
//! their three standard streams, and a [`Child`] that is dropped without being waited for is
//! reaped on drop, so no zombie is left behind.
//!
//! [`tiny_static_child`] provides the smallest possible program to spawn: a static ELF that
//! exits at once, used by the benchmarks to measure the spawn path itself.

mod clone;
mod elf;

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

pub use elf::tiny_static_child;

/// How a child process is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `clone3(CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND)` (or `clone` with signals
    /// blocked) on a reused stack, then `execve` (see the module docs).
    #[default]
    CloneVfork,
    /// glibc's `posix_spawn`.
    PosixSpawn,
}

impl Method {
    /// Every method, in the order the benchmarks report them.
    pub const ALL: [Method; 2] = [Method::CloneVfork, Method::PosixSpawn];

    /// A short stable name, used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Method::CloneVfork => "clone_vfork",
            Method::PosixSpawn => "posix_spawn",
        }
    }
}

/// What one of the child's standard streams is connected to.
#[derive(Debug, Default)]
pub enum Stdio {
    /// The parent's own stream.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// A new pipe; the parent's end is in [`Child::stdin`], [`Child::stdout`] or
    /// [`Child::stderr`].
    Piped,
    /// A descriptor the caller owns, for example one end of a pipe to another child
    /// (see [`crate::pipe::Pipeline`]). It is closed in the parent after the spawn.
    Fd(OwnedFd),
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Self {
        Stdio::Fd(fd)
    }
}

/// Why a spawn failed.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The program does not exist (or, for a bare name, is in no `PATH` directory).
    #[error("{program}: program not found")]
    NotFound {
        /// The program as given.
        program: PathBuf,
    },
    /// The program exists but may not be executed (no execute permission, or a directory in
    /// its path may not be searched).
    #[error("{program}: permission denied")]
    PermissionDenied {
        /// The program as given.
        program: PathBuf,
    },
    /// An argument or the program name cannot be passed to `exec`.
    #[error("{program}: invalid argument: {reason}")]
    InvalidArgument {
        /// The program as given.
        program: PathBuf,
        /// What is wrong, for example an interior NUL byte in argument 2.
        reason: String,
    },
    /// Any other failure of a system call while spawning.
    #[error("{program}: {context}: {source}")]
    Os {
        /// The program as given.
        program: PathBuf,
        /// The step that failed (`pipe`, `clone`, `execve`, ...).
        context: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl SpawnError {
    fn from_errno(program: &Path, context: &'static str, errno: i32) -> SpawnError {
        let program = program.to_path_buf();
        match errno {
            libc::ENOENT => SpawnError::NotFound { program },
            libc::EACCES | libc::EPERM => SpawnError::PermissionDenied { program },
            libc::E2BIG => SpawnError::InvalidArgument {
                program,
                reason: "argument list too long".into(),
            },
            _ => SpawnError::Os {
                program,
                context,
                source: std::io::Error::from_raw_os_error(errno),
            },
        }
    }
}

/// A process to spawn: the builder. See the module documentation.
///
/// ```no_run
/// use perfgate_workload::spawn::{Spawn, Stdio};
/// use std::io::Read;
///
/// let mut child = Spawn::new("/bin/echo").arg("hello").stdout(Stdio::Piped).spawn()?;
/// let mut out = String::new();
/// child.stdout.take().unwrap().read_to_string(&mut out)?;
/// assert!(child.wait()?.success());
/// assert_eq!(out, "hello\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Spawn {
    program: OsString,
    args: Vec<OsString>,
    stdio: [Stdio; 3],
    method: Method,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
}

impl Spawn {
    /// A spawn of `program`: a path, or a bare name looked up in `PATH`. `argv[0]` is
    /// `program` as given.
    pub fn new(program: impl AsRef<OsStr>) -> Spawn {
        Spawn {
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            stdio: [Stdio::Inherit, Stdio::Inherit, Stdio::Inherit],
            method: Method::default(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Spawn {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Spawn
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Connects the child's stdin.
    pub fn stdin(mut self, stdio: Stdio) -> Spawn {
        self.stdio[0] = stdio;
        self
    }

    /// Connects the child's stdout.
    pub fn stdout(mut self, stdio: Stdio) -> Spawn {
        self.stdio[1] = stdio;
        self
    }

    /// Connects the child's stderr.
    pub fn stderr(mut self, stdio: Stdio) -> Spawn {
        self.stdio[2] = stdio;
        self
    }

    /// Chooses how the child is created (default [`Method::CloneVfork`]).
    pub fn method(mut self, method: Method) -> Spawn {
        self.method = method;
        self
    }

    /// Spawns the child. The builder is consumed because descriptors given with
    /// [`Stdio::Fd`] are handed over to the child.
    #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
    pub fn spawn(mut self) -> Result<Child, SpawnError> {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = self.metrics.take() {
            let kind = match self.method {
                Method::CloneVfork => crate::metrics::SpawnKind::CloneVfork,
                Method::PosixSpawn => crate::metrics::SpawnKind::PosixSpawn,
            };
            let start = std::time::Instant::now();
            let result = crate::inject::timed(crate::inject::Site::Spawn, || self.spawn_now());
            metrics.spawn_done(kind, start.elapsed(), result.is_ok());
            return result;
        }
        crate::inject::timed(crate::inject::Site::Spawn, || self.spawn_now())
    }

    /// Counts this spawn (and its failure, and its duration) in `metrics` (cargo feature
    /// `metrics`).
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, metrics: &crate::metrics::Metrics) -> Spawn {
        self.metrics = Some(metrics.clone());
        self
    }

    fn spawn_now(self) -> Result<Child, SpawnError> {
        let program = PathBuf::from(&self.program);
        let prepared = Prepared::new(&self.program, &self.args)?;
        let mut child_fds: [Option<OwnedFd>; 3] = [None, None, None];
        let mut parent_ends: [Option<File>; 3] = [None, None, None];
        for (i, stdio) in self.stdio.into_iter().enumerate() {
            match stdio {
                Stdio::Inherit => {}
                Stdio::Null => {
                    let null = File::options()
                        .read(i == 0)
                        .write(i != 0)
                        .open("/dev/null")
                        .map_err(|e| SpawnError::Os {
                            program: program.clone(),
                            context: "open /dev/null",
                            source: e,
                        })?;
                    child_fds[i] = Some(null.into());
                }
                Stdio::Piped => {
                    let (read, write) = crate::pipe::pipe().map_err(|e| SpawnError::Os {
                        program: program.clone(),
                        context: "pipe",
                        source: e,
                    })?;
                    let (child_end, parent_end) =
                        if i == 0 { (read, write) } else { (write, read) };
                    child_fds[i] = Some(child_end);
                    parent_ends[i] = Some(File::from(parent_end));
                }
                Stdio::Fd(fd) => child_fds[i] = Some(fd),
            }
        }
        // The child installs its descriptors with dup2 in order 0, 1, 2: a source below 3
        // could be overwritten by an earlier target, so such sources are moved up first.
        for fd in child_fds.iter_mut() {
            if let Some(low) = fd.take_if(|f| f.as_raw_fd() < 3) {
                // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own.
                let high = crate::pipe::owned_fd(unsafe {
                    libc::fcntl(low.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3)
                })
                .map_err(|e| SpawnError::Os {
                    program: program.clone(),
                    context: "fcntl",
                    source: e,
                })?;
                *fd = Some(high);
            }
        }
        let fds: [RawFd; 3] =
            std::array::from_fn(|i| child_fds[i].as_ref().map_or(-1, |fd| fd.as_raw_fd()));
        let pid = match self.method {
            Method::CloneVfork => clone::spawn(&prepared, fds),
            Method::PosixSpawn => posix_spawn(&prepared, fds),
        };
        // The child has its copies (or failed): the parent's copies of the child ends go now,
        // so that a reader of the child's stdout sees end-of-file when the child exits.
        drop(child_fds);
        let pid =
            pid.map_err(|(context, errno)| SpawnError::from_errno(&program, context, errno))?;
        let [stdin, stdout, stderr] = parent_ends;
        Ok(Child {
            pid,
            status: None,
            stdin,
            stdout,
            stderr,
        })
    }

    /// Spawns the child with all three streams as configured and waits for it.
    pub fn status(self) -> Result<ExitStatus, SpawnError> {
        let program = PathBuf::from(&self.program);
        let mut child = self.spawn()?;
        child.wait().map_err(|e| SpawnError::Os {
            program,
            context: "waitpid",
            source: e,
        })
    }
}

/// Everything `exec` needs, built before the child exists so that the child never allocates.
pub(crate) struct Prepared {
    /// The resolved path to execute.
    path: CString,
    /// `argv`'s strings; `argv` points into them.
    _args: Vec<CString>,
    /// NULL-terminated `argv`.
    argv: Vec<*const libc::c_char>,
}

impl Prepared {
    fn new(program: &OsStr, args: &[OsString]) -> Result<Prepared, SpawnError> {
        let invalid = |reason: String| SpawnError::InvalidArgument {
            program: PathBuf::from(program),
            reason,
        };
        if program.is_empty() {
            return Err(invalid("empty program name".into()));
        }
        let mut cargs = Vec::with_capacity(args.len() + 1);
        for (i, a) in std::iter::once(program)
            .chain(args.iter().map(|a| a.as_os_str()))
            .enumerate()
        {
            let c = CString::new(a.as_bytes()).map_err(|_| {
                invalid(if i == 0 {
                    "interior NUL byte in the program name".to_string()
                } else {
                    format!("interior NUL byte in argument {i}")
                })
            })?;
            cargs.push(c);
        }
        let path = resolve(program).ok_or_else(|| SpawnError::NotFound {
            program: PathBuf::from(program),
        })?;
        let path = CString::new(path.into_os_string().into_vec_bytes())
            .map_err(|_| invalid("interior NUL byte in PATH".into()))?;
        let mut argv: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
        argv.push(std::ptr::null());
        Ok(Prepared {
            path,
            _args: cargs,
            argv,
        })
    }
}

trait IntoVecBytes {
    fn into_vec_bytes(self) -> Vec<u8>;
}

impl IntoVecBytes for OsString {
    fn into_vec_bytes(self) -> Vec<u8> {
        std::os::unix::ffi::OsStringExt::into_vec(self)
    }
}

/// The path `exec` should use: `program` itself if it contains a `/`, else the first `PATH`
/// entry holding a file of that name (like `execvp`, an entry that exists but is not
/// executable is still chosen, so that the error is "permission denied", not "not found").
fn resolve(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `posix_spawn` with the descriptors installed by file actions and `SIGPIPE` reset to its
/// default (Rust ignores it in the parent, and ignored signals stay ignored across `exec`).
fn posix_spawn(p: &Prepared, fds: [RawFd; 3]) -> Result<libc::pid_t, (&'static str, i32)> {
    // SAFETY: plain FFI on objects initialised by their init functions and destroyed before
    // returning; every pointer passed outlives the call.
    unsafe {
        let mut actions = std::mem::MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
        let mut attr = std::mem::MaybeUninit::<libc::posix_spawnattr_t>::uninit();
        check(
            libc::posix_spawn_file_actions_init(actions.as_mut_ptr()),
            "posix_spawn",
        )?;
        let actions = Guard(actions.assume_init(), |a| {
            libc::posix_spawn_file_actions_destroy(a);
        });
        check(libc::posix_spawnattr_init(attr.as_mut_ptr()), "posix_spawn")?;
        let attr = Guard(attr.assume_init(), |a| {
            libc::posix_spawnattr_destroy(a);
        });
        let actions_ptr = &actions.0 as *const _ as *mut libc::posix_spawn_file_actions_t;
        let attr_ptr = &attr.0 as *const _ as *mut libc::posix_spawnattr_t;
        for (target, fd) in fds.into_iter().enumerate() {
            if fd >= 0 {
                // glibc clears close-on-exec on the target even when fd == target.
                check(
                    libc::posix_spawn_file_actions_adddup2(actions_ptr, fd, target as i32),
                    "posix_spawn",
                )?;
            }
        }
        let mut sigdef = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(sigdef.as_mut_ptr());
        libc::sigaddset(sigdef.as_mut_ptr(), libc::SIGPIPE);
        check(
            libc::posix_spawnattr_setsigdefault(attr_ptr, sigdef.as_ptr()),
            "posix_spawn",
        )?;
        check(
            libc::posix_spawnattr_setflags(attr_ptr, libc::POSIX_SPAWN_SETSIGDEF as libc::c_short),
            "posix_spawn",
        )?;
        let mut pid: libc::pid_t = 0;
        check(
            libc::posix_spawn(
                &mut pid,
                p.path.as_ptr(),
                actions_ptr,
                attr_ptr,
                p.argv.as_ptr() as *const *mut libc::c_char,
                environ() as *const *mut libc::c_char,
            ),
            "posix_spawn",
        )?;
        Ok(pid)
    }
}

struct Guard<T>(T, unsafe fn(*mut T));

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        // SAFETY: the destructor matches the initialiser that produced `self.0`.
        unsafe { (self.1)(&mut self.0) }
    }
}

fn check(ret: libc::c_int, context: &'static str) -> Result<(), (&'static str, i32)> {
    if ret == 0 {
        Ok(())
    } else {
        Err((context, ret))
    }
}

/// The process environment, passed to the child as is.
fn environ() -> *const *const libc::c_char {
    unsafe extern "C" {
        static environ: *const *const libc::c_char;
    }
    // SAFETY: glibc's `environ` is always a valid NULL-terminated array (it may change under
    // `setenv`, which Rust 2024 makes unsafe for exactly this reason).
    unsafe { environ }
}

/// A running (or exited but not yet waited for) child process.
///
/// Dropping a `Child` closes the parent's pipe ends and then waits for the process, so no
/// zombie is left; a child that never exits therefore blocks the drop: [`Child::kill`] it
/// first if that can happen.
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    status: Option<ExitStatus>,
    /// The parent's end of the child's stdin, when it was [`Stdio::Piped`].
    pub stdin: Option<File>,
    /// The parent's end of the child's stdout, when it was [`Stdio::Piped`].
    pub stdout: Option<File>,
    /// The parent's end of the child's stderr, when it was [`Stdio::Piped`].
    pub stderr: Option<File>,
}

impl Child {
    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Closes the child's stdin (if piped) and waits for it to exit. Calling it again returns
    /// the same status.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let mut raw = 0;
        loop {
            // SAFETY: waitpid on our own child with a valid pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut raw, 0) };
            if r == self.pid {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
        let status = ExitStatus::from_raw(raw);
        self.status = Some(status);
        Ok(status)
    }

    /// The exit status if the child has exited, without blocking.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let mut raw = 0;
        // SAFETY: as in `wait`.
        let r = unsafe { libc::waitpid(self.pid, &mut raw, libc::WNOHANG) };
        match r {
            0 => Ok(None),
            r if r == self.pid => {
                self.status = Some(ExitStatus::from_raw(raw));
                Ok(self.status)
            }
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Sends `SIGKILL` to the child (nothing if it was already waited for).
    pub fn kill(&mut self) -> std::io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        // SAFETY: the pid is our unreaped child, so it cannot have been reused.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Waits for the child while collecting its piped stdout and stderr (read on a helper
    /// thread for stderr so that neither pipe can fill up and block the child).
    pub fn wait_with_output(mut self) -> std::io::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
        use std::io::Read;
        drop(self.stdin.take());
        let stderr = self.stderr.take();
        let err_thread = stderr.map(|mut f| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                f.read_to_end(&mut buf).map(|_| buf)
            })
        });
        let mut out = Vec::new();
        if let Some(mut f) = self.stdout.take() {
            f.read_to_end(&mut out)?;
        }
        let err = match err_thread {
            Some(t) => t
                .join()
                .map_err(|_| std::io::Error::other("stderr reader panicked"))??,
            None => Vec::new(),
        };
        let status = self.wait()?;
        Ok((status, out, err))
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        drop(self.stdin.take());
        drop(self.stdout.take());
        drop(self.stderr.take());
        if self.status.is_none() {
            let _ = self.wait();
        }
    }
}

#[cfg(test)]
mod tests;
