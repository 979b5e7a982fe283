"""report.html: the certification-style report, rendered with Jinja2 from the report.json
content, self-contained (inline CSS and SVG, no network) and printable; report.pdf has a print
layout of its own (harness/report/pdf.py).

Autoescaping is on for everything: what the device sent (frames, vendor strings, reasons quoting
them) is text, never markup. The message sequence diagrams are SVG drawn here from the wire logs.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from harness.report import evidence

TEMPLATES = Path(__file__).parent / "templates"
MAX_ARROWS = 150
"""Frames drawn per test case; the rest are counted (the wire log has them all)."""

PROFILE_TITLES = {
    "Core": ("Core", "Basic Charging Station functionality for booting, authorization (incl. "
             "cache if available), configuration, transactions, remote control."),
    "FirmwareManagement": ("Firmware Management", "Support for (remote) firmware update "
                           "management and diagnostic log file download."),
    "SmartCharging": ("Smart Charging", "Support for Smart Charging (all profile types, including "
                      "stacking), to control charging."),
    "Reservation": ("Reservation", "Support for reservation of a connector of a Charging "
                    "Station."),
    "LocalAuthListManagement": ("Local Authorization List Management", "Features to manage a "
                                "local list in the charging station containing authorization "
                                "data for whitelisting users."),
    "RemoteTrigger": ("Remote Trigger", "Support for remotely triggering messages that originate "
                      "from a Charging Station. This can be used for resending messages or for "
                      "getting the latest information from the Charging Station."),
}
"""In the certificates' order and words."""

METRIC_DESCRIPTIONS = {
    "triggered_function": "The response time for when waiting for an OCPP function with its "
                          "corresponding request message. (Firmware update, Diagnostics and "
                          "Reboot are excluded from this measurement.)",
    "response_time": "The response time for when waiting for an OCPP response message.",
    "remote_start_response": "The response time for the RemoteStartTransaction message.",
    "authorize_response": "The response time for the Authorize message.",
    "heartbeat_interval": "How far the observed Heartbeat interval strays from the configured "
                          "HeartbeatInterval.",
    "meter_value_interval": "How far the observed sampled MeterValues interval strays from the "
                            "configured MeterValueSampleInterval.",
}
_FALLBACK_METRICS = {
    "cs": (("triggered_function", "OCPP triggered function timeout", "triggered_function_timeout"),
           ("response_time", "OCPP response timeout", "response_timeout"),
           ("remote_start_response", "Response time RemoteStartTransaction",
            "remote_start_response")),
    "csms": (("response_time", "OCPP response timeout", "response_timeout"),
             ("authorize_response", "Response time Authorize", "authorize_response")),
}
"""The certificates' rows, shown with "not measured" when the run has no measurements."""


def hms(seconds: float | None) -> str:
    """hh:mm:ss as the certificates print measured values (whole seconds, truncated)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    millis = seconds * 1000
    if millis < 1:
        return f"{millis:.3f} ms"  # the harness's own time is often well under a millisecond
    return f"{millis:,.1f} ms" if seconds < 10 else f"{millis:,.0f} ms"


def pics_seconds(seconds: float | None) -> str:
    """A declared PICS value as the certificates print it: "60s"."""
    if seconds is None:
        return "-"
    return f"{seconds:g}s"


# --- the message sequence diagram ------------------------------------------------------------

@dataclass
class Row:
    y: int
    kind: str
    label: str
    x1: int = 0
    x2: int = 0
    offset: str = ""
    line: int = 0
    findings: tuple[str, ...] = ()
    head: str = ""
    """The arrowhead polygon's points."""


_CITED = re.compile(r"\b(?:wire(?:[- ]log)? lines?|lines?)\s+((?:\d+(?:\s*(?:,|and|-)\s*)?)+)",
                    re.IGNORECASE)


def cited_lines(reason: str) -> set[int]:
    """The wire-log lines a verdict's reason cites ("wire log line 12", "wire lines 2, 11"):
    the frames the sequence diagram draws red."""
    lines: set[int] = set()
    for match in _CITED.finditer(reason or ""):
        lines.update(int(n) for n in re.findall(r"\d+", match.group(1)))
    return lines


def sequence(arrows: list[evidence.Arrow], device: str, *, width: int = 800,
             cited: set[int] | frozenset[int] = frozenset()) -> dict[str, Any]:
    """The geometry of a two-lifeline sequence diagram: the harness on the left, the device on
    the right, one arrow per frame, events as dashed notes, findings in red under their arrow;
    the frames the verdict's reason cites (``cited``) red too, marked "cited"."""
    left, right, top, step = 190, width - 110, 46, 24
    rows: list[Row] = []
    y = top
    for arrow in arrows:
        y += step
        offset = "" if arrow.offset_s is None else f"+{arrow.offset_s:.3f} s"
        if arrow.kind == "event" or arrow.sender is None:
            rows.append(Row(y, "event", _clip(arrow.label, 70), left, right, offset, arrow.line))
            continue
        x1, x2 = (right, left) if arrow.sender == device else (left, right)
        sign = 1 if x2 > x1 else -1
        head = f"{x2},{y} {x2 - 8 * sign},{y - 4} {x2 - 8 * sign},{y + 4}"
        kind = "finding" if arrow.findings or arrow.line in cited else arrow.kind
        notes = [_clip(f, 95) for f in arrow.findings[:3]]
        if arrow.line in cited and not notes:
            notes = ["cited by the verdict's reason"]
        rows.append(Row(y, kind, f"{arrow.line}: {_clip(arrow.label, 58)}", x1, x2, offset,
                        arrow.line, tuple(notes), head))
        y += 14 * len(rows[-1].findings)
    return {"width": width, "height": y + 20, "left": left, "right": right, "top": top,
            "rows": rows, "middle": (left + right) // 2}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- the view --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """One per process: the report is rendered after every case, and compiling the template is
    most of the cost of a render."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(hms=hms, ms=ms, pics_seconds=pics_seconds)
    return env


def _measurements(data: dict) -> list[dict]:
    rows = [dict(m) for m in data.get("measurements") or []]
    if not rows:
        timing = (data.get("pics") or {}).get("timing") or {}
        rows = [{"name": key, "title": title, "pics_s": timing.get(pics_key), "measured_s": None,
                 "n": 0, "samples": [], "ok": None}
                for key, title, pics_key in _FALLBACK_METRICS.get(data.get("sut", "cs"), ())]
    for row in rows:
        row.setdefault("title", row.get("name", ""))
        row["title"] = row["title"] or row.get("name", "")
        row["description"] = METRIC_DESCRIPTIONS.get(row.get("name", ""), "")
        for key in ("n", "min_s", "median_s", "p95_s", "max_s", "harness_median_s", "unit_note",
                    "ok", "pics_s", "measured_s"):
            row.setdefault(key, None)
        row["samples"] = list(row.get("samples") or [])
    return rows


def _harness(data: dict) -> dict:
    """The harness's own timing (report.json ``harness``, harness/lag.py), every key present;
    ``over``: its worst lag was beyond the bound. Empty for a report without it."""
    block = dict(data.get("harness") or {})
    if not block:
        return {}
    for key in ("worst_lag_s", "lag_bound_s", "worst_lag_case", "frame_median_s", "frame_max_s",
                "frame_max_case"):
        block.setdefault(key, None)
    for key in ("stalls_over_bound", "unreliable_samples", "lagged_deadlines", "frames"):
        block.setdefault(key, 0)
    worst, bound = block["worst_lag_s"], block["lag_bound_s"]
    block["over"] = worst is not None and bound is not None and worst > bound
    return block


def _configuration(data: dict) -> list[dict]:
    """The device's keys beside the PICS's: same, different, not declared, or not reported."""
    device = data.get("configuration") or {}
    declared = ((data.get("pics") or {}).get("configuration")) or {}
    readonly = (data.get("configuration_source") or {}).get("readonly") or {}
    read = (data.get("configuration_source") or {}).get("how") in ("end-of-run", "during-run")
    rows = []
    for key in sorted(set(device) | set(declared), key=str.casefold):
        value, pics_value = device.get(key), declared.get(key)
        if not read:
            status = "not read"
        elif key not in device:
            status = "not reported by the device"
        elif key not in declared:
            status = "not in the PICS"
        elif str(value).strip().casefold() == str(pics_value).strip().casefold():
            status = "same"
        else:
            status = "differs from the PICS"
        rows.append({"key": key, "value": value if key in device else None,
                     "pics": pics_value, "status": status, "readonly": readonly.get(key)})
    return rows


_CABLES = {"socket_with_lock": "Socket with cable lock", "socket_without_lock":
           "Socket without cable lock", "fixed": "Fixed cable (no lock)"}
_UNPLUG = {"cable_leaves": "the cable leaves with the EV unless the lock holds it",
           "cable_stays": "the cable stays in the socket until removed"}


def _cable_rows(features: dict) -> list[tuple[str, str]]:
    """The PICS hardware model (harness/pics.py), for reports of PICS that give it."""
    rows = []
    cable = features.get("cable")
    if cable:
        rows.append(("Connector hardware", _CABLES.get(cable, str(cable))))
        if cable != "fixed" and features.get("unplug_at_ev"):
            rows.append(("Unplugged at the EV",
                         _UNPLUG.get(features["unplug_at_ev"], str(features["unplug_at_ev"]))))
    if "backup_power" in features:
        backup = features["backup_power"]
        rows.append(("Backup power", "Not declared" if backup is None else
                     "Yes" if backup else "No"))
    return rows


def _hardware(data: dict) -> list[tuple[str, str]]:
    features = (data.get("pics") or {}).get("features") or {}
    if not features:
        return []
    n = features.get("connectors", 1)
    readers = features.get("rfid_readers", 1)
    return [
        ("Socket(s) / connector(s)", f"{'Single' if n == 1 else 'Multiple'} ({n})"),
        ("Fixed cable", "Yes" if features.get("fixed_cable") else "No"),
        *_cable_rows(features),
        ("Communication technology", str(features.get("communication", "-"))),
        ("RFID readers", {0: "None", 1: "Single"}.get(readers, f"Multiple ({readers})")),
        ("Authorization cache", "Yes" if features.get("authorization_cache") else "No"),
        ("Local authorization list", "Yes" if features.get("local_auth_list") else "No"),
        ("Reservation of connector 0", "Yes" if features.get("reserve_connector_zero") else "No"),
        ("File transfer protocols", ", ".join(features.get("file_transfer_protocols") or [])
         or "-"),
    ]


def relative(path: str | None, base: Path | None) -> str | None:
    """``path`` as seen from the report's directory (so the report directory can be handed over
    whole and its links still work), or as given when it is elsewhere on another drive."""
    if not path or base is None:
        return path
    try:
        return os.path.relpath(Path(path).resolve(), Path(base).resolve()).replace(os.sep, "/")
    except ValueError:
        return path


def _cases(data: dict, base: Path | None = None) -> list[dict]:
    device = "cp" if data.get("sut") == "cs" else "csms"
    out = []
    for number, case in enumerate(data.get("test_cases") or [], start=1):
        view = dict(case, anchor=f"case-{number}", arrows=[], total=0, log_error=None,
                    diagram=None, wire_href=relative(case.get("wire_log"), base))
        wire = case.get("wire_log")
        cited = cited_lines(case.get("reason", "")) if case.get("verdict") == "FAIL" else set()
        view["cited"] = sorted(cited)
        if wire and Path(wire).is_file():
            arrows, total, error = evidence.arrows(wire, MAX_ARROWS)
            view.update(arrows=arrows, total=total, log_error=error,
                        diagram=sequence(arrows, device, cited=cited) if arrows else None)
        elif wire:
            view["log_error"] = f"the wire log {wire} is missing"
        out.append(view)
    return out


def _profile_rows(profiles: dict[str, dict]) -> list[tuple[str, str, str, dict]]:
    """(title, description, name, result) in the certificates' order, Core first."""
    order = list(PROFILE_TITLES)
    ranked = sorted(profiles.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                    else len(order))
    return [(*PROFILE_TITLES.get(name, (name, "")), name, info) for name, info in ranked]


LAB_ROWS = (("test_laboratory", "Test laboratory"), ("location", "Location"),
            ("test_execution_location", "Test execution location"),
            ("report_reference", "Test Report Reference"))
"""The certificates' rows of the lab block, in their order and words (PICS ``[lab]``)."""


def view(data: dict, base: Path | None = None) -> dict[str, Any]:
    """Everything the template shows, from the report.json content; ``base``: the report's
    directory, which paths are shown relative to."""
    sut = data.get("sut", "cs")
    profiles = data.get("profile_results") or {
        p: {"result": r, "declared": None, "counts": {}} for p, r in
        (data.get("profiles") or {}).items()}
    cases = _cases(data, base)
    verdicts: dict[str, int] = {}
    for case in data.get("test_cases") or []:
        verdicts[case["verdict"]] = verdicts.get(case["verdict"], 0) + 1
    return {
        "r": data, "sut": sut,
        # Functionalities beside the certificate (Security): shown when declared or applicable.
        "functionalities": [(name, f) for name, f in (data.get("functionalities") or {}).items()
                            if f.get("declared") or f.get("result") != "N/A"],
        "device_name": "Charging Station" if sut == "cs" else "CSMS",
        "harness_name": "Central system (harness)" if sut == "cs" else "Charge point (harness)",
        "dut_lifeline": "Charge point (device)" if sut == "cs" else "Central system (device)",
        "profiles": _profile_rows(profiles),
        "measurements": _measurements(data),
        "harness": _harness(data),
        "hardware": _hardware(data) if sut == "cs" else [],
        "configuration": _configuration(data) if sut == "cs" else [],
        "limits": data.get("limits") or {},
        "cases": cases,
        "anchors": {c["id"]: c["anchor"] for c in reversed(cases)},
        "verdicts": verdicts,
        "lab": data.get("lab") or {},
        "lab_rows": LAB_ROWS,
        "pics_path": relative((data.get("dut") or {}).get("pics"), base),
        "config_wire": relative((data.get("configuration_source") or {}).get("wire_log"), base),
    }


def stylesheet(name: str) -> str:
    """A page's stylesheet with the sequence diagrams' (msc.css) after it."""
    return "\n".join((TEMPLATES / n).read_text(encoding="utf-8") for n in (name, "msc.css"))


def render(data: dict, *, base: Path | None = None) -> str:
    env = environment()
    css = stylesheet("report.css")
    return env.get_template("report.html.j2").render(
        css=css, **view(data, base))
