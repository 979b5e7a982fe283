"""TC_087_CS TLS - Client-side certificate - valid certificate (Security, profile 3).

No scenario table in the OCTT: the tool checks the TLS handshake of the charge point's connection.
The harness closes the connection; the charge point connects again presenting its client
certificate, which the harness verifies against its CAs (a handshake the harness refuses -- no
certificate, an unknown CA, TLS below 1.2 -- FAILs the case with the refusal). Validations of the
accepted handshake: TLS 1.2 or later; a client certificate with a serial number, an RSA/DSA key
of at least 2048 bits or an EC key of at least 224 bits, and subject CN = the charge point's
serial number (PICS dut.serial_number).

Reading chosen: the cipher suite is the server's choice among the client's offers, so a TLS 1.2
suite outside the white paper's list is a remark, not a FAIL (TLS 1.3 suites are not judged).
"""

from cryptography import x509
from cryptography.x509.oid import NameOID

from harness.cases import case
from harness.pki import key_problem
from harness.states.cs import booted
from harness.states.security import on_profiles, reconnection, tls_of

WHITE_PAPER_SUITES = frozenset({
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256", "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_..._GCM_...
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
})
"""The TLS 1.2 suites of the white paper (OpenSSL names); ECDHE-RSA as OCTT accepts it too."""


@case("TC_087_CS", "TLS - Client-side certificate - valid certificate", profile="Security",
      na_when=(on_profiles(3),))
async def test_tc_087_cs_client_certificate_valid(cp, driver, pics):
    await booted(cp, pics)
    serial = pics.dut.serial_number or pics.dut.charge_point_id

    # 1. The harness closes the connection  2. The charge point connects again over TLS
    await reconnection(cp, pics, step="step 2")

    # 3. Validations of the handshake
    tls = tls_of(cp)
    assert tls is not None, "step 3: the connection is not a TLS connection (security profile 3)"
    version, cipher, der = tls
    assert version in ("TLSv1.2", "TLSv1.3"), (
        f"step 3: the connection uses {version or 'an unknown TLS version'}; TLS 1.2 or later is "
        "required (OCPP 1.6 security white paper)")
    assert der, "step 3: the charge point presented no client certificate (security profile 3)"
    cert = x509.load_der_x509_certificate(der)
    weak = key_problem(cert.public_key())
    assert weak is None, f"step 3: the client certificate has {weak}"
    assert cert.serial_number > 0, "step 3: the client certificate has no serial number"
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = str(names[0].value) if names else None
    assert cn == serial, (
        f"step 3: the client certificate's subject CN is {str(cn)[:64]!r}, expected the charge "
        f"point's serial number {serial!r} (PICS dut.serial_number)")
    if version == "TLSv1.2" and cipher not in WHITE_PAPER_SUITES:
        cp.remark(f"step 3: TLS 1.2 with {cipher}, not a suite of the white paper's list "
                  f"({', '.join(sorted(WHITE_PAPER_SUITES))})")
