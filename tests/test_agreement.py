"""The schema-agreement campaign (harness.fidelity.agreement): a small run agrees, and the
campaign would see a disagreement if the harness's verdict and the judge's differed."""

from __future__ import annotations

import json
from decimal import Decimal

from harness.fidelity import agreement
from harness.protocol import Checker


def test_a_small_campaign_agrees_on_every_frame():
    result = agreement.run(per_schema=2, max_mutations=3)
    assert result.frames > 500
    assert result.by_kind["valid"] > 100 and result.by_kind["mutated"] > 300
    assert result.disagreements == [], result.disagreements[:3]
    assert result.agreed == result.frames
    assert "100.000%" in result.summary()


def test_respelled_decimals_are_the_same_numbers():
    payload = {"limit": Decimal("7.3"), "n": 3, "l": [Decimal("0.1"), Decimal("16")]}
    assert agreement.dumps(payload) == '{"limit":7.3,"n":3,"l":[0.1,16]}'
    respelled = agreement.dumps(payload, respell=True)
    assert respelled == '{"limit":73E-1,"n":3,"l":[1E-1,16.0]}'
    assert json.loads(respelled, parse_float=Decimal) == payload


def test_a_respelled_limit_is_still_a_multiple_of_a_tenth():
    # A float reading of 73E-1 is 7.300000000000001: the harness must judge the number as written.
    text = ('[2,"1","SetChargingProfile",{"connectorId":1,"csChargingProfiles":{'
            '"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",'
            '"chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A",'
            '"startSchedule":"2026-01-01T00:00:00Z","chargingSchedulePeriod":[{"startPeriod":0,'
            '"limit":73E-1}]}}}]')
    assert Checker().check("csms", text).findings == []
    assert Checker().check("csms", text.replace("73E-1", "735E-2")).findings


def test_a_disagreement_is_reported_with_the_frame(monkeypatch):
    # A judge that accepts everything: every mutated frame must now show up as a disagreement.
    class Lenient:
        def iter_errors(self, payload):
            return iter(())
    monkeypatch.setattr(agreement, "judge", lambda action, response: Lenient())
    result = agreement.run(per_schema=1, max_mutations=1)
    assert result.disagreements
    first = result.disagreements[0]
    assert first.kind == "mutated" and first.ours and first.judge == []
    assert first.frame.startswith("[")
    assert result.agreed < result.frames
