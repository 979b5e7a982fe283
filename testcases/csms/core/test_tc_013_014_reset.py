"""TC_013_CSMS Hard Reset and TC_014_CSMS Soft Reset (Core): close variants, one scenario.

The operator makes the central system reset the charge point (type Hard or Soft); the harness's
charge point accepts, reboots (a new WebSocket connection) and boots: the central system must accept
the BootNotification and answer the status notifications.
"""

from harness.cases import case
from harness.states import connector_ids
from harness.states.assertions import conf_status
from harness.states.csms import booted, notify_status, operator_sends, record_boot, register


async def reset_scenario(csms, driver, pics, reset_type: str) -> None:
    await booted(csms, pics)

    # 1. [OPERATOR: reset, type <reset_type>] Central system: Reset.req
    # 2. Harness: Reset.conf Accepted
    reset = await operator_sends(csms, driver, pics, "Reset", {"type": reset_type},
                                 answer={"status": "Accepted"}, step=1)
    assert reset["type"] == reset_type, (
        f"step 1: Reset.req type is {reset['type']!r}, expected {reset_type!r} (wire log line "
        f"{reset.line})")

    # 3-4. [Reboot, new connection] Harness: BootNotification.req; central system: .conf
    await csms.reconnect()
    registration = await register(csms, pics, step="3-4")  # again while Pending (4.2)
    conf_status(registration.boot, "Accepted", step="step 4", why=registration.after_pending)
    record_boot(csms, registration.boot)

    # 5-6. Harness: StatusNotification.req Available for connector 0 and each connector
    for connector_id in connector_ids(pics):
        await notify_status(csms, connector_id, "Available", step="5-6")


@case("TC_013_CSMS", "Hard Reset", profile="Core", needs=("Booted",))
async def test_tc_013_csms_hard_reset(csms, driver, pics):
    await reset_scenario(csms, driver, pics, "Hard")


@case("TC_014_CSMS", "Soft Reset", profile="Core", needs=("Booted",))
async def test_tc_014_csms_soft_reset(csms, driver, pics):
    await reset_scenario(csms, driver, pics, "Soft")
