"""Where the time of `python -m harness validate --jobs N` goes: a profile of the parallel path,
in CPU seconds beside the wall clock, so that it reads the same on a loaded machine. A
measurement, not a test: it always exits 0.

    .venv/bin/python bench/bench_jobs.py [--frames 100000] [--jobs 2] [--runs 5]

Start-up, as whole processes, best of --runs (wall and CPU): the interpreter alone (`python -c
pass`, site and the editable install's finder included), the imports `validate` needs, and
`validate` of a 20-frame log (imports, the validator, argument parsing, output).

Then one probe process per run that judges the benchmark log as `validate --jobs N` does
(harness.offline.judge_logs), with a stamp around every range a worker judges and around the
pickling of its result: when the workers started after the parent's start, each worker's CPU
seconds (its first range apart: the schemas it compiles, the memory it touches first), the
bytes and time of the results sent back, and the parent's time after the last result (joining
the ranges). From those, the critical path a quiet machine with N free cores would show:
start-up + the busiest worker's CPU + the join, against one process's start-up + its judging.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROBE = r"""
import json, os, pickle, sys, time
T0 = time.perf_counter()
from harness import offline
from harness.validation import Validator
T1 = time.perf_counter()
log, jobs = sys.argv[1], int(sys.argv[2])
stamps = os.open(sys.argv[3], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
judge_range, dumps = offline._judge_range, pickle.dumps
def timed(task):
    w, c = time.perf_counter(), time.process_time()
    piece = judge_range(task)
    p = time.process_time()
    size = len(dumps(piece, protocol=pickle.HIGHEST_PROTOCOL))
    os.write(stamps, (json.dumps({"pid": os.getpid(), "start": w - T0,
        "end": time.perf_counter() - T0, "cpu": p - c, "pickle_cpu": time.process_time() - p,
        "bytes": size, "lines": piece.lines}) + "\n").encode())
    return piece
offline._judge_range = timed
c0 = time.process_time()
results = list(offline.judge_logs([log], jobs))
T2 = time.perf_counter()
print(json.dumps({"import": T1 - T0, "done": T2 - T0, "parent_cpu": time.process_time() - c0,
                  "frames": results[0].frames, "findings": len(results[0].findings)}))
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best(argv: list[str], runs: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``runs`` runs of a whole process."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = _children_cpu(), time.perf_counter()
        subprocess.run(argv, capture_output=True, cwd=ROOT, check=False)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return min(walls), min(cpus)


def probe(log: Path, jobs: int) -> dict:
    stamps = Path(f"/tmp/bench-jobs-{os.getpid()}.jsonl")
    stamps.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", PROBE, str(log), str(jobs), str(stamps)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    ranges = [json.loads(line) for line in stamps.read_text().splitlines()]
    stamps.unlink()
    workers: dict[int, list[dict]] = {}
    for r in ranges:
        workers.setdefault(r["pid"], []).append(r)
    out["workers"] = []
    for pid, mine in workers.items():
        mine.sort(key=lambda r: r["start"])
        out["workers"].append({
            "ranges": len(mine), "first_start": mine[0]["start"], "last_end": mine[-1]["end"],
            "cpu": sum(r["cpu"] + r["pickle_cpu"] for r in mine), "first_cpu": mine[0]["cpu"],
            "other_cpu_per_range": statistics.median(r["cpu"] for r in mine[1:]) if mine[1:]
            else None, "pickle_cpu": sum(r["pickle_cpu"] for r in mine),
            "bytes": sum(r["bytes"] for r in mine)})
    out["join"] = out["done"] - max(w["last_end"] for w in out["workers"])
    return out


def main() -> int:
    from bench_validate_cli import build_log

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cache = ROOT / "bench" / ".cache"
    cache.mkdir(exist_ok=True)
    log = build_log(cache / f"wire-{args.frames}.jsonl", args.frames)
    tiny = build_log(cache / "wire-20.jsonl", 20)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "harness")], check=True,
                   stdout=subprocess.DEVNULL)
    loads = [os.getloadavg()[0]]
    py = sys.executable
    steps = {"interpreter (python -c pass)": [py, "-c", "pass"],
             "+ imports (harness.offline)": [py, "-c", "import harness.offline"],
             "+ validate a 20-frame log": [py, "-m", "harness", "validate", str(tiny)],
             "validate (one process)": [py, "-m", "harness", "validate", str(log)]}
    figures = {name: best(argv, args.runs) for name, argv in steps.items()}
    for name, (wall, cpu) in figures.items():
        print(f"{name:34s} wall {wall * 1e3:7.1f} ms   CPU {cpu * 1e3:7.1f} ms")
    probes = [probe(log, args.jobs) for _ in range(args.runs)]
    loads.append(os.getloadavg()[0])
    quick = min(probes, key=lambda p: sum(w["cpu"] for w in p["workers"]))
    print(f"--jobs {args.jobs} probe (the run whose workers used the least CPU, of "
          f"{len(probes)}): imports {quick['import'] * 1e3:.1f} ms, parent CPU "
          f"{quick['parent_cpu'] * 1e3:.1f} ms, join after the last range "
          f"{quick['join'] * 1e3:.1f} ms, done at {quick['done'] * 1e3:.1f} ms wall")
    for i, w in enumerate(sorted(quick["workers"], key=lambda w: w["first_start"])):
        print(f"  worker {i + 1}: started {w['first_start'] * 1e3:6.1f} ms, {w['ranges']} ranges, "
              f"CPU {w['cpu'] * 1e3:6.1f} ms (first range {w['first_cpu'] * 1e3:.1f} ms, others "
              f"{(w['other_cpu_per_range'] or 0) * 1e3:.1f} ms each), pickling "
              f"{w['pickle_cpu'] * 1e3:.2f} ms for {w['bytes']:,} bytes")
    start_cpu = figures["+ validate a 20-frame log"][1]
    one_cpu = figures["validate (one process)"][1]
    total = sum(w["cpu"] for w in quick["workers"])
    # The workers take the next range when done with one, so on free cores they share the CPU
    # evenly to within the last range; on a loaded machine the one the scheduler favoured took
    # more, which says nothing of the code: the balanced share is the figure.
    critical = start_cpu + total / args.jobs + quick["join"]
    print(f"critical path on {args.jobs} free cores: start-up {start_cpu * 1e3:.1f} + the workers' "
          f"{total * 1e3:.1f} ms / {args.jobs} + join {quick['join'] * 1e3:.1f} = "
          f"{critical * 1e3:.1f} ms against one process {one_cpu * 1e3:.1f} ms CPU: "
          f"{one_cpu / critical:.2f}x (the workers' CPU is {total / (one_cpu - start_cpu):.3f} x "
          f"one process's judging; with none added and this start-up: "
          f"{one_cpu / (start_cpu + (one_cpu - start_cpu) / args.jobs):.2f}x)")
    print(f"load average (1 min): {min(loads):.2f} to {max(loads):.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
