"""Command line: ``python -m harness <command>`` (also the ``ocpp-harness`` console script).

Commands:
  validate LOG.jsonl [--json]   re-judge every frame of a wire log (DESIGN 2.7). Exit 0: no finding
                                but remarks (harness/severity.py); 1: findings that are violations;
                                2: the file cannot be read or is not a wire log.
  pics PICS.toml                check a PICS file and summarise it. Exit 0: usable; 2: not.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from harness import pics as pics_mod
from harness import wirelog
from harness.findings import Finding

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Reported:
    """A finding placed in the log: the line of the frame that broke the rule."""
    line: int
    sender: str
    action: str | None
    unique_id: str | None
    finding: Finding

    def text(self, log: str) -> str:
        kind = " (remark)" if self.finding.is_remark else ""
        return (f"{log}:{self.line}: {self.sender} {self.action or '?'} {self.finding.path}: "
                f"{self.finding.message} [{self.finding.rule}]{kind}")

    def to_json(self) -> dict:
        return {"line": self.line, "from": self.sender, "action": self.action,
                "uniqueId": self.unique_id, **self.finding.to_json()}


def judge(lines: list[wirelog.LogLine]) -> tuple[int, list[Reported]]:
    """Re-judge the frames of a wire log. Returns (number of frames, findings): the frames' findings
    in line order, then the CALLs never answered (rule ``rpc.unanswered``)."""
    # Imported here so that `--help` and `pics` work even where validation cannot load.
    from harness.protocol import Checker
    from harness.validation import Validator

    validator = Validator.default()
    reported: list[Reported] = []
    unanswered: list[Reported] = []
    frames = 0
    checker = Checker(validator)
    # (sender, uniqueId) -> (the pending Call, its line). Read back from checker.pending rather than
    # from the frame, because the Checker may also hold a CALL it could not fully parse.
    calls: dict[tuple[str, str], tuple[Any, int]] = {}

    def end_connection(why: str) -> None:
        for (sender, unique_id), call in checker.pending.items():
            unanswered.append(Reported(
                calls.get((sender, unique_id), (None, 0))[1], sender, call.action, unique_id,
                Finding("rpc.unanswered", "frame",
                        f"CALL {call.action} {unique_id!r} was never answered ({why})", unique_id)))

    for entry in lines:
        if entry.event in ("connected", "closed"):
            # uniqueIds and pending calls belong to one WebSocket connection (OCPP-J 4.1.3), so a
            # reconnect (a reboot, say) starts afresh and what was pending stays unanswered.
            what = "a new connection began" if entry.event == "connected" else \
                "the connection closed"
            end_connection(f"{what} at line {entry.line}")
            checker, calls = Checker(validator), {}
            continue
        if not entry.is_frame:
            continue
        frames += 1
        checked = checker.check(entry.sender, entry.text)
        key = (entry.sender, checked.unique_id)
        pending = checker.pending.get(key)
        if pending is not None and calls.get(key, (None,))[0] is not pending:
            calls[key] = (pending, entry.line)
        for finding in checked.findings:
            reported.append(Reported(entry.line, entry.sender, checked.action, checked.unique_id,
                                     finding))
    end_connection("the log ends")
    unanswered.sort(key=lambda r: r.line)
    return frames, reported + unanswered


def _validate(args: argparse.Namespace) -> int:
    try:
        lines = list(wirelog.read(args.log))
    except wirelog.WireLogError as exc:
        print(f"harness validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    frames, found = judge(lines)
    if args.json:
        document: dict[str, Any] = {
            "log": args.log,
            "findings": [r.to_json() for r in found],
            "totals": {"frames": frames, "findings": len(found),
                       "remarks": sum(1 for r in found if r.finding.is_remark),
                       "by_rule": dict(sorted(Counter(r.finding.rule for r in found).items()))},
        }
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for r in found:
            print(r.text(args.log))
        remarks = sum(1 for r in found if r.finding.is_remark)
        print(f"{frames} frame{'s' * (frames != 1)}, {len(found)} finding{'s' * (len(found) != 1)}"
              + (f" ({remarks} remark{'s' * (remarks != 1)})" if remarks else ""))
    return EXIT_FINDINGS if any(not r.finding.is_remark for r in found) else EXIT_OK


def _pics(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness", description="OCPP 1.6J conformance harness tools. The test "
        "suite itself runs under pytest (see `pytest --help`, options --ocpp-*).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    v = commands.add_parser(
        "validate", help="re-judge every frame of a wire log (exit 1 on violations)",
        description="Check every frame of a wire log against the OCPP 1.6 schemas and the OCPP-J "
        "RPC rules, pairing each CALLRESULT with its CALL by uniqueId. Exit 0: no finding; "
        "1: findings that are violations (remarks alone exit 0); 2: the file cannot be read or "
        "is not a wire log.")
    v.add_argument("log", metavar="LOG.jsonl", help="a wire log (reports/wire/<TEST_CASE>.jsonl)")
    v.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    v.set_defaults(run=_validate)
    p = commands.add_parser("pics", help="check a PICS file (exit 2 if it is not usable)",
                            description="Load and check a PICS TOML file; print every problem, "
                            "naming the key, or a summary.")
    p.add_argument("pics", metavar="PICS.toml")
    p.set_defaults(run=_pics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
