use super::*;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;

fn each_method(f: impl Fn(Method)) {
    for m in Method::ALL {
        f(m);
    }
}

#[test]
fn tiny_static_child_runs_and_exits_zero() {
    let path = tiny_static_child().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), elf::exit0_elf().unwrap());
    assert_eq!(std::fs::read(&path).unwrap().len(), 64 + 56 + 9);
    each_method(|m| {
        let status = Spawn::new(&path).method(m).status().unwrap();
        assert!(status.success(), "{m:?}: {status:?}");
    });
    // The same file also runs under std, so it is a real executable, not our own reading.
    assert!(
        std::process::Command::new(&path)
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn pipes_carry_stdin_stdout_and_stderr() {
    each_method(|m| {
        let mut child = Spawn::new("/bin/sh")
            .args(["-c", "read x; echo out:$x; echo err:$x >&2; exit 3"])
            .stdin(Stdio::Piped)
            .stdout(Stdio::Piped)
            .stderr(Stdio::Piped)
            .method(m)
            .spawn()
            .unwrap();
        child.stdin.as_mut().unwrap().write_all(b"hi\n").unwrap();
        let (status, out, err) = child.wait_with_output().unwrap();
        assert_eq!(status.code(), Some(3), "{m:?}");
        assert_eq!(out, b"out:hi\n");
        assert_eq!(err, b"err:hi\n");
    });
}

#[test]
fn bare_names_are_looked_up_in_path_and_args_arrive_intact() {
    each_method(|m| {
        let (status, out, _) = Spawn::new("printf")
            .args(["%s|", "a b", "", "ü"])
            .stdout(Stdio::Piped)
            .method(m)
            .spawn()
            .unwrap()
            .wait_with_output()
            .unwrap();
        assert!(status.success());
        assert_eq!(String::from_utf8(out).unwrap(), "a b||ü|");
    });
}

#[test]
fn null_gives_end_of_file_and_discards() {
    each_method(|m| {
        let status = Spawn::new("/bin/sh")
            .args(["-c", "read x && exit 1; echo discarded; exit 0"])
            .stdin(Stdio::Null)
            .stdout(Stdio::Null)
            .method(m)
            .status()
            .unwrap();
        assert!(status.success(), "{m:?}");
    });
}

#[test]
fn sigpipe_is_default_in_the_child() {
    // Rust ignores SIGPIPE in the parent; the child must die of it like under a shell.
    each_method(|m| {
        let mut child = Spawn::new("/bin/sh")
            .args(["-c", "while :; do echo y; done"])
            .stdout(Stdio::Piped)
            .method(m)
            .spawn()
            .unwrap();
        let mut first = [0u8; 2];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGPIPE), "{m:?}: {status:?}");
    });
}

#[test]
fn missing_program_is_not_found() {
    each_method(|m| {
        let err = Spawn::new("/nonexistent/perfgate-nope")
            .method(m)
            .spawn()
            .unwrap_err();
        assert!(matches!(err, SpawnError::NotFound { .. }), "{m:?}: {err:?}");
        assert_eq!(
            err.to_string(),
            "/nonexistent/perfgate-nope: program not found"
        );
        let err = Spawn::new("perfgate-no-such-program-xyz")
            .method(m)
            .spawn()
            .unwrap_err();
        assert!(matches!(err, SpawnError::NotFound { .. }), "{m:?}: {err:?}");
    });
}

#[test]
fn not_executable_is_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script");
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    each_method(|m| {
        let err = Spawn::new(&path).method(m).spawn().unwrap_err();
        // root may execute any file with at least one x bit, but never one without.
        assert!(
            matches!(err, SpawnError::PermissionDenied { .. }),
            "{m:?}: {err:?}"
        );
        assert!(
            err.to_string().ends_with("script: permission denied"),
            "{err}"
        );
    });
}

#[test]
fn interior_nul_is_an_invalid_argument() {
    each_method(|m| {
        let err = Spawn::new("/bin/echo")
            .arg("ok")
            .arg("a\0b")
            .method(m)
            .spawn()
            .unwrap_err();
        assert!(matches!(err, SpawnError::InvalidArgument { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "/bin/echo: invalid argument: interior NUL byte in argument 2"
        );
        let err = Spawn::new("/bin/e\0cho").method(m).spawn().unwrap_err();
        assert!(err.to_string().contains("program name"), "{err}");
        let err = Spawn::new("").method(m).spawn().unwrap_err();
        assert!(err.to_string().contains("empty program name"), "{err}");
    });
}

#[test]
fn exec_format_error_is_reported_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage");
    std::fs::write(&path, [0u8; 64]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    each_method(|m| {
        let err = Spawn::new(&path).method(m).spawn().unwrap_err();
        match err {
            SpawnError::Os { source, .. } => {
                assert_eq!(source.raw_os_error(), Some(libc::ENOEXEC), "{m:?}")
            }
            other => panic!("{m:?}: {other:?}"),
        }
    });
}

#[test]
fn wait_is_idempotent_and_try_wait_and_kill_work() {
    each_method(|m| {
        let mut child = Spawn::new("/bin/sleep")
            .arg("10")
            .method(m)
            .spawn()
            .unwrap();
        assert_eq!(child.try_wait().unwrap(), None);
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(child.wait().unwrap(), status);
        assert_eq!(child.try_wait().unwrap(), Some(status));
        child.kill().unwrap();
    });
}

#[test]
fn method_names_are_stable() {
    assert_eq!(Method::CloneVfork.name(), "clone_vfork");
    assert_eq!(Method::PosixSpawn.name(), "posix_spawn");
    assert_eq!(Method::default(), Method::CloneVfork);
}

/// SigBlk and SigIgn of a child, from its /proc status, through a clone path.
fn child_signal_state(allow_clone3: bool) -> (u64, u64) {
    let (r, w) = crate::pipe::pipe().unwrap();
    let prepared = Prepared::new(
        OsStr::new("/bin/sh"),
        &[
            "-c".into(),
            "grep -E '^Sig(Blk|Ign)' /proc/self/status".into(),
        ],
    )
    .unwrap();
    let pid = clone::spawn_with(&prepared, [-1, w.as_raw_fd(), -1], allow_clone3).unwrap();
    drop(w);
    let child = Child {
        pid,
        status: None,
        stdin: None,
        stdout: Some(r.into()),
        stderr: None,
    };
    let (status, out, _) = child.wait_with_output().unwrap();
    assert!(status.success());
    let out = String::from_utf8(out).unwrap();
    let field = |name: &str| {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    (field("SigBlk:"), field("SigIgn:"))
}

#[test]
fn both_clone_paths_leave_no_signal_blocked_and_sigpipe_not_ignored() {
    let sigpipe_bit = 1u64 << (libc::SIGPIPE - 1);
    for allow_clone3 in [true, false] {
        let (blocked, ignored) = child_signal_state(allow_clone3);
        assert_eq!(blocked, 0, "clone3 allowed: {allow_clone3}");
        assert_eq!(ignored & sigpipe_bit, 0, "clone3 allowed: {allow_clone3}");
    }
    if cfg!(target_arch = "x86_64") {
        // Kernels since 5.5 have clone3 with CLONE_CLEAR_SIGHAND; this suite's machines do.
        assert!(clone::uses_clone3());
    }
}

#[test]
fn portable_path_reports_exec_errors_too() {
    let prepared = Prepared::new(OsStr::new("/nonexistent/x"), &[]).unwrap();
    let err = clone::spawn_with(&prepared, [-1, -1, -1], false).unwrap_err();
    assert_eq!(err, ("execve", libc::ENOENT));
}
