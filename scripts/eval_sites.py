"""What each injection site of crates/perfgate-workload/src/inject.rs is expected to slow, for
scripts/eval-suite.sh (the tally) and scripts/inject-effect.py (the calibration): one list, so
the two never disagree.

spawn/command/* (std::process::Command) and spawn/fork/* (plain fork) do not go through
Spawn::spawn; pipe/pipeline/* spawns its three stages with Spawn::spawn every iteration and
copies between them with pipe::copy, so both the spawn and the pipe-copy sites slow it; the
zero-copy benchmarks whose reader drains with pipe::read_full (vmsplice, splice_pipe,
splice_socket, sendfile_socket: benches/pipe.rs, `reader`) go through the pipe-copy site on
their reading side, so it slows them too (by 12% to 84% at a factor of 2, two of the twelve
not measurably: set 2026-12-06-pinned's calibration), and only splice_file among them is
untouched; the raw floors call the kernel directly and are never slowed. The pool-answer site
runs in the pool's worker process (pool::worker::serve), which every pool benchmark but the
raw floors goes through, pool/spawn_per_task too (one task per worker process it starts).
"""
import datetime
import json
import os

EXPECTED = {
    "spawn": ("spawn/clone_vfork/", "spawn/posix_spawn/", "pipe/pipeline/"),
    "pipe-copy": ("pipe/copy/", "pipe/vmsplice/", "pipe/splice_pipe/", "pipe/splice_socket/",
                  "pipe/sendfile_socket/", "pipe/pipeline/"),
    "pool-dispatch": ("pool/roundtrip", "pool/pipelined_1", "pool/pipelined_2"),
    "pool-answer": ("pool/roundtrip", "pool/pipelined_1", "pool/pipelined_2", "pool/spawn_per_task"),
}
FLOORS = ("raw",)

RAW = os.path.join(os.path.dirname(__file__), "..", "docs", "eval", "raw")


def is_floor(bench):
    return any(x in bench for x in FLOORS)


def injected(site, bench):
    """Whether a slowdown of `site` is expected to slow `bench`."""
    return any(bench.startswith(p) for p in EXPECTED.get(site, ())) and not is_floor(bench)


def sites(spec):
    """The sites a PERFGATE_WORKLOAD_SLOWDOWN value names ("spawn=2,pool-dispatch=1.5")."""
    return [part.split("=")[0].strip() for part in spec.split(",") if "=" in part]


def calibration_path(set_dir, spec):
    """Where scripts/inject-effect.py keeps the effect of `spec` for the set in `set_dir`: a
    factor means something else once the code or the site changes, so each set has its own."""
    return os.path.join(set_dir, "calibration", spec + ".json")


def kept_path(set_dir, spec, measured_at):
    """Where a calibration replaced by a newer one is kept (`SPEC@MEASURED_AT.json`)."""
    return os.path.join(set_dir, "calibration", f"{spec}@{measured_at.replace(':', '')}.json")


def calibrations(set_dir, spec):
    """Every measured effect of `spec` kept for the set (scripts/inject-effect.py), oldest first:
    chosen by the `spec` each file records, not by its name, which only keeps them apart."""
    d = os.path.join(set_dir, "calibration")
    if not os.path.isdir(d):
        return []
    found = []
    for f in os.listdir(d):
        if f.endswith(".json"):
            with open(os.path.join(d, f)) as fh:
                found.append(json.load(fh))
    return sorted((c for c in found if c["spec"] == spec), key=lambda c: c["measured_at"])


def _stamp(text):
    """Seconds since the epoch of "20261206T160331Z" (a run's file) or "2026-12-06T16:03:31Z"."""
    digits = "".join(ch for ch in text if ch.isdigit())[:14]
    return datetime.datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc).timestamp()


def calibration_for(cals, run_file):
    """The calibration nearest in time to a run (its file's UTC stamp), or None. A factor's effect
    depends on the machine as well as the code (on 2026-12-06, spawn=2 slowed the spawn/*/true
    rows by 3-7% on the morning's virtual machine and by 9-15% on the afternoon's, same commit),
    so a run is judged by the calibration measured closest to it, best in the same session."""
    if not cals:
        return None
    t = _stamp(run_file)
    return min(cals, key=lambda c: abs(_stamp(c["measured_at"]) - t))


def set_pin(set_dir):
    """The CPU a set's checks ran their rounds on (its file `pin`, "check --pin-cpu N"), or None."""
    path = os.path.join(set_dir, "pin")
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return int(fh.read().split()[-1])


def pin_mismatch(set_dir, cal):
    """How a calibration's pinning differs from its set's runs, or None when they agree (a
    calibration from before inject-effect.py took EVAL_PIN has no `pin_cpu`: it ran unpinned)."""
    runs, calibrated = set_pin(set_dir), cal.get("pin_cpu")
    if runs == calibrated:
        return None
    where = lambda cpu: "unpinned" if cpu is None else f"on CPU {cpu}"  # noqa: E731
    return f"calibrated {where(calibrated)}, runs {where(runs)}"
