"""Smart Charging entries of the seeded-fault catalogue (see README.md here for the format)."""

from harness.fidelity.catalogue import Entry, Symptom

CS = "cs"
CSMS = "csms"

ENTRIES = [
    # --- SUT charge point: the fault goes into the reference charge point ------------------------
    Entry("cs-set-profile-tx-without-transaction", CS, "wrong_value",
          "accepts a TxProfile although no transaction runs",
          ("TC_058_1_CS",),
          r"SetChargingProfile\.conf \(profile 3, TxProfile.*is 'Accepted', expected 'Rejected'",
          params={"action": "SetChargingProfile", "field": "status", "value": "Accepted"},
          also=r"SetChargingProfile\.conf \(profile \d+, TxProfile.*is 'Accepted', expected "
               r"'Rejected'"),
    Entry("cs-remote-start-any-profile-purpose", CS, "wrong_value",
          "accepts a RemoteStartTransaction whose chargingProfile is a TxDefaultProfile",
          ("TC_060_CS",),
          r"RemoteStartTransaction\.conf with a TxDefaultProfile is 'Accepted', "
          r"expected 'Rejected'",
          params={"action": "RemoteStartTransaction", "field": "status", "value": "Accepted"},
          also=(Symptom("wrong-value", "RemoteStartTransaction", "status", got="Accepted",
                        expected="Rejected"),
                r"RemoteStartTransaction\.conf .*is 'Accepted', expected 'Rejected'")),
    Entry("cs-composite-wrong-connector", CS, "wrong_value",
          "answers GetCompositeSchedule with the schedule of another connector",
          ("TC_066_CS",), r"GetCompositeSchedule\.conf connectorId is 2, expected 1",
          params={"action": "GetCompositeSchedule", "field": "connectorId", "value": 2}),
    Entry("cs-composite-limit-off", CS, "wrong_value",
          "reports the first composite period at 10 A whatever the profiles say",
          ("TC_056_CS",),
          r"period 1 starts at 0 s, expected limit 6\.0 A, the device reports 10\.0 A",
          params={"action": "GetCompositeSchedule",
                  "field": "chargingSchedule.chargingSchedulePeriod.0.limit", "value": 10},
          also=r"composite schedule of connector \d+ is not the one the installed profiles give: "
               r"period 1 starts at 0 s, expected limit [\d.]+ A, the device reports 10\.0 A"),
    Entry("cs-composite-start-late", CS, "wrong_value",
          "stamps the composite schedule with a start far from the moment it was asked",
          ("TC_072_CS",), r"the composite schedule starts at 2020-01-01T00:00:00Z, .* expected "
                          r"within ± [\d.]+ s",
          params={"action": "GetCompositeSchedule", "field": "chargingSchedule.startSchedule",
                  "value": "2020-01-01T00:00:00Z"}),
    Entry("cs-clear-profile-unknown", CS, "wrong_value",
          "answers Unknown to ClearChargingProfile for a profile it holds",
          ("TC_067_CS",), r"ClearChargingProfile\.conf for \{'id': 22\} is 'Unknown', expected "
                          r"'Accepted'",
          params={"action": "ClearChargingProfile", "field": "status", "value": "Unknown"}),
    # --- SUT CSMS: the fault goes into the reference central system ------------------------------
    Entry("csms-tx-default-wrong-stack-level", CSMS, "wrong_value",
          "sets the TxDefaultProfile at another stack level than configured",
          ("TC_056_CSMS",), r"csChargingProfiles: stackLevel 5, expected 0",
          params={"action": "SetChargingProfile", "field": "csChargingProfiles.stackLevel",
                  "value": 5},
          also=r"stackLevel (is )?5, expected 0"),
    Entry("csms-tx-profile-wrong-transaction", CSMS, "wrong_value",
          "sets a TxProfile for a transaction that is not the running one",
          ("TC_057_CSMS",), r"SetChargingProfile\.req transactionId is 999999, expected 1",
          params={"action": "SetChargingProfile", "field": "csChargingProfiles.transactionId",
                  "value": 999999},
          also=r"transactionId in a profile that is not a TxProfile"),
    Entry("csms-remote-start-drops-profile", CSMS, "missing_field",
          "leaves the chargingProfile out of a RemoteStartTransaction the operator gave one",
          ("TC_059_CSMS",), r"the charging profile is None, not an object",
          params={"action": "RemoteStartTransaction", "field": "chargingProfile"}),
    Entry("csms-composite-wrong-duration", CSMS, "wrong_value",
          "asks for the composite schedule over another duration than configured",
          ("TC_066_CSMS",), r"GetCompositeSchedule\.req: duration 60, expected 400",
          params={"action": "GetCompositeSchedule", "field": "duration", "value": 60}),
    Entry("csms-clear-by-id-adds-connector", CSMS, "wrong_value",
          "clears charging profiles by id with a connectorId added",
          ("TC_067_CSMS",), r"ClearChargingProfile\.req is \{'id': 11, 'connectorId': 1\}, "
                            r"expected id 11 and no other field",
          params={"action": "ClearChargingProfile", "field": "connectorId", "value": 1}),
]

# Behaviour faults of the reference charge point (harness/sim/cp/smart.py, profiles.py).
ENTRIES += [
    Entry("cs-stack-level-inverted", CS, "stack_level_inverted",
          "lets the lowest stackLevel of a purpose win instead of the highest",
          ("TC_072_CS",),
          r"period 1 starts at 0 s, expected limit 7\.0 A, the device reports 6\.0 A",
          collateral={"TC_066_CS": "stacks two TxDefaultProfiles too"},
          also=r"the composite schedule of connector \d+ is not the one the installed profiles "
               r"give"),
    Entry("cs-composite-off-by-one-period", CS, "composite_limits_shifted",
          "reports each composite period with the limit of the period before it",
          ("TC_066_CS",),
          r"period 2 starts at [\d.]+ s, expected limit 10\.0 A, the device reports 8\.0 A",
          collateral={"TC_0[5-8]*_CS": "every composite with two periods or more shifts"}),
    Entry("cs-tx-default-not-on-running-tx", CS, "tx_default_skips_running_tx",
          "does not apply a TxDefaultProfile to the transaction already running",
          ("TC_082_CS",),
          r"period 1 starts at 0 s, expected limit 10\.0 A, the device reports 32\.0 A"),
    Entry("cs-clear-ignores-stack-level", CS, "clear_ignores_stack_level",
          "clears every stack level of a purpose when asked to clear one",
          ("TC_067_CS",),
          r"step 7-8: .*expected limit 7\.0 A, the device reports 32\.0 A"),
]

# The same faults seen by the remaining cases (full campaign only: fast=False).
ENTRIES += [
    Entry("cs-set-profile-other-transaction", CS, "wrong_value",
          "accepts a TxProfile for a transaction that is not the running one",
          ("TC_058_2_CS",),
          r"SetChargingProfile\.conf \(profile 4, TxProfile.*is 'Accepted', expected 'Rejected'",
          params={"action": "SetChargingProfile", "field": "status", "value": "Accepted"},
          fast=False,
          also=r"SetChargingProfile\.conf \(profile \d+, TxProfile.*is 'Accepted', expected "
               r"'Rejected'"),
    Entry("cs-tx-profile-composite-off-by-one", CS, "composite_limits_shifted",
          "reports the TxProfile's periods each with the limit of the period before it",
          ("TC_057_CS",),
          r"period 2 starts at [\d.]+ s, expected limit 10\.0 A, the device reports 8\.0 A",
          fast=False,
          also=r"the composite schedule of connector \d+ is not the one the installed profiles "
               r"give"),
    Entry("cs-remote-start-profile-composite-off-by-one", CS, "composite_limits_shifted",
          "reports the remote start's TxProfile periods each with the limit of the one before",
          ("TC_059_CS",),
          r"period 2 starts at [\d.]+ s, expected limit 10\.0 A, the device reports 6\.0 A",
          fast=False,
          also=r"the composite schedule of connector \d+ is not the one the installed profiles "
               r"give"),
]
