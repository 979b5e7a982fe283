"""The campaign runner: each catalogue entry is one pytest subprocess against the faulted embedded
simulator, judged from its report.json.

- Intended mode: ``-k`` the intended cases only; each must be FAIL with a reason matching the
  entry's symptom.
- Full mode: besides, the whole suite of that SUT with the fault; every other case must keep the
  verdict it has in the unfaulted baseline run of that SUT, unless it FAILs naming the same bug
  (its reason matches the symptom, or the entry's ``also``) or the entry declares it collateral.
- Alone mode (full mode plus): the property "a case's verdict in the full run equals its verdict
  run alone" for the intended cases: each one's verdict in the whole suite with the fault must be
  the verdict it has run alone with the fault (the same two runs, compared); the cases the full
  run reports BLOCKED are counted. :func:`sequence_vs_alone` checks the property for every case of
  a short run (the fast form in ``make test``).

The runs are mostly waiting on protocol timeouts, so several go at once (``jobs``). Judging is pure
(:func:`judge`), so the tests can feed it hand-made reports.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.fidelity.catalogue import Entry, describe, matches

ROOT = Path(__file__).resolve().parents[2]
FAULT_FILE = "fault.txt"
"""Written next to an entry's reports: the fault it ran with, so --rejudge can refuse stale ones."""
RUN_TIMEOUT_S = 900.0
"""A bound on one pytest subprocess, before :func:`run_timeout` adds the device's own retry timers;
the whole suite of one SUT takes about a minute and a half unfaulted."""


def run_timeout(sut: str, pics: Path | None = None) -> float:
    """The bound on one pytest subprocess of ``sut``: :data:`RUN_TIMEOUT_S`, plus for every case
    of that SUT the time the device's retries of a transaction message the harness refused may
    hold the next case's Idle state (OCPP 1.6 section 4.7, from the simulator's PICS:
    TransactionMessageRetryInterval x (1 + ... + TransactionMessageAttempts - 1) and the
    triggered function timeout). A fault that breaks every StopTransaction makes every case that
    stops a transaction wait them out (cs-offline-stop-no-timezone: about 17 s a case)."""
    from harness import pics as pics_module

    try:
        device = pics_module.load(pics or pics_module.default_path(sut))
        config = device.configuration
        attempts = max(1, min(int(str(config.get("TransactionMessageAttempts", "3"))), 10))
        interval = float(str(config.get("TransactionMessageRetryInterval", "60")))
        triggered = device.timing.triggered_function_timeout
    except (pics_module.PicsError, ValueError, OSError):
        return RUN_TIMEOUT_S
    sources = "\n".join(p.read_text() for p in (ROOT / "testcases").rglob("test_*.py"))
    cases = len(re.findall(rf'@case\("(?:TC|RB)_\w+_{sut.upper()}"', sources))
    return RUN_TIMEOUT_S + cases * (interval * attempts * (attempts - 1) / 2 + triggered)


@dataclass(frozen=True)
class CaseVerdict:
    verdict: str
    reason: str
    symptom: dict | None = None
    """The FAIL's structured symptom from report.json (harness.verdicts.Mismatch), if it has one."""


@dataclass
class Run:
    """One pytest subprocess: what it was asked and what it reported."""
    sut: str
    report_dir: Path
    verdicts: dict[str, CaseVerdict] = field(default_factory=dict)
    returncode: int | None = None
    duration_s: float = 0.0
    error: str = ""
    """Why the run gave no usable report (timeout, usage error ...), else empty."""


@dataclass
class Judgement:
    entry: Entry
    detected: bool
    seen: dict[str, CaseVerdict]
    """Intended case id -> its verdict in the faulted run (missing if it did not run)."""
    problems: list[str]
    """Why the entry is not detected, and (full mode) other cases whose verdict changed."""
    duration_s: float = 0.0
    also_caught: list[str] = field(default_factory=list)
    """Full mode: other cases that FAILed naming the same bug (not a false verdict)."""
    collateral_seen: list[str] = field(default_factory=list)
    """Full mode: other cases that changed verdict, declared collateral."""
    alone_vs_full: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Alone mode: intended case id -> (its verdict alone, its verdict in the full run)."""
    blocked: list[str] = field(default_factory=list)
    """Full mode: cases the full run reports BLOCKED (not run, the device stuck)."""
    same_as_baseline: int = 0
    """Full mode: other cases whose verdict is the unfaulted baseline's."""
    every_case: dict[str, tuple[str, str]] = field(default_factory=dict)
    """``--every-case``: every case of the full run -> (its verdict run alone with the fault on a
    fresh device, its verdict in the full run): the property for all of them, not only the
    intended ones."""

    @property
    def every_case_same(self) -> int:
        return sum(a == f for a, f in self.every_case.values())

    @property
    def alone_same(self) -> bool:
        return all(alone == full for alone, full in self.alone_vs_full.values())

    @property
    def ok(self) -> bool:
        """As the catalogue says it should be: detected cleanly, or a known miss still missed."""
        if self.entry.known_miss:
            return not self.detected
        return self.detected and not self.problems

    @property
    def reason_seen(self) -> str:
        return " / ".join(f"{cid}: {v.verdict} {v.reason}".strip() for cid, v in self.seen.items())


def read_report(report_dir: Path) -> dict[str, CaseVerdict]:
    data = json.loads((report_dir / "report.json").read_text())
    return {c["id"]: CaseVerdict(c["verdict"], c.get("reason") or "", c.get("symptom"))
            for c in data["test_cases"]}


def pytest_command(sut: str, report_dir: Path, *, cases: tuple[str, ...] = (),
                   faults: tuple[str, ...] = (), testcases: Path | None = None,
                   pics: Path | None = None) -> list[str]:
    # no:unraisableexception: its five gc.collect() at the session's end cost a one-case run about
    # 0.35 s of its 1.4 s CPU; a campaign's verdicts come from report.json, not from warnings.
    command = [sys.executable, "-m", "pytest", str(testcases or ROOT / "testcases"),
               "--ocpp-sut", sut, "--ocpp-report", str(report_dir), "-q", "-p", "no:cacheprovider",
               "-p", "no:unraisableexception"]
    if pics is not None:
        command += ["--ocpp-pics", str(pics)]
    if cases:
        command += ["-k", " or ".join(cases)]
    for fault in faults:
        command += ["--ocpp-sim-fault", fault]
    return command


async def run_pytest(sut: str, report_dir: Path, *, cases: tuple[str, ...] = (),
                     faults: tuple[str, ...] = (), timeout: float | None = None,
                     pics: Path | None = None) -> Run:
    """One pytest subprocess; its output goes to ``report_dir/pytest.log``. ``pics``: the
    simulator's PICS instead of the embedded one (the false-failure entries' hardware)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.json").unlink(missing_ok=True)
    run = Run(sut, report_dir)
    timeout = run_timeout(sut, pics) if timeout is None else timeout
    started = time.monotonic()
    with open(report_dir / "pytest.log", "wb") as log:
        process = await asyncio.create_subprocess_exec(
            *pytest_command(sut, report_dir, cases=cases, faults=faults, pics=pics), cwd=ROOT,
            stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        try:
            run.returncode = await asyncio.wait_for(process.wait(), timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the simulators go too
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            run.error = f"pytest did not finish within {timeout:g} s"
    run.duration_s = time.monotonic() - started
    try:
        run.verdicts = read_report(report_dir)
    except (OSError, ValueError, KeyError) as exc:
        run.error = run.error or f"no usable report.json ({exc}); pytest said: " + \
            _gist((report_dir / "pytest.log").read_text(errors="replace"))
    return run


def _gist(log: str) -> str:
    """What a failed pytest run said: its ERROR lines (a usage error), else the end of the log."""
    errors = [line for line in log.splitlines() if line.startswith("ERROR")]
    return trim(" ".join(errors), 400) if errors else trim(log[-600:], 600)


def judge(entry: Entry, verdicts: dict[str, CaseVerdict],
          suite: dict[str, CaseVerdict] | None = None,
          baseline: dict[str, CaseVerdict] | None = None, *, alone: bool = False) -> Judgement:
    """Detected: every intended case is FAIL, in ``verdicts`` (the run of the intended cases
    alone), with a reason matching the symptom.

    Full mode also gives ``suite`` (the whole suite of the SUT with the fault) and ``baseline`` (the
    same suite unfaulted): every other case must keep its baseline verdict, unless it FAILs naming
    the fault itself (its reason matches the symptom or ``entry.also``: the bug caught once more,
    listed in ``also_caught``) or is declared collateral. Anything else is a problem: a case hurt by
    a bug it does not test, or by the state a failed case left behind.

    ``alone`` (alone mode): besides, every intended case must have in ``suite`` the verdict it has
    in ``verdicts`` (the full run and the run alone agree); a difference is a problem."""
    problems: list[str] = []
    seen: dict[str, CaseVerdict] = {}
    for case_id in entry.cases:
        got = verdicts.get(case_id)
        if got is None:
            problems.append(f"{case_id} did not run")
            continue
        seen[case_id] = got
        if got.verdict != "FAIL":
            problems.append(f"{case_id} is {got.verdict}, expected FAIL")
        elif not matches(entry.symptom, got.reason, got.symptom):
            problems.append(f"{case_id} FAILed but its reason does not match "
                            f"{describe(entry.symptom)}")
    judgement = Judgement(entry, not problems, seen, problems)
    if suite is None or baseline is None:
        return judgement
    judgement.blocked = sorted(c for c, v in suite.items() if v.verdict == "BLOCKED")
    if alone:
        for case_id in entry.cases:
            by_itself, in_full = verdicts.get(case_id), suite.get(case_id)
            pair = (by_itself.verdict if by_itself else "absent",
                    in_full.verdict if in_full else "absent")
            judgement.alone_vs_full[case_id] = pair
            if pair[0] != pair[1]:
                problems.append(f"{case_id} is {pair[1]} in the full run but {pair[0]} alone"
                                + (f": {trim(in_full.reason, 200)}" if in_full else ""))
    for case_id, before in sorted(baseline.items()):
        if case_id in entry.cases:
            continue
        after = suite.get(case_id)
        if after is not None and after.verdict == before.verdict:
            judgement.same_as_baseline += 1
            continue
        names_fault = after is not None and (
            matches(entry.symptom, after.reason, after.symptom)
            or (bool(entry.also) and matches(entry.also, after.reason, after.symptom)))
        if names_fault and after.verdict == "FAIL":
            judgement.also_caught.append(case_id)
        elif (names_fault and after.verdict == "INCONCLUSIVE") or _collateral(entry, case_id):
            # A precondition the fault itself prevents (its reason names the fault), or declared.
            judgement.collateral_seen.append(case_id)
        elif after is None:
            problems.append(f"{case_id} did not run (baseline {before.verdict})")
        else:
            problems.append(f"{case_id} changed {before.verdict} -> {after.verdict}: "
                            f"{trim(after.reason, 200)}")
    return judgement


def _collateral(entry: Entry, case_id: str) -> bool:
    return any(fnmatch.fnmatchcase(case_id, pattern) for pattern in entry.collateral)


def trim(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def baseline_dir(workdir: Path, key: tuple[str, str]) -> Path:
    """Where the unfaulted baseline run of (SUT, PICS) goes."""
    sut, pics = key
    return workdir / (f"baseline-{sut}" + (f"-{Path(pics).stem}" if pics else ""))


def _pics(entry: Entry) -> Path | None:
    return ROOT / entry.pics if entry.pics else None


async def run_entry(entry: Entry, workdir: Path, *, full: bool,
                    baseline: dict[str, CaseVerdict] | None = None,
                    alone: bool = False, every_case: int = 0) -> Judgement:
    """The intended cases alone (detection, free of what earlier cases leave behind); in full mode
    also the whole suite with the fault, compared case by case with the baseline."""
    runs = [run_pytest(entry.sut, workdir / entry.id, cases=entry.after + entry.cases,
                       faults=(entry.cli,), pics=_pics(entry))]
    if full:
        runs.append(run_pytest(entry.sut, workdir / entry.id / "suite", faults=(entry.cli,),
                               pics=_pics(entry)))
    results = await asyncio.gather(*runs)
    (workdir / entry.id / FAULT_FILE).write_text(entry.cli + "\n")  # for --rejudge
    failed = [run.error for run in results if run.error]
    if failed:
        judgement = Judgement(entry, False, {}, failed)
    else:
        judgement = judge(entry, results[0].verdicts,
                          results[1].verdicts if full else None, baseline, alone=alone)
    judgement.duration_s = max(run.duration_s for run in results)
    if every_case and full and not failed:
        started = time.monotonic()
        judgement.every_case = await every_case_alone(entry, results[1].verdicts,
                                                      workdir / entry.id / "alone",
                                                      jobs=every_case)
        judgement.duration_s += time.monotonic() - started
        for case_id, (by_itself, in_full) in judgement.every_case.items():
            if by_itself != in_full and case_id not in entry.cases:
                judgement.problems.append(f"{case_id} is {in_full} in the full run but "
                                          f"{by_itself} alone")
    return judgement


async def every_case_alone(entry: Entry, suite: dict[str, CaseVerdict], workdir: Path, *,
                           jobs: int) -> dict[str, tuple[str, str]]:
    """Every case of the full run ``suite`` run alone with the entry's fault, each in its own
    pytest run on a fresh simulator, ``jobs`` at a time: case id -> (alone, full run)."""
    ids = list(suite)
    runs = await gather_limited([run_pytest(entry.sut, workdir / case_id, cases=(case_id,),
                                            faults=(entry.cli,)) for case_id in ids], jobs)
    out = {}
    for case_id, run in zip(ids, runs):
        by_itself = run.verdicts.get(case_id)
        out[case_id] = (by_itself.verdict if by_itself else (run.error or "absent"),
                        suite[case_id].verdict)
    return out


async def gather_limited(coroutines: list, jobs: int) -> list:
    """Run the coroutines at most ``jobs`` at a time, results in order."""
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(coroutine):
        async with gate:
            return await coroutine
    return await asyncio.gather(*(one(c) for c in coroutines))


async def campaign(entries: list[Entry], workdir: Path, *, full: bool = False, jobs: int = 6,
                   progress=None, alone: bool = False,
                   every_case: int = 0) -> tuple[list[Judgement], dict[tuple[str, str], Run]]:
    """Every entry judged; in full mode first one unfaulted baseline run per SUT concerned.
    ``alone`` (implies ``full``): the intended cases' full-run verdicts compared with alone."""
    full = full or alone
    baselines: dict[tuple[str, str], Run] = {}
    if full:
        keys = sorted({entry.baseline_key for entry in entries})
        runs = await gather_limited([run_pytest(sut, baseline_dir(workdir, (sut, pics)),
                                                pics=ROOT / pics if pics else None)
                                     for sut, pics in keys], jobs)
        baselines = dict(zip(keys, runs))

    async def one(entry: Entry) -> Judgement:
        base = baselines.get(entry.baseline_key)
        if full and (base is None or base.error):
            judgement = Judgement(entry, False, {}, [f"no baseline for SUT {entry.sut}: "
                                                     f"{base.error if base else 'not run'}"])
        else:
            judgement = await run_entry(entry, workdir, full=full,
                                        baseline=base.verdicts if base else None, alone=alone,
                                        every_case=every_case)
        if progress is not None:
            progress(judgement)
        return judgement
    return await gather_limited([one(e) for e in entries], jobs), baselines


def rejudge(entries: list[Entry], workdir: Path, *, full: bool,
            alone: bool = False) -> list[Judgement]:
    """Judge the reports a previous campaign left in ``workdir`` again, running nothing: for a
    symptom or ``also`` changed after a long full run."""
    def verdicts(path: Path) -> dict[str, CaseVerdict] | str:
        try:
            return read_report(path)
        except (OSError, ValueError, KeyError) as exc:
            return f"no usable {path / 'report.json'} ({exc})"

    out = []
    for entry in entries:
        ran = workdir / entry.id / FAULT_FILE
        if ran.exists() and ran.read_text().strip() != entry.cli:
            out.append(Judgement(entry, False, {}, [
                f"the reports were made with --ocpp-sim-fault {ran.read_text().strip()}, the "
                f"catalogue now says {entry.cli}: run the entry again"]))
            continue
        found = [verdicts(workdir / entry.id)]
        if full:
            found += [verdicts(workdir / entry.id / "suite"),
                      verdicts(baseline_dir(workdir, entry.baseline_key))]
        errors = [f for f in found if isinstance(f, str)]
        out.append(Judgement(entry, False, {}, errors) if errors else
                   judge(entry, *found, alone=alone and full))
    return out


async def stability(workdir: Path, repeat: int, *, jobs: int = 6,
                    suts: tuple[str, ...] = ("cs", "csms")) -> tuple[list[Run], list[str]]:
    """The whole unfaulted suite of each SUT ``repeat`` times; the differences between runs (a case
    whose verdict is not the same every time, a run without a report) as messages."""
    plan = [(sut, n) for n in range(1, repeat + 1) for sut in suts]
    runs = await gather_limited([run_pytest(sut, workdir / f"stability-{sut}-{n}")
                                 for sut, n in plan], jobs)
    return runs, differences(runs)


def differences(runs: list[Run]) -> list[str]:
    out: list[str] = []
    by_sut: dict[str, list[Run]] = {}
    for run in runs:
        if run.error:
            out.append(f"{run.report_dir.name}: {run.error}")
        else:
            by_sut.setdefault(run.sut, []).append(run)
    for sut, group in sorted(by_sut.items()):
        ids = sorted(set().union(*(run.verdicts for run in group)))
        for case_id in ids:
            seen = [run.verdicts.get(case_id) for run in group]
            kinds = {v.verdict if v else "absent" for v in seen}
            if len(kinds) > 1:
                detail = ", ".join(
                    f"{run.report_dir.name}={v.verdict if v else 'absent'}"
                    + (f" ({trim(v.reason, 120)})" if v and v.verdict not in ("PASS", "N/A") else "")
                    for run, v in zip(group, seen))
                out.append(f"{sut} {case_id}: {detail}")
    return out


@dataclass
class Sequence:
    """:func:`sequence_vs_alone`: the verdicts of one run of several cases and of each alone."""
    cases: tuple[str, ...]
    together: Run
    alone: dict[str, Run]

    @property
    def differences(self) -> list[str]:
        """Cases whose verdict in the run together is not their verdict alone (or did not run)."""
        out = [f"{r.report_dir.name}: {r.error}" for r in (self.together, *self.alone.values())
               if r.error]
        for case_id in self.cases:
            together = self.together.verdicts.get(case_id)
            alone = self.alone[case_id].verdicts.get(case_id) if case_id in self.alone else None
            if together is None or alone is None or together.verdict != alone.verdict:
                out.append(f"{case_id}: {together.verdict if together else 'absent'} in the run "
                           f"together, {alone.verdict if alone else 'absent'} alone"
                           + (f" ({trim(together.reason, 240)})" if together else ""))
        return out


async def sequence_vs_alone(sut: str, cases: tuple[str, ...], faults: tuple[str, ...],
                            workdir: Path, *, jobs: int = 6) -> Sequence:
    """The property behind the Idle state, for a short run: ``cases`` run together in one pytest
    run with ``faults`` (in collection order: the first ones leave the device dirty) and each of
    them alone with the same faults on a fresh simulator; the verdicts must be the same."""
    runs = await gather_limited(
        [run_pytest(sut, workdir / "together", cases=cases, faults=faults)]
        + [run_pytest(sut, workdir / f"alone-{case_id}", cases=(case_id,), faults=faults)
           for case_id in cases], jobs)
    return Sequence(cases, runs[0], dict(zip(cases, runs[1:])))
