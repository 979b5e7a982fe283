"""The largest swarm of charge points this machine holds against the reference CSMS.

    .venv/bin/python bench/bench_load.py [--users 1000 5000 10000] [--time 360] [--processes 0]

Runs the command a user runs (README "Load"), once per swarm size, smallest first:

    python -m harness.load.refsim --heartbeat-interval 60 -- --scenario steady --users N
        --spawn-rate 100 --session-weight 0 --response-timeout 30 --time T [--processes P]

(the reference CSMS as a separate process beside the Locust generator, both on this machine), and
reads each run's report.json: the verdict against harness/load/objectives.toml, the time to all
booted, connection failures, disconnects, CALLERRORs, timeouts, Heartbeat p95, the generator's own
CPU, memory and loop lag, and the load average. It stops at the first size that does not PASS (an
INCONCLUSIVE is the generator saturating, a FAIL the CSMS giving way) and prints the largest size
held. A measurement, not a test: exit code 0 whatever the verdicts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(users: int, seconds: float, processes: int, report: Path) -> dict:
    command = [sys.executable, "-m", "harness.load.refsim", "--heartbeat-interval", "60", "--",
               "--scenario", "steady", "--users", str(users), "--spawn-rate", "100",
               "--session-weight", "0", "--response-timeout", "30", "--time", f"{seconds:g}",
               "--report", str(report)]
    if processes:
        command += ["--processes", str(processes)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          timeout=seconds + users / 100 + 300)
    wall = time.monotonic() - started
    path = report / "report.json"
    if not path.is_file():
        return {"verdict": "no report", "wall_s": wall, "output": (done.stdout + done.stderr)[-800:]}
    return {**json.loads(path.read_text()), "wall_s": wall}


def line(users: int, r: dict) -> str:
    if "booted" not in r:
        return f"{users:>6}  {r['verdict']}: {r.get('output', '')}"
    gen = r.get("generator") or {}
    heartbeat = (r.get("actions") or {}).get("Heartbeat") or {}
    return (f"{users:>6}  {r['verdict']:<12} booted {r['booted']:,}/{r['users']:,} in "
            f"{r.get('time_to_all_booted_s') or 0:.1f} s; connect failures "
            f"{r['connect_failures']}, disconnects {r['disconnects']}, CALLERRORs {r['callerrors']}, "
            f"timeouts {r['timeouts']}; Heartbeat p95 {heartbeat.get('p95_ms', '-')} ms; generator "
            f"CPU {gen.get('cpu_mean_percent')} %, RSS {gen.get('rss_peak_mb')} MB, loop lag p95 "
            f"{gen.get('loop_lag_p95_ms')} ms; load {gen.get('load_average')}; {r['wall_s']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--time", type=float, default=360,
                        help="seconds each swarm runs, ramp-up at 100/s included (default 360)")
    parser.add_argument("--processes", type=int, default=0,
                        help="Locust worker processes (0: one process, no master)")
    args = parser.parse_args()
    print(f"bench_load: steady swarms against the reference CSMS, {args.time:g} s each, "
          f"{'one process' if not args.processes else f'{args.processes} worker processes'}; "
          f"load before {os.getloadavg()[0]:.2f}", flush=True)
    held = None
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for users in sorted(args.users):
            result = run(users, args.time, args.processes, Path(tmp) / str(users))
            print(line(users, result), flush=True)
            if result["verdict"] != "PASS":
                break
            held = users
    print(f"largest swarm held: {held:,} charge points" if held else "no swarm held", flush=True)


if __name__ == "__main__":
    main()
