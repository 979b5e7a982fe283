"""TC_044_3_CS Firmware Update - Installation Failed (Firmware Management).

The harness serves an image the charge point must refuse (the PICS [files] invalid_firmware, or a
generated file that is no firmware at all) and asks for the update: Downloading, Downloaded (the
bytes really moved: size and SHA-256 checked on the harness's server), Installing, then
InstallationFailed.

Reading chosen for the truncated tail (catalogue P-t): the final status is InstallationFailed; a
reboot in between is allowed (the CSMS twin shows one): if the charge point rebooted, its
BootNotification and StatusNotifications are taken and InstallationFailed may follow the boot.
"""

from harness.cases import case
from harness.states.cs import booted, requests_of, settled
from harness.states.firmware_management import (NA_NO_PROTOCOL, assert_downloaded, conf_ok,
                                                 file_servers, firmware, firmware_status,
                                                 retrieve_date, served_protocols, statuses_after,
                                                 transfer_timeout)


@case("TC_044_3_CS", "Firmware Update - Installation Failed", profile="FirmwareManagement",
      needs=("Booted", "an invalid firmware on the file server (the harness's)"),
      na_when=NA_NO_PROTOCOL)
async def test_tc_044_3_cs_installation_failed(cp, driver, pics):
    await booted(cp, pics)
    name, data = firmware(pics, valid=False)
    protocol = served_protocols(pics)[-1]
    async with file_servers(pics) as servers:
        servers.offer(name, data)
        # 1. Harness: UpdateFirmware.req (location of the invalid firmware)  2. .conf
        update = await cp.call("UpdateFirmware", {"location": servers.url(protocol, name),
                                                  "retrieveDate": retrieve_date()})
        conf_ok(update, "UpdateFirmware", "step 2")

        # 3. FirmwareStatusNotification.req Downloading
        await firmware_status(cp, pics, "Downloading", step="step 3")
        # 5. FirmwareStatusNotification.req Downloaded -- and the bytes really moved
        downloaded = await firmware_status(cp, pics, "Downloaded", step="step 5",
                                           timeout=transfer_timeout(pics))
        await assert_downloaded(servers, name, data, update, downloaded, pics,
                                    step="step 5")
        # 7. FirmwareStatusNotification.req Installing
        await firmware_status(cp, pics, "Installing", step="step 7",
                              timeout=transfer_timeout(pics))
        # 9. FirmwareStatusNotification.req InstallationFailed (a reboot before it is allowed)
        await firmware_status(cp, pics, "InstallationFailed", step="step 9",
                              timeout=pics.timing.boot_timeout + transfer_timeout(pics))
        boots = [b for b in requests_of(cp, "BootNotification")
                 if b.frame.mono_ns > update.frame.mono_ns]
        if boots:
            await statuses_after(cp, pics, boots[-1], step="step 9")
            settled(cp)
