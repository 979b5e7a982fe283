"""Robustness entries of the seeded-fault catalogue (see README.md here for the format): the
negative cases of the Robustness pseudo-profile (harness/cases.py) catch the devices that answer
a CALL they cannot take with the wrong CALLERROR code, report a "no limit" sentinel as a negative
composite limit, or let in a handshake that offers no ocpp1.6."""

from harness.fidelity.catalogue import Entry

CS = "cs"
CSMS = "csms"

_CODES = {"RB_0*": "the fault changes the CALLERROR code of every robustness probe; the other "
                   "Robustness cases catch the same bug in their own words"}

ENTRIES = [
    # --- SUT charge point -----------------------------------------------------------------------
    Entry("cs-callerror-codes-reversed", CS, "callerror_codes_reversed",
          "answers NotSupported to an unknown action and NotImplemented to a known one it does "
          "not support", ("RB_001_CS", "RB_002_CS"),
          r"answered CALLERROR '(NotSupported|NotImplemented)' .*expected "
          r"(NotImplemented|NotSupported)", collateral=_CODES),
    Entry("cs-protocol-error-for-everything", CS, "protocol_error_for_everything",
          "answers every CALL it cannot take with ProtocolError",
          ("RB_001_CS", "RB_004_CS", "RB_006_CS"), r"answered CALLERROR 'ProtocolError'",
          collateral=_CODES),
    Entry("cs-composite-negative-sentinel", CS, "composite_negative_sentinel",
          "reports an unlimited composite period as limit -1, numberPhases -1 (its internal "
          "'no limit' sentinel)", ("RB_008_CS",), r"limit -1.*numberPhases -1|negative",
          collateral={"TC_0*_CS": "a composite period nothing limits is -1 in every composite "
                                  "this charge point reports"}),
    Entry("cs-stall-after-garbage", CS, "stall_after_garbage",
          "answers no CALL any more once it has read a frame that is not JSON or answers nothing",
          ("RB_009_CS",), r"step 5: after a frame that is not JSON.*did not answer",
          collateral={"*_CS": "the charge point answers nothing on that connection from then on; "
                              "cases after RB_009_CS find it so until it reconnects"}),
    # --- SUT central system ---------------------------------------------------------------------
    Entry("csms-callerror-codes-reversed", CSMS, "callerror_codes_reversed",
          "answers NotSupported to an unknown action and NotImplemented to a known one it does "
          "not support", ("RB_001_CSMS", "RB_002_CSMS"),
          r"answered CALLERROR '(NotSupported|NotImplemented)' .*expected "
          r"(NotImplemented|NotSupported)", collateral=_CODES),
    Entry("csms-protocol-error-for-everything", CSMS, "protocol_error_for_everything",
          "answers every CALL it cannot take with ProtocolError",
          ("RB_001_CSMS", "RB_004_CSMS", "RB_006_CSMS"), r"answered CALLERROR 'ProtocolError'",
          collateral=_CODES),
    Entry("csms-subprotocol-not-checked", CSMS, "subprotocol_not_checked",
          "upgrades a handshake that offers only an unknown subprotocol, selecting it",
          ("TC_088_CSMS",), r"selected 'ocpp0\.1'", params={"mode": "echo"}),
    Entry("csms-subprotocol-not-checked-no-header", CSMS, "subprotocol_not_checked",
          "upgrades a handshake that offers only an unknown subprotocol without selecting one, "
          "and keeps the connection open", ("TC_088_CSMS",),
          r"no Sec-WebSocket-Protocol.*kept the connection open", params={"mode": "none"}),
    Entry("csms-stall-after-garbage", CSMS, "stall_after_garbage",
          "answers no CALL any more once it has read a frame that is not JSON or answers nothing",
          ("RB_009_CSMS",), r"step 5: after a frame that is not JSON.*did not answer",
          collateral={"*_CSMS": "the central system answers nothing on that connection from then "
                                "on; cases after RB_009_CSMS find it so until the harness "
                                "reconnects"}),
]
