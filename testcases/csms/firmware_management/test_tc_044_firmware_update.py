"""TC_044_1_CSMS Firmware Update - Download and Install, TC_044_2_CSMS ... - Download Failed and
TC_044_3_CSMS ... - Installation Failed (Firmware Management).

The harness hosts the <Firmware Download URL> (its file server, on the first file transfer
protocol of the PICS it serves) and asks the operator to make the central system send
UpdateFirmware with that location and retrieveDate now. The harness's charge point then behaves as
a correct one: it downloads from the location the request carries (the bytes really move: size and
SHA-256 are compared with what was served), reports every FirmwareStatusNotification, makes its
connectors Unavailable, installs, reboots (BootNotification, StatusNotification Available) and
reports the outcome. The central system must answer every one of those requests with a .conf
(never a CALLERROR), accept the boot, and send the location it was given.

TC_044_2: the location names a file that does not exist (prefixed does_not_exist_); the download
fails for real: Downloading, DownloadFailed. TC_044_3: the served image is not a firmware; it
downloads, the installation fails after the reboot: InstallationFailed.

Reading chosen: retrieveDate is judged only as "present and a date-time" (the schema); the harness
starts at once, as the operator asked for now.
"""

from harness.cases import case
from harness.fileserver import sha256
from harness.states import connector_ids
from harness.states.assertions import conf_status
from harness.states.csms import (booted, call, notify_status, operator_sends, record_boot,
                                 register)
from harness.states.firmware_management import (NA_NO_PROTOCOL, fetch, file_servers, firmware,
                                                 installable, retrieve_date, served_protocols)


async def _report(csms, status: str, step: int) -> None:
    await call(csms, "FirmwareStatusNotification", {"status": status}, step=step)


async def _update(csms, driver, pics, *, location: str, step: int = 1):
    # 1. [OPERATOR: UpdateFirmware, location = <Firmware Download URL>, retrieveDate now]
    # 2. Harness: UpdateFirmware.conf
    request = await operator_sends(csms, driver, pics, "UpdateFirmware",
                                   {"location": location, "retrieveDate": retrieve_date()},
                                   answer={}, step=step)
    assert request["location"] == location, (
        f"step 1: UpdateFirmware.req location is {request['location']!r}, expected the "
        f"configured {location!r} (wire log line {request.line})")
    return request


async def _download_and_install(csms, driver, pics, *, valid: bool) -> bytes:
    """Steps 1-14 of TC_044_1 / TC_044_3; returns the image that was installed."""
    name, data = firmware(pics, valid=valid)
    async with file_servers(pics) as servers:
        servers.offer(name, data)
        request = await _update(csms, driver, pics,
                                location=servers.url(served_protocols(pics)[0], name))
        # 3. Harness: FirmwareStatusNotification.req Downloading  4. .conf
        await _report(csms, "Downloading", 3)
        got, why = await fetch(request["location"], pics)
        assert got is not None, (
            f"step 5: the harness's charge point could not download {request['location']!r}: "
            f"{why}")
        assert sha256(got) == sha256(data), "step 5: the downloaded image is not the one served"
    # 5. Harness: FirmwareStatusNotification.req Downloaded  6. .conf
    await _report(csms, "Downloaded", 5)
    # 7. Harness: StatusNotification.req Unavailable for every connector  8. .conf
    for connector_id in connector_ids(pics, with_zero=False):
        await notify_status(csms, connector_id, "Unavailable", step=7)
    # 9. Harness: FirmwareStatusNotification.req Installing  10. .conf
    await _report(csms, "Installing", 9)
    # 11. The harness's charge point reboots: BootNotification.req  12. .conf Accepted
    await csms.reconnect()
    registration = await register(csms, pics, step=11)  # again while Pending (4.2)
    conf_status(registration.boot, "Accepted", step="step 12", when="after the firmware update",
                why=registration.after_pending)
    record_boot(csms, registration.boot)
    # 13. Harness: StatusNotification.req Available (connector 0 and every connector)  14. .conf
    for connector_id in connector_ids(pics):
        await notify_status(csms, connector_id, "Available", step=13)
    return got


@case("TC_044_1_CSMS", "Firmware Update - Download and Install", profile="FirmwareManagement",
      needs=("Booted", "<Firmware Download URL> (the harness's file server)"),
      na_when=NA_NO_PROTOCOL)
async def test_tc_044_1_csms_firmware_update(csms, driver, pics):
    await booted(csms, pics)
    installed = await _download_and_install(csms, driver, pics, valid=True)
    assert installable(installed)
    # 15. Harness: FirmwareStatusNotification.req Installed  16. .conf
    await _report(csms, "Installed", 15)


@case("TC_044_2_CSMS", "Firmware Update - Download Failed", profile="FirmwareManagement",
      needs=("Booted",), na_when=NA_NO_PROTOCOL)
async def test_tc_044_2_csms_download_failed(csms, driver, pics):
    await booted(csms, pics)
    name, _ = firmware(pics)
    missing = f"does_not_exist_{name}"
    async with file_servers(pics) as servers:
        request = await _update(csms, driver, pics,
                                location=servers.url(served_protocols(pics)[0], missing))
        # 3. Harness: FirmwareStatusNotification.req Downloading  4. .conf
        await _report(csms, "Downloading", 3)
        got, _ = await fetch(request["location"], pics)
        assert got is None, (
            f"step 5: {request['location']!r} was expected not to exist, yet it downloaded")
    # 5. Harness: FirmwareStatusNotification.req DownloadFailed  6. .conf
    await _report(csms, "DownloadFailed", 5)


@case("TC_044_3_CSMS", "Firmware Update - Installation Failed", profile="FirmwareManagement",
      needs=("Booted", "an invalid firmware (the harness's file server)"), na_when=NA_NO_PROTOCOL)
async def test_tc_044_3_csms_installation_failed(csms, driver, pics):
    await booted(csms, pics)
    installed = await _download_and_install(csms, driver, pics, valid=False)
    assert not installable(installed)
    # 15. Harness: FirmwareStatusNotification.req InstallationFailed  16. .conf
    await _report(csms, "InstallationFailed", 15)
