"""The report's OCPP configuration: read from the charge point at the end of the run, bounded by the
PICS response timeout; when that fails, the last full answer seen during the run stays, and why
the end-of-run read failed is kept."""

from __future__ import annotations

import asyncio

from harness.report.writer import read_configuration_at_end, update_evidence
from harness.session import DeviceTimeout
from test_report_html import _report


class SilentDevice:
    """A session whose device never answers: the read must give up at the timeout."""
    device = "cp"
    violations: list = []

    def begin(self, wirelog):
        self.wirelog = wirelog

    def end(self):
        pass

    async def wait_connected(self, timeout):
        return None

    async def call(self, action, payload, *, timeout):
        await asyncio.sleep(3600)  # stands for a device that never answers


class DisconnectedDevice(SilentDevice):
    async def wait_connected(self, timeout):
        raise DeviceTimeout(f"the device did not connect within {timeout:g} s")


async def test_a_silent_device_keeps_the_fallback_and_the_reason(tmp_path):
    report = _report(tmp_path)
    update_evidence(report)
    assert report.configuration_source["how"] == "during-run"
    loop = asyncio.get_running_loop()
    started = loop.time()
    await read_configuration_at_end(report, SilentDevice(), 0.2, tmp_path / "end.jsonl")
    assert loop.time() - started < 2, "the read is bounded by the response timeout"
    assert report.configuration_source["how"] == "during-run"
    assert report.configuration_source["end_of_run_error"] == "TimeoutError"
    assert report.configuration["HeartbeatInterval"] == "20"


async def test_a_disconnected_device_says_so(tmp_path):
    report = _report(tmp_path)
    report.test_cases = []
    update_evidence(report)
    await read_configuration_at_end(report, DisconnectedDevice(), 0.1, tmp_path / "end.jsonl")
    source = report.to_json()["configuration_source"]
    assert source["how"] == "none" and report.configuration == {}
    assert "did not connect within 0.1 s" in source["end_of_run_error"]


async def test_the_html_says_why_the_configuration_was_not_read(tmp_path):
    from harness.report import html

    report = _report(tmp_path)
    report.test_cases = []
    update_evidence(report)
    await read_configuration_at_end(report, DisconnectedDevice(), 0.1, tmp_path / "end.jsonl")
    page = html.render(report.to_json())
    assert "the read at the end of the run failed: DeviceTimeout" in page
    assert "The PICS values are listed for reference only" in page
