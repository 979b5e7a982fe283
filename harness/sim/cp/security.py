"""The security extension (OCPP 1.6 security white paper, edition 2) on the reference charge point:
HTTP Basic credentials from AuthorizationKey, the SecurityProfile key, ExtendedTriggerMessage,
SecurityEventNotification, the certificate store (InstallCertificate, GetInstalledCertificateIds,
DeleteCertificate) and the charge point certificate (SignCertificate / CertificateSigned).

A mixin of :class:`harness.sim.cp.chargepoint.ChargePointSim`. A charge point whose PICS declares
no security profile (``security.profile = 0``) answers these messages CALLERROR NotSupported, as
before the extension existed.

The store's hash data is computed here through cryptography's RFC 6960 CertID (OCSP request
builder), not with :func:`harness.pki.hash_data`, so the harness's own computation is checked
against a second one and a bug in either shows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from harness import clock
from harness.pki import make_csr, new_key
from harness.sim.link import Answer, Reply

if TYPE_CHECKING:
    from harness.sim.cp.chargepoint import ChargePointSim

ACCEPTED, REJECTED = {"status": "Accepted"}, {"status": "Rejected"}
_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
DEFAULT_STORE_MAX = 10
"""Certificates the store holds when the charge point has no CertificateStoreMaxLength."""


@dataclass
class Installed:
    use: str
    cert: x509.Certificate


def _hash_data(cert: x509.Certificate, algorithm: str) -> dict:
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, cert, _HASHES[algorithm]()).build()
    return {"hashAlgorithm": algorithm, "issuerNameHash": request.issuer_name_hash.hex(),
            "issuerKeyHash": request.issuer_key_hash.hex(),
            "serialNumber": format(request.serial_number, "x")}


def _cn(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


class SecurityHandlers:
    def security_init(self: ChargePointSim, trusted_roots: tuple[str, ...]) -> None:
        """The factory state: the CentralSystemRootCertificates it was delivered with (PEM), the
        AuthorizationKey and SecurityProfile its PICS declares."""
        self.store: list[Installed] = []
        for pem in trusted_roots:
            self.store.append(Installed("CentralSystemRootCertificate",
                                        x509.load_pem_x509_certificate(pem.encode())))
        self.cp_key: Any = None
        """The key pair of the last CSR (TC_074), until a CertificateSigned for it arrives."""
        self.cp_certificate: str | None = None
        """The charge point certificate chain (PEM) it uses, once one was signed for it."""
        self.cert_folder: Any = None
        """Where that certificate and its key are kept as files (a TemporaryDirectory)."""
        security = self.pics.security
        if security.profile in (1, 2) and security.basic_auth_password \
                and not self.config.has("AuthorizationKey"):
            self.config.set("AuthorizationKey", security.basic_auth_password)
        if security.profile and not self.config.has("SecurityProfile"):
            self.config.set("SecurityProfile", str(security.profile))
        if security.profile and not self.config.has("CpoName"):
            self.config.set("CpoName", self.pics.dut.vendor)

    def require_security(self: ChargePointSim, action: str) -> None:
        if not self.pics.security.profile:
            raise Reply("NotSupported", f"{action}: this charge point implements no security "
                                        "profile")

    def authorization_key(self: ChargePointSim) -> str | None:
        """The HTTP Basic password it sends (profiles 1 and 2): AuthorizationKey as configured."""
        if self.faults.get("authorization_key_not_applied") is not None:
            return self.pics.security.basic_auth_password
        return self.config.get("AuthorizationKey") or self.pics.security.basic_auth_password

    def security_event(self: ChargePointSim, kind: str, tech_info: str | None = None) -> None:
        """A SecurityEventNotification.req (critical events go to the central system, 2.3)."""
        if self.faults.get("security_event_not_sent") is not None:
            return
        self.events.add("security_event", type=kind)

        def build() -> dict:
            payload = {"type": kind, "timestamp": clock.now_iso()}
            if tech_info:
                payload["techInfo"] = tech_info[:255]
            return payload
        self.outbox.post("SecurityEventNotification", build)

    def security_key_changed(self: ChargePointSim, key: str) -> None:
        """A new AuthorizationKey takes effect on a new connection: drop this one, reconnect."""
        if key != "AuthorizationKey" or self.pics.security.profile not in (1, 2):
            return
        self.security_event("ReconfigurationOfSecurityParameters", "AuthorizationKey changed")
        self.tasks.spawn(self._reconnect_after(self.link, "AuthorizationKey changed"),
                         "reconnect-new-key")

    def security_profile_change(self: ChargePointSim, value: str) -> str | None:
        """ChangeConfiguration SecurityProfile: a lower value is Rejected (white paper 2.4, no
        downgrade); a higher one too, for now (the upgrade, TC_083, is not simulated)."""
        current = self.config.int("SecurityProfile", self.pics.security.profile)
        try:
            wanted = int(value.strip())
        except ValueError:
            return "Rejected"
        if wanted < current and self.faults.get("security_profile_downgrade_accepted") is not None:
            return "Accepted"
        return "Accepted" if wanted == current else "Rejected"

    # --- ExtendedTriggerMessage ----------------------------------------------------------------

    async def on_ExtendedTriggerMessage(self: ChargePointSim, p: dict) -> dict | Answer:
        self.require_security("ExtendedTriggerMessage")
        what, connector_id = p["requestedMessage"], p.get("connectorId")
        if connector_id is not None and self.connector(connector_id) is None:
            return REJECTED
        if what == "SignChargePointCertificate":
            if self.pics.security.profile != 3:
                return REJECTED  # white paper 2.6: the charge point certificate is profile 3's
            if self.faults.get("sign_certificate_not_sent") is not None:
                return ACCEPTED
            return Answer(ACCEPTED, self.request_certificate)
        if what == "LogStatusNotification":
            return Answer(ACCEPTED, lambda: self.outbox.post(
                "LogStatusNotification", lambda: {"status": "Idle"}))
        send = self.trigger_senders(connector_id).get(what)
        if send is None:
            return {"status": "NotImplemented"}
        return Answer(ACCEPTED, send)

    async def request_certificate(self: ChargePointSim) -> None:
        """A new key pair and a CSR for it: SignCertificate.req (TC_074)."""
        serial = self.pics.dut.serial_number or self.id
        weak = self.faults.get("csr_weak_key")
        self.cp_key = new_key("rsa", 1024) if weak is not None else new_key()
        cn = serial + "-X" if self.faults.get("csr_wrong_cn") is not None else serial
        csr = make_csr(self.cp_key, cn, org=self.config.get("CpoName") or None)
        try:
            conf = await self.outbox.call("SignCertificate", {"csr": csr})
        except Exception as exc:  # offline, CALLERROR, timeout: the central system must ask again
            self.events.add("sign_certificate_failed", error=repr(exc))
            return
        self.events.add("sign_certificate", status=conf.get("status"))

    async def on_CertificateSigned(self: ChargePointSim, p: dict) -> dict | Answer:
        self.require_security("CertificateSigned")
        chain = p["certificateChain"]
        problem = self._chain_problem(chain)
        if problem is not None and self.faults.get("accept_any_certificate_chain") is not None:
            self.events.add("certificate_not_verified", why=problem)
            return ACCEPTED  # answered without looking; the chain is never used
        if problem is not None:
            self.events.add("certificate_rejected", why=problem)
            self.security_event("InvalidChargePointCertificate", problem)
            return REJECTED
        self.cp_certificate = chain
        self.events.add("certificate_signed")
        if self.faults.get("certificate_signed_not_used") is not None:
            return ACCEPTED
        self.client_cert = self._keep_certificate(chain, self.cp_key)
        self.cp_key = None
        link = self.link
        # The new certificate is used from the next connection on: close this one once answered.
        return Answer(ACCEPTED, lambda: self._reconnect_after(link, "new charge point certificate"))

    def _keep_certificate(self: ChargePointSim, chain: str, key: Any) -> tuple[str, str]:
        """The new certificate and its key as files for ``ssl`` (key mode 0600, in a private
        temporary folder removed when the simulator stops)."""
        import os
        import tempfile
        from pathlib import Path

        from cryptography.hazmat.primitives import serialization
        if self.cert_folder is None:
            self.cert_folder = tempfile.TemporaryDirectory(prefix="ocpp-sim-cp-")
        folder = Path(self.cert_folder.name)
        cert_file, key_file = folder / "cp-cert.pem", folder / "cp-key.pem"
        cert_file.write_text(chain)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        return str(cert_file), str(key_file)

    async def _reconnect_after(self: ChargePointSim, link: Any, why: str) -> None:
        from harness.sim.common import wait_event
        await wait_event(self.outbox.empty, self.response_timeout)
        if link is not None and link is self.link:
            await link.close(1000, why)

    def _chain_problem(self: ChargePointSim, chain: str) -> str | None:
        limit = self.config.int("CertificateSignedMaxChainSize", 0)
        if limit and len(chain) > limit:
            return f"the chain has {len(chain)} characters, CertificateSignedMaxChainSize {limit}"
        try:
            certs = x509.load_pem_x509_certificates(chain.encode())
        except ValueError:
            return "not a PEM certificate chain"
        leaf, now = certs[0], datetime.datetime.now(datetime.timezone.utc)
        if self.cp_key is None or leaf.public_key() != self.cp_key.public_key():
            return "the certificate is not for the key of the last CSR"
        if _cn(leaf) != (self.pics.dut.serial_number or self.id):
            return f"the certificate's CN is {_cn(leaf)!r}, not the serial number"
        for cert in certs:
            if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                return f"{_cn(cert)!r} is not valid now"
        for child, parent in zip(certs, certs[1:]):
            try:
                child.verify_directly_issued_by(parent)
            except (ValueError, TypeError, Exception):  # noqa: BLE001 -- InvalidSignature too
                return f"{_cn(child)!r} is not issued by {_cn(parent)!r}"
        top = certs[-1]
        for installed in self.store:
            if installed.use != "CentralSystemRootCertificate":
                continue
            try:
                top.verify_directly_issued_by(installed.cert)
                return None
            except Exception:  # noqa: BLE001 -- not this root
                continue
        return "the chain does not lead to an installed CentralSystemRootCertificate"

    # --- the certificate store -----------------------------------------------------------------

    async def on_InstallCertificate(self: ChargePointSim, p: dict) -> dict:
        self.require_security("InstallCertificate")
        use, pem = p["certificateType"], p["certificate"]
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            self.events.add("install_rejected", why="not a PEM certificate")
            return REJECTED
        now = datetime.datetime.now(datetime.timezone.utc)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            self.events.add("install_rejected", why="not valid now")
            return REJECTED
        if any(i.cert == cert and i.use == use for i in self.store):
            return ACCEPTED
        if len(self.store) >= (self.config.int("CertificateStoreMaxLength", 0)
                               or DEFAULT_STORE_MAX):
            return {"status": "Failed"}
        if self.faults.get("install_certificate_not_stored") is None:
            self.store.append(Installed(use, cert))
        self.events.add("certificate_installed", use=use, cn=_cn(cert))
        return ACCEPTED

    def hash_data_of(self: ChargePointSim, cert: x509.Certificate, algorithm: str) -> dict:
        data = _hash_data(cert, algorithm)
        if self.faults.get("certificate_hash_of_pem") is not None:
            # The issuer name hashed as the PEM text instead of its DER encoding.
            from cryptography.hazmat.primitives.serialization import Encoding
            h = hashes.Hash(_HASHES[algorithm]())
            h.update(cert.public_bytes(Encoding.PEM))
            data["issuerNameHash"] = h.finalize().hex()
        return data

    async def on_GetInstalledCertificateIds(self: ChargePointSim, p: dict) -> dict:
        self.require_security("GetInstalledCertificateIds")
        found = [self.hash_data_of(i.cert, "SHA256") for i in self.store
                 if i.use == p["certificateType"]]
        if not found:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashData": found}

    async def on_DeleteCertificate(self: ChargePointSim, p: dict) -> dict:
        self.require_security("DeleteCertificate")
        wanted = p["certificateHashData"]
        for installed in list(self.store):
            ours = self.hash_data_of(installed.cert, wanted["hashAlgorithm"])
            if (ours["issuerNameHash"] == wanted["issuerNameHash"].lower()
                    and ours["issuerKeyHash"] == wanted["issuerKeyHash"].lower()
                    and ours["serialNumber"] == wanted["serialNumber"].lower().lstrip("0")):
                if self.faults.get("delete_certificate_not_deleted") is None:
                    self.store.remove(installed)
                self.events.add("certificate_deleted", use=installed.use, cn=_cn(installed.cert))
                return ACCEPTED
        return {"status": "NotFound"}

    def trusted_roots_pem(self: ChargePointSim) -> str:
        """The CentralSystemRootCertificates it trusts for wss:// (its store), PEM."""
        from harness.pki import pem_of
        return "".join(pem_of(i.cert) for i in self.store
                       if i.use == "CentralSystemRootCertificate")
