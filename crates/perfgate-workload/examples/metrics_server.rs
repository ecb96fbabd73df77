//! Serves the workload's runtime metrics at `http://127.0.0.1:PORT/metrics` after some known
//! activity: a pool runs `--tasks` echo tasks (default 100) and one task that crashes its
//! worker (so the pool restarts it), and the spawner starts `/bin/true` three times by
//! `clone_vfork`, twice by `posix_spawn`, and fails once on a missing program.
//!
//! ```sh
//! cargo run -p perfgate-workload --features metrics --example metrics_server -- --port 9184
//! curl http://127.0.0.1:9184/metrics
//! ```
//!
//! Options: `--port N` (or `PERFGATE_METRICS_PORT`; default 0, an ephemeral port), `--tasks N`,
//! `--worker PATH` (or `PERFGATE_POOL_WORKER`; default `perfgate-pool-worker` in the directory
//! above this example's). The first line on stdout is `listening on http://ADDR/metrics`, for
//! a test to read; then it serves until killed.
//!
//! The HTTP side is a minimal HTTP/1.1 responder over `std::net::TcpListener` (one request per
//! connection, `Connection: close`): a web framework would add dozens of dev-dependencies
//! to build for one GET route.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;

use perfgate_workload::metrics::Metrics;
use perfgate_workload::pool::protocol::TaskKind;
use perfgate_workload::pool::{Pool, PoolConfig, Task};
use perfgate_workload::spawn::{Method, Spawn, Stdio};
use prometheus_client::registry::Registry;

/// The OpenMetrics text format's content type.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut port: u16 = std::env::var("PERFGATE_METRICS_PORT")
        .ok()
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(0);
    let mut tasks: usize = 100;
    let mut worker = std::env::var_os("PERFGATE_POOL_WORKER").map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => port = value()?.parse()?,
            "--tasks" => tasks = value()?.parse()?,
            "--worker" => worker = Some(value()?.into()),
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    let worker = match worker {
        Some(w) => w,
        None => default_worker()?,
    };

    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);

    // The pool: `tasks` echoes, then a crash that kills the worker (the pool starts another).
    let mut pool = Pool::new(
        PoolConfig::new(&worker)
            .workers(1, 1)
            .with_metrics(metrics.clone()),
    )?;
    let tickets: Vec<_> = (0..tasks)
        .map(|i| pool.submit(Task::echo(&i.to_le_bytes())))
        .collect();
    for t in tickets {
        pool.wait(t)?;
    }
    let crash = pool.submit(Task::new(TaskKind::Crash, b""));
    if pool.wait(crash).is_ok() {
        return Err("the crash task succeeded".into());
    }

    // The spawner: 3 + 2 successful spawns and one failure.
    for method in [Method::CloneVfork, Method::CloneVfork, Method::CloneVfork] {
        quiet_true(method).metrics(&metrics).status()?;
    }
    for _ in 0..2 {
        quiet_true(Method::PosixSpawn).metrics(&metrics).status()?;
    }
    if Spawn::new("/nonexistent/perfgate-program")
        .metrics(&metrics)
        .spawn()
        .is_ok()
    {
        return Err("a missing program spawned".into());
    }

    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("listening on http://{}/metrics", listener.local_addr()?);
    std::io::stdout().flush()?;
    for stream in listener.incoming() {
        // A client that misbehaves costs its own connection only.
        if let Err(e) = stream.and_then(|s| serve(s, &registry)) {
            eprintln!("metrics_server: {e}");
        }
        // Keeps the pool's gauges current between scrapes.
        pool.poll(std::time::Duration::ZERO);
    }
    Ok(())
}

/// `/bin/true` with its streams on `/dev/null`.
fn quiet_true(method: Method) -> Spawn {
    Spawn::new("/bin/true")
        .method(method)
        .stdin(Stdio::Null)
        .stdout(Stdio::Null)
        .stderr(Stdio::Null)
}

/// `perfgate-pool-worker` in the directory above this example's (`target/<profile>/`).
fn default_worker() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(|d| d.parent()).ok_or_else(|| {
        std::io::Error::other("cannot find the worker: pass --worker or set PERFGATE_POOL_WORKER")
    })?;
    Ok(dir.join("perfgate-pool-worker"))
}

/// Answers one HTTP/1.1 request: the metrics for `GET /metrics`, 404 otherwise.
fn serve(stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The headers are read and ignored; the request has no body.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next(), parts.next());
    let (status, content_type, body) = if method == Some("GET") && path == Some("/metrics") {
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, registry)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        ("200 OK", CONTENT_TYPE, body)
    } else {
        let body = "not found: try GET /metrics\n".to_string();
        ("404 Not Found", "text/plain; charset=utf-8", body)
    };
    let mut out = &stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}
