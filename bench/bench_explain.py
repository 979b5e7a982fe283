"""The cost of explaining an invalid frame beside validating a valid one, on the largest frames of
the realistic trace (bench_validation.py): StopTransaction with transactionData, GetConfiguration.conf
and SetChargingProfile, each broken once in a few ways (an enum, a date-time, a missing property, a
type, a maxLength, an extra property, a multipleOf). A measurement, not a test: it always exits 0.

    .venv/bin/python bench/bench_explain.py

Two levels: the schema alone (`Validator.validate`: the compiled check, then, when it says no,
the walk that finds every rule broken with its path and message) and the whole judgement of the
frame as `python -m harness validate` makes it (`Checker.check_valid` on the parsed frame, and
where it declines `Checker.check_array`, with the exact re-read of the line when one is due). Each
figure is the best of 5 rounds of many calls, after one warm-up call (the first explanation of a
schema node compiles that node's fast check, once per process: its cost is printed apart).
Target: an invalid frame costs at most ~10x a valid one.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

import orjson

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from bench_validation import Trace  # noqa: E402

from harness import offline  # noqa: E402
from harness.protocol import Checker  # noqa: E402
from harness.validation import Validator  # noqa: E402

TARGET = 10.0


def frames() -> dict[str, tuple[str, list, bool]]:
    trace = Trace()
    trace.boot()
    trace.session(1)
    arrays = [(sender, orjson.loads(text)) for sender, text in trace.frames]

    def call(action: str) -> int:
        return next(i for i, (_, a) in enumerate(arrays) if a[0] == 2 and a[2] == action)

    stop, conf, profile = call("StopTransaction"), call("GetConfiguration"), call("SetChargingProfile")
    return {"StopTransaction": (*arrays[stop], False),
            "GetConfiguration": (*arrays[conf + 1], True),
            "SetChargingProfile": (*arrays[profile], False)}


def broken(action: str, payload: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def variant(name: str, change) -> None:
        p = copy.deepcopy(payload)
        change(p)
        out[name] = p

    if action == "StopTransaction":
        variant("enum (unit 'Amps')",
                lambda p: p["transactionData"][1]["sampledValue"][3].update(unit="Amps"))
        variant("date-time (Feb 30)",
                lambda p: p["transactionData"][0].update(timestamp="2025-02-30T10:00:00Z"))
        variant("required (meterStop)", lambda p: p.pop("meterStop"))
        variant("type (meterStop '12')", lambda p: p.update(meterStop="12"))
    elif action == "GetConfiguration":
        variant("type (readonly 'yes')", lambda p: p["configurationKey"][5].update(readonly="yes"))
        variant("maxLength (value)", lambda p: p["configurationKey"][3].update(value="x" * 600))
        variant("additionalProperties", lambda p: p["configurationKey"][2].update(extra=1))
    else:
        periods = ["csChargingProfiles", "chargingSchedule", "chargingSchedulePeriod"]
        variant("multipleOf (7.15)", lambda p: p[periods[0]][periods[1]][periods[2]][1].update(
            limit=7.15))
        variant("enum (TxProfil)", lambda p: p[periods[0]].update(chargingProfilePurpose="TxProfil"))
    return out


def paired(valid, invalid, calls: int, rounds: int = 9) -> tuple[float, float]:
    """Seconds per call of ``valid`` and of ``invalid``, each the best of ``rounds`` rounds, the
    rounds of the two interleaved so that a busy spell of the machine hits both alike. CPU time of
    this process (time.process_time), so that the time it waits for a core does not count."""
    valid(), invalid()
    best_valid = best_invalid = float("inf")
    for _ in range(rounds):
        for fn, which in ((valid, 0), (invalid, 1)):
            start = time.process_time()
            for _ in range(calls):
                fn()
            took = (time.process_time() - start) / calls
            if which == 0:
                best_valid = min(best_valid, took)
            else:
                best_invalid = min(best_invalid, took)
    return best_valid, best_invalid


def judge(sender: str, array: list) -> None:
    """What `python -m harness validate` does with one wire-log line of this frame."""
    line = orjson.dumps({"ts": "2025-03-01T06:00:00.000Z", "mono": 1.0, "from": sender,
                         "frame": array})
    checker = Checker()
    if array[0] == 3:  # an answer is judged against its call: make that call outstanding
        from harness.rpc import Call
        checker.pending[("csms", array[1])] = Call(array[1], "GetConfiguration", {})
    if checker.check_valid(sender, array, line) is None:  # the hot path declines: explain
        checker.check_array(sender, array, None, offline._exact_line, line)


def main() -> int:
    validator = Validator.default()
    worst = 0.0
    print(f"{'frame / broken by':44s} {'schema: valid -> invalid':>25s} "
          f"{'whole frame: valid -> invalid':>29s}  first call")
    for action, (sender, array, response) in frames().items():
        payload = array[2] if response else array[3]
        size = len(orjson.dumps(payload))
        print(f"{action + ('.conf' if response else '.req') + f' valid ({size} bytes)':44s}")
        for name, bad in broken(action, payload).items():
            assert validator.validate(action, response, bad), name
            bad_array = [*array[:-1], bad]
            start = time.process_time()
            validator.validate(action, response, bad)
            first = time.process_time() - start
            ok, cost = paired(lambda: validator.validate(action, response, payload),
                              lambda: validator.validate(action, response, bad), 400)
            ok_frame, cost_frame = paired(lambda: judge(sender, array),
                                          lambda: judge(sender, bad_array), 300)
            worst = max(worst, cost / ok, cost_frame / ok_frame)
            print(f"  {name:42s} {ok * 1e6:5.1f} -> {cost * 1e6:6.1f}us {cost / ok:5.1f}x "
                  f"{ok_frame * 1e6:5.1f} -> {cost_frame * 1e6:6.1f}us {cost_frame / ok_frame:5.1f}x"
                  f"  {first * 1e6:7.0f}us")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"worst ratio {worst:.1f}x (target <= ~{TARGET:.0f}x): "
          f"{'met' if worst <= TARGET * 1.05 else 'NOT met'}; load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
