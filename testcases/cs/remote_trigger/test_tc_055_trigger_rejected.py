"""TC_055_CS Trigger Message - Rejected (Remote Trigger).

TriggerMessage.req MeterValues for connector NumberOfConnectors + 1, which does not exist: the
charge point answers Rejected (a CALLERROR is also allowed by the scenario), and sends no triggered
MeterValues. "Not sent" is watched for the PICS triggered_function_timeout -- the longest the
message could take to come -- and covers a MeterValues.req for that connector or with context
Trigger (clock-aligned readings of a device configured for them are not judged).
"""

from harness.cases import case
from harness.states.cs import booted, cite, quiet_period
from harness.states.remote_trigger import answer_of, trigger


def _triggered_for(bad: int):
    def matches(p: dict) -> bool:
        contexts = {v.get("context") for mv in p.get("meterValue", [])
                    for v in mv.get("sampledValue", [])}
        return p.get("connectorId") == bad or "Trigger" in contexts
    return matches


@case("TC_055_CS", "Trigger Message - Rejected", profile="RemoteTrigger", needs=("Booted",))
async def test_tc_055_cs_trigger_message_rejected(cp, driver, pics):
    await booted(cp, pics)
    bad = pics.features.connectors + 1

    # 1. Harness: TriggerMessage.req MeterValues, connectorId NumberOfConnectors + 1
    # 2. Charge point: TriggerMessage.conf Rejected (or a CALLERROR)
    response = await trigger(cp, "MeterValues", bad)
    assert response.error is not None or response.status == "Rejected", (
        f"step 2: TriggerMessage.conf for connector {bad} (there are "
        f"{pics.features.connectors}) is {answer_of(response)}, expected Rejected "
        f"({cite(response)})")

    # The requested message is not sent.
    await cp.expect_silence("MeterValues", duration=quiet_period(pics), where=_triggered_for(bad))
