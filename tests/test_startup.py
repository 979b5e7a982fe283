"""Start-up checks (harness/startup.py) on real runs: a set-up problem is one line naming the
option or PICS key, exit code 4 before the first case, and no report that blames the device."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
# At import, not in the test: pytester restores sys.modules after each test, and a re-imported
# cryptography refuses the curve objects of the first import.
import trustme
from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parents[1]
CORE_CASE = str(ROOT / "testcases/cs/core/test_tc_003_charging_plugin_first.py")
CSMS_CASE = str(ROOT / "testcases/csms/core")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--rootdir={ROOT}", *args,
                                         timeout=60)


def assert_usage_error(result: pytest.RunResult, out: Path, line: str) -> None:
    assert result.ret == 4, result.stdout.str() + result.stderr.str()
    errors = [x for x in result.stderr.lines if x.startswith("ERROR: ")]
    assert errors == [f"ERROR: {line}"], result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (out / "report.json").exists() and not (out / "report.html").exists()


@pytest.mark.parametrize("spec, message", [
    ("promt", "--ocpp-driver 'promt': unknown driver; --ocpp-driver accepts prompt, "
              "http://HOST:PORT[/base], https://HOST:PORT[/base], "
              "python:package.module:attribute, sim"),
    ("http://rig:80800", "--ocpp-driver 'http://rig:80800': the port is not a number from 0 to "
                         "65535"),
    ("python:no_such_rig_module:Rig", "--ocpp-driver 'python:no_such_rig_module:Rig': cannot "
                                      "import 'no_such_rig_module': ModuleNotFoundError: No "
                                      "module named 'no_such_rig_module'"),
])
def test_a_bad_driver_spec(pytester, tmp_path, spec, message):
    out = tmp_path / "out"
    result = run(pytester, CORE_CASE, "--ocpp-driver", spec, "--ocpp-report", str(out))
    assert_usage_error(result, out, message)


def test_a_listen_port_in_use(pytester, tmp_path):
    out = tmp_path / "out"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(pytester, CORE_CASE, "--ocpp-dut", "external", "--ocpp-driver", "prompt",
                     "--ocpp-listen", f"127.0.0.1:{port}", "--ocpp-report", str(out))
    assert_usage_error(result, out, f"--ocpp-listen 127.0.0.1:{port}: cannot listen there: "
                                    f"address already in use (another program, or another "
                                    f"harness run, holds the port)")


def test_an_unreachable_csms_url(pytester, tmp_path):
    out = tmp_path / "out"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        result = run(pytester, CSMS_CASE, "--ocpp-sut", "csms", "--ocpp-dut", "external",
                     "--ocpp-driver", "prompt", "--ocpp-csms-url", f"ws://127.0.0.1:{port}/ocpp",
                     "--ocpp-report", str(out))
    assert_usage_error(result, out, f"--ocpp-csms-url 'ws://127.0.0.1:{port}/ocpp': cannot "
                                    f"reach 127.0.0.1:{port}: connection refused")


def test_a_csms_url_for_a_charge_point_under_test(pytester, tmp_path):
    """--ocpp-sut forgotten on the README's CSMS command (no PICS, so the embedded simulator's
    cs one): before, the run listened on 127.0.0.1:9000 for a charge point and waited minutes."""
    out = tmp_path / "out"
    result = run(pytester, CORE_CASE, "--ocpp-dut", "external", "--ocpp-driver", "prompt",
                 "--ocpp-listen", "127.0.0.1:0", "--ocpp-csms-url", "ws://127.0.0.1:8180/ocpp",
                 "--ocpp-report", str(out))
    assert_usage_error(result, out, "--ocpp-csms-url 'ws://127.0.0.1:8180/ocpp': given, but the "
                                    "side under test is a charge point (--ocpp-sut cs, or the "
                                    "PICS dut.sut); for a central system add --ocpp-sut csms and "
                                    "its PICS (--ocpp-pics)")


def test_the_simulators_csms_url_for_a_real_csms(pytester, tmp_path):
    """--ocpp-dut external without --ocpp-pics or --ocpp-csms-url: the embedded simulator's PICS
    says ws://127.0.0.1:0/ocpp; the message said 'cannot reach 127.0.0.1:80' (port 0 read as
    none)."""
    out = tmp_path / "out"
    result = run(pytester, CSMS_CASE, "--ocpp-sut", "csms", "--ocpp-dut", "external",
                 "--ocpp-driver", "prompt", "--ocpp-report", str(out))
    assert_usage_error(result, out, "PICS dut.csms_url 'ws://127.0.0.1:0/ocpp': port 0 is the "
                                    "embedded simulator's free port, not a central system's "
                                    "(give --ocpp-csms-url, or --ocpp-pics with the CSMS's "
                                    "dut.csms_url)")


def test_a_certificate_file_that_holds_no_certificate(pytester, tmp_path):
    out = tmp_path / "out"
    pics = (ROOT / "harness/sim/default_cs.toml").read_text().replace(
        "[security]\nprofile = 0\n",
        '[security]\nprofile = 2\nbasic_auth_password = "0123456789abcdef"\n'
        'cert_file = "server.pem"\nkey_file = "server.key"\n')
    pytester.path.joinpath("tls.toml").write_text(pics)
    pytester.path.joinpath("server.pem").write_text("not a certificate\n")
    pytester.path.joinpath("server.key").write_text("not a key\n")
    result = run(pytester, CORE_CASE, "--ocpp-pics", "tls.toml", "--ocpp-report", str(out))
    path = pytester.path.joinpath("server.pem").resolve()
    assert_usage_error(result, out, f"PICS security.cert_file '{path}': no PEM certificate in "
                                    f"the file (-----BEGIN CERTIFICATE-----)")


@pytest.mark.parametrize("given, says", [
    (None, "needs security.key_password (its passphrase)"),
    ("not-the-passphrase", "security.key_password does not decrypt"),
])
def test_an_encrypted_key_without_its_passphrase(pytester, tmp_path, given, says):
    """A usage error naming the key, never OpenSSL's prompt on the terminal (nor the phrase)."""
    out = tmp_path / "out"
    server = trustme.CA().issue_cert("localhost")
    server.cert_chain_pems[0].write_to_path(pytester.path / "server.pem")
    key = serialization.load_pem_private_key(server.private_key_pem.bytes(), None)
    pytester.path.joinpath("server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"the-right-passphrase")))
    pics = (ROOT / "harness/sim/default_cs.toml").read_text().replace(
        "[security]\nprofile = 0\n",
        '[security]\nprofile = 2\nbasic_auth_password = "0123456789abcdef"\n'
        'cert_file = "server.pem"\nkey_file = "server.key"\n'
        + (f'key_password = "{given}"\n' if given else ""))
    pytester.path.joinpath("tls.toml").write_text(pics)
    result = run(pytester, CORE_CASE, "--ocpp-pics", "tls.toml", "--ocpp-report", str(out))
    path = pytester.path.joinpath("server.key").resolve()
    errors = [x for x in result.stderr.lines if x.startswith("ERROR: ")]
    assert result.ret == 4 and len(errors) == 1, result.stdout.str() + result.stderr.str()
    assert errors[0].startswith(f"ERROR: PICS security.key_file '{path}': an encrypted key that "
                                f"{says} ("), errors
    assert "pass phrase" not in result.stdout.str() + result.stderr.str()
    assert not (out / "report.json").exists()


def test_collect_only_checks_nothing(pytester, tmp_path):
    result = run(pytester, CORE_CASE, "--ocpp-driver", "promt", "--collect-only", "-q")
    assert result.ret == 0


def test_host_port_is_one_reading_for_every_listen_option():
    from harness.startup import host_port

    assert host_port("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert host_port(":9000") == ("127.0.0.1", 9000)
    assert host_port("::1:9000") == ("::1", 9000)
    for bad in ("9000", "host:", "host:x", "host:65536"):
        with pytest.raises(ValueError, match="expected HOST:PORT"):
            host_port(bad)
