"""Each case run ALONE against a freshly started implementation, compared with its full-run verdict.

    .venv/bin/python -m interop.run --alone [--jobs N] [--target KEY ...] [-k SELECTION]

For every target (default :data:`DEFAULT_TARGETS`, the independent implementations) the full
suite's report is read from ``--reports``/KEY/report.json (the suite is run first when there is
none, or with ``--full``); then every case whose full-run verdict is not N/A is run on its own,
``pytest testcases -k <case id>``, against a device process started for that run only (the same
launch functions as the full run, :func:`interop.run.run_target`), ``--jobs`` runs at a time, each
with its own ports and report directory (``--reports``/KEY-alone/CASE). A case whose verdict alone
differs from the full run's is either a cascade the harness's Idle state did not clear (a harness
bug) or a behaviour of the implementation, analysed in :data:`interop.analysis.ALONE_ANALYSIS`.

The result replaces the block between :data:`BEGIN` and :data:`END` in docs/interop.md (``make
interop`` keeps the block when it rewrites the rest) and its counts table is printed.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from interop.analysis import ALONE_ANALYSIS

BEGIN = "<!-- alone: begin -->"
END = "<!-- alone: end -->"
DEFAULT_TARGETS = ("cs-ocpp-library", "cs-supervised-ocpp-library", "csms-ocpp-library")
ALONE_TIMEOUT_S = 300.0
"""One case alone; the longest case waits out timeouts of about 60 s, plus two process start-ups."""
SHOWN = ("PASS", "FAIL", "INCONCLUSIVE", "ERROR", "BLOCKED", "N/A")


@dataclass
class AloneResult:
    """One target's full run and its cases run alone."""
    key: str
    full: dict[str, dict]
    """case id -> the full run's case (report.json)."""
    alone: dict[str, dict]
    """case id -> the alone run's case; a run that left no report gets verdict 'no report'."""
    wall_s: float
    """The alone runs' wall time for this target (they overlap with other targets' runs)."""
    full_wall_s: float | None = None
    """The full run's, when known."""
    command: str = ""
    """The command line that ran the alone runs."""

    def different(self) -> list[str]:
        return [i for i, case in self.alone.items() if case["verdict"] != self.full[i]["verdict"]]

    def same_reason(self) -> list[str]:
        """The cases with the same verdict whose reason is the same but for wire-log line
        numbers (an alone run's log starts with the connection's own traffic)."""
        return [i for i, case in self.alone.items() if case["verdict"] == self.full[i]["verdict"]
                and _unnumbered(case.get("reason") or "")
                == _unnumbered(self.full[i].get("reason") or "")]

    def alone_counts(self) -> Counter:
        """The verdicts alone; a case N/A in the full run is not run alone and counts as N/A."""
        out = Counter(case["verdict"] for case in self.alone.values())
        out["N/A"] += sum(1 for i, case in self.full.items()
                          if case["verdict"] == "N/A" and i not in self.alone)
        return out


def _unnumbered(reason: str) -> str:
    return re.sub(r"\blines? \d+(?:(?:, | and |-)\d+)*", "line N", reason)


def to_run(full: dict[str, dict]) -> list[str]:
    """The cases to run alone: every one whose full-run verdict is not N/A, in the run's order."""
    return [case_id for case_id, case in full.items() if case["verdict"] != "N/A"]


def pick(case_id: str, cases: dict[str, dict], output: str) -> dict:
    """The alone run's case from its report, or a stand-in that says why there is none."""
    if case_id in cases:
        case = dict(cases[case_id])
        others = sorted(set(cases) - {case_id})
        if others:  # -k matched more than the case: its verdict still counts, the extra is said
            case["reason"] = f"(the alone run also ran {', '.join(others)}) " + (
                case.get("reason") or "")
        return case
    lines = [line for line in output.splitlines() if line.strip()]
    return {"id": case_id, "verdict": "no report",
            "reason": "the alone run left no result for the case: " + " / ".join(lines[-3:])}


def run_alone(keys: list[str], full: dict[str, dict[str, dict]], reports: Path, *, jobs: int,
              run_case: Callable[[str, str, Path], tuple[float, str]],
              load: Callable[[Path], dict[str, dict]],
              progress: Callable[[str], None] = print) -> dict[str, AloneResult]:
    """Every case of :func:`to_run` of each key, ``jobs`` at a time across all keys.

    ``run_case(key, case_id, report_dir)`` runs one harness run of the case against a freshly
    started device (:func:`interop.run.run_target` with ``select=case_id``)."""
    work = [(key, case_id) for key in keys for case_id in to_run(full[key])]
    spans: dict[str, list[float]] = {}
    for key in keys:  # an earlier alone run's cases must not mix with this one's (collect)
        shutil.rmtree(reports / f"{key}-alone", ignore_errors=True)

    def one(key: str, case_id: str) -> dict:
        directory = reports / f"{key}-alone" / case_id
        started = time.monotonic()
        try:
            _, output = run_case(key, case_id, directory)
        except Exception as exc:  # a device that did not start: this case only
            output = f"{type(exc).__name__}: {exc}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "output.txt").write_text(output[-20000:])
        span = spans.setdefault(key, [started, started])
        span[0], span[1] = min(span[0], started), max(span[1], time.monotonic())
        case = pick(case_id, load(directory), output)
        was = full[key][case_id]["verdict"]
        progress(f"alone {key} {case_id}: {case['verdict']} (full run {was})"
                 + ("" if case["verdict"] == was else "  ** differs **"))
        return case

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {item: pool.submit(one, *item) for item in work}
        done = {item: future.result() for item, future in futures.items()}
    return {key: AloneResult(key, full[key],
                             {case_id: done[(k, case_id)] for (k, case_id) in work if k == key},
                             (lambda s: s[1] - s[0])(spans.get(key, [0.0, 0.0])))
            for key in keys}


def collect(reports: Path, key: str, load: Callable[[Path], dict[str, dict]]) -> AloneResult | None:
    """``key``'s full run and alone runs as the report directories hold them (None without an
    alone run), so the block covers every target run alone so far, not only this invocation's.
    Wall times from the reports' start and end times (whole seconds)."""
    base, full = reports / f"{key}-alone", load(reports / key)
    if not base.is_dir() or not full:
        return None
    alone = {}
    for case_id in to_run(full):
        directory = base / case_id
        if directory.is_dir():
            output = directory / "output.txt"
            alone[case_id] = pick(case_id, load(directory),
                                  output.read_text() if output.is_file() else "")
    if not alone:
        return None
    command = base / "command.txt"
    return AloneResult(key, full, alone, _span(base / c for c in alone), _span([reports / key]),
                       command.read_text().strip() if command.is_file() else "")


def _span(directories: Iterable[Path]) -> float:
    """From the first report's start to the last one's end."""
    starts, ends = [], []
    for directory in directories:
        try:
            data = json.loads((directory / "report.json").read_text())
            starts.append(datetime.fromisoformat(data["started"].replace("Z", "+00:00")))
            ends.append(datetime.fromisoformat(data["finished"].replace("Z", "+00:00")))
        except (OSError, ValueError, KeyError, AttributeError):
            continue
    return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def counts_table(results: dict[str, AloneResult], columns: dict[str, str]) -> list[str]:
    """Full run beside alone run, one pair of columns per target (``columns``: key -> title)."""
    keys = [k for k in columns if k in results]
    head = "| verdict | " + " | ".join(f"{columns[k]}: full run | {columns[k]}: alone"
                                       for k in keys) + " |"
    lines = [head, "|---|" + "---|---|" * len(keys)]
    full = {k: Counter(c["verdict"] for c in results[k].full.values()) for k in keys}
    alone = {k: results[k].alone_counts() for k in keys}
    extra = sorted({v for k in keys for v in (*full[k], *alone[k]) if v not in SHOWN})
    for verdict in (*SHOWN, *extra):
        if verdict in ("ERROR", "BLOCKED") and not any(full[k][verdict] or alone[k][verdict]
                                                       for k in keys):
            continue
        lines.append(f"| {verdict} | " + " | ".join(f"{full[k][verdict]} | {alone[k][verdict]}"
                                                    for k in keys) + " |")
    lines.append("| run alone / same / different | " + " | ".join(
        f"{len(results[k].full)} cases | {len(results[k].alone)} / "
        f"{len(results[k].alone) - len(results[k].different())} / {len(results[k].different())}"
        for k in keys) + " |")
    lines.append("| same reason (wire-log line numbers aside) | " + " | ".join(
        f" | {len(results[k].same_reason())} of {len(results[k].alone)}" for k in keys) + " |")
    lines.append("| wall time | " + " | ".join(
        (f"{results[k].full_wall_s:.0f} s" if results[k].full_wall_s is not None else "(earlier)")
        + f" | {results[k].wall_s:.0f} s" for k in keys) + " |")
    return lines


def block(results: dict[str, AloneResult], suites: dict[str, dict[str, str]]) -> str:
    """The docs/interop.md block: ``suites``: suite title -> {key: column title}."""
    lines = [BEGIN, "", "## Each case alone against a freshly started implementation", "",
             "<!-- section: alone -->", "",
             "Written by `python -m interop.run --alone` (`interop/alone.py`) from the report "
             "directories of every target run alone so far (each target's command below). Wall "
             "times in the tables: from the first report's start to the last one's end (targets "
             "run together overlap). Every case whose full-run verdict is not N/A was run on its own "
             "(`pytest testcases -k <case id>`) against a device process started for that run "
             "only, and its verdict compared with the full run's. In the alone column a case N/A "
             "in the full run is not run and counts as N/A. A difference is a cascade the Idle "
             "state did not clear (a harness bug) or a behaviour of the implementation "
             "(`interop/analysis.py`, ALONE_ANALYSIS).", ""]
    for title, columns in suites.items():
        if not any(k in results for k in columns):
            continue
        lines += [f"### {title}", ""] + counts_table(results, columns) + [""]
    for title, columns in suites.items():
        for key, column in columns.items():
            if key not in results:
                continue
            result = results[key]
            different = result.different()
            lines += [f"### {column if column == key else f'{column} (`{key}`)'}: {len(result.alone)} cases run alone, "
                      f"{len(result.alone) - len(different)} with the full run's verdict, "
                      f"{len(different)} different", ""]
            if result.command:
                lines += [f"Run by `{result.command}`; {len(result.same_reason())} of "
                          f"{len(result.alone)} with the same reason too (wire-log line numbers "
                          "aside).", ""]
            if not different:
                lines += ["Every case has the same verdict alone as in the full run.", ""]
            for case_id in different:
                full, alone = result.full[case_id], result.alone[case_id]
                kind, analysis = ALONE_ANALYSIS.get(
                    (key, case_id), ALONE_ANALYSIS.get(("*", case_id),
                                                       ("not analysed", "No analysis written yet.")))
                lines += [f"#### {case_id}: full run {full['verdict']}, alone {alone['verdict']}",
                          "", f"- Reason (alone): {_cell(alone.get('reason') or '(none)')[:900]}"]
                if full.get("reason"):
                    lines.append(f"- Reason (full run): {_cell(full['reason'])[:600]}")
                lines += [f"- Classification: **{kind}**", f"- Analysis: {analysis}", ""]
    lines.append(END)
    return "\n".join(lines) + "\n"


def kept_block(text: str) -> str:
    """The alone block of an existing document ('' when it has none), for a rewrite to keep."""
    start, end = text.find(BEGIN), text.find(END)
    return text[start:end + len(END)] + "\n" if 0 <= start < end else ""


def with_block(text: str, new: str, before: str) -> str:
    """``text`` with its alone block replaced by ``new`` (inserted before ``before`` if none)."""
    start, end = text.find(BEGIN), text.find(END)
    if 0 <= start < end:
        return text[:start] + new + "\n" + text[end + len(END):].lstrip("\n")
    if not text.strip():
        return new
    at = text.find(before) if before else -1
    if at < 0:
        return text.rstrip() + "\n\n" + new
    return text[:at] + new + "\n" + text[at:]


def _complete(report_dir: Path) -> bool:
    try:
        return bool(json.loads((report_dir / "report.json").read_text()).get("complete"))
    except (OSError, ValueError):
        return False


def main(keys: list[str], reports: Path, doc: Path, *, jobs: int, rerun_full: bool, command: str,
         notes_heading: str, run_full: Callable,
         run_case: Callable[[str, str, Path], tuple[float, str]],
         load: Callable[[Path], dict[str, dict]], suites: dict[str, dict[str, str]]) -> int:
    """``--alone``: the full runs that are missing (or all, ``rerun_full``), then the alone runs;
    the block written into ``doc`` and its tables printed. ``run_full(keys)``: key -> (wall
    seconds, output), as :func:`interop.run.run_all`."""
    started = time.monotonic()
    missing = [k for k in keys if rerun_full or not load(reports / k)]
    if missing:
        print(f"full runs first: {', '.join(missing)}", flush=True)
        for key, (_, output) in run_full(missing).items():
            if not load(reports / key):
                print(f"{key}: the full run left no report.json:\n{output[-3000:]}")
                return 2
    partial = [k for k in keys if not _complete(reports / k)]
    if partial:  # a killed run's report.json holds the cases up to where it stopped
        print(f"the full run's report is incomplete (run it again, --full): {', '.join(partial)}")
        return 2
    full = {k: load(reports / k) for k in keys}
    run_alone(keys, full, reports, jobs=jobs, run_case=run_case, load=load,
              progress=lambda line: print(line, flush=True))
    for key in keys:
        (reports / f"{key}-alone" / "command.txt").write_text(
            command + ("" if "--jobs" in command else f" (--jobs {jobs})") + "\n")
    wall = time.monotonic() - started
    results = {k: r for columns in suites.values() for k in columns
               if (r := collect(reports, k, load)) is not None}
    new = block(results, suites)
    text = doc.read_text() if doc.is_file() else ""
    doc.write_text(with_block(text, new, notes_heading))
    for title, columns in suites.items():
        if any(k in results for k in columns):
            print(f"\n{title}\n" + "\n".join(counts_table(results, columns)))
    ran = (f"{sum(len(to_run(full[k])) for k in keys)} cases of {', '.join(keys)} run alone in "
           f"{wall:.0f} s (with the full runs)" if keys else "rebuilt from the report directories")
    print(f"\nalone: {ran}; different, over every target in the block: "
          f"{sum(len(r.different()) for r in results.values())}; written: {doc}")
    return 0
