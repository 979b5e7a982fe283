"""TC_023_CS Start Charging Session - Authorize invalid (Core; the OCTT tool's TC_023_4_CS).

Configuration: MinimumStatusDuration (if implemented), LocalPreAuthorize=true. [Present
<Configured Invalid IdTag>] -> Authorize.req, answered Invalid; [plug in] -> StatusNotification
Preparing. No StartTransaction.req may follow.

Readings chosen: the OCTT sets MinimumStatusDuration=10; the harness sets it to its quiet period
capped at 10 s (the time it watches for the forbidden StartTransaction.req, counted from the
plug-in), so that the stable-status wait and the watch overlap. A StartTransaction.req is watched for
during the quiet period from the plug-in (triggered_function_timeout), and throughout the case.
"""

import time

from harness.cases import case
from harness.states.cs import (booted, cite, configured, next_status, quiet_period, requests_of,
                               transaction, triggered)


@case("TC_023_CS", "Start Charging Session - Authorize invalid", profile="Core",
      needs=("MinimumStatusDuration (if implemented)", "LocalPreAuthorize=true"),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),),
      aliases=("TC_023_4_CS", "TC_023_1_CS"))
async def test_tc_023_cs_authorize_invalid(cp, driver, pics):
    await booted(cp, pics)
    invalid = pics.id_tags.invalid
    quiet = quiet_period(pics)
    minimum = int(min(10, quiet))
    # The transaction block is the outer one: its clean-up (unplug, Available) runs after the
    # configuration is restored, without the long MinimumStatusDuration.
    async with transaction(cp, driver, pics, id_tag=invalid) as tx, \
            configured(cp, pics, {"LocalPreAuthorize": "true"},
                       {"MinimumStatusDuration": str(minimum)}) as config:
        # 1. [Present an invalid idTag] -> Authorize.req; harness: Authorize.conf Invalid
        await driver.present_id_tag(invalid, tx.connector_id, timeout=pics.timing.response_timeout)
        authorize = await cp.expect("Authorize", timeout=triggered(pics),
                                    what=f"Authorize.req for the invalid idTag {invalid}")
        assert str(authorize["idTag"]).casefold() == invalid.casefold(), (
            f"step 1: Authorize.req carries idTag {authorize['idTag']!r}, expected {invalid!r} "
            f"({cite(authorize)})")
        assert authorize.answer["idTagInfo"]["status"] == "Invalid"

        # 2. [Plug in the cable] -> StatusNotification.req Preparing
        await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
        tx.plugged = True
        plugged_at = time.monotonic()
        wait = (minimum if config.has("MinimumStatusDuration") else 0) + triggered(pics)
        preparing = await next_status(cp, pics, tx.connector_id, timeout=wait)
        assert preparing["status"] == "Preparing", (
            f"step 2: after the plug-in connector {tx.connector_id} reported "
            f"{preparing['status']!r}, expected 'Preparing' ({cite(preparing)})")

        # Expected: no StartTransaction.req
        rest = quiet - (time.monotonic() - plugged_at)
        if rest > 0:
            await cp.expect_silence("StartTransaction", duration=rest)
        starts = requests_of(cp, "StartTransaction")
        assert not starts, (
            f"expected no transaction for the invalid idTag, yet the charge point sent "
            f"StartTransaction.req ({cite(starts[0])})")
