"""report.html from a report.json content: sections, escaping, the sequence diagram, the
configuration comparison, profiles not covered, the evidence read from wire logs."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.report import evidence, html
from harness.report.model import CaseResult, Measurement, RunReport
from harness.report.writer import update_evidence, write_report
from harness.wirelog import WireLog

HOSTILE = "<script>alert('x')</script>"


def _frame_log(path: Path, lines: list[tuple[str, list]], findings_at: int | None = None) -> str:
    """A wire log with the frames given, 10 ms apart; a finding on line ``findings_at``."""
    from harness.findings import Finding

    with WireLog(path) as log:
        log.write_event("connected", 1_000_000_000, 1_700_000_000_000_000_000, path="/ocpp/CP1")
        for i, (sender, frame) in enumerate(lines, start=2):
            found = [Finding("enum", "$.status", f"not one of the values {HOSTILE}")] \
                if i == findings_at else []
            log.write_frame(sender, json.dumps(frame), 1_000_000_000 + i * 10_000_000,
                            1_700_000_000_000_000_000 + i * 10_000_000, found)
    return str(path)


def _report(tmp_path: Path, **dut) -> RunReport:
    wire = tmp_path / "wire"
    boot = _frame_log(wire / "TC_001_CS.jsonl", [
        ("cp", [2, "1", "BootNotification", {"chargePointVendor": HOSTILE,
                                             "chargePointModel": "M"}]),
        ("csms", [3, "1", {"status": "Accepted", "currentTime": "2026-01-01T00:00:00.000Z",
                           "interval": 10}]),
        ("cp", [2, "2", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                               "status": "Available",
                                               "timestamp": "2026-01-01T00:00:01Z"}]),
        ("csms", [3, "2", {}]),
        ("csms", [2, "h1", "GetConfiguration", {}]),
        ("cp", [3, "h1", {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "20"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
            {"key": "VendorKey", "readonly": False, "value": HOSTILE}]}]),
        ("cp", [2, "3", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                               "status": "Bogus",
                                               "timestamp": "2026-01-01T00:00:02.5Z"}]),
    ], findings_at=8)
    report = RunReport(
        dut={"vendor": dut.get("vendor", HOSTILE), "model": "M-1", "firmware_version": "1.0",
             "charge_point_id": "CP1", "pics": "pics.toml"},
        sut="cs", started="2026-01-01T00:00:00Z", finished="2026-01-01T00:01:00Z",
        declared_profiles=("Core", "Reservation"),
        pics={"source": "pics.toml", "features": {"connectors": 1, "fixed_cable": True,
                                                  "communication": "Wifi", "rfid_readers": 1},
              "timing": {"response_timeout": 60.0, "triggered_function_timeout": 30.0,
                         "remote_start_response": 5.0},
              "configuration": {"HeartbeatInterval": "30", "NumberOfConnectors": "1",
                                "MeterValueSampleInterval": "20"}})
    report.test_cases = [
        CaseResult("TC_001_CS", "Cold Boot Charge Point", "Core", "FAIL",
                   f"step 3: status {HOSTILE}", 1.25, boot),
        CaseResult("TC_002_CS", "Cold Boot Pending", "Core", "N/A", "N/A: not this one", 0.0,
                   None)]
    report.measurements = [Measurement(
        name="response_time", title="OCPP response timeout", pics_s=60.0, measured_s=2.5, n=2,
        min_s=0.25, median_s=1.375, p95_s=2.5, max_s=2.5, harness_median_s=0.0004, ok=True,
        samples=[{"case": "TC_001_CS", "value_s": 2.5, "harness_s": 0.0004,
                  "wire_log": boot, "lines": [6, 7], "what": "GetConfiguration"}])]
    return report


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def test_every_section_and_the_certificate_shape(tmp_path):
    report = _report(tmp_path)
    update_evidence(report)
    page = html.render(report.to_json())
    for heading in ("Test Result Summary", "Test Result Summary for the certified functionalities",
                    "Performance Measurement Results", "Test Configuration",
                    "Hardware feature set", "All other relevant limits",
                    "OCPP Charging Station Configuration", "Test cases"):
        assert heading in page, heading
    assert "Certificate type implied by the verdicts" in page
    # Core failed: no certificate; Reservation declared but no case ran: Incomplete, not N/A.
    assert re.search(r'id="profile-Reservation">.*?Incomplete', page, re.S)
    assert re.search(r'id="profile-SmartCharging">.*?N/A', page, re.S)
    assert "OCPP 1.6 None" in page
    # The measurement: PICS 60s, measured 00:00:02 and in ms, the harness's own time apart.
    assert "60s" in page and "00:00:02" in page and "2,500.0 ms" in page and "0.400 ms" in page


def test_whatever_the_device_sent_is_escaped(tmp_path):
    report = _report(tmp_path)
    update_evidence(report)
    page = html.render(report.to_json())
    parser = _Text()
    parser.feed(page)
    # The only script is the report's own (opening details for print); the device's is text.
    assert len(parser.scripts) == 1 and "beforeprint" in parser.scripts[0]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert any(HOSTILE in t for t in parser.text)


def test_sequence_diagram_has_an_arrow_per_frame_and_findings_in_red(tmp_path):
    report = _report(tmp_path)
    update_evidence(report)
    page = html.render(report.to_json())
    svg = re.search(r"<svg class=\"msc\".*?</svg>", page, re.S).group(0)
    assert svg.count("<polygon") == 7  # seven frames, one arrowhead each
    assert "BootNotification.req" in svg and "BootNotification.conf (Accepted)" in svg
    assert "GetConfiguration.conf" in svg
    finding = re.search(r'<g class="finding">.*?</g>', svg, re.S).group(0)
    assert "StatusNotification.req" in finding and "✗ enum $.status" in finding
    # The device's frames point from the device's lifeline (right) to the harness's (left).
    boot = re.search(r'<line x1="(\d+)" y1="\d+" x2="(\d+)"[^>]*/>\s*<polygon[^>]*/>\s*'
                     r'<text[^>]*>2: BootNotification.req', svg)
    assert int(boot.group(1)) > int(boot.group(2))


def test_a_wire_log_without_clocks_leaves_the_times_blank(tmp_path):
    report = _report(tmp_path)
    wire = Path(report.test_cases[0].wire_log)
    stripped = []
    for number, text in enumerate(wire.read_text(encoding="utf-8").splitlines(), start=1):
        line = json.loads(text)
        if number != 3:  # the BootNotification.conf keeps its clocks: its time is shown
            line.pop("mono"), line.pop("ts")
        stripped.append(json.dumps(line))
    wire.write_text("\n".join(stripped) + "\n", encoding="utf-8")
    arrows, total, error = evidence.arrows(wire, 100)
    assert error is None and total == 8
    assert [a.offset_s for a in arrows[:4]] == [None, None, 0.0, None]
    assert arrows[2].ts and arrows[1].ts is None
    update_evidence(report)
    data = report.to_json()
    assert data["configuration_source"]["line"] == 7 and "read_at" not in \
        data["configuration_source"]
    page = html.render(data)
    svg = re.search(r"<svg class=\"msc\".*?</svg>", page, re.S).group(0)
    assert svg.count("<polygon") == 7 and svg.count("+0.000 s") == 1  # only line 3 has a time
    frames = re.search(r'<table class="frames">.*?</table>', page, re.S).group(0)
    assert frames.count('<td class="mono ts"></td>') == 7
    assert "(time not recorded; wire log" in page


def test_configuration_from_the_device_with_differences_flagged(tmp_path):
    report = _report(tmp_path)
    update_evidence(report)
    data = report.to_json()
    assert data["configuration"]["HeartbeatInterval"] == "20"
    assert data["configuration_source"]["how"] == "during-run"
    assert data["configuration_source"]["line"] == 7
    rows = {r["key"]: r["status"] for r in html.view(data)["configuration"]}
    assert rows == {"HeartbeatInterval": "differs from the PICS", "NumberOfConnectors": "same",
                    "MeterValueSampleInterval": "not reported by the device",
                    "VendorKey": "not in the PICS"}
    page = html.render(data)
    assert "the last full GetConfiguration answer seen during the run (TC_001_CS)" in page


def test_milliseconds_in_timestamps_from_the_devices_own_frames(tmp_path):
    report = _report(tmp_path)
    update_evidence(report)
    found = report.limits["milliseconds_in_timestamps"]
    # The harness's currentTime (with ms) does not count; the device sent one without, one with.
    assert (found["value"], found["seen"], found["with_fraction"]) == ("Partly", 2, 1)
    assert found["example_without"] == "2026-01-01T00:00:01Z"


def test_scan_ignores_a_get_configuration_with_keys(tmp_path):
    path = _frame_log(tmp_path / "w.jsonl", [
        ("csms", [2, "1", "GetConfiguration", {"key": ["HeartbeatInterval"]}]),
        ("cp", [3, "1", {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                               "value": "20"}]}])])
    assert evidence.scan(path, "cp").configuration is None


@pytest.mark.parametrize("seconds, text", [(0.2, "00:00:00"), (21.9, "00:00:21"),
                                           (3725, "01:02:05"), (None, "-")])
def test_hms_truncates_like_the_certificates(seconds, text):
    assert html.hms(seconds) == text


def test_the_html_says_how_to_get_a_pdf(tmp_path):
    write_report(_report(tmp_path), tmp_path / "out", final=True)
    page = (tmp_path / "out" / "report.html").read_text()
    assert "--ocpp-pdf summary" in page and "python -m harness report DIR --pdf summary" in page
    assert not (tmp_path / "out" / "report.pdf").exists()  # none unless asked for


def test_a_missing_wire_log_is_said_not_fatal(tmp_path):
    report = _report(tmp_path)
    report.test_cases[0].wire_log = str(tmp_path / "gone.jsonl")
    path = write_report(report, tmp_path / "out")
    assert json.loads(path.read_text())["complete"] is False
    page = (tmp_path / "out" / "report.html").read_text()
    assert "gone.jsonl is missing" in page and "INCOMPLETE RUN" in page
