"""Remote Trigger entries of the seeded-fault catalogue (see README.md here for the format)."""

from harness.fidelity.catalogue import Entry

ENTRIES = [
    # --- SUT charge point -------------------------------------------------------------------------
    Entry("cs-trigger-heartbeat-not-sent", "cs", "trigger_not_sent",
          "accepts TriggerMessage Heartbeat but never sends the Heartbeat",
          ("TC_054_CS",), r"the triggered Heartbeat\.req.*did not come",
          params={"requestedMessage": "Heartbeat"}),
    Entry("cs-trigger-unknown-connector-accepted", "cs", "trigger_unknown_connector",
          "accepts a TriggerMessage for a connector that does not exist",
          ("TC_055_CS",), r"is Accepted, expected Rejected"),
    # --- SUT central system -----------------------------------------------------------------------
    Entry("csms-trigger-wrong-connector", "csms", "wrong_value",
          "sends TriggerMessage for another connector than the operator chose",
          ("TC_054_CSMS",), r"connectorId is 2, expected 1",
          params={"action": "TriggerMessage", "field": "connectorId", "value": 2}),
]
