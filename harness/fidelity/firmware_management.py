"""Firmware Management entries of the seeded-fault catalogue (see README.md here for the format)."""

from harness.fidelity.catalogue import Entry

ENTRIES = [
    # --- SUT charge point -------------------------------------------------------------------------
    Entry("cs-firmware-downloaded-without-download", "cs", "firmware_fake_download",
          "reports Downloaded and installs without fetching the firmware from the location",
          ("TC_044_1_CS", "TC_044_3_CS"), r"Downloaded.*no complete download",
          collateral={"TC_044_2_CS": "it reports Downloaded for a file that does not exist"}),
    Entry("cs-diagnostics-uploaded-without-upload", "cs", "diagnostics_fake_upload",
          "reports Uploaded without sending the diagnostics file to the location",
          ("TC_045_1_CS",), r"Uploaded.*received no complete, non-empty upload",
          collateral={"TC_045_2_CS": "it reports Uploaded to a location that refuses uploads"}),
    # --- SUT central system -----------------------------------------------------------------------
    Entry("csms-firmware-status-callerror", "csms", "callerror_instead_of_result",
          "has no FirmwareStatusNotification handler: answers it with a CALLERROR",
          ("TC_044_1_CSMS", "TC_044_2_CSMS", "TC_044_3_CSMS", "TC_054_CSMS"),
          r"FirmwareStatusNotification\.req was answered with CALLERROR",
          params={"action": "FirmwareStatusNotification"}),
    Entry("csms-firmware-location-altered", "csms", "wrong_value",
          "sends UpdateFirmware with another location than the one the operator gave",
          ("TC_044_1_CSMS", "TC_044_2_CSMS", "TC_044_3_CSMS"),
          r"location is .*expected the configured",
          params={"action": "UpdateFirmware", "field": "location",
                  "value": "http://127.0.0.1:9/firmware/other.bin"}),
    Entry("csms-diagnostics-status-callerror", "csms", "callerror_instead_of_result",
          "answers DiagnosticsStatusNotification with a CALLERROR",
          ("TC_045_1_CSMS", "TC_045_2_CSMS", "TC_054_CSMS"),
          r"DiagnosticsStatusNotification\.req was answered with CALLERROR",
          params={"action": "DiagnosticsStatusNotification"}),
]
