"""Run the Core suites against the ocpp-library implementations and compare with the simulators.

    .venv/bin/python -m interop.run [--sut cs|csms|both] [--reports DIR] [--doc docs/interop.md]

For each system under test the Core suite runs twice: against the harness's embedded reference
simulator, and against the ocpp-library implementation (a subprocess, driven through the HTTP
control protocol). The two report.json files are compared case by case and written to the document
with, for every verdict that differs, the reason from the report and the analysis in
:data:`interop.analysis.ANALYSIS`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from interop.analysis import ANALYSIS, NOTES
from interop.launch import (CP_PICS, CSMS_PICS, ROOT, free_port, library_central_system,
                            library_charge_point, pytest_args)

VERDICTS = ("PASS", "FAIL", "N/A", "INCONCLUSIVE", "ERROR")
SUITE_TIMEOUT_S = 900
SUTS = {"cs": "charge point (the harness is the central system)",
        "csms": "central system (the harness is a charge point)"}
VARIANT = "cs-preauthorize"
"""The charge point delivered with LocalPreAuthorize = true, compared with the same simulator run."""
VARIANT_PICS = ROOT / "interop" / "ocpp_lib_cp_preauthorize.toml"


def run_pytest(args: list[str], label: str) -> float:
    print(f"--- {label}: {' '.join(args[1:])}", flush=True)
    started = time.monotonic()
    subprocess.run(args, cwd=ROOT, timeout=SUITE_TIMEOUT_S, check=False)
    return time.monotonic() - started


def run_sim(sut: str, report_dir: Path, select: str | None) -> float:
    return run_pytest(pytest_args(sut, report_dir, select=select), f"{sut} against the simulator")


def run_library(sut: str, report_dir: Path, select: str | None, cp_pics: Path = CP_PICS) -> float:
    log = report_dir / "implementation.log"
    if sut == "cs":
        port = free_port()
        with library_charge_point(port, log, cp_pics) as control:
            return run_pytest(pytest_args(sut, report_dir, select=select, external={
                "pics": str(cp_pics), "driver": control, "listen": f"127.0.0.1:{port}"}),
                "cs against the ocpp-library charge point")
    with library_central_system(log) as (ws_url, control):
        return run_pytest(pytest_args(sut, report_dir, select=select, external={
            "pics": str(CSMS_PICS), "driver": control, "csms_url": ws_url}),
            "csms against the ocpp-library central system")


def load(report_dir: Path) -> dict[str, dict]:
    path = report_dir / "report.json"
    if not path.is_file():
        return {}
    return {case["id"]: case for case in json.loads(path.read_text())["test_cases"]}


def counts(cases: dict[str, dict]) -> Counter:
    return Counter(case["verdict"] for case in cases.values())


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def section(sut: str, sim: dict[str, dict], lib: dict[str, dict],
            durations: tuple[float, float]) -> list[str]:
    sim_counts, lib_counts = counts(sim), counts(lib)
    title = (f"## SUT cs, the charge point variant with LocalPreAuthorize = true "
             f"(`interop/{VARIANT_PICS.name}`)" if sut == VARIANT else f"## SUT {sut}: a {SUTS[sut]}")
    lines = [title, "",
             "| verdict | simulator | ocpp library |", "|---|---|---|"]
    lines += [f"| {v} | {sim_counts.get(v, 0)} | {lib_counts.get(v, 0)} |" for v in VERDICTS]
    lines += [f"| cases | {len(sim)} | {len(lib)} |",
              f"| wall time | {durations[0]:.0f} s | {durations[1]:.0f} s |", ""]
    ids = list(sim) + [i for i in lib if i not in sim]
    differing = [i for i in ids if (sim.get(i) or {}).get("verdict") != (lib.get(i) or {}).get("verdict")]
    lines += ["| case | name | simulator | ocpp library |", "|---|---|---|---|"]
    for case_id in ids:
        case = sim.get(case_id) or lib.get(case_id)
        mark = " **differs**" if case_id in differing else ""
        lines.append(f"| {case_id} | {_cell(case['name'])} | "
                     f"{(sim.get(case_id) or {}).get('verdict', '-')} | "
                     f"{(lib.get(case_id) or {}).get('verdict', '-')}{mark} |")
    lines += ["", f"### Differences ({len(differing)})", ""]
    if not differing:
        lines += ["None: every case has the same verdict against both.", ""]
    for case_id in differing:
        s, l = sim.get(case_id) or {}, lib.get(case_id) or {}
        kind, analysis = ANALYSIS.get(case_id, ("not analysed", "No analysis written yet."))
        lines += [f"#### {case_id}: simulator {s.get('verdict', '-')}, ocpp library "
                  f"{l.get('verdict', '-')}", "",
                  f"- Reason (ocpp library run): {_cell(l.get('reason') or '(none)')[:900]}"]
        if s.get("reason"):
            lines.append(f"- Reason (simulator run): {_cell(s['reason'])[:600]}")
        lines += [f"- Classification: **{kind}**", f"- Analysis: {analysis}", ""]
    # Analysed differences that did not show this time (a timing-dependent harness issue, say).
    quiet = [i for i in ids if i in ANALYSIS and i not in differing]
    if quiet:
        lines += ["### Differences seen in other runs, not in this one", ""]
    for case_id in quiet:
        kind, analysis = ANALYSIS[case_id]
        lines += [f"#### {case_id}: this run simulator {(sim.get(case_id) or {}).get('verdict', '-')}, "
                  f"ocpp library {(lib.get(case_id) or {}).get('verdict', '-')}", "",
                  f"- Classification: **{kind}**", f"- Analysis: {analysis}", ""]
    return lines


def document(results: dict[str, tuple[dict, dict, tuple[float, float]]]) -> str:
    lines = [
        "# The Core suites against an independent implementation",
        "",
        "Generated by `make interop` (`.venv/bin/python -m interop.run`); the analysis of each "
        "difference is kept in `interop/analysis.py`. The independent implementations are written "
        "with the PyPI `ocpp` library (2.1.0) from the OCPP 1.6 specification, not from the "
        "harness's simulators, and are driven through the HTTP control protocol "
        "(docs/driver-protocol.md):",
        "",
        "- `interop/ocpp_lib_cp.py` (PICS `interop/ocpp_lib_cp.toml`): a Core charge point, one "
        "socket with a cable lock, an authorization cache, no local list, no backup power.",
        "- `interop/ocpp_lib_csms.py` (PICS `interop/ocpp_lib_csms.toml`): a Core central system "
        "with a small idTag database (Accepted, Expired, Blocked, one group).",
        "",
        "Each suite is `pytest testcases -m core --ocpp-sut <sut>` against the embedded simulator, "
        "then with `--ocpp-dut external --ocpp-driver http://...` against the library "
        "implementation; the verdicts come from the two report.json files. The simulators claim "
        "all six profiles and two connectors, the library implementations Core only and one "
        "connector, so a case may be N/A on one side only. `-m core` also selects TC_042_1_CS "
        "and TC_043_1_CS (LocalAuthListManagement 'not supported' cases declared under Core).",
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
    for sut, (sim, lib, durations) in results.items():
        lines += section(sut, sim, lib, durations)
    lines.append(NOTES)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interop.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sut", choices=("cs", "csms", "both"), default="both")
    parser.add_argument("--reports", default=str(ROOT / "reports" / "interop"))
    parser.add_argument("--doc", default=str(ROOT / "docs" / "interop.md"))
    parser.add_argument("-k", dest="select", default=None, help="pytest -k selection")
    parser.add_argument("--library-only", action="store_true",
                        help="reuse the simulator reports already in --reports")
    parser.add_argument("--cp-pics", default=str(CP_PICS),
                        help="the charge point's PICS (a configuration variant, e.g. "
                             "interop/ocpp_lib_cp_preauthorize.toml)")
    parser.add_argument("--no-variant", action="store_true",
                        help="skip the LocalPreAuthorize=true variant of the charge point")
    args = parser.parse_args(argv)
    reports = Path(args.reports)
    results = {}
    for sut in (("cs", "csms") if args.sut == "both" else (args.sut,)):
        sim_dir, lib_dir = reports / f"{sut}-simulator", reports / f"{sut}-ocpp-library"
        sim_time = 0.0 if args.library_only else run_sim(sut, sim_dir, args.select)
        lib_time = run_library(sut, lib_dir, args.select, Path(args.cp_pics))
        sim, lib = load(sim_dir), load(lib_dir)
        if not sim or not lib:
            print(f"{sut}: a run left no report.json ({sim_dir}, {lib_dir})", file=sys.stderr)
            return 2
        results[sut] = (sim, lib, (sim_time, lib_time))
    if "cs" in results and not args.no_variant:
        variant_dir = reports / f"{VARIANT}-ocpp-library"
        variant_time = run_library("cs", variant_dir, args.select, VARIANT_PICS)
        sim, _, (sim_time, _) = results["cs"]
        results[VARIANT] = (sim, load(variant_dir), (sim_time, variant_time))
    text = document(results)
    Path(args.doc).write_text(text)
    for sut, (sim, lib, _) in results.items():
        print(f"{sut}: simulator {dict(counts(sim))}, ocpp library {dict(counts(lib))}")
    print(f"written: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
