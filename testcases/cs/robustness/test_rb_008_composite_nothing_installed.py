"""RB_008_CS Composite schedule with nothing installed (Robustness; a SmartCharging charge point).

No OCTT case asks for the composite schedule of a connector no charging profile limits, so a
firmware's internal "no limit" sentinel (``limit: -1``, ``numberPhases: -1``) reaches the wire
unseen: the schema allows any number for ``limit`` and any integer for ``numberPhases``.

Rules checked (OCPP 1.6, class ChargingSchedulePeriod and GetCompositeSchedule.conf):
- ``limit`` is a charging rate ("Charging rate limit during the schedule period, in the applicable
  chargingRateUnit"): a negative rate is no limit the EV can follow, a FAIL;
- ``numberPhases`` is "the number of phases that can be used for charging": 1 to 3, else a FAIL;
- ``minChargingRate``, when given, is a rate too: not negative.
What the answer may legally be with nothing installed: Accepted with the charge point's own limit
(its hardware, rule 8 of harness/smart_charging.py), Accepted without a chargingSchedule, or
Rejected (the spec does not oblige a schedule here); none of these is judged otherwise.
"""

from decimal import Decimal

from harness.cases import case
from harness.states.cs import booted, cite
from harness.states.smart_charging import (exact_payload, profiles_installed, rate_unit,
                                           status_of)

DURATION = 300


def period_problems(schedule: dict) -> list[str]:
    """What is wrong with the periods of a composite schedule as numbers (not their times)."""
    problems = []
    rate = schedule.get("minChargingRate")
    if rate is not None and Decimal(rate) < 0:
        problems.append(f"minChargingRate is {rate}, a negative charging rate")
    for number, period in enumerate(schedule.get("chargingSchedulePeriod") or [], start=1):
        limit, phases = period.get("limit"), period.get("numberPhases")
        if limit is not None and Decimal(limit) < 0:
            problems.append(f"period {number} (startPeriod {period.get('startPeriod')}) has limit "
                            f"{limit}, a negative charging rate")
        if phases is not None and not 1 <= phases <= 3:
            problems.append(f"period {number} (startPeriod {period.get('startPeriod')}) has "
                            f"numberPhases {phases}, expected 1 to 3")
    return problems


@case("RB_008_CS", "Composite schedule with nothing installed", profile="Robustness",
      needs=("Booted", "no charging profile installed"),
      na_when=((lambda pics: not pics.supports("SmartCharging"),
                "the PICS does not list the SmartCharging profile"),))
async def test_rb_008_cs_composite_nothing_installed(cp, pics):
    await booted(cp, pics)
    async with profiles_installed(cp, pics):  # ClearChargingProfile (all), before and after
        unit = rate_unit(pics)
        # 1. Harness: GetCompositeSchedule.req connector 1, 300 s, the configured unit
        response = await cp.call("GetCompositeSchedule", {"connectorId": 1, "duration": DURATION,
                                                          "chargingRateUnit": unit})
        # 2. Charge point: .conf Accepted (with or without a schedule) or Rejected
        assert response.error is None and response.status in ("Accepted", "Rejected"), (
            f"step 2: GetCompositeSchedule.conf with nothing installed is {status_of(response)}, "
            f"expected 'Accepted' or 'Rejected' ({cite(response)})")
        schedule = exact_payload(response).get("chargingSchedule")
        if response.status != "Accepted" or not isinstance(schedule, dict):
            return
        problems = period_problems(schedule)
        assert not problems, (
            "step 2: the composite schedule of connector 1 with no charging profile installed "
            "is not a schedule an EV can follow: " + "; ".join(problems) +
            f" (OCPP 1.6 ChargingSchedulePeriod: limit is a charging rate, numberPhases the "
            f"phases that can be used; {cite(response)})")
