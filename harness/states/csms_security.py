"""Reusable steps of the security extension's central system cases (OCPP 1.6 security white
paper, edition 2; the harness is the charge point, harness/bench.py's ChargePointBench dials).

The TLS the harness's connection negotiated, the central system's certificate as it served it,
and cipher suite probes: one TLS 1.2 handshake per suite, offering that suite only (one connection
shows only the suite negotiated). A probe is bounded by ``timing.response_timeout`` and is only a
TLS handshake: no HTTP upgrade, so the central system sees no charge point connect.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID

from harness.session import Session
from harness.states.security import tls_of

TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
"""The versions the white paper allows (TLS 1.2 or later)."""

SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": ("ECDHE-ECDSA-AES128-GCM-SHA256", "EC"),
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": ("ECDHE-ECDSA-AES256-GCM-SHA384", "EC"),
    "TLS_RSA_WITH_AES_128_GCM_SHA256": ("AES128-GCM-SHA256", "RSA"),
    "TLS_RSA_WITH_AES_256_GCM_SHA384": ("AES256-GCM-SHA384", "RSA"),
}
"""The white paper's four cipher suites (IANA name -> OpenSSL name, the certificate key they
need): ECDSA suites need an EC certificate, TLS_RSA ones an RSA certificate."""


def endpoint(csms: Session) -> tuple[str, int]:
    """Host and port of the central system's URL (the bench's)."""
    parts = urlsplit(getattr(csms.dialer, "url", "") or "")
    return parts.hostname or "", parts.port or (443 if parts.scheme == "wss" else 80)


def negotiated(csms: Session, *, step: str) -> tuple[str, str, x509.Certificate]:
    """The current connection's TLS version, cipher suite (OpenSSL's name) and the central
    system's certificate. A connection without TLS is a FAIL of ``step``."""
    link = csms.link
    transport = getattr(getattr(link, "ws", None), "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    tls = tls_of(csms)
    assert tls is not None and ssl_object is not None, (
        f"{step}: the connection to the central system is not TLS (security profile 2/3 is wss://)")
    der = ssl_object.getpeercert(binary_form=True)
    assert der, f"{step}: the central system presented no certificate"
    return tls[0], tls[1], x509.load_der_x509_certificate(der)


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) else None


def key_kind(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec
    return "EC" if isinstance(cert.public_key(), ec.EllipticCurvePublicKey) else "RSA"


async def probe_suite(csms: Session, pics: Any, suite: str) -> str | None:
    """A TLS 1.2 handshake with the central system offering only ``suite`` (an IANA name of
    :data:`SUITES`): None when it completes, else why not (the central system's alert, or
    silence until timing.response_timeout)."""
    host, port = endpoint(csms)
    context = csms.dialer.client_tls(SUITES[suite][0])  # type: ignore[union-attr]
    timeout = pics.timing.response_timeout
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=context, server_hostname=host, ssl_handshake_timeout=timeout), timeout)
    except TimeoutError:
        why: str | None = f"no TLS handshake within timing.response_timeout = {timeout:g} s"
    except ConnectionResetError:
        why = "the central system reset the connection during the handshake"
    except (ssl.SSLError, OSError) as exc:
        why = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    else:
        why = None
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (TimeoutError, ssl.SSLError, OSError):
            pass  # the probe was the handshake; how the close goes is not judged
    csms.event("tls_probe", suite=suite, outcome="accepted" if why is None else "refused",
               reason=why or "")
    return why


async def suite_problems(csms: Session, pics: Any, cert: x509.Certificate, *,
                         step: str) -> list[str]:
    """Each of the four cipher suites on its own TLS 1.2 handshake: a refused suite that the
    certificate's key can serve is a problem (the case's FAIL), one that needs another key type a
    remark (the OCTT expects all four)."""
    kind, problems = key_kind(cert), []
    for suite, (_, needs) in SUITES.items():
        why = await probe_suite(csms, pics, suite)
        if why is None:
            continue
        if needs == kind:
            problems.append(f"{step}: the central system refused a TLS 1.2 handshake offering "
                            f"only {suite} ({why}), which its {kind} certificate can serve")
        else:
            csms.remark(f"{suite} refused ({why}): it needs an {needs} certificate, the central "
                        f"system's is {kind}; the OCTT expects all four suites")
    return problems
