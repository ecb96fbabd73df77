//! `perfgate-worker`: the worker process of `perfgate::workload::pool`. It speaks the pool's
//! framed protocol on stdin and stdout and exits when stdin closes.

#[cfg(unix)]
fn main() {
    use std::fs::File;
    use std::mem::ManuallyDrop;
    use std::os::fd::FromRawFd;

    // Raw descriptors: std's stdin/stdout would add a buffer copy and a lock per call.
    // SAFETY: 0 and 1 are open for the life of the process; ManuallyDrop never closes them.
    let (input, output) = unsafe {
        (
            ManuallyDrop::new(File::from_raw_fd(0)),
            ManuallyDrop::new(File::from_raw_fd(1)),
        )
    };
    if let Err(e) = perfgate::workload::pool::worker::serve(&*input, &*output) {
        eprintln!("perfgate-worker: {e}");
        std::process::exit(2);
    }
}

#[cfg(not(unix))]
fn main() {
    eprintln!("perfgate-worker: the process pool is only supported on Unix");
    std::process::exit(2);
}
