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

import gevent  # noqa: E402
import orjson  # noqa: E402
import psutil  # noqa: E402
from locust.env import Environment  # noqa: E402

from harness.load import objectives  # noqa: E402
from harness.load.chargepoint import Config, Swarm, user_class  # noqa: E402
from harness.validation import Validator  # noqa: E402

EXIT = {"PASS": 0, "FAIL": 1, "INCONCLUSIVE": 3}
EXIT_SETUP = 4
LOOP_TICK = 0.1


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
    p.add_argument("--response-timeout", type=float, default=10.0, help="seconds a CALL waits "
                   "for its answer (default 10)")
    p.add_argument("--session-weight", type=int, help="weight of a charging session against "
                   "--idle-weight (default steady 1, boot-storm 0)")
    p.add_argument("--idle-weight", type=int, default=3)
    p.add_argument("--meter-samples", type=int, default=2, help="MeterValues per session")
    p.add_argument("--meter-interval", type=float, default=1.0, help="seconds between samples "
                   "(until the CSMS sets MeterValueSampleInterval)")
    return p


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
    try:
        slo = objectives.load(args.slo)
    except objectives.ObjectivesError as exc:
        problem = problem or str(exc)
    if problem:
        print(f"harness load: {problem}", file=sys.stderr)
        return EXIT_SETUP
    storm = args.scenario == "boot-storm"
    spawn_rate = args.spawn_rate or (args.users if storm else 10.0)
    config = Config(csms_url=args.csms_url, id_prefix=args.id_prefix, password=password,
                    connectors=args.connectors, id_tags=tuple(args.id_tags or ("VALID0001",)),
                    id_tag_prefix=args.id_tag_prefix,
                    response_timeout=args.response_timeout,
                    session_weight=args.session_weight if args.session_weight is not None
                    else (0 if storm else 1),
                    idle_weight=args.idle_weight, meter_samples=args.meter_samples,
                    meter_interval=args.meter_interval)
    swarm = Swarm(target=args.users)
    env = Environment(user_classes=[user_class(config, swarm)], events=_events)
    runner = env.create_local_runner()
    Validator.default().sources  # every schema compiled now, not in the swarm's first frames
    health = Health()
    started = datetime.now(timezone.utc)
    print(f"harness load: {args.scenario}, {args.users} charge points at {spawn_rate:g}/s for "
          f"{args.time:g} s against {args.csms_url}", flush=True)
    health.start()
    swarm.started_at = time.monotonic()
    runner.start(args.users, spawn_rate=spawn_rate)
    gevent.sleep(args.time)
    generator = health.stop()
    generator["greenlets"] = len(runner.user_greenlets)
    runner.quit()
    generator["heartbeat_lag_p95_ms"] = _ms(_percentile(swarm.heartbeat_lags, 0.95))
    measured = _measured(args, env, swarm, generator, spawn_rate, started)
    measured.update(objectives.judge(slo, args.scenario, measured))
    report = Path(args.report)
    report.mkdir(parents=True, exist_ok=True)
    (report / "report.json").write_bytes(orjson.dumps(measured, option=orjson.OPT_INDENT_2))
    _print(measured, report / "report.json")
    return EXIT[measured["verdict"]]


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
    if swarm.all_booted_at is not None:
        took = round(swarm.all_booted_at - swarm.started_at, 3)
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
        "disconnects": swarm.disconnects, "sessions": dict(swarm.sessions),
        "csms_calls_answered": dict(swarm.csms_calls),
        "csms_violations": csms_violations, "csms_remarks": remarks,
        "generator_findings": generator_findings, "findings_by_rule": findings_by_rule,
        "finding_samples": swarm.finding_samples, "generator": generator,
    }


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
    print(f"{m['scenario']}: {m['verdict']}" + "".join(f"\n  {r}" for r in m["reasons"]))
    print(f"report: {where}", flush=True)


def main(argv: list[str] | None = None) -> int:
    import logging
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A boot storm starts every charge point at once on purpose: not Locust's ">100" warning.
    logging.getLogger("locust.runners").addFilter(
        lambda record: "spawn rate is very high" not in record.getMessage())
    return run(_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
