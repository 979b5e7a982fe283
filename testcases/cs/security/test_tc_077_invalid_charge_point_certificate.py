"""TC_077_CS Invalid ChargePointCertificate Security Event (Security, profile 3).

Configuration: CpoName = <configured vendor name> (if implemented). Steps:
ExtendedTriggerMessage.req SignChargePointCertificate (connectorId omitted) -> Accepted;
SignCertificate.req -> the harness answers Accepted; the harness sends an invalid
CertificateSigned.req -> Rejected; the charge point sends SecurityEventNotification.req type
InvalidChargePointCertificate (within triggered_function_timeout of the Rejected answer).

The invalid chain (harness/pki.py ``invalid_chain``): a certificate for the CSR's key and CN,
signed by a CA outside the harness's PKI ("other_ca"), which the charge point cannot chain to a
CentralSystemRootCertificate it holds.
"""

from harness.cases import case
from harness.states.cs import booted, conf_status, configured, triggered
from harness.states.security import on_profiles, pki_of, requested_csr


@case("TC_077_CS", "Invalid ChargePointCertificate Security Event", profile="Security",
      needs=("CpoName = <configured vendor name>",), na_when=(on_profiles(3),))
async def test_tc_077_cs_invalid_charge_point_certificate(cp, driver, pics, bench):
    await booted(cp, pics)
    pki = pki_of(bench)
    async with configured(cp, pics, if_implemented={"CpoName": pics.dut.vendor}):
        # 1-2. ExtendedTriggerMessage SignChargePointCertificate, Accepted
        # 3-4. SignCertificate.req, answered Accepted
        request = await requested_csr(cp, pics)

        # 5. Harness: CertificateSigned.req with an invalid chain  6. Charge point: Rejected
        chain = pki.invalid_chain("other_ca", str(request.get("csr")))
        signed = await cp.call("CertificateSigned", {"certificateChain": chain})
        conf_status(signed, "Rejected", step="step 6",
                    why=" (the chain is signed by a CA the charge point does not trust)")

        # 7. Charge point: SecurityEventNotification.req InvalidChargePointCertificate
        await cp.expect("SecurityEventNotification",
                        lambda p: p.get("type") == "InvalidChargePointCertificate",
                        timeout=triggered(pics),
                        what="SecurityEventNotification.req InvalidChargePointCertificate after "
                             "the Rejected CertificateSigned")
