"""PICS loading: problems name the file and the dotted key; defaults and the embedded PICS load."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from harness import pics
from harness.pics import PicsError

MINIMAL_CS = """\
[dut]
sut = "cs"
vendor = "Acme"
model = "Wallbox 1"
firmware_version = "1.2.3"
charge_point_id = "CP001"

[features]
profiles = ["Core"]

[timing]
response_timeout = 30
triggered_function_timeout = 20
remote_start_response = 5

[id_tags]
valid = "TAG1"
invalid = "BADTAG"
"""

MINIMAL_CSMS = MINIMAL_CS.replace('sut = "cs"', 'sut = "csms"\ncsms_url = "ws://backend:8080/ocpp"'
                                  ).replace("remote_start_response = 5", "authorize_response = 3")


def write(tmp_path: Path, text: str, name: str = "dut.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> PicsError:
    path = write(tmp_path, text)
    with pytest.raises(PicsError) as info:
        pics.load(path)
    assert str(path) in str(info.value), "every problem must name the file"
    return info.value


def test_minimal_cs_pics_gets_the_documented_defaults(tmp_path):
    p = pics.load(write(tmp_path, MINIMAL_CS))
    assert p.dut == pics.Dut("cs", "Acme", "Wallbox 1", "1.2.3", "CP001")
    assert p.features == pics.Features(
        profiles=("Core",), connectors=1, fixed_cable=False, communication="Ethernet",
        rfid_readers=1, authorization_cache=False, local_auth_list=False,
        reserve_connector_zero=False, file_transfer_protocols=(), cable="socket_with_lock",
        unplug_at_ev="cable_leaves", backup_power=None)
    assert p.features.has_lock and p.features.unlock_answer == "Unlocked"
    assert p.timing == pics.Timing(30.0, 20.0, 5.0, None, boot_timeout=120.0,
                                   max_time_deviation=4.0)
    assert isinstance(p.timing.response_timeout, float)
    assert p.id_tags == pics.IdTags("TAG1", None, "BADTAG", None, None, None)
    assert p.security == pics.Security(0, None, None, None, None)
    assert dict(p.configuration) == {}
    assert p.source == (tmp_path / "dut.toml").resolve()
    assert p.supports("Core") and not p.supports("SmartCharging")


def test_minimal_csms_pics_loads(tmp_path):
    p = pics.load(write(tmp_path, MINIMAL_CSMS))
    assert p.dut.sut == "csms" and p.dut.csms_url == "ws://backend:8080/ocpp"
    assert p.timing.authorize_response == 3.0 and p.timing.remote_start_response is None


@pytest.mark.parametrize("sut", ["cs", "csms"])
def test_embedded_simulator_pics_load_full_featured(sut):
    path = pics.default_path(sut)
    assert path.name == f"default_{sut}.toml" and path.parent.name == "sim"
    p = pics.load(path)
    assert p.dut.sut == sut
    assert set(p.features.profiles) == set(pics.PROFILES)
    assert p.features.connectors == 2 and not p.features.fixed_cable
    assert p.features.authorization_cache and p.features.local_auth_list
    assert p.features.reserve_connector_zero
    assert p.features.file_transfer_protocols == ("HTTP", "FTP")
    # The simulated charge point's triggered time is shorter: it sets the quiet periods of the
    # cs suite (harness/sim/default_cs.toml [timing]).
    assert (p.timing.response_timeout, p.timing.triggered_function_timeout,
            p.timing.remote_start_response, p.timing.authorize_response,
            p.timing.boot_timeout) == (5, 2 if sut == "cs" else 5, 5, 5, 10)
    for key in ("HeartbeatInterval", "MeterValuesSampledData", "LocalAuthListMaxLength",
                "ChargeProfileMaxStackLevel", "ConnectorPhaseRotation", "WebSocketPingInterval",
                "ReserveConnectorZeroSupported", "StopTxnAlignedData", "BlinkRepeat"):
        assert isinstance(p.configuration[key], str), key
    assert p.configuration["NumberOfConnectors"] == "2"
    if sut == "csms":
        assert p.dut.csms_url == "ws://127.0.0.1:0/ocpp"


def test_default_path_refuses_an_unknown_sut():
    with pytest.raises(ValueError, match="'ev'"):
        pics.default_path("ev")


def test_unknown_key_names_the_dotted_key_and_suggests(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace('profiles = ["Core"]',
                                                'profiles = ["Core"]\nconectors = 2'))
    assert "features.conectors: unknown key (did you mean 'connectors'?)" in str(err)


def test_unknown_table_is_an_error(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS + "\n[timings]\nresponse_timeout = 3\n")
    assert "timings: unknown table (did you mean 'timing'?)" in str(err)


@pytest.mark.parametrize("value, found", [('"2"', "'2' (a string)"), ("true", "True (a boolean)"),
                                          ("1.5", "1.5 (a float)")])
def test_wrong_type_says_expected_and_found(tmp_path, value, found):
    err = error_of(tmp_path, MINIMAL_CS.replace('profiles = ["Core"]',
                                                f'profiles = ["Core"]\nconnectors = {value}'))
    assert f"features.connectors: expected an integer >= 1, found {found}" in str(err)


def test_missing_timing_value_names_the_key(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace("response_timeout = 30\n", ""))
    assert re.search(r"dut\.toml: timing\.response_timeout: required key is missing; expected a "
                     r"positive number of seconds", str(err))


@pytest.mark.parametrize("value", ['"30"', "0", "-1", "nan", "inf", "true"])
def test_malformed_timing_value_names_the_key(tmp_path, value):
    err = error_of(tmp_path, MINIMAL_CS.replace("response_timeout = 30",
                                                f"response_timeout = {value}"))
    assert err.problems[0].startswith("timing.response_timeout: expected a positive number")


@pytest.mark.parametrize("key", ["response_timeout", "triggered_function_timeout",
                                 "remote_start_response", "authorize_response", "boot_timeout",
                                 "max_time_deviation"])
@pytest.mark.parametrize("value", ['"5s"', "0", "-2.5", "nan", "-inf", "false", "[5]",
                                   "{ s = 5 }"])
def test_every_malformed_timing_value_names_its_key(tmp_path, key, value):
    """Every [timing] value the measurements are judged against: a wrong one is named, the
    required and the optional ones alike (an optional one is not silently defaulted)."""
    timing_table = "\n".join(f"{k} = {value if k == key else 7}" for k in (
        "response_timeout", "triggered_function_timeout", "remote_start_response",
        "authorize_response", "boot_timeout", "max_time_deviation"))
    text = MINIMAL_CS.replace("response_timeout = 30\ntriggered_function_timeout = 20\n"
                              "remote_start_response = 5", timing_table)
    assert timing_table in text
    err = error_of(tmp_path, text)
    assert err.problems == (f"timing.{key}: expected a positive number of seconds (integer or "
                            f"float), found {err.problems[0].split('found ', 1)[1]}",)


def test_sut_specific_timing_and_url_are_required(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace("remote_start_response = 5\n", ""))
    assert "timing.remote_start_response: required key is missing" in str(err)
    err = error_of(tmp_path, MINIMAL_CSMS.replace("authorize_response = 3\n", ""))
    assert "timing.authorize_response: required key is missing" in str(err)
    err = error_of(tmp_path, MINIMAL_CSMS.replace('csms_url = "ws://backend:8080/ocpp"\n', ""))
    assert "dut.csms_url: required key is missing" in str(err)


def test_bad_profile_name_is_named_with_a_suggestion(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace('["Core"]', '["Core", "Reservations"]'))
    assert ("features.profiles: unknown feature profile 'Reservations' (did you mean "
            "'Reservation'?)") in str(err)


def test_core_is_required_and_duplicates_refused(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace('["Core"]', '["SmartCharging"]'))
    assert "features.profiles: Core is required" in str(err)
    err = error_of(tmp_path, MINIMAL_CS.replace('["Core"]', '["Core", "Core"]'))
    assert "features.profiles: Core listed more than once" in str(err)


def test_id_tag_too_long_is_named(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace('valid = "TAG1"', f'valid = "{"X" * 21}"'))
    assert "id_tags.valid: at most 20 characters, found 21" in str(err)


def test_id_tags_compare_case_insensitively(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace('invalid = "BADTAG"', 'invalid = "tag1"'))
    assert "id_tags.invalid: 'tag1' is the same idTag as id_tags.valid" in str(err)


def test_every_problem_is_reported_at_once(tmp_path):
    text = MINIMAL_CS.replace('vendor = "Acme"', "vendor = 7").replace(
        "triggered_function_timeout = 20", 'triggered_function_timeout = "20s"')
    err = error_of(tmp_path, text)
    assert [p.split(":")[0] for p in err.problems] == ["dut.vendor",
                                                      "timing.triggered_function_timeout"]
    assert str(err).count(str(tmp_path / "dut.toml")) == 2


def test_vendor_longer_than_bootnotification_allows_only_matters_for_a_charge_point(tmp_path):
    long = 'vendor = "A Very Long Vendor Name Inc"'
    err = error_of(tmp_path, MINIMAL_CS.replace('vendor = "Acme"', long))
    assert "dut.vendor: at most 20 characters" in str(err)
    assert pics.load(write(tmp_path, MINIMAL_CSMS.replace('vendor = "Acme"', long))).dut.vendor


def test_identity_cannot_break_the_url(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace('"CP001"', '"site/CP 1"'))
    assert "dut.charge_point_id: the charge point identity is the last segment" in str(err)


def test_feature_cross_checks(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS.replace(
        'profiles = ["Core"]', 'profiles = ["Core"]\nlocal_auth_list = true\n'
        'reserve_connector_zero = true'))
    assert "features.local_auth_list: true, but features.profiles does not claim" in str(err)
    assert "features.reserve_connector_zero: true, but" in str(err)
    err = error_of(tmp_path, MINIMAL_CS.replace('["Core"]', '["Core", "FirmwareManagement"]'))
    assert "features.file_transfer_protocols: required key is missing" in str(err)
    err = error_of(tmp_path, MINIMAL_CS.replace('profiles = ["Core"]', 'profiles = ["Core"]\n'
                                                'file_transfer_protocols = ["HTTP", "SCP"]'))
    assert "features.file_transfer_protocols: unknown protocol 'SCP'" in str(err)


def _features(tmp_path, lines: str) -> pics.Features:
    return pics.load(write(tmp_path, MINIMAL_CS.replace('profiles = ["Core"]',
                                                        'profiles = ["Core"]\n' + lines))).features


def test_hardware_model_cable_kinds(tmp_path):
    fixed = _features(tmp_path, "fixed_cable = true")
    assert fixed.cable == "fixed" and fixed.fixed_cable and not fixed.has_lock
    assert fixed.unlock_answer == "NotSupported"
    assert fixed.nothing_left_after_unplug(False)
    assert _features(tmp_path, 'cable = "fixed"').fixed_cable
    free = _features(tmp_path, 'cable = "socket_without_lock"')
    assert not free.fixed_cable and not free.has_lock and free.unlock_answer == "NotSupported"
    # no lock holds the cable: it leaves with the EV whatever UnlockConnectorOnEVSideDisconnect says
    assert free.nothing_left_after_unplug(False) and free.nothing_left_after_unplug(True)
    locked = _features(tmp_path, 'cable = "socket_with_lock"')
    assert locked.nothing_left_after_unplug(True) and not locked.nothing_left_after_unplug(False)
    stays = _features(tmp_path, 'cable = "socket_without_lock"\nunplug_at_ev = "cable_stays"')
    assert not stays.nothing_left_after_unplug(True)
    assert _features(tmp_path, "backup_power = true").backup_power is True
    assert _features(tmp_path, "backup_power = false").backup_power is False


def test_hardware_model_problems_name_the_key(tmp_path):
    def problem(lines: str) -> str:
        return str(error_of(tmp_path, MINIMAL_CS.replace('profiles = ["Core"]',
                                                         'profiles = ["Core"]\n' + lines)))
    text = problem('cable = "socket"')
    assert ("features.cable: expected one of 'socket_with_lock', 'socket_without_lock', 'fixed', "
            "found 'socket'") in text
    assert "features.fixed_cable: true disagrees with features.cable = 'socket_with_lock'" in \
        problem('fixed_cable = true\ncable = "socket_with_lock"')
    assert "features.unplug_at_ev: 'cable_stays', but features.cable is 'fixed'" in \
        problem('cable = "fixed"\nunplug_at_ev = "cable_stays"')
    assert "features.unplug_at_ev: expected one of 'cable_leaves', 'cable_stays'" in \
        problem('unplug_at_ev = "leaves"')
    assert "features.backup_power: expected a boolean" in problem('backup_power = "yes"')


def test_configuration_values_become_wire_strings(tmp_path):
    p = pics.load(write(tmp_path, MINIMAL_CS + """
[configuration]
HeartbeatInterval = 20
AuthorizeRemoteTxRequests = true
LocalPreAuthorize = false
SomeVendorRatio = 0.5
MeterValuesSampledData = ["Energy.Active.Import.Register", "Voltage"]
ConnectorPhaseRotation = "0.RST, 1.RST"
NumberOfConnectors = 1
SupportedFeatureProfiles = "Core"
"""))
    assert dict(p.configuration) == {
        "HeartbeatInterval": "20", "AuthorizeRemoteTxRequests": "true",
        "LocalPreAuthorize": "false", "SomeVendorRatio": "0.5",
        "MeterValuesSampledData": "Energy.Active.Import.Register,Voltage",
        "ConnectorPhaseRotation": "0.RST, 1.RST", "NumberOfConnectors": "1",
        "SupportedFeatureProfiles": "Core"}
    with pytest.raises(TypeError):
        p.configuration["HeartbeatInterval"] = "5"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.timing = p.timing  # type: ignore[misc]
    hash(p)


def test_configuration_problems_name_the_key(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS + """
[configuration]
HeartbeatInterval = 20
heartbeatinterval = 30
BadValue = { a = 1 }
NumberOfConnectors = "2"
SupportedFeatureProfiles = "Core,Reservation"
""")
    text = str(err)
    assert ("configuration.heartbeatinterval: the same key as configuration.HeartbeatInterval"
            in text)
    assert "configuration.BadValue: expected a string, boolean, integer, float or array" in text
    assert "configuration.NumberOfConnectors: '2' disagrees with features.connectors = 1" in text
    assert "configuration.SupportedFeatureProfiles: 'Core,Reservation' disagrees" in text


def test_security_files_resolve_relative_to_the_pics(tmp_path):
    import trustme

    (tmp_path / "certs").mkdir()
    issued = trustme.CA().issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(tmp_path / "certs" / "server.pem")
    issued.private_key_pem.write_to_path(tmp_path / "certs" / "server.key")
    p = pics.load(write(tmp_path, MINIMAL_CS + """
[security]
profile = 2
basic_auth_password = "0123456789abcdef"
cert_file = "certs/server.pem"
key_file = "certs/server.key"
"""))
    assert p.security.cert_file == str((tmp_path / "certs/server.pem").resolve())
    assert p.security.ca_file is None


def test_security_requirements_by_profile_and_role(tmp_path):
    err = error_of(tmp_path, MINIMAL_CS + '[security]\nprofile = 2\ncert_file = "nope.pem"\n')
    text = str(err)
    assert "security.basic_auth_password: required key is missing" in text
    assert "security.cert_file: file" in text and "nope.pem' does not exist" in text
    assert "security.key_file: required key is missing" in text
    err = error_of(tmp_path, MINIMAL_CSMS + "[security]\nprofile = 4\n")
    assert "security.profile: expected an integer from 0 to 3, found 4" in str(err)
    err = error_of(tmp_path, MINIMAL_CSMS + '[security]\nprofile = 2\nbasic_auth_password = "p"\n')
    assert "dut.csms_url: security.profile 2 needs a wss:// URL" in str(err)


def test_unreadable_and_malformed_files_are_pics_errors(tmp_path):
    with pytest.raises(PicsError, match=r"missing\.toml: cannot read the PICS"):
        pics.load(tmp_path / "missing.toml")
    err = error_of(tmp_path, "[dut\nsut = 'cs'\n")
    assert "not valid TOML" in str(err)
    err = error_of(tmp_path, "")
    assert {p.split(":")[0] for p in err.problems} == {"dut", "features", "timing", "id_tags"}


def test_supports_refuses_unknown_profile_names(tmp_path):
    p = pics.load(write(tmp_path, MINIMAL_CS))
    with pytest.raises(ValueError, match="unknown feature profile 'core'"):
        p.supports("core")


def test_charge_point_tls_files_may_be_left_to_the_run_pki(tmp_path):
    """SUT cs, profiles 2 and 3: no files -> the run's PKI (harness/pki.py) serves wss://; a lab's
    certificate and key go together."""
    for profile in (2, 3):
        p = pics.load(write(tmp_path, MINIMAL_CS + f'[security]\nprofile = {profile}\n'
                            + ('basic_auth_password = "0123456789abcdef"\n' if profile == 2
                               else "")))
        assert (p.security.profile, p.security.cert_file, p.security.ca_file) == (profile, None,
                                                                                None)
    err = error_of(tmp_path, MINIMAL_CS + '[security]\nprofile = 3\nkey_file = "k.pem"\n')
    assert "security.cert_file: required key is missing" in str(err)


def test_central_system_profile_3_client_certificate_both_or_neither(tmp_path):
    """SUT csms, profile 3: no client certificate files -> loads (the embedded simulator's run
    makes them; harness/plugin.py refuses it against a device of yours); one without the other is
    an error."""
    csms = MINIMAL_CSMS.replace("ws://backend", "wss://backend")
    p = pics.load(write(tmp_path, csms + '[security]\nprofile = 3\n'))
    assert (p.security.profile, p.security.cert_file, p.security.key_file) == (3, None, None)
    (tmp_path / "c.pem").write_text("x")
    err = error_of(tmp_path, csms + '[security]\nprofile = 3\ncert_file = "c.pem"\n')
    assert "security.key_file: required key is missing" in str(err)


def test_security_supported_profiles_and_cipher_suites(tmp_path):
    """[security] supported_profiles (TC_083_CS) and cipher_suites (TC_086_CS): defaults, and
    errors naming the key."""
    base = MINIMAL_CS + '[security]\nprofile = 2\nbasic_auth_password = "0123456789abcdef"\n'
    p = pics.load(write(tmp_path, base))
    assert p.security.supported_profiles == ()
    assert p.security.cipher_suites == ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
    p = pics.load(write(tmp_path, base + 'supported_profiles = [3]\ncipher_suites = '
                        '["TLS_RSA_WITH_AES_128_GCM_SHA256"]\n'))
    assert p.security.supported_profiles == (3,)
    assert p.security.cipher_suites == ("TLS_RSA_WITH_AES_128_GCM_SHA256",)
    text = str(error_of(tmp_path, base + 'supported_profiles = [1, 4]\n'))
    assert "security.supported_profiles: expected an array of security profiles" in text
    text = str(error_of(tmp_path, base + 'supported_profiles = [1]\n'))
    assert "security.supported_profiles: [1] is below security.profile 2" in text
    text = str(error_of(tmp_path, base + 'cipher_suites = ["TLS_RSA_WITH_AES_128_GCM_SHA384"]\n'))
    assert "security.cipher_suites: unknown cipher suite 'TLS_RSA_WITH_AES_128_GCM_SHA384'" in text
