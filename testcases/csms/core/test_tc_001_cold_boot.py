"""TC_001_CSMS Cold Boot Charge Point (Core).

The harness is the charge point: it (re)connects, boots and reports its connectors; the central
system must accept it. Every answer is schema-checked (currentTime and interval are required).
"""

from harness.cases import case
from harness.states import connector_ids, status_notification
from harness.states.assertions import conf_status
from harness.states.registration import register


@case("TC_001_CSMS", "Cold Boot Charge Point", profile="Core")
async def test_tc_001_csms_cold_boot(csms, pics):
    # 1. [The charge point is powered on] the harness opens a new connection
    await csms.reconnect()

    # 1-2. Harness: BootNotification.req; central system: BootNotification.conf (sent again
    #      while the central system answers Pending, after its interval or its TriggerMessage:
    #      section 4.2 allows Pending before Accepted)
    registration = await register(csms, pics, step="1-2")
    boot = registration.boot
    conf_status(boot, "Accepted", step="step 2", why=registration.after_pending)
    assert boot["interval"] > 0, (
        f"step 2: BootNotification.conf interval is {boot['interval']}, expected a positive "
        f"heartbeat interval (wire log line {boot.line})")

    # 3-4. Harness: StatusNotification.req Available for connector 0 and each connector
    for connector_id in connector_ids(pics):
        await csms.call("StatusNotification", status_notification(connector_id, "Available"))

    # 5-6. Harness: Heartbeat.req; central system: Heartbeat.conf with its current time
    await csms.call("Heartbeat", {})
