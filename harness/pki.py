"""A per-run public key infrastructure for the security extension (OCPP 1.6 security white paper,
edition 2): the certificates the harness installs, signs and serves, the checks it makes of what a
device sends, and the certificate hash data it computes itself. No pytest, no session: a case or
the bench asks; the verdict is theirs.

    pki = Pki.create(report_dir / "pki", charge_point_serial="SIM-CP-0001")
    pki.server.cert_file, pki.server.key_file    # the harness's wss:// listener (signed by csms_root)
    problems = check_csr(csr_pem, expected_cn="SIM-CP-0001")  # [] when the CSR is sound
    chain = pki.sign_csr(csr_pem)                # leaf + charge point CA, PEM
    hash_data(pki.manufacturer_root.cert, "SHA256")  # what GetInstalledCertificateIds must report

Rules, stated first:

- Made new for every run (fresh keys and serial numbers); nothing is reused between runs.
- The hierarchy: **CSMS root** (self-signed; the CentralSystemRootCertificate a charge point
  trusts) signs the harness's **server** certificate and the **charge point CA**, which signs
  charge point certificates (the **client** certificate of the simulated charge point, CN = its
  serial number, and whatever a CSR asks for, TC_074). The **manufacturer root** is a separate
  self-signed root (ManufacturerRootCertificate, TC_075_1).
- Certificates (public) are written as PEM under the folder given (the run's report folder).
  Private keys never go there: they are written, mode 0600, in a private temporary folder removed
  by :meth:`Pki.close`, because ``ssl`` loads keys from files and a report folder is published.
  No key is in a repr, a log line or a report.
- Hash data (:func:`hash_data`, OCPP CertificateHashDataType) is computed from the DER bytes
  here, as RFC 6960's CertID: issuerNameHash = H(DER of the issuer's Name), issuerKeyHash = H(the
  issuer's public key bits, the BIT STRING content of its SubjectPublicKeyInfo), serialNumber in
  hexadecimal without leading zeroes. Comparisons (:func:`same_hash_data`) ignore the case of the
  hexadecimal digits and leading zeroes of the serial number (the white paper does not fix a
  case). A self-signed root is its own issuer.
- The **firmware signing** certificate (:attr:`Pki.firmware_signing`, made on first use) is a
  leaf of the manufacturer root (key usage digitalSignature, extended key usage codeSigning).
  :func:`sign_firmware` signs a firmware file with it, :func:`firmware_signature_problems`
  checks a SignedUpdateFirmware's signature and signing certificate (TC_080/081, both roles).
  The signature is over the whole file with SHA-256 (white paper edition 2, SignedUpdateFirmware:
  "Base64 encoded firmware signature"): ECDSA (DER) for an EC key, RSA PKCS#1 v1.5 for RSA (PSS
  accepted too when checking).
- :func:`check_csr`: PEM PKCS#10 whose signature verifies with its own key (the CSR proves
  possession), subject CN as expected, RSA/DSA >= 2048 bits or EC >= 224 bits (the white paper's
  minimums, TC_087), signed with SHA-256 or stronger.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Issued", "Pki", "HASH_ALGORITHMS", "hash_data", "same_hash_data", "check_csr",
           "new_key", "make_csr", "INVALID_KINDS", "pem_of", "sign_firmware",
           "firmware_signature_problems", "corrupt_signature"]

HASH_ALGORITHMS = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}
"""OCPP HashAlgorithmEnumType -> the hash function."""

STRONG_SIGNATURE_HASHES = ("sha256", "sha384", "sha512")
MIN_RSA_BITS, MIN_EC_BITS = 2048, 224

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
INVALID_KINDS = ("other_ca", "expired", "key_mismatch", "wrong_cn", "bad_pem")
"""What :meth:`Pki.invalid_chain` can make: a chain a charge point must refuse, each for one reason."""


def new_key(kind: Literal["ec", "rsa"] = "ec", size: int = 2048) -> Key:
    """A fresh private key: EC P-256 (fast, the default) or RSA of ``size`` bits."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    return ec.generate_private_key(ec.SECP256R1())


def pem_of(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _name(cn: str, org: str = "OCPP harness (per-run test PKI)") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key (kept out of repr), with the files they are in."""
    name: str
    cert: x509.Certificate
    key: Key = field(repr=False)
    cert_file: Path | None = None
    key_file: Path | None = field(default=None, repr=False)

    @property
    def pem(self) -> str:
        return pem_of(self.cert)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, hexadecimal: what a TLS handshake's peer cert proves."""
        return self.cert.fingerprint(hashes.SHA256()).hex()


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any, *, ca: bool,
             not_before: datetime.datetime, days: float) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def _sign(builder: x509.CertificateBuilder, issuer_key: Key,
          issuer: x509.Certificate | None) -> x509.Certificate:
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Pki:
    """The run's certificates (module docstring). Make one with :meth:`create`."""

    def __init__(self, folder: Path, key_folder: Path, charge_point_serial: str,
                 issued: dict[str, Issued]):
        self.folder, self._key_folder = folder, key_folder
        self.charge_point_serial = charge_point_serial
        self._issued = issued

    def __repr__(self) -> str:
        return f"Pki({str(self.folder)!r}, {sorted(self._issued)})"

    csms_root = property(lambda self: self._issued["csms_root"])
    cp_ca = property(lambda self: self._issued["cp_ca"])
    manufacturer_root = property(lambda self: self._issued["manufacturer_root"])
    server = property(lambda self: self._issued["server"])
    client = property(lambda self: self._issued["client"])

    @classmethod
    def create(cls, folder: Path, *, charge_point_serial: str,
               server_names: tuple[str, ...] = ("localhost", "127.0.0.1"),
               server_cn: str = "OCPP harness central system", days: float = 7) -> Pki:
        """A new PKI (module docstring), its certificates written under ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        key_folder = Path(tempfile.mkdtemp(prefix="ocpp-pki-"))  # mode 0700
        now = _now() - datetime.timedelta(minutes=5)  # a device's clock may be a little behind
        issued: dict[str, Issued] = {}
        pki = cls(folder, key_folder, charge_point_serial, issued)

        def root(name: str, cn: str) -> None:
            key = new_key()
            subject = _name(cn)
            cert = _sign(_builder(subject, subject, key.public_key(), ca=True, not_before=now,
                                  days=days), key, None)
            issued[name] = pki._write(name, cert, key)

        root("csms_root", "OCPP harness CSMS root")
        root("manufacturer_root", "OCPP harness manufacturer root")
        ca_key = new_key()
        parent = issued["csms_root"]
        ca = _sign(_builder(_name("OCPP harness charge point CA"), parent.cert.subject,
                            ca_key.public_key(), ca=True, not_before=now, days=days),
                   parent.key, parent.cert)
        issued["cp_ca"] = pki._write("cp_ca", ca, ca_key)
        issued["server"] = pki._leaf("server", server_cn, parent, now, days,
                                     server_names=server_names)
        issued["client"] = pki._leaf("client", charge_point_serial, issued["cp_ca"], now, days)
        return pki

    def extra_root(self, name: str, cn: str, days: float = 7) -> Issued:
        """Another self-signed root of this run (a second CentralSystemRootCertificate to install
        and delete, TC_075_2 / TC_076), written beside the others."""
        if name in self._issued:
            return self._issued[name]
        key = new_key()
        subject = _name(cn)
        now = _now() - datetime.timedelta(minutes=5)
        cert = _sign(_builder(subject, subject, key.public_key(), ca=True, not_before=now,
                              days=days), key, None)
        self._issued[name] = self._write(name, cert, key)
        return self._issued[name]

    def expired_server(self, cn: str, server_names: tuple[str, ...] = ("localhost", "127.0.0.1"),
                       ) -> Issued:
        """A server certificate like :attr:`server` (same root, names) that expired a day ago:
        what a central system serves when it forgot to renew (a fault of the reference CSMS)."""
        if "server_expired" not in self._issued:
            then = _now() - datetime.timedelta(days=3)
            self._issued["server_expired"] = self._leaf("server_expired", cn, self.csms_root,
                                                        then, 2, server_names=server_names)
        return self._issued["server_expired"]

    def rsa_server(self, cn: str, server_names: tuple[str, ...] = ("localhost", "127.0.0.1"),
                   ) -> Issued:
        """A server certificate like :attr:`server` with an RSA 2048 key: served beside the EC
        one, a TLS server can negotiate the white paper's TLS_RSA suites too (made on demand)."""
        if "server_rsa" not in self._issued:
            self._issued["server_rsa"] = self._leaf(
                "server_rsa", cn, self.csms_root, _now() - datetime.timedelta(minutes=5), 7,
                server_names=server_names, key=new_key("rsa"))
        return self._issued["server_rsa"]

    @property
    def firmware_signing(self) -> Issued:
        """The firmware signing certificate of this run (module docstring), made on first use."""
        if "firmware_signing" not in self._issued:
            root = self.manufacturer_root
            key = new_key()
            builder = (_builder(_name("OCPP harness firmware signing"), root.cert.subject,
                                key.public_key(), ca=False,
                                not_before=_now() - datetime.timedelta(minutes=5), days=7)
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                                      critical=False))
            self._issued["firmware_signing"] = self._write(
                "firmware_signing", _sign(builder, root.key, root.cert), key)
        return self._issued["firmware_signing"]

    def _leaf(self, name: str, cn: str, issuer: Issued, now: datetime.datetime, days: float, *,
              server_names: tuple[str, ...] = (), key: Key | None = None) -> Issued:
        key = key or new_key()
        cert = _sign(self._leaf_builder(cn, key.public_key(), issuer, now, days, server_names),
                     issuer.key, issuer.cert)
        return self._write(name, cert, key)

    @staticmethod
    def _leaf_builder(cn: str, public_key: Any, issuer: Issued, now: datetime.datetime,
                      days: float, server_names: tuple[str, ...] = ()) -> x509.CertificateBuilder:
        builder = _builder(_name(cn), issuer.cert.subject, public_key, ca=False, not_before=now,
                           days=days)
        if server_names:
            import ipaddress
            sans: list[x509.GeneralName] = []
            for n in server_names:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(n)))
                except ValueError:
                    sans.append(x509.DNSName(n))
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
            usage = ExtendedKeyUsageOID.SERVER_AUTH
        else:
            usage = ExtendedKeyUsageOID.CLIENT_AUTH
        return builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)

    def _write(self, name: str, cert: x509.Certificate, key: Key) -> Issued:
        cert_file = self.folder / f"{name}.pem"
        cert_file.write_text(pem_of(cert))
        key_file = self._key_folder / f"{name}.key"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        return Issued(name, cert, key, cert_file, key_file)

    @property
    def client_trust_file(self) -> Path:
        """The CAs a TLS server of this PKI verifies client certificates with (charge point CA
        and CSMS root), one PEM file."""
        path = self.folder / "client_trust.pem"
        trust = self.cp_ca.pem + self.csms_root.pem
        # Written by this PKI: a file an earlier run left in the same report folder is another
        # run's CAs, which verify none of this run's certificates.
        if not path.exists() or path.read_text() != trust:
            path.write_text(trust)
        return path

    def close(self) -> None:
        """Remove the private keys (the certificates stay with the report)."""
        shutil.rmtree(self._key_folder, ignore_errors=True)

    # --- signing what a charge point asks for (TC_074) ---------------------------------------

    def sign_csr(self, csr_pem: str, *, days: float = 7, cn: str | None = None,
                 issuer: Issued | None = None, not_before: datetime.datetime | None = None,
                 public_key: Any = None) -> str:
        """The chain for CertificateSigned.req: a leaf for the CSR's key (signed by the charge
        point CA), then the CA, PEM. The keyword arguments make the invalid variants."""
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        issuer = issuer or self.cp_ca
        subject_cn = cn if cn is not None else _cn_of(csr.subject) or self.charge_point_serial
        builder = self._leaf_builder(subject_cn, public_key or csr.public_key(), issuer,
                                     not_before or _now() - datetime.timedelta(minutes=5), days)
        leaf = _sign(builder, issuer.key, issuer.cert)
        return pem_of(leaf) + issuer.pem

    def invalid_chain(self, kind: str, csr_pem: str) -> str:
        """A CertificateSigned chain for ``csr_pem`` that is wrong in one way (:data:`INVALID_KINDS`):
        signed by a CA outside this PKI, expired, for another key, for another CN, not PEM."""
        if kind == "other_ca":
            key = new_key()
            subject = _name("Unrelated CA", org="Not the central system")
            now = _now()
            cert = _sign(_builder(subject, subject, key.public_key(), ca=True, not_before=now,
                                  days=7), key, None)
            return self.sign_csr(csr_pem, issuer=Issued("other_ca", cert, key))
        if kind == "expired":
            return self.sign_csr(csr_pem, not_before=_now() - datetime.timedelta(days=30), days=1)
        if kind == "key_mismatch":
            return self.sign_csr(csr_pem, public_key=new_key().public_key())
        if kind == "wrong_cn":
            return self.sign_csr(csr_pem, cn=self.charge_point_serial + "-OTHER")
        if kind == "bad_pem":
            body = self.sign_csr(csr_pem).splitlines()
            return "\n".join(body[:1] + [line[::-1] for line in body[1:4]] + body[4:]) + "\n"
        raise ValueError(f"unknown invalid chain {kind!r}; one of {', '.join(INVALID_KINDS)}")


def _cn_of(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


# --- certificate hash data (CertificateHashDataType) ------------------------------------------

def _public_key_bits(public_key: Any) -> bytes:
    """The BIT STRING content of a SubjectPublicKeyInfo (what RFC 6960 hashes)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key.public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.PKCS1)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)
    raise ValueError(f"no issuerKeyHash for a {type(public_key).__name__}")


def hash_data(cert: x509.Certificate, algorithm: str = "SHA256",
              issuer: x509.Certificate | None = None) -> dict[str, str]:
    """The CertificateHashData of ``cert`` (``issuer``: its issuer's certificate; a self-signed
    certificate is its own), computed from the DER bytes (module docstring)."""
    h = HASH_ALGORITHMS[algorithm]
    issuer = issuer or cert
    return {"hashAlgorithm": algorithm,
            "issuerNameHash": h(cert.issuer.public_bytes()).hexdigest(),
            "issuerKeyHash": h(_public_key_bits(issuer.public_key())).hexdigest(),
            "serialNumber": format(cert.serial_number, "x")}


def same_hash_data(a: Any, b: Any) -> bool:
    """Whether two CertificateHashData name the same certificate (module docstring)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    try:
        return (a["hashAlgorithm"] == b["hashAlgorithm"]
                and a["issuerNameHash"].lower() == b["issuerNameHash"].lower()
                and a["issuerKeyHash"].lower() == b["issuerKeyHash"].lower()
                and a["serialNumber"].lower().lstrip("0") == b["serialNumber"].lower().lstrip("0"))
    except (KeyError, AttributeError):
        return False


# --- checking a device's CSR (TC_074) ----------------------------------------------------------

def key_problem(public_key: Any) -> str | None:
    """Why a public key is too weak for the white paper, or None."""
    if isinstance(public_key, (rsa.RSAPublicKey, dsa.DSAPublicKey)):
        if public_key.key_size < MIN_RSA_BITS:
            return f"a {public_key.key_size}-bit RSA/DSA key (at least {MIN_RSA_BITS} bits)"
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.key_size < MIN_EC_BITS:
            return f"a {public_key.key_size}-bit EC key (at least {MIN_EC_BITS} bits)"
    else:
        return f"a {type(public_key).__name__} key (RSA, DSA or EC expected)"
    return None


def check_csr(csr_pem: Any, expected_cn: str | None) -> list[str]:
    """Everything wrong with a charge point's CSR (module docstring), [] when it is sound. The
    texts quote at most 64 characters of what the device sent."""
    if not isinstance(csr_pem, str) or "-----BEGIN CERTIFICATE REQUEST-----" not in csr_pem:
        return [f"the csr is not a PEM PKCS#10 request ({str(csr_pem)[:64]!r})"]
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as exc:
        return [f"the csr cannot be read as PKCS#10 ({str(exc)[:64]})"]
    problems: list[str] = []
    if not csr.is_signature_valid:
        problems.append("the CSR's signature does not verify with its own public key (no proof "
                        "of possession of the key)")
    cn = _cn_of(csr.subject)
    if expected_cn is not None and cn != expected_cn:
        problems.append(f"the CSR's subject CN is {str(cn)[:64]!r}, expected {expected_cn!r} "
                        "(the charge point's serial number)")
    if (weak := key_problem(csr.public_key())) is not None:
        problems.append(f"the CSR is for {weak}")
    algorithm = csr.signature_hash_algorithm
    if algorithm is None or algorithm.name not in STRONG_SIGNATURE_HASHES:
        problems.append(f"the CSR is signed with {getattr(algorithm, 'name', 'no hash')!s} "
                        "(SHA-256 or stronger expected)")
    return problems


def make_csr(key: Key, cn: str, org: str | None = None,
             algorithm: Any = None) -> str:
    """A PEM CSR for ``key`` with subject CN ``cn`` (the simulators' side of TC_074)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
           .sign(key, algorithm or hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


# --- signed firmware (TC_080/081, both roles) --------------------------------------------------

MAX_SIGNATURE, MAX_SIGNING_CERTIFICATE = 800, 5500
"""FirmwareType's maxLength for signature and signingCertificate (SignedUpdateFirmware.req)."""


def sign_firmware(data: bytes, signer: Issued) -> str:
    """The base64 signature of a firmware file (module docstring) with ``signer``'s key."""
    import base64
    key = signer.key
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = key.sign(data, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(raw).decode("ascii")


def corrupt_signature(signature: str) -> str:
    """``signature`` with one byte changed: still base64 of the same length, no longer valid
    (TC_081's "invalid signature")."""
    import base64
    raw = bytearray(base64.b64decode(signature))
    raw[len(raw) // 2] ^= 0x55
    return base64.b64encode(bytes(raw)).decode("ascii")


def _verify_signature(public_key: Any, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            for pad in (padding.PKCS1v15(),
                        padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)):
                try:
                    public_key.verify(signature, data, pad, hashes.SHA256())
                    return True
                except InvalidSignature:
                    continue
            return False
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def firmware_signature_problems(data: bytes, signature: Any, signing_certificate: Any,
                                roots: Any, now: datetime.datetime | None = None) -> list[str]:
    """Everything wrong with a signed firmware (module docstring), [] when it verifies:
    ``signing_certificate`` (PEM) must be valid now and issued by one of ``roots`` (the
    manufacturer root certificates held, x509 objects), and ``signature`` (base64) must verify
    over ``data`` with its key. The texts quote at most 64 characters of what was sent."""
    import base64
    import binascii
    if not isinstance(signing_certificate, str) \
            or "-----BEGIN CERTIFICATE-----" not in signing_certificate:
        return [f"the signingCertificate is not a PEM certificate "
                f"({str(signing_certificate)[:64]!r})"]
    try:
        cert = x509.load_pem_x509_certificate(signing_certificate.encode())
    except ValueError as exc:
        return [f"the signingCertificate cannot be read ({str(exc)[:64]})"]
    problems: list[str] = []
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        problems.append(f"the signingCertificate {_cn_of(cert.subject)!r} is not valid now "
                        f"({cert.not_valid_before_utc:%Y-%m-%d} to "
                        f"{cert.not_valid_after_utc:%Y-%m-%d})")
    issued_by_root = False
    for root in roots:
        try:
            cert.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        issued_by_root = True
        break
    if not issued_by_root:
        problems.append(f"the signingCertificate {_cn_of(cert.subject)!r} is not issued by a "
                        "manufacturer root certificate held")
    try:
        raw = base64.b64decode(signature if isinstance(signature, str) else "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw:
        problems.append(f"the signature is not base64 ({str(signature)[:64]!r})")
    elif not _verify_signature(cert.public_key(), raw, data):
        problems.append(f"the signature does not verify over the {len(data)}-byte firmware "
                        "with the signingCertificate's key (SHA-256)")
    return problems
