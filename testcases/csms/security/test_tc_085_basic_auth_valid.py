"""TC_085_CSMS Basic Authentication - Valid username/password combination (Security, profiles 1
and 2).

Before: the harness closes its connection. Steps (octt16/csms-catalogue.md):
1-2. The harness's charge point sends the WebSocket upgrade without an Authorization header; the
     central system refuses it. The OCTT expects HTTP 401 but prints no code: any refusal passes,
     another status than 401 is a remark. An upgrade (101) is a FAIL.
     Also checked (white paper, security profile 1: the central system checks the password): the
     upgrade with the chargePointId as user and a wrong password is refused the same way.
3-4. The upgrade with ``Authorization: Basic base64(<chargePointId>:<PICS password>)``: accepted.
5-8. Booted: BootNotification Accepted, StatusNotification for connector 0 and each connector.
The passwords are never written anywhere (the wrong one is masked too: it differs from the PICS's
in one character).
"""

from harness.cases import case
from harness.session import HandshakeViolation
from harness.states.csms import booted
from harness.states.security import on_profiles
from harness.transport import HandshakeRefused
from harness.wirelog import secret

def wrong_password(password: str) -> str:
    """The PICS password with its last character changed: as long, so only its value is wrong."""
    return password[:-1] + ("X" if password[-1:] != "X" else "Y")

async def refused(csms, *, password, step: str, what: str) -> None:
    """The central system refuses the upgrade sent with ``password`` (None: no credentials)."""
    try:
        link = await csms.dialer.open_link(basic_auth_password=password)
    except HandshakeRefused as refusal:
        csms.event("handshake", credentials=what, outcome="refused", status=refusal.status)
        if refusal.status != 401:
            csms.remark(f"{step}: the upgrade with {what} was refused with HTTP {refusal.status}; "
                        "the OCTT expects 401 Unauthorized (RFC 7235), no code is required")
        return
    except HandshakeViolation as broken:
        csms.event("handshake", credentials=what, outcome="broken")
        csms.remark(f"{step}: the upgrade with {what} was refused without an HTTP answer "
                    f"({broken}); 401 Unauthorized says why")
        return
    await link.close(1000, "TC_085_CSMS: this connection should have been refused")
    raise AssertionError(
        f"{step}: the central system upgraded the connection (HTTP 101) sent with {what}; on "
        "security profile 1/2 it accepts a charge point only with its chargePointId and password "
        "(OCPP 1.6 security white paper, HTTP Basic authentication)")

@case("TC_085_CSMS", "Basic Authentication - Valid username/password combination",
      profile="Security", na_when=(on_profiles(1, 2),),
      needs=("the harness's charge point and its password provisioned in the central system",))
async def test_tc_085_csms_basic_auth_valid(csms, pics):
    password = pics.security.basic_auth_password or ""
    await csms.close()  # Before: the tool closes its connection
    # 1. Harness: upgrade without an Authorization header  2. Central system: refuses it
    await refused(csms, password=None, step="step 2", what="no HTTP Basic credentials")
    #    (white paper) the same with a wrong password: refused
    wrong = wrong_password(password)
    secret(wrong)
    await refused(csms, password=wrong, step="step 2", what="a wrong password")
    # 3. Harness: upgrade with the valid username/password  4. Central system: accepts it
    await csms.reconnect()
    # 5-8. BootNotification Accepted, StatusNotification for connector 0 and each connector
    await booted(csms, pics)

