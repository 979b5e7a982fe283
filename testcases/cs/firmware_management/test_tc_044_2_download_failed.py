"""TC_044_2_CS Firmware Update - Download Failed (Firmware Management).

UpdateFirmware with a location on the harness's file server whose file name is the configured one
prefixed ``does_not_exist_`` (nothing is served there) and retries 0. The charge point may report
Downloading, then must report DownloadFailed; it keeps its firmware: no reboot follows, and the
harness's server saw no complete download.

Reading chosen: "the charge point returns to Available" is checked as "it does not reboot" (no
BootNotification up to the DownloadFailed report), since its connectors never left Available.
"""

from harness.cases import case
from harness.states.cs import booted, cite, requests_of
from harness.states.firmware_management import (NA_NO_PROTOCOL, conf_ok, file_servers, firmware,
                                                 firmware_status, retrieve_date,
                                                 served_protocols, transfer_timeout)


@case("TC_044_2_CS", "Firmware Update - Download Failed", profile="FirmwareManagement",
      needs=("Booted",), na_when=NA_NO_PROTOCOL)
async def test_tc_044_2_cs_download_failed(cp, driver, pics):
    await booted(cp, pics)
    name, _ = firmware(pics)
    missing = f"does_not_exist_{name}"
    protocol = served_protocols(pics)[0]
    async with file_servers(pics) as servers:
        # 1. Harness: UpdateFirmware.req (location of a file that does not exist, retries 0)
        # 2. Charge point: UpdateFirmware.conf
        update = await cp.call("UpdateFirmware", {"location": servers.url(protocol, missing),
                                                  "retrieveDate": retrieve_date(), "retries": 0})
        conf_ok(update, "UpdateFirmware", "step 2")

        # 3. (optional) FirmwareStatusNotification.req Downloading
        first = await firmware_status(cp, pics, ("Downloading", "DownloadFailed"), step="step 3",
                                      timeout=transfer_timeout(pics))
        # 5. FirmwareStatusNotification.req DownloadFailed
        failed = first if first["status"] == "DownloadFailed" else await firmware_status(
            cp, pics, "DownloadFailed", step="step 5", timeout=transfer_timeout(pics))

        assert not [t for t in servers.downloads() if t.complete], (
            f"step 5: the harness served no file named {missing!r}, yet a download completed: "
            f"{[t.describe() for t in servers.downloads()]}")
        boots = [b for b in requests_of(cp, "BootNotification")
                 if b.frame.mono_ns > update.frame.mono_ns]
        assert not boots, (
            f"step 5: the charge point rebooted ({cite(boots[0])}) after a failed download "
            f"({cite(failed)}); it must keep its firmware")
