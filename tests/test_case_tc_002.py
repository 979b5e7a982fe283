"""TC_002_CS (testcases/cs/core/test_tc_002_cold_boot_pending.py) judges only what the charge point
sent on a connection opened after the power cycle, through to the last step.

The case once rebound the name of the pre-power-cycle connection (``before``) to the old
MeterValueSampleInterval value, so from step 7 on ``not_on=before`` compared a connection with a
string and the filter was silently off: a charge point that sends a StatusNotification on the old
connection as the power cycle is asked for (legal, seen in interop under load) failed step 7 with
"may send only BootNotification". Here the reference charge point does exactly that."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "testcases" / "cs" / "core" / "test_tc_002_cold_boot_pending.py"

CONFTEST = """
from harness.sim.cp.chargepoint import ChargePointSim

_power_cycle = ChargePointSim.act_power_cycle


async def act_power_cycle(self, p):
    # The start-up status of a charge point that reports as the power cycle is asked for, on the
    # connection about to drop; answered by the harness, so it is on its wire before the cut.
    if self.link is not None:
        await self.link.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                    "status": "Available"}, timeout=5)
    return await _power_cycle(self, p)


ChargePointSim.act_power_cycle = act_power_cycle
"""


def test_a_status_on_the_old_connection_is_passed_over_to_the_last_step(pytester: pytest.Pytester,
                                                                        tmp_path: Path) -> None:
    shutil.copy(CASE, pytester.path / CASE.name)
    pytester.makeconftest(CONFTEST)
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-sut", "cs",
                                           "--ocpp-report", str(out), timeout=120)
    verdicts = {c["id"]: (c["verdict"], c["reason"])
                for c in json.loads((out / "report.json").read_text())["test_cases"]}
    assert verdicts["TC_002_CS"] == ("PASS", ""), verdicts
    # The StatusNotification really came on the old connection, after the case began.
    wire = [json.loads(line) for line in (out / "wire" / "TC_002_CS.jsonl").read_text().splitlines()]
    statuses = [i for i, f in enumerate(wire) if isinstance(f.get("frame"), list)
                and f["frame"][0] == 2 and f["frame"][2] == "StatusNotification"]
    closed = next(i for i, f in enumerate(wire) if f.get("event") == "closed")
    assert len(statuses) >= 2 and statuses[0] < closed < statuses[-1], (statuses, closed)
    result.assert_outcomes(passed=1)
