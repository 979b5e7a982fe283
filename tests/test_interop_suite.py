"""The external path, in full, as a vendor runs it: both whole suites with `--ocpp-dut external` and
the http driver, against the reference simulators started as separate processes (`python -m
harness.sim ...`) and against the independent ocpp-library implementations (interop/), side by
side (they mostly wait on the devices' timers), plus the in-process simulator runs they are
compared with. The runs are `make interop`'s (interop/run.py), and:

- against our simulators every case must get the verdict it gets in process: the simulator is the
  same program, so a difference is the external path's (the http driver, a socket between
  processes, a device that connects on its own);
- against the independent implementations every case must get the verdict docs/interop.md gives,
  so a verdict that changes is seen, with its reason, and either fixed or analysed and documented
  (`make interop` writes the document);
- every driver action a case performed (the wire log's ``driver`` lines) must be among those read
  from its code (harness.drivers.needs), so the capability check before a case cannot miss one.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from harness.drivers.needs import needed_actions
from harness.wirelog import read
from interop.run import SECTIONS, TARGETS, documented_verdicts, load, run_all

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "interop.md"
RUN_TIMEOUT_S = 420
"""Per run; the longest (the library charge point, every case) takes about 80 s on an idle machine."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """key -> (the run's cases by id, its report directory, its pytest output)."""
    reports = tmp_path_factory.mktemp("interop")
    keys = list(TARGETS)
    outputs = run_all(keys, reports, jobs=len(keys), timeout=RUN_TIMEOUT_S, quiet=True)
    return {key: (load(reports / key), reports / key, outputs[key][1]) for key in keys}


def _tail(output: str) -> str:
    return output[-2500:]


def _cases_of(runs, key):
    cases, directory, output = runs[key]
    assert cases, f"{key}: the run wrote no report.json ({directory}):\n{_tail(output)}"
    return cases


@pytest.mark.timeout(RUN_TIMEOUT_S + 120)
@pytest.mark.parametrize("sut", ["cs", "csms"])
def test_the_simulator_as_a_separate_process_gives_the_in_process_verdicts(runs, sut):
    reference = _cases_of(runs, f"{sut}-simulator")
    external = _cases_of(runs, f"{sut}-simulator-process")
    differing = {case_id: (case["verdict"], case.get("reason") or "",
                           (external.get(case_id) or {}).get("verdict", "not run"),
                           (external.get(case_id) or {}).get("reason") or "")
                 for case_id, case in reference.items()
                 if (external.get(case_id) or {}).get("verdict") != case["verdict"]}
    extra = sorted(set(external) - set(reference))
    assert not differing and not extra, (  # both reasons: either run may be the one that is wrong
        f"SUT {sut}, the reference simulator as a separate process through the http driver: "
        + "; ".join(f"{i}: {now} {why[:400]!r} (in process {was} {was_why[:400]!r})"
                    for i, (was, was_why, now, why) in differing.items())
        + (f"; cases only in the external run: {extra}" if extra else "")
        + f"\ndevice log: {runs[f'{sut}-simulator-process'][1] / 'device.log'}\n"
        + _tail(runs[f"{sut}-simulator-process"][2]))
    assert {c["verdict"] for c in reference.values()} <= {"PASS", "N/A"}, \
        {i: (c["verdict"], c["reason"][:300]) for i, c in reference.items()
         if c["verdict"] not in ("PASS", "N/A")}


@pytest.mark.timeout(RUN_TIMEOUT_S + 120)
@pytest.mark.parametrize("section", [s.key for s in SECTIONS])
def test_the_independent_implementations_give_the_verdicts_docs_interop_gives(runs, section):
    documented = documented_verdicts(DOC.read_text())
    assert section in documented, f"docs/interop.md has no section {section}: run make interop"
    spec = next(s for s in SECTIONS if s.key == section)
    for key in spec.targets:
        target = TARGETS[key]
        if target.kind != "library":
            continue
        cases = _cases_of(runs, key)
        expected = documented[section][target.column]
        changed = {case_id: (verdict, (cases.get(case_id) or {}).get("verdict", "not run"),
                             (cases.get(case_id) or {}).get("reason", ""))
                   for case_id, verdict in expected.items()
                   if (cases.get(case_id) or {}).get("verdict", "not run") != verdict}
        new = sorted(set(cases) - set(expected))
        assert not changed and not new, (
            f"{key}: verdicts changed from docs/interop.md (section {section}, column "
            f"'{target.column}'); fix the cause, or analyse it in interop/analysis.py and re-run "
            "make interop: "
            + "; ".join(f"{i}: now {now}, documented {was}: {why[:400]}"
                        for i, (was, now, why) in changed.items())
            + (f"; cases not in the document: {new}" if new else "")
            + f"\ndevice log: {runs[key][1] / 'device.log'}\n" + _tail(runs[key][2]))


def _case_functions() -> dict[str, object]:
    import testcases
    found = {}
    for module in pkgutil.walk_packages(testcases.__path__, "testcases."):
        for name, obj in vars(importlib.import_module(module.name)).items():
            info = getattr(obj, "ocpp_case", None)
            if info is not None and name.startswith("test"):
                found[info.id] = obj
    return found


@pytest.mark.timeout(RUN_TIMEOUT_S + 120)
def test_every_action_a_case_performed_is_among_those_read_from_its_code(runs):
    functions = _case_functions()
    missed, performed = [], 0
    for key, target in TARGETS.items():
        if target.kind == "sim":
            continue  # the in-process runs record the same lines; the external ones suffice
        for case_id, case in _cases_of(runs, key).items():
            if not case.get("wire_log") or not Path(case["wire_log"]).is_file():
                continue
            actions = {line.detail.get("action") for line in read(case["wire_log"])
                       if line.event == "driver" and line.detail.get("phase") == "asked"
                       and line.detail.get("for") is None}
            performed += len(actions)
            unread = actions - needed_actions(functions[case_id]).actions
            if unread:
                missed.append(f"{key} {case_id}: {sorted(unread)}")
    assert not missed, ("driver actions performed but not read from the case's code (so a rig "
                        "lacking them would not make the case N/A before it starts): "
                        + "; ".join(missed))
    assert performed > 50  # the runs did drive the devices
