"""TC_069_CS Stop transaction - ParentIdTag in StopTransaction matches ParentIdTag in StartTransaction
(Core).

Reusable state Charging with <Configured Valid IdTag>, answered Accepted with parentIdTag
<Configured ParentId>. Presenting <Configured Valid IdTag 2> -- a different idTag of the same group --
makes the charge point ask for it (Authorize.req; the harness answers Accepted with the same
parentIdTag) and then stop the transaction: StopTransaction.req carrying idTag 2 and
StatusNotification Finishing, in either order (OCPP 1.6 section 4.10 / 3.6.1: an idTag with the same
parentIdTag may stop the transaction).

Prerequisite: when several connectors share one RFID reader, the others are made unusable first
(reusable state SetConnectorUnavailable for the unused connectors), so that idTag 2 cannot start a
session elsewhere; they are made Operative again at the end.

Reading chosen for the truncated validations: the Authorize.req must carry idTag 2 (not the starting
idTag), and the StopTransaction.req idTag 2. A charge point whose PICS declares LocalPreAuthorize=true
may know idTag 2 and its parentIdTag locally (section 9.1.18) and stop without asking: the
Authorize.req is then not required, but any Authorize.req sent after the start must be for idTag 2.
"""

from contextlib import AsyncExitStack

from harness.cases import case
from harness.states.cs import (answer_id_tags, authorizes_locally, booted, change_availability,
                               charging, cite, id_tag_info, operative_at_end, other_connectors,
                               requests_of, status_until, stopped, triggered)


@case("TC_069_CS", "Stop transaction - ParentIdTag in StopTransaction matches ParentIdTag in "
      "StartTransaction", profile="Core", needs=("Charging (with parentIdTag)",),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),
               (lambda pics: not pics.id_tags.valid2,
                "the PICS declares no second valid idTag ([id_tags] valid2)"),
               (lambda pics: not pics.id_tags.parent,
                "the PICS declares no parent idTag ([id_tags] parent)")))
async def test_tc_069_cs_stop_parent_id_tag(cp, driver, pics):
    await booted(cp, pics)
    valid, valid2, parent = pics.id_tags.valid, pics.id_tags.valid2, pics.id_tags.parent
    answer_id_tags(cp, pics, {valid: id_tag_info(pics, valid, parent=parent),
                              valid2: id_tag_info(pics, valid2, parent=parent)})
    async with AsyncExitStack() as stack:
        if pics.features.rfid_readers < pics.features.connectors:
            # Prerequisite: the connectors sharing the reader are made Unavailable.
            for other in other_connectors(pics):
                await stack.enter_async_context(operative_at_end(cp, pics, other))
                await change_availability(cp, pics, other, "Inoperative",
                                          step="SetConnectorUnavailable")
                await status_until(cp, pics, other, "Unavailable")
        tx = await stack.enter_async_context(charging(cp, driver, pics, id_tag=valid))

        # 1. [Present another idTag with the same parentIdTag] -> Authorize.req; harness: Accepted,
        #    parentIdTag <Configured ParentId>
        await driver.present_id_tag(valid2, tx.connector_id, timeout=pics.timing.response_timeout)
        if not authorizes_locally(pics):
            await cp.expect("Authorize", timeout=triggered(pics), what=f"Authorize.req for {valid2}")
        # With LocalPreAuthorize=true declared, idTag 2 may be known locally with its parentIdTag
        # (section 9.1.18): the Authorize.req may then not come. Any that came must be for idTag 2.
        for authorize in requests_of(cp, "Authorize",
                                     lambda p: p.get("idTag", "").casefold() != valid2.casefold()):
            assert authorize.frame.mono_ns < tx.start.frame.mono_ns, (
                f"step 1: Authorize.req carries idTag {authorize['idTag']!r}, expected the "
                f"presented {valid2!r} ({cite(authorize)})")

        # 2. StopTransaction.req and StatusNotification.req, in either order
        await stopped(cp, pics, tx, step="step 2", id_tag=valid2,
                      after="after the idTag of the same group was presented")
