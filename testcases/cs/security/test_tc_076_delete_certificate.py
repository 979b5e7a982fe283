"""TC_076_CS Delete a specific certificate (Security, profiles 2 and 3).

Memory state CertificateInstalled: a CentralSystemRootCertificate of the run's PKI made for the
case (not the root the charge point's TLS trusts) is installed and listed. Steps:
GetInstalledCertificateIds.req -> .conf; DeleteCertificate.req with the hash data of that
certificate, computed by the harness with the hashAlgorithm the charge point reported in step 2 ->
Accepted; GetInstalledCertificateIds.req -> the deleted certificate is not listed any more.
"""

from harness.cases import case
from harness.states.cs import booted
from harness.states.security import delete, install, listed, not_listed, on_profiles, pki_of

USE = "CentralSystemRootCertificate"


@case("TC_076_CS", "Delete a specific certificate", profile="Security",
      needs=("CertificateInstalled",), na_when=(on_profiles(2, 3),))
async def test_tc_076_cs_delete_certificate(cp, driver, pics, bench):
    await booted(cp, pics)
    root = pki_of(bench).extra_root("csms_root_delete", "OCPP harness CSMS root (TC_076)")
    # Memory state CertificateInstalled
    await install(cp, root, USE, step="CertificateInstalled")

    # 1. GetInstalledCertificateIds.req  2. .conf with the certificate's hash data
    entry = await listed(cp, root, USE, step="step 2")

    # 3. DeleteCertificate.req, hash data computed with the reported hashAlgorithm  4. Accepted
    await delete(cp, root, entry["hashAlgorithm"], step="step 4")

    # 5. GetInstalledCertificateIds.req  6. the deleted certificate is gone
    await not_listed(cp, root, USE, step="step 6")
