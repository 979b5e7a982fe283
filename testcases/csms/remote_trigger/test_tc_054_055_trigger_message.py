"""TC_054_CSMS Trigger Message and TC_055_CSMS Trigger Message - Rejected (Remote Trigger).

TC_054: five rounds, each [OPERATOR: trigger X] -> TriggerMessage.req, answered Accepted by the
harness's charge point, which then sends X; the central system must answer it with a .conf:
MeterValues for <Configured ConnectorId> (a reading with context Trigger), Heartbeat,
StatusNotification for <Configured ConnectorId> (its current status, Available), and
DiagnosticsStatusNotification and FirmwareStatusNotification with status Idle. Checks:
requestedMessage as asked in every round, connectorId = <Configured ConnectorId> in rounds 1 and 3.

TC_055: [OPERATOR: trigger MeterValues] -> TriggerMessage.req requestedMessage MeterValues, answered
Rejected; the central system must stay connected and answering.
"""

from harness.cases import case
from harness.clock import now_iso
from harness.states.csms import (booted, call, configured_connector, notify_status, operator_sends)

METER_WH = 12345


def _meter_values(connector_id: int) -> dict:
    return {"connectorId": connector_id, "meterValue": [{"timestamp": now_iso(), "sampledValue": [
        {"value": str(METER_WH), "context": "Trigger", "measurand": "Energy.Active.Import.Register",
         "unit": "Wh"}]}]}


async def _trigger(csms, driver, pics, message: str, connector_id: int | None, *, step: int,
                   answer: str = "Accepted"):
    payload = {"requestedMessage": message}
    if connector_id is not None:
        payload["connectorId"] = connector_id
    # [OPERATOR: trigger <message>] Central system: TriggerMessage.req; harness: .conf
    request = await operator_sends(csms, driver, pics, "TriggerMessage", payload,
                                   answer={"status": answer}, step=step)
    assert request["requestedMessage"] == message, (
        f"step {step}: TriggerMessage.req requestedMessage is {request['requestedMessage']!r}, "
        f"expected {message!r} (wire log line {request.line})")
    if connector_id is not None:
        assert request.get("connectorId") == connector_id, (
            f"step {step}: TriggerMessage.req connectorId is {request.get('connectorId')!r}, "
            f"expected {connector_id} (wire log line {request.line})")
    return request


@case("TC_054_CSMS", "Trigger Message", profile="RemoteTrigger", needs=("Booted",))
async def test_tc_054_csms_trigger_message(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1-4. MeterValues for the connector -> Accepted -> MeterValues.req -> .conf
    await _trigger(csms, driver, pics, "MeterValues", connector_id, step=1)
    await call(csms, "MeterValues", _meter_values(connector_id), step=3)
    # 5-8. Heartbeat -> Accepted -> Heartbeat.req -> .conf
    await _trigger(csms, driver, pics, "Heartbeat", None, step=5)
    await call(csms, "Heartbeat", {}, step=7)
    # 9-12. StatusNotification for the connector -> Accepted -> StatusNotification.req -> .conf
    await _trigger(csms, driver, pics, "StatusNotification", connector_id, step=9)
    await notify_status(csms, connector_id, "Available", step=11)
    # 13-16. DiagnosticsStatusNotification -> Accepted -> Idle -> .conf
    await _trigger(csms, driver, pics, "DiagnosticsStatusNotification", None, step=13)
    await call(csms, "DiagnosticsStatusNotification", {"status": "Idle"}, step=15)
    # 17-20. FirmwareStatusNotification -> Accepted -> Idle -> .conf
    await _trigger(csms, driver, pics, "FirmwareStatusNotification", None, step=17)
    await call(csms, "FirmwareStatusNotification", {"status": "Idle"}, step=19)


@case("TC_055_CSMS", "Trigger Message - Rejected", profile="RemoteTrigger", needs=("Booted",))
async def test_tc_055_csms_trigger_message_rejected(csms, driver, pics):
    await booted(csms, pics)
    # 1. [OPERATOR: trigger MeterValues] Central system: TriggerMessage.req
    # 2. Harness: TriggerMessage.conf Rejected
    await _trigger(csms, driver, pics, "MeterValues", None, step=1, answer="Rejected")
    # The central system is still there and answering after the rejection.
    await call(csms, "Heartbeat", {}, step="after step 2")
