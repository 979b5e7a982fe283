"""RB_001_CS ... RB_009_CS: a charge point answers a CALL it cannot take with the CALLERROR code
OCPP-J 1.6 section 4.2.3 defines for the cause (Robustness; every charge point runs them).

The OCTT implies these codes (its cases accept "CALLERROR NotSupported" for a feature a device
lacks, and it validates every frame), but has no case that provokes them: a device that swaps
NotImplemented and NotSupported, or answers ProtocolError to everything, passes every OCTT case.
The judging rules are harness/states/robustness.py's table; each case names its row.
"""

from harness.cases import case
from harness.states.cs import booted
from harness.states.robustness import (MISSING, NOT_AN_OBJECT, OUT_OF_CONSTRAINT, UNKNOWN_ACTION,
                                       carries_on,
                                       WRONG_TYPE, incomplete, malformed, outside_profiles, probe,
                                       unknown_action, unsupported_profile_action,
                                       wrong_direction)


@case("RB_001_CS", "Unknown action - NotImplemented", profile="Robustness")
async def test_rb_001_cs_unknown_action(cp, pics):
    """OCPP-J 1.6 §4.2.3: an action the receiver does not know is answered NotImplemented."""
    await booted(cp, pics)
    # 1. Harness: [2, id, "HarnessUnknownAction", {}]  2. Charge point: CALLERROR NotImplemented
    await probe(cp, unknown_action(), UNKNOWN_ACTION, {}, step="2")


@case("RB_002_CS", "Known action not supported - NotSupported", profile="Robustness")
async def test_rb_002_cs_known_action_not_supported(cp, pics):
    """OCPP-J 1.6 §4.2.3: an action the receiver recognises but does not support is answered
    NotSupported: Heartbeat, which only a charge point sends, and an action of an optional profile
    the PICS does not declare (that part is skipped when the PICS declares them all)."""
    await booted(cp, pics)
    # 1. Harness: Heartbeat.req to the charge point  2. Charge point: CALLERROR NotSupported
    await probe(cp, wrong_direction("Heartbeat", "charge point"), "Heartbeat", {}, step="2")
    # 3. Harness: an action of a profile the PICS does not declare  4. CALLERROR NotSupported
    outside = unsupported_profile_action(pics, "cs")
    if outside is not None:
        profile, action, payload = outside
        await probe(cp, outside_profiles(action, profile), action, payload, step="4")


@case("RB_003_CS", "Malformed payload, required field missing - OccurenceConstraintViolation",
      profile="Robustness")
async def test_rb_003_cs_required_field_missing(cp, pics):
    """OCPP-J 1.6 §4.2.3 OccurenceConstraintViolation: DataTransfer.req without vendorId."""
    await booted(cp, pics)
    # 1. Harness: DataTransfer.req {}  2. Charge point: CALLERROR OccurenceConstraintViolation
    await probe(cp, malformed("DataTransfer.req without its required vendorId", *MISSING),
                "DataTransfer", {}, step="2")


@case("RB_004_CS", "Malformed payload, wrong type - TypeConstraintViolation",
      profile="Robustness")
async def test_rb_004_cs_wrong_type(cp, pics):
    """OCPP-J 1.6 §4.2.3 TypeConstraintViolation: GetConfiguration.req whose key (an array of
    CiString50) is a string."""
    await booted(cp, pics)
    # 1. Harness: GetConfiguration.req {"key": "HeartbeatInterval"}  2. CALLERROR
    await probe(cp, malformed("GetConfiguration.req whose key is a string, not an array",
                              *WRONG_TYPE), "GetConfiguration", {"key": "HeartbeatInterval"},
                step="2")


@case("RB_005_CS", "Malformed payload, value too long - PropertyConstraintViolation",
      profile="Robustness")
async def test_rb_005_cs_value_out_of_constraints(cp, pics):
    """OCPP-J 1.6 §4.2.3 PropertyConstraintViolation: GetConfiguration.req with a key of 51
    characters (CiString50Type)."""
    await booted(cp, pics)
    # 1. Harness: GetConfiguration.req {"key": [51 characters]}  2. CALLERROR
    await probe(cp, malformed("GetConfiguration.req with a key of 51 characters (CiString50)",
                              *OUT_OF_CONSTRAINT), "GetConfiguration", {"key": ["K" * 51]},
                step="2")


@case("RB_006_CS", "Malformed payload, not an object - FormationViolation",
      profile="Robustness")
async def test_rb_006_cs_payload_not_an_object(cp, pics):
    """OCPP-J 1.6 §4.1.3 (the payload is a JSON object) and §4.2.3 FormationViolation:
    GetConfiguration whose payload is a JSON array."""
    await booted(cp, pics)
    # 1. Harness: [2, id, "GetConfiguration", ["HeartbeatInterval"]]  2. CALLERROR
    await probe(cp, malformed("a GetConfiguration CALL whose payload is an array",
                              *NOT_AN_OBJECT), "GetConfiguration", ["HeartbeatInterval"],
                step="2")


@case("RB_007_CS", "Incomplete frame - ProtocolError", profile="Robustness")
async def test_rb_007_cs_incomplete_frame(cp, pics):
    """OCPP-J 1.6 §4.2.3 ProtocolError ('Payload for Action is incomplete'): a CALL of
    GetConfiguration with no payload element ([2, id, "GetConfiguration"])."""
    await booted(cp, pics)
    # 1. Harness: [2, id, "GetConfiguration"]  2. Charge point: CALLERROR ProtocolError
    await probe(cp, incomplete("GetConfiguration"), "GetConfiguration", None, step="2",
                complete=False)


@case("RB_009_CS", "Frames that answer nothing - ignored", profile="Robustness")
async def test_rb_009_cs_frames_that_answer_nothing(cp, pics):
    """OCPP-J 1.6 §4.1.3 / §4.2.2: a text frame that is not JSON and a CALLRESULT / CALLERROR
    that answer no CALL of the charge point leave it answering the next CALL
    (harness/states/robustness.py, carries_on)."""
    await booted(cp, pics)
    # 1-3. Harness: not JSON; a CALLRESULT and a CALLERROR answering nothing
    # 4. Harness: GetConfiguration.req HeartbeatInterval  5. Charge point: .conf
    await carries_on(cp, "GetConfiguration", {"key": ["HeartbeatInterval"]},
                     receiver="charge point")
