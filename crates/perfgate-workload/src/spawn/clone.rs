//! The `clone(CLONE_VM | CLONE_VFORK)` spawn path.
//!
//! The child runs on a stack of its own but in the parent's memory, while the parent thread is
//! suspended until the child calls `execve` or exits. So the child must not allocate, take
//! locks or run the parent's signal handlers, and it only makes system calls.
//!
//! On x86_64 with Linux 5.5 or later the clone is a `clone3` with `CLONE_CLEAR_SIGHAND`: the
//! kernel resets every caught signal to its default in the child, atomically, so no parent
//! handler can ever run there and the child only resets `SIGPIPE` (which Rust ignores, and
//! ignored signals stay ignored across `exec`). `clone3` has no libc wrapper that runs a
//! function on the new stack, so it is issued from a few lines of inline assembly.
//! Elsewhere (other architectures, older kernels, seccomp filters that refuse `clone3`),
//! glibc's `clone` is used with the sequence of glibc's own `posix_spawn`: all signals blocked
//! around the clone, every caught signal reset to its default in the child, then the mask
//! restored. That costs about 130 system calls (some 13 us here), which is why `clone3` is
//! preferred. An
//! `execve` failure is written into the shared [`ChildArgs::errno`] before `_exit(127)`, so the
//! parent reports the real cause instead of a mysterious exit status.
//!
//! The stack is mapped once per thread (with a guard page) and reused: a vfork child can only
//! use it while its parent thread is suspended, so one stack per thread is enough, and reusing
//! it avoids an `mmap`, page faults and an `munmap` on every spawn.

use std::cell::RefCell;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, Ordering};

use super::Prepared;

/// Bytes of the child's stack. The child calls only a few libc wrappers (`dup2`, `sigaction`,
/// `sigprocmask`, `execve`); glibc's own `posix_spawn` uses 32 KiB plus the argument size.
const STACK_SIZE: usize = 64 * 1024;
const GUARD: usize = 4096;

struct Stack {
    base: *mut libc::c_void,
}

impl Stack {
    fn map() -> std::io::Result<Stack> {
        // SAFETY: an anonymous private mapping, checked for failure; the guard page at the low
        // end turns a stack overflow into a fault instead of silent corruption.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                STACK_SIZE + GUARD,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            if libc::mprotect(base, GUARD, libc::PROT_NONE) != 0 {
                let e = std::io::Error::last_os_error();
                libc::munmap(base, STACK_SIZE + GUARD);
                return Err(e);
            }
            Ok(Stack { base })
        }
    }

    fn top(&self) -> *mut libc::c_void {
        // Stacks grow down on every Linux architecture Rust supports; the end is page-aligned,
        // hence 16-byte aligned as the ABIs require.
        (self.base as usize + GUARD + STACK_SIZE) as *mut libc::c_void
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, no longer used by any child once the parent thread
        // runs again.
        unsafe {
            libc::munmap(self.base, STACK_SIZE + GUARD);
        }
    }
}

thread_local! {
    static STACK: RefCell<Option<Stack>> = const { RefCell::new(None) };
}

/// What the child reads (prepared by the parent) and writes (`errno` on exec failure).
#[repr(C)]
struct ChildArgs {
    /// The kernel already reset the caught signals (`clone3` with `CLONE_CLEAR_SIGHAND`) and
    /// the parent did not block any: only `SIGPIPE` needs resetting.
    handlers_cleared: bool,
    path: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    fds: [RawFd; 3],
    mask: libc::sigset_t,
    errno: libc::c_int,
}

/// The child side. Only async-signal-safe system-call wrappers; no allocation, no panics.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildArgs` of the suspended parent, alive until we exec or exit.
    unsafe {
        let args = &mut *(arg as *mut ChildArgs);
        for (target, &fd) in args.fds.iter().enumerate() {
            // The parent guarantees fd >= 3, so it never collides with another target, and
            // dup2 clears close-on-exec on the copy.
            if fd >= 0 && libc::dup2(fd, target as RawFd) < 0 {
                return fail(args);
            }
        }
        let mut sa: libc::sigaction = std::mem::zeroed();
        if args.handlers_cleared {
            sa.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(libc::SIGPIPE, &sa, std::ptr::null_mut());
            libc::execve(args.path, args.argv, args.envp);
            return fail(args);
        }
        for sig in 1..libc::SIGRTMAX() + 1 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            if libc::sigaction(sig, std::ptr::null(), &mut sa) != 0 {
                continue;
            }
            let handler = sa.sa_sigaction;
            if sig == libc::SIGPIPE || (handler != libc::SIG_DFL && handler != libc::SIG_IGN) {
                sa.sa_sigaction = libc::SIG_DFL;
                sa.sa_flags = 0;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
        libc::sigprocmask(libc::SIG_SETMASK, &args.mask, std::ptr::null_mut());
        libc::execve(args.path, args.argv, args.envp);
        fail(args)
    }
}

/// Hands the failed call's `errno` to the parent and ends the child.
///
/// # Safety
///
/// Only in the cloned child, right after the failing system call (so `errno` is still its),
/// with `args` the suspended parent's `ChildArgs`: `_exit` ends the child without running
/// anything that would touch the memory it shares with the parent.
unsafe fn fail(args: &mut ChildArgs) -> libc::c_int {
    // SAFETY: errno location of the shared thread state, read right after the failed call;
    // the volatile write is seen by the parent once the child has exited.
    unsafe {
        std::ptr::write_volatile(&mut args.errno, *libc::__errno_location());
        libc::_exit(127)
    }
}

/// Whether `clone3` with `CLONE_CLEAR_SIGHAND` works here: 0 unknown, 1 yes, 2 no.
static CLONE3: AtomicU8 = AtomicU8::new(0);

/// Spawns `p` with `fds` (each >= 3, or -1 to inherit) installed as 0, 1 and 2. Returns the
/// pid, or the failing step and its errno (the child is already reaped then).
pub(super) fn spawn(p: &Prepared, fds: [RawFd; 3]) -> Result<libc::pid_t, (&'static str, i32)> {
    spawn_with(p, fds, true)
}

/// [`spawn`], with `clone3` allowed or not (tests exercise the portable path this way).
pub(super) fn spawn_with(
    p: &Prepared,
    fds: [RawFd; 3],
    allow_clone3: bool,
) -> Result<libc::pid_t, (&'static str, i32)> {
    STACK.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Stack::map().map_err(|e| ("mmap", e.raw_os_error().unwrap_or(0)))?);
        }
        let stack = slot.as_ref().expect("mapped above");
        let mut args = ChildArgs {
            handlers_cleared: false,
            path: p.path.as_ptr(),
            argv: p.argv.as_ptr(),
            envp: super::environ(),
            fds,
            // SAFETY: an all-zero sigset_t is a valid (empty) set.
            mask: unsafe { std::mem::zeroed() },
            errno: 0,
        };
        let mut pid = -1;
        if allow_clone3 && CLONE3.load(Ordering::Relaxed) != 2 {
            args.handlers_cleared = true;
            match clone3(stack, &mut args) {
                Ok(p) => {
                    CLONE3.store(1, Ordering::Relaxed);
                    pid = p;
                }
                Err(libc::ENOSYS | libc::EINVAL | libc::EPERM)
                    if CLONE3.load(Ordering::Relaxed) == 0 =>
                {
                    // Unsupported here (no clone3, a kernel without CLONE_CLEAR_SIGHAND, or a
                    // seccomp filter): use the portable path from now on.
                    CLONE3.store(2, Ordering::Relaxed);
                }
                Err(errno) => return Err(("clone3", errno)),
            }
        }
        if pid < 0 {
            args.handlers_cleared = false;
            pid = clone_blocking_signals(stack, &mut args)?;
        }
        // SAFETY: the child has exec'd or exited: `args` is ours again. Volatile because only
        // the child wrote it.
        let errno = unsafe { std::ptr::read_volatile(&args.errno) };
        if errno != 0 {
            let mut status = 0;
            // SAFETY: reaping our own child.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
            return Err(("execve", errno));
        }
        Ok(pid)
    })
}

/// Whether spawns use `clone3` (known after the first spawn).
#[cfg(test)]
pub(super) fn uses_clone3() -> bool {
    CLONE3.load(Ordering::Relaxed) == 1
}

/// glibc's `clone` with all signals blocked around it (see the module docs).
fn clone_blocking_signals(
    stack: &Stack,
    args: &mut ChildArgs,
) -> Result<libc::pid_t, (&'static str, i32)> {
    // SAFETY: see the module documentation: the child only uses `args` and its own stack while
    // this thread is suspended by CLONE_VFORK; all signals are blocked meanwhile.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut args.mask);
        let pid = libc::clone(
            child_main,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            args as *mut ChildArgs as *mut libc::c_void,
        );
        let clone_errno = *libc::__errno_location();
        libc::pthread_sigmask(libc::SIG_SETMASK, &args.mask, std::ptr::null_mut());
        if pid < 0 {
            Err(("clone", clone_errno))
        } else {
            Ok(pid)
        }
    }
}

/// The kernel's `struct clone_args` up to `tls` (`CLONE_ARGS_SIZE_VER0`, 64 bytes).
#[repr(C, align(8))]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// `clone3(CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND)` running [`child_main`] on `stack`.
/// Returns the pid or the errno.
#[cfg(target_arch = "x86_64")]
fn clone3(stack: &Stack, args: &mut ChildArgs) -> Result<libc::pid_t, i32> {
    let ca = CloneArgs {
        flags: (libc::CLONE_VM | libc::CLONE_VFORK) as u64 | CLONE_CLEAR_SIGHAND,
        pidfd: 0,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: libc::SIGCHLD as u64,
        stack: stack.base as u64 + GUARD as u64,
        stack_size: STACK_SIZE as u64,
        tls: 0,
    };
    let ret: i64;
    // SAFETY: in the parent this is one system call that clobbers rax, rcx and r11. The child
    // starts after `syscall` with rsp at the top of `stack` (16-byte aligned, so the `call`
    // gives `child_main` the ABI's alignment) and never comes back: `child_main` ends in
    // `execve` or `_exit`; `ud2` guards the impossible return. The parent is suspended until
    // then (CLONE_VFORK), so `args` and `stack` outlive the child's use of them.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") &ca as *const CloneArgs,
            in("rsi") std::mem::size_of::<CloneArgs>(),
            in("r12") args as *mut ChildArgs,
            in("r13") child_main as extern "C" fn(*mut libc::c_void) -> libc::c_int,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    if ret < 0 {
        Err(-ret as i32)
    } else {
        Ok(ret as libc::pid_t)
    }
}

/// Without the assembly for this architecture, the portable path is used.
#[cfg(not(target_arch = "x86_64"))]
fn clone3(_stack: &Stack, _args: &mut ChildArgs) -> Result<libc::pid_t, i32> {
    Err(libc::ENOSYS)
}
