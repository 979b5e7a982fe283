"""TC_045_1_CS Get Diagnostics and TC_045_2_CS Get Diagnostics - Upload Failed (Firmware
Management).

TC_045_1: GetDiagnostics with the location of the harness's upload server, once for every file
transfer protocol both sides have (HTTP, FTP): Uploading, then Uploaded; the file the charge point
named in GetDiagnostics.conf must really be on the harness's server, complete and not empty, before
it says Uploaded. A GetDiagnostics.conf without fileName means "no diagnostics available"
(OCPP 1.6, GetDiagnostics.conf); the case then cannot check an upload and fails, since the OCTT
expects one.

TC_045_2 (S in the catalogue, from the CSMS twin): the location is one the charge point cannot
upload to -- the harness's HTTP server refuses uploads under /refused/ (403), its FTP server the
login: Uploading, then UploadFailed, and nothing is stored. GetDiagnostics.req says ``retries: 1``
with ``retryInterval`` <Configured short interval>, not ``retries: 0``: a firmware may read 0 as
"no attempt at all" (and then no Uploading comes), and leaving it out hands the charge point an
unbounded number of retries. Reading: 1 retry is at most two attempts; a charge point may report
Uploading again for its second attempt, so repeated Uploading before UploadFailed is accepted; the
UploadFailed is awaited for two transfers plus the interval.
"""

from harness.cases import case
from harness.states.cs import booted, cite, short_interval, triggered
from harness.states.firmware_management import (NA_NO_PROTOCOL, assert_uploaded, conf_ok,
                                                diagnostics_status, file_servers,
                                                served_protocols, transfer_timeout)


@case("TC_045_1_CS", "Get Diagnostics", profile="FirmwareManagement",
      needs=("Booted", "an upload server (the harness's)"), na_when=NA_NO_PROTOCOL)
async def test_tc_045_1_cs_get_diagnostics(cp, driver, pics):
    await booted(cp, pics)
    async with file_servers(pics) as servers:
        for protocol in served_protocols(pics):
            # 1. Harness: GetDiagnostics.req (location)  2. Charge point: .conf with fileName
            request = await cp.call("GetDiagnostics",
                                    {"location": servers.upload_location(protocol)})
            conf_ok(request, "GetDiagnostics", f"{protocol} step 2")
            file_name = request.get("fileName")
            assert file_name, (
                f"{protocol} step 2: GetDiagnostics.conf has no fileName, i.e. no diagnostics "
                f"available; the case expects an upload ({cite(request)})")
            # 3. DiagnosticsStatusNotification.req Uploading
            await diagnostics_status(cp, pics, "Uploading", step=f"{protocol} step 3")
            # 5. DiagnosticsStatusNotification.req Uploaded -- and the file is there
            uploaded = await diagnostics_status(cp, pics, "Uploaded", step=f"{protocol} step 5",
                                                timeout=transfer_timeout(pics))
            await assert_uploaded(servers, file_name, request, uploaded, pics,
                                  step=f"{protocol} step 5")



@case("TC_045_2_CS", "Get Diagnostics - Upload Failed", profile="FirmwareManagement",
      needs=("Booted",), na_when=NA_NO_PROTOCOL)
async def test_tc_045_2_cs_upload_failed(cp, driver, pics):
    await booted(cp, pics)
    protocol = served_protocols(pics)[0]
    async with file_servers(pics) as servers:
        # 1. Harness: GetDiagnostics.req (a location that refuses uploads, retries 1)  2. .conf
        interval = short_interval(pics)
        request = await cp.call("GetDiagnostics", {
            "location": servers.refusing_location(protocol), "retries": 1,
            "retryInterval": interval})
        conf_ok(request, "GetDiagnostics", "step 2")
        # 3. DiagnosticsStatusNotification.req Uploading
        await diagnostics_status(cp, pics, "Uploading", step="step 3")
        # 5. DiagnosticsStatusNotification.req UploadFailed (Uploading again for the retry)
        await diagnostics_status(cp, pics, "UploadFailed", step="step 5", skipping=("Uploading",),
                                 timeout=2 * transfer_timeout(pics) + interval + triggered(pics))
        assert not [t for t in servers.uploads() if t.complete], (
            f"step 5: an upload reached a location that refuses them: "
            f"{[t.describe() for t in servers.uploads()]}")
