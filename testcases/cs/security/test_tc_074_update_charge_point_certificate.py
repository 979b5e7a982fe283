"""TC_074_CS Update Charge Point Certificate by request of Central System (Security, profile 3).

Configuration: CpoName = <configured vendor name> (if implemented). The harness is the central
system and its CA (harness/pki.py). Steps: ExtendedTriggerMessage.req SignChargePointCertificate
-> Accepted; the charge point makes a key pair and a CSR -> SignCertificate.req, answered
Accepted; the harness checks the CSR (PEM PKCS#10, its signature verifies with its own key, subject
CN = the charge point's serial number, RSA/DSA >= 2048 or EC >= 224 bits, SHA-256 or stronger) and
signs it with its charge point CA -> CertificateSigned.req -> Accepted; the charge point connects
again using the new certificate, proven by the SHA-256 fingerprint of the client certificate of
the new TLS handshake.

Reading chosen: the white paper says the new certificate is used for the next connection, not
when; a charge point that keeps its connection for triggered_function_timeout after Accepted is
disconnected by the harness (a remark).
"""

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from harness.cases import case
from harness.pki import check_csr
from harness.states.cs import booted, cite, conf_status, configured
from harness.states.security import (dropped_by_device, on_profiles, peer_fingerprint, pki_of,
                                     reconnection, requested_csr)


@case("TC_074_CS", "Update Charge Point Certificate by request of Central System",
      profile="Security", needs=("CpoName = <configured vendor name>",),
      na_when=(on_profiles(3),))
async def test_tc_074_cs_update_charge_point_certificate(cp, driver, pics, bench):
    await booted(cp, pics)
    pki = pki_of(bench)
    serial = pics.dut.serial_number or pics.dut.charge_point_id
    before = peer_fingerprint(cp)
    async with configured(cp, pics, if_implemented={"CpoName": pics.dut.vendor}):
        # 1-2. ExtendedTriggerMessage SignChargePointCertificate, Accepted
        # 3-4. SignCertificate.req with a CSR, answered Accepted
        request = await requested_csr(cp, pics)
        problems = check_csr(request.get("csr"), serial)
        assert not problems, f"step 3: {'; '.join(problems)} ({cite(request)})"

        # 5. Harness: CertificateSigned.req, its CA's signature  6. Charge point: .conf Accepted
        chain = pki.sign_csr(request["csr"], cn=serial)
        signed = await cp.call("CertificateSigned", {"certificateChain": chain})
        conf_status(signed, "Accepted", step="step 6")
        leaf = x509.load_pem_x509_certificates(chain.encode())[0]
        wanted = leaf.fingerprint(hashes.SHA256()).hex()

        # 7. The charge point connects again, with the new certificate
        dropped = await dropped_by_device(cp, pics)
        if not dropped:
            cp.remark("step 7: the charge point kept its connection for triggered_function_timeout "
                      f"= {pics.timing.triggered_function_timeout:g} s after accepting its new "
                      "certificate; the harness closed it")
        await reconnection(cp, pics, step="step 7", drop=not dropped,
                           why="the charge point is to use its new certificate")
        got = peer_fingerprint(cp)
        assert got == wanted, (
            f"step 7: the charge point connected again with the client certificate SHA-256 "
            f"{got}, not the one signed in step 5 ({wanted})"
            + (" -- it is the certificate it had before" if got == before else ""))
