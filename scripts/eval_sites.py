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
untouched; the raw floors call the kernel directly and are never slowed.
"""
import json
import os

EXPECTED = {
    "spawn": ("spawn/clone_vfork/", "spawn/posix_spawn/", "pipe/pipeline/"),
    "pipe-copy": ("pipe/copy/", "pipe/vmsplice/", "pipe/splice_pipe/", "pipe/splice_socket/",
                  "pipe/sendfile_socket/", "pipe/pipeline/"),
    "pool-dispatch": ("pool/roundtrip", "pool/pipelined_1", "pool/pipelined_2"),
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


def calibration(set_dir, spec):
    """The measured effect of `spec` per benchmark (scripts/inject-effect.py), or None."""
    path = calibration_path(set_dir, spec)
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)
