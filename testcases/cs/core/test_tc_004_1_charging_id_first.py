"""TC_004_1_CS Regular Charging Session - Identification First (Core).

Configuration: MeterValueSampleInterval = <Configured Meter Value interval> (the harness's short
test interval). Authorized first (Authorize.req, Preparing), then the cable: StartTransaction.req
answered Accepted and StatusNotification Charging, in either order.
"""

from harness.cases import case
from harness.states.cs import (authorized, booted, configured, harness_answered, sample_interval,
                               start_after_plug_in, transaction)


@case("TC_004_1_CS", "Regular Charging Session - Identification First", profile="Core",
      needs=("MeterValueSampleInterval=<Configured interval>", "Authorized"),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),))
async def test_tc_004_1_cs_charging_id_first(cp, driver, pics):
    await booted(cp, pics)
    async with configured(cp, pics, {"MeterValueSampleInterval": str(sample_interval(pics))}), \
            transaction(cp, driver, pics) as tx:
        # 1. Reusable state Authorized: [present idTag] -> Authorize.req, Accepted; Preparing
        await authorized(cp, driver, pics, id_tag=tx.id_tag, connector_id=tx.connector_id)

        # 2. [EV driver plugs in the cable]
        # 3. StartTransaction.req; harness: StartTransaction.conf Accepted
        # 4. StatusNotification.req Charging (3 and 4 in either order)
        await start_after_plug_in(cp, driver, pics, tx, step="steps 3-4")
        harness_answered(tx.start, "Accepted", step="step 3")
