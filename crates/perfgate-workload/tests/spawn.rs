//! Process-level properties of `perfgate_workload::spawn` that need a process of their own: the
//! descriptor table and the set of children are per process, so these checks live in one test
//! function (tests in one binary run on parallel threads of one process).
#![cfg(target_os = "linux")]

use std::os::fd::AsRawFd;

use perfgate_workload::pipe::Pipeline;
use perfgate_workload::spawn::{Method, Spawn, SpawnError, Stdio, tiny_static_child};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Children of this process that exited but were not reaped.
fn zombies() -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str()) {
            found.push(stat);
        }
    }
    found
}

#[test]
fn no_descriptor_leaks_no_zombies_and_only_three_streams_inherited() {
    let tiny = tiny_static_child().unwrap();
    // The first spawn maps the per-thread stack and creates the tiny child: do it before
    // counting.
    Spawn::new(&tiny).status().unwrap();
    let before = open_fds();
    for method in Method::ALL {
        for _ in 0..20 {
            // Success, with every stream piped.
            let mut child = Spawn::new(&tiny)
                .method(method)
                .stdin(Stdio::Piped)
                .stdout(Stdio::Piped)
                .stderr(Stdio::Null)
                .spawn()
                .unwrap();
            assert!(child.wait().unwrap().success());
            drop(child);
            // Failure after the pipes were made.
            let err = Spawn::new("/nonexistent/perfgate")
                .method(method)
                .stdout(Stdio::Piped)
                .stderr(Stdio::Piped)
                .spawn()
                .unwrap_err();
            assert!(matches!(err, SpawnError::NotFound { .. }));
            // Dropped without wait: reaped by the drop.
            drop(Spawn::new("/bin/true").method(method).spawn().unwrap());
        }
        // A pipeline, run and waited.
        let mut p =
            Pipeline::spawn(vec![Spawn::new("cat").method(method), Spawn::new("cat")]).unwrap();
        p.transfer(b"x", 3, &mut |_| {}).unwrap();
        p.wait().unwrap();
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
    assert!(zombies().is_empty(), "zombies: {:?}", zombies());

    // Children inherit their three streams and whatever the parent itself holds without
    // close-on-exec (the test harness passes some), never a descriptor we created.
    let file = tempfile::tempfile().unwrap();
    let (r, w) = perfgate_workload::pipe::pipe().unwrap();
    // Moved up to numbers the child's own directory handle cannot take.
    // SAFETY: F_DUPFD_CLOEXEC of descriptors we own; the copies live until the test ends.
    let high: Vec<i32> = [file.as_raw_fd(), r.as_raw_fd(), w.as_raw_fd()]
        .iter()
        .map(|&fd| unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 200) })
        .collect();
    let inheritable: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        // SAFETY: F_GETFD on a descriptor number; a closed one just returns -1.
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } == 0)
        .collect();
    for method in Method::ALL {
        // The list includes the directory handle the glob reads it through.
        let (status, out, _) = Spawn::new("/bin/sh")
            .args(["-c", "cd /proc/self/fd && echo *"])
            .method(method)
            .stdin(Stdio::Null)
            .stdout(Stdio::Piped)
            .stderr(Stdio::Null)
            .spawn()
            .unwrap()
            .wait_with_output()
            .unwrap();
        assert!(status.success());
        let out = String::from_utf8(out).unwrap();
        let fds: Vec<i32> = out.split_whitespace().map(|l| l.parse().unwrap()).collect();
        assert!(
            high.iter().all(|fd| !fds.contains(fd)),
            "{method:?}: {fds:?}"
        );
        // Beyond 0, 1, 2 and the inherited ones, only the directory handle.
        let extra = fds
            .iter()
            .filter(|fd| **fd > 2 && !inheritable.contains(fd))
            .count();
        assert!(
            [0, 1, 2].iter().all(|fd| fds.contains(fd)) && extra <= 1,
            "{method:?}: {fds:?}"
        );
    }
}
