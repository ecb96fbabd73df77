//! A log written through the public API reads back as the same measurement.

use std::path::PathBuf;
use std::time::Duration;

use perfgate_recorder::recorder::log_file_name;
use perfgate_recorder::{LOG_SCHEMA_VERSION, LatencyLog, LatencyRecorder};

/// A fresh directory under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "perfgate-recorder-it-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(path: &std::path::Path) -> LatencyLog {
    serde_json::from_slice(&std::fs::read(path).expect("read log")).expect("parse log")
}

#[test]
fn a_written_log_reads_back_whole() {
    let scratch = Scratch::new("finish");
    // The directory does not exist yet: finish creates it.
    let dir = scratch.0.join("nested").join(".perfgate-latency");
    let mut rec = LatencyRecorder::new("group/op 1", 2).with_dir(&dir);
    // Three calls with a keep of two: the first (a warm-up call) must not be in the log.
    rec.record_sample(vec![Duration::from_millis(5)]);
    rec.record_sample(vec![Duration::from_micros(1), Duration::from_micros(2)]);
    let total = rec.record_sample(vec![Duration::from_micros(3); 3]);
    assert_eq!(total, Duration::from_micros(9));
    let mut expected = rec.log().expect("something was recorded");

    let path = rec.finish().expect("write").expect("a log");
    assert_eq!(path, dir.join(log_file_name("group/op 1")));
    let log = read(&path);
    // finish builds the log again, a moment later: only the time may differ.
    assert!((log.written_at_unix - expected.written_at_unix).abs() < 60.0);
    expected.written_at_unix = log.written_at_unix;
    assert_eq!(log, expected);
    assert_eq!(log.schema_version, LOG_SCHEMA_VERSION);
    assert_eq!(log.id, "group/op 1");
    assert_eq!(log.iters, vec![2, 3]);
    assert_eq!(log.ops, 5);
    assert_eq!((log.min_ns, log.max_ns), (1_000, 3_000));
    assert_eq!(log.histogram.count(), 5);
    log.histogram.validate().expect("valid histogram");
    // Nothing but the log is left in the directory (no temporary file).
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn dropping_an_unfinished_recorder_writes_its_log() {
    let scratch = Scratch::new("drop");
    {
        let mut rec = LatencyRecorder::new("dropped", 10).with_dir(&scratch.0);
        rec.time_ops(4, || {
            std::hint::black_box(0u64);
        });
    }
    let log = read(&scratch.0.join(log_file_name("dropped")));
    assert_eq!((log.id.as_str(), log.ops), ("dropped", 4));
}

#[test]
fn nothing_recorded_writes_nothing() {
    let scratch = Scratch::new("empty");
    let rec = LatencyRecorder::new("idle", 10).with_dir(&scratch.0);
    assert_eq!(rec.finish().expect("no error"), None);
    assert!(!scratch.0.exists());
}

#[test]
fn a_write_failure_names_the_directory() {
    let scratch = Scratch::new("fail");
    std::fs::create_dir_all(&scratch.0).unwrap();
    // A file where the log directory should be.
    let blocked = scratch.0.join("not-a-dir");
    std::fs::write(&blocked, b"").unwrap();
    let mut rec = LatencyRecorder::new("x", 1).with_dir(&blocked);
    rec.record_sample(vec![Duration::from_nanos(10)]);
    let err = rec.finish().expect_err("cannot write into a file");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
    assert_eq!(err.path(), blocked);
}
