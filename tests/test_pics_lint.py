"""The PICS [configuration] lint (harness/ocpp_keys.py): a near-miss of a standard key and a value
of the wrong type for a standard key are errors, in `python -m harness pics` and at start-up;
dut.vendor_keys lets a real vendor key through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import ocpp_keys
from harness import pics as pics_module

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "examples/pics/taeseongcontech-tsct-1100a.toml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    try:
        pics_module.load(write(tmp_path, text))
    except pics_module.PicsError as exc:
        return [line.split(": ", 1)[1] for line in str(exc).splitlines()]
    return []


def test_a_near_miss_of_a_standard_key_is_an_error_naming_the_key(tmp_path):
    text = BASE.replace('HeartbeatInterval = "20"', 'HeartBeatInterval = "20"')
    assert problems(tmp_path, text) == [
        "configuration.HeartBeatInterval: not an OCPP 1.6 configuration key; did you mean "
        "HeartbeatInterval? (a vendor's own key goes in dut.vendor_keys)"]
    assert "did you mean MeterValueSampleInterval" in problems(
        tmp_path, BASE.replace("MeterValueSampleInterval", "MeterValueSamplInterval"))[0]


def test_vendor_keys_let_a_real_vendor_key_through(tmp_path):
    text = BASE.replace('HeartbeatInterval = "20"', 'HeartbeatInterval = "20"\n'
                        'HeartbeatIntervals = "5"\nAcmeDisplayLanguage = "en"')
    assert problems(tmp_path, text) == ["configuration.HeartbeatIntervals: not an OCPP 1.6 "
                                        "configuration key; did you mean HeartbeatInterval? (a "
                                        "vendor's own key goes in dut.vendor_keys)"]
    text = text.replace('charge_point_id = "TSCT1100A"',
                        'charge_point_id = "TSCT1100A"\nvendor_keys = ["HeartbeatIntervals"]')
    p = pics_module.load(write(tmp_path, text))
    assert p.configuration["HeartbeatIntervals"] == "5" and p.dut.vendor_keys == ("HeartbeatIntervals",)


@pytest.mark.parametrize("line, message", [
    ('HeartbeatInterval = "soon"', "configuration.HeartbeatInterval: expected an integer, found 'soon'"),
    ('HeartbeatInterval = -5', "configuration.HeartbeatInterval: expected an integer >= 0, found '-5'"),
    ('HeartbeatInterval = "yes"', "configuration.HeartbeatInterval: expected an integer, found 'yes'"),
])
def test_a_value_of_the_wrong_type_is_an_error(tmp_path, line, message):
    assert problems(tmp_path, BASE.replace('HeartbeatInterval = "20"', line)) == [message]


def test_booleans_and_lists_within_their_max_length(tmp_path):
    text = BASE.replace('LocalPreAuthorize = "FALSE"', 'LocalPreAuthorize = "no"')
    assert problems(tmp_path, text) == [
        "configuration.LocalPreAuthorize: expected a boolean (true or false), found 'no'"]
    text = BASE.replace('MeterValuesSampledDataMaxLength = "4"', 'MeterValuesSampledDataMaxLength = "2"')
    assert problems(tmp_path, text) == [
        "configuration.MeterValuesSampledData: expected at most 2 items "
        "(MeterValuesSampledDataMaxLength = 2), found 4"]


def test_every_shipped_pics_passes_the_lint():
    for path in [*sorted((ROOT / "examples/pics").glob("*.toml")),
                 *sorted((ROOT / "harness/sim").glob("*.toml"))]:
        pics_module.load(path)


def test_the_pics_command_and_the_start_up_both_refuse_it(tmp_path, pytester):
    path = write(tmp_path, BASE.replace('HeartbeatInterval = "20"', 'HeartBeatInterval = "20"'))
    out = subprocess.run([sys.executable, "-m", "harness", "pics", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "configuration.HeartBeatInterval: not an OCPP 1.6" in out.stderr
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--rootdir={ROOT}",
        str(ROOT / "testcases/cs/core/test_tc_001_cold_boot.py"), "--ocpp-pics", str(path),
        timeout=60)
    assert result.ret == 4 and "configuration.HeartBeatInterval: not an OCPP 1.6" in \
        result.stderr.str()


def test_no_standard_key_is_a_near_miss_of_another():
    for key in ocpp_keys.KEYS:
        assert ocpp_keys.near_standard_key(key) is None
