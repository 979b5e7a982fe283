"""TC_017_1_CS / TC_017_2_CS Unlock connector - no charging session running (Core).

TC_017_1 (socket, S in the catalogue, from the CSMS twin): UnlockConnector.req for <Configured
ConnectorId> is answered Unlocked. TC_017_2 (fixed cable): answered NotSupported (OCPP 1.6 section
7.44 UnlockStatus: "NotSupported: Charge Point has no connector lock").

Reading for a socket without a cable lock (PICS features.cable = "socket_without_lock"): TC_017_1
applies (it is a socket) and the right answer is NotSupported, for the reason section 7.44 gives;
Unlocked would claim a lock that is not there. The answer expected is the PICS hardware model's
(:attr:`harness.pics.Features.unlock_answer`).
"""

from harness.cases import case
from harness.states.cs import booted, conf_status, connector_under_test


async def _unlock(cp, pics, expected):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    # 1. Harness: UnlockConnector.req  2. Charge point: UnlockConnector.conf
    unlock = await cp.call("UnlockConnector", {"connectorId": connector_id})
    conf_status(unlock, expected, step="step 2",
                why=f" (the PICS features.cable is {pics.features.cable!r})")


@case("TC_017_1_CS", "Unlock connector - no charging session running (Not fixed cable)",
      profile="Core", na_when=((lambda pics: pics.features.fixed_cable,
                                "the charge point has a fixed cable (TC_017_2_CS applies)"),))
async def test_tc_017_1_cs_unlock_no_session(cp, driver, pics):
    await _unlock(cp, pics, pics.features.unlock_answer)


@case("TC_017_2_CS", "Unlock connector - no charging session running (Fixed cable)",
      profile="Core", na_when=((lambda pics: not pics.features.fixed_cable,
                                "the charge point has a socket, no fixed cable (TC_017_1_CS "
                                "applies)"),))
async def test_tc_017_2_cs_unlock_no_session_fixed_cable(cp, driver, pics):
    await _unlock(cp, pics, "NotSupported")
