"""``python -m harness.fidelity``: the seeded-fault campaign and the stability check.

    python -m harness.fidelity [--full] [--fast] [--sut cs|csms] [--entry ID ...] [--jobs N]
                               [--workdir DIR] [--doc PATH]
    python -m harness.fidelity --repeat 10 [--sut ...] [--jobs N]
    python -m harness.fidelity --alone [--entry ID ...] [--jobs N] [--doc FILE]   (full run vs
        alone; the rows of the entries run replace theirs in FILE, the others are kept)
    python -m harness.fidelity --full --rejudge --workdir DIR   (judge a previous run's reports again)
    python -m harness.fidelity --list

Exit status 0 when every entry is as the catalogue says (detected, or a known miss still missed)
and, in full mode, no other case changed verdict; 1 otherwise; 2 for a broken catalogue.
"""

from __future__ import annotations

import argparse
import json
import asyncio
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from harness.fidelity import catalogue
from harness.fidelity.report import render, render_alone
from harness.fidelity.runner import ROOT, Judgement, campaign, rejudge, stability, trim


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.fidelity", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="run the whole suite of the SUT with each "
                   "fault and compare every other case with an unfaulted baseline")
    p.add_argument("--alone", action="store_true", help="full mode, and the property behind the "
                   "Idle state: each intended case's verdict in the whole suite with the fault must "
                   "be its verdict run alone with the fault; cases reported BLOCKED are counted "
                   "(writes docs/verdict-fidelity-alone.md unless --doc: one row per entry, "
                   "the rows of the entries run replaced, the others kept with their date)")
    p.add_argument("--every-case", type=int, default=0, metavar="JOBS", help="alone mode: also "
                   "run every case of the full run alone with the fault (its own pytest run on a "
                   "fresh simulator, JOBS at a time) and compare: the property for every case, "
                   "not only the intended ones (about 100 runs an entry)")
    p.add_argument("--fast", action="store_true", help="only the entries marked fast")
    p.add_argument("--sut", choices=("cs", "csms"), help="only the entries of this SUT")
    p.add_argument("--entry", action="append", default=[], metavar="ID", help="only this entry "
                   "(repeatable)")
    p.add_argument("--jobs", type=int, default=6, help="pytest runs at a time (default 6)")
    p.add_argument("--workdir", type=Path, default=ROOT / "reports" / "fidelity",
                   help="where each run's report goes (default reports/fidelity)")
    p.add_argument("--doc", type=Path, default=None, help="write the markdown report here "
                   "(default: docs/verdict-fidelity.md in full mode, nowhere otherwise)")
    p.add_argument("--repeat", type=int, default=0, metavar="N", help="stability mode: the whole "
                   "unfaulted suite of each SUT N times; fails on any verdict difference")
    p.add_argument("--list", action="store_true", help="print the catalogue and exit")
    p.add_argument("--note", default="", help="a line added to the markdown report (how the "
                   "runs were made, when re-judged)")
    p.add_argument("--no-agreement", action="store_true", help="full mode: skip the "
                   "schema-agreement campaign (python -m harness.fidelity.agreement) that runs "
                   "beside the faults and whose figure goes into the report")
    p.add_argument("--rejudge", action="store_true", help="run nothing: judge the reports a "
                   "previous campaign left in --workdir again (after editing a symptom)")
    return p


def _select(args: argparse.Namespace) -> list[catalogue.Entry]:
    entries = catalogue.load()
    if args.sut:
        entries = [e for e in entries if e.sut == args.sut]
    if args.fast:
        entries = [e for e in entries if e.fast]
    if args.entry:
        unknown = set(args.entry) - {e.id for e in entries}
        if unknown:
            raise SystemExit(f"unknown entry: {', '.join(sorted(unknown))}")
        entries = [e for e in entries if e.id in args.entry]
    return entries


def _line(j: Judgement) -> str:
    mark = "ok  " if j.ok else "FAIL"
    state = "detected" if j.detected else ("known miss" if j.entry.known_miss else "MISSED")
    text = f"{mark} {j.entry.id:<44} {state:<10} {j.duration_s:5.1f}s"
    if j.alone_vs_full:
        text += (" alone=full" if j.alone_same else " alone!=full") + " " + ", ".join(
            f"{c} {a}/{f}" for c, (a, f) in j.alone_vs_full.items())
        text += f"; others: {j.same_as_baseline} as baseline, {len(j.also_caught)} also caught, " \
                f"{len(j.collateral_seen)} collateral, {len(j.blocked)} BLOCKED"
        if j.every_case:
            text += f"; every case alone = full: {j.every_case_same} of {len(j.every_case)}"
    if j.problems:
        text += "\n       " + "\n       ".join(trim(p, 300) for p in j.problems)
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    problems = catalogue.check(catalogue.load())
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.repeat:
        suts = (args.sut,) if args.sut else ("cs", "csms")
        runs, diffs = asyncio.run(stability(args.workdir, args.repeat, jobs=args.jobs, suts=suts))
        for run in runs:
            counts = {}
            for v in run.verdicts.values():
                counts[v.verdict] = counts.get(v.verdict, 0) + 1
            print(f"{run.report_dir.name:<20} {run.duration_s:5.1f}s {counts}")
        print("\n".join(diffs) if diffs else
              f"stable: {args.repeat} runs of {', '.join(suts)}, identical verdicts every time "
              f"({time.monotonic() - started:.0f} s)")
        return 1 if diffs else 0
    if args.list:
        for e in _select(args):
            print(f"{e.id:<44} {e.cli:<50} {', '.join(e.cases)}"
                  + ("  [known miss]" if e.known_miss else ""))
        return 0
    entries = _select(args)
    agreement = None
    args.full = args.full or args.alone
    if args.rejudge:
        judgements = rejudge(entries, args.workdir, full=args.full, alone=args.alone)
        for j in judgements:
            print(_line(j))
    else:
        judgements, agreement = asyncio.run(_campaign_and_agreement(
            args, entries, with_agreement=args.full and not args.no_agreement))
    elapsed = time.monotonic() - started
    doc = args.doc or (ROOT / "docs" / ("verdict-fidelity-alone.md" if args.alone
                                        else "verdict-fidelity.md") if args.full else None)
    if doc is not None and args.alone:
        previous = doc.read_text() if doc.exists() else ""
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
        shown = [("…" if i and argv[i - 1] == "--note" else a) for i, a in enumerate(argv)]
        command = shlex.join(["python", "-m", "harness.fidelity", *shown])
        doc.write_text(render_alone(judgements, catalogue.load(), previous=previous, when=when,
                                    command=command, note=args.note))
    elif doc is not None:
        doc.write_text(render(judgements, full=args.full, elapsed_s=elapsed, jobs=args.jobs,
                              rejudged=args.rejudge, note=args.note, agreement=agreement,
                              alone=args.alone))
    detected = sum(j.detected for j in judgements)
    bad = [j for j in judgements if not j.ok]
    for sut in ("cs", "csms"):
        group = [j for j in judgements if j.entry.sut == sut]
        if group:
            print(f"{sut}: {sum(j.detected for j in group)} of {len(group)} detected")
    if args.alone:
        pairs = [p for j in judgements for p in j.alone_vs_full.values()]
        print(f"alone vs full run: {len(judgements)} entries, {sum(j.alone_same for j in judgements)}"
              f" the same, {sum(not j.alone_same for j in judgements)} different; intended cases: "
              f"{sum(a == f for a, f in pairs)} of {len(pairs)} the same; BLOCKED in the full "
              f"runs: {sum(len(j.blocked) for j in judgements)} cases in "
              f"{sum(bool(j.blocked) for j in judgements)} entries")
    print(f"{detected} of {len(judgements)} faults detected, {len(bad)} not as catalogued, "
          f"{elapsed:.0f} s" + (f"; wrote {doc}" if doc else ""))
    agreed = agreement is None or agreement.get("ok", False)
    if agreement is not None:
        print(agreement["summary"])
    return 1 if bad or not agreed else 0


async def _campaign_and_agreement(args: argparse.Namespace, entries: list[catalogue.Entry], *,
                                  with_agreement: bool) -> tuple[list[Judgement], dict | None]:
    """The fault runs mostly wait on the simulators; the schema-agreement campaign is CPU work,
    so it runs beside them in its own process."""
    agreement_run = None
    if with_agreement:
        agreement_run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness.fidelity.agreement", "--json", cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    judgements, _ = await campaign(entries, args.workdir, full=args.full, jobs=args.jobs,
                                   progress=lambda j: print(_line(j), flush=True),
                                   alone=args.alone,
                                   every_case=args.every_case if args.alone else 0)
    if agreement_run is None:
        return judgements, None
    out, err = await agreement_run.communicate()
    try:
        result = json.loads(out)
    except ValueError:
        return judgements, {"ok": False, "summary": "schema agreement: the campaign did not "
                            f"finish (exit {agreement_run.returncode}): {err.decode()[-500:]}"}
    return judgements, {"ok": agreement_run.returncode == 0, "summary": result["summary"],
                        "result": result}


if __name__ == "__main__":
    sys.exit(main())
