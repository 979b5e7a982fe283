"""Offline validation throughput: frames/s through the whole path harness.protocol.Checker().check()
(JSON parse, framing, pairing, schema validation), next to the PyPI `ocpp` library's own
unpack + validate_payload on the same frames. A measurement, not a test: it always exits 0.

    .venv/bin/python bench/bench_validation.py [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.protocol import Checker  # noqa: E402

TARGET = 150_000  # frames/s, one core
CONFIGURATION_KEYS = [
    "HeartbeatInterval", "MeterValueSampleInterval", "MeterValuesSampledData",
    "ClockAlignedDataInterval", "ConnectionTimeOut", "LocalPreAuthorize",
    "AuthorizeRemoteTxRequests", "NumberOfConnectors", "StopTransactionOnEVSideDisconnect",
    "SupportedFeatureProfiles", "WebSocketPingInterval", "ChargeProfileMaxStackLevel"]
# What a three-phase AC charger samples: (measurand, unit, phase).
SAMPLED = [("Energy.Active.Import.Register", "Wh", None), ("Power.Active.Import", "W", None),
           ("Current.Import", "A", "L1"), ("Current.Import", "A", "L2"),
           ("Current.Import", "A", "L3"), ("Voltage", "V", "L1-N"), ("SoC", "Percent", None)]


class Trace:
    """The frames of one charge point's connection, in wire order, as (sender, text): boot,
    configuration, then charging sessions with periodic meter values and a charging profile."""

    def __init__(self, seed: int = 16):
        self.rng = random.Random(seed)
        self.clock = datetime(2025, 3, 1, 6, 0, tzinfo=timezone.utc)
        self.frames: list[tuple[str, str]] = []
        self.energy = 1_250_000
        self.transaction = 1000

    def now(self, step_s: float = 10) -> str:
        self.clock += timedelta(seconds=step_s)
        return self.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def exchange(self, sender: str, action: str, request: dict, response: dict) -> None:
        uid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        other = "csms" if sender == "cp" else "cp"
        # orjson writes a float such as 7.4 as its shortest text, as a device writes it.
        self.frames.append((sender, orjson.dumps([2, uid, action, request]).decode()))
        self.frames.append((other, orjson.dumps([3, uid, response]).decode()))

    def id_tag_info(self) -> dict:
        return {"status": "Accepted", "expiryDate": self.now(0)[:11] + "23:59:59.000Z",
                "parentIdTag": "FLEET-07"}

    def status(self, connector: int, status: str) -> None:
        self.exchange("cp", "StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                                   "status": status, "timestamp": self.now(1)}, {})

    def boot(self) -> None:
        self.exchange("cp", "BootNotification", {
            "chargePointVendor": "Acme", "chargePointModel": "AC22-T2", "meterType": "EM340",
            "chargePointSerialNumber": "ACM2201-0042", "firmwareVersion": "3.2.1",
            "iccid": "8931080019073183445"},
            {"status": "Accepted", "currentTime": self.now(1), "interval": 300})
        for connector in (0, 1, 2):
            self.status(connector, "Available")
        keys = [{"key": key, "readonly": i % 3 == 0, "value": str(i * 7)}
                for i, key in enumerate(CONFIGURATION_KEYS)]
        self.exchange("csms", "GetConfiguration", {}, {"configurationKey": keys, "unknownKey": []})
        self.exchange("csms", "ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                      "value": "60"}, {"status": "Accepted"})

    def sampled(self, context: str) -> list[dict]:
        self.energy += self.rng.randint(150, 400)
        amps = [round(self.rng.uniform(14, 16), 1) for _ in range(3)]
        values = [self.energy, round(sum(amps) * 230), *amps,
                  round(self.rng.uniform(228, 233), 1), self.rng.randint(20, 95)]
        out = []
        for (measurand, unit, phase), value in zip(SAMPLED, values):
            sample = {"value": str(value), "context": context, "format": "Raw",
                      "measurand": measurand, "location": "Outlet", "unit": unit}
            if phase:
                sample["phase"] = phase
            out.append(sample)
        return out

    def charging_profile(self, connector: int) -> dict:
        choice = self.rng.choice
        periods = [{"startPeriod": 0, "limit": choice([16.0, 7.4, 32.5, 11.1]), "numberPhases": 3},
                   {"startPeriod": 3600, "limit": choice([10.2, 6.0, 13.8])},
                   {"startPeriod": 7200, "limit": 20.7}]
        return {"connectorId": connector, "csChargingProfiles": {
            "chargingProfileId": self.transaction, "transactionId": self.transaction,
            "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {
                "duration": 14400, "startSchedule": self.now(1), "chargingRateUnit": "A",
                "chargingSchedulePeriod": periods, "minChargingRate": 6.1}}}

    def session(self, connector: int) -> None:
        for _ in range(2):
            self.exchange("cp", "Heartbeat", {}, {"currentTime": self.now(30)})
        self.status(connector, "Preparing")
        tag = f"04A2{self.rng.randint(0, 0xFFFFFF):06X}"
        self.exchange("cp", "Authorize", {"idTag": tag}, {"idTagInfo": self.id_tag_info()})
        self.transaction += 1
        self.exchange("cp", "StartTransaction", {
            "connectorId": connector, "idTag": tag, "meterStart": self.energy,
            "timestamp": self.now(2)},
            {"transactionId": self.transaction, "idTagInfo": self.id_tag_info()})
        self.status(connector, "Charging")
        self.exchange("csms", "SetChargingProfile", self.charging_profile(connector),
                      {"status": "Accepted"})
        begin = self.sampled("Transaction.Begin")
        for _ in range(10):
            sample = {"timestamp": self.now(60), "sampledValue": self.sampled("Sample.Periodic")}
            self.exchange("cp", "MeterValues", {"connectorId": connector, "meterValue": [sample],
                                                "transactionId": self.transaction}, {})
        if self.rng.random() < 0.5:
            self.exchange("csms", "TriggerMessage", {"requestedMessage": "MeterValues",
                                                     "connectorId": connector},
                          {"status": "Accepted"})
            self.exchange("cp", "DataTransfer", {"vendorId": "com.acme", "messageId": "Cost",
                                                 "data": '{"cost": 4.21}'}, {"status": "Accepted"})
        stop = self.now(5)
        end = self.sampled("Transaction.End")
        self.exchange("cp", "StopTransaction", {
            "idTag": tag, "meterStop": self.energy, "timestamp": stop,
            "transactionId": self.transaction, "reason": "EVDisconnected",
            "transactionData": [{"timestamp": stop, "sampledValue": begin},
                                {"timestamp": stop, "sampledValue": end}]},
            {"idTagInfo": self.id_tag_info()})
        self.status(connector, "Finishing")
        self.status(connector, "Available")


def build_trace(sessions: int = 60) -> list[tuple[str, str]]:
    trace = Trace()
    trace.boot()
    for i in range(sessions):
        trace.session(1 + i % 2)
    return trace.frames


def bench_checker(frames: list[tuple[str, str]], seconds: float) -> tuple[list[float], int]:
    """frames/s of each full pass (a fresh Checker per pass: one connection), and the findings
    of the last pass (0 expected: the trace is valid)."""
    rates: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates) < 3:
        check = Checker().check
        findings = 0
        start = time.perf_counter()
        for sender, text in frames:
            # As the offline validator uses it: judge, report, let the frame go.
            findings += len(check(sender, text).findings)
        rates.append(len(frames) / (time.perf_counter() - start))
    return rates, findings


def bench_ocpp_library(frames: list[tuple[str, str]], seconds: float) -> tuple[float, int] | None:
    """frames/s of ocpp.messages.unpack + validate_payload (CALLERRORs are not validated there,
    and the trace has none), and how many frames it rejected."""
    try:
        import ocpp.messages as om
    except ImportError:
        return None
    # Validate in this thread: the library would otherwise hand each message to an executor. The
    # coroutine then never suspends, and one send() runs it to the end.
    om.ASYNC_VALIDATION = False
    actions: dict[str, str] = {}
    done = errors = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _, text in frames:
            msg = om.unpack(text)
            if isinstance(msg, om.Call):
                actions[msg.unique_id] = msg.action
            else:  # a CallResult: the library needs the action of the call it answers
                msg.action = actions.pop(msg.unique_id)
            try:
                om.validate_payload(msg, ocpp_version="1.6").send(None)
            except StopIteration:
                pass
            except Exception:  # noqa: BLE001 - a rejection is counted, it must not stop the run
                errors += 1
            done += 1
            if done % 256 == 0 and time.perf_counter() > deadline:
                break
    return done / (time.perf_counter() - start), errors


def describe(frames: list[tuple[str, str]]) -> str:
    calls: dict[str, int] = {}
    for _, text in frames:
        array = orjson.loads(text)
        if array[0] == 2:
            calls[array[2]] = calls.get(array[2], 0) + 1
    size = sum(len(text) for _, text in frames) // len(frames)
    mix = ", ".join(f"{action} {n}" for action, n in sorted(calls.items(), key=lambda kv: -kv[1]))
    return f"{len(frames)} frames, {size} bytes on average; calls: {mix}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        print(f"pinned to CPU {cpu}")
    frames = build_trace()
    print(describe(frames))

    rates, findings = bench_checker(frames, args.seconds)
    ours = statistics.median(rates)
    print(f"harness Checker.check: {ours:,.0f} frames/s (median of {len(rates)} passes of the "
          f"trace, best {max(rates):,.0f}); findings on the last pass: {findings}")
    library = bench_ocpp_library(frames, args.seconds)
    if library is None:
        print("ocpp library: not installed, no comparison")
    else:
        theirs, errors = library
        from importlib.metadata import version
        print(f"ocpp {version('ocpp')} unpack + validate_payload: {theirs:,.0f} frames/s "
              f"(rejections: {errors})")
        print(f"ratio: {ours / theirs:.1f}x")
    verdict = "met" if ours >= TARGET else "NOT met"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"target {TARGET:,} frames/s (median, one core): {verdict}; load average {load}")
    if max(rates) > 1.3 * ours:
        # Passes of the same frames differ only by what else the machine was doing.
        print("note: the passes spread widely; other processes shared this core, so the median "
              "understates the code's speed - rerun on a quiet machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
