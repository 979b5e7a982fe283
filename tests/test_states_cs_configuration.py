"""harness.states.cs configuration state: GetConfiguration split by the device's
GetConfigurationMaxKeys, and keys already changed put back when a later key ends the preparation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.session import Stash
from harness.states.cs import configured, read_configuration, set_configuration
from harness.verdicts import Inconclusive, NotApplicable


class Answer:
    def __init__(self, action: str, payload: dict | None = None, error: str | None = None):
        self.action, self.payload, self.line = action, payload, 1
        self.error = SimpleNamespace(error_code=error) if error else None

    @property
    def status(self):
        return (self.payload or {}).get("status")

    def get(self, key, default=None):
        return (self.payload or {}).get(key, default)


class Device:
    """A charge point's configuration, answering like the reference simulator: more keys than
    GetConfigurationMaxKeys in one request is an OccurenceConstraintViolation."""

    def __init__(self, values: dict[str, str], *, not_supported=(), rejected=(), report_max=True):
        self.values, self.not_supported, self.rejected = dict(values), set(not_supported), set(rejected)
        self.report_max = report_max
        self.calls: list[tuple[str, dict]] = []
        self.connected = True
        self.stash = Stash()  # a Session's: the states keep GetConfigurationMaxKeys there

    async def call(self, action: str, payload: dict, **_):
        self.calls.append((action, payload))
        if action == "GetConfiguration":
            keys = payload.get("key") or list(self.values)
            limit = int(self.values.get("GetConfigurationMaxKeys", "0"))
            if limit and len(keys) > limit:
                return Answer(action, error="OccurenceConstraintViolation")
            known = [{"key": k, "readonly": False, "value": self.values[k]} for k in keys
                     if k in self.values and (self.report_max or k != "GetConfigurationMaxKeys")]
            unknown = [k for k in keys if k not in self.values]
            return Answer(action, {"configurationKey": known, "unknownKey": unknown})
        key, value = payload["key"], payload["value"]
        if key in self.not_supported:
            return Answer(action, {"status": "NotSupported"})
        if key in self.rejected:
            return Answer(action, {"status": "Rejected"})
        self.values[key] = value
        return Answer(action, {"status": "Accepted"})

    def asked(self) -> list[list[str]]:
        return [p["key"] for a, p in self.calls if a == "GetConfiguration"]


def pics(**configuration):
    return SimpleNamespace(configuration=configuration)


BASE = {"GetConfigurationMaxKeys": "1", "LocalAuthorizeOffline": "false",
        "LocalPreAuthorize": "false", "MinimumStatusDuration": "5"}


async def test_a_preparation_asks_for_no_more_keys_than_the_device_takes():
    device = Device(BASE)
    config = await set_configuration(device, pics(), {"LocalAuthorizeOffline": "true",
                                                      "LocalPreAuthorize": "true"},
                                     {"MinimumStatusDuration": "0"})
    assert config.applied == {"LocalAuthorizeOffline": "true", "LocalPreAuthorize": "true",
                              "MinimumStatusDuration": "0"}
    assert config.original["MinimumStatusDuration"] == "5"
    assert device.asked() == [["GetConfigurationMaxKeys"], ["LocalAuthorizeOffline"],
                              ["LocalPreAuthorize"], ["MinimumStatusDuration"]]


async def test_the_limit_is_read_once_per_session():
    device = Device({**BASE, "GetConfigurationMaxKeys": "2"})
    for _ in range(2):
        async with configured(device, pics(), {"LocalAuthorizeOffline": "true"},
                              {"LocalPreAuthorize": "true", "MinimumStatusDuration": "0"}):
            pass
    assert device.asked().count(["GetConfigurationMaxKeys"]) == 1
    assert ["LocalAuthorizeOffline", "LocalPreAuthorize"] in device.asked()
    assert device.values == {**BASE, "GetConfigurationMaxKeys": "2"}, "not restored"


async def test_the_pics_value_counts_when_the_device_does_not_report_one():
    device = Device({**BASE, "GetConfigurationMaxKeys": "2"}, report_max=False)
    await set_configuration(device, pics(GetConfigurationMaxKeys="2"),
                            {"LocalAuthorizeOffline": "true", "LocalPreAuthorize": "true",
                             "MinimumStatusDuration": "0"})
    assert device.asked()[1:] == [["LocalAuthorizeOffline", "LocalPreAuthorize"],
                                  ["MinimumStatusDuration"]]


async def test_without_a_limit_one_request_reads_every_key():
    device = Device({k: v for k, v in BASE.items() if k != "GetConfigurationMaxKeys"})
    known, unknown, _ = await read_configuration(device, ["LocalPreAuthorize", "Nope"])
    assert list(known) == ["LocalPreAuthorize"] and unknown == ["Nope"]
    assert device.asked() == [["LocalPreAuthorize", "Nope"]]


@pytest.mark.parametrize("refusal, verdict", [("not_supported", Inconclusive),
                                              ("na", NotApplicable)])
async def test_keys_already_changed_go_back_when_a_later_key_ends_the_preparation(refusal, verdict):
    device = Device(BASE, not_supported={"LocalPreAuthorize"})
    with pytest.raises(verdict):
        async with configured(device, pics(), {"LocalAuthorizeOffline": "true",
                                               "LocalPreAuthorize": "true"},
                              na_if_missing=("LocalPreAuthorize",) if refusal == "na" else ()):
            pytest.fail("the block must not run")
    assert device.values["LocalAuthorizeOffline"] == "false", (
        "LocalAuthorizeOffline was left changed: " + str(device.calls))


async def test_an_optional_authorize_that_came_is_taken_so_that_a_later_silence_holds():
    from harness.session import DeviceTimeout
    from harness.states.cs import take_authorize

    class Cp:
        def __init__(self):
            sent = SimpleNamespace(action="Authorize", payload={"idTag": "valid1"})
            self.requests, self.backlog = [sent], [sent]

        async def expect(self, action, where, *, timeout):
            for r in self.backlog:
                if r.action == action and where(r.payload):
                    self.backlog.remove(r)
                    return r
            raise DeviceTimeout("nothing")

    cp = Cp()
    await take_authorize(cp, "VALID1")
    assert cp.backlog == []
    await take_authorize(cp, "VALID1")  # already taken: nothing to do, no error
