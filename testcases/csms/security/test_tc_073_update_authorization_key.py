"""TC_073_CSMS Update Charge Point Password for HTTP Basic Authentication (Security, profiles 1
and 2).

Steps (octt16/csms-catalogue.md):
1. [OPERATOR: set a new Basic Auth password for this charge point] Central system:
   ChangeConfiguration.req. The harness proposes a random 20-byte key (40 hexadecimal characters);
   the central system may send its own.
2. Harness: ChangeConfiguration.conf Accepted.
3. The charge point drops the connection and connects again with the new password, the value as
   sent (the white paper's hexadecimal form); the central system accepts it; Booted.
Checks: ``key`` = AuthorizationKey; ``value`` hexadecimal, at most 40 characters, the password
16 to 20 bytes (32 to 40 characters). Also checked, though the case does not require it (a
remark): the old password is refused afterwards.
The new key is a secret from the moment it is sent (harness/wirelog.py masks a ChangeConfiguration
AuthorizationKey value). The harness's charge point keeps it for the rest of the run, as a device
would; a central system of yours keeps it for this chargePointId after the run, so the run says
to restore the PICS password there.
"""

import re
import secrets

from harness.cases import case
from harness.session import HandshakeViolation
from harness.states.csms import booted, operator_sends
from harness.states.security import on_profiles
from harness.transport import HandshakeRefused
from harness.wirelog import secret

KEY = "AuthorizationKey"
HEX = re.compile(r"[0-9A-Fa-f]*")
MIN_BYTES, MAX_BYTES = 16, 20


def value_problem(value: object) -> str | None:
    """Why a ChangeConfiguration AuthorizationKey value breaks the white paper's form, or None."""
    if not isinstance(value, str):
        return f"value is a {type(value).__name__}, not a string"
    if not HEX.fullmatch(value) or len(value) % 2:
        return f"value ({len(value)} characters) is not the hexadecimal form of a password"
    if not MIN_BYTES * 2 <= len(value) <= MAX_BYTES * 2:
        return (f"value is {len(value) // 2} bytes in hexadecimal, the password must be "
                f"{MIN_BYTES} to {MAX_BYTES} bytes (at most 40 hexadecimal characters)")
    return None


@case("TC_073_CSMS", "Update Charge Point Password for HTTP Basic Authentication",
      profile="Security", na_when=(on_profiles(1, 2),),
      needs=("Booted", "an operator (or driver) who sets a new password for this charge point"))
async def test_tc_073_csms_update_authorization_key(csms, driver, pics):
    bench = csms.dialer
    await booted(csms, pics)
    proposed = secrets.token_hex(MAX_BYTES)
    secret(proposed)
    # 1. [OPERATOR: set a new password] Central system: ChangeConfiguration.req
    # 2. Harness: ChangeConfiguration.conf Accepted
    request = await operator_sends(csms, driver, pics, "ChangeConfiguration",
                                   {"key": KEY, "value": proposed},
                                   answer={"status": "Accepted"}, step=1)
    assert str(request["key"]).casefold() == KEY.casefold(), (
        f"step 1: ChangeConfiguration.req key is {request['key']!r}, expected {KEY!r} (wire log "
        f"line {request.line})")
    new = request["value"]
    problem = value_problem(new)
    old = bench.basic_auth_password
    if isinstance(new, str):
        secret(new)
        bench.basic_auth_password = new  # accepted: the harness's charge point uses it from now
        if bench.options.dut != "sim":  # the embedded simulator ends with the run
            bench.notify(f"TC_073_CSMS: the central system holds a new AuthorizationKey for "
                         f"{pics.dut.charge_point_id}; set its password back to the PICS's "
                         "after this run")
    # 3. Charge point: drops the connection and connects again with the new password
    await csms.close(1000, "TC_073_CSMS: reconnecting with the new AuthorizationKey")
    try:
        link = await bench.open_link(basic_auth_password=old)
    except (HandshakeRefused, HandshakeViolation):
        csms.event("handshake", credentials="the old password", outcome="refused")
    else:
        await link.close(1000, "TC_073_CSMS: the old password should have been refused")
        csms.remark("step 3: the central system still accepts the old password after the new "
                    "AuthorizationKey was accepted (the case does not require its refusal)")
    try:
        await csms.reconnect()
    except HandshakeViolation as broken:
        raise HandshakeViolation(f"step 3: the central system did not accept the new "
                                 f"AuthorizationKey: {broken}") from None
    await booted(csms, pics)
    assert problem is None, f"step 1: ChangeConfiguration.req {KEY}: {problem} (wire log line " \
                            f"{request.line})"
