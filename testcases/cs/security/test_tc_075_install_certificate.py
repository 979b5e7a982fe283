"""TC_075_1_CS / TC_075_2_CS Install a certificate (Security, profiles 2 and 3).

Steps: InstallCertificate.req (certificateType ManufacturerRootCertificate, TC_075_1, or
CentralSystemRootCertificate, TC_075_2) -> Accepted; GetInstalledCertificateIds.req (same type)
-> Accepted, and its certificateHashData lists the installed certificate: the harness computes
the hash data itself (harness/pki.py, from the DER bytes), with the hashAlgorithm each entry names.

The certificates are the run's own (harness/pki.py): its manufacturer root, and for TC_075_2 a
second CSMS root made for the case, not the one the charge point's TLS trusts (so the case shows a
new certificate, not one the device already held).
"""

from harness.cases import case
from harness.states.cs import booted
from harness.states.security import install, listed, on_profiles, pki_of


@case("TC_075_1_CS", "Install a certificate - ManufacturerRootCertificate", profile="Security",
      na_when=(on_profiles(2, 3),))
async def test_tc_075_1_cs_install_manufacturer_root(cp, driver, pics, bench):
    await booted(cp, pics)
    root = pki_of(bench).manufacturer_root
    # 1. InstallCertificate.req ManufacturerRootCertificate  2. .conf Accepted
    await install(cp, root, "ManufacturerRootCertificate", step="step 2")
    # 3. GetInstalledCertificateIds.req  4. .conf Accepted, the certificate's hash data listed
    await listed(cp, root, "ManufacturerRootCertificate", step="step 4")


@case("TC_075_2_CS", "Install a certificate - CentralSystemRootCertificate", profile="Security",
      na_when=(on_profiles(2, 3),))
async def test_tc_075_2_cs_install_central_system_root(cp, driver, pics, bench):
    await booted(cp, pics)
    root = pki_of(bench).extra_root("csms_root_2", "OCPP harness CSMS root (TC_075_2)")
    # 1. InstallCertificate.req CentralSystemRootCertificate  2. .conf Accepted
    await install(cp, root, "CentralSystemRootCertificate", step="step 2")
    # 3. GetInstalledCertificateIds.req  4. .conf Accepted, the certificate's hash data listed
    await listed(cp, root, "CentralSystemRootCertificate", step="step 4")
