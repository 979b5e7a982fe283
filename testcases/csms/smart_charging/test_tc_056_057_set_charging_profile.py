"""TC_056_CSMS Central Smart Charging - TxDefaultProfile, and TC_057_CSMS - TxProfile (Smart
Charging).

TC_056: the operator makes the central system set a TxDefaultProfile on <Configured ConnectorId>;
the harness's charge point accepts. Checks on csChargingProfiles (2025-11 text): connectorId and
stackLevel as configured, purpose TxDefaultProfile, kind Absolute, validFrom and validTo present,
no transactionId, no recurrencyKind, a startSchedule, chargingRateUnit and duration as configured,
the first period at the configured startPeriod (0) with limit 6.0 A (6000.0 W), compared exactly as
written on the wire, and numberPhases as configured (3, which may also be omitted).

TC_057 (Before: Charging): the operator makes the central system set a TxProfile for the running
transaction; the harness accepts. Checks: connectorId as configured, purpose TxProfile,
transactionId the one the central system gave, no recurrencyKind; an Absolute profile carries
validFrom, validTo, startSchedule and duration; a Relative one no startSchedule.
"""

from datetime import timedelta

from harness.cases import case
from harness.smart_charging import ChargingProfile
from harness.states.csms import (booted, charging, configured_connector, end_charging,
                                 operator_sends)
from harness.states.smart_charging import (COMPOSITE_DURATION, NUMBER_PHASES, STACK_LEVEL,
                                           assert_profile, limit, now, profile, rate_unit,
                                           request_limits)

ACCEPTED = {"status": "Accepted"}


@case("TC_056_CSMS", "Central Smart Charging - TxDefaultProfile", profile="SmartCharging",
      needs=("Booted",))
async def test_tc_056_csms_tx_default_profile(csms, driver, pics):
    await booted(csms, pics)
    connector_id, t0 = configured_connector(pics), now()
    asked = profile(pics, 1, "TxDefaultProfile", [(0, 6)], start_schedule=t0,
                    duration=COMPOSITE_DURATION, valid_from=t0,
                    valid_to=t0 + timedelta(days=1))

    # 1. [OPERATOR: set a TxDefaultProfile] Central system: SetChargingProfile.req
    # 2. Harness: SetChargingProfile.conf Accepted
    request = await operator_sends(csms, driver, pics, "SetChargingProfile",
                                   {"connectorId": connector_id, "csChargingProfiles": asked},
                                   answer=ACCEPTED, step=1)
    raw = request["csChargingProfiles"]
    assert_profile(request, raw, step=1, purpose="TxDefaultProfile", connector_id=connector_id,
                   given_connector=request["connectorId"])
    schedule = raw["chargingSchedule"]
    wrong = []
    if raw["stackLevel"] != STACK_LEVEL:
        wrong.append(f"stackLevel {raw['stackLevel']}, expected {STACK_LEVEL}")
    if raw["chargingProfileKind"] != "Absolute":
        wrong.append(f"chargingProfileKind {raw['chargingProfileKind']!r}, expected 'Absolute'")
    for key in ("validFrom", "validTo"):
        if key not in raw:
            wrong.append(f"{key} missing")
    for key in ("transactionId", "recurrencyKind"):
        if key in raw:
            wrong.append(f"{key} present ({raw[key]!r}), expected absent")
    if "startSchedule" not in schedule:
        wrong.append("chargingSchedule.startSchedule missing")
    if schedule["chargingRateUnit"] != rate_unit(pics):
        wrong.append(f"chargingRateUnit {schedule['chargingRateUnit']!r}, expected "
                     f"{rate_unit(pics)!r}")
    if schedule.get("duration") != COMPOSITE_DURATION:
        wrong.append(f"duration {schedule.get('duration')!r}, expected {COMPOSITE_DURATION}")
    first = schedule["chargingSchedulePeriod"][0]
    if first["startPeriod"] != 0:
        wrong.append(f"first startPeriod {first['startPeriod']}, expected 0")
    limits = request_limits(request)
    if limits[:1] != [limit(pics, 6)]:
        wrong.append(f"first limit {limits[0]}, expected {limit(pics, 6)} {rate_unit(pics)}")
    if first.get("numberPhases", NUMBER_PHASES) != NUMBER_PHASES:
        wrong.append(f"numberPhases {first['numberPhases']}, expected {NUMBER_PHASES} (or "
                     "omitted)")
    assert not wrong, ("step 1: SetChargingProfile.req csChargingProfiles: " + "; ".join(wrong)
                       + f" (wire log line {request.line})")
    ChargingProfile.from_ocpp(request["connectorId"], raw)  # its dates and numbers can be read


@case("TC_057_CSMS", "Central Smart Charging - TxProfile", profile="SmartCharging",
      needs=("Booted", "Charging"))
async def test_tc_057_csms_tx_profile(csms, driver, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)
    asked = profile(pics, 2, "TxProfile", [(0, 10), (120, 8)], kind="Relative",
                    transaction_id=tx.transaction_id)

    # 1. [OPERATOR: set a TxProfile for the running transaction] SetChargingProfile.req
    # 2. Harness: SetChargingProfile.conf Accepted
    request = await operator_sends(csms, driver, pics, "SetChargingProfile",
                                   {"connectorId": tx.connector_id, "csChargingProfiles": asked},
                                   answer=ACCEPTED, step=1)
    raw = request["csChargingProfiles"]
    assert_profile(request, raw, step=1, purpose="TxProfile", connector_id=tx.connector_id,
                   given_connector=request["connectorId"])
    assert raw.get("transactionId") == tx.transaction_id, (
        f"step 1: SetChargingProfile.req transactionId is {raw.get('transactionId')!r}, expected "
        f"{tx.transaction_id}, the id the central system gave (wire log line {request.line}; "
        f"StartTransaction.conf at line {tx.start.line})")
    if raw["chargingProfileKind"] == "Absolute":
        missing = [k for k in ("validFrom", "validTo") if k not in raw] + [
            f"chargingSchedule.{k}" for k in ("startSchedule", "duration")
            if k not in raw["chargingSchedule"]]
        assert not missing, (f"step 1: an Absolute TxProfile without {', '.join(missing)} "
                             f"(wire log line {request.line})")

    # Clean-up (not in the OCTT table): stopped locally, cable removed.
    await end_charging(csms, tx)
