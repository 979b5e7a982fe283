"""Schema verdicts against an independent judge, on generated frames (issue 7's agreement figure).

The frames: for each of the 156 schemas (78 actions, request and response), payloads drawn with
hypothesis-jsonschema (``harness.fidelity.frames``), each sent as the OCPP-J frame its sender would
write (a CALL, or a CALLRESULT answering a CALL of the other side), and besides each valid payload:

* the same payload with every decimal respelled (``7.3`` as ``73E-1``, ``7.30``): still valid,
  and a float reading of ``73E-1`` is not a multiple of 0.1;
* single mutations of it (a required member dropped, a wrong type, an enum value changed, a string
  one too long, a broken date-time or URI, an unknown member, a limit off the 0.1 grid).

Ours: ``harness.protocol.Checker`` on the frame's text, exactly as the live session judges a device.
The judge: the OCA's own files (the ``ocpp`` package's copies) with ``schemas/ERRATA.md`` applied,
``jsonschema.Draft4Validator``, numbers read as exact decimals, date-times and URIs by the oracle in
``harness.fidelity.frames``. Agreement means the same verdict, valid or not.

Remarks (``harness.severity``: the finding of ERRATA row S1, an integral number as an integer in a
security message under row D1) count as findings here, because the judge applies every row too:
both read the same schema. Which findings FAIL a case is decided after, per row, by
``harness.severity``; the campaign proves that the findings themselves are the OCA's + errata.

    python -m harness.fidelity.agreement [--per-schema 128] [--mutations 40] [--json]

Needs the test extra (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, Phase, given, settings

from harness import rpc
from harness.fidelity.errata import apply_errata, load_errata
from harness.fidelity.frames import (EXACT, FORMAT_CHECKER, SCHEMAS, mutations, payloads,
                                     resolved)
from harness.protocol import Checker

TARGET_FRAMES = 100_000


@cache
def _official_dir() -> Path:
    import ocpp  # test extra; the OCA's files as the package ships them
    return Path(ocpp.__file__).resolve().parent / "v16" / "schemas"


@cache
def judge(action: str, response: bool) -> jsonschema.Draft4Validator:
    """The official schema with the errata applied, numbers as exact decimals."""
    name = f"{action}{'Response' if response else ''}.json"
    official = json.loads((_official_dir() / name).read_text(encoding="utf-8"),
                          parse_float=Decimal)
    schema = apply_errata(name, official, _errata())
    return jsonschema.Draft4Validator(schema, format_checker=FORMAT_CHECKER)


@cache
def _errata():
    return load_errata()


# --- writing frames as a device would ---------------------------------------------------------

def _number(value: Decimal, respell: bool) -> str:
    if not respell:
        return str(value)
    sign, digits, exponent = value.as_tuple()
    if exponent >= 0 or not digits:
        return str(value) if "." in str(value) else f"{value}.0"
    # 7.3 -> 73E-1: the same number, in a spelling a float reading turns into 7.300000000000001
    return f"{'-' if sign else ''}{''.join(map(str, digits))}E{exponent}"


def dumps(value: Any, respell: bool = False) -> str:
    """JSON text with Decimals written as the exact numbers they are."""
    if isinstance(value, Decimal):
        return _number(value, respell)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v, respell)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v, respell) for v in value) + "]"
    return json.dumps(value)


def _has_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(map(_has_decimal, value.values()))
    return isinstance(value, list) and any(map(_has_decimal, value))


def _sender(action: str, response: bool) -> str:
    caller = "cp" if action in rpc.CP_ACTIONS else "csms"
    return ("csms" if caller == "cp" else "cp") if response else caller


# --- the campaign -------------------------------------------------------------------------------

@dataclass
class Disagreement:
    schema: str
    kind: str
    frame: str
    ours: list[str]
    judge: list[str]


@dataclass
class Agreement:
    frames: int = 0
    agreed: int = 0
    valid: int = 0
    """Frames the judge found valid."""
    by_kind: dict[str, int] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def percent(self) -> float:
        return 100.0 * self.agreed / self.frames if self.frames else 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(self.by_kind.items()))
        return (f"schema agreement with the official OCA schemas + errata: {self.agreed:,}/"
                f"{self.frames:,} frames ({self.percent:.3f}%); {self.valid:,} valid, "
                f"{self.frames - self.valid:,} invalid by the judge; {kinds}; "
                f"{len(self.disagreements)} disagreements; {self.seconds:.0f} s")

    def to_json(self) -> dict:
        return {"frames": self.frames, "agreed": self.agreed, "percent": self.percent,
                "valid": self.valid, "by_kind": self.by_kind, "seconds": self.seconds,
                "disagreements": [d.__dict__ for d in self.disagreements]}


class _Campaign:
    def __init__(self) -> None:
        self.checker = Checker()
        self.result = Agreement()
        self._ids = 0

    def frame(self, key: tuple[str, bool], kind: str, payload: Any, respell: bool = False) -> None:
        action, response = key
        self._ids += 1
        uid = f"a{self._ids}"
        body = dumps(payload, respell)
        sender = _sender(action, response)
        if response:
            caller = "csms" if sender == "cp" else "cp"
            self.checker.pending[(caller, uid)] = rpc.Call(uid, action, {})
            text = f'[3,"{uid}",{body}]'
        else:
            text = f'[2,"{uid}","{action}",{body}]'
        ours = self.checker.check(sender, text).findings
        with localcontext(EXACT):  # jsonschema's Decimal % Decimal, exact for any size
            theirs = list(judge(*key).iter_errors(
                json.loads(text, parse_float=Decimal)[2 if response else 3]))
        result = self.result
        result.frames += 1
        result.by_kind[kind] = result.by_kind.get(kind, 0) + 1
        result.valid += not theirs
        if bool(ours) == bool(theirs):
            result.agreed += 1
        else:
            result.disagreements.append(Disagreement(
                f"{action}{'Response' if response else ''}", kind, text,
                [f"{f.rule} at {f.path}" for f in ours],
                [f"{e.validator} at {list(e.absolute_path)}: {e.message}" for e in theirs]))


def draw(key: tuple[str, bool], n: int) -> list[Any]:
    """Up to n payloads of one schema (fewer when the schema admits fewer), reproducibly."""
    drawn: list[Any] = []

    @settings(max_examples=n, database=None, derandomize=True, deadline=None,
              phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
    @given(payloads(key))
    def collect(payload):
        drawn.append(payload)
    collect()
    return drawn


def run(per_schema: int = 128, max_mutations: int = 40, seed: int = 16,
        progress: Any = None) -> Agreement:
    started = time.monotonic()
    campaign, rng = _Campaign(), random.Random(seed)
    for number, key in enumerate(SCHEMAS, 1):
        schema = resolved(*key)
        for payload in draw(key, per_schema):
            campaign.frame(key, "valid", payload)
            if _has_decimal(payload):
                campaign.frame(key, "respelled", payload, respell=True)
            count = len(list(mutations(schema, _copy(payload))))
            for i in rng.sample(range(count), min(count, max_mutations)):
                mutated = _copy(payload)
                _, _, apply = list(mutations(schema, mutated))[i]
                apply()
                campaign.frame(key, "mutated", mutated)
        if progress:
            progress(f"{number}/{len(SCHEMAS)} schemas, {campaign.result.frames:,} frames")
    campaign.result.seconds = time.monotonic() - started
    return campaign.result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.fidelity.agreement",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-schema", type=int, default=128,
                        help="payloads drawn per schema, at most (default 128; small schemas "
                             "admit fewer)")
    parser.add_argument("--mutations", type=int, default=40,
                        help="mutations tried per payload, at most (default 40)")
    parser.add_argument("--min-frames", type=int, default=TARGET_FRAMES,
                        help=f"fail when fewer frames were judged (default {TARGET_FRAMES:,})")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args.per_schema, args.mutations,
                 progress=None if args.json else lambda s: print(f"  {s}", file=sys.stderr))
    if args.json:
        print(json.dumps(result.to_json() | {"summary": result.summary()}, indent=2))
    else:
        for d in result.disagreements[:20]:
            print(f"DISAGREE {d.schema} ({d.kind}): {d.frame}\n  ours: {d.ours}\n"
                  f"  judge: {d.judge}")
        print(result.summary())
        if result.frames < args.min_frames:
            print(f"too few frames: {result.frames:,} < {args.min_frames:,}")
    return 0 if not result.disagreements and result.frames >= args.min_frames else 1


if __name__ == "__main__":
    sys.exit(main())
