"""TC_064_CSMS Data Transfer to a Central System (Core).

The harness's charge point sends a DataTransfer.req with a vendorId the central system does not know
(the document says "to the Charge Point", a slip). The central system must answer with a
DataTransfer.conf (a CALLERROR fails the case) whose status is Rejected, UnknownMessageId or
UnknownVendorId. Accepted is tolerated, as by the OCTT, with a warning: a central system that
accepts data from a vendor it does not know probably ignores the vendorId.
"""

import warnings

from harness.cases import case
from harness.states.assertions import conf_status
from harness.states.csms import booted, call

VENDOR_ID = "org.ocpp-harness.unknown-vendor"
NOT_ACCEPTED = ("Rejected", "UnknownMessageId", "UnknownVendorId")


@case("TC_064_CSMS", "Data Transfer to a Central System", profile="Core",
      needs=("Booted", f"vendorId {VENDOR_ID!r} unknown to the central system"))
async def test_tc_064_csms_data_transfer(csms, pics):
    await booted(csms, pics)

    # 1-2. Harness: DataTransfer.req for an unknown vendorId; central system: DataTransfer.conf
    response = await call(csms, "DataTransfer",
                          {"vendorId": VENDOR_ID, "messageId": "TestMessage", "data": "test"},
                          step="1-2")
    conf_status(response, *NOT_ACCEPTED, "Accepted", step="step 2")
    if response.status == "Accepted":
        warnings.warn(f"TC_064_CSMS step 2: the central system answered Accepted to a DataTransfer "
                      f"for the unknown vendorId {VENDOR_ID!r} (wire log line {response.line}); "
                      f"tolerated, but expected one of {', '.join(NOT_ACCEPTED)}", stacklevel=1)
