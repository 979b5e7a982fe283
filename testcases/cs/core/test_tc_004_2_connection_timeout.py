"""TC_004_2_CS Regular Charging Session - Identification First - ConnectionTimeOut (Core).

Configuration: ConnectionTimeOut = <Configured connectionTimeout> (the harness's short test value).
Authorized, no cable: when ConnectionTimeOut has run out the charge point cancels the session and
reports the connector Available, without a StartTransaction.

Reading chosen for the timing: ConnectionTimeOut counts "from successful authorization" (OCPP 1.6
section 9.1.9), i.e. from the Authorize.conf the harness sent -- or, for a charge point that
authorized the idTag locally (LocalPreAuthorize), from its StatusNotification Preparing; the Available
must come between ConnectionTimeOut - max_time_deviation and ConnectionTimeOut + max_time_deviation
after it.
"""

from harness.cases import case
from harness.timing import judge
from harness.states.cs import assert_status, booted
from harness.states.cs import (authorized, cite, configured, connection_timeout,
                               connector_under_test, next_status, requests_of)


@case("TC_004_2_CS", "Regular Charging Session - Identification First - ConnectionTimeOut",
      profile="Core", needs=("ConnectionTimeOut=<Configured connectionTimeout>", "Authorized"),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),))
async def test_tc_004_2_cs_connection_timeout(cp, driver, pics):
    await booted(cp, pics)
    timeout = connection_timeout(pics)
    deviation = pics.timing.max_time_deviation
    connector_id = connector_under_test(pics)
    async with configured(cp, pics, {"ConnectionTimeOut": str(timeout)}):
        # 1. Reusable state Authorized (no cable is plugged in)
        authorize = await authorized(cp, driver, pics, connector_id=connector_id)

        # 2. After ConnectionTimeOut: StatusNotification.req Available
        available = await next_status(cp, pics, connector_id, timeout=timeout + 2 * deviation,
                                      what=f"StatusNotification after ConnectionTimeOut ({timeout} s)")
        assert_status(available, "Available", step="step 2", when="when ConnectionTimeOut ran out")
        # Authorized at the Authorize.conf; without one (authorized locally), at the Preparing
        preparing = requests_of(cp, "StatusNotification",
                                lambda p: p.get("connectorId") == connector_id
                                and p.get("status") == "Preparing")
        since = authorize.answer_frame if authorize is not None else preparing[-1].frame
        after = (available.frame.mono_ns - since.mono_ns) / 1e9
        judge(cp, since, available, abs(after - timeout) <= deviation,
              f"step 2: the session was cancelled {after:.3f} s after the authorization, expected "
              f"ConnectionTimeOut = {timeout} s ± {deviation} s ({cite(available)})",
              by_s=abs(after - timeout) - deviation)
        starts = requests_of(cp, "StartTransaction")
        assert not starts, (
            f"step 2: no cable was plugged in, yet the charge point sent StartTransaction.req "
            f"({cite(starts[0])})")
