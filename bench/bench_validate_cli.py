"""`python -m harness validate` as a user runs it: a whole process on a 100,000-frame wire log,
beside the PyPI `ocpp` library validating the same file (also a whole process,
bench/ocpp_library_validate.py), in the same run. A measurement, not a test: it always exits 0.

    .venv/bin/python bench/bench_validate_cli.py [--frames 100000] [--runs 3] [--jobs 2]
                                                 [--large 1000000]

The log: the realistic charge point traffic of bench_validation.py (boot, configuration, charging
sessions with meter values, a charging profile with decimal limits, StopTransaction with
transaction data), a reconnection every 25 sessions, written by the harness's own WireLog, all
valid. Each command runs --runs times, interleaved (harness, library, harness --jobs N, ...), so a
busy spell of the machine hits all of them; the best run of each is compared (the one least
disturbed by other processes), the median is printed too. frames/s counts the whole process:
interpreter start, imports (the harness's bytecode compiled first, as an install compiles it),
schema compilation, reading and judging. Beside the wall clock, the CPU seconds each command used
(user + system, its worker processes included) give a figure that other processes on the machine
disturb less: frames per CPU second.

--jobs N on one file is bounded by what runs before the file is cut (interpreter, imports,
validator: Amdahl): the benchmark times `validate` of a 2-frame log (that start-up) and prints the
bound it puts on the speed-up at --frames. Then the same two commands, one process and --jobs N,
on a log of --large frames (10x by default: 448 MB, a day of a few hundred charge points), where
the start-up weighs a tenth as much, and the speed-up between the two logs' extra frames (the
steady state, start-up cancelled out). The --jobs target is judged there; the --frames figure and
its bound are printed beside it.
"""

from __future__ import annotations

import argparse
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
from bench_validation import Trace  # noqa: E402

from harness.wirelog import WireLog  # noqa: E402

TARGET, TARGET_RATIO, TARGET_JOBS = 150_000, 7.0, 1.8
SESSIONS_PER_CONNECTION = 25


def build_log(path: Path, frames: int) -> Path:
    """A wire log of exactly ``frames`` frames (padded with Heartbeat pairs), reconnecting every
    SESSIONS_PER_CONNECTION sessions. Built once per size and kept beside the benchmark."""
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    written, mono, wall = 0, 1_000_000_000_000, 1_740_805_200_000_000_000
    seed = 16
    with WireLog(tmp) as log:
        while written < frames:
            trace = Trace(seed)
            seed += 1
            trace.boot()
            for i in range(SESSIONS_PER_CONNECTION):
                trace.session(1 + i % 2)
            batch = trace.frames
            if written + len(batch) > frames:
                batch = batch[:frames - written]
                if len(batch) % 2:
                    batch = batch[:-1]
                while written + len(batch) < frames:
                    trace.frames = []
                    trace.exchange("cp", "Heartbeat", {}, {"currentTime": trace.now(30)})
                    batch += trace.frames
            mono += 1_000_000
            log.write_event("connected", mono, wall, url="ws://127.0.0.1:9000/ocpp/CP1",
                            subprotocol="ocpp1.6")
            for sender, text in batch:
                mono += 10_000_000
                wall += 10_000_000
                log.write_frame(sender, text, mono, wall)
            written += len(batch)
            log.write_event("closed", mono, wall, code=1000, reason="")
    tmp.rename(path)
    return path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the process and its workers) and the last line it printed."""
    cpu = _cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return elapsed, _cpu() - cpu, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--large", type=int, default=1_000_000,
                        help="frames of the log --jobs is also judged on (0: not)")
    args = parser.parse_args()
    cache = ROOT / "bench" / ".cache"
    cache.mkdir(exist_ok=True)
    log = build_log(cache / f"wire-{args.frames}.jsonl", args.frames)
    # The harness's bytecode, as pip install writes it (and the ocpp library has): without it, a
    # machine with PYTHONDONTWRITEBYTECODE set compiles every harness module at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "harness")], check=True,
                   stdout=subprocess.DEVNULL)
    size = log.stat().st_size
    print(f"log: {log.relative_to(ROOT)}, {args.frames:,} frames, {size / 1e6:.1f} MB; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    py = sys.executable
    commands = {
        "harness validate": [py, "-m", "harness", "validate", str(log)],
        f"harness validate --jobs {args.jobs}": [py, "-m", "harness", "validate", "--jobs",
                                                 str(args.jobs), str(log)],
        "ocpp library": [py, str(ROOT / "bench" / "ocpp_library_validate.py"), str(log)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.runs):
        for name, argv in commands.items():
            elapsed, cpu, last = timed(argv)
            times[name].append(elapsed)
            cpus[name].append(cpu)
            outputs[name] = last
        loads.append(os.getloadavg()[0])
    rate = {name: args.frames / min(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:32s} {rate[name]:>9,.0f} frames/s (best of {len(t)}: {min(t):.3f} s, "
              f"median {statistics.median(t):.3f} s; CPU {min(cpus[name]):.3f} s, "
              f"{args.frames / min(cpus[name]):,.0f} frames per CPU second); "
              f"last line: {outputs[name]}")
    one, jobs, library = (rate[n] for n in commands)
    ratio, speedup = one / library, jobs / one
    names = list(commands)
    cpu_ratio = min(cpus[names[2]]) / min(cpus[names[0]])
    print(f"harness / ocpp library: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU (target >= "
          f"{TARGET_RATIO:.0f}x, aim 20x); one core {one:,.0f} frames/s (target >= {TARGET:,}): "
          f"{'met' if one >= TARGET and ratio >= TARGET_RATIO else 'NOT met'}")
    tiny = build_log(cache / "wire-2.jsonl", 2)
    start = min(timed([py, "-m", "harness", "validate", str(tiny)])[0] for _ in range(5))
    whole = min(times[names[0]])
    bound = whole / (start + (whole - start) / args.jobs)
    print(f"--jobs {args.jobs} / one job at {args.frames:,} frames: {speedup:.2f}x; start-up "
          f"(validate of a 2-frame log, best of 5) {start * 1000:.0f} ms of the one process's "
          f"{whole * 1000:.0f} ms: no split of the file can do better than {bound:.2f}x")
    if args.large:
        big = build_log(cache / f"wire-{args.large}.jsonl", args.large)
        large = {name: [py, "-m", "harness", "validate", *argv[4:-1], str(big)]
                 for name, argv in list(commands.items())[:2]}
        big_times: dict[str, list[float]] = {name: [] for name in large}
        for _ in range(args.runs):
            for name, argv in large.items():
                big_times[name].append(timed(argv)[0])
            loads.append(os.getloadavg()[0])
        one_big, jobs_big = (min(t) for t in big_times.values())
        big_speedup = one_big / jobs_big
        steady = (one_big - whole) / (jobs_big - min(times[names[1]]))
        print(f"log: {big.relative_to(ROOT)}, {args.large:,} frames, {big.stat().st_size / 1e6:.0f}"
              f" MB: one process {one_big:.3f} s = {args.large / one_big:,.0f} frames/s, --jobs "
              f"{args.jobs} {jobs_big:.3f} s = {args.large / jobs_big:,.0f} frames/s (best of "
              f"{args.runs})")
        print(f"--jobs {args.jobs} / one job at {args.large:,} frames: {big_speedup:.2f}x "
              f"(target >= {TARGET_JOBS}x): {'met' if big_speedup >= TARGET_JOBS else 'NOT met'}"
              f"; the {args.large - args.frames:,} frames between the two logs: {steady:.2f}x")
    else:
        print(f"--jobs {args.jobs} / one job: {speedup:.2f}x (target >= {TARGET_JOBS}x): "
              f"{'met' if speedup >= TARGET_JOBS else 'NOT met'}")
    print(f"load average (1 min) during the run: {min(loads):.2f} to {max(loads):.2f} "
          f"on {os.cpu_count()} CPUs" + ("; the machine was busy, figures understate the code"
                                          if max(loads) > 1.0 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
