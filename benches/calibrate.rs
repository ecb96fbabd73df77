//! The calibration benchmark: a CPU-bound operation whose cost is raised by a known factor
//! (`PERFGATE_CALIBRATE_SLOWDOWN=1.05`) or given a known tail (`PERFGATE_CALIBRATE_TAIL=0.02:5`),
//! the ground truth for measuring the gate's false-alarm and detection rates
//! (`perfgate eval-noise`, docs/noise.md). Without those variables it is an ordinary, steady
//! benchmark of the suite.
//!
//! - `calibrate/throughput`: operations per second (criterion's own measurement).
//! - `calibrate/latency`: the same operation timed one by one with perfgate's recorder, for
//!   p50/p99/p999.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use perfgate::eval::calibrate::Calibration;
use perfgate_recorder::profile::Profile;
use perfgate_recorder::recorder::LatencyRecorder;

fn bench_calibrate(c: &mut Criterion) {
    let cal = Calibration::from_env().unwrap_or_else(|e| panic!("{e}"));
    let profile = Profile::from_env();
    let mut g = c.benchmark_group("calibrate");
    g.warm_up_time(profile.warm_up())
        .measurement_time(profile.measurement())
        .sample_size(profile.sample_size())
        .throughput(Throughput::Elements(1));
    let mut work = cal.work();
    g.bench_function("throughput", |b| b.iter(|| work.op()));

    g.sampling_mode(SamplingMode::Flat);
    let mut rec = LatencyRecorder::new("calibrate/latency", profile.sample_size());
    let mut work = cal.work();
    g.bench_function("latency", |b| {
        b.iter_custom(|iters| {
            rec.time_ops(iters, || {
                std::hint::black_box(work.op());
            })
        })
    });
    rec.finish().expect("latency log");
    g.finish();
}

criterion_group!(benches, bench_calibrate);
criterion_main!(benches);
