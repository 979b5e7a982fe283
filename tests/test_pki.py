"""harness.pki: the per-run PKI, the CSR checks, the hash data, the invalid chains."""

from __future__ import annotations

import datetime
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from harness import pki as pkimod
from harness.pki import Pki, check_csr, hash_data, make_csr, new_key, same_hash_data

SERIAL = "SIM-CP-0001"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    made = Pki.create(tmp_path_factory.mktemp("report") / "pki", charge_point_serial=SERIAL)
    yield made
    made.close()


def _certs(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def test_hierarchy_and_files(pki):
    pki.server.cert.verify_directly_issued_by(pki.csms_root.cert)
    pki.cp_ca.cert.verify_directly_issued_by(pki.csms_root.cert)
    pki.client.cert.verify_directly_issued_by(pki.cp_ca.cert)
    pki.manufacturer_root.cert.verify_directly_issued_by(pki.manufacturer_root.cert)
    cn = pki.client.cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    assert cn == SERIAL
    sans = pki.server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    # certificates in the report folder, no private key there; keys elsewhere, owner-only
    written = sorted(p.name for p in pki.folder.iterdir())
    assert written == sorted(f"{n}.pem" for n in
                             ("csms_root", "cp_ca", "manufacturer_root", "server", "client"))
    for path in pki.folder.iterdir():
        assert "PRIVATE KEY" not in path.read_text()
    key_file = pki.server.key_file
    assert key_file is not None and pki.folder not in key_file.parents
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in key_file.read_text()


def test_no_key_in_repr(pki):
    secret = pki.server.key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()
    for text in (repr(pki), repr(pki.server), repr(pki.client)):
        assert "PRIVATE" not in text and secret[40:80] not in text and ".key" not in text


def test_keys_removed_on_close(tmp_path):
    made = Pki.create(tmp_path / "pki", charge_point_serial=SERIAL)
    key_file = made.server.key_file
    assert key_file is not None and key_file.exists()
    made.close()
    assert not key_file.exists() and made.server.cert_file.exists()


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
def test_hash_data_agrees_with_ocsp_cert_id(pki, algorithm):
    """Our DER-level computation against cryptography's RFC 6960 CertID (a second implementation)."""
    h = {"SHA256": hashes.SHA256(), "SHA384": hashes.SHA384(), "SHA512": hashes.SHA512()}[algorithm]
    for cert, issuer in ((pki.manufacturer_root.cert, pki.manufacturer_root.cert),
                         (pki.csms_root.cert, pki.csms_root.cert),
                         (pki.server.cert, pki.csms_root.cert),
                         (pki.client.cert, pki.cp_ca.cert)):
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, h).build()
        ours = hash_data(cert, algorithm, issuer=issuer)
        assert ours["hashAlgorithm"] == algorithm
        assert ours["issuerNameHash"] == request.issuer_name_hash.hex()
        assert ours["issuerKeyHash"] == request.issuer_key_hash.hex()
        assert int(ours["serialNumber"], 16) == request.serial_number
        assert not ours["serialNumber"].startswith("0") and len(ours["serialNumber"]) <= 40


def test_hash_data_of_rsa_issuer():
    key = new_key("rsa")
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "rsa root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(0x00ABC).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, cert, hashes.SHA256()).build()
    ours = hash_data(cert)
    assert ours["issuerKeyHash"] == request.issuer_key_hash.hex()
    assert ours["serialNumber"] == "abc"


def test_same_hash_data(pki):
    ours = hash_data(pki.manufacturer_root.cert)
    theirs = {**ours, "issuerNameHash": ours["issuerNameHash"].upper(),
              "serialNumber": "00" + ours["serialNumber"].upper()}
    assert same_hash_data(ours, theirs)
    assert not same_hash_data(ours, hash_data(pki.csms_root.cert))
    assert not same_hash_data(ours, hash_data(pki.manufacturer_root.cert, "SHA384"))
    assert not same_hash_data(ours, {"hashAlgorithm": "SHA256"})
    assert not same_hash_data(ours, "not a dict")


def test_check_csr_sound():
    assert check_csr(make_csr(new_key(), SERIAL), SERIAL) == []
    assert check_csr(make_csr(new_key("rsa"), SERIAL, org="CPO"), SERIAL) == []


def test_check_csr_problems():
    assert "expected 'SIM-CP-0001'" in " ".join(check_csr(make_csr(new_key(), "OTHER"), SERIAL))
    assert "1024-bit RSA" in " ".join(check_csr(make_csr(new_key("rsa", 1024), SERIAL), SERIAL))
    weak = make_csr(new_key(), SERIAL, algorithm=hashes.SHA224())
    assert "signed with sha224" in " ".join(check_csr(weak, SERIAL))
    assert "not a PEM" in check_csr("MIIB...", SERIAL)[0]
    assert "not a PEM" in check_csr(None, SERIAL)[0]
    broken = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
    assert "cannot be read" in check_csr(broken, SERIAL)[0]


def test_check_csr_signature_must_verify():
    csr = x509.load_pem_x509_csr(make_csr(new_key(), SERIAL).encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    signature = csr.signature
    at = bytes(der).rindex(signature)
    der[at + len(signature) - 1] ^= 0x01  # one bit of the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    assert any("does not verify" in p for p in check_csr(tampered, SERIAL))


def test_sign_csr(pki):
    key = new_key()
    chain = _certs(pki.sign_csr(make_csr(key, SERIAL)))
    leaf, ca = chain
    assert leaf.public_key() == key.public_key()
    leaf.verify_directly_issued_by(pki.cp_ca.cert)
    ca.verify_directly_issued_by(pki.csms_root.cert)
    assert leaf.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == SERIAL


def test_invalid_chains(pki):
    key = new_key()
    csr = make_csr(key, SERIAL)
    other = _certs(pki.invalid_chain("other_ca", csr))
    with pytest.raises(Exception):
        other[0].verify_directly_issued_by(pki.cp_ca.cert)
    expired = _certs(pki.invalid_chain("expired", csr))[0]
    assert expired.not_valid_after_utc < datetime.datetime.now(datetime.timezone.utc)
    assert _certs(pki.invalid_chain("key_mismatch", csr))[0].public_key() != key.public_key()
    wrong = _certs(pki.invalid_chain("wrong_cn", csr))[0]
    assert wrong.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value != SERIAL
    with pytest.raises(ValueError):
        _certs(pki.invalid_chain("bad_pem", csr))
    with pytest.raises(ValueError, match="one of"):
        pki.invalid_chain("nonsense", csr)
    assert set(pkimod.INVALID_KINDS) == {"other_ca", "expired", "key_mismatch", "wrong_cn",
                                         "bad_pem"}


def test_client_trust_file_is_this_runs_even_in_a_reused_folder(tmp_path):
    """A second run writing into the same report folder: its client_trust.pem holds its own CAs,
    not the first run's (a stale file made every profile 3 handshake of the second run fail)."""
    first = Pki.create(tmp_path, charge_point_serial="CP1")
    assert first.cp_ca.pem in first.client_trust_file.read_text()
    second = Pki.create(tmp_path, charge_point_serial="CP1")
    text = second.client_trust_file.read_text()
    assert second.cp_ca.pem in text and second.csms_root.pem in text
    assert first.cp_ca.pem not in text
    first.close()
    second.close()


def test_firmware_signing_certificate(pki):
    signer = pki.firmware_signing
    assert pki.firmware_signing is signer  # made once per run
    signer.cert.verify_directly_issued_by(pki.manufacturer_root.cert)
    usage = signer.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.CODE_SIGNING in usage
    assert (pki.folder / "firmware_signing.pem").exists()
    assert "PRIVATE KEY" not in (pki.folder / "firmware_signing.pem").read_text()


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_sign_and_check_firmware(pki, kind):
    from harness.pki import Issued, corrupt_signature, firmware_signature_problems, sign_firmware
    data = b"firmware image \x00\x01" * 100
    if kind == "ec":
        signer = pki.firmware_signing
    else:  # an RSA signer from the same root: the check knows both algorithms
        key = new_key("rsa")
        root = pki.manufacturer_root
        cert = (x509.CertificateBuilder().subject_name(signer_name := root.cert.subject)
                .issuer_name(signer_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(datetime.datetime.now(datetime.timezone.utc)
                                  - datetime.timedelta(minutes=1))
                .not_valid_after(datetime.datetime.now(datetime.timezone.utc)
                                 + datetime.timedelta(days=1))
                .sign(root.key, hashes.SHA256()))
        signer = Issued("rsa_signer", cert, key)
    roots = [pki.manufacturer_root.cert]
    signature = sign_firmware(data, signer)
    assert firmware_signature_problems(data, signature, signer.pem, roots) == []
    bad = corrupt_signature(signature)
    assert len(bad) == len(signature) and bad != signature
    [problem] = firmware_signature_problems(data, bad, signer.pem, roots)
    assert "does not verify" in problem
    [problem] = firmware_signature_problems(data + b"x", signature, signer.pem, roots)
    assert "does not verify" in problem
    # another root (the CSMS root) does not vouch for the signing certificate
    [problem] = firmware_signature_problems(data, signature, signer.pem, [pki.csms_root.cert])
    assert "not issued by a manufacturer root" in problem
    assert "not base64" in firmware_signature_problems(data, "%%%", signer.pem, roots)[0]
    assert "not a PEM" in firmware_signature_problems(data, signature, "junk", roots)[0]
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    assert "not valid now" in firmware_signature_problems(data, signature, signer.pem, roots,
                                                          now=later)[0]
