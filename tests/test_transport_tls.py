"""TLS (security profile 2) and mutual TLS (profile 3) between the harness's two endpoints."""

import ssl

import pytest
import trustme

from harness.transport import CentralSystemServer, connect, tls_context


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("CP1")
    paths = {"ca": directory / "ca.pem", "server": directory / "server.pem",
             "client": directory / "client.pem"}
    ca.cert_pem.write_to_path(paths["ca"])
    server.private_key_and_cert_chain_pem.write_to_path(paths["server"])
    client.private_key_and_cert_chain_pem.write_to_path(paths["client"])
    return {k: str(v) for k, v in paths.items()}


async def test_tls_with_basic_auth(pki):
    server_ctx = tls_context(server=True, cert_file=pki["server"])
    async with CentralSystemServer("127.0.0.1", 0, ssl_context=server_ctx,
                                   basic_auth_password="pw") as server:
        assert server.url.startswith("wss://")
        client_ctx = tls_context(server=False, ca_file=pki["ca"])
        link = await connect(server.url, "CP1", timeout=5, ssl_context=client_ctx,
                             basic_auth_password="pw")
        accepted = await server.accept(5)
        assert accepted.charge_point_id == "CP1" and accepted.findings == []
        await link.send('[2,"1","Heartbeat",{}]')
        assert (await accepted.recv()).text == '[2,"1","Heartbeat",{}]'
        await link.close()


async def test_untrusted_server_certificate_is_refused(pki):
    server_ctx = tls_context(server=True, cert_file=pki["server"])
    async with CentralSystemServer("127.0.0.1", 0, ssl_context=server_ctx) as server:
        with pytest.raises(ConnectionError, match="presented a certificate the harness does not "
                           "accept: certificate verify failed") as failed:
            await connect(server.url, "CP1", timeout=5,
                          ssl_context=ssl.create_default_context())  # system trust only
        assert failed.value.attempt.finding.rule == "ws.tls" and failed.value.attempt.reached


async def test_mutual_tls_requires_a_client_certificate(pki):
    server_ctx = tls_context(server=True, cert_file=pki["server"], ca_file=pki["ca"],
                             require_client_cert=True)
    async with CentralSystemServer("127.0.0.1", 0, ssl_context=server_ctx) as server:
        without = tls_context(server=False, ca_file=pki["ca"])
        with pytest.raises(ConnectionError):
            await connect(server.url, "CP1", timeout=5, ssl_context=without)
        with_cert = tls_context(server=False, ca_file=pki["ca"], cert_file=pki["client"])
        link = await connect(server.url, "CP1", timeout=5, ssl_context=with_cert)
        assert (await server.accept(5)).charge_point_id == "CP1"
        await link.close()
