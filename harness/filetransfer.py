"""File transfer for UpdateFirmware and GetDiagnostics, as a charge point does it: real downloads and
uploads. Used by the reference charge point and by the harness when it plays the charge point
(a plain client: no verdict logic).

HTTP and HTTPS go through aiohttp; FTP through the standard library's ftplib in a worker thread
(with a timeout on every socket operation). A diagnostics upload over HTTP(S) is a PUT of the file
to ``<location>/<fileName>``; a server that answers 405 to PUT gets a multipart/form-data POST
(field ``file``) to ``<location>`` instead, the two forms charge points commonly use.
"""

from __future__ import annotations

import asyncio
import ftplib
import io
from urllib.parse import unquote, urlsplit

import aiohttp


class TransferError(Exception):
    pass


async def download(url: str, timeout: float) -> bytes:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
                async with s.get(url) as response:
                    if response.status != 200:
                        raise TransferError(f"GET {url}: HTTP {response.status}")
                    return await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransferError(f"GET {url}: {exc!r}") from exc
    if parts.scheme == "ftp":
        return await asyncio.to_thread(_ftp_retrieve, parts, timeout)
    raise TransferError(f"unsupported scheme {parts.scheme!r} in {url}")


async def upload(location: str, file_name: str, data: bytes, timeout: float) -> None:
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        target = location.rstrip("/") + "/" + file_name
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
                async with s.put(target, data=data) as response:
                    if response.status in (200, 201, 204):
                        return
                    if response.status != 405:
                        raise TransferError(f"PUT {target}: HTTP {response.status}")
                form = aiohttp.FormData()
                form.add_field("file", data, filename=file_name,
                               content_type="application/octet-stream")
                async with s.post(location, data=form) as response:
                    if response.status not in (200, 201, 204):
                        raise TransferError(f"POST {location}: HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransferError(f"upload to {location}: {exc!r}") from exc
        return
    if parts.scheme == "ftp":
        await asyncio.to_thread(_ftp_store, parts, file_name, data, timeout)
        return
    raise TransferError(f"unsupported scheme {parts.scheme!r} in {location}")


def _ftp_login(parts, timeout: float) -> ftplib.FTP:
    ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
    except (OSError, ftplib.Error) as exc:
        ftp.close()
        raise TransferError(f"FTP {parts.hostname}: {exc}") from exc
    return ftp


def _ftp_retrieve(parts, timeout: float) -> bytes:
    ftp = _ftp_login(parts, timeout)
    buffer = io.BytesIO()
    try:
        ftp.retrbinary(f"RETR {unquote(parts.path)}", buffer.write)
    except (OSError, ftplib.Error) as exc:
        raise TransferError(f"FTP RETR {parts.path}: {exc}") from exc
    finally:
        ftp.close()
    return buffer.getvalue()


def _ftp_store(parts, file_name: str, data: bytes, timeout: float) -> None:
    ftp = _ftp_login(parts, timeout)
    try:
        directory = unquote(parts.path) or "/"
        if directory not in ("", "/"):
            ftp.cwd(directory)
        ftp.storbinary(f"STOR {file_name}", io.BytesIO(data))
    except (OSError, ftplib.Error) as exc:
        raise TransferError(f"FTP STOR {file_name}: {exc}") from exc
    finally:
        ftp.close()

