"""Run the full suites against every device we can start and compare the verdicts case by case.

    .venv/bin/python -m interop.run [--sut cs|csms|both] [--reports DIR] [--doc docs/interop.md]
                                    [--jobs N] [-k SELECTION] [--core-only]
    .venv/bin/python -m interop.run --alone [--jobs N] [--target KEY ...] [--full | --rebuild]
                                    (each case alone against a fresh device: interop/alone.py)

For each system under test the whole suite (every profile: a case the device's PICS rules out is
N/A) runs against:

- the embedded reference simulator, in process (``--ocpp-dut sim``): the reference verdicts;
- the same simulator as a separate process (``python -m harness.sim ...``), driven through the HTTP
  driver (``--ocpp-dut external --ocpp-driver http://...``), exactly as a vendor runs the harness
  against a device: every verdict must be the in-process one;
- the independent ocpp-library implementation (interop/), through the same HTTP control protocol;
- for SUT cs, that charge point delivered with LocalPreAuthorize = true, and the second charge
  point (interop/supervised_cp.py: the library firmware under a supervising rig, no cable lock, no
  authorization cache, a firmware that exits on Reset).

The runs go side by side (``--jobs``; they mostly wait on the devices' timers). The report.json
files are compared case by case and written to the document with, for every verdict that differs
from the reference, the reason from the report and the analysis in :data:`interop.analysis.ANALYSIS`.
tests/test_interop_suite.py runs the same in ``make test`` and fails when a verdict differs from
the one this document gives (:func:`documented_verdicts` reads it back).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from interop import alone
from interop.analysis import ANALYSIS, NOTES
from interop.launch import (CP_PICS, CSMS_PICS, ROOT, SUPERVISED_PICS, free_port,
                            library_central_system, library_charge_point, pytest_args,
                            reference_central_system, reference_charge_point,
                            supervised_charge_point, wait_listening)

VERDICTS = ("PASS", "FAIL", "N/A", "INCONCLUSIVE", "ERROR", "BLOCKED")
SUITE_TIMEOUT_S = 900
SUTS = {"cs": "charge point (the harness is the central system)",
        "csms": "central system (the harness is a charge point)"}
VARIANT_PICS = ROOT / "interop" / "ocpp_lib_cp_preauthorize.toml"
"""The charge point delivered with LocalPreAuthorize = true, compared with the same simulator run."""


@dataclass(frozen=True)
class Target:
    """One device a suite runs against."""
    key: str
    """Its report directory under --reports, and its column in :func:`documented_verdicts`."""
    sut: str
    column: str
    kind: str
    """``sim`` (in process), ``process`` (the simulator as a separate process), ``library``."""
    pics: Path | None = None
    launch: Callable | None = None
    """SUT cs, kind library: the charge point's launcher (default library_charge_point)."""


TARGETS = {t.key: t for t in (
    Target("cs-simulator", "cs", "simulator", "sim"),
    Target("cs-simulator-process", "cs", "simulator, separate process (http)", "process"),
    Target("cs-ocpp-library", "cs", "ocpp library", "library", CP_PICS),
    Target("cs-preauthorize-ocpp-library", "cs", "ocpp library", "library", VARIANT_PICS),
    Target("cs-supervised-ocpp-library", "cs", "ocpp library, supervised", "library",
           SUPERVISED_PICS, supervised_charge_point),
    Target("csms-simulator", "csms", "simulator", "sim"),
    Target("csms-simulator-process", "csms", "simulator, separate process (http)", "process"),
    Target("csms-ocpp-library", "csms", "ocpp library", "library", CSMS_PICS),
)}


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    targets: tuple[str, ...]
    """Their keys; the first is the reference the others are compared with."""


SECTIONS = (
    Section("cs", f"SUT cs: a {SUTS['cs']}",
            ("cs-simulator", "cs-simulator-process", "cs-ocpp-library")),
    Section("csms", f"SUT csms: a {SUTS['csms']}",
            ("csms-simulator", "csms-simulator-process", "csms-ocpp-library")),
    Section("cs-preauthorize", "SUT cs, the charge point variant with LocalPreAuthorize = true "
            f"(`interop/{VARIANT_PICS.name}`)", ("cs-simulator", "cs-preauthorize-ocpp-library")),
    Section("cs-supervised", "SUT cs, the second charge point: the library firmware under a "
            f"supervising rig (`interop/supervised_cp.py`, `interop/{SUPERVISED_PICS.name}`)",
            ("cs-simulator", "cs-supervised-ocpp-library")),
)


def run_target(target: Target, report_dir: Path, *, select: str | None = None,
               markers: str | None = None, timeout: float = SUITE_TIMEOUT_S,
               quiet: bool = False) -> tuple[float, str]:
    """One harness run of ``target``'s suite; returns (wall seconds, pytest's output).

    A central system is started first (the harness connects to it). A charge point is started
    once the harness listens, as a charger is switched on at a bench where the harness already
    runs: started first, it would back off between refused attempts (the reference one up to
    about 30 s) while the harness starts, and the first case would wait for it instead. Its control
    port is chosen beforehand; the harness asks it for its capabilities again before a case while
    it is not up yet."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.json").unlink(missing_ok=True)
    log = report_dir / "device.log"
    pics = {"pics": str(target.pics)} if target.pics else {}
    started = time.monotonic()
    if target.kind == "sim":
        output = _pytest(pytest_args(target.sut, report_dir, select=select, markers=markers),
                         target, timeout, quiet)
    elif target.sut == "csms":
        launch = reference_central_system if target.kind == "process" else library_central_system
        with launch(log) as (ws_url, control):
            output = _pytest(pytest_args(target.sut, report_dir, select=select, markers=markers,
                                         external={**pics, "driver": control, "csms_url": ws_url}),
                             target, timeout, quiet)
    else:
        port = free_port()
        control_port = free_port()
        while control_port == port:
            control_port = free_port()
        args = pytest_args(target.sut, report_dir, select=select, markers=markers, external={
            **pics, "driver": f"http://127.0.0.1:{control_port}", "listen": f"127.0.0.1:{port}"})
        launch = reference_charge_point if target.kind == "process" else (
            target.launch or library_charge_point)
        device = {"control_port": control_port, **({"pics": target.pics} if target.pics else {})}
        output = _pytest(args, target, timeout, quiet,
                         device=lambda process: _charge_point(launch, port, log, device, process,
                                                              timeout))
    return time.monotonic() - started, output


@contextmanager
def _charge_point(launch: Callable, port: int, log: Path, device: dict,
                  process: subprocess.Popen, timeout: float) -> Iterator[None]:
    if not wait_listening(port, process, timeout):
        yield  # the harness run ended or never listened: its output says why
        return
    with launch(port, log, **device):
        yield


_RUNNING: set[subprocess.Popen] = set()
"""The harness runs under way, killed when the user interrupts."""


def _pytest(args: list[str], target: Target, timeout: float, quiet: bool,
            device: Callable[[subprocess.Popen], AbstractContextManager] | None = None) -> str:
    """Run the harness; ``device``: started beside it, once the harness runs, stopped after."""
    if not quiet:
        print(f"--- {target.key}: {' '.join(args[1:])}", flush=True)
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(args, cwd=ROOT, text=True, stdout=out, stderr=subprocess.STDOUT)
        _RUNNING.add(process)
        try:
            with device(process) if device else nullcontext():
                try:
                    process.wait(timeout)
                    note = ""
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    note = f"\n(the run did not end within {timeout:g} s and was killed)"
        finally:
            _RUNNING.discard(process)
            if process.poll() is None:
                process.kill()
                process.wait()
        out.seek(0)
        output = out.read() + note
    if not quiet:
        print(f"--- {target.key} done: {_last_line(output)}", flush=True)
    return output


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_all(keys: list[str], reports: Path, *, jobs: int, select: str | None = None,
            markers: str | None = None, timeout: float = SUITE_TIMEOUT_S,
            quiet: bool = False) -> dict[str, tuple[float, str]]:
    """The runs of ``keys`` side by side, ``jobs`` at a time: key -> (wall seconds, output)."""
    def one(key: str) -> tuple[float, str]:
        started = time.monotonic()
        try:
            return run_target(TARGETS[key], reports / key, select=select, markers=markers,
                              timeout=timeout, quiet=quiet)
        except Exception as exc:  # a device that did not start: that run only, said in its output
            return time.monotonic() - started, f"{key}: {type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {key: pool.submit(one, key) for key in keys}
        try:
            return {key: future.result() for key, future in futures.items()}
        except KeyboardInterrupt:  # the harness runs end now; each thread then stops its device
            for future in futures.values():
                future.cancel()
            for process in list(_RUNNING):
                process.kill()
            raise


def load(report_dir: Path) -> dict[str, dict]:
    path = report_dir / "report.json"
    if not path.is_file():
        return {}
    return {case["id"]: case for case in json.loads(path.read_text())["test_cases"]}


def counts(cases: dict[str, dict]) -> Counter:
    return Counter(case["verdict"] for case in cases.values())


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def section(spec: Section, results: dict[str, dict[str, dict]], durations: dict[str, float]) -> list[str]:
    columns = [TARGETS[k] for k in spec.targets]
    runs = [results[k] for k in spec.targets]
    reference = runs[0]
    lines = [f"## {spec.title}", "", f"<!-- section: {spec.key} -->", "",
             "| verdict | " + " | ".join(c.column for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    lines += [f"| {v} | " + " | ".join(str(counts(r).get(v, 0)) for r in runs) + " |"
              for v in VERDICTS if v != "BLOCKED" or any(counts(r).get(v) for r in runs)]
    lines += ["| cases | " + " | ".join(str(len(r)) for r in runs) + " |",
              "| wall time | " + " | ".join(f"{durations.get(k, 0):.0f} s" for k in spec.targets) + " |",
              ""]
    ids = list(reference) + [i for r in runs[1:] for i in r if i not in reference]
    ids = list(dict.fromkeys(ids))

    def verdict(run: dict, case_id: str) -> str:
        return (run.get(case_id) or {}).get("verdict", "-")

    differing = {case_id: [c for c, r in zip(columns[1:], runs[1:])
                           if verdict(r, case_id) != verdict(reference, case_id)] for case_id in ids}
    lines += ["| case | name | " + " | ".join(c.column for c in columns) + " |",
              "|---|---|" + "---|" * len(columns)]
    for case_id in ids:
        case = next(r[case_id] for r in runs if case_id in r)
        cells = [verdict(reference, case_id)] + [
            verdict(r, case_id) + (" **differs**" if c in differing[case_id] else "")
            for c, r in zip(columns[1:], runs[1:])]
        lines.append(f"| {case_id} | {_cell(case['name'])} | " + " | ".join(cells) + " |")
    changed = [i for i in ids if differing[i]]
    lines += ["", f"### Differences from the in-process simulator ({len(changed)})", ""]
    if not changed:
        lines += ["None: every case has the same verdict against each.", ""]

    def pics_only(case_id: str, run: dict) -> str | None:
        """The N/A reason when a difference is only that one side's PICS rules the case out."""
        if case_id in ANALYSIS:
            return None
        for side in (run, reference):
            case = side.get(case_id) or {}
            if case.get("verdict") == "N/A":
                return case.get("reason") or "N/A"
        return None

    by_reason: dict[str, list[str]] = {}
    for case_id in changed:
        for column, run in zip(columns[1:], runs[1:]):
            reason = pics_only(case_id, run) if column in differing[case_id] and \
                column.kind == "library" else None
            if reason is not None:
                by_reason.setdefault(f"{column.column}: {_cell(reason)}", []).append(case_id)
    if by_reason:
        lines += ["PICS differences (both verdicts right: the case does not apply to one side):", ""]
        lines += [f"- {reason} ({len(cases)}): {', '.join(cases)}"
                  for reason, cases in by_reason.items()]
        lines.append("")
    listed = {case_id for cases in by_reason.values() for case_id in cases}
    for case_id in changed:
        if case_id in listed and all(c.kind == "library" for c in differing[case_id]):
            continue
        ref = reference.get(case_id) or {}
        for column, run in zip(columns[1:], runs[1:]):
            if column not in differing[case_id]:
                continue
            other = run.get(case_id) or {}
            kind, analysis = ANALYSIS.get(case_id, ("not analysed", "No analysis written yet.")) \
                if column.kind == "library" else (
                    "harness issue on the external path",
                    "The simulator is the same program in both runs: a verdict that differs is the "
                    "harness's (its external path, the http driver) until shown otherwise.")
            lines += [f"#### {case_id}: simulator {ref.get('verdict', '-')}, {column.column} "
                      f"{other.get('verdict', '-')}", "",
                      f"- Reason ({column.column} run): {_cell(other.get('reason') or '(none)')[:900]}"]
            if ref.get("reason"):
                lines.append(f"- Reason (simulator run): {_cell(ref['reason'])[:600]}")
            lines += [f"- Classification: **{kind}**", f"- Analysis: {analysis}", ""]
    quiet = [i for i in ids if i in ANALYSIS and not differing[i]
             and any(c.kind == "library" for c in columns)]
    if quiet:
        lines += ["### Differences seen in other runs, not in this one", ""]
    for case_id in quiet:
        kind, analysis = ANALYSIS[case_id]
        lines += [f"#### {case_id}: this run " + ", ".join(
            f"{c.column} {verdict(r, case_id)}" for c, r in zip(columns, runs)), "",
            f"- Classification: **{kind}**", f"- Analysis: {analysis}", ""]
    return lines


def document(results: dict[str, dict[str, dict]], durations: dict[str, float],
             sections: tuple[Section, ...] = SECTIONS, core_only: bool = False,
             alone_block: str = "") -> str:
    suite = "`pytest testcases -m core`" if core_only else "`pytest testcases` (every profile)"
    lines = [
        "# The suites against the simulators as separate processes and against independent "
        "implementations",
        "",
        "Generated by `make interop` (`.venv/bin/python -m interop.run`); the analysis of each "
        "difference is kept in `interop/analysis.py`, and `make test` (tests/test_interop_suite.py) "
        "fails when a verdict of these runs changes from what this document gives. Each suite is "
        f"{suite} with `--ocpp-sut <sut>`, run against:",
        "",
        "- **simulator**: the embedded reference simulator, in process (`--ocpp-dut sim`): the "
        "reference verdicts;",
        "- **simulator, separate process (http)**: the same simulator started as a vendor starts a "
        "device (`python -m harness.sim charge-point --csms-url ... --control ...` / "
        "`python -m harness.sim csms --listen ... --control ...`) and the harness run with "
        "`--ocpp-dut external --ocpp-driver http://...` (docs/driver-protocol.md), so every manual "
        "action goes over HTTP and every frame over a real socket between two processes; its "
        "verdicts must be the in-process ones;",
        "- **ocpp library**: an independent implementation written with the PyPI `ocpp` library "
        "(2.1.0) from the OCPP 1.6 specification, not from the harness's simulators, driven through "
        "the same HTTP control protocol:",
        "  - `interop/ocpp_lib_cp.py` (PICS `interop/ocpp_lib_cp.toml`): a Core charge point, one "
        "socket with a cable lock, an authorization cache, no local list, no backup power;",
        "  - `interop/supervised_cp.py` (PICS `interop/ocpp_lib_cp_supervised.toml`): the second "
        "charge point, the same library firmware run by a rig process that supervises it: a socket "
        "without a cable lock (UnlockConnector NotSupported, the cable leaves with the EV), no "
        "authorization cache, Charging -> Available without Finishing, a firmware that exits on "
        "Reset and is restarted by the rig;",
        "  - `interop/ocpp_lib_csms.py` (PICS `interop/ocpp_lib_csms.toml`): a Core central system "
        "with a small idTag database (Accepted, Expired, Blocked, one group).",
        "",
        "The runs go side by side. The simulators claim all six profiles and two connectors, the "
        "library implementations Core only and one connector, so the cases of the other profiles "
        "are N/A against them and a case may be N/A on one side only.",
        "",
        "What the library implementations leave out, on purpose (declared in their PICS or "
        "reported as unknown keys): every profile but Core (the charge point has no handler for "
        "their operations, the central system answers 501 to the operator); MinimumStatusDuration, "
        "BlinkRepeat, LightIntensity, MaxEnergyOnInvalidId and WebSocketPingInterval; "
        "StopTxnSampledData / StopTxnAlignedData values in StopTransaction.req (the keys exist, the "
        "transactionData is not sent); backup power (a power cut ends transactions with PowerLoss, "
        "sent after the reboot); a ChangeAvailability of connector 0 during a transaction is not "
        "scheduled for the charge point as a whole (only per connector).",
        "",
    ]
    for spec in sections:
        if all(k in results for k in spec.targets):
            lines += section(spec, results, durations)
    if alone_block:  # written by --alone (interop/alone.py), kept when the rest is rewritten
        lines.append(alone_block)
    lines.append(NOTES)
    return "\n".join(lines).rstrip() + "\n"


def documented_verdicts(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """Read back what :func:`document` wrote: section key -> column -> case id -> verdict."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    current: str | None = None
    columns: list[str] | None = None
    for line in text.splitlines():
        marker = re.fullmatch(r"<!-- section: (\S+) -->", line.strip())
        if marker:
            current, columns = marker.group(1), None
            out[current] = {}
            continue
        if current is None:
            continue
        if not line.startswith("|"):
            columns = None  # a table ends at the first line that is not a row
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:2] == ["case", "name"]:
            columns = cells[2:]
            for column in columns:
                out[current].setdefault(column, {})
            continue
        if columns is None or cells[0].startswith("---"):
            continue
        for column, cell in zip(columns, cells[2:]):
            out[current][column][cells[0]] = cell.replace("**differs**", "").strip()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interop.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sut", choices=("cs", "csms", "both"), default="both")
    parser.add_argument("--reports", default=str(ROOT / "reports" / "interop"))
    parser.add_argument("--doc", default=str(ROOT / "docs" / "interop.md"))
    parser.add_argument("-k", dest="select", default=None, help="pytest -k selection")
    parser.add_argument("--core-only", action="store_true", help="only the Core cases (-m core)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="runs side by side (default: all at once; --alone: 2)")
    parser.add_argument("--no-variant", action="store_true",
                        help="skip the LocalPreAuthorize=true variant and the supervised second "
                             "charge point")
    parser.add_argument("--alone", action="store_true",
                        help="run each case alone against a freshly started device and compare "
                             "with the full run (interop/alone.py)")
    parser.add_argument("--target", nargs="+", choices=list(TARGETS), default=None,
                        help=f"--alone: the targets (default: {' '.join(alone.DEFAULT_TARGETS)})")
    parser.add_argument("--rebuild", action="store_true",
                        help="--alone: run nothing, write the block from the report directories")
    parser.add_argument("--full", action="store_true",
                        help="--alone: run the full suites again even when --reports has them")
    args = parser.parse_args(argv)
    if args.alone:
        return _alone(args, argv)
    suts = ("cs", "csms") if args.sut == "both" else (args.sut,)
    sections = tuple(s for s in SECTIONS if TARGETS[s.targets[0]].sut in suts
                     and not (args.no_variant and s.key == "cs-preauthorize"))
    keys = list(dict.fromkeys(k for s in sections for k in s.targets))
    reports = Path(args.reports)
    runs = run_all(keys, reports, jobs=args.jobs or len(keys), select=args.select,
                   markers="core" if args.core_only else None)
    results = {key: load(reports / key) for key in keys}
    missing = [key for key, cases in results.items() if not cases]
    if missing:
        for key in missing:
            print(f"{key}: the run left no report.json ({reports / key}):\n"
                  f"{runs[key][1][-3000:]}", file=sys.stderr)
        return 2
    durations = {key: runs[key][0] for key in keys}
    doc = Path(args.doc)
    kept = alone.kept_block(doc.read_text()) if doc.is_file() else ""
    doc.write_text(document(results, durations, sections, args.core_only, kept))
    for key in keys:
        print(f"{key}: {dict(counts(results[key]))} in {durations[key]:.0f} s")
    print(f"written: {args.doc}")
    return 0


def _alone(args: argparse.Namespace, argv: list[str] | None) -> int:
    keys = [] if args.rebuild else args.target or list(alone.DEFAULT_TARGETS)
    reports = Path(args.reports)
    markers = "core" if args.core_only else None
    suites = {f"SUT {sut}: a {title}": {k: k for k in TARGETS if TARGETS[k].sut == sut}
              for sut, title in SUTS.items()}
    return alone.main(
        keys, reports, Path(args.doc), jobs=args.jobs or 2, rerun_full=args.full,
        command="python -m interop.run " + " ".join(sys.argv[1:] if argv is None else argv),
        notes_heading=NOTES.splitlines()[0],
        run_full=lambda missing: run_all(missing, reports, jobs=args.jobs or 2, select=args.select,
                                         markers=markers),
        run_case=lambda key, case_id, directory: run_target(
            TARGETS[key], directory, select=case_id, timeout=alone.ALONE_TIMEOUT_S, quiet=True),
        load=load, suites=suites)


if __name__ == "__main__":
    sys.exit(main())
