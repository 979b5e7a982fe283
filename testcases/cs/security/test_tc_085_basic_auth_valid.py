"""TC_085_CS Basic Authentication - Valid username/password (Security, profiles 1 and 2).

No scenario table in the OCTT: the tool checks the charge point's WebSocket upgrade. The harness
closes the connection; the charge point connects again with ``Authorization: Basic
base64(<chargePointId>:<password>)``, chargePointId the last segment of its URL, password its
AuthorizationKey (the PICS security.basic_auth_password; the harness refuses any other, and the
refusal FAILs the case). Validations: credentials present, user = the chargePointId of the URL,
the key at least 16 characters (white paper, AuthorizationKey: 16 to 40; 32 to 40 characters are
its hexadecimal form). The key's value is never written anywhere; its length is.
"""

from harness.cases import case
from harness.states.cs import booted
from harness.states.security import basic_user, on_profiles, reconnection

MIN_KEY = 16


@case("TC_085_CS", "Basic Authentication - Valid username/password", profile="Security",
      na_when=(on_profiles(1, 2),))
async def test_tc_085_cs_basic_auth_valid(cp, driver, pics):
    await booted(cp, pics)

    # 1. The harness closes the connection  2. The charge point connects again (upgrade request)
    handshake = await reconnection(cp, pics, step="step 2")

    # 3. Validations of the upgrade request
    user = basic_user(handshake)
    assert user is not None, "step 3: the upgrade request carries no HTTP Basic credentials"
    assert user == handshake.charge_point_id == pics.dut.charge_point_id, (
        f"step 3: the HTTP Basic user is {user!r}, expected the chargePointId of the URL "
        f"{handshake.charge_point_id!r}")
    key = pics.security.basic_auth_password or ""
    assert len(key) >= MIN_KEY, (
        f"step 3: the charge point authenticates with a {len(key)}-character AuthorizationKey, "
        f"at least {MIN_KEY} are required (OCPP 1.6 security white paper, AuthorizationKey)")
