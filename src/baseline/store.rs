//! Reading and writing snapshot files: strict validation on the way in, atomic replacement on
//! the way out, so that a crash or a bad input can never leave a half-written baseline.

use std::io::Write;
use std::path::Path;

use super::schema::{SCHEMA_VERSION, Snapshot};
use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// then fsync of the directory. Readers see the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Errors name the file the user asked for, not the temporary one beside it, and say what
    // about its directory failed.
    let in_dir = |what: &str, e: std::io::Error| {
        Error::io(
            path,
            std::io::Error::new(e.kind(), format!("{what} {}: {e}", dir.display())),
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| in_dir("cannot create its directory", e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".perfgate-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| in_dir("cannot create a temporary file in", e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    // tempfile creates 0600; a results file or baseline is ordinary shared data.
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Durability of the rename itself; not all filesystems support it, and the file is
        // already complete, so a failure here is not an error.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Serializes a snapshot as perfgate writes it: pretty objects, arrays of numbers on one line.
pub fn to_json(snapshot: &Snapshot) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, CompactArrays::default());
    serde::Serialize::serialize(snapshot, &mut ser).expect("snapshots always serialize");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// Writes a snapshot atomically.
pub fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<()> {
    write_atomic(path, to_json(snapshot).as_bytes())
}

/// Reads and validates a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_snapshot(path, &bytes)
}

/// Parses and validates snapshot bytes; `path` names the source in errors.
pub fn parse_snapshot(path: &Path, bytes: &[u8]) -> Result<Snapshot> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid(path, "file is empty"));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::invalid(
            path,
            "not a JSON object with a `schema_version`: not a perfgate results or baseline file",
        ));
    }
    // Check the version before the full schema, so that a newer file gets the helpful message
    // rather than a complaint about a field this build does not know.
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<serde_json::Value>,
    }
    let version: Version = serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))?;
    match version.schema_version.as_ref().and_then(|v| v.as_u64()) {
        None => {
            return Err(Error::invalid(
                path,
                "no numeric `schema_version`: not a perfgate results or baseline file",
            ));
        }
        Some(v) if v > u64::from(SCHEMA_VERSION) => {
            return Err(Error::invalid(
                path,
                format!(
                    "schema version {v} is newer than this perfgate understands ({SCHEMA_VERSION}); upgrade perfgate"
                ),
            ));
        }
        Some(v) if v < 1 => {
            return Err(Error::invalid(path, format!("invalid schema version {v}")));
        }
        Some(_) => {}
    }
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| json_error(path, &e))?;
    validate(&snapshot).map_err(|m| Error::invalid(path, m))?;
    Ok(snapshot)
}

fn json_error(path: &Path, e: &serde_json::Error) -> Error {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Syntax => "corrupt JSON",
        serde_json::error::Category::Data => "unexpected content",
        serde_json::error::Category::Io => "read error",
    };
    Error::invalid(path, format!("{what}: {e}"))
}

/// The plausible range of a per-iteration time, in ns: a femtosecond to about 11.6 days.
/// Outside it a value is corrupt, and it would break the statistics silently: sums of times
/// near `f64::MAX` overflow to infinity (a -100% change read as "inconclusive, p = 1"), and
/// subnormal times turn rates into infinities.
pub const TIME_RANGE_NS: (f64, f64) = (1e-6, 1e15);

fn check_time(what: &str, v: f64) -> std::result::Result<(), String> {
    let (lo, hi) = TIME_RANGE_NS;
    if !v.is_finite() {
        Err(format!("{what} is not a finite number"))
    } else if v <= 0.0 {
        Err(format!("{what} is {v}: times must be positive"))
    } else if !(lo..=hi).contains(&v) {
        Err(format!(
            "{what} is {v} ns: outside the plausible range {lo:e} to {hi:e} ns"
        ))
    } else {
        Ok(())
    }
}

/// Whether `s` is a full git object id (SHA-1 or SHA-256, lowercase hex).
pub fn is_full_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Most samples of one benchmark that perfgate compares. Criterion writes its sample size
/// (100 by default; a bench may raise it, rarely past a few thousand); every comparison
/// resamples them a thousand times, so an unbounded count would let one file make the gate run
/// for minutes without a word (ten million samples did).
pub const MAX_SAMPLES_PER_BENCHMARK: usize = 100_000;

/// Most samples of all benchmarks of one file: 20,000 benchmarks of 100 samples, which
/// `compare` judges in a few seconds (1,000 x 100 take 160 ms, README's performance section).
pub const MAX_SAMPLES_PER_FILE: usize = 2_000_000;

/// Checks what the schema alone cannot: unique sorted ids, finite positive times, lengths, bounded
/// sample counts, and a recorded commit that is a full object id. The commit is what `check` checks out and
/// measures against, so a revspec there (`HEAD`, `main`, `:/message`) would let the file choose
/// the reference build, for example the code under test itself.
pub fn validate(s: &Snapshot) -> std::result::Result<(), String> {
    let total: usize = s
        .benchmarks
        .iter()
        .map(|b| b.samples.per_iter_ns.len())
        .sum();
    if total > MAX_SAMPLES_PER_FILE {
        return Err(format!(
            "{total} samples in all, more than the {MAX_SAMPLES_PER_FILE} perfgate compares (criterion writes 100 a benchmark by default)"
        ));
    }
    if let Some(g) = &s.git
        && !is_full_object_id(&g.commit)
    {
        return Err(format!(
            "git.commit {:?} is not a full commit id (40 or 64 lowercase hex digits)",
            g.commit
        ));
    }
    for pair in s.benchmarks.windows(2) {
        if pair[0].id >= pair[1].id {
            return Err(format!(
                "benchmarks are not sorted by id or repeat an id ({:?})",
                pair[1].id
            ));
        }
    }
    for b in &s.benchmarks {
        validate_benchmark(b)?;
    }
    Ok(())
}

/// [`validate`]'s checks of one benchmark: its samples, latency and noise.
pub fn validate_benchmark(
    b: &crate::baseline::schema::Benchmark,
) -> std::result::Result<(), String> {
    let ctx = |m: String| format!("benchmark {:?}: {m}", b.id);
    if b.samples.per_iter_ns.is_empty() {
        return Err(ctx("has no samples".into()));
    }
    if b.samples.per_iter_ns.len() > MAX_SAMPLES_PER_BENCHMARK {
        return Err(ctx(format!(
            "{} samples, more than the {MAX_SAMPLES_PER_BENCHMARK} perfgate compares",
            b.samples.per_iter_ns.len()
        )));
    }
    if b.samples.iters.len() != b.samples.per_iter_ns.len() {
        return Err(ctx("`iters` and `per_iter_ns` differ in length".into()));
    }
    for (i, &t) in b.samples.per_iter_ns.iter().enumerate() {
        check_time(&format!("sample {i}"), t).map_err(ctx)?;
    }
    for (i, &n) in b.samples.iters.iter().enumerate() {
        if !(n.is_finite() && n >= 1.0) {
            return Err(ctx(format!("sample {i} has {n} iterations")));
        }
    }
    if let Some(l) = &b.latency {
        for (name, v) in [
            ("p50_ns", l.p50_ns),
            ("p99_ns", l.p99_ns),
            ("p999_ns", l.p999_ns),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(ctx(format!("latency {name} is {v}")));
            }
        }
        l.histogram.validate().map_err(ctx)?;
        if l.histogram.count() == 0 {
            return Err(ctx("latency histogram is empty".into()));
        }
    }
    if let Some(a) = &b.allocs {
        if a.ops == 0 {
            return Err(ctx("allocs counted over 0 operations".into()));
        }
        if a.allocs_per_op.len() != a.bytes_per_op.len() || a.allocs_per_op.is_empty() {
            return Err(ctx(
                "allocs: `allocs_per_op` and `bytes_per_op` differ in length or are empty".into(),
            ));
        }
        if a.allocs_per_op.len() > MAX_SAMPLES_PER_BENCHMARK {
            return Err(ctx(format!(
                "allocs: {} samples, more than the {MAX_SAMPLES_PER_BENCHMARK} perfgate compares",
                a.allocs_per_op.len()
            )));
        }
        for (name, v) in a
            .allocs_per_op
            .iter()
            .map(|v| ("allocs_per_op", v))
            .chain(a.bytes_per_op.iter().map(|v| ("bytes_per_op", v)))
        {
            if !(v.is_finite() && *v >= 0.0) {
                return Err(ctx(format!("allocs: {name} holds {v}")));
            }
        }
    }
    if let Some(n) = &b.noise {
        if n.runs < 2 {
            return Err(ctx(format!(
                "noise from {} run(s): needs at least 2",
                n.runs
            )));
        }
        for (name, v) in [
            ("throughput", Some(n.throughput)),
            ("p50", n.p50),
            ("p99", n.p99),
            ("p999", n.p999),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(ctx(format!("noise.{name} is {v}")));
            }
        }
    }
    Ok(())
}

/// serde_json formatter: objects pretty-printed one key per line, arrays on one line unless
/// they hold objects. Keeps baselines diff-friendly without a line per sample.
#[derive(Default)]
struct CompactArrays {
    indent: usize,
    /// For each open container: is it an array, and has it had an object element?
    stack: Vec<(bool, bool)>,
}

impl CompactArrays {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for CompactArrays {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.stack.push((true, false));
        self.indent += 1;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if let Some((_, true)) = self.stack.pop() {
            self.newline(w)?;
        }
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b",") }
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if let Some(top) = self.stack.last_mut()
            && top.0
        {
            top.1 = true;
            self.newline(w)?;
        }
        self.stack.push((false, false));
        self.indent += 1;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        self.stack.pop();
        self.newline(w)?;
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_that_fails_names_the_file_asked_for_and_its_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let blocker = tmp.path().join("not-a-dir");
        std::fs::write(&blocker, "x").unwrap();
        let target = blocker.join("sub/report.json");
        let e = write_atomic(&target, b"{}").unwrap_err().to_string();
        assert!(e.contains("sub/report.json"), "{e}");
        assert!(e.contains("cannot create its directory"), "{e}");
        assert!(!e.contains(".perfgate-"), "{e}");
    }

    #[test]
    fn sample_counts_are_bounded_per_benchmark_and_per_file() {
        let per_bench = MAX_SAMPLES_PER_BENCHMARK;
        let benches: Vec<_> = (0..21)
            .map(|i| crate::testutil::bench(&format!("b/{i:02}"), vec![1000.0; per_bench]))
            .collect();
        let mut s = crate::testutil::snapshot("2026-12-02T00:00:00Z", benches);
        s.git = None;
        let e = validate(&s).unwrap_err();
        assert!(e.contains("samples in all, more than the 2000000"), "{e}");
        s.benchmarks.truncate(20);
        assert_eq!(validate(&s), Ok(()));
        s.benchmarks.truncate(19);
        s.benchmarks[0].samples.per_iter_ns.push(1000.0);
        s.benchmarks[0].samples.iters.push(1.0);
        assert!(validate(&s).unwrap_err().contains("100001 samples"));
    }
}
