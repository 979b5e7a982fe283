"""Shared preparation of the Firmware Management cases, for both roles.

SUT charge point: the harness serves the firmware and receives the diagnostics itself
(:mod:`harness.fileserver`), over the protocols both sides have: the PICS
``file_transfer_protocols`` the charge point offers that the harness serves (HTTP, FTP). A case
with none of them is N/A. What the servers record (size and SHA-256 of the bytes that moved) is
compared with what the charge point reports: "Downloaded" with no complete download of the offered
image, or "Uploaded" with no upload of the file it named, fails.

SUT central system: the harness plays a correct charge point: it downloads the firmware from the
location the central system gives and uploads its diagnostics to the one it gives, and reports
FirmwareStatusNotification / DiagnosticsStatusNotification as the transfers really went.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator

from harness import filetransfer
from harness.fileserver import SERVED, FileServers, Transfer, image, sha256
from harness.session import Request, Response, Session
from harness.states import connector_ids
from harness.states.assertions import assert_status
from harness.states.cs import cite, next_status, triggered


# --- which protocols ---------------------------------------------------------------------------

def served_protocols(pics: Any) -> list[str]:
    """The file transfer protocols the device offers (PICS order) that the harness serves."""
    return [p for p in pics.features.file_transfer_protocols if p in SERVED]


def no_served_protocol(pics: Any) -> bool:
    return not served_protocols(pics)


NO_PROTOCOL_REASON = (f"none of the PICS file_transfer_protocols is one the harness serves "
                      f"({', '.join(SERVED)})")
NA_NO_PROTOCOL = ((no_served_protocol, NO_PROTOCOL_REASON),)
"""``na_when`` of every case that moves a file."""


def transfer_timeout(pics: Any) -> float:
    """Bound of one download or upload, request to final status (PICS [files] transfer_timeout)."""
    return pics.files.transfer_timeout


# --- SUT charge point --------------------------------------------------------------------------

@asynccontextmanager
async def file_servers(pics: Any) -> AsyncIterator[FileServers]:
    """The harness's file servers for one case, on the PICS [files] address, for the protocols
    of :func:`served_protocols`; stopped at the end of the block."""
    async with FileServers(pics.files.address, protocols=served_protocols(pics),
                           timeout=transfer_timeout(pics)) as servers:
        yield servers


def firmware(pics: Any, *, valid: bool = True) -> tuple[str, bytes]:
    """(file name, image) to offer: the PICS [files] firmware / invalid_firmware, or a generated
    image. A generated valid image is named after the firmware version the device already runs,
    so an update does not leave a device behind that later cases do not recognise."""
    path = pics.files.firmware if valid else pics.files.invalid_firmware
    if path is not None:
        return Path(path).name, Path(path).read_bytes()
    name = f"{pics.dut.firmware_version}.bin" if valid else "invalid-firmware.bin"
    return name, image(pics.dut.firmware_version if valid else "invalid", valid=valid)


def retrieve_date() -> str:
    """retrieveDate "now" (a second in the past, so that a clock a little ahead of the harness's
    does not wait)."""
    moment = datetime.now(timezone.utc) - timedelta(seconds=1)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def conf_ok(response: Any, action: str, step: str) -> None:
    assert response.error is None, (
        f"{step}: {action} was answered with CALLERROR {response.error.error_code} "
        f"({response.error.error_description!r}), expected {action}.conf ({cite(response)})")


async def firmware_status(cp: Session, pics: Any, expected: str | tuple[str, ...], *, step: str,
                          timeout: float | None = None) -> Request:
    """The next FirmwareStatusNotification; its status must be ``expected`` (one of them)."""
    wanted = (expected,) if isinstance(expected, str) else expected
    request = await cp.expect("FirmwareStatusNotification",
                              timeout=triggered(pics) if timeout is None else timeout,
                              what=f"{step}: FirmwareStatusNotification {' or '.join(wanted)}")
    assert_status(request, *wanted, step=step)
    return request


async def diagnostics_status(cp: Session, pics: Any, expected: str, *, step: str,
                             timeout: float | None = None, skipping: tuple[str, ...] = ()) -> Request:
    """The next DiagnosticsStatusNotification; its status must be ``expected``. Statuses in
    ``skipping`` (an ``Uploading`` again for a retry) are passed over; the whole wait, however
    many come, is bounded by ``timeout``."""
    until = time.monotonic() + (triggered(pics) if timeout is None else timeout)
    while True:
        request = await cp.expect("DiagnosticsStatusNotification",
                                  timeout=max(0.0, until - time.monotonic()),
                                  what=f"{step}: DiagnosticsStatusNotification {expected}")
        if request["status"] not in skipping:
            break
    assert_status(request, expected, step=step)
    return request


async def _moved(servers: FileServers, pick: Any, pics: Any) -> list[Transfer]:
    """The transfers ``pick`` selects, once the servers have recorded one (a server thread may
    record a transfer a moment after the device heard it had ended); [] if none comes within the
    PICS triggered_function_timeout."""
    try:
        await servers.wait_for(pick, timeout=triggered(pics))
    except TimeoutError:
        return []
    return [t for t in servers.transfers if pick(t)]


async def assert_downloaded(servers: FileServers, name: str, data: bytes, asked: Response,
                            reported: Request, pics: Any, *, step: str) -> Transfer:
    """The charge point said Downloaded (``reported``): a complete download of ``name`` with the
    offered size and SHA-256 must have ended between the harness's request (``asked``, the
    UpdateFirmware exchange) and that report."""
    done = await _moved(servers, lambda t: t.direction == "download" and t.name == name
                        and t.complete and t.at_ns > asked.request.mono_ns, pics)
    done = [t for t in done if t.at_ns <= reported.frame.mono_ns]
    seen = "; ".join(t.describe() for t in servers.downloads()) or "no download at all"
    assert done, (
        f"{step}: the charge point reported Downloaded ({cite(reported)}) but the harness's file "
        f"server saw no complete download of {name!r} before that ({seen})")
    transfer = done[-1]
    assert (transfer.size, transfer.sha256) == (len(data), sha256(data)), (
        f"{step}: the download of {name!r} moved {transfer.size} bytes with SHA-256 "
        f"{transfer.sha256}, the file is {len(data)} bytes with SHA-256 {sha256(data)}")
    return transfer


async def assert_uploaded(servers: FileServers, file_name: str | None, asked: Response,
                          reported: Request, pics: Any, *, step: str) -> Transfer:
    """The charge point said Uploaded (``reported``): a complete, non-empty upload (of the fileName
    its GetDiagnostics.conf gave, if it gave one) must have reached the harness between the
    harness's request (``asked``, the GetDiagnostics exchange) and that report."""
    done = await _moved(servers, lambda t: t.direction == "upload" and t.complete and t.size > 0
                        and t.at_ns > asked.request.mono_ns
                        and (file_name is None or t.name == file_name), pics)
    done = [t for t in done if t.at_ns <= reported.frame.mono_ns]
    seen = "; ".join(t.describe() for t in servers.uploads()) or "no upload at all"
    assert done, (
        f"{step}: the charge point reported Uploaded ({cite(reported)}) but the harness's file "
        f"server received no complete, non-empty upload"
        f"{f' of {file_name!r}' if file_name else ''} before that ({seen})")
    transfer = done[-1]
    received = servers.uploaded(transfer.name)
    assert received is not None and sha256(received) == transfer.sha256, (
        f"{step}: the stored upload {transfer.name!r} does not match what was received")
    return transfer


async def statuses_after(cp: Session, pics: Any, boot: Request, *, step: str) -> dict[int, Request]:
    """The StatusNotification of connector 0 and every connector sent after ``boot`` (earlier
    ones, e.g. Unavailable before the installation, are skipped)."""
    seen: dict[int, Request] = {}
    for connector_id in connector_ids(pics):
        while True:
            status = await next_status(cp, pics, connector_id,
                                       what=f"{step}: StatusNotification for connector "
                                            f"{connector_id} after the reboot")
            if status.frame.mono_ns > boot.frame.mono_ns:
                seen[connector_id] = status
                break
    return seen


# --- SUT central system: the harness is a correct charge point ----------------------------------

def diagnostics_file(pics: Any) -> tuple[str, bytes]:
    """The diagnostics the harness's charge point uploads: a name and a small log."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"diagnostics-{pics.dut.charge_point_id}-{stamp}.log"
    text = (f"charge point {pics.dut.charge_point_id} ({pics.dut.vendor} {pics.dut.model}) "
            f"firmware {pics.dut.firmware_version}\n{image('diagnostics', 2048).hex()}\n")
    return name, text.encode()


async def fetch(location: str, pics: Any) -> tuple[bytes | None, str]:
    """The harness's charge point downloads ``location``: (the bytes, "") or (None, why not)."""
    try:
        return await filetransfer.download(location, transfer_timeout(pics)), ""
    except filetransfer.TransferError as exc:
        return None, str(exc)


async def send_file(location: str, name: str, data: bytes, pics: Any) -> str:
    """The harness's charge point uploads ``data`` as ``name`` to ``location``: "" or why not."""
    try:
        await filetransfer.upload(location, name, data, transfer_timeout(pics))
        return ""
    except filetransfer.TransferError as exc:
        return str(exc)


def installable(data: bytes) -> bool:
    """The harness's charge point takes an image whose header is the harness's firmware header
    (:func:`harness.fileserver.image`) or any other non-empty file that does not say INVALID."""
    return bool(data) and not data.lstrip().upper().startswith(b"INVALID")
