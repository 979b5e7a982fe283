"""report.html of a load run: the verdict and its reasons, the objectives, latency per action and
over time (an inline SVG of each action's p95 over Locust's sliding 10 s window, and the charge
points connected), the counts, the CSMS's findings with their frames, the conformance cases run
under load, the generator's health. Self-contained (no network, no script); every text that came
from the central system (frames, reasons, CALLERROR descriptions) is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
            "#17becf", "#7f7f7f", "#bcbd22")
_VERDICT = {"PASS": "#2e7d32", "FAIL": "#c62828", "INCONCLUSIVE": "#ef6c00"}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>none</p>"
    return ("<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
                      for row in rows) + "</table>")


def timeline_svg(points: list[dict], width: int = 900, height: int = 260) -> str:
    """p95 per action over time (left axis, ms) and charge points (grey, right axis)."""
    if len(points) < 2:
        return "<p>too short a run for a timeline</p>"
    actions = sorted({a for p in points for a in p["p95_ms"]})
    t_max = max(p["t"] for p in points) or 1
    y_max = max([v for p in points for v in p["p95_ms"].values() if v is not None] or [1]) or 1
    users_max = max(p["users"] for p in points) or 1
    left, bottom, w, h = 50, 20, width - 110, height - 50

    def xy(t: float, v: float, top: float) -> str:
        return f"{left + w * t / t_max:.1f},{height - bottom - h * v / top:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="latency over time">',
             f'<rect x="{left}" y="{height - bottom - h}" width="{w}" height="{h}" '
             'fill="none" stroke="#999"/>',
             f'<text x="5" y="{height - bottom - h + 10}" font-size="11">{y_max:g} ms</text>',
             f'<text x="5" y="{height - bottom}" font-size="11">0</text>',
             f'<text x="{left + w - 30}" y="{height - 3}" font-size="11">{t_max:g} s</text>',
             f'<text x="{left + w + 5}" y="{height - bottom - h + 10}" font-size="11" '
             f'fill="#888">{users_max} CPs</text>',
             '<polyline fill="none" stroke="#bbb" stroke-width="2" points="'
             + " ".join(xy(p["t"], p["users"], users_max) for p in points) + '"/>']
    for i, action in enumerate(actions):
        colour = _COLOURS[i % len(_COLOURS)]
        line = " ".join(xy(p["t"], p["p95_ms"][action], y_max) for p in points
                        if p["p95_ms"].get(action) is not None)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{line}"/>')
        parts.append(f'<text x="{left + w + 5}" y="{height - bottom - h + 28 + 14 * i}" '
                     f'font-size="11" fill="{colour}">{_e(action)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(m: dict) -> str:
    verdict = m.get("verdict", "")
    g = m.get("generator", {})
    actions = [[name, a["n"], a["failures"], a["min_ms"], a["p50_ms"], a["p95_ms"], a["p99_ms"],
                a["max_ms"], a["rps"]] for name, a in m.get("actions", {}).items()]
    objectives = [[o["objective"], o["limit"], o["measured"], {True: "met", False: "MISSED",
                                                              None: "not judged"}[o["met"]],
                   o.get("detail", "")] for o in m.get("objectives", [])]
    counts = [["booted", f"{m.get('booted')} of {m.get('users')} (all in "
               f"{m.get('time_to_all_booted_s')} s)"],
              ["boot statuses", m.get("boot_status")],
              ["CALLERRORs", m.get("callerrors_by_action") or 0],
              ["timeouts", m.get("timeouts_by_action") or 0],
              ["connection failures", m.get("connect_errors") or 0],
              ["disconnects by the CSMS", m.get("disconnects")],
              ["sessions", m.get("sessions")],
              ["CSMS calls answered", m.get("csms_calls_answered")]]
    if m.get("disruption"):
        counts += [["disruption", m["disruption"]], ["recovery s", m.get("recovery_s")],
                   ["replay lost", m.get("replay_lost")]]
    if m.get("duplicates"):
        counts.append(["duplicate identity", m["duplicates"]])
    samples = [[s.get("chargePointId"), s.get("sender"), s.get("action"), s.get("rule"),
                s.get("path"), s.get("message"), s.get("frame")]
               for s in m.get("finding_samples", [])]
    health = [[k, v] for k, v in g.items() if k != "processes"]
    body = [f"<h1>Load run: {_e(m.get('scenario'))} "
            f"<span style=\"color:{_VERDICT.get(verdict, '#000')}\">{_e(verdict)}</span></h1>",
            f"<p>{_e(m.get('users'))} charge points at {_e(m.get('spawn_rate'))}/s for "
            f"{_e(m.get('duration_s'))} s against {_e(m.get('csms_url'))}, started "
            f"{_e(m.get('started'))}</p>",
            "<ul>" + "".join(f"<li>{_e(r)}</li>" for r in m.get("reasons", [])) + "</ul>",
            "<h2>Objectives</h2>",
            _table(["objective", "limit", "measured", "", "detail"], objectives),
            "<h2>Latency per action (ms, CALL sent to its answer read)</h2>",
            _table(["action", "n", "failures", "min", "p50", "p95", "p99", "max", "req/s"],
                   actions),
            "<h2>Over time: p95 per action (10 s window), charge points connected</h2>",
            timeline_svg(m.get("timeline", [])),
            "<h2>Counts</h2>", _table(["", ""], counts),
            "<h2>The CSMS's findings</h2>",
            _table(["rule", "n"], list(m.get("findings_by_rule", {}).items())),
            _table(["charge point", "sender", "action", "rule", "path", "message", "frame"],
                   samples)]
    if "cases" in m:
        c = m["cases"]
        body += ["<h2>Conformance cases under load</h2>",
                 f"<p><code>{_e(c.get('command'))}</code> exit {_e(c.get('exit'))}"
                 f"{' (timed out)' if c.get('timed_out') else ''}; their report: "
                 f"{_e(c.get('report'))}</p>",
                 _table(["case", "verdict", "reason", "s"],
                        [[v["id"], v["verdict"], v["reason"], v["duration_s"]]
                         for v in c.get("verdicts", [])])]
    body += ["<h2>The generator's health</h2>", _table(["", ""], health)]
    if "processes" in g:
        body.append(_table(["process", "figures"],
                           [["master", g["processes"]["master"]]]
                           + [[f"worker {i}", w] for i, w in
                              enumerate(g["processes"]["workers"])]))
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:"
             "collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;"
             "text-align:left;vertical-align:top;word-break:break-word}")
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Load run "
            f"{_e(m.get('scenario'))} {_e(verdict)}</title><style>{style}</style></head><body>"
            + "".join(body) + "</body></html>")
