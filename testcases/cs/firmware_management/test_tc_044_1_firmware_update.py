"""TC_044_1_CS Firmware Update - Download and Install (Firmware Management).

The harness serves a firmware image (the PICS [files] firmware, or a generated one) and asks the
charge point to install it, once for every file transfer protocol both sides have (HTTP, FTP).

Reading chosen for the truncated tail (catalogue P-t): after Installing the charge point reboots
(BootNotification, StatusNotification of connector 0 and every connector) and reports Installed.
The charge point may first make its connectors Unavailable (OCPP 1.6 section 5.19: it may wait for
transactions to end); such StatusNotifications are taken and not judged. Beyond the OCTT, the
Downloaded report is checked against the harness's file server: a complete download of the image,
with its size and SHA-256, must have ended before the charge point said Downloaded.
"""

from harness.cases import case
from harness.states.cs import booted, cite, settled
from harness.states.firmware_management import (NA_NO_PROTOCOL, assert_downloaded, conf_ok,
                                                 file_servers, firmware, firmware_status,
                                                 retrieve_date, served_protocols, statuses_after,
                                                 transfer_timeout)


@case("TC_044_1_CS", "Firmware Update - Download and Install", profile="FirmwareManagement",
      needs=("Booted", "a file server with a valid firmware (the harness's)"),
      na_when=NA_NO_PROTOCOL)
async def test_tc_044_1_cs_firmware_update(cp, driver, pics):
    await booted(cp, pics)
    name, data = firmware(pics)
    async with file_servers(pics) as servers:
        servers.offer(name, data)
        for protocol in served_protocols(pics):
            location = servers.url(protocol, name)
            # 1. Harness: UpdateFirmware.req (location, retrieveDate now)  2. Charge point: .conf
            update = await cp.call("UpdateFirmware", {"location": location,
                                                      "retrieveDate": retrieve_date()})
            conf_ok(update, "UpdateFirmware", f"{protocol} step 2")

            # 3. FirmwareStatusNotification.req Downloading
            await firmware_status(cp, pics, "Downloading", step=f"{protocol} step 3")
            # 5. FirmwareStatusNotification.req Downloaded -- and the bytes really moved
            downloaded = await firmware_status(cp, pics, "Downloaded", step=f"{protocol} step 5",
                                               timeout=transfer_timeout(pics))
            await assert_downloaded(servers, name, data, update, downloaded, pics,
                                    step=f"{protocol} step 5")
            # 7. FirmwareStatusNotification.req Installing
            await firmware_status(cp, pics, "Installing", step=f"{protocol} step 7",
                                  timeout=transfer_timeout(pics))
            # 9. The charge point reboots: BootNotification.req, StatusNotification.req for
            #    connector 0 and every connector
            boot = await cp.expect("BootNotification", timeout=pics.timing.boot_timeout,
                                   what=f"{protocol} step 9: BootNotification after the "
                                        "installation")
            await statuses_after(cp, pics, boot, step=f"{protocol} step 9")
            settled(cp)
            # 11. FirmwareStatusNotification.req Installed
            installed = await firmware_status(cp, pics, "Installed", step=f"{protocol} step 11")
            assert installed.frame.mono_ns > boot.frame.mono_ns, (
                f"{protocol} step 11: Installed ({cite(installed)}) came before the reboot "
                f"({cite(boot)})")
