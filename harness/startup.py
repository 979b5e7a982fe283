"""Start-up checks: what can be known to be wrong before the first test case runs.

Rules:

- Every check names the option or the PICS key at fault, in one line: "--ocpp-listen
  127.0.0.1:9000: cannot listen there: address already in use (another program, or another
  harness run, holds the port)".
- A problem found here is the set-up's, not the device's: the plugin turns the lines into a
  usage error (exit code 4) before any report exists, so no report blames the device for it.
- Each check is bounded: the CSMS URL is reached once, within the PICS response timeout.
- Nothing here starts a conversation with the device: the CSMS is reached with a TCP connection
  only, never a TLS or OCPP session it would have to account for (how it answers those is the
  device's, judged by the cases).

The engine's own modules do the real work later; these checks use the same parsers (the driver
spec, the TLS context) so that what passes here cannot fail there for the same reason.
"""

from __future__ import annotations

import errno
import importlib
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

SPEC_FORMS = ("prompt, http://HOST:PORT[/base], https://HOST:PORT[/base], "
              "python:package.module:attribute, sim")


def host_port(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``HOST:PORT`` (``:PORT`` takes ``default_host``; an IPv6 host keeps its colons) or
    ValueError saying what was expected. The one reading of a listen address: the plugin's
    --ocpp-listen, the simulators' and ``pics discover``'s --listen / --control."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host or default_host, int(port)


def check(pics: Any, options: Any) -> list[str]:
    """Every problem of this set-up, one line each (empty: nothing found)."""
    problems = check_driver(options.driver, options.dut)
    if options.dut == "external" and options.sut == "cs":
        if options.csms_url:
            # The harness would listen for a charge point and never use the URL: a run that waits
            # minutes for nobody, when the user meant the other side.
            problems.append(f"--ocpp-csms-url {options.csms_url!r}: given, but the side under "
                            f"test is a charge point (--ocpp-sut cs, or the PICS dut.sut); for a "
                            f"central system add --ocpp-sut csms and its PICS (--ocpp-pics)")
        problems += check_listen(*options.listen)
    if options.dut == "external" and options.sut == "csms":
        source = "--ocpp-csms-url" if options.csms_url else "PICS dut.csms_url"
        problems += check_csms_url(options.csms_url or pics.dut.csms_url, source,
                                   pics.timing.response_timeout)
    problems += check_tls_files(pics)
    return problems


def check_driver(spec: str, dut: str) -> list[str]:
    """``--ocpp-driver``: a form the harness knows, and for ``python:`` an importable object
    (not called here: a factory is called once, by the driver itself)."""
    text = spec.strip()
    lower = text.lower()
    where = f"--ocpp-driver {spec!r}"
    if lower == "prompt":
        return []
    if lower == "sim":
        return [] if dut == "sim" else [
            f"{where}: the sim driver drives the embedded simulator; with --ocpp-dut external "
            f"use prompt, an http:// rig or a python: driver"]
    if lower.startswith(("http://", "https://")):
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            return [f"{where}: the port is not a number from 0 to 65535"]
        if not parts.hostname:
            return [f"{where}: no host; the form is http://HOST:PORT[/base]"]
        del port
        return []
    if text.startswith("python:"):
        return _check_python_driver(text[len("python:"):], where)
    return [f"{where}: unknown driver; --ocpp-driver accepts {SPEC_FORMS}"]


def _check_python_driver(spec: str, where: str) -> list[str]:
    module_name, has_attr, attr_path = spec.partition(":")
    if not module_name or (has_attr and not attr_path):
        return [f"{where}: the form is python:package.module:attribute"]
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 -- any import failure is the spec's problem
        return [f"{where}: cannot import {module_name!r}: {type(exc).__name__}: {exc}"]
    for part in attr_path.split(".") if has_attr else ():
        if not hasattr(obj, part):
            return [f"{where}: {getattr(obj, '__name__', module_name)} has no attribute {part!r}"]
        obj = getattr(obj, part)
    return []


def check_listen(host: str, port: int) -> list[str]:
    """``--ocpp-listen``: the address resolves and the port can be bound now (it is released
    again at once; the harness's server binds it as the run starts)."""
    where = f"--ocpp-listen {host}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return [f"{where}: cannot resolve {host!r}: {exc.strerror}"]
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as probe:
            # As asyncio's server does: a port in TIME_WAIT from an earlier run is not "in use".
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        hint = {errno.EADDRINUSE: " (another program, or another harness run, holds the port)",
                errno.EACCES: " (ports below 1024 need privileges)",
                errno.EADDRNOTAVAIL: " (not an address of this machine)"}.get(exc.errno, "")
        return [f"{where}: cannot listen there: {(exc.strerror or str(exc)).lower()}{hint}"]
    return []


def check_csms_url(url: str | None, source: str, timeout: float) -> list[str]:
    """The CSMS endpoint: a ws:// or wss:// URL whose host accepts a TCP connection within
    ``timeout`` seconds.

    Only TCP: nothing listening there (refused, unreachable, unresolvable, no answer to the SYN)
    is the set-up's problem. Once TCP is reached, what the central system does with the TLS or
    WebSocket handshake (no TLS on a wss:// URL, a certificate the harness refuses, HTTP 401) is
    the device's: every case FAILs it naming the rule, the attempt in its wire log.
    """
    if not url:
        return ["--ocpp-csms-url: SUT csms with --ocpp-dut external needs the CSMS endpoint "
                "(--ocpp-csms-url or PICS dut.csms_url)"]
    where = f"{source} {url!r}"
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        return [f"{where}: not a ws:// or wss:// URL"]
    try:
        port = parts.port
    except ValueError:
        return [f"{where}: the port is not a number from 0 to 65535"]
    if port == 0:  # the embedded simulator's PICS: 'any free port', meaningless for a real CSMS
        return [f"{where}: port 0 is the embedded simulator's free port, not a central system's "
                f"(give --ocpp-csms-url, or --ocpp-pics with the CSMS's dut.csms_url)"]
    if port is None:
        port = 443 if parts.scheme == "wss" else 80
    if not parts.hostname:
        return [f"{where}: no host"]
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        return [f"{where}: cannot resolve {parts.hostname!r}: {exc.strerror}"]
    except TimeoutError:
        return [f"{where}: no TCP connection to {parts.hostname}:{port} within {timeout:g} s "
                f"(PICS timing.response_timeout)"]
    except OSError as exc:
        return [f"{where}: cannot reach {parts.hostname}:{port}: "
                f"{(exc.strerror or str(exc)).lower()}"]
    return []


def check_tls_files(pics: Any) -> list[str]:
    """PICS ``[security]`` files (the PICS loader checked they exist): the CA file holds
    certificates, the certificate file a certificate, and the key matches it, as the TLS context
    the run builds will need."""
    security = pics.security
    if security.profile < 2:
        return []
    problems = []
    for key in ("ca_file", "cert_file"):
        path = getattr(security, key)
        if path and not _holds_certificate(path):
            problems.append(f"PICS security.{key} {path!r}: no PEM certificate in the file "
                            f"(-----BEGIN CERTIFICATE-----)")
    if problems:
        return problems
    if security.cert_file:
        from harness.transport import key_passphrase

        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(security.cert_file, security.key_file,
                                    password=key_passphrase(security.key_password))
        except ssl.SSLError as exc:
            if _encrypted(security.key_file):
                return [f"PICS security.key_file {security.key_file!r}: an encrypted key that "
                        + ("security.key_password does not decrypt" if security.key_password
                           else "needs security.key_password (its passphrase)")
                        + f" ({exc.reason or exc})"]
            return [f"PICS security.key_file {security.key_file!r}: not the private key of "
                    f"security.cert_file, or not a PEM key ({exc.reason or exc})"]
        except OSError as exc:
            return [f"PICS security.cert_file: cannot be read: {exc}"]
    if security.ca_file:
        try:
            ssl.create_default_context(cafile=security.ca_file)
        except (ssl.SSLError, OSError) as exc:
            return [f"PICS security.ca_file {security.ca_file!r}: cannot be used as a CA file "
                    f"({getattr(exc, 'reason', None) or exc})"]
    return []


def _encrypted(path: str | None) -> bool:
    """A PEM key file that holds an encrypted key (PKCS#8 or the legacy OpenSSL form)."""
    try:
        text = open(path or "", "rb").read()
    except OSError:
        return False
    return b"ENCRYPTED PRIVATE KEY" in text or b"Proc-Type: 4,ENCRYPTED" in text


def _holds_certificate(path: str) -> bool:
    try:
        text = open(path, "rb").read()
    except OSError:
        return False
    try:
        from cryptography import x509

        return bool(x509.load_pem_x509_certificates(text))
    except ImportError:  # not installed: the marker and the stdlib's PEM decoder
        block = text.decode("ascii", "replace")
        if "-----BEGIN CERTIFICATE-----" not in block:
            return False
        try:
            ssl.PEM_cert_to_DER_cert(block[block.index("-----BEGIN CERTIFICATE-----"):])
        except ValueError:
            return False
        return True
    except ValueError:
        return False
