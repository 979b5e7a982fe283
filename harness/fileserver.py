"""The harness's file servers: firmware for a charge point to download, a place for its diagnostics
upload, over HTTP (aiohttp) and FTP (pyftpdlib), with a record of every transfer.

    async with FileServers(pics.files.address, protocols=("HTTP", "FTP")) as servers:
        servers.offer("fw-1.2.bin", image)
        location = servers.url("FTP", "fw-1.2.bin")            # for UpdateFirmware
        upload_to = servers.upload_location("HTTP")            # for GetDiagnostics
        done = await servers.wait_for(lambda t: t.direction == "download", timeout=60)

What the record proves is what moved on the wire, not what the device says: a download counts as
complete only when every byte of the file was written to the device's connection (HTTP: the whole
body sent; FTP: pyftpdlib's ``on_file_sent``), and an upload is kept with its size and SHA-256 as
received. Test cases compare those with what was offered, so a device that reports "Downloaded" or
"Uploaded" without the bytes moving fails.

Both servers listen on ``address`` (loopback by default; the PICS ``[files] address`` for a real
charge point), on ephemeral ports, and are started only when a test case asks for them. FTP serves
one user with a random password; uploads over FTP go to ``/diagnostics/``, over HTTP as a PUT of
``<location>/<fileName>`` or a multipart POST to ``<location>`` (the two forms charge points use).
HTTP refuses anything under ``/refused/`` with 403 (a location a charge point cannot upload to).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote

SERVED = ("HTTP", "FTP")
"""The file transfer protocols the harness can serve (of OCPP's HTTP, HTTPS, FTP, FTPS, SFTP)."""

FIRMWARE_DIR = "firmware"
UPLOAD_DIR = "diagnostics"


@dataclass(frozen=True)
class Transfer:
    """One file that moved (or started to) between the device and a harness server."""
    protocol: str
    direction: str
    """``download`` (the device fetched a file) or ``upload`` (the device sent one)."""
    name: str
    size: int
    """Bytes that moved."""
    sha256: str
    """Of the bytes that moved."""
    complete: bool
    """Download: every byte of the offered file was sent. Upload: the transfer ended normally."""
    peer: str
    at_ns: int = field(default_factory=time.monotonic_ns)
    """time.monotonic_ns() when it ended (the clock of the wire log frames)."""

    def describe(self) -> str:
        state = "complete" if self.complete else "INCOMPLETE"
        return (f"{self.protocol} {self.direction} of {self.name!r} from {self.peer}: {self.size} "
                f"bytes, SHA-256 {self.sha256[:16]}..., {state}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image(label: str, size: int = 64 * 1024, *, valid: bool = True) -> bytes:
    """A generated firmware image of ``size`` bytes: a one-line header naming it, then random bytes
    (so that a truncated or altered transfer cannot match the hash by chance). ``valid=False``: the
    header says INVALID, which no charge point can take for a firmware (the reference simulator
    refuses it, see :func:`harness.sim.cp.profiles.installable`)."""
    kind = "OCPP-HARNESS-FIRMWARE" if valid else "INVALID firmware image"
    header = f"{kind} {label}\n".encode()
    return header + secrets.token_bytes(max(0, size - len(header)))


class FileServers:
    """HTTP and FTP servers over one set of files; see the module docstring."""

    def __init__(self, address: str = "127.0.0.1", *, protocols: Iterable[str] = SERVED,
                 timeout: float = 60.0):
        self.address = address
        self.protocols = tuple(p for p in SERVED if p in set(protocols))
        unknown = set(protocols) - set(SERVED)
        if unknown:
            raise ValueError(f"the harness serves {', '.join(SERVED)}, not {', '.join(unknown)}")
        self.timeout = timeout
        self.files: dict[str, bytes] = {}
        self.transfers: list[Transfer] = []
        self.ports: dict[str, int] = {}
        self.user = "ocpp"
        self.password = secrets.token_urlsafe(12)
        from harness.wirelog import secret
        secret(self.password)  # masked in the wire logs (UpdateFirmware locations) and reasons
        self._root: Path | None = None
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: Any = None
        self._ftp: _FtpThread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FileServers:
        self._loop = asyncio.get_running_loop()
        self._root = Path(tempfile.mkdtemp(prefix="ocpp-files-"))
        (self._root / FIRMWARE_DIR).mkdir()
        (self._root / UPLOAD_DIR).mkdir()
        try:
            if "HTTP" in self.protocols:
                await self._start_http()
            if "FTP" in self.protocols:
                self._ftp = _FtpThread(self, self._root)
                self._ftp.start()
                self.ports["FTP"] = self._ftp.port
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        if self._ftp is not None:
            await asyncio.to_thread(self._ftp.stop)
            self._ftp = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    async def __aenter__(self) -> FileServers:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # --- what is served -------------------------------------------------------------------------

    def offer(self, name: str, data: bytes) -> None:
        """Serve ``data`` as ``name`` (a plain file name) under /firmware/ on every server."""
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"a plain file name, not {name!r}")
        self.files[name] = data
        if self._root is not None:
            (self._root / FIRMWARE_DIR / name).write_bytes(data)

    def url(self, protocol: str, name: str) -> str:
        """Where the device downloads ``name`` with ``protocol`` (a file not offered gives a URL
        that answers "not found": TC_044_2's missing firmware)."""
        return f"{self._base(protocol)}/{FIRMWARE_DIR}/{quote(name)}"

    def upload_location(self, protocol: str) -> str:
        """The location to give GetDiagnostics: the directory the device uploads into."""
        return f"{self._base(protocol)}/{UPLOAD_DIR}/"

    def refusing_location(self, protocol: str) -> str:
        """A location on the same server where an upload is refused: HTTP answers 403 under
        /refused/, FTP refuses the login (a wrong password)."""
        if protocol == "FTP":
            host = self._base(protocol).rpartition("@")[2]
            return f"ftp://{self.user}:wrong-password@{host}/{UPLOAD_DIR}/"
        return f"{self._base(protocol)}/refused/"

    def _base(self, protocol: str) -> str:
        if protocol not in self.ports:
            raise ValueError(f"{protocol} is not served here (serving: {', '.join(self.ports)})")
        host = f"[{self.address}]" if ":" in self.address else self.address
        if protocol == "FTP":
            return f"ftp://{self.user}:{quote(self.password, safe='')}@{host}:{self.ports['FTP']}"
        return f"http://{host}:{self.ports['HTTP']}"

    # --- what moved -----------------------------------------------------------------------------

    def downloads(self, name: str | None = None) -> list[Transfer]:
        return [t for t in self.transfers if t.direction == "download"
                and (name is None or t.name == name)]

    def uploads(self) -> list[Transfer]:
        return [t for t in self.transfers if t.direction == "upload"]

    def uploaded(self, name: str) -> bytes | None:
        """The content of an upload as received (None if nothing of that name came)."""
        path = self._root / UPLOAD_DIR / name if self._root is not None else None
        return path.read_bytes() if path is not None and path.is_file() else None

    async def wait_for(self, predicate: Callable[[Transfer], bool], *, timeout: float,
                       since: int = 0) -> Transfer:
        """The first transfer (from index ``since``) that satisfies ``predicate``; woken by every
        transfer that ends. TimeoutError if none comes within ``timeout``."""
        async with asyncio.timeout(timeout):
            while True:
                for transfer in self.transfers[since:]:
                    if predicate(transfer):
                        return transfer
                self._changed.clear()
                await self._changed.wait()

    def _record(self, transfer: Transfer) -> None:
        """Called in the event loop's thread."""
        self.transfers.append(transfer)
        self._changed.set()

    def _record_threadsafe(self, transfer: Transfer) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._record, transfer)

    # --- HTTP -----------------------------------------------------------------------------------

    async def _start_http(self) -> None:
        from aiohttp import web

        async def get(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            data = self.files.get(name)
            if data is None:
                return web.Response(status=404, text=f"no file {name!r}\n")
            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            response.content_length = len(data)
            await response.prepare(request)
            sent, digest, complete, ended = 0, hashlib.sha256(), False, None
            try:
                if request.method != "HEAD":
                    for start in range(0, len(data), 16 * 1024):
                        chunk = data[start:start + 16 * 1024]
                        await response.write(chunk)
                        sent += len(chunk)
                        digest.update(chunk)
                    # Stamped before the last bytes can have reached the device.
                    ended = time.monotonic_ns()
                    await response.write_eof()
                    complete = sent == len(data)
            finally:
                if request.method != "HEAD":
                    self._record(Transfer("HTTP", "download", name, sent, digest.hexdigest(),
                                          complete, request.remote or "?",
                                          ended or time.monotonic_ns()))
            return response

        async def put(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if not name or "/" in name:
                return web.Response(status=400, text="PUT /diagnostics/<fileName>\n")
            return await self._receive(request, name, request.content)

        async def post(request: web.Request) -> web.Response:
            if not (request.content_type or "").startswith("multipart/"):
                return web.Response(status=415, text="multipart/form-data expected\n")
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    return await self._receive(request, Path(part.filename).name, part)
            return web.Response(status=400, text="no file part in the form\n")

        async def refuse(request: web.Request) -> web.Response:
            return web.Response(status=403, text="uploads are refused here\n")

        app = web.Application(client_max_size=1024 ** 3)
        app.router.add_route("*", "/refused/{name:.*}", refuse)
        app.router.add_route("GET", f"/{FIRMWARE_DIR}/{{name}}", get)
        app.router.add_put(f"/{UPLOAD_DIR}/{{name}}", put)
        app.router.add_post(f"/{UPLOAD_DIR}/", post)
        app.router.add_post(f"/{UPLOAD_DIR}", post)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, self.address, 0)
        await site.start()
        self._http = runner
        self.ports["HTTP"] = runner.addresses[0][1]

    async def _receive(self, request: Any, name: str, body: Any) -> Any:
        from aiohttp import web

        digest, size, complete = hashlib.sha256(), 0, False
        path = self._root / UPLOAD_DIR / name
        try:
            with path.open("wb") as fh:
                while True:
                    chunk = await (body.read_chunk() if hasattr(body, "read_chunk")
                                   else body.readany())
                    if not chunk:
                        break
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            complete = True
        finally:
            self._record(Transfer("HTTP", "upload", name, size, digest.hexdigest(), complete,
                                  request.remote or "?"))
        return web.Response(status=201)


class _FtpThread:
    """pyftpdlib runs its own I/O loop: it gets a thread, and reports transfers to the event
    loop."""

    def __init__(self, owner: FileServers, root: Path):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import DTPHandler, FTPHandler
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        authorizer = DummyAuthorizer()
        # Read the firmware, write diagnostics; no deleting, renaming or overwriting elsewhere.
        authorizer.add_user(owner.user, owner.password, str(root), perm="elrw")
        record = owner._record_threadsafe

        def transfer(handler: Any, path: str, direction: str, complete: bool) -> None:
            data = Path(path).read_bytes() if Path(path).is_file() else b""
            if direction == "download" and not complete:
                # What was sent of the file is unknown past "not all": record nothing as moved.
                data = b""
            ended = getattr(handler, "data_closed_ns", None) or time.monotonic_ns()
            record(Transfer("FTP", direction, Path(path).name, len(data), sha256(data), complete,
                            f"{handler.remote_ip}:{handler.remote_port}", ended))

        class Data(DTPHandler):
            def close(self) -> None:
                # pyftpdlib answers 226 before it calls on_file_*: the moment the data channel
                # closes is when the transfer ended, as the client sees it.
                if not self._closed:
                    self.cmd_channel.data_closed_ns = time.monotonic_ns()
                super().close()

        class Handler(FTPHandler):
            def on_file_sent(self, file: str) -> None:
                transfer(self, file, "download", True)

            def on_incomplete_file_sent(self, file: str) -> None:
                transfer(self, file, "download", False)

            def on_file_received(self, file: str) -> None:
                transfer(self, file, "upload", True)

            def on_incomplete_file_received(self, file: str) -> None:
                transfer(self, file, "upload", False)

        Handler.authorizer = authorizer
        Handler.dtp_handler = Data
        Handler.timeout = owner.timeout
        Handler.banner = "OCPP harness file server"
        Handler.auth_failed_timeout = 0.2  # pyftpdlib's 3 s brute-force delay slows the tests only
        self._ioloop = IOLoop()
        self.server = FTPServer((owner.address, 0), Handler, ioloop=self._ioloop)
        self.port = self.server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ocpp-ftp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.server.serve_forever(timeout=0.1, blocking=False, handle_exit=False)
        finally:
            self.server.close_all()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
