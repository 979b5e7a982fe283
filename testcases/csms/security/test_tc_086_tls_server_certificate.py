"""TC_086_CSMS TLS - server-side certificate - Valid certificate (Security, profiles 2 and 3).

Before: the harness closes its connection. Steps (octt16/csms-catalogue.md):
1-4. TLS handshake: the harness verifies the central system's certificate against its trust (the
     PICS security.ca_file, else the system's; the run's PKI root against the reference CSMS) and
     the URL's host name; a failed verification is a FAIL with OpenSSL's reason. On profile 3 the
     harness presents its client certificate.
5-6. HTTP upgrade (HTTP Basic credentials on profile 2), WebSocket.
7-10. Booted: BootNotification Accepted, StatusNotification for connector 0 and each connector.
Checks (white paper, TLS): TLS 1.2 or later; the certificate has a serial number, its subject CN
is the endpoint's FQDN (the URL's host, in any case; a URL by IP address has none: a remark), its
key RSA/DSA >= 2048 bits or EC >= 224 bits. The four cipher suites are probed each with its own
TLS 1.2 handshake: those the certificate's key can serve (ECDHE_ECDSA with an EC key, TLS_RSA with
an RSA one) must be accepted (FAIL); the others, which need a second certificate, are a remark when
refused. A failed check does not stop the others: the case reports them all.
"""

import ipaddress

from harness.cases import case
from harness.pki import key_problem
from harness.session import HandshakeViolation
from harness.states.csms import booted
from harness.states.csms_security import (TLS_VERSIONS, common_name, endpoint, negotiated,
                                          suite_problems)
from harness.states.security import on_profiles



def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@case("TC_086_CSMS", "TLS - server-side certificate - Valid certificate", profile="Security",
      na_when=(on_profiles(2, 3),),
      needs=("the central system's TLS server certificate, trusted by the PICS security.ca_file",))
async def test_tc_086_csms_tls_server_certificate(csms, pics):
    await csms.close()  # Before: the tool closes its connection
    # 1-4. TLS handshake, the certificate verified  5-6. HTTP upgrade, WebSocket
    try:
        await csms.reconnect()
    except HandshakeViolation as broken:
        raise HandshakeViolation(f"steps 1-6: {broken}") from None
    version, cipher, cert = negotiated(csms, step="step 4")
    host, _ = endpoint(csms)
    csms.event("tls", version=version, cipher=cipher, serial=f"{cert.serial_number:x}",
               cn=common_name(cert) or "")
    problems = []
    if version not in TLS_VERSIONS:
        problems.append(f"step 4: the connection negotiated {version}, at least TLS 1.2 is "
                        "required")
    if not cert.serial_number:
        problems.append("step 2: the server certificate has no serial number")
    cn = common_name(cert)
    if _is_ip(host):
        # Reached by address (a lab's set-up), there is no FQDN to hold the CN to: not the device's.
        csms.remark(f"step 2: the central system was reached by IP address {host}: its certificate's "
                    f"subject CN {cn!r} was not compared with an FQDN (give csms_url by host name)")
    elif (cn or "").lower().rstrip(".") != host.lower().rstrip("."):  # DNS names: any case
        problems.append(f"step 2: the server certificate's subject CN is "
                        f"{cn!r}, expected the endpoint's FQDN {host!r}")
    weak = key_problem(cert.public_key())
    if weak:
        problems.append(f"step 2: the server certificate has {weak}")
    # The four cipher suites, each on its own TLS 1.2 handshake
    problems += await suite_problems(csms, pics, cert, step="step 2")
    # 7-10. BootNotification Accepted, StatusNotification for connector 0 and each connector
    await booted(csms, pics)
    assert not problems, "; ".join(problems)
