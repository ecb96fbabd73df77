//! `perfgate-worker`: the worker process of `perfgate_workload::pool`, the one the root package's
//! benches measure (they find it through `CARGO_BIN_EXE_perfgate-worker`, which cargo only sets
//! for binaries of the same package). It speaks the pool's framed protocol on stdin and stdout
//! and exits when stdin closes.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    perfgate_workload::pool::worker::main()
}
