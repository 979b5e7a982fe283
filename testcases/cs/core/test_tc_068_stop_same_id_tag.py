"""TC_068_CS Stop transaction - IdTag in StopTransaction matches IdTag in StartTransaction (Core).

Reusable state Charging with <Configured Valid IdTag>, which the harness answers Accepted without a
parentIdTag (so that no other idTag can belong to its group: OCPP 1.6 section 4.10 lets an idTag with
the same parentIdTag stop a transaction, which is TC_069). Presenting <Configured Valid IdTag 2> must
not stop the transaction: no StopTransaction.req, and no Authorize.req either -- tolerated only
when one RFID reader serves several connectors (the charge point may then be starting a session on
another connector), as the OCTT does. The harness watches for them for the quiet period
(triggered_function_timeout). Presenting the idTag that started the transaction stops it:
StopTransaction.req with that idTag and StatusNotification Finishing, in either order.
"""

from harness.cases import case
from harness.states.cs import (answer_id_tags, booted, charging, id_tag_info, other_connectors,
                               quiet_period, requests_of, status_until, stopped, triggered)


@case("TC_068_CS", "Stop transaction - IdTag in StopTransaction matches IdTag in StartTransaction",
      profile="Core", needs=("Charging",),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),
               (lambda pics: not pics.id_tags.valid2,
                "the PICS declares no second valid idTag ([id_tags] valid2)")))
async def test_tc_068_cs_stop_same_id_tag(cp, driver, pics):
    await booted(cp, pics)
    valid, valid2 = pics.id_tags.valid, pics.id_tags.valid2
    answer_id_tags(cp, pics, {valid: id_tag_info(pics, valid, parent=None),
                              valid2: id_tag_info(pics, valid2, parent=None)})
    shared_reader = pics.features.rfid_readers < pics.features.connectors
    async with charging(cp, driver, pics, id_tag=valid) as tx:
        # 1. [Present <Configured Valid IdTag 2>] -> no Authorize.req, no StopTransaction.req
        await driver.present_id_tag(valid2, tx.connector_id, timeout=pics.timing.response_timeout)
        quiet = ["StopTransaction"] if shared_reader else ["Authorize", "StopTransaction"]
        await cp.expect_silence(quiet, duration=quiet_period(pics))

        # 2. [Present the idTag that started the transaction] -> StopTransaction.req and
        #    StatusNotification.req, in either order
        await driver.present_id_tag(valid, tx.connector_id, timeout=pics.timing.response_timeout)
        await stopped(cp, pics, tx, step="step 2", id_tag=valid,
                      after="after the idTag that started the transaction was presented")

    # A tolerated Authorize of idTag 2 may have begun a session on another connector: let it end.
    if requests_of(cp, "Authorize", lambda p: p.get("idTag") == valid2):
        for other in other_connectors(pics):
            if requests_of(cp, "StatusNotification",
                           lambda p: p.get("connectorId") == other and p.get("status") == "Preparing"):
                await status_until(cp, pics, other, "Available",
                                   timeout=triggered(pics) + pics.timing.response_timeout)
