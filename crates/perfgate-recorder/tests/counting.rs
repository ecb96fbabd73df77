//! The counting allocator installed as a real global allocator (it cannot be in the unit
//! tests, which run on the system allocator): counts are exact, and a recorder writes them.

use perfgate_recorder::alloc::{self, AllocLog, counts};
use perfgate_recorder::{AllocRecorder, CountingAllocator, LatencyRecorder};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("perfgate-counting-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read_log(dir: &std::path::Path, id: &str) -> AllocLog {
    let path = dir.join(alloc::alloc_log_file_name(id));
    serde_json::from_slice(&std::fs::read(&path).expect("allocation log written")).expect("log")
}

#[test]
fn counts_every_allocation_and_its_bytes() {
    assert!(alloc::is_counting());
    let before = counts();
    let v: Vec<u8> = Vec::with_capacity(100);
    let b = Box::new([0u64; 4]);
    let got = counts().since(before);
    drop((v, b));
    // Other test threads may allocate meanwhile: at least these two, with their bytes.
    assert!(got.allocs >= 2 && got.bytes >= 132, "{got:?}");
}

#[test]
fn a_latency_recorder_logs_the_allocations_per_sample() {
    let dir = scratch("latency");
    let mut rec = LatencyRecorder::new("g/one_box_per_op", 3).with_dir(&dir);
    for iters in [5, 7, 9, 11] {
        rec.time_ops(iters, || {
            std::hint::black_box(Box::new(std::hint::black_box(3u32)));
        });
    }
    rec.finish().unwrap();
    let log = read_log(&dir, "g/one_box_per_op");
    assert_eq!(log.iters, [7, 9, 11]);
    // Each sample allocated at least one box of 4 bytes per operation (other test threads
    // may add to the process-wide counters).
    for ((i, a), b) in log.iters.iter().zip(&log.allocs).zip(&log.bytes) {
        assert!(a >= i && b >= &(4 * i), "{log:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_alloc_recorder_counts_a_caller_timed_sample() {
    let dir = scratch("caller");
    let mut rec = AllocRecorder::new("g/caller", 2).with_dir(&dir);
    let n = rec.count_sample(4, || {
        (0..4).map(|i| vec![i as u8; 16]).collect::<Vec<_>>().len()
    });
    assert_eq!(n, 4);
    rec.finish().unwrap();
    let log = read_log(&dir, "g/caller");
    assert_eq!(log.iters, [4]);
    assert!(log.allocs[0] >= 4 && log.bytes[0] >= 64, "{log:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
