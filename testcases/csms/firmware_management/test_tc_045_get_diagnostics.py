"""TC_045_1_CSMS Get Diagnostics and TC_045_2_CSMS Get Diagnostics - Upload Failed (Firmware
Management).

The harness hosts the <Configured log location> (its upload server, on the first file transfer
protocol of the PICS it serves) and asks the operator to make the central system send
GetDiagnostics with it. The harness's charge point answers with the fileName of its diagnostics,
reports Uploading, uploads to the location the request carries, and reports how it went. The
central system must answer both DiagnosticsStatusNotifications with a .conf.

TC_045_1: the upload really arrives (size and SHA-256 of what the harness's server received equal
what was sent), then Uploaded. TC_045_2: the location is one where uploads are refused (HTTP 403
under /refused/; for FTP a wrong password); the upload really fails, then UploadFailed.
"""

from harness.cases import case
from harness.fileserver import sha256
from harness.states.csms import booted, call, operator_sends
from harness.states.firmware_management import (NA_NO_PROTOCOL, diagnostics_file, file_servers,
                                                 send_file, served_protocols)



async def _get_diagnostics(csms, driver, pics, location: str, name: str):
    # 1. [OPERATOR: GetDiagnostics, location = <Configured log location>]
    # 2. Harness: GetDiagnostics.conf with the fileName
    request = await operator_sends(csms, driver, pics, "GetDiagnostics", {"location": location},
                                   answer={"fileName": name}, step=1)
    assert request["location"] == location, (
        f"step 1: GetDiagnostics.req location is {request['location']!r}, expected the "
        f"configured {location!r} (wire log line {request.line})")
    # 3. Harness: DiagnosticsStatusNotification.req Uploading  4. .conf
    await call(csms, "DiagnosticsStatusNotification", {"status": "Uploading"}, step=3)
    return request


@case("TC_045_1_CSMS", "Get Diagnostics", profile="FirmwareManagement",
      needs=("Booted", "<Configured log location> (the harness's upload server)"),
      na_when=NA_NO_PROTOCOL)
async def test_tc_045_1_csms_get_diagnostics(csms, driver, pics):
    await booted(csms, pics)
    name, data = diagnostics_file(pics)
    async with file_servers(pics) as servers:
        location = servers.upload_location(served_protocols(pics)[0])
        request = await _get_diagnostics(csms, driver, pics, location, name)
        why = await send_file(request["location"], name, data, pics)
        assert not why, f"step 5: the harness's charge point could not upload: {why}"
        received = servers.uploaded(name)
        assert received is not None and sha256(received) == sha256(data), (
            f"step 5: the upload to {request['location']!r} did not arrive intact")
    # 5. Harness: DiagnosticsStatusNotification.req Uploaded  6. .conf
    await call(csms, "DiagnosticsStatusNotification", {"status": "Uploaded"}, step=5)


@case("TC_045_2_CSMS", "Get Diagnostics - Upload Failed", profile="FirmwareManagement",
      needs=("Booted",), na_when=NA_NO_PROTOCOL)
async def test_tc_045_2_csms_upload_failed(csms, driver, pics):
    await booted(csms, pics)
    name, data = diagnostics_file(pics)
    async with file_servers(pics) as servers:
        location = servers.refusing_location(served_protocols(pics)[0])
        request = await _get_diagnostics(csms, driver, pics, location, name)
        why = await send_file(request["location"], name, data, pics)
        assert why, f"step 5: {request['location']!r} was expected to refuse the upload"
    # 5. Harness: DiagnosticsStatusNotification.req UploadFailed  6. .conf
    await call(csms, "DiagnosticsStatusNotification", {"status": "UploadFailed"}, step=5)
