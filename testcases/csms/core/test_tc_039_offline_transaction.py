"""TC_039_CSMS Offline Transaction (Core).

While the harness's charge point is offline a whole transaction happens with the valid idTag: it
starts, is stopped locally and the cable is removed. When the connection comes back (no reboot) the
charge point sends the queued StartTransaction.req, then the StopTransaction.req with the
transactionId the central system has just given. The start must be accepted and the stop answered.
"""

from harness.cases import case
from harness.clock import now_iso
from harness.states.assertions import assert_value
from harness.states.csms import (back_online, booted, configured_connector, go_offline,
                                 start_transaction, stop_transaction)


@case("TC_039_CSMS", "Offline Transaction", profile="Core", needs=("Booted",))
async def test_tc_039_csms_offline_transaction(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # [The connection is lost; offline, a transaction starts, is stopped with the same card and the
    #  cable is removed; the connection comes back]
    await go_offline(csms)
    started, stopped = now_iso(), now_iso()
    await back_online(csms)

    # 1-2. Harness: StartTransaction.req (its offline timestamp); central system: .conf
    tx = await start_transaction(csms, connector_id, id_tag, timestamp=started, step="1-2")
    assert_value(tx.start, "idTagInfo.status", "Accepted", step="step 2",
                 when=f"for the valid idTag {id_tag!r}")

    # 3-4. Harness: StopTransaction.req reason Local with the transactionId of step 2; central
    #      system: StopTransaction.conf
    await stop_transaction(csms, tx, "Local", id_tag=id_tag, timestamp=stopped, step="3-4")
