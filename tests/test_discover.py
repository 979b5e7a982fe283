"""`python -m harness pics discover`: a draft PICS read from the device (harness/discover.py).

Against devices started as separate processes, as a lab's are: the reference charge point
(``python -m harness.sim charge-point``) and the ocpp-library charge point (interop/ocpp_lib_cp.py).
Each draft must check with ``python -m harness pics`` once its questions are answered with their
defaults, and hold what the device really reported.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
import tomllib
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.client import connect

from harness import __main__ as cli
from harness import discover
from harness.discover import QUESTION, Reading, answered, check_answered
from interop.launch import (CP_PICS, ROOT, free_port, implementation, library_central_system,
                            library_charge_point, reference_central_system)

ECARPLUG = ROOT / "examples" / "pics" / "ecarplug-ac-cpt-ocpp.toml"


def run_discover(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["pics", "discover", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def configuration_lines(text: str) -> list[str]:
    body = text.split("[configuration]", 1)[1].split("\n")[1:]
    return [line for line in body if line and not line.startswith("#")]


def check_as_answered(tmp_path: Path, text: str) -> int:
    path = tmp_path / "answered.toml"
    path.write_text(answered(text), encoding="utf-8")
    return cli.main(["pics", str(path)])


def frames(wire: Path) -> list[list]:
    return [line["frame"] for line in map(json.loads, wire.read_text().splitlines())
            if "frame" in line]


def test_reference_charge_point_process_playing_a_certificate_with_a_small_max_keys(tmp_path,
                                                                                   capsys):
    """The reference charge point, started as a vendor starts a device, playing the full
    certificate's charge point (examples/pics/ecarplug-ac-cpt-ocpp.toml) and limited to 5 keys a
    GetConfiguration: the draft holds that certificate's identity, profiles, connectors and
    configuration; every request within the limit, nothing refused."""
    port = free_port()
    out = tmp_path / "sim.toml"
    with implementation("harness.sim", ["charge-point", "--csms-url",
                                        f"ws://127.0.0.1:{port}/ocpp", "--pics", str(ECARPLUG),
                                        "--set", "GetConfigurationMaxKeys=5"],
                        tmp_path / "sim.log", ready="control on"):
        code, said, err = run_discover(capsys, "--listen", f"127.0.0.1:{port}", "-o", str(out),
                                       "--wait", "60", "--response-timeout", "15")
    assert code == 0, err + said
    assert f"listening on ws://127.0.0.1:{port}/<any path>/<any chargePointId>; waiting up " \
           "to 60 s for a charge point" in said
    text = out.read_text()
    data = tomllib.loads(text)
    declared = tomllib.loads(ECARPLUG.read_text())
    for key in ("vendor", "model", "firmware_version", "charge_point_id"):
        assert data["dut"][key] == declared["dut"][key], key
    for key in ("profiles", "connectors", "reserve_connector_zero"):
        assert data["features"][key] == declared["features"][key], key
    config = data["configuration"]
    assert config.pop("GetConfigurationMaxKeys") == "5"
    want = {k: str(v) for k, v in declared["configuration"].items()
            if k not in ("GetConfigurationMaxKeys", "HeartbeatInterval")}
    assert {k: config.get(k) for k in want} == want
    assert all("# read from the device (read-" in line for line in configuration_lines(text))
    # the timings, idTags and hardware are questions, not invented answers
    for key in ("response_timeout", "valid", "cable", "test_laboratory"):
        assert any(line.startswith(f"{QUESTION}{key} = ") for line in text.splitlines()), key
    assert "response_timeout" not in data["timing"]
    # every GetConfiguration within the device's limit, none refused
    wire = out.with_name("sim.wire.jsonl")
    sent = [f for f in frames(wire) if f[0] == 2 and f[2] == "GetConfiguration"]
    assert len(sent) >= 2 and all(len(f[3].get("key", [])) <= 5 for f in sent)
    assert any(len(f[3].get("key", [])) == 5 for f in sent)  # chunked, not one key at a time
    assert not [f for f in frames(wire) if f[0] == 4]
    assert check_as_answered(tmp_path, text) == 0
    assert cli.main(["pics", str(out)]) == 2  # unanswered: the check names the questions left


def test_ocpp_library_charge_point_process(tmp_path, capsys):
    """The independent charge point of interop/: the draft holds what its own PICS declares
    (its configuration is read from that file), and --id refuses the other identities."""
    port = free_port()
    out = tmp_path / "lib.toml"
    declared = tomllib.loads(CP_PICS.read_text())
    with library_charge_point(port, tmp_path / "lib.log"):  # its PICS: INTEROP-CP-1
        code, said, err = run_discover(capsys, "--listen", f"127.0.0.1:{port}", "--id",
                                       "INTEROP-CP-1", "-o", str(out), "--wait", "60",
                                       "--response-timeout", "15")
    assert code == 0, err + said
    assert "waiting up to 60 s for INTEROP-CP-1" in said
    data = tomllib.loads(out.read_text())
    for key in ("vendor", "model", "firmware_version", "charge_point_id"):
        assert data["dut"][key] == declared["dut"][key], key
    assert data["features"]["profiles"] == ["Core"]
    assert data["features"]["connectors"] == 1
    read = data["configuration"]
    # its own 3, or the 300 of the harness's BootNotification.conf once it has applied that
    assert read.pop("HeartbeatInterval") in ("3", "300")
    want = {k: v for k, v in declared["configuration"].items() if k != "HeartbeatInterval"}
    assert {k: read.get(k) for k in want} == want
    assert check_as_answered(tmp_path, out.read_text()) == 0


def test_nobody_connects_in_time_and_a_wrong_id_is_named(tmp_path, capsys):
    """A bounded wait with a clear message: the identity that tried is named, no draft."""
    port = free_port()
    out = tmp_path / "none.toml"

    async def wrong_identity() -> None:
        await asyncio.sleep(0.3)
        for _ in range(3):
            try:
                async with connect(f"ws://127.0.0.1:{port}/ocpp/CP-0001",
                                   subprotocols=["ocpp1.6"]) as ws:
                    await ws.wait_closed()
            except OSError:
                await asyncio.sleep(0.2)

    async def both() -> Reading | Exception:
        said: list[str] = []
        task = asyncio.create_task(wrong_identity())
        try:
            return await discover.read_charge_point("127.0.0.1", port, charge_point_id="CP0001",
                                                    wait=1.5, notify=said.append), said
        except discover.NothingToDraft as exc:
            return exc, said
        finally:
            await task
    started = time.monotonic()
    result, said = asyncio.run(both())
    assert time.monotonic() - started < 10
    assert isinstance(result, discover.NothingToDraft)
    assert "no charge point connected within 1.5 s" in str(result)
    assert "ws.charge-point-id" in str(result)
    assert said[1] == "refused 'CP-0001': expected 'CP0001' (--id)"
    assert len([s for s in said if s.startswith("refused")]) == 1  # not one line per retry
    code, _, err = run_discover(capsys, "--listen", f"127.0.0.1:{port}", "-o", str(out),
                                "--wait", "0.5")
    assert code == discover.EXIT_NOTHING
    assert "no charge point connected within 0.5 s (no connection attempt reached" in err
    assert not out.exists()


async def fake_charge_point(url: str, ssl_context, *, answer: str = "keys") -> None:
    """Boots as vendor Mute, then answers every CALL with ``answer``: nothing, an invalid
    GetConfiguration.conf, or two keys (and reports connector 1 after its boot)."""
    for _ in range(50):
        try:
            async with connect(url, subprotocols=["ocpp1.6"], ssl=ssl_context) as ws:
                await ws.send(json.dumps([2, "b1", "BootNotification", {
                    "chargePointVendor": "Mute", "chargePointModel": "M1"}]))
                async for text in ws:
                    frame = json.loads(text)
                    if frame[:2] == [3, "b1"] and answer == "keys":
                        await ws.send(json.dumps([2, "s1", "StatusNotification", {
                            "connectorId": 1, "errorCode": "NoError", "status": "Available"}]))
                    elif frame[0] == 2 and answer == "invalid":
                        await ws.send(json.dumps([3, frame[1], {"configurationKey": "x"}]))
                    elif frame[0] == 2 and answer == "keys":
                        await ws.send(json.dumps([3, frame[1], {"configurationKey": [
                            {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
                            {"key": "SupportedFeatureProfiles", "readonly": True,
                             "value": "Core"}]}]))
            return
        except OSError:
            await asyncio.sleep(0.1)


def test_tls_listen_serves_wss(tmp_path):
    """--cert-file: the charge point connects over wss:// (security profile 2); the draft says so."""
    ca = trustme.CA()
    server = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    port = free_port()

    async def both() -> Reading:
        task = asyncio.create_task(fake_charge_point(f"wss://127.0.0.1:{port}/ocpp/TLS-1", client))
        try:
            return await discover.read_charge_point(
                "127.0.0.1", port, wait=10, response_timeout=5, status_wait=2,
                notify=lambda _: None, tls=discover.Tls(cert_file=str(server)))
        finally:
            await asyncio.wait_for(task, 10)
    reading = asyncio.run(both())
    assert reading.secure and reading.charge_point_id == "TLS-1"
    text = discover.draft(reading)
    assert "it connected over wss:// (TLS: profile 2 or 3" in text
    data = tomllib.loads(answered(text))
    assert data["features"]["connectors"] == 1 and data["features"]["profiles"] == ["Core"]
    assert check_answered(text) == []


def test_unusable_tls_files_are_one_line_and_exit_4(tmp_path, capsys):
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("nothing here")
    code, _, err = run_discover(capsys, "--listen", f"127.0.0.1:{free_port()}", "--cert-file",
                                str(bad), "-o", str(tmp_path / "x.toml"), "--wait", "1")
    assert code == discover.EXIT_SETUP
    assert err.startswith(f"discover: --cert-file {bad}: cannot use them for TLS: ")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("answer", ["nothing", "invalid"])
def test_a_charge_point_that_boots_then_does_not_answer_gives_a_draft_in_bounded_time(tmp_path,
                                                                                     answer):
    """It boots, then never answers GetConfiguration (or answers with a payload the schema
    rejects): the waits end at the response timeout, the draft keeps the BootNotification and says
    what could not be read."""
    port = free_port()

    async def charge_point() -> None:
        await fake_charge_point(f"ws://127.0.0.1:{port}/ocpp/MUTE-1", None, answer=answer)

    async def both() -> Reading:
        task = asyncio.create_task(charge_point())
        try:
            return await discover.read_charge_point(
                "127.0.0.1", port, wait=10, response_timeout=1, status_wait=0.5,
                wire_log=tmp_path / "mute.wire.jsonl", notify=lambda _: None)
        finally:
            await asyncio.wait_for(task, 10)
    started = time.monotonic()
    reading = asyncio.run(both())
    assert time.monotonic() - started < 8
    assert reading.boot["chargePointVendor"] == "Mute" and not reading.keys
    assert reading.requests == 1 if answer == "nothing" else reading.requests >= 1
    text = discover.draft(reading)
    assert "# Not read: GetConfiguration with no key: " in text
    assert ("within 1 s" if answer == "nothing" else "broke the protocol") in text
    assert 'vendor = "Mute"' in text and f"{QUESTION}connectors = 1" in text
    assert check_answered(text) == []


def test_port_in_use_is_one_line_and_exit_4(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_discover(capsys, "--listen", f"127.0.0.1:{port}", "-o",
                                    str(tmp_path / "x.toml"), "--wait", "1")
    assert code == discover.EXIT_SETUP
    assert err.startswith(f"discover: --listen 127.0.0.1:{port}: cannot listen there: ")
    assert len(err.strip().splitlines()) == 1


def test_a_draft_of_odd_device_answers_still_checks(tmp_path):
    """Values the PICS check would reject are kept as comments saying why; device text is escaped;
    a key spelt like a standard one goes to dut.vendor_keys; an unknown profile name leaves the
    profiles a question."""
    r = Reading("cs", charge_point_id="CP\"1", started="now")
    r.boot = {"chargePointVendor": 'Ven"dor\\', "chargePointModel": "M\nodel",
              "firmwareVersion": "x" * 51}
    r.keys = {name: ({"key": name, "readonly": ro, "value": value}, 9) for name, ro, value in (
        ("HeartbeatInterval", False, "five"), ("HeartbeatIntervall", False, "60"),
        ("NumberOfConnectors", True, "3"), ("SupportedFeatureProfiles", True, "Core,Firmware"),
        ("MeterValuesSampledData", False, "A,B,C"), ("MeterValuesSampledDataMaxLength", True, "2"),
        ("Vendor.Key", False, 'a "quoted"\nvalue'), ("NoValue", True, None))}
    r.statuses = {1: ({"status": "Available"}, 5), 3: ({"status": "Faulted"}, 6)}
    text = discover.draft(r)
    data = tomllib.loads(answered(text))
    assert data["dut"]["vendor"] == 'Ven"dor\\' and data["dut"]["charge_point_id"] == 'CP"1'
    assert data["dut"]["model"] == "M\nodel"
    assert "firmware_version" not in tomllib.loads(text)["dut"]  # over CiString50: a question
    assert data["dut"]["firmware_version"] == "1.0.0"
    assert data["dut"]["vendor_keys"] == ["HeartbeatIntervall"]
    assert data["configuration"]["HeartbeatIntervall"] == "60"
    assert "HeartbeatInterval" not in data["configuration"]
    assert '# HeartbeatInterval = "five"' in text and "not usable: expected an integer" in text
    assert "MeterValuesSampledData" not in data["configuration"]  # over its own MaxLength
    assert data["configuration"]["Vendor.Key"] == 'a "quoted"\nvalue'
    assert data["features"]["connectors"] == 3
    assert data["features"]["profiles"] == ["Core"]
    assert f"{QUESTION}profiles = " in text and "Firmware, not an OCPP 1.6 profile" in text
    assert "NoValue: reported without a value" in text
    assert check_answered(text) == []
    assert check_as_answered(tmp_path, text) == 0


@pytest.mark.parametrize("which", ["reference", "library"])
def test_central_system_process(tmp_path, capsys, which):
    """The CSMS analogue, through the command line, against the reference central system and
    the ocpp-library one, each a separate process: the harness connects as a charge point, boots,
    and drafts what it saw."""
    start = reference_central_system if which == "reference" else library_central_system
    out = tmp_path / "csms.toml"
    with start(tmp_path / "csms.log") as (url, _control):
        code, said, err = run_discover(capsys, "--csms-url", url, "--id", "HARNESS-CP", "-o",
                                       str(out), "--response-timeout", "15", "--status-wait", "1")
    assert code == 0, err + said
    assert f"connecting to {url}/HARNESS-CP (up to 15 s)" in said
    text = out.read_text()
    data = tomllib.loads(answered(text))
    assert (data["dut"]["sut"], data["dut"]["csms_url"]) == ("csms", url)
    assert "It answered BootNotification 'Accepted' with interval " in text
    assert check_as_answered(tmp_path, text) == 0
    # Every profile claimed, as the reference CSMS supports: the draft asked all it needs.
    every = text.replace('#? profiles = ["Core"]', '#? profiles = ["Core", "FirmwareManagement", '
                         '"LocalAuthListManagement", "Reservation", "SmartCharging", "RemoteTrigger"]')
    assert every != text and check_as_answered(tmp_path, every) == 0
    assert '\n#? parent = "PARENT-TAG"' in text  # else the parent-idTag cases are N/A


def test_central_system_on_basic_auth_with_the_password_from_the_environment(tmp_path, capsys,
                                                                                monkeypatch):
    """--csms-url with --password-env: the harness connects with HTTP Basic credentials (user =
    --id) to a central system on security profile 1; without them the same central system refuses
    the connection (exit 3, HTTP 401 named). The password is in no output."""
    import dataclasses
    import threading

    from harness.pics import Security
    from harness.sim.csms import CsmsSim
    from scripted_peers import stand_in_pics

    secret = "discover-Secret-0123456789"
    pics = dataclasses.replace(stand_in_pics("csms"),
                               security=Security(profile=1, basic_auth_password=secret))
    ready, where = threading.Event(), {}

    def serve() -> None:
        async def run() -> None:
            async with CsmsSim(pics) as csms:
                stop = asyncio.Event()
                where.update(url=csms.url, stop=stop, loop=asyncio.get_running_loop())
                ready.set()
                await stop.wait()
        asyncio.run(run())
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        out = tmp_path / "csms.toml"
        code, said, err = run_discover(capsys, "--csms-url", where["url"], "--id", "HARNESS-CP",
                                       "-o", str(out), "--response-timeout", "5",
                                       "--status-wait", "0.5")
        assert code == discover.EXIT_NOTHING and "401" in err, (code, said, err)
        monkeypatch.setenv("CSMS_PASSWORD", secret)
        code, said, err = run_discover(capsys, "--csms-url", where["url"], "--id", "HARNESS-CP",
                                       "-o", str(out), "--force", "--password-env", "CSMS_PASSWORD",
                                       "--response-timeout", "5", "--status-wait", "0.5")
        assert code == 0, err + said
        text = out.read_text()
        assert "accepted the harness's HTTP Basic credentials as 'HARNESS-CP'" in text
        outputs = [text, said, err] + [p.read_text() for p in tmp_path.glob("*.jsonl")]
        assert not any(secret in o for o in outputs)
        monkeypatch.delenv("CSMS_PASSWORD")
        code, said, err = run_discover(capsys, "--csms-url", where["url"], "--id", "HARNESS-CP",
                                       "-o", str(out), "--force", "--password-env", "CSMS_PASSWORD")
        assert code == discover.EXIT_SETUP and "CSMS_PASSWORD" in err
    finally:
        where["loop"].call_soon_threadsafe(where["stop"].set)
        thread.join(10)


async def test_a_central_system_s_trigger_is_followed_by_the_message(tmp_path):
    """A central system that triggers StatusNotification right after the boot gets it, after the
    TriggerMessage.conf (OCPP 1.6 section 5.17), not an Accepted that nothing follows."""
    from harness.rpc import CallResult
    from scripted_peers import ScriptedCsms

    async with ScriptedCsms() as csms:
        answers: list = []

        async def trigger_after_boot() -> None:
            await csms.expect("Heartbeat")  # the reading's boot sequence is done
            answers.append(await csms.call("TriggerMessage",
                                           {"requestedMessage": "StatusNotification"}))

        task = asyncio.create_task(trigger_after_boot())
        reading = await discover.read_central_system(csms.url, "TRIG-CP", response_timeout=5,
                                                     listen_for=1.0, notify=lambda _: None,
                                                     wire_log=tmp_path / "wire.jsonl")
        await task
    assert isinstance(answers[0], CallResult) and answers[0].payload == {"status": "Accepted"}
    statuses = [r.payload["connectorId"] for r in csms.seen("StatusNotification")]
    assert statuses == [1, 0, 1]  # its own, then the triggered ones: every connector
    assert ("TriggerMessage" in [action for action, _ in reading.received])
    csms.assert_clean()
