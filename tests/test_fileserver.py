"""The harness's file servers: what they record is what really moved, over HTTP and FTP."""

from __future__ import annotations

import asyncio
import ftplib
import io
import socket
from urllib.parse import urlsplit

import aiohttp
import pytest

from harness.fileserver import FileServers, image, sha256
from harness import filetransfer as client


@pytest.fixture
async def servers():
    async with FileServers("127.0.0.1", timeout=5) as s:
        yield s


@pytest.mark.parametrize("protocol", ["HTTP", "FTP"])
async def test_download_is_recorded_with_size_and_hash(servers, protocol):
    data = image("1.2.3", 100_000)
    servers.offer("fw.bin", data)
    got = await client.download(servers.url(protocol, "fw.bin"), timeout=5)
    assert got == data
    transfer = await servers.wait_for(lambda t: t.direction == "download", timeout=5)
    assert (transfer.protocol, transfer.name, transfer.size, transfer.sha256, transfer.complete) \
        == (protocol, "fw.bin", len(data), sha256(data), True)


@pytest.mark.parametrize("protocol", ["HTTP", "FTP"])
async def test_missing_file_is_not_a_download(servers, protocol):
    with pytest.raises(client.TransferError):
        await client.download(servers.url(protocol, "does_not_exist_fw.bin"), timeout=5)
    assert servers.downloads() == []


@pytest.mark.parametrize("protocol", ["HTTP", "FTP"])
async def test_upload_is_kept_as_received(servers, protocol):
    data = b"diagnostics\n" * 1000
    await client.upload(servers.upload_location(protocol), "diag.log", data, timeout=5)
    transfer = await servers.wait_for(lambda t: t.direction == "upload", timeout=5)
    assert (transfer.protocol, transfer.name, transfer.size, transfer.sha256, transfer.complete) \
        == (protocol, "diag.log", len(data), sha256(data), True)
    assert servers.uploaded("diag.log") == data


async def test_http_multipart_post_upload(servers):
    form = aiohttp.FormData()
    form.add_field("file", b"abc", filename="post.log", content_type="text/plain")
    async with aiohttp.ClientSession() as session:
        async with session.post(servers.upload_location("HTTP"), data=form) as response:
            assert response.status == 201
    transfer = await servers.wait_for(lambda t: t.direction == "upload", timeout=5)
    assert (transfer.name, transfer.size, transfer.sha256) == ("post.log", 3, sha256(b"abc"))


async def test_http_download_cut_short_is_incomplete(servers):
    """A client that reads the headers and a little of the body, then hangs up: not a download."""
    servers.offer("big.bin", image("big", 8 * 1024 * 1024))
    port = servers.ports["HTTP"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /firmware/big.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    await reader.read(1000)
    writer.transport.abort()
    transfer = await servers.wait_for(lambda t: t.direction == "download", timeout=5)
    assert not transfer.complete and transfer.size < 8 * 1024 * 1024


async def test_ftp_wrong_password_is_refused(servers):
    parts = urlsplit(servers.url("FTP", "fw.bin"))

    def login() -> None:
        ftp = ftplib.FTP(timeout=5)
        ftp.connect(parts.hostname, parts.port)
        try:
            ftp.login("ocpp", "not-the-password")
        finally:
            ftp.close()

    with pytest.raises(ftplib.error_perm):
        await asyncio.to_thread(login)


async def test_ftp_cannot_overwrite_firmware(servers):
    servers.offer("fw.bin", b"original")
    parts = urlsplit(servers.url("FTP", "fw.bin"))

    def overwrite() -> None:
        ftp = ftplib.FTP(timeout=5)
        ftp.connect(parts.hostname, parts.port)
        ftp.login(servers.user, servers.password)
        try:
            ftp.delete("/firmware/fw.bin")
        finally:
            ftp.close()

    with pytest.raises(ftplib.error_perm):
        await asyncio.to_thread(overwrite)


async def test_only_the_protocols_asked_for_are_started():
    async with FileServers("127.0.0.1", protocols=["FTP"]) as s:
        assert set(s.ports) == {"FTP"}
        with pytest.raises(ValueError):
            s.url("HTTP", "x")
    with pytest.raises(ValueError):
        FileServers("127.0.0.1", protocols=["SFTP"])


async def test_stop_frees_the_ports():
    s = await FileServers("127.0.0.1").start()
    ports = dict(s.ports)
    await s.stop()
    for port in ports.values():
        with socket.create_server(("127.0.0.1", port)):
            pass


def test_generated_images_differ_and_say_what_they_are():
    a, b = image("x", 4096), image("x", 4096)
    assert a != b and len(a) == 4096 and a.startswith(b"OCPP-HARNESS-FIRMWARE x\n")
    assert image("x", valid=False).startswith(b"INVALID")
    assert io.BytesIO(a).read(5) == b"OCPP-"


@pytest.mark.parametrize("protocol", ["HTTP", "FTP"])
async def test_refusing_location_refuses(servers, protocol):
    with pytest.raises(client.TransferError):
        await client.upload(servers.refusing_location(protocol), "diag.log", b"x", timeout=5)
    assert not [t for t in servers.uploads() if t.complete]


# --- the PICS [files] table ----------------------------------------------------------------------

def _pics_with(tmp_path, table: str):
    from harness import pics
    text = pics.default_path("cs").read_text() + "\n[files]\n" + table
    path = tmp_path / "pics.toml"
    path.write_text(text)
    return pics.load(path)


def test_pics_files_defaults():
    from harness import pics
    files = pics.load(pics.default_path("cs")).files
    assert (files.address, files.firmware, files.invalid_firmware, files.transfer_timeout) \
        == ("127.0.0.1", None, None, 60.0)


def test_pics_files_paths_are_relative_to_the_pics(tmp_path):
    (tmp_path / "fw.bin").write_bytes(b"image")
    files = _pics_with(tmp_path, 'address = "10.0.0.5"\nfirmware = "fw.bin"\n'
                                 'transfer_timeout = 120\n').files
    assert files.address == "10.0.0.5" and files.transfer_timeout == 120.0
    assert files.firmware == str((tmp_path / "fw.bin").resolve())


def test_pics_files_errors_name_the_key(tmp_path):
    from harness.pics import PicsError
    with pytest.raises(PicsError) as error:
        _pics_with(tmp_path, 'firmware = "missing.bin"\ntransfer_timeout = -1\nport = 21\n')
    text = str(error.value)
    for key in ("files.firmware", "files.transfer_timeout", "files.port"):
        assert key in text
