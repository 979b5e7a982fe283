"""TC_062_CS Data Transfer to a Charge Point (Core).

DataTransfer.req with a vendorId the charge point does not support is answered Rejected,
UnknownMessageId or UnknownVendorId. The OCTT tolerates Accepted with a warning; so does the harness
(a Python warning in the run's summary).
"""

import warnings

from harness.cases import case
from harness.states.cs import booted, cite

VENDOR_ID = "org.ocpp-harness.unknown-vendor"
MESSAGE_ID = "HarnessProbe"


@case("TC_062_CS", "Data Transfer to a Charge Point", profile="Core")
async def test_tc_062_cs_data_transfer(cp, driver, pics):
    await booted(cp, pics)
    # 1. Harness: DataTransfer.req  2. Charge point: DataTransfer.conf
    answer = await cp.call("DataTransfer", {"vendorId": VENDOR_ID, "messageId": MESSAGE_ID,
                                            "data": "harness"})
    status = answer.status if answer.error is None else f"CALLERROR {answer.error.error_code}"
    assert status in ("Rejected", "UnknownMessageId", "UnknownVendorId", "Accepted"), (
        f"step 2: DataTransfer.conf for the unknown vendorId {VENDOR_ID!r} is {status!r}, expected "
        f"'Rejected', 'UnknownMessageId' or 'UnknownVendorId' ({cite(answer)})")
    if status == "Accepted":
        warnings.warn(f"TC_062_CS: the charge point Accepted a DataTransfer for the vendorId "
                      f"{VENDOR_ID!r} it cannot know ({cite(answer)}); tolerated, as by the OCTT")
