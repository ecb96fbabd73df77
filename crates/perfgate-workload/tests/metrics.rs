//! The `metrics_server` example end to end: run it (cargo builds examples for `cargo test`),
//! scrape `/metrics` over TCP, check the families and the counts after its known activity,
//! and have `promtool check metrics` validate the text (required when `CI` is set; skipped
//! with a note otherwise when promtool is not on `PATH`).
#![cfg(feature = "metrics")]

// The one promtool runner of the workspace's tests, shared with perfgate's tests/openmetrics.rs.
#[path = "../../../tests/common/promtool.rs"]
mod promtool;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Tasks the example runs before its crash task.
const TASKS: usize = 25;

/// Kills the example when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example() -> PathBuf {
    let worker = PathBuf::from(env!("CARGO_BIN_EXE_perfgate-pool-worker"));
    worker
        .parent()
        .expect("the worker is in target/<profile>/")
        .join("examples/metrics_server")
}

fn start() -> (Server, String) {
    let exe = example();
    assert!(
        exe.exists(),
        "{} is missing: run through `cargo test --features metrics`, which builds examples",
        exe.display()
    );
    let child = Command::new(&exe)
        .args(["--port", "0", "--tasks", &TASKS.to_string()])
        .arg("--worker")
        .arg(env!("CARGO_BIN_EXE_perfgate-pool-worker"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start metrics_server");
    let mut server = Server(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|s| s.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (server, addr)
}

/// One GET over a fresh connection: the status line, the headers and the body.
fn get(addr: &str, path: &str) -> (String, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a header/body split");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

/// The value of the sample named exactly `series` (name and labels as printed).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn the_example_serves_the_expected_metrics() {
    let (_server, addr) = start();
    let (status, headers, text) = get(&addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers
            .contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{headers}"
    );
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    for family in [
        "perfgate_workload_spawns counter",
        "perfgate_workload_spawn_failures counter",
        "perfgate_workload_spawn_duration_seconds histogram",
        "perfgate_workload_task_duration_seconds histogram",
        "perfgate_workload_pool_workers_active gauge",
        "perfgate_workload_pool_workers_idle gauge",
        "perfgate_workload_pool_queue_depth gauge",
        "perfgate_workload_pool_worker_restarts counter",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family}\n")),
            "no {family}:\n{text}"
        );
    }
    let p = "perfgate_workload_";
    // TASKS echoes and the crash task, each with exactly one outcome.
    let tasks = value(&text, &format!("{p}task_duration_seconds_count"));
    assert_eq!(tasks, (TASKS + 1) as f64);
    let inf = format!("{p}task_duration_seconds_bucket{{le=\"+Inf\"}}");
    assert_eq!(value(&text, &inf), tasks);
    assert_eq!(value(&text, &format!("{p}pool_worker_restarts_total")), 1.0);
    let spawns = |m: &str| value(&text, &format!("{p}spawns_total{{method=\"{m}\"}}"));
    let fails = |m: &str| value(&text, &format!("{p}spawn_failures_total{{method=\"{m}\"}}"));
    assert_eq!(spawns("clone_vfork"), 3.0);
    assert_eq!(spawns("posix_spawn"), 2.0);
    // The first worker and its replacement after the crash.
    assert_eq!(spawns("pool_worker"), 2.0);
    assert_eq!(fails("clone_vfork"), 1.0);
    assert_eq!(fails("posix_spawn"), 0.0);
    assert_eq!(fails("pool_worker"), 0.0);
    let durations = format!("{p}spawn_duration_seconds_count{{method=\"clone_vfork\"}}");
    assert_eq!(value(&text, &durations), 4.0, "failures are timed too");
    // One worker, all tasks done: idle, nothing active or queued.
    assert_eq!(value(&text, &format!("{p}pool_workers_idle")), 1.0);
    assert_eq!(value(&text, &format!("{p}pool_workers_active")), 0.0);
    assert_eq!(value(&text, &format!("{p}pool_queue_depth")), 0.0);

    let (status, _, _) = get(&addr, "/elsewhere");
    assert_eq!(status, "HTTP/1.1 404 Not Found");

    promtool::check(&text);
}
