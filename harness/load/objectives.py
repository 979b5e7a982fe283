"""Service objectives of a load run and its verdict (no Locust here: plain data in, plain data out).

The objectives are a TOML file, one table per scenario (``[steady]``, ``[boot-storm]``) and a
``[generator]`` table bounding the load generator's own health (harness/load/objectives.toml is the
default; every key is optional):

    [steady]
    p95_ms = { Heartbeat = 1000 }   # 95th percentile of the answer time of an action, ms
    p99_ms = { Heartbeat = 2000 }
    max_callerrors = 0              # CALLERRORs answered to the swarm's CALLs
    max_timeouts = 0                # CALLs unanswered within the response timeout
    max_connect_failures = 0        # WebSocket connections refused or failed
    max_disconnects = 0             # connections the CSMS closed during the run
    max_findings = 0                # the CSMS's frames that violate OCPP (schemas+errata, OCPP-J)
    all_booted_within_s = 30        # every charge point Accepted, counted from the run's start
    all_recovered_within_s = 15     # rolling-restart, blackout: every disrupted charge point
                                    # Accepted again within S of its reconnect attempt
    max_replay_lost = 0             # blackout: offline-queued transaction messages not accepted
                                    # (CALLERROR, timeout, lost, never sent) when the run ends
    duplicate_identity = "either"   # duplicate-identity: what the CSMS must do with a second
                                    # connection of an open identity: "refuse" the newcomer,
                                    # "replace" the old one, or "either"; serving both (or
                                    # closing both) misses it

    [generator]
    max_cpu_percent = 90            # the generator's mean CPU over the run (one process: one core)
    max_loop_lag_p95_ms = 500       # how late the generator's gevent loop wakes a 100 ms sleep (p95)
    max_heartbeat_lag_p95_ms = 1000 # how late the heartbeat greenlets woke

Verdict: INCONCLUSIVE when the generator cannot vouch for its figures (saturated, fewer charge
points started than asked, its own frames invalid); else FAIL when an objective is missed, each
with the figure that shows it; else INCONCLUSIVE when an objective had nothing to judge (an action
never measured); else PASS. A saturated generator never makes a FAIL of the central system.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).with_name("objectives.toml")
SCENARIOS = ("steady", "boot-storm", "rolling-restart", "blackout", "duplicate-identity")
DUPLICATE_POLICIES = ("refuse", "replace", "either")
_COUNTS = {"max_callerrors": "callerrors", "max_timeouts": "timeouts",
           "max_connect_failures": "connect_failures", "max_disconnects": "disconnects",
           "max_findings": "csms_violations", "max_replay_lost": "replay_lost"}
_WITHIN = ("all_booted_within_s", "all_recovered_within_s")
_PERCENTILES = ("p95_ms", "p99_ms", "p50_ms")
_GENERATOR = ("max_cpu_percent", "max_loop_lag_p95_ms", "max_heartbeat_lag_p95_ms")


class ObjectivesError(Exception):
    pass


@dataclass
class Objective:
    name: str
    limit: float | str
    measured: float | dict | None
    met: bool | None
    """None: nothing to judge it on."""
    detail: str = ""
    missed: str = ""
    """The reason when missed, if not "name: measured > limit (detail)"."""

    def to_json(self) -> dict:
        return {"objective": self.name, "limit": self.limit, "measured": self.measured,
                "met": self.met, **({"detail": self.detail} if self.detail else {})}


def load(path: str | Path | None) -> dict[str, dict]:
    """The objectives file, checked: unknown keys and non-numbers are an error naming the key."""
    source = Path(path) if path else DEFAULT
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ObjectivesError(f"{source}: {exc}") from None
    for table, body in data.items():
        if table not in (*SCENARIOS, "generator") or not isinstance(body, dict):
            raise ObjectivesError(f"{source}: unknown table [{table}] (expected "
                                  f"{', '.join(SCENARIOS)} or generator)")
        allowed = _GENERATOR if table == "generator" else (*_COUNTS, *_PERCENTILES,
                                                          *_WITHIN, "duplicate_identity")
        for key, value in body.items():
            if key not in allowed:
                raise ObjectivesError(f"{source}: [{table}] {key}: unknown objective")
            if key == "duplicate_identity":
                if value not in DUPLICATE_POLICIES:
                    raise ObjectivesError(f"{source}: [{table}] {key}: expected one of "
                                          f"{', '.join(DUPLICATE_POLICIES)}")
                continue
            values = value.values() if key in _PERCENTILES and isinstance(value, dict) else [value]
            if key in _PERCENTILES and not isinstance(value, dict):
                raise ObjectivesError(f"{source}: [{table}] {key}: expected a table "
                                      "{ Action = milliseconds }")
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0
                   for v in values):
                raise ObjectivesError(f"{source}: [{table}] {key}: expected numbers >= 0")
    return data


def _health(bounds: dict, measured: dict) -> list[str]:
    """Why the generator cannot vouch for its figures (empty: it can)."""
    gen = measured.get("generator", {})
    reasons = []
    checks = (("max_cpu_percent", "cpu_mean_percent", "the generator's CPU averaged {m:.0f} % "
               "(bound {b:g} %): saturated"),
              ("max_loop_lag_p95_ms", "loop_lag_p95_ms", "the generator's event loop woke "
               "{m:.0f} ms late at p95 (bound {b:g} ms): starved of CPU"),
              ("max_heartbeat_lag_p95_ms", "heartbeat_lag_p95_ms", "heartbeats went out {m:.0f} "
               "ms late at p95 (bound {b:g} ms): the generator is behind"))
    for key, figure, text in checks:
        bound, value = bounds.get(key), gen.get(figure)
        if bound is not None and value is not None and value > bound:
            reasons.append(text.format(m=value, b=bound))
    if measured.get("users_started", 0) < measured.get("users", 0):
        reasons.append(f"only {measured.get('users_started', 0)} of {measured['users']} charge "
                       "points were started by the generator")
    if gen.get("workers_missing"):
        reasons.append(f"{gen['workers_missing']} Locust worker process(es) sent no figures at "
                       "the end of the run")
    own = measured.get("generator_findings", 0)
    if own:
        reasons.append(f"the generator itself sent {own} frame finding(s): its figures are not "
                       "evidence")
    return reasons


def judge(objectives: dict[str, dict], scenario: str, measured: dict) -> dict[str, Any]:
    """``measured``: the figures of :mod:`harness.load.__main__`'s report. Returns
    ``{"verdict", "reasons", "objectives": [...]}``."""
    wanted = objectives.get(scenario, {})
    results: list[Objective] = []
    actions = measured.get("actions", {})
    for key in _PERCENTILES:
        for action, limit in wanted.get(key, {}).items():
            figures = actions.get(action)
            name = f"{action} {key[:3]}"
            if not figures or not figures.get("n"):
                results.append(Objective(name, limit, None, None, f"no {action} answered"))
                continue
            value = figures[key]
            results.append(Objective(name, limit, value, value <= limit,
                                     f"{figures['n']} answered"))
    for key, figure in _COUNTS.items():
        if key in wanted:
            value = measured.get(figure, 0)
            if value is None:  # e.g. replay_lost when nothing was queued
                results.append(Objective(key.removeprefix("max_"), wanted[key], None, None,
                                         "nothing to count"))
                continue
            results.append(Objective(key.removeprefix("max_"), wanted[key], value,
                                     value <= wanted[key]))
    if "all_recovered_within_s" in wanted:
        results.append(_recovered(wanted["all_recovered_within_s"], measured))
    if "duplicate_identity" in wanted:
        results.append(_duplicates(wanted["duplicate_identity"], measured))
    if "all_booted_within_s" in wanted:
        limit, users = wanted["all_booted_within_s"], measured.get("users", 0)
        booted, took = measured.get("booted", 0), measured.get("time_to_all_booted_s")
        if took is None:
            results.append(Objective("all booted within s", limit, None, False,
                                     f"{booted} of {users} booted by the end of the run"))
        else:
            results.append(Objective("all booted within s", limit, took, took <= limit,
                                     f"{users} booted"))
    if "cases" in measured:
        results.append(_cases(measured["cases"]))
    reasons = _health(objectives.get("generator", {}), measured)
    missed = [o for o in results if o.met is False]
    unjudged = [o for o in results if o.met is None]
    if reasons:
        verdict = "INCONCLUSIVE"
    elif missed:
        verdict = "FAIL"
        reasons = [o.missed or f"{o.name}: {_figure(o.measured)} > {o.limit:g}"
                   + (f" ({o.detail})" if o.detail else "") for o in missed]
    elif unjudged:
        verdict = "INCONCLUSIVE"
        reasons = [f"{o.name}: {o.detail}" for o in unjudged]
    else:
        verdict = "PASS"
    return {"verdict": verdict, "reasons": reasons,
            "objectives": [o.to_json() for o in results]}


def _recovered(limit: float, measured: dict) -> Objective:
    d = measured.get("disruption", {})
    disrupted, recovered = d.get("disrupted", 0), d.get("recovered", 0)
    worst = (measured.get("recovery_s") or {}).get("max")
    name = "all recovered within s"
    if not disrupted:
        return Objective(name, limit, None, None, "no charge point was disrupted")
    if recovered < disrupted or worst is None:
        return Objective(name, limit, worst, False, missed=f"{name}: {recovered} of {disrupted} "
                         f"disrupted charge points Accepted again by the end of the run")
    return Objective(name, limit, worst, worst <= limit, f"slowest of {disrupted}")


def _cases(cases: dict) -> Objective:
    """The conformance cases run under load: every one that ran must not FAIL; none ran, the
    suite timed out, or a case ERRORed or was INCONCLUSIVE: nothing (complete) to judge."""
    name = "conformance cases under load"
    verdicts = cases.get("verdicts", [])
    failed = [v for v in verdicts if v["verdict"] == "FAIL"]
    counts = ", ".join(f"{k} {n}" for k, n in sorted(cases.get("counts", {}).items()))
    if failed:
        return Objective(name, 0, len(failed), False, missed="; ".join(
            f"{name}: {v['id']} FAIL: {v['reason']}" for v in failed))
    unsure = [v for v in verdicts if v["verdict"] in ("ERROR", "INCONCLUSIVE")]
    if cases.get("timed_out") or not verdicts or unsure:
        why = "the suite did not finish in time" if cases.get("timed_out") else \
            f"none ran (exit {cases.get('exit')}; see {cases.get('log')})" if not verdicts else \
            ", ".join(f"{v['id']} {v['verdict']}: {v['reason']}" for v in unsure)
        return Objective(name, 0, None, None, why)
    return Objective(name, 0, 0, True, counts)


def _duplicates(policy: str, measured: dict) -> Objective:
    d = {k: v for k, v in measured.get("duplicates", {}).items() if v}
    name = "duplicate identity"
    attempted = d.get("attempted", 0)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(d.items()) if k != "attempted")
    if not attempted:
        return Objective(name, policy, d, None, "no second connection was opened")
    decided = sum(v for k, v in d.items() if k != "attempted")
    if decided < attempted:
        return Objective(name, policy, d, None, f"{attempted - decided} of {attempted} second "
                         "connections not decided by the end of the run (--time too short for "
                         "--duplicate-grace?)")
    wrong = [k for k in ("kept_both", "closed_both", "undecided") if d.get(k)]
    if policy == "refuse" and d.get("replaced"):
        wrong.append("replaced")
    if policy == "replace" and d.get("refused"):
        wrong.append("refused")
    if wrong:
        return Objective(name, policy, d, False, missed=(
            f"{name}: expected {policy} (OCPP-J: one connection per charge point identity), "
            f"of {attempted} second connections: {counts}"))
    return Objective(name, policy, d, True, f"of {attempted}: {counts}")


def _figure(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{round(value, 3):g}"
