"""Command line: ``python -m harness <command>`` (also the ``ocpp-harness`` console script).

Commands:
  validate LOG... [--json] [--jobs N] [--from cp|csms]
                                re-judge every frame of logs (DESIGN 2.7; formats: harness.offline).
                                Exit 0: no finding but remarks (harness/severity.py); 1: findings
                                that are violations; 2: a log cannot be read, is empty or is not a
                                log.
  pics PICS.toml                check a PICS file and summarise it. Exit 0: usable; 2: not.
  pics discover --listen HOST:PORT [--id ID] [-o draft.toml]
  pics discover --csms-url URL --id ID [-o draft.toml]
                                draft a PICS from the device itself (harness.discover). Exit 0: a
                                draft written; 3: nothing to draft; 4: the set-up is wrong.
  report DIR --pdf summary|full write DIR/report.pdf again from DIR/report.json (headless
                                Chromium). Exit 0: written; 2: no report.json or no PDF made.
  load --csms-url URL --users N --time T --report DIR [--scenario steady|boot-storm] ...
                                a swarm of charge points (Locust) against a CSMS on loopback,
                                judged against service objectives (harness.load). Exit 0: PASS;
                                1: FAIL; 3: INCONCLUSIVE; 4: the set-up is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from typing import Any

import orjson

from harness import offline
from harness.offline import Reported  # noqa: F401 - part of this module's face since 2.7

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


def _summary(frames: int, findings: int, remarks: int) -> str:
    return (f"{frames} frame{'s' * (frames != 1)}, {findings} finding{'s' * (findings != 1)}"
            + (f" ({remarks} remark{'s' * (remarks != 1)})" if remarks else ""))


def _remarks(found: list[Reported]) -> int:
    return sum(1 for r in found if r.finding.is_remark)


def _document(result: offline.Result) -> dict[str, Any]:
    found = result.findings
    return {"log": result.log, "format": result.format,
            "findings": [r.to_json() for r in found],
            "totals": {"frames": result.frames, "findings": len(found),
                       "remarks": _remarks(found),
                       "by_rule": dict(sorted(Counter(r.finding.rule for r in found).items()))}}


def _validate(args: argparse.Namespace) -> int:
    paths = offline.expand(args.logs)
    jobs = args.jobs or os.cpu_count() or 1
    single = len(paths) == 1
    frames = findings = remarks = unusable = 0
    documents = []
    for result in offline.judge_logs(paths, jobs, args.sender):
        if result.error is not None:
            unusable += 1
            print(f"harness validate: {result.error}", file=sys.stderr)
            if args.json and not single:
                documents.append({"log": result.log, "error": result.error})
            continue
        frames += result.frames
        findings += len(result.findings)
        remarks += _remarks(result.findings)
        if args.json:
            documents.append(_document(result))
            continue
        sys.stdout.write("".join(r.text(result.log) + "\n" for r in result.findings))
        summary = _summary(result.frames, len(result.findings), _remarks(result.findings))
        print(summary if single else f"{result.log}: {summary}")
    if args.json:
        if single:
            if documents:
                sys.stdout.write(orjson.dumps(documents[0], option=orjson.OPT_INDENT_2).decode()
                                 + "\n")
        else:
            document = {"logs": documents, "totals": {
                "logs": len(paths), "unusable": unusable, "frames": frames,
                "findings": findings, "remarks": remarks}}
            sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif not single:
        print(f"{len(paths)} logs ({unusable} unusable), {_summary(frames, findings, remarks)}")
    if unusable:
        return EXIT_UNUSABLE
    return EXIT_FINDINGS if findings > remarks else EXIT_OK


def _pics(args: argparse.Namespace) -> int:
    from harness import pics as pics_mod  # here: `validate` starts without it (tomllib and more)

    try:
        p = pics_mod.load(args.pics)
    except pics_mod.PicsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"{p.source}: sut {p.dut.sut}, {p.dut.vendor} {p.dut.model} {p.dut.firmware_version}, "
          f"identity {p.dut.charge_point_id}")
    print(f"  profiles: {', '.join(p.features.profiles)}; connectors: {p.features.connectors}; "
          f"security profile {p.security.profile}; {len(p.configuration)} configuration keys")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.report import pdf

    directory = Path(args.directory)
    source = directory / "report.json"
    try:
        data = orjson.loads(source.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"harness report: {source}: {reason}", file=sys.stderr)
        return EXIT_UNUSABLE
    made = pdf.write_reporting(data, directory, args.pdf, print)
    return EXIT_OK if made is not None else EXIT_UNUSABLE


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size tells it, without importing shutil (with
    bz2 and lzma: 1.4 ms of every start-up, as argparse's formatter imports it per argument)."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Help(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _RawHelp(_Help, argparse.RawDescriptionHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness", formatter_class=_Help, description="OCPP 1.6J conformance harness tools. The test "
        "suite itself runs under pytest (see `pytest --help`, options --ocpp-*).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    v = commands.add_parser(
        "validate", help="re-judge every frame of logs (exit 1 on violations)",
        formatter_class=_RawHelp,
        description="Check every frame of one or more logs against the OCPP 1.6 schemas and the "
        "OCPP-J RPC rules, pairing each CALLRESULT with its CALL by uniqueId.\n\n"
        "Logs: this harness's wire logs (reports/wire/*.jsonl), JSON Lines of bare OCPP-J "
        "frames or {\"from\": \"cp\"|\"csms\", \"frame\": [...]} objects, the logging "
        "lines of the Python ocpp library (\"CP_1: receive message [...]\", \"CP_1: send "
        "[...]\") and SteVe's WebSocketLogger lines (\"[chargeBoxId=.., sessionId=..] "
        "Received: [...]\"); gzip or not; files, folders and globs. A corrupt line is a "
        "finding of that line (rule log.line).\n\n"
        "Exit 0: no finding, or remarks only; 1: findings that are violations; 2: a log cannot "
        "be read, is empty or is not a log.")
    v.add_argument("logs", nargs="+", metavar="LOG",
                   help="a log file (gzip or not), a folder of logs, or a glob")
    v.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    v.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="processes to judge with (0: one per CPU); a large JSON Lines log is cut "
                   "into ranges, the output is the same as with 1 (default 1)")
    v.add_argument("--from", dest="sender", choices=("cp", "csms"),
                   help="the sender of JSON Lines frames that do not name one (default: inferred "
                   "from the action, or from the CALL an answer names)")
    v.set_defaults(run=_validate)
    p = commands.add_parser("pics", help="check a PICS file (exit 2 if it is not usable)",
                            formatter_class=_Help,
                            description="Load and check a PICS TOML file; print every problem, "
                            "naming the key, or a summary. `python -m harness pics discover "
                            "--help`: draft a PICS from the device itself.")
    p.add_argument("pics", metavar="PICS.toml")
    p.set_defaults(run=_pics)
    r = commands.add_parser("report", help="write report.pdf again from a run's report.json",
                            formatter_class=_Help,
                            description="Render DIR/report.pdf from DIR/report.json (and the "
                            "wire logs it names) with headless Chromium: summary = the "
                            "certificate-like abstract, full = summary and an annex of the "
                            "evidence. Exit 0: written; 2: no readable report.json, or no PDF.")
    r.add_argument("directory", metavar="DIR", help="a report directory (--ocpp-report)")
    # `--pdf` alone (as a newcomer types it after --ocpp-pdf) means the summary: it used to stop
    # on 'expected one argument'.
    r.add_argument("--pdf", choices=("summary", "full"), nargs="?", const="summary",
                   default="summary", help="summary (the default, also for a bare --pdf) or full")
    r.set_defaults(run=_report)
    return parser


def _load(argv: list[str]) -> int:
    """Locust monkey-patches the standard library (gevent) when imported: the run gets a process
    of its own, this one stays as it is."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("locust") is None or importlib.util.find_spec("websocket") is None:
        print("harness load: Locust is not installed: pip install -e '.[load]'", file=sys.stderr)
        return 4
    return subprocess.call([sys.executable, "-m", "harness.load", *argv])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["load"]:
        return _load(argv[1:])
    if argv[:2] == ["pics", "discover"]:  # a PICS file named so is ./discover
        from harness import discover
        return discover.main(argv[2:])
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    code = main()
    if sys.argv[1:2] == ["validate"]:
        # A one-shot command whose every output went through sys.stdout / sys.stderr: flushed,
        # the interpreter's teardown (freeing every module's objects) is skipped. It cost ~6 ms
        # of CPU, a tenth of validate's start-up (62 -> 56 ms measured), on the critical path
        # of --jobs too, as the parent ends last.
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            pass  # the reader left (| head): nothing more to tell it
        os._exit(code)
    sys.exit(code)
