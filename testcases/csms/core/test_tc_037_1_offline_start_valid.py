"""TC_037_1_CSMS Offline Start Transaction - Valid IdTag (Core).

The harness's charge point loses its connection, a transaction is started offline with the valid
idTag, and the connection comes back (no reboot, so no BootNotification): the queued
StartTransaction.req, with the time the transaction started offline, must be accepted.
"""

from harness.cases import case
from harness.clock import now_iso
from harness.states.csms import (back_online, booted, configured_connector, end_charging,
                                 go_offline, transaction_started)


@case("TC_037_1_CSMS", "Offline Start Transaction - Valid IdTag", profile="Core",
      needs=("Booted",))
async def test_tc_037_1_csms_offline_start_valid(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # [The connection is lost; offline, the valid card is presented, the cable plugged in and a
    #  transaction starts; the connection comes back]
    await go_offline(csms)
    started_offline = now_iso()
    await back_online(csms)

    # 1-2. Harness: StartTransaction.req (its offline timestamp); central system: .conf
    # 3-4. Harness: StatusNotification.req Charging; central system: .conf
    tx = await transaction_started(csms, pics, connector_id, id_tag, step=1,
                                   timestamp=started_offline)

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
