"""TC_013_CSMS Hard Reset (Core).

The operator makes the central system reset the charge point (type Hard); the harness's charge
point accepts, reboots (a new WebSocket connection) and boots: the central system must accept the
BootNotification and answer the status notifications.
"""

from harness.cases import case
from harness.states import boot_notification, connector_ids
from harness.states.csms import booted, call, notify_status, operator_sends, record_boot


@case("TC_013_CSMS", "Hard Reset", profile="Core", needs=("Booted",))
async def test_tc_013_csms_hard_reset(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: reset, type Hard] Central system: Reset.req
    # 2. Harness: Reset.conf Accepted
    reset = await operator_sends(csms, driver, pics, "Reset", {"type": "Hard"},
                                 answer={"status": "Accepted"}, step=1)
    assert reset["type"] == "Hard", (
        f"step 1: Reset.req type is {reset['type']!r}, expected 'Hard' (wire log line "
        f"{reset.line})")

    # 3-4. [Reboot, new connection] Harness: BootNotification.req; central system: .conf
    await csms.reconnect()
    boot = await call(csms, "BootNotification", boot_notification(pics), step="3-4")
    assert boot.status == "Accepted", (
        f"step 4: BootNotification.conf status is {boot.status!r}, expected 'Accepted' (wire log "
        f"line {boot.line})")
    record_boot(csms, boot)

    # 5-6. Harness: StatusNotification.req Available for connector 0 and each connector
    for connector_id in connector_ids(pics):
        await notify_status(csms, connector_id, "Available", step="5-6")
