"""Local Auth List Management entries of the seeded-fault catalogue (see README.md here)."""

from harness.fidelity.catalogue import Entry

ENTRIES = [
    # --- SUT charge point -------------------------------------------------------------------------
    Entry("cs-local-list-version-not-updated", "cs", "local_list_version_stuck",
          "accepts SendLocalList but keeps reporting the old list version",
          ("TC_043_CS", "TC_043_2_CS"), r"listVersion is \d+, expected"),
    Entry("cs-local-list-differential-as-full", "cs", "local_list_differential_as_full",
          "applies a Differential update as a Full one, dropping the idTags it does not name",
          ("TC_043_CS",), r"kept \(not named by the Differential update\).*expected it in",
          collateral={"TC_043_2_CS": "a Full update has no version check, so the stale "
                                     "Differential one is Accepted"}),
    Entry("cs-local-list-no-version-mismatch", "cs", "local_list_version_not_checked",
          "accepts a Differential update that is not newer than the installed list",
          ("TC_043_2_CS",), r"answered Accepted, expected 'VersionMismatch'"),
    # --- SUT central system -----------------------------------------------------------------------
    Entry("csms-local-list-full-sent-as-differential", "csms", "wrong_value",
          "sends a full list with updateType Differential",
          ("TC_043_1_CSMS", "TC_043_3_CSMS", "TC_043_4_CSMS", "TC_043_5_CSMS"),
          r"updateType is 'Differential', expected 'Full'",
          params={"action": "SendLocalList", "field": "updateType", "value": "Differential"}),
]
