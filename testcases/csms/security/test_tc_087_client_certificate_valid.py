"""TC_087_CSMS TLS - Client-side certificate - valid certificate (Security, profile 3).

Before: the harness closes its connection. Steps (octt16/csms-catalogue.md): the TLS handshake of
TC_086_CSMS, the harness's charge point always presenting its client certificate (the PICS
security.cert_file; against the reference CSMS the run's PKI's, CN its chargePointId); the upgrade
(no HTTP Basic credentials on profile 3); Booted: BootNotification Accepted, StatusNotification for
connector 0 and each connector. Checks: TLS 1.2 or later, the four cipher suites as TC_086_CSMS
judges them (those the server certificate's key can serve must be accepted; the others a remark),
the central system accepts the client certificate (a refused handshake is a FAIL with its reason).
Also checked (white paper, security profile 3: the charge point authenticates with its client
certificate): the same connection without a client certificate is refused.
"""

from harness.cases import case
from harness.session import HandshakeViolation
from harness.states.csms import booted
from harness.states.csms_security import TLS_VERSIONS, negotiated, suite_problems
from harness.states.security import on_profiles
from harness.transport import HandshakeRefused



async def refused_without_certificate(csms) -> bool:
    """Whether the central system refuses the connection (TLS or HTTP) of a charge point that
    presents no client certificate."""
    context = csms.dialer.client_tls(without_certificate=True)
    try:
        link = await csms.dialer.open_link(ssl_context=context)
    except (HandshakeRefused, HandshakeViolation) as refusal:
        csms.event("handshake", client_certificate="none", outcome="refused",
                   reason=str(refusal)[:300])
        return True
    csms.event("handshake", client_certificate="none", outcome="upgraded")
    await link.close(1000, "TC_087_CSMS: this connection should have been refused")
    return False


@case("TC_087_CSMS", "TLS - Client-side certificate - valid certificate", profile="Security",
      na_when=(on_profiles(3),),
      needs=("the harness's charge point certificate (PICS security.cert_file), whose CA the "
             "central system trusts",))
async def test_tc_087_csms_client_certificate_valid(csms, pics):
    await csms.close()  # Before: the tool closes its connection
    problems = []
    #    (white paper) without a client certificate: refused
    if not await refused_without_certificate(csms):
        problems.append("the central system upgraded a connection whose TLS handshake presented no "
                        "client certificate; on security profile 3 the charge point authenticates "
                        "with its certificate (OCPP 1.6 security white paper)")
    # 1-4. TLS handshake with the client certificate  5-6. HTTP upgrade, WebSocket
    try:
        await csms.reconnect()
    except HandshakeViolation as broken:
        raise HandshakeViolation(f"steps 1-6: the central system did not accept the client "
                                 f"certificate: {broken}") from None
    version, cipher, cert = negotiated(csms, step="step 4")
    csms.event("tls", version=version, cipher=cipher)
    if version not in TLS_VERSIONS:
        problems.append(f"step 4: the connection negotiated {version}, at least TLS 1.2 is "
                        "required")
    # The four cipher suites, each on its own TLS 1.2 handshake
    problems += await suite_problems(csms, pics, cert, step="step 2")
    # 7-10. BootNotification Accepted, StatusNotification for connector 0 and each connector
    await booted(csms, pics)
    assert not problems, "; ".join(problems)
