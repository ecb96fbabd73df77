//! `perfgate-pool-worker`: the worker process of `perfgate_workload::pool`. It speaks the pool's
//! framed protocol on stdin and stdout and exits when stdin closes.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    perfgate_workload::pool::worker::main()
}
