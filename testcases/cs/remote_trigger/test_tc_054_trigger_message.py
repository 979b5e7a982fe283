"""TC_054_CS Trigger Message (Remote Trigger).

Successive TriggerMessage.req, each answered Accepted and followed by the message asked for:
MeterValues for <Configured ConnectorId> (every sampled value with context Trigger, OCPP 1.6
ReadingContext "Value taken when triggered by TriggerMessage.req"); Heartbeat; StatusNotification
for <Configured ConnectorId>, reporting its current status (Available: the charge point is in the
Booted state); DiagnosticsStatusNotification and FirmwareStatusNotification "if implemented":
Accepted with the status Idle (nothing is being uploaded or installed, section 5.17), or
NotImplemented (then nothing follows).

Beyond the OCTT: while the Heartbeat is triggered, HeartbeatInterval is set far apart (and
restored after), so that a periodic Heartbeat cannot pass for the triggered one.

Reading chosen for the truncated sixth message (catalogue P-t: "six message types", inferred):
BootNotification, answered Accepted; the charge point must not reboot for it (a triggered
BootNotification only re-sends the message).
"""

import math

from harness.cases import case
from harness.states.cs import (assert_status, booted, cite, configured, connector_under_test,
                               triggered)
from harness.states.remote_trigger import answer_of, trigger, triggered_message

IF_IMPLEMENTED = ("DiagnosticsStatusNotification", "FirmwareStatusNotification")


def _apart(pics) -> int:
    """A HeartbeatInterval no periodic Heartbeat falls within the wait for the triggered one."""
    return max(60, math.ceil(10 * triggered(pics)))


def _accepted(response, message: str, step: str, *, may_be_unimplemented: bool = False) -> bool:
    allowed = ("Accepted", "NotImplemented") if may_be_unimplemented else ("Accepted",)
    assert answer_of(response) in allowed, (
        f"{step}: TriggerMessage.conf for {message} is {answer_of(response)}, expected "
        f"{' or '.join(allowed)} ({cite(response)})")
    return answer_of(response) == "Accepted"


@case("TC_054_CS", "Trigger Message", profile="RemoteTrigger", needs=("Booted",))
async def test_tc_054_cs_trigger_message(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)

    # 1. Harness: TriggerMessage.req MeterValues (connector)  2. Charge point: Accepted
    response = await trigger(cp, "MeterValues", connector_id)
    _accepted(response, "MeterValues", "step 2")
    # 3. Charge point: MeterValues.req for the connector, context Trigger
    meter = await triggered_message(cp, pics, response, "MeterValues", step="step 3",
                                    where=lambda p: p.get("connectorId") == connector_id)
    contexts = {v.get("context", "Sample.Periodic") for mv in meter["meterValue"]
                for v in mv.get("sampledValue", [])}
    assert contexts == {"Trigger"}, (
        f"step 3: the triggered MeterValues.req has sampled value contexts {sorted(contexts)}, "
        f"expected only 'Trigger' ({cite(meter)})")

    # 5. Harness: TriggerMessage.req Heartbeat  6. Accepted  7. Charge point: Heartbeat.req
    #    (with the periodic Heartbeat set far apart meanwhile, so that it cannot stand in for the
    #    triggered one)
    async with configured(cp, pics, {"HeartbeatInterval": str(_apart(pics))}):
        response = await trigger(cp, "Heartbeat")
        _accepted(response, "Heartbeat", "step 6")
        await triggered_message(cp, pics, response, "Heartbeat", step="step 7")

    # 9. Harness: TriggerMessage.req StatusNotification (connector)  10. Accepted
    # 11. Charge point: StatusNotification.req for the connector, its current status
    response = await trigger(cp, "StatusNotification", connector_id)
    _accepted(response, "StatusNotification", "step 10")
    status = await triggered_message(cp, pics, response, "StatusNotification", step="step 11",
                                     where=lambda p: p.get("connectorId") == connector_id)
    assert_status(status, "Available", step="step 11", when="when triggered",
                  why=" (the connector's current status)")

    # 13-20. DiagnosticsStatusNotification, FirmwareStatusNotification (if implemented): Idle
    step = 13
    for message in IF_IMPLEMENTED:
        response = await trigger(cp, message)
        if _accepted(response, message, f"step {step + 1}", may_be_unimplemented=True):
            sent = await triggered_message(cp, pics, response, message, step=f"step {step + 2}")
            assert_status(sent, "Idle", step=f"step {step + 2}", when="when triggered",
                          why=" (no transfer in progress)")
        step += 4

    # 21. Harness: TriggerMessage.req BootNotification  22. Accepted  23. BootNotification.req
    response = await trigger(cp, "BootNotification")
    _accepted(response, "BootNotification", "step 22")
    await triggered_message(cp, pics, response, "BootNotification", step="step 23")
    assert cp.connected, "step 23: the charge point closed the connection after a triggered " \
                         "BootNotification; it must only re-send the message, not reboot"
