//! The `clone(CLONE_VM | CLONE_VFORK)` spawn path.
//!
//! The child runs on a stack of its own but in the parent's memory, while the parent thread is
//! suspended until the child calls `execve` or exits. So the child must not allocate, take
//! locks or run signal handlers that would touch the parent's state: all signals are blocked
//! around the clone, the child resets every caught signal to its default before restoring the
//! mask (the same sequence glibc's `posix_spawn` uses), and it only makes system calls. An
//! `execve` failure is written into the shared [`ChildArgs::errno`] before `_exit(127)`, so the
//! parent reports the real cause instead of a mysterious exit status.
//!
//! The stack is mapped once per thread (with a guard page) and reused: a vfork child can only
//! use it while its parent thread is suspended, so one stack per thread is enough, and reusing
//! it avoids an `mmap`, page faults and an `munmap` on every spawn.

use std::cell::RefCell;
use std::os::fd::RawFd;

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

unsafe fn fail(args: &mut ChildArgs) -> libc::c_int {
    // SAFETY: errno location of the shared thread state, read right after the failed call;
    // the volatile write is seen by the parent once the child has exited.
    unsafe {
        std::ptr::write_volatile(&mut args.errno, *libc::__errno_location());
        libc::_exit(127)
    }
}

/// Spawns `p` with `fds` (each >= 3, or -1 to inherit) installed as 0, 1 and 2. Returns the
/// pid, or the failing step and its errno (the child is already reaped then).
pub(super) fn spawn(p: &Prepared, fds: [RawFd; 3]) -> Result<libc::pid_t, (&'static str, i32)> {
    STACK.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Stack::map().map_err(|e| ("mmap", e.raw_os_error().unwrap_or(0)))?);
        }
        let stack = slot.as_ref().expect("mapped above");
        // SAFETY: see the module documentation: the child only uses `args` and its own stack
        // while this thread is suspended by CLONE_VFORK; all signals are blocked meanwhile.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            let mut args = ChildArgs {
                path: p.path.as_ptr(),
                argv: p.argv.as_ptr(),
                envp: super::environ(),
                fds,
                mask: std::mem::zeroed(),
                errno: 0,
            };
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut args.mask);
            let pid = libc::clone(
                child_main,
                stack.top(),
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                &mut args as *mut ChildArgs as *mut libc::c_void,
            );
            let clone_errno = *libc::__errno_location();
            libc::pthread_sigmask(libc::SIG_SETMASK, &args.mask, std::ptr::null_mut());
            if pid < 0 {
                return Err(("clone", clone_errno));
            }
            let errno = std::ptr::read_volatile(&args.errno);
            if errno != 0 {
                let mut status = 0;
                while libc::waitpid(pid, &mut status, 0) < 0
                    && *libc::__errno_location() == libc::EINTR
                {}
                return Err(("execve", errno));
            }
            Ok(pid)
        }
    })
}
