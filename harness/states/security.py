"""Reusable steps of the security extension's charge point cases (OCPP 1.6 security white paper,
edition 2; the harness plays the central system and its CA, harness/pki.py).

Verdicts as in :mod:`harness.states.cs`: a device doing something wrong is a FAIL naming the step
and the wire log line; a reconnection the harness refuses (wrong credentials, a broken TLS
handshake) is a :class:`~harness.verdicts.HandshakeViolation` (FAIL) with the refusals. Every wait
is bounded by a PICS timing: a reconnection by ``timing.boot_timeout`` (the device's time to come
back after losing its connection), a disconnection the device should make itself by
``timing.triggered_function_timeout``. Secrets the cases send (a new AuthorizationKey) are
registered with :func:`harness.wirelog.secret` before they go on the wire.
"""

from __future__ import annotations

from typing import Any, Callable

from harness.pki import Issued, Pki, hash_data, same_hash_data
from harness.session import (DeviceTimeout, HandshakeViolation, HarnessError, Request, Response,
                             Session)
from harness.states.cs import cite, conf_status, triggered
from harness.transport import Attempt

Condition = Callable[[Any], bool]


def on_profiles(*profiles: int) -> tuple[Condition, str]:
    """``na_when`` entry: the case applies to these security profiles only."""
    named = " or ".join(str(p) for p in profiles)
    return (lambda pics: pics.security.profile not in profiles,
            f"the case applies to security profile {named}; the PICS security.profile is another")


def pki_of(bench: Any) -> Pki:
    pki = getattr(bench, "pki", None)
    if pki is None:
        raise HarnessError("the bench has no PKI (harness/pki.py): the PICS declares no security "
                           "profile, so the case should have been N/A")
    return pki


def basic_user(attempt: Attempt) -> str | None:
    """The HTTP Basic user of a handshake (the harness records the user, never the password)."""
    return dict(attempt.detail).get("basic_auth_user")


async def reconnection(cp: Session, pics: Any, *, step: str, drop: bool = True,
                       why: str = "the central system closes the connection") -> Attempt:
    """The charge point connects again: after the harness closes the connection (``drop``) or
    after the device closed it itself. Returns the accepted handshake. Refused attempts meanwhile
    (old credentials, no credentials) end the wait as a FAIL naming them."""
    before = len(cp.attempts)
    if drop:
        await cp.close(1001, why)
    try:
        await cp.wait_connected(pics.timing.boot_timeout)
    except DeviceTimeout as exc:
        raise DeviceTimeout(f"{step}: the charge point did not connect again within "
                            f"timing.boot_timeout = {pics.timing.boot_timeout:g} s ({exc})") from None
    except HandshakeViolation as exc:
        raise HandshakeViolation(f"{step}: {exc}") from None
    accepted = [a for a in cp.attempts[before:] if a.accepted and a.stage == "websocket"]
    if not accepted:
        raise HarnessError(f"{step}: connected again, but no accepted handshake was recorded")
    return accepted[-1]


async def dropped_by_device(cp: Session, pics: Any) -> bool:
    """Whether the charge point closes its connection itself within the triggered function
    timeout (what it does to use a new AuthorizationKey)."""
    try:
        await cp.wait_disconnected(pics.timing.triggered_function_timeout)
    except DeviceTimeout:
        return False
    return True


async def requested_csr(cp: Session, pics: Any) -> Request:
    """Steps 1-4 of TC_074 / TC_077: ExtendedTriggerMessage.req SignChargePointCertificate ->
    Accepted; the charge point's SignCertificate.req within triggered_function_timeout, answered
    Accepted. Returns that request (its CSR is the case's to judge)."""
    cp.on("SignCertificate", {"status": "Accepted"})
    # 1. ExtendedTriggerMessage.req SignChargePointCertificate  2. .conf Accepted
    trigger = await cp.call("ExtendedTriggerMessage",
                            {"requestedMessage": "SignChargePointCertificate"})
    conf_status(trigger, "Accepted", step="step 2")
    # 3. Charge point: SignCertificate.req with a CSR  4. Harness: .conf Accepted
    return await cp.expect("SignCertificate", timeout=triggered(pics),
                           what="SignCertificate.req after the ExtendedTriggerMessage")


def tls_of(cp: Session) -> tuple[str, str, bytes | None] | None:
    """The current connection's TLS: (protocol version, cipher suite, the client certificate's DER
    or None), as OpenSSL names them; None when the connection is not TLS."""
    link = cp.link
    transport = getattr(getattr(link, "ws", None), "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    cipher = ssl_object.cipher()
    return (ssl_object.version() or "", cipher[0] if cipher else "",
            ssl_object.getpeercert(binary_form=True))


def peer_fingerprint(cp: Session) -> str | None:
    """SHA-256 (hexadecimal) of the client certificate the charge point presented on its current
    connection's TLS handshake; None without TLS or without a client certificate."""
    import hashlib
    tls = tls_of(cp)
    return hashlib.sha256(tls[2]).hexdigest() if tls is not None and tls[2] else None


# --- the certificate store -------------------------------------------------------------------

async def installed_ids(cp: Session, use: str, *, step: str) -> tuple[Response, list[dict]]:
    """GetInstalledCertificateIds.req for ``use``: the answer and its certificateHashData
    (empty for NotFound)."""
    response = await cp.call("GetInstalledCertificateIds", {"certificateType": use})
    status = conf_status(response, "Accepted", "NotFound", step=step)
    data = response.get("certificateHashData") or []
    assert status == "Accepted" or not data, (
        f"{step}: GetInstalledCertificateIds.conf is NotFound but lists {len(data)} "
        f"certificate(s) ({cite(response)})")
    return response, list(data)


def find(cert: Issued, reported: list[dict]) -> dict | None:
    """The entry of ``reported`` naming ``cert``, each entry checked with the hash data the
    harness computes itself with that entry's hashAlgorithm."""
    for entry in reported:
        algorithm = entry.get("hashAlgorithm") if isinstance(entry, dict) else None
        if algorithm in ("SHA256", "SHA384", "SHA512") \
                and same_hash_data(entry, hash_data(cert.cert, algorithm)):
            return entry
    return None


def _show(reported: list[dict], cert: Issued) -> str:
    ours = hash_data(cert.cert, (reported[0].get("hashAlgorithm") if reported
                                 and isinstance(reported[0], dict) else None) or "SHA256")
    return (f"the harness computes {ours} for {cert.name}; the device lists "
            f"{reported[:4] if reported else 'none'}")


async def install(cp: Session, cert: Issued, use: str, *, step: str) -> None:
    """InstallCertificate.req ``use`` with ``cert``: Accepted."""
    response = await cp.call("InstallCertificate", {"certificateType": use,
                                                    "certificate": cert.pem})
    conf_status(response, "Accepted", step=step)


async def listed(cp: Session, cert: Issued, use: str, *, step: str) -> dict:
    """GetInstalledCertificateIds.req ``use`` lists ``cert``: its entry."""
    response, reported = await installed_ids(cp, use, step=step)
    entry = find(cert, reported)
    assert entry is not None, (
        f"{step}: GetInstalledCertificateIds.conf ({use}) does not list the certificate installed: "
        f"{_show(reported, cert)} ({cite(response)})")
    return entry


async def not_listed(cp: Session, cert: Issued, use: str, *, step: str) -> None:
    response, reported = await installed_ids(cp, use, step=step)
    assert find(cert, reported) is None, (
        f"{step}: GetInstalledCertificateIds.conf ({use}) still lists the deleted certificate "
        f"({cite(response)})")


async def delete(cp: Session, cert: Issued, algorithm: str, *, step: str,
                 expected: tuple[str, ...] = ("Accepted",)) -> Response:
    """DeleteCertificate.req with the hash data the harness computes for ``cert``."""
    response = await cp.call("DeleteCertificate",
                             {"certificateHashData": hash_data(cert.cert, algorithm)})
    conf_status(response, *expected, step=step)
    return response
