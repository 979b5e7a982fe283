"""The test bench: the harness's endpoint, the device (a real one, or an embedded simulator), the
driver for manual actions and the session, set up once for a run and shared by its test cases.

- SUT ``cs``: the harness listens as the central system; the charge point connects (and reconnects
  after every reboot, which the accept loop hands to the same session).
- SUT ``csms``: the harness is the charge point; it connects to the central system and
  :meth:`ChargePointBench.reconnect` plays its reboot.

Connection policy (SUT ``cs``): one connection per charge point. A second connection with the
device's id while its connection is open is checked with a ping on the old one: if the old one
answers, the device holds two connections, a remark (``ws.duplicate-connection``,
:func:`harness.severity.duplicate_connection`: no normative rule forbids it; a FAIL under
``--ocpp-strict``) of the case that runs, and the newcomer is refused with 1008
(``BenchOptions.duplicate = "refuse"``, the default) or the old one closed (``"replace"``); if it
does not answer within :data:`PING_TIMEOUT_S`, it was a dead connection (a power cut leaves one)
and the newcomer takes over. Both are logged.

A connection the harness as charge point cannot open is not an error of the bench: the attempt is
logged in the next case's wire log, and each case that needs the connection FAILs (the central
system broke the handshake) or is INCONCLUSIVE (nothing answered), with the reason.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness import defaults, severity
from harness.pics import Pics
from harness.session import HandshakeViolation, Session
from harness.transport import (SUBPROTOCOL, Attempt, CentralSystemServer, HandshakeFailed,
                               HandshakeRefused, Link, connect, tls_context)
from harness.verdicts import Inconclusive

PING_TIMEOUT_S = 5.0
"""How long an old connection has to answer a ping when the device opens a second one."""


@dataclass(frozen=True)
class BenchOptions:
    sut: str
    dut: str
    """``sim`` (embedded reference simulator) or ``external``."""
    listen: tuple[str, int]
    csms_url: str | None
    driver: str
    sim_faults: tuple[str, ...] = ()
    """``--ocpp-sim-fault`` values ("name:k=v,..."), injected into the embedded simulator."""
    duplicate: str = "refuse"
    """A second live connection with the device's id: ``refuse`` the newcomer or ``replace``."""
    pki_dir: Path | None = None
    """Where the run's PKI writes its certificates (harness/pki.py): the report folder's pki/."""


Notify = Callable[[str], None]
"""Where the bench says what it is doing (listening, connected, refused): the terminal."""


def _quiet(text: str) -> None:
    del text


REFUSAL_REPEAT_S = 10.0
"""The same refusal is printed at most once in this many seconds (the wire log has every one)."""

SIMULATED = ("the {side} under test is the harness's embedded reference simulator (--ocpp-dut "
             "sim, the default); a device of yours needs --ocpp-dut external and its PICS "
             "(--ocpp-pics)")
"""Said once per run: `pytest testcases` with no options tests no device, and passes."""


def _security_password(pics: Pics) -> str | None:
    return pics.security.basic_auth_password if pics.security.profile in (1, 2) else None


SIM_HOST = "localhost"
"""The embedded reference central system's host name on wss:// (its certificate's CN)."""

PICS_PASSWORD: Any = object()
"""ChargePointBench.open_link's default credentials: the bench's current ones (the PICS's until
TC_073_CSMS gives the harness's charge point a new AuthorizationKey)."""


def common_name_of(issued: Any) -> str:
    from cryptography.x509.oid import NameOID
    return str(issued.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def _run_pki(pics: Pics, options: BenchOptions, server_cn: str | None = None) -> Any:
    """The run's PKI for a charge point with a security profile, else None (harness/pki.py)."""
    if pics.security.profile == 0:
        return None
    import tempfile

    from harness.pki import Pki
    folder = options.pki_dir or Path(tempfile.mkdtemp(prefix="ocpp-pki-certs-"))
    serial = pics.dut.serial_number or pics.dut.charge_point_id
    if server_cn:
        return Pki.create(folder, charge_point_serial=serial, server_cn=server_cn)
    return Pki.create(folder, charge_point_serial=serial)


class CentralSystemBench:
    """SUT = charge point: the harness is the central system."""

    def __init__(self, pics: Pics, options: BenchOptions):
        self.pics, self.options = pics, options
        self.session = Session("csms", response_timeout=pics.timing.response_timeout,
                               defaults=defaults.central_system(pics))
        self.pki = _run_pki(pics, options)
        """The run's PKI (harness/pki.py) when the PICS declares a security profile: what the
        security cases install and sign, and the TLS files the PICS does not name."""
        ssl_context = None
        security = pics.security
        if security.profile >= 2:
            pki = self.pki
            own = security.cert_file is not None or pki is None  # else the PKI's server cert
            ca_file = security.ca_file
            if ca_file is None and security.profile == 3 and pki is not None:
                ca_file = str(pki.client_trust_file)
            ssl_context = tls_context(
                server=True, ca_file=ca_file,
                cert_file=security.cert_file if own else str(pki.server.cert_file),
                key_file=security.key_file if own else str(pki.server.key_file),
                key_password=security.key_password if own else None,
                require_client_cert=security.profile == 3)
        host, port = options.listen
        if options.dut == "sim":
            port = 0  # the embedded simulator is told where to connect
        self.server = CentralSystemServer(host, port, basic_auth_password=_security_password(pics),
                                          ssl_context=ssl_context,
                                          expected_id=pics.dut.charge_point_id,
                                          # a handshake is a request and its answer
                                          open_timeout=min(10.0, pics.timing.response_timeout))
        self.server.listeners.append(self.session.connection_attempt)
        self.sim: Any = None
        self._accepting: asyncio.Task | None = None
        self.notify: Notify = _quiet
        self.server.listeners.append(self._attempt)
        self._said: dict[str, tuple[float, int]] = {}
        """Refusal line -> (when it was last printed, attempts refused so since, unprinted)."""

    async def start(self) -> None:
        await self.server.start()
        self._accepting = asyncio.get_running_loop().create_task(self._accept_forever())
        if self.options.dut == "external":
            self.session.listening = (self.server.host, self.server.port)
            self.notify(f"listening on {self.server.url.removesuffix('/ocpp')}/<any path>/"
                        f"{self.pics.dut.charge_point_id}; waiting up to "
                        f"{self.pics.timing.boot_timeout:g} s for it (PICS timing.boot_timeout)")
            if self.pki is not None and self.pics.security.profile >= 2 \
                    and self.pics.security.cert_file is None:
                self.notify(f"wss:// with this run's own server certificate: the charge point must "
                            f"trust {self.pki.csms_root.cert_file} (made for this run; name a "
                            "lab CA's files in the PICS [security] to keep one across runs)")
        if self.options.dut == "sim":
            self.notify(SIMULATED.format(side="charge point"))
            from harness.sim import ChargePointSim
            pki, security = self.pki, self.pics.security
            self.sim = ChargePointSim(
                self.pics, self.server.url, faults=self.options.sim_faults,
                # delivered trusting the run's CSMS root, with a client certificate from its CA
                trusted_roots=(pki.csms_root.pem,) if pki is not None else (),
                client_cert=(str(pki.client.cert_file), str(pki.client.key_file))
                if pki is not None and security.profile == 3 and security.ca_file is None
                else None)
            await self.sim.start()

    async def _accept_forever(self) -> None:
        while True:
            link: Link = await self.server._incoming.get()
            old = self.session.link
            if old is not None and not old.closed.is_set() and old is not link:
                asyncio.get_running_loop().create_task(self._second(old, link))
                continue
            if self.options.dut == "external":
                peer = getattr(link.ws, "remote_address", None)
                self.notify(f"{link.charge_point_id} connected"
                            + (f" from {peer[0]}:{peer[1]}" if peer else ""))
            self.session.attach(link)

    def _attempt(self, attempt: Attempt) -> None:
        """A refused attempt, live on the terminal (the session logs it in the wire log)."""
        if attempt.accepted:
            return
        if attempt.finding is not None and attempt.finding.rule == "ws.charge-point-id":
            text = (f"refused {attempt.charge_point_id!r}: expected "
                    f"{self.pics.dut.charge_point_id!r} (PICS dut.charge_point_id)")
        else:
            where = " ".join(x for x in (attempt.path and repr(attempt.path),
                                          attempt.peer and f"from {attempt.peer}") if x)
            text = f"refused a connection{' ' + where if where else ''}: {attempt.reason}"
        # A charge point retrying every half second would print 360 lines a boot_timeout: the
        # same refusal is printed once per REFUSAL_REPEAT_S, with how many attempts it stands for.
        now = time.monotonic()
        last = self._said.get(text)
        if last is not None and now - last[0] < REFUSAL_REPEAT_S:
            self._said[text] = (last[0], last[1] + 1)
            return
        self._said[text] = (now, 0)
        if last is not None and last[1]:
            text += f" (and {last[1]} more like it in the last {now - last[0]:.0f} s)"
        self.notify(text)

    async def _second(self, old: Link, new: Link) -> None:
        """The device's id connected again while its connection is open (module docstring)."""
        try:
            waiter = await old.ws.ping()
            await asyncio.wait_for(waiter, PING_TIMEOUT_S)
            alive = True
        except Exception:  # noqa: BLE001 -- no pong, closed, timed out: the old one is dead
            alive = False
        if old.closed.is_set() or not alive:
            await old.close(1001, "replaced by a new connection")
            self.session.attach(new)
            return
        finding = severity.duplicate_connection(
            f"a second connection as {new.charge_point_id!r} from {_peer(new)} while its "
            f"connection from {_peer(old)} is open and answers pings; "
            + ("the newcomer is refused (1008)" if self.options.duplicate == "refuse"
               else "the old connection is closed (1008)")
            + ", the harness keeps one connection per charge point", new.charge_point_id)
        self.server.refuse_link(new if self.options.duplicate == "refuse" else old, 1008, finding)
        self.session.duplicate_connection(finding)
        if self.options.duplicate == "refuse":
            await new.close(1008, "this charge point is already connected")
        else:
            # The new connection first, so that nothing the case sends meanwhile goes to the one
            # being closed (its closing handshake may take the close timeout).
            self.session.attach(new)
            await old.close(1008, "replaced by a new connection of the same charge point")

    async def stop(self) -> None:
        if self.sim is not None:
            await self.sim.stop()
        if self._accepting is not None:
            self._accepting.cancel()
        await self.session.close()
        await self.server.stop()
        if self.pki is not None:
            self.pki.close()

    @property
    def where(self) -> str:
        return f"{self.server.url}/{self.pics.dut.charge_point_id}"


class ChargePointBench:
    """SUT = central system: the harness is the charge point."""

    def __init__(self, pics: Pics, options: BenchOptions):
        self.pics, self.options = pics, options
        self.session = Session("cp", response_timeout=pics.timing.response_timeout,
                               defaults=defaults.charge_point(pics))
        from harness.states.triggered import answer_triggers
        self.triggers = answer_triggers(self.session, pics)  # sends what TriggerMessage asks for
        self.session.dialer = self  # Session.reconnect / open_link: the harness's charge point
        self.sim: Any = None
        self.notify: Notify = _quiet
        self.url = options.csms_url or pics.dut.csms_url or ""
        self.pki: Any = None
        """Against the embedded simulator on profile 2/3: the run's PKI (:meth:`_sim_tls`)."""
        self.basic_auth_password = _security_password(pics)
        """The HTTP Basic password the harness's charge point connects with (profile 1/2): the
        PICS's, until a central system sets another AuthorizationKey (TC_073_CSMS); a secret."""
        self._ssl: Any = None
        self._tls_files: dict[str, Any] = {}
        """What the harness's TLS client context is made of (:meth:`client_tls`)."""
        if pics.security.profile >= 2:
            mutual = pics.security.profile == 3
            self._ssl = self.client_tls(ca_file=pics.security.ca_file,
                                        cert_file=pics.security.cert_file if mutual else None,
                                        key_file=pics.security.key_file if mutual else None,
                                        key_password=pics.security.key_password)

    def client_tls(self, cipher: str | None = None, *, without_certificate: bool = False,
                   **files: Any) -> Any:
        """The harness's TLS client context: its trust (the PICS ca_file, else the system's; the
        run's PKI root against the simulator) and on profile 3 its client certificate. With
        ``files``: made of these (remembered); with ``cipher`` (an OpenSSL TLS 1.2 suite name):
        TLS 1.2 offering that suite only (TC_086_CSMS probes the central system's suites);
        ``without_certificate``: no client certificate (TC_087_CSMS: refused on profile 3)."""
        if files:
            self._tls_files = files
        use = dict(self._tls_files)
        if without_certificate:
            use.update(cert_file=None, key_file=None, key_password=None)
        context = tls_context(server=False, **use)
        if cipher is not None:
            import ssl
            context.maximum_version = ssl.TLSVersion.TLSv1_2
            context.set_ciphers(cipher)
        return context

    async def start(self) -> None:
        if self.options.dut == "sim":
            self.notify(SIMULATED.format(side="central system"))
            from harness.sim import CsmsSim
            self.sim = CsmsSim(self.pics, host="127.0.0.1", port=0, faults=self.options.sim_faults,
                               ssl_context=self._sim_tls())
            await self.sim.start()
            scheme = "wss" if self.pics.security.profile >= 2 else "ws"
            # on TLS by its name: the server certificate's CN is the endpoint's FQDN (TC_086_CSMS)
            self.url = f"{scheme}://{SIM_HOST if scheme == 'wss' else '127.0.0.1'}:" \
                       f"{self.sim.port}/ocpp"
        try:
            await self.reconnect()
        except (HandshakeViolation, Inconclusive):
            pass  # logged into the first case's wire log; each case that needs it says why

    def _sim_tls(self) -> Any:
        """Security profile 2/3 against the embedded simulator: the run's PKI (harness/pki.py)
        gives the simulator its server certificate (CN = SIM_HOST) and, on profile 3, the harness's
        charge point its client certificate; the harness trusts the PKI's CSMS root. The PICS's
        own TLS files are for a central system of yours. None below profile 2."""
        if self.pics.security.profile < 2:
            return None
        faults = {str(f).split(":")[0] for f in self.options.sim_faults}  # made at the start
        wrong_cn = "server_cert_cn_not_fqdn" in faults
        lax = "client_cert_not_required" in faults
        self.pki = _run_pki(self.pics, self.options, server_cn=None if wrong_cn else SIM_HOST)
        pki, mutual = self.pki, self.pics.security.profile == 3
        served = pki.expired_server(SIM_HOST) if "server_cert_expired" in faults else pki.server
        self._ssl = self.client_tls(ca_file=str(pki.csms_root.cert_file),
                                    cert_file=str(pki.client.cert_file) if mutual else None,
                                    key_file=str(pki.client.key_file) if mutual else None)
        context = tls_context(server=True, ca_file=str(pki.client_trust_file) if mutual else None,
                              cert_file=str(served.cert_file), key_file=str(served.key_file),
                              require_client_cert=mutual and not lax)
        # and an RSA certificate beside the EC one: the white paper's four suites include
        # TLS_RSA_* (TC_086_CSMS probes each)
        rsa = pki.rsa_server(common_name_of(served))
        context.load_cert_chain(str(rsa.cert_file), str(rsa.key_file))
        # Python's default server suites leave out RSA key exchange; the white paper lists two
        context.set_ciphers("ECDHE+aRSA+AESGCM:AES128-GCM-SHA256:AES256-GCM-SHA384"
                            if "tls12_ecdsa_suites_missing" in faults else
                            "ECDHE+AESGCM:ECDHE+CHACHA20:AES128-GCM-SHA256:AES256-GCM-SHA384")
        return context

    async def reconnect(self, subprotocols: tuple[str, ...] = (SUBPROTOCOL,)) -> Link:
        """Close the connection if open and open a new one: the harness charge point's reboot.

        Raises :class:`HandshakeViolation` (FAIL) when the central system broke the handshake,
        :class:`Inconclusive` when nothing answered at the URL."""
        if self.session.connected:
            await self.session.close()
        if self.options.dut == "external":
            self.notify(f"connecting to {self.url}/{self.pics.dut.charge_point_id} (up to "
                        f"{self.pics.timing.response_timeout:g} s)")
        try:
            link = await self.open_link(subprotocols)
        except HandshakeRefused as refused:
            raise self._violation(refused) from None
        self.session.attach(link)
        return link

    async def open_link(self, subprotocols: tuple[str, ...] = (SUBPROTOCOL,), *,
                        basic_auth_password: Any = PICS_PASSWORD,
                        ssl_context: Any = None) -> Link:
        """A connection of the harness's charge point offering ``subprotocols``, not attached to
        the session (TC_088_CSMS negotiates on it). ``basic_auth_password``: the bench's by
        default, None for no credentials, another for a wrong one (TC_085_CSMS); ``ssl_context``
        replaces the bench's (TC_086_CSMS probes cipher suites). Every attempt is logged. Raises
        :class:`HandshakeRefused` (an HTTP status other than 101: the caller judges it),
        :class:`HandshakeViolation` (any other broken handshake: FAIL), :class:`Inconclusive`
        (nothing answered)."""
        try:
            link = await connect(self.url, self.pics.dut.charge_point_id,
                                 timeout=self.pics.timing.response_timeout,
                                 basic_auth_password=self.basic_auth_password
                                 if basic_auth_password is PICS_PASSWORD else basic_auth_password,
                                 ssl_context=ssl_context or self._ssl, subprotocols=subprotocols)
        except HandshakeFailed as failed:
            self.session.last_connect_failure = failed
            self.session.connection_attempt(failed.attempt)
            if isinstance(failed, HandshakeRefused):
                raise
            if failed.attempt.reached:
                raise self._violation(failed) from None
            raise Inconclusive(f"nothing answered at the central system's URL: {failed}") from None
        self.session.last_connect_failure = None
        self.session.connection_attempt(_accepted(link))
        return link

    @staticmethod
    def _violation(failed: HandshakeFailed) -> HandshakeViolation:
        rule = failed.attempt.finding.rule if failed.attempt.finding else "ws.handshake"
        return HandshakeViolation(f"the central system broke the WebSocket handshake: "
                                  f"{failed} [{rule}]")

    async def stop(self) -> None:
        await self.session.close()
        if self.sim is not None:
            await self.sim.stop()
        if self.pki is not None:
            self.pki.close()

    @property
    def where(self) -> str:
        return f"{self.url}/{self.pics.dut.charge_point_id}"


def _peer(link: Link) -> str:
    from harness.transport import _peer as peer
    return peer(link.ws) or "?"


def _accepted(link: Link) -> Any:
    from harness.transport import _attempt
    return _attempt("websocket", True, path=link.path, charge_point_id=link.charge_point_id,
                    status=101, detail=(("subprotocol", link.subprotocol),))


def make_bench(pics: Pics, options: BenchOptions) -> CentralSystemBench | ChargePointBench:
    return (CentralSystemBench if options.sut == "cs" else ChargePointBench)(pics, options)
