"""TC_023_CS Start Charging Session - Authorize invalid (Core; the OCTT tool's TC_023_4_CS), and its
remote-start variant TC_023_5_CS.

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
from harness.states.cs import (assert_id_tag, assert_status, booted, cite, conf_status, configured,
                               harness_answered, next_status, quiet_period, requests_of,
                               status_until, transaction, triggered)

NO_READER = (lambda pics: pics.features.rfid_readers == 0,
             "the charge point has no RFID reader to present the idTag to")


def _minimum_status_duration(pics) -> int:
    return int(min(10, quiet_period(pics)))


def _authorize_invalid(authorize, invalid: str, step: str) -> None:
    assert_id_tag(authorize, "idTag", invalid, step=step)
    harness_answered(authorize, "Invalid", step=step)


async def _plug_in_and_no_transaction(cp, driver, pics, tx, config, *, step: str,
                                      settled: bool = True) -> None:
    """[Plug in] -> StatusNotification.req Preparing; then no StartTransaction.req during the quiet
    period from the plug-in, nor at any time of the case. ``settled`` False: statuses the connector
    may still report from before the plug-in (a refused remote start) are passed over."""
    quiet = quiet_period(pics)
    await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
    tx.plugged = True
    plugged_at = time.monotonic()
    minimum = _minimum_status_duration(pics) if config.has("MinimumStatusDuration") else 0
    if settled:
        preparing = await next_status(cp, pics, tx.connector_id, timeout=minimum + triggered(pics),
                                      what=f"{step}: StatusNotification Preparing after the plug-in")
    else:
        preparing = await status_until(cp, pics, tx.connector_id, "Preparing",
                                       timeout=minimum + triggered(pics))
    assert_status(preparing, "Preparing", step=step, when="after the plug-in")

    # Expected: no StartTransaction.req
    rest = quiet - (time.monotonic() - plugged_at)
    if rest > 0:
        await cp.expect_silence("StartTransaction", duration=rest)
    starts = requests_of(cp, "StartTransaction")
    assert not starts, (
        f"{step}: expected no transaction for the invalid idTag {tx.id_tag}, yet the charge point "
        f"sent StartTransaction.req ({cite(starts[0])})")


@case("TC_023_CS", "Start Charging Session - Authorize invalid", profile="Core",
      needs=("MinimumStatusDuration (if implemented)", "LocalPreAuthorize=true"),
      na_when=(NO_READER,), aliases=("TC_023_4_CS", "TC_023_1_CS"))
async def test_tc_023_cs_authorize_invalid(cp, driver, pics):
    await booted(cp, pics)
    invalid = pics.id_tags.invalid
    # The transaction block is the outer one: its clean-up (unplug, Available) runs after the
    # configuration is restored, without the long MinimumStatusDuration.
    async with transaction(cp, driver, pics, id_tag=invalid) as tx, \
            configured(cp, pics, {"LocalPreAuthorize": "true"},
                       {"MinimumStatusDuration": str(_minimum_status_duration(pics))}) as config:
        # 1. [Present an invalid idTag] -> Authorize.req; harness: Authorize.conf Invalid
        await driver.present_id_tag(invalid, tx.connector_id, timeout=pics.timing.response_timeout)
        authorize = await cp.expect("Authorize", timeout=triggered(pics),
                                    what=f"step 1: Authorize.req for the invalid idTag {invalid}")
        _authorize_invalid(authorize, invalid, "step 1")

        # 2. [Plug in the cable] -> StatusNotification.req Preparing; no StartTransaction.req
        await _plug_in_and_no_transaction(cp, driver, pics, tx, config, step="step 2")


@case("TC_023_5_CS", "Remote Start Charging Session - Authorize invalid", profile="Core",
      needs=("MinimumStatusDuration (if implemented)", "LocalPreAuthorize=true",
             "AuthorizeRemoteTxRequests=true"))
async def test_tc_023_5_cs_authorize_invalid_remote_start(cp, driver, pics):
    """TC_023_5_CS, the OCTT tool's remote-start variant (catalogue: S). Readings chosen from OCPP 1.6
    section 5.11: with AuthorizeRemoteTxRequests=true the charge point "SHALL behave as if in
    response to a local action", so the remote idTag is authorized first and "a transaction will
    only be started after authorization was obtained". AuthorizeRemoteTxRequests=true is required
    (N/A when it cannot be set: with false the charge point starts at once and only the
    StartTransaction.conf can refuse the idTag, which is another scenario). The
    RemoteStartTransaction.conf may be Accepted (the charge point will try: it must then ask with
    Authorize.req, answered Invalid, as in TC_023_4) or Rejected (it refused at once). Either way
    the cable is then plugged in -- a charge point that ignored the Invalid answer would start now
    -- and no StartTransaction.req may follow."""
    await booted(cp, pics)
    invalid = pics.id_tags.invalid
    async with transaction(cp, driver, pics, id_tag=invalid) as tx, \
            configured(cp, pics, {"LocalPreAuthorize": "true", "AuthorizeRemoteTxRequests": "true"},
                       {"MinimumStatusDuration": str(_minimum_status_duration(pics))},
                       na_if_missing=("AuthorizeRemoteTxRequests",)) as config:
        # 1. Harness: RemoteStartTransaction.req with the invalid idTag
        # 2. Charge point: RemoteStartTransaction.conf Accepted or Rejected
        response = await cp.call("RemoteStartTransaction",
                                 {"connectorId": tx.connector_id, "idTag": invalid},
                                 timeout=pics.timing.remote_start_response
                                 or pics.timing.response_timeout)
        conf_status(response, "Accepted", "Rejected", step="step 2")

        # 3. If Accepted: Authorize.req; harness: Authorize.conf Invalid
        if response.status == "Accepted":
            authorize = await cp.expect(
                "Authorize", lambda p: str(p.get("idTag", "")).casefold() == invalid.casefold(),
                timeout=triggered(pics),
                what=f"step 3: Authorize.req for the invalid idTag {invalid} of the remote start")
            _authorize_invalid(authorize, invalid, "step 3")

        # 4. [Plug in the cable] -> StatusNotification.req Preparing; no StartTransaction.req.
        # What the connector reported while the charge point authorized (Preparing, back to
        # Available) is passed over: the plug-in's Preparing is the one judged.
        await _plug_in_and_no_transaction(cp, driver, pics, tx, config, step="step 4",
                                          settled=False)
