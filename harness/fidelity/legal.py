"""False-failure entries: the seeded-fault catalogue's other half.

A seeded fault proves that the harness catches a bug. A false-failure entry proves the opposite:
that it does NOT fail a device for a behaviour OCPP allows and our reference simulator does not show
by default -- a socket without a cable lock, Charging -> Available when the EV leaves with the cable,
a firmware that exits on Reset and is restarted by its rig, a coarse ConnectionTimeOut timer, a
charge point without an authorization cache; for a central system (``csms-legal-*``): boot Pending
before Accepted, its own heartbeat interval, optional idTagInfo fields, requests of its own after a
boot, RemoteStartTransaction without connectorId. Each entry gives the embedded simulator that behaviour,
through the PICS hardware model (``pics``: keys changed in the simulator's own PICS, which the
simulator follows and the harness reads) and/or the simulator's legal behaviours (``behaviours``:
the ``legal=True`` entries of harness/sim/faults.py), and runs the suite of its SUT.

Rules, as :func:`judge` applies them:

1. No case of the run may end FAIL, ERROR or INCONCLUSIVE: the device is conformant.
2. The ``na`` cases must be N/A (the PICS says they do not apply to that hardware).
3. The ``cases`` -- the ones taking the other legal branch -- must PASS.
4. Fast form (``make test``, ``tests/test_fidelity_legal.py``): only ``cases`` and ``na`` run.
   Full form (``python -m harness.fidelity.legal --full``): the whole suite of the SUT runs, and
   rule 1 holds for every case -- unless the entry is ``suite=False``: a behaviour that one case's
   reading must accept while another case's OCTT reading rightly refuses (then only its cases).

    python -m harness.fidelity.legal [--full] [--entry ID ...] [--jobs N] [--workdir DIR] [--list]

Exit status 0 when every entry holds, 1 otherwise, 2 for a broken section.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import pics as pics_module
from harness.fidelity.catalogue import identity_problems
from harness.fidelity.runner import (ROOT, CaseVerdict, gather_limited, run_pytest, trim)
from harness.sim.faults import REGISTRY, FaultError, Faults

REMOVE = None
"""A ``pics`` value that removes the key."""

NOT_OK = ("FAIL", "ERROR", "INCONCLUSIVE")


@dataclass(frozen=True)
class LegalEntry:
    id: str
    """Unique, kebab-case, ``<sut>-legal-...``."""
    sut: str
    description: str
    """One line: the legal behaviour and the OCPP text that allows it."""
    cases: tuple[str, ...]
    """The cases that take the other branch: each must PASS."""
    pics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """PICS changes, table -> key -> value (:data:`REMOVE` removes the key), applied to the
    simulator's embedded PICS."""
    behaviours: tuple[str, ...] = ()
    """Legal simulator behaviours, ``name`` or ``name:k=v,...`` (the ``--ocpp-sim-fault`` syntax);
    only ``legal=True`` registry entries."""
    na: tuple[str, ...] = ()
    """Cases the PICS makes N/A: each must be N/A."""
    suite: bool = True
    """Full form: the whole suite must be free of FAIL, ERROR and INCONCLUSIVE (False: only the
    cases named; say why in the description)."""
    fast: bool = True


SOCKET_WITHOUT_LOCK = {"features": {"cable": "socket_without_lock"}}

ENTRIES = [
    LegalEntry("cs-legal-socket-without-lock", "cs",
               "a socket without a cable lock: UnlockConnector is NotSupported (7.44: 'Charge Point "
               "has no connector lock') and the cable leaves with the EV",
               ("TC_017_1_CS", "TC_018_1_CS", "TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS"),
               pics=SOCKET_WITHOUT_LOCK,
               na=("TC_024_CS", "TC_030_CS", "TC_017_2_CS", "TC_018_2_CS")),
    LegalEntry("cs-legal-charging-to-available", "cs",
               "goes Charging -> Available without Finishing when the EV leaves with the cable "
               "(4.9: Finishing only while something is left at the connector)",
               ("TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS", "TC_012_CS"),
               behaviours=("available_after_unplug",)),
    LegalEntry("cs-legal-no-lock-charging-to-available", "cs",
               "a socket without a lock that goes Charging -> Available when the EV leaves: "
               "TC_005_2 and TC_005_3 too (no lock holds the cable)",
               ("TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS", "TC_018_1_CS"),
               pics=SOCKET_WITHOUT_LOCK, behaviours=("available_after_unplug",),
               na=("TC_024_CS", "TC_030_CS")),
    LegalEntry("cs-legal-cable-stays-in-socket", "cs",
               "the rig's unplug disconnects the EV end only: the cable stays in the socket "
               "(Finishing) until it is taken out (remove_cable)",
               ("TC_005_1_CS", "TC_005_2_CS", "TC_005_3_CS", "TC_018_1_CS", "TC_003_CS"),
               pics={"features": {"unplug_at_ev": "cable_stays"}}),
    LegalEntry("cs-legal-fixed-cable", "cs",
               "a fixed cable: UnlockConnector NotSupported (7.44), no lock to fail, EV-side "
               "disconnect leaves nothing in a socket",
               ("TC_017_2_CS", "TC_018_2_CS", "TC_005_2_CS", "TC_005_3_CS"),
               pics={"features": {"fixed_cable": True, "cable": "fixed", "unplug_at_ev": REMOVE}},
               na=("TC_005_1_CS", "TC_017_1_CS", "TC_018_1_CS", "TC_024_CS", "TC_030_CS")),
    LegalEntry("cs-legal-reserve-zero-unreported", "cs",
               "a reservation of connector 0 reported by no StatusNotification (5.13 asks only that "
               "one connector stay available for the idTag)",
               ("TC_049_CS",), behaviours=("reserve_zero_unreported",)),
    LegalEntry("cs-legal-exit-on-reset", "cs",
               "the firmware exits on Reset and its rig restarts it: the connection drops without "
               "a close frame, the boot comes seconds later (5.14 says only that it reboots)",
               ("TC_013_CS", "TC_014_CS", "TC_015_CS", "TC_016_CS"),
               behaviours=("exit_on_reset:restart_ms=3000",)),
    LegalEntry("cs-legal-connection-timeout-late", "cs",
               "a coarse ConnectionTimeOut timer: the authorization ends 0.4 s after the "
               "configured time, within the declared max_time_deviation (0.5 s)",
               ("TC_004_2_CS", "TC_011_2_CS", "TC_061_2_CS", "TC_007_2_CS"),
               behaviours=("connection_timeout_late:delay_ms=400",)),
    LegalEntry("cs-legal-reauthorize-on-present", "cs",
               "an idTag presented again while it waits for the cable is read as a new "
               "authorization (Authorize.req again, ConnectionTimeOut restarted), not as its end: "
               "only ConnectionTimeOut ends it (9.1.9; OCPP 1.6 gives a second presentation no "
               "meaning before a transaction)",
               ("TC_007_CS",), behaviours=("reauthorize_on_present",), fast=False),
    LegalEntry("cs-legal-firmware-reboots-late", "cs",
               "after FirmwareStatusNotification Installing the firmware reboots 5 s later (a slow "
               "flash; 6.24 bounds no installation time), then reports Installed",
               ("TC_044_1_CS",), behaviours=("firmware_reboot_late:delay_ms=5000",), fast=False),
    LegalEntry("cs-legal-no-authorization-cache", "cs",
               "no authorization cache (3.4: optional): no AuthorizationCacheEnabled key, ClearCache "
               "Rejected; the cache cases are N/A, offline cases use the local list",
               ("TC_037_1_CS", "TC_039_CS"),
               pics={"features": {"authorization_cache": False},
                     "configuration": {"AuthorizationCacheEnabled": REMOVE}},
               na=("TC_007_CS", "TC_007_2_CS", "TC_061_CS", "TC_061_2_CS")),
    LegalEntry("cs-legal-declared-no-backup-power", "cs",
               "the PICS declares no backup power: TC_032_1 is N/A before it starts, TC_032_2 runs",
               ("TC_032_2_CS",), pics={"features": {"backup_power": False}}, na=("TC_032_1_CS",)),
    LegalEntry("cs-legal-rig-without-fault-inputs", "cs",
               "a rig that cannot provoke hardware faults (no report_fault, lock_failure ... among "
               "its capabilities): the cases needing them are N/A before they start",
               ("TC_003_CS",), behaviours=("rig_without_fault_inputs",),
               na=("TC_024_CS", "TC_030_CS", "TC_041_CS", "TC_043_3_CS", "TC_048_1_CS",
                   "TC_050_1_CS")),
    LegalEntry("cs-legal-asks-for-listed-idtags", "cs",
               "sends Authorize.req even for an idTag its local list holds: TC_043 must not read "
               "it as a wrong list (only TC_043: TC_007/TC_008 read it as ignoring "
               "LocalPreAuthorize, as the OCTT does)",
               ("TC_043_CS",), behaviours=("ignore_local_pre_authorize",), suite=False),
    # --- central system under test: the harness plays the charge point ----------------------------
    LegalEntry("csms-legal-boot-pending-then-accepted", "csms",
               "answers each connection's first BootNotification Pending (interval 1 s), then "
               "Accepted: the charge point retries after the interval (4.2)",
               ("TC_001_CSMS", "TC_013_CSMS", "TC_014_CSMS", "TC_032_1_CSMS", "TC_044_1_CSMS"),
               behaviours=("boot_pending_first:count=1,interval=1",)),
    LegalEntry("csms-legal-boot-pending-triggered", "csms",
               "answers BootNotification Pending with a 30 s interval and 0.2 s later sends "
               "TriggerMessage BootNotification, then accepts it (4.2: earlier only if triggered)",
               ("TC_001_CSMS", "TC_013_CSMS", "TC_014_CSMS"),
               behaviours=("boot_pending_first:count=1,interval=30,trigger_ms=200",)),
    LegalEntry("csms-legal-boot-pending-configures", "csms",
               "while the boot is Pending reads and sets the configuration (GetConfiguration, "
               "ChangeConfiguration, TriggerMessage StatusNotification), then triggers the boot "
               "(4.2: what Pending is for)",
               ("TC_001_CSMS", "TC_013_CSMS", "TC_019_2_CSMS"),
               behaviours=("boot_pending_first:count=1,interval=30,trigger_ms=100",
                           "requests_after_boot:on_pending=1")),
    LegalEntry("csms-legal-heartbeat-interval-own", "csms",
               "gives its own heartbeat interval (45 s) at boot, not the PICS HeartbeatInterval "
               "(4.2: the interval is the central system's)",
               ("TC_001_CSMS", "TC_013_CSMS"), behaviours=("heartbeat_interval_own:seconds=45",)),
    LegalEntry("csms-legal-idtaginfo-optional-fields", "csms",
               "every Accepted idTagInfo carries expiryDate (a day ahead) and parentIdTag, and "
               "StopTransaction.conf an idTagInfo even without idTag (7.25, 6.50: optional)",
               ("TC_003_CSMS", "TC_004_1_CSMS", "TC_012_CSMS", "TC_023_2_CSMS"),
               behaviours=("idtaginfo_optional_fields",)),
    LegalEntry("csms-legal-requests-after-boot", "csms",
               "sends GetConfiguration, ChangeConfiguration and TriggerMessage of its own right "
               "after accepting a boot; TC_019_2 boots in the case and must judge the operator's",
               ("TC_019_2_CSMS", "TC_001_CSMS", "TC_021_CSMS", "TC_054_CSMS"),
               behaviours=("requests_after_boot",)),
    LegalEntry("csms-legal-trigger-after-boot", "csms",
               "triggers Heartbeat and MeterValues after accepting a boot and takes no operator "
               "command until they came (5.17: the charge point SHALL send what it accepted)",
               ("TC_054_CSMS", "TC_010_CSMS", "TC_021_CSMS", "TC_019_2_CSMS"),
               behaviours=("trigger_after_boot",)),
    LegalEntry("csms-legal-remote-start-without-connector", "csms",
               "sends RemoteStartTransaction without connectorId (6.33: optional; only TC_010/011: "
               "TC_059 keeps the OCTT's check that it names the configured connector)",
               ("TC_010_CSMS", "TC_011_1_CSMS", "TC_011_2_CSMS"),
               behaviours=("remote_start_without_connector",), suite=False),
]


# --- the derived PICS ------------------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a PICS value")


def derived_pics(entry: LegalEntry, directory: Path) -> Path | None:
    """The simulator's embedded PICS with the entry's changes, written to ``directory``; None when
    the entry changes nothing. Checked by :func:`harness.pics.load` before use."""
    if not entry.pics:
        return None
    data = tomllib.loads(pics_module.default_path(entry.sut).read_text())
    for table, changes in entry.pics.items():
        section = data.setdefault(table, {})
        for key, value in changes.items():
            if value is REMOVE:
                section.pop(key, None)
            else:
                section[key] = value
    lines = [f"# {entry.id}: the embedded simulator's PICS with {dict(entry.pics)!r}"]
    for table, section in data.items():
        lines += ["", f"[{table}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in section.items()]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pics.toml"
    path.write_text("\n".join(lines) + "\n")
    pics_module.load(path)
    return path


# --- checking and judging ----------------------------------------------------------------------

_ID = re.compile(r"^(cs|csms)-legal(-[a-z0-9]+)+$")


def check(entries: list[LegalEntry]) -> list[str]:
    """Everything wrong with the section, one message per problem (empty when sound)."""
    problems: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        where = f"false-failure entry {entry.id!r}"
        problems += identity_problems(where, entry.id, entry.sut, _ID, f"{entry.sut}-legal-",
                                      entry.description, tuple(entry.cases + entry.na), seen)
        if not entry.cases:
            problems.append(f"{where}: no case taking the other branch")
        if not entry.pics and not entry.behaviours:
            problems.append(f"{where}: neither a PICS change nor a behaviour: nothing differs")
        for both in sorted(set(entry.cases) & set(entry.na)):
            problems.append(f"{where}: {both} cannot be both PASS and N/A")
        side = "cp" if entry.sut == "cs" else "csms"
        for behaviour in entry.behaviours:
            name = behaviour.partition(":")[0]
            spec = REGISTRY.get(name)
            if spec is None:
                problems.append(f"{where}: unknown simulator behaviour {name!r}")
                continue
            if not spec.legal and entry.suite:
                problems.append(f"{where}: {name} is a bug in the fault registry, not a legal "
                                "behaviour; only a suite=False entry (one case's reading) may use it")
            try:
                Faults(side, [behaviour])
            except FaultError as exc:
                problems.append(f"{where}: {exc}")
        try:
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                derived_pics(entry, Path(tmp))
        except (pics_module.PicsError, TypeError) as exc:
            problems.append(f"{where}: the derived PICS is not valid: {exc}")
    return problems


@dataclass
class LegalJudgement:
    entry: LegalEntry
    problems: list[str]
    verdicts: dict[str, CaseVerdict]
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.verdicts.values():
            out[v.verdict] = out.get(v.verdict, 0) + 1
        return out


def judge(entry: LegalEntry, verdicts: dict[str, CaseVerdict], *, full: bool) -> LegalJudgement:
    """Rules 1-3 of the module docstring over one run's verdicts."""
    problems: list[str] = []
    for case_id in entry.cases:
        got = verdicts.get(case_id)
        if got is None:
            problems.append(f"{case_id} did not run")
        elif got.verdict != "PASS":
            problems.append(f"{case_id} is {got.verdict}, expected PASS: {trim(got.reason, 240)}")
    for case_id in entry.na:
        got = verdicts.get(case_id)
        if got is None:
            problems.append(f"{case_id} did not run (expected N/A)")
        elif got.verdict != "N/A":
            problems.append(f"{case_id} is {got.verdict}, expected N/A: {trim(got.reason, 240)}")
    judged = set(entry.cases) | set(entry.na)
    scope = verdicts if (full and entry.suite) else {c: verdicts[c] for c in verdicts
                                                       if c in judged}
    for case_id, got in sorted(scope.items()):
        if case_id not in judged and got.verdict in NOT_OK:
            problems.append(f"{case_id} is {got.verdict} on a conformant device: "
                            f"{trim(got.reason, 240)}")
    return LegalJudgement(entry, problems, verdicts)


async def run_entry(entry: LegalEntry, workdir: Path, *, full: bool) -> LegalJudgement:
    where = workdir / entry.id
    pics = derived_pics(entry, where)
    cases = () if full and entry.suite else entry.cases + entry.na
    run = await run_pytest(entry.sut, where, cases=cases, faults=entry.behaviours, pics=pics)
    if run.error:
        judgement = LegalJudgement(entry, [run.error], run.verdicts)
    else:
        judgement = judge(entry, run.verdicts, full=full)
    judgement.duration_s = run.duration_s
    return judgement


async def campaign(entries: list[LegalEntry], workdir: Path, *, full: bool = False,
                   jobs: int = 6, progress=None) -> list[LegalJudgement]:
    async def one(entry: LegalEntry) -> LegalJudgement:
        judgement = await run_entry(entry, workdir, full=full)
        if progress is not None:
            progress(judgement)
        return judgement
    return await gather_limited([one(e) for e in entries], jobs)


def line(j: LegalJudgement) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(j.counts().items()))
    text = f"{'ok  ' if j.ok else 'FAIL'} {j.entry.id:<42} {j.duration_s:5.1f}s  {counts}"
    if j.problems:
        text += "\n       " + "\n       ".join(trim(p, 300) for p in j.problems)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.fidelity.legal", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the whole suite of the SUT per entry")
    parser.add_argument("--entry", action="append", default=[], metavar="ID")
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--workdir", type=Path, default=ROOT / "reports" / "fidelity-legal")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    problems = check(ENTRIES)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    entries = [e for e in ENTRIES if not args.entry or e.id in args.entry]
    unknown = set(args.entry) - {e.id for e in ENTRIES}
    if unknown:
        print(f"unknown entry: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.list:
        for e in entries:
            print(f"{e.id:<42} {', '.join(e.behaviours) or '-':<40} {dict(e.pics) or '-'}")
        return 0
    started = time.monotonic()
    judgements = asyncio.run(campaign(entries, args.workdir, full=args.full, jobs=args.jobs,
                                      progress=lambda j: print(line(j), flush=True)))
    bad = [j for j in judgements if not j.ok]
    print(f"{len(judgements) - len(bad)} of {len(judgements)} false-failure entries hold "
          f"({'full' if args.full else 'fast'} form), {time.monotonic() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
