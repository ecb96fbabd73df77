//! `a | b | c`: processes connected by pipes, fed and drained by the parent.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::process::ExitStatus;

use super::{DEFAULT_CAPACITY, pipe_with_capacity, write_all};
use crate::spawn::{Child, Spawn, SpawnError, Stdio};

/// A running pipeline: each stage's stdout is the next stage's stdin (through pipes of
/// [`DEFAULT_CAPACITY`]); the parent writes the first stage's stdin and reads the last
/// stage's stdout.
///
/// ```no_run
/// use perfgate_workload::pipe::Pipeline;
/// use perfgate_workload::spawn::Spawn;
///
/// let mut p = Pipeline::spawn(vec![Spawn::new("cat"), Spawn::new("tr").args(["a", "b"])])?;
/// let mut out = Vec::new();
/// p.transfer(b"banana", 1, &mut |b| out.extend_from_slice(b))?;
/// assert!(p.wait()?.iter().all(|s| s.success()));
/// assert_eq!(out, b"bbnbnb");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Pipeline {
    children: Vec<Child>,
    stdin: Option<File>,
    stdout: Option<File>,
}

impl Pipeline {
    /// Spawns every stage; the stdin of the first and the stdout of the last are piped to the
    /// parent, and any stdin/stdout set on the stages is replaced. If a stage fails to spawn,
    /// the stages already running see end-of-file, are waited for, and the error is returned.
    pub fn spawn(stages: Vec<Spawn>) -> Result<Pipeline, SpawnError> {
        let n = stages.len();
        let mut children = Vec::with_capacity(n);
        let mut next_stdin = None;
        for (i, stage) in stages.into_iter().enumerate() {
            let stdin = next_stdin.take().map_or(Stdio::Piped, Stdio::Fd);
            let stdout = if i + 1 == n {
                Stdio::Piped
            } else {
                let (r, w) = pipe_with_capacity(DEFAULT_CAPACITY).map_err(|e| SpawnError::Os {
                    program: format!("pipeline stage {}", i + 1).into(),
                    context: "pipe",
                    source: e,
                })?;
                next_stdin = Some(r);
                Stdio::Fd(w)
            };
            // On error `children` drops here: their pipes close and each is waited for.
            children.push(stage.stdin(stdin).stdout(stdout).spawn()?);
        }
        let stdin = children.first_mut().and_then(|c| c.stdin.take());
        let stdout = children.last_mut().and_then(|c| c.stdout.take());
        Ok(Pipeline {
            children,
            stdin,
            stdout,
        })
    }

    /// Writes `input` `repeat` times into the pipeline (on a helper thread) while passing
    /// everything the last stage outputs to `sink`, until the last stage closes its stdout.
    /// Closes the pipeline's stdin when done writing, so it can be called once; returns the
    /// bytes received.
    pub fn transfer(
        &mut self,
        input: &[u8],
        repeat: u64,
        sink: &mut dyn FnMut(&[u8]),
    ) -> io::Result<u64> {
        let stdin = self.stdin.take();
        let mut stdout = self
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("pipeline output already consumed"))?;
        std::thread::scope(|s| {
            let writer = s.spawn(move || -> io::Result<()> {
                if let Some(stdin) = stdin {
                    for _ in 0..repeat {
                        write_all(stdin.as_fd(), input)?;
                    }
                }
                Ok(())
            });
            let mut buf = vec![0u8; DEFAULT_CAPACITY];
            let mut received = 0u64;
            let read = loop {
                match stdout.read(&mut buf) {
                    Ok(0) => break Ok(received),
                    Ok(n) => {
                        received += n as u64;
                        sink(&buf[..n]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            // Close our read end before joining, so a writer blocked on a stage that stopped
            // reading cannot deadlock us: the stages die of SIGPIPE, the writer gets EPIPE.
            drop(stdout);
            let written = writer
                .join()
                .map_err(|_| io::Error::other("pipeline writer panicked"))?;
            let received = read?;
            written.map(|()| received)
        })
    }

    /// Closes the pipeline's ends and waits for every stage, returning their statuses in
    /// order.
    pub fn wait(&mut self) -> io::Result<Vec<ExitStatus>> {
        drop(self.stdin.take());
        drop(self.stdout.take());
        self.children.iter_mut().map(|c| c.wait()).collect()
    }
}
