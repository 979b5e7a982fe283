"""``python -m harness load --processes N``: Locust master/worker on this machine.

The process given ``--processes N`` is Locust's master (it runs no charge point): it starts N
worker processes (``python -m harness load --worker-of 127.0.0.1:PORT`` with the same arguments),
waits for them to connect (woken by Locust's ``worker_connect`` event, bounded by
``CONNECT_TIMEOUT``), tells them when the run starts (``begin``: the master's monotonic clock,
which on Linux is the same clock in every process), and lets Locust dispatch the users among them.
Locust aggregates the per-action latencies on the master as usual. At the end of the run the master
asks every worker for what Locust's stats do not hold (``collect``): the swarm's counters, boot and
recovery times, findings, and the worker's own health, and merges them into one report. The
generator's health is the worst process's: one saturated worker makes the run INCONCLUSIVE.

Identities stay unique across workers: worker i of N numbers its charge points i+1, i+1+N,
i+1+2N ... (Locust's worker index, set when the master acknowledges the worker).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections import Counter
from typing import Any

import gevent
import gevent.event

from harness.load.chargepoint import Swarm

CONNECT_TIMEOUT = 60.0
COLLECT_TIMEOUT = 60.0
_COUNTERS = ("boot_status", "connect_errors", "callerrors", "timeouts", "findings", "csms_calls",
             "sessions", "disruption", "duplicates", "sources")
_LISTS = ("boot_times", "heartbeat_lags", "recoveries", "finding_samples")
_SUMS = ("users", "connect_failures", "disconnects")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_workers(argv: list[str], processes: int, port: int) -> list[subprocess.Popen]:
    """The worker processes, with the master's arguments minus --processes."""
    own: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--processes":
            skip = True
            continue
        if arg.startswith("--processes="):
            continue
        own.append(arg)
    command = [sys.executable, "-m", "harness.load", *own, "--worker-of", f"127.0.0.1:{port}"]
    return [subprocess.Popen(command) for _ in range(processes)]


def expect_workers(env: Any, processes: int) -> gevent.event.Event:
    """Set once ``processes`` workers have said ``registered`` (each sends it once its own
    message handlers are in place: Locust's worker_connect comes earlier, before a worker could
    take the ``begin`` message). Call before starting the workers."""
    ready, seen = gevent.event.Event(), set()

    def registered(environment: Any, msg: Any, **_: Any) -> None:
        seen.add(msg.node_id)
        if len(seen) >= processes:
            ready.set()

    env.runner.register_message("registered", registered)
    return ready


# --- the swarm on the wire (msgpack: no tuple keys) -----------------------------------------------

def to_wire(swarm: Swarm, generator: dict) -> dict:
    data: dict[str, Any] = {k: [[list(key) if isinstance(key, tuple) else key, n]
                                for key, n in getattr(swarm, k).items()] for k in _COUNTERS}
    data.update({k: list(getattr(swarm, k)) for k in _LISTS})
    data.update({k: getattr(swarm, k) for k in _SUMS})
    data["booted_ids"] = sorted(swarm.booted_ids)
    data["last_new_boot_at"] = swarm.last_new_boot_at
    data["generator"] = generator
    return data


def merge(parts: list[dict], swarm: Swarm) -> list[dict]:
    """Add every worker's figures into ``swarm`` (the master's, empty); returns the workers'
    health, one dict per process."""
    for part in parts:
        for k in _COUNTERS:
            counter: Counter = getattr(swarm, k)
            for key, n in part[k]:
                counter[tuple(key) if isinstance(key, list) else key] += n
        for k in _LISTS:
            getattr(swarm, k).extend(part[k])
        for k in _SUMS:
            setattr(swarm, k, getattr(swarm, k) + part[k])
        swarm.booted_ids.update(part["booted_ids"])
        if part["last_new_boot_at"] is not None:
            swarm.last_new_boot_at = max(swarm.last_new_boot_at or 0.0, part["last_new_boot_at"])
    del swarm.finding_samples[20:]
    return [part["generator"] for part in parts]


def worst_health(master: dict, workers: list[dict]) -> dict:
    """The generator's health as the worst of its processes (each bound to one core), with every
    process's figures under ``processes``."""
    out = dict(master)
    for key in ("cpu_mean_percent", "cpu_max_percent", "loop_lag_p95_ms", "loop_lag_p99_ms",
                "loop_lag_max_ms", "rss_peak_mb"):
        values = [g.get(key) for g in (master, *workers) if g.get(key) is not None]
        out[key] = max(values, default=None)
    out["rss_total_mb"] = round(sum(g.get("rss_peak_mb") or 0 for g in (master, *workers)), 1)
    out["greenlets"] = sum(g.get("greenlets") or 0 for g in workers)
    out["processes"] = {"master": master, "workers": workers}
    return out


# --- the two ends of the conversation ----------------------------------------------------------

def serve_collect(env: Any, swarm: Swarm, report: Any) -> gevent.event.Event:
    """Register the worker's ``collect`` handler; ``report()`` -> the worker's health dict. The
    returned event is set once the master has collected the figures."""
    runner, done = env.runner, gevent.event.Event()

    def collect(environment: Any, msg: Any, **_: Any) -> None:
        runner.send_message("swarm", to_wire(swarm, report()))
        done.set()

    runner.register_message("collect", collect)
    runner.send_message("registered")
    return done


def collect(env: Any, processes: int, timeout: float = COLLECT_TIMEOUT) -> list[dict]:
    """Every worker's figures (fewer if some did not answer within ``timeout``)."""
    parts: list[dict] = []
    complete = gevent.event.Event()

    def on_swarm(environment: Any, msg: Any, **_: Any) -> None:
        parts.append(msg.data)
        if len(parts) >= processes:
            complete.set()

    env.runner.register_message("swarm", on_swarm)
    env.runner.send_message("collect")
    complete.wait(timeout)
    return parts
