"""No secret in any output of a run (issue 13): the PICS's Basic-auth password, the passphrase of
its TLS key and the harness's own FTP password, each used by the run, are in none of report.json,
report.html, the wire logs, JUnit XML, device-state.json or the terminal output (as they are or
URL-encoded). The campaign (test_campaign.py) greps the same outputs of its hostile runs for the
Basic-auth password.

One harness run as users run it (a subprocess, pytest on testcases): the charge point is the
embedded simulator on security profile 2 (TLS with an encrypted server key, Basic auth), and
TC_044_1_CS makes it download a firmware image over HTTP and over FTP, whose URL carries the FTP
password. The file server draws that password from ``secrets.token_urlsafe``; the run's wrapper
fixes it, so that the test knows what to look for.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.timeout(300)
"""The run is ~15 s on a quiet machine; a loaded one (load average 25 on 2 cores) is far slower."""
ROOT = Path(__file__).resolve().parents[2]
BASIC_AUTH = "basic-auth-Secret-4f9c2e71"
PASSPHRASE = "tls-key-Passphrase-83b1d6"
FTP_PASSWORD = "ftp-Secret_7d2a90c4e5"
CASES = ("testcases/cs/core/test_tc_001_cold_boot.py",
         "testcases/cs/firmware_management/test_tc_044_1_firmware_update.py")
WRAPPER = f"""
import secrets, sys
secrets.token_urlsafe = lambda nbytes=None: {FTP_PASSWORD!r}  # the file server's FTP password
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


def write_pki(folder: Path) -> None:
    import trustme
    from cryptography.hazmat.primitives import serialization

    ca = trustme.CA()
    ca.cert_pem.write_to_path(folder / "ca.pem")  # the simulator trusts it (security.ca_file)
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(folder / "server.pem")
    key = serialization.load_pem_private_key(server.private_key_pem.bytes(), None)
    (folder / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode())))


def test_no_secret_in_any_output_of_a_run(tmp_path):
    write_pki(tmp_path)
    text = (ROOT / "harness/sim/default_cs.toml").read_text()
    text = text.replace("[security]\nprofile = 0\n", (
        f'[security]\nprofile = 2\nbasic_auth_password = "{BASIC_AUTH}"\n'
        f'ca_file = "ca.pem"\ncert_file = "server.pem"\nkey_file = "server.key"\n'
        f'key_password = "{PASSPHRASE}"\n'))
    assert "profile = 2" in text
    (tmp_path / "pics.toml").write_text(text)
    from harness import pics

    loaded = pics.load(tmp_path / "pics.toml")
    assert loaded.security.key_password == PASSPHRASE
    assert PASSPHRASE not in repr(loaded) and BASIC_AUTH not in repr(loaded)
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-c", WRAPPER, *CASES, "--ocpp-sut", "cs", "--ocpp-pics",
         str(tmp_path / "pics.toml"), "--ocpp-report", str(out), f"--junitxml={out / 'junit.xml'}",
         "-p", "no:cacheprovider", "-o", "addopts=", f"--rootdir={ROOT}", "-v"],
        cwd=ROOT, capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL)
    terminal = run.stdout + run.stderr
    report = json.loads((out / "report.json").read_text())
    verdicts = {case["id"]: case["verdict"] for case in report["test_cases"]}
    # The secrets were used: the simulator connected over TLS with the encrypted key's
    # certificate and Basic auth, and downloaded the image over FTP with the password.
    assert verdicts == {"TC_001_CS": "PASS", "TC_044_1_CS": "PASS"}, (verdicts, terminal[-3000:])
    wire = (out / "wire" / "TC_044_1_CS.jsonl").read_text()
    assert re.search(r'"location":\s*"ftp://ocpp:\*\*\*@127\.0\.0\.1:\d+/', wire), \
        "no FTP download in TC_044_1_CS, or its password not masked"
    outputs = {"terminal output": terminal}
    outputs |= {str(p.relative_to(out)): p.read_text("utf-8", "replace")
                for p in sorted(out.rglob("*")) if p.is_file()}
    for name in ("report.json", "report.html", "junit.xml", "device-state.json",
                 "wire/TC_001_CS.jsonl", "wire/TC_044_1_CS.jsonl"):
        assert name in outputs, (name, sorted(outputs))
    for where, content in outputs.items():
        for secret in (BASIC_AUTH, PASSPHRASE, FTP_PASSWORD):
            for form in {secret, quote(secret, safe="")}:
                assert form not in content, f"{secret[:10]}... in {where}"
