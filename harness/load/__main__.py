"""``python -m harness load`` (also ``python -m harness.load``): a swarm of charge points against a
central system, Locust headless in this process, report.json and a verdict.

    python -m harness load --csms-url ws://127.0.0.1:9000/ocpp --users 50 --spawn-rate 25 \\
        --time 10 --scenario steady [--slo FILE] --report DIR

Scenarios: ``steady`` (users ramp up at --spawn-rate, then boot, report their connectors, heartbeat
at the CSMS's interval and run weighted charging sessions); ``boot-storm`` (every user at once,
--spawn-rate defaults to --users; boot, StatusNotifications and heartbeats only). Exit 0: PASS;
1: FAIL; 3: INCONCLUSIVE; 4: the set-up is wrong (a URL off loopback, an objectives file that does
not load). Traffic goes to loopback only.
"""

from locust import events as _events  # first: Locust monkey-patches the standard library

import argparse  # noqa: E402
import ipaddress  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import subprocess  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import orjson  # noqa: E402
import psutil  # noqa: E402
from locust.env import Environment  # noqa: E402

from harness.load import distributed, html, objectives  # noqa: E402
from harness.load.cases import CasesRun  # noqa: E402
from harness.load.chargepoint import Config, Swarm, user_class  # noqa: E402
from harness.load.disruptions import DisruptedChargePoint  # noqa: E402
from harness.validation import Validator  # noqa: E402

EXIT = {"PASS": 0, "FAIL": 1, "INCONCLUSIVE": 3}
EXIT_SETUP = 4
LOOP_TICK = 0.1
TIMELINE_TICK = 5.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness load", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--csms-url", required=True, help="ws://host:port/path (loopback only); the "
                   "charge point identity is appended")
    p.add_argument("--users", type=int, required=True, help="charge points")
    p.add_argument("--spawn-rate", type=float, help="charge points started per second (default: "
                   "steady 10, boot-storm all at once)")
    p.add_argument("--time", type=float, required=True, help="seconds the run lasts, ramp-up "
                   "included")
    p.add_argument("--scenario", choices=objectives.SCENARIOS, default="steady")
    p.add_argument("--slo", help="service objectives TOML (default harness/load/objectives.toml)")
    p.add_argument("--report", required=True, help="directory for report.json")
    p.add_argument("--id-prefix", default="LOAD", help="identities PREFIX00001... (default LOAD)")
    p.add_argument("--id-tag", action="append", dest="id_tags", metavar="TAG",
                   help="idTags the charge points present, round robin (repeatable; default "
                   "VALID0001)")
    p.add_argument("--id-tag-prefix", metavar="PREFIX", help="each charge point its own idTag "
                   "PREFIX00001... (instead of --id-tag)")
    p.add_argument("--connectors", type=int, default=2)
    p.add_argument("--password-env", metavar="VAR", help="security profile 1: the HTTP Basic "
                   "password is in this environment variable (never written anywhere)")
    p.add_argument("--ca-file", help="wss:// (security profiles 2, 3): the CA bundle the "
                   "CSMS's certificate is checked against (default: the system's)")
    p.add_argument("--cert-file", help="security profile 3: the charge points' client "
                   "certificate (PEM; with its key, or --key-file)")
    p.add_argument("--key-file", help="security profile 3: the client certificate's key")
    p.add_argument("--source-addresses", type=int, default=1, metavar="N", help="connect from "
                   "127.0.0.1 .. 127.0.0.N, round robin (an IPv4 loopback CSMS URL only): past "
                   "the ~28,000 ephemeral ports one source address has towards one CSMS port")
    p.add_argument("--response-timeout", type=float, default=10.0, help="seconds a CALL waits "
                   "for its answer (default 10)")
    p.add_argument("--session-weight", type=int, help="weight of a charging session against "
                   "--idle-weight (default steady 1, boot-storm 0)")
    p.add_argument("--idle-weight", type=int, default=3)
    p.add_argument("--meter-samples", type=int, default=2, help="MeterValues per session")
    p.add_argument("--meter-interval", type=float, default=1.0, help="seconds between samples "
                   "(until the CSMS sets MeterValueSampleInterval)")
    d = p.add_argument_group("disrupting scenarios (rolling-restart, blackout, duplicate-identity;"
                             " harness/load/disruptions.py)")
    d.add_argument("--event-at", type=float, metavar="S", help="seconds from the start until "
                   "the disruption (default: the ramp-up, --users / --spawn-rate, plus 3)")
    d.add_argument("--fraction", type=float, help="share of the swarm disrupted (default "
                   "rolling-restart 0.2, blackout 1, duplicate-identity 0.1)")
    d.add_argument("--spread", type=float, metavar="S", help="disruptions spread over S seconds "
                   "(default rolling-restart 5, else 0)")
    d.add_argument("--offline", type=float, metavar="S", help="seconds a disrupted charge point "
                   "stays down (default rolling-restart 2, blackout 10)")
    d.add_argument("--reconnect-jitter", type=float, default=0.0, metavar="S", help="blackout: "
                   "each charge point comes back up to S seconds late (default 0: all at once)")
    d.add_argument("--duplicate-grace", type=float, default=5.0, metavar="S", help="seconds the "
                   "CSMS has to close one of two connections of an identity (default 5)")
    c = p.add_argument_group("conformance under load (harness/load/cases.py)")
    c.add_argument("--cases", metavar="PYTEST_ARGS", help="run these CSMS test cases (pytest "
                   "arguments, e.g. \"-k 'TC_001_CSMS or TC_003_CSMS'\") against the same CSMS "
                   "while the swarm runs; their verdicts go into report.json")
    c.add_argument("--cases-pics", metavar="PICS", help="the CSMS's PICS for the cases")
    c.add_argument("--cases-driver", metavar="SPEC", help="--ocpp-driver for the cases (the "
                   "CSMS's operator actions)")
    c.add_argument("--cases-timeout", type=float, default=600.0, metavar="S", help="longest "
                   "the swarm waits past --time for the cases to end (default 600)")
    p.add_argument("--processes", type=int, default=1, help="Locust worker processes under a "
                   "master (default 1: one process, no master)")
    p.add_argument("--worker-of", metavar="HOST:PORT", help=argparse.SUPPRESS)
    return p


DISRUPTION_DEFAULTS = {"rolling-restart": {"fraction": 0.2, "spread": 5.0, "offline": 2.0},
                       "blackout": {"fraction": 1.0, "spread": 0.0, "offline": 10.0},
                       "duplicate-identity": {"fraction": 0.1, "spread": 0.0, "offline": 0.0}}


def _disruption_end(scenario: str, d: dict) -> float:
    """When the last disruption is over, at the earliest (s from the start)."""
    last = d["event_at"] + d["spread"]
    return last + (d["duplicate_grace"] if scenario == "duplicate-identity" else d["offline"])


def _disruption(args: argparse.Namespace, spawn_rate: float) -> dict:
    """The disrupting scenario's settings, defaults filled in ({} for steady, boot-storm)."""
    defaults = DISRUPTION_DEFAULTS.get(args.scenario)
    if defaults is None:
        return {}
    out = {k: getattr(args, k) if getattr(args, k) is not None else v
           for k, v in defaults.items()}
    out["event_at"] = args.event_at if args.event_at is not None else \
        round(args.users / spawn_rate + 3, 1)
    out["reconnect_jitter"], out["duplicate_grace"] = args.reconnect_jitter, args.duplicate_grace
    return out


def _loopback(url: str) -> str | None:
    """None when every address the URL's host names is a loopback one; else why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return f"--csms-url {url!r}: expected ws://host:port/path"
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"--csms-url: {parts.hostname}: {exc}"
    for info in infos:
        if not ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback:
            return (f"--csms-url: {parts.hostname} is {info[4][0]}, not a loopback address: "
                    "this generator sends traffic to loopback only")
    return None


class Health:
    """The generator's own health, sampled while the swarm runs: CPU, RSS, loop lag."""

    def __init__(self):
        self.process = psutil.Process()
        self.lags: list[float] = []
        self.cpu_samples: list[float] = []
        self.rss_peak = 0
        self.greenlet = None

    def start(self) -> None:
        self.wall0, self.cpu0 = time.monotonic(), sum(self.process.cpu_times()[:2])
        self.process.cpu_percent(None)
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        last_cpu = time.monotonic()
        while True:
            before = time.monotonic()
            gevent.sleep(LOOP_TICK)
            now = time.monotonic()
            self.lags.append(now - before - LOOP_TICK)
            if now - last_cpu >= 1.0:
                last_cpu = now
                self.cpu_samples.append(self.process.cpu_percent(None))
                self.rss_peak = max(self.rss_peak, self.process.memory_info().rss)

    def stop(self) -> dict:
        self.greenlet.kill()
        wall = time.monotonic() - self.wall0
        cpu = sum(self.process.cpu_times()[:2]) - self.cpu0
        self.rss_peak = max(self.rss_peak, self.process.memory_info().rss)
        return {"cpu_mean_percent": round(100 * cpu / wall, 1) if wall else None,
                "cpu_max_percent": max(self.cpu_samples, default=None),
                "loop_lag_p95_ms": _ms(_percentile(self.lags, 0.95)),
                "loop_lag_p99_ms": _ms(_percentile(self.lags, 0.99)),
                "loop_lag_max_ms": _ms(max(self.lags, default=None)),
                "rss_peak_mb": round(self.rss_peak / 2 ** 20, 1),
                "greenlets": None, "load_average": [round(x, 2) for x in os.getloadavg()],
                "cpus": os.cpu_count()}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _actions(env: Environment) -> dict[str, dict]:
    out = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        key = name if method == "OCPP" else f"{method} {name}"
        out[key] = {"n": entry.num_requests, "failures": entry.num_failures,
                    "min_ms": round(entry.min_response_time or 0, 1),
                    "p50_ms": entry.get_response_time_percentile(0.5),
                    "p95_ms": entry.get_response_time_percentile(0.95),
                    "p99_ms": entry.get_response_time_percentile(0.99),
                    "max_ms": round(entry.max_response_time, 1),
                    "rps": round(entry.total_rps, 2)}
    return out


def run(args: argparse.Namespace) -> int:
    problem = _loopback(args.csms_url)
    if problem is None and (args.users < 1 or args.time <= 0):
        problem = "--users and --time must be positive"
    password = None
    if problem is None and args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            problem = f"--password-env {args.password_env}: the variable is not set"
    if problem is None and not 1 <= args.source_addresses <= 254:
        problem = "--source-addresses must be 1 to 254"
    elif problem is None and args.source_addresses > 1 and \
            not (urlsplit(args.csms_url).hostname or "").startswith("127."):
        problem = "--source-addresses needs an IPv4 loopback --csms-url (127.x.x.x)"
    try:
        slo = objectives.load(args.slo)
    except objectives.ObjectivesError as exc:
        problem = problem or str(exc)
    if problem:
        print(f"harness load: {problem}", file=sys.stderr)
        return EXIT_SETUP
    storm = args.scenario == "boot-storm"
    spawn_rate = args.spawn_rate or (args.users if storm else 10.0)
    disruption = _disruption(args, spawn_rate)
    if disruption and not 0 < disruption["fraction"] <= 1:
        problem = "--fraction must be in (0, 1]"
    elif disruption and _disruption_end(args.scenario, disruption) >= args.time:
        problem = (f"--time {args.time:g}: too short for {args.scenario}, whose disruption ends "
                   f"at {_disruption_end(args.scenario, disruption):g} s (--event-at + --spread "
                   "+ --offline, or + --duplicate-grace)")
    if problem:
        print(f"harness load: {problem}", file=sys.stderr)
        return EXIT_SETUP
    config = Config(csms_url=args.csms_url, id_prefix=args.id_prefix, password=password,
                    connectors=args.connectors, id_tags=tuple(args.id_tags or ("VALID0001",)),
                    id_tag_prefix=args.id_tag_prefix, source_addresses=args.source_addresses,
                    ca_file=args.ca_file, cert_file=args.cert_file, key_file=args.key_file,
                    response_timeout=args.response_timeout,
                    session_weight=args.session_weight if args.session_weight is not None
                    else (0 if storm or disruption else 1),
                    idle_weight=args.idle_weight, meter_samples=args.meter_samples,
                    meter_interval=args.meter_interval, scenario=args.scenario,
                    **disruption)
    swarm = Swarm(target=args.users)
    env = Environment(user_classes=[user_class(config, swarm, DisruptedChargePoint)],
                      events=_events)
    Validator.default().sources  # every schema compiled now, not in the swarm's first frames
    health = Health()
    if args.worker_of:
        return _worker(args, env, swarm, health)
    workers: list = []
    if args.processes > 1:
        port = distributed.free_port()
        runner = env.create_master_runner("127.0.0.1", port)
        ready = distributed.expect_workers(env, args.processes)
        workers = distributed.start_workers(args.argv, args.processes, port)
        if not ready.wait(distributed.CONNECT_TIMEOUT):
            print(f"harness load: {len(runner.clients)} of {args.processes} worker processes "
                  f"connected within {distributed.CONNECT_TIMEOUT:g} s", file=sys.stderr)
            _stop_workers(runner, workers)
            return EXIT_SETUP
    else:
        runner = env.create_local_runner()
    started = datetime.now(timezone.utc)
    print(f"harness load: {args.scenario}, {args.users} charge points at {spawn_rate:g}/s for "
          f"{args.time:g} s against {args.csms_url}"
          + (f" ({args.processes} Locust worker processes)" if workers else ""), flush=True)
    health.start()
    swarm.started_at = time.monotonic()
    if workers:
        runner.send_message("begin", {"started_at": swarm.started_at,
                                      "processes": args.processes})
    if workers:  # the master dispatches the ramp-up in start() itself: --time includes it
        gevent.spawn(runner.start, args.users, spawn_rate=spawn_rate)
    else:
        runner.start(args.users, spawn_rate=spawn_rate)
    timeline: list[dict] = []
    sampler = gevent.spawn(_timeline, env, runner, swarm, timeline)
    suite = None
    if args.cases:
        suite = CasesRun(args.cases, args.csms_url, Path(args.report), args.cases_pics,
                         args.cases_driver)
        gevent.spawn_later(min(args.users / spawn_rate, args.time / 2), suite.start)
    gevent.sleep(args.time)
    if suite is not None:  # the swarm keeps running until the cases end (bounded)
        suite.wait(args.cases_timeout)
    generator = health.stop()
    sampler.kill()
    generator["greenlets"] = len(runner.user_greenlets)
    if workers:
        parts = distributed.collect(env, args.processes)
        generator = distributed.worst_health(generator, distributed.merge(parts, swarm))
        generator["workers_missing"] = args.processes - len(parts)
        _stop_workers(runner, workers)
    else:
        runner.quit()
    generator["heartbeat_lag_p95_ms"] = _ms(_percentile(swarm.heartbeat_lags, 0.95))
    measured = _measured(args, env, swarm, generator, spawn_rate, started)
    measured["timeline"] = timeline
    if disruption:
        measured["disruption_settings"] = disruption
    if suite is not None:
        measured["cases"] = suite.summary()
        measured["duration_s"] = round(time.monotonic() - swarm.started_at, 1)
    measured.update(objectives.judge(slo, args.scenario, measured))
    report = Path(args.report)
    report.mkdir(parents=True, exist_ok=True)
    (report / "report.json").write_bytes(orjson.dumps(measured, option=orjson.OPT_INDENT_2))
    (report / "report.html").write_text(html.render(measured), encoding="utf-8")
    _print(measured, report / "report.json")
    return EXIT[measured["verdict"]]


def _timeline(env: Environment, runner: Any, swarm: Swarm, out: list[dict]) -> None:
    """Every TIMELINE_TICK s: the charge points running and each action's p95 over Locust's
    sliding window (about the last 10 s)."""
    while True:
        gevent.sleep(TIMELINE_TICK)
        out.append({"t": round(time.monotonic() - swarm.started_at, 1),
                    "users": runner.user_count,
                    "p95_ms": {name if method == "OCPP" else f"{method} {name}":
                               entry.get_current_response_time_percentile(0.95)
                               for (name, method), entry in sorted(env.stats.entries.items())}})


def _worker(args: argparse.Namespace, env: Environment, swarm: Swarm, health: Health) -> int:
    """A worker process of ``--processes``: charge points as the master dispatches them."""
    host, _, port = args.worker_of.rpartition(":")
    runner = env.create_worker_runner(host, int(port))
    began = gevent.event.Event()
    env.runner.register_message("begin", lambda environment, msg, **_: (
        setattr(swarm, "started_at", msg.data["started_at"]),
        setattr(swarm, "stride", msg.data["processes"]),
        setattr(swarm, "offset", max(0, runner.worker_index)), health.start(), began.set()))

    def report() -> dict:
        if health.greenlet is None:  # no begin came: figures of nothing, but figures
            health.start()
        generator = health.stop()
        generator["greenlets"] = len(runner.user_greenlets)
        return generator

    collected = distributed.serve_collect(env, swarm, report)
    bound = distributed.CONNECT_TIMEOUT + args.time + distributed.COLLECT_TIMEOUT
    if began.wait(distributed.CONNECT_TIMEOUT):
        collected.wait(bound)
    runner.greenlet.join(timeout=30)  # the master's quit ends it
    return 0


def _stop_workers(runner: Any, workers: list) -> None:
    runner.quit()
    for process in workers:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _measured(args: argparse.Namespace, env: Environment, swarm: Swarm, generator: dict,
              spawn_rate: float, started: datetime) -> dict:
    findings_by_rule: dict[str, int] = {}
    csms_violations = generator_findings = remarks = 0
    for (sender, severity, rule), n in sorted(swarm.findings.items()):
        findings_by_rule[f"{sender} {severity} {rule}"] = n
        if sender == "cp":
            generator_findings += n
        elif severity == "remark":
            remarks += n
        else:
            csms_violations += n
    took = None
    if len(swarm.booted_ids) >= args.users and swarm.last_new_boot_at is not None:
        took = round(swarm.last_new_boot_at - swarm.started_at, 3)
    return {
        "scenario": args.scenario, "csms_url": args.csms_url, "users": args.users,
        "spawn_rate": spawn_rate, "duration_s": args.time,
        "started": started.isoformat(timespec="seconds"),
        "users_started": swarm.users, "booted": len(swarm.booted_ids),
        "time_to_all_booted_s": took,
        "boot_s": {"p50": _percentile(swarm.boot_times, 0.5),
                   "p95": _percentile(swarm.boot_times, 0.95),
                   "max": max(swarm.boot_times, default=None)},
        "boot_status": dict(swarm.boot_status),
        "actions": _actions(env),
        "callerrors": sum(swarm.callerrors.values()),
        "callerrors_by_action": {f"{a} {c}": n for (a, c), n in sorted(swarm.callerrors.items())},
        "timeouts": sum(swarm.timeouts.values()), "timeouts_by_action": dict(swarm.timeouts),
        "connect_failures": swarm.connect_failures, "connect_errors": dict(swarm.connect_errors),
        "connections_by_source": dict(sorted(swarm.sources.items())),
        "disconnects": swarm.disconnects, "sessions": dict(swarm.sessions),
        "csms_calls_answered": dict(swarm.csms_calls),
        "csms_violations": csms_violations, "csms_remarks": remarks,
        "generator_findings": generator_findings, "findings_by_rule": findings_by_rule,
        "finding_samples": swarm.finding_samples, "generator": generator,
        "disruption": dict(swarm.disruption),
        "recovery_s": {"n": len(swarm.recoveries),
                       "p50": _round(_percentile(swarm.recoveries, 0.5)),
                       "p95": _round(_percentile(swarm.recoveries, 0.95)),
                       "max": _round(max(swarm.recoveries, default=None))},
        "replay_lost": (swarm.disruption["queued"] - swarm.disruption["replayed"]
                        if swarm.disruption["queued"] else None),
        "duplicates": dict(swarm.duplicates),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _print(m: dict, where: Path) -> None:
    print(f"{'action':<22}{'n':>8}{'fail':>6}{'min':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for name, a in m["actions"].items():
        print(f"{name:<22}{a['n']:>8}{a['failures']:>6}{a['min_ms']:>8.0f}{a['p50_ms']:>8.0f}"
              f"{a['p95_ms']:>8.0f}{a['p99_ms']:>8.0f}{a['max_ms']:>8.0f}")
    g = m["generator"]
    print(f"booted {m['booted']}/{m['users']} (all in {m['time_to_all_booted_s']} s); "
          f"CALLERRORs {m['callerrors']}, timeouts {m['timeouts']}, connect failures "
          f"{m['connect_failures']}, CSMS violations {m['csms_violations']}; generator CPU "
          f"{g['cpu_mean_percent']} % (max {g['cpu_max_percent']}), loop lag p95 "
          f"{g['loop_lag_p95_ms']} ms (p99 {g['loop_lag_p99_ms']}), RSS {g['rss_peak_mb']} MB, "
          f"load {g['load_average']}")
    if m["disruption"] or m["duplicates"]:
        print(f"disruption {m['disruption']}; recovery s {m['recovery_s']}; replay lost "
              f"{m['replay_lost']}; duplicates {m['duplicates']}")
    if "cases" in m:
        cases = m["cases"]
        print(f"conformance cases under load: {cases['counts'] or 'none ran'} (exit "
              f"{cases['exit']}{', timed out' if cases['timed_out'] else ''}): "
              + ", ".join(f"{v['id']} {v['verdict']}" for v in cases["verdicts"]))
    print(f"{m['scenario']}: {m['verdict']}" + "".join(f"\n  {r}" for r in m["reasons"]))
    print(f"report: {where}", flush=True)


def main(argv: list[str] | None = None) -> int:
    import logging
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A boot storm starts every charge point at once on purpose: not Locust's ">100" warning.
    logging.getLogger("locust.runners").addFilter(
        lambda record: "spawn rate is very high" not in record.getMessage())
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
