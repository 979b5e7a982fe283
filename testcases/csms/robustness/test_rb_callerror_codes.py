"""RB_001_CSMS ... RB_009_CSMS: a central system answers a CALL it cannot take with the CALLERROR
code OCPP-J 1.6 section 4.2.3 defines for the cause (Robustness; every central system runs them).

The harness is the charge point. As for the charge point (testcases/cs/robustness), the OCTT
implies these codes but provokes none of them; the judging rules are
harness/states/robustness.py's table.
"""

from harness.cases import case
from harness.states.csms import booted
from harness.states.robustness import (MISSING, NOT_AN_OBJECT, OUT_OF_CONSTRAINT, UNKNOWN_ACTION,
                                       carries_on,
                                       WRONG_TYPE, incomplete, malformed, outside_profiles, probe,
                                       unknown_action, unsupported_profile_action,
                                       wrong_direction)


@case("RB_001_CSMS", "Unknown action - NotImplemented", profile="Robustness")
async def test_rb_001_csms_unknown_action(csms, pics):
    """OCPP-J 1.6 §4.2.3: an action the receiver does not know is answered NotImplemented."""
    await booted(csms, pics)
    # 1. Harness: [2, id, "HarnessUnknownAction", {}]  2. Central system: CALLERROR NotImplemented
    await probe(csms, unknown_action(), UNKNOWN_ACTION, {}, step="2")


@case("RB_002_CSMS", "Known action not supported - NotSupported", profile="Robustness")
async def test_rb_002_csms_known_action_not_supported(csms, pics):
    """OCPP-J 1.6 §4.2.3: an action the receiver recognises but does not support is answered
    NotSupported: Reset, which only a central system sends, and FirmwareStatusNotification when
    the PICS does not declare FirmwareManagement."""
    await booted(csms, pics)
    # 1. Harness: Reset.req to the central system  2. Central system: CALLERROR NotSupported
    await probe(csms, wrong_direction("Reset", "central system"), "Reset", {"type": "Soft"},
                step="2")
    # 3. Harness: an action of a profile the PICS does not declare  4. CALLERROR NotSupported
    outside = unsupported_profile_action(pics, "csms")
    if outside is not None:
        profile, action, payload = outside
        await probe(csms, outside_profiles(action, profile), action, payload, step="4")


@case("RB_003_CSMS", "Malformed payload, required field missing - OccurenceConstraintViolation",
      profile="Robustness")
async def test_rb_003_csms_required_field_missing(csms, pics):
    """OCPP-J 1.6 §4.2.3 OccurenceConstraintViolation: Authorize.req without idTag."""
    await booted(csms, pics)
    # 1. Harness: Authorize.req {}  2. Central system: CALLERROR OccurenceConstraintViolation
    await probe(csms, malformed("Authorize.req without its required idTag", *MISSING),
                "Authorize", {}, step="2")


@case("RB_004_CSMS", "Malformed payload, wrong type - TypeConstraintViolation",
      profile="Robustness")
async def test_rb_004_csms_wrong_type(csms, pics):
    """OCPP-J 1.6 §4.2.3 TypeConstraintViolation: Authorize.req whose idTag is a number."""
    await booted(csms, pics)
    # 1. Harness: Authorize.req {"idTag": 12}  2. Central system: CALLERROR
    await probe(csms, malformed("Authorize.req whose idTag is a number, not a string",
                                *WRONG_TYPE), "Authorize", {"idTag": 12}, step="2")


@case("RB_005_CSMS", "Malformed payload, value too long - PropertyConstraintViolation",
      profile="Robustness")
async def test_rb_005_csms_value_out_of_constraints(csms, pics):
    """OCPP-J 1.6 §4.2.3 PropertyConstraintViolation: Authorize.req with an idTag of 21
    characters (IdToken, CiString20Type)."""
    await booted(csms, pics)
    # 1. Harness: Authorize.req {"idTag": 21 characters}  2. Central system: CALLERROR
    await probe(csms, malformed("Authorize.req with an idTag of 21 characters (CiString20)",
                                *OUT_OF_CONSTRAINT), "Authorize", {"idTag": "T" * 21}, step="2")


@case("RB_006_CSMS", "Malformed payload, not an object - FormationViolation",
      profile="Robustness")
async def test_rb_006_csms_payload_not_an_object(csms, pics):
    """OCPP-J 1.6 §4.1.3 (the payload is a JSON object) and §4.2.3 FormationViolation: a
    Heartbeat whose payload is a JSON array."""
    await booted(csms, pics)
    # 1. Harness: [2, id, "Heartbeat", []]  2. Central system: CALLERROR FormationViolation
    await probe(csms, malformed("a Heartbeat CALL whose payload is an array", *NOT_AN_OBJECT),
                "Heartbeat", [], step="2")


@case("RB_007_CSMS", "Incomplete frame - ProtocolError", profile="Robustness")
async def test_rb_007_csms_incomplete_frame(csms, pics):
    """OCPP-J 1.6 §4.2.3 ProtocolError ('Payload for Action is incomplete'): a CALL of
    Heartbeat with no payload element ([2, id, "Heartbeat"])."""
    await booted(csms, pics)
    # 1. Harness: [2, id, "Heartbeat"]  2. Central system: CALLERROR ProtocolError
    await probe(csms, incomplete("Heartbeat"), "Heartbeat", None, step="2", complete=False)


@case("RB_009_CSMS", "Frames that answer nothing - ignored", profile="Robustness")
async def test_rb_009_csms_frames_that_answer_nothing(csms, pics):
    """OCPP-J 1.6 §4.1.3 / §4.2.2: a text frame that is not JSON and a CALLRESULT / CALLERROR
    that answer no CALL of the central system leave it answering the next CALL
    (harness/states/robustness.py, carries_on)."""
    await booted(csms, pics)
    # 1-3. Harness: not JSON; a CALLRESULT and a CALLERROR answering nothing
    # 4. Harness: Heartbeat.req  5. Central system: Heartbeat.conf
    await carries_on(csms, "Heartbeat", {}, receiver="central system")
