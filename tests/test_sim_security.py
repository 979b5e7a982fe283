"""The reference charge point's security extension (harness/sim/cp/security.py), against a
scripted central system that checks every frame against the schemas."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

import pytest

from harness.pics import Security
from harness.pki import Pki, check_csr, hash_data, same_hash_data
from harness.rpc import CallError
from harness.sim import ChargePointSim
from scripted_peers import ScriptedCsms, stand_in_pics

PASSWORD = "0123456789abcdef0123"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    made = Pki.create(tmp_path_factory.mktemp("pki"), charge_point_serial="SIM-CP-0001")
    yield made
    made.close()


async def _rig(security: Security, pki: Pki, **kw):
    csms = await ScriptedCsms(interval=300).start()
    pics = dataclasses.replace(stand_in_pics("cs", connectors=1), security=security)
    pics = dataclasses.replace(pics, dut=dataclasses.replace(pics.dut, serial_number="SIM-CP-0001"))
    cp = ChargePointSim(pics, csms.url, reconnect_min=0.05, trusted_roots=(pki.csms_root.pem,),
                        **kw)
    await cp.start()
    await csms.expect("BootNotification")
    await csms.expect("StatusNotification", lambda p: p["connectorId"] == 1)  # after the boot
    return csms, cp


async def _stop(csms, cp):
    await cp.stop()
    await csms.stop()
    assert not [f for f in csms.findings if f[0] == "cp"], csms.findings


async def test_no_security_profile_answers_not_supported(pki):
    csms, cp = await _rig(Security(profile=0), pki)
    try:
        for action, payload in (("InstallCertificate", {"certificateType":
                                                        "ManufacturerRootCertificate",
                                                        "certificate": pki.manufacturer_root.pem}),
                                ("GetInstalledCertificateIds", {"certificateType":
                                                                "CentralSystemRootCertificate"}),
                                ("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"})):
            answer = await csms.call(action, payload)
            assert isinstance(answer, CallError) and answer.error_code == "NotSupported"
    finally:
        await _stop(csms, cp)


async def test_certificate_store(pki):
    csms, cp = await _rig(Security(profile=1, basic_auth_password=PASSWORD), pki)
    try:
        ids = await csms.result("GetInstalledCertificateIds",
                                {"certificateType": "ManufacturerRootCertificate"})
        assert ids == {"status": "NotFound"}
        conf = await csms.result("InstallCertificate", {
            "certificateType": "ManufacturerRootCertificate",
            "certificate": pki.manufacturer_root.pem})
        assert conf == {"status": "Accepted"}
        ids = await csms.result("GetInstalledCertificateIds",
                                {"certificateType": "ManufacturerRootCertificate"})
        [reported] = ids["certificateHashData"]
        assert same_hash_data(reported, hash_data(pki.manufacturer_root.cert))
        bad = await csms.result("InstallCertificate", {
            "certificateType": "CentralSystemRootCertificate", "certificate": "not a PEM"})
        assert bad == {"status": "Rejected"}
        for algorithm in ("SHA384", "SHA512"):
            missing = await csms.result("DeleteCertificate", {"certificateHashData": {
                **hash_data(pki.server.cert, algorithm, issuer=pki.csms_root.cert)}})
            assert missing == {"status": "NotFound"}
        gone = await csms.result("DeleteCertificate", {
            "certificateHashData": hash_data(pki.manufacturer_root.cert, "SHA512")})
        assert gone == {"status": "Accepted"}
        ids = await csms.result("GetInstalledCertificateIds",
                                {"certificateType": "ManufacturerRootCertificate"})
        assert ids == {"status": "NotFound"}
    finally:
        await _stop(csms, cp)


async def test_authorization_key_change_reconnects_with_it(pki):
    csms, cp = await _rig(Security(profile=1, basic_auth_password=PASSWORD), pki)
    try:
        new = "4F43415F4F4354545F61646D696E5F74657374"
        conf = await csms.result("ChangeConfiguration", {"key": "AuthorizationKey", "value": new})
        assert conf == {"status": "Accepted"}
        event = await csms.expect("SecurityEventNotification")
        assert event.payload["type"] == "ReconfigurationOfSecurityParameters"
        for _ in range(100):
            if len(csms.authorizations) == 2:
                break
            await asyncio.sleep(0.05)
        user, _, password = base64.b64decode(csms.authorizations[1].split()[1]).decode() \
            .partition(":")
        assert (user, password) == ("SIMCP001", new)
        got = await csms.result("GetConfiguration", {"key": ["AuthorizationKey",
                                                             "SecurityProfile"]})
        values = {kv["key"]: kv.get("value") for kv in got["configurationKey"]}
        assert values == {"AuthorizationKey": None, "SecurityProfile": "1"}  # write-only
        assert PASSWORD not in str(cp.status()) and new not in str(cp.status())
        short = await csms.result("ChangeConfiguration", {"key": "AuthorizationKey",
                                                          "value": "short"})
        assert short == {"status": "Rejected"}
        down = await csms.result("ChangeConfiguration", {"key": "SecurityProfile", "value": "0"})
        assert down == {"status": "Rejected"}
    finally:
        await _stop(csms, cp)


async def test_sign_charge_point_certificate(pki):
    def responder(action, payload):
        return {"status": "Accepted"} if action == "SignCertificate" else None
    csms, cp = await _rig(Security(profile=3), pki)
    csms.responder = responder
    try:
        trigger = await csms.result("ExtendedTriggerMessage",
                                    {"requestedMessage": "SignChargePointCertificate"})
        assert trigger == {"status": "Accepted"}
        request = await csms.expect("SignCertificate")
        csr = request.payload["csr"]
        assert check_csr(csr, "SIM-CP-0001") == []
        for kind in ("other_ca", "expired", "key_mismatch", "wrong_cn", "bad_pem"):
            conf = await csms.result("CertificateSigned",
                                     {"certificateChain": pki.invalid_chain(kind, csr)})
            assert conf == {"status": "Rejected"}, kind
            event = await csms.expect("SecurityEventNotification")
            assert event.payload["type"] == "InvalidChargePointCertificate"
        chain = pki.sign_csr(csr)
        conf = await csms.result("CertificateSigned", {"certificateChain": chain})
        assert conf == {"status": "Accepted"}
        for _ in range(100):  # it connects again, to use the new certificate (wss:// only)
            if len(csms.paths) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(csms.paths) == 2 and cp.client_cert is not None
        cert_file, key_file = cp.client_cert
        assert open(cert_file).read() == chain
        assert oct(__import__("os").stat(key_file).st_mode & 0o777) == "0o600"
        heartbeat = await csms.result("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"})
        assert heartbeat == {"status": "Accepted"}
        await csms.expect("Heartbeat")
    finally:
        await _stop(csms, cp)


async def test_sign_certificate_only_on_profile_3(pki):
    csms, cp = await _rig(Security(profile=1, basic_auth_password=PASSWORD), pki)
    try:
        trigger = await csms.result("ExtendedTriggerMessage",
                                    {"requestedMessage": "SignChargePointCertificate"})
        assert trigger == {"status": "Rejected"}
    finally:
        await _stop(csms, cp)
