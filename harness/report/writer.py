"""Writing a run's report: report.json and report.html, both from the same :class:`RunReport`
(report.pdf, on request, from the same content: harness/report/pdf.py).

Called after every test case (so an interrupted run keeps a readable report of what ran) and at
session finish (``final=True``). The wire-log evidence of a case (its timestamps, a full
GetConfiguration answer) is read once, when the case is first seen, and kept on the report.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

from harness.report import evidence
from harness.report.model import RunReport

END_OF_RUN = "end-of-run"
DURING_RUN = "during-run"
NOT_READ = "none"


def update_evidence(report: RunReport) -> None:
    """Fold the wire logs of cases not yet scanned into ``limits`` and, unless the configuration
    was read at the end of the run, the latest full GetConfiguration answer seen."""
    device = "cp" if report.sut == "cs" else "csms"
    for case in report.test_cases:
        if case.id in report.evidence or not case.wire_log:
            continue
        found = evidence.scan(case.wire_log, device)
        report.evidence[case.id] = found
        answer = found.configuration
        if answer is not None and report.sut == "cs" \
                and report.configuration_source.get("how") != END_OF_RUN:
            use_answer(report, answer, DURING_RUN, f"the last full GetConfiguration answer seen "
                       f"during the run ({case.id})")
    stamps = evidence.Timestamps()
    for found in report.evidence.values():
        stamps.add(found.timestamps)
    report.limits["milliseconds_in_timestamps"] = stamps.to_json()
    if not report.configuration_source:
        report.configuration_source = {
            "how": NOT_READ,
            "note": ("a central system has no OCPP configuration keys to read"
                     if report.sut == "csms" else
                     "the device has not answered a full GetConfiguration yet")}


def use_answer(report: RunReport, answer: evidence.ConfigurationAnswer, how: str,
               note: str) -> None:
    report.configuration = dict(answer.values)
    failed = report.configuration_source.get("end_of_run_error")
    source = {"how": how, "wire_log": answer.wire_log, "line": answer.line}
    if answer.ts is not None:  # None: a wire log line without its wall clock
        source["read_at"] = answer.ts
    report.configuration_source = {**source, "note": note, "readonly": dict(answer.readonly)}
    if failed:
        report.configuration_source["end_of_run_error"] = failed


# Rendering report.html costs time in proportion to the cases so far; re-rendering it after every
# case would cost the square of the case count. Between cases it is rendered again only once the
# time since the last render is HTML_SHARE^-1 times that render's cost, so the intermediate HTML
# takes at most ~HTML_SHARE of the run; report.json (cheap) is always current, and the final
# render at session finish is unconditional.
HTML_SHARE = 0.05
_LAST_RENDER = "_html_last_render"
"""Attribute on the report: (monotonic end of its last render, that render's cost)."""


def _html_due(report: RunReport, final: bool) -> bool:
    last = getattr(report, _LAST_RENDER, None)
    return final or last is None or time.monotonic() - last[0] >= last[1] / HTML_SHARE


def write_report(report: RunReport, directory: Path, *, final: bool = False) -> Path:
    """Write report.json and report.html; returns the path of report.json. The HTML is best
    effort: a rendering problem is written into the HTML's place as text and never loses
    report.json."""
    from harness.report import html

    update_evidence(report)
    path = report.write_json(directory)
    if not _html_due(report, final):
        return path
    started = time.monotonic()
    target = directory / "report.html"
    tmp = target.with_suffix(".html.tmp")
    try:
        text = html.render(report.to_json(), base=directory)
    except Exception as exc:  # the JSON is the record; the HTML must not take it down with it
        text = (f"<!doctype html><title>report</title><pre>report.html could not be rendered: "
                f"{escape(repr(exc))}; report.json is complete</pre>")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    setattr(report, _LAST_RENDER, (time.monotonic(), time.monotonic() - started))
    return path


def pics_block(pics: Any) -> dict[str, Any]:
    """What the report shows of the PICS (the declared side of every comparison); the files the
    PICS makes the harness serve are named with their size and SHA-256, so a reader knows exactly
    what left the machine."""
    block = {"source": str(pics.source), "features": asdict(pics.features),
             "timing": asdict(pics.timing), "configuration": dict(pics.configuration)}
    files = getattr(pics, "files", None)
    served = {}
    for key in ("firmware", "invalid_firmware"):
        path = getattr(files, key, None) if files is not None else None
        if path:
            served[key] = _file_facts(path)
    if served:
        block["served_files"] = served
    return block


def _file_facts(path: str) -> dict[str, Any]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        return {"path": path, "error": exc.strerror or str(exc)}
    return {"path": path, "size": size, "sha256": digest.hexdigest()}


async def read_configuration_at_end(report: RunReport, session: Any, timeout: float,
                                    wire_path: Path) -> None:
    """SUT cs: ask the connected device for every configuration key (GetConfiguration without
    keys), bounded by the PICS response timeout, and make its answer the report's configuration.
    The exchange gets its own wire log. If it fails, the fallback (the last full answer seen during
    the run) stays, and the reason is kept."""
    from harness.wirelog import WireLog

    log = WireLog(wire_path)
    session.begin(log)
    try:
        async def ask() -> Any:
            await session.wait_connected(timeout)
            return await session.call("GetConfiguration", {}, timeout=timeout)
        response = await asyncio.wait_for(ask(), timeout)
        if response.error is not None:
            raise RuntimeError(f"the device answered CALLERROR {response.error.error_code}")
        if session.violations:
            raise RuntimeError(f"the answer broke the protocol: {session.violations[0]}")
    except Exception as exc:  # noqa: BLE001 -- the run's verdicts must not depend on this read
        report.configuration_source["end_of_run_error"] = (
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return
    finally:
        session.end()
        log.close()
    answer = evidence.scan(wire_path, session.device).configuration
    if answer is not None:
        use_answer(report, answer, END_OF_RUN, "GetConfiguration sent by the harness at the end "
                   "of the run")
