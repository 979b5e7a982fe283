"""TC_019_CS Retrieve configuration (Core; older documents TC_019_1_CS all keys, TC_019_2_CS one key).

Steps: GetConfiguration.req SupportedFeatureProfiles; GetConfiguration.req with no key (all keys);
GetConfiguration.req for one known and one unknown key.

Validations:
- SupportedFeatureProfiles: unknownKey empty, the key reported read-only, its value a comma separated
  list of OCPP 1.6 profile names containing Core and every profile the PICS claims.
- All keys: every required key of every claimed profile (OCPP 1.6 chapter 9) is reported, with the
  accessibility the specification gives it (R = readonly true, RW = readonly false;
  AuthorizeRemoteTxRequests may be either).
- One key: the known key comes back in configurationKey, the unknown one in unknownKey
  (section 5.8: "If the key list contains keys the Charge Point does not recognize, they are listed in
  unknownKey").

Readings chosen for the truncated copy: the OCTT's preparation AuthorizationKey=<Configured
AuthorizationKey> (if implemented) is not done -- the PICS has no such test value, and writing the
key changes the password of a charge point on security profile 1 or 2; instead, if AuthorizationKey
is reported it must come without a value (the security whitepaper makes it write-only). The third
request is the older TC_019_2 (one specific key); when the charge point's GetConfigurationMaxKeys
(as it reported it at step 4) is 1, the known and the unknown key are asked in two requests, each
judged the same way: within its declared limit a charge point must answer, beyond it a CALLERROR is
right, so asking for two would judge the harness, not the device.
"""

from harness.cases import case
from harness.pics import PROFILES
from harness.states.cs import booted, cite

READ_ONLY, READ_WRITE, EITHER = True, False, None
REQUIRED_KEYS = {
    "Core": {
        "AuthorizeRemoteTxRequests": EITHER, "ClockAlignedDataInterval": READ_WRITE,
        "ConnectionTimeOut": READ_WRITE, "ConnectorPhaseRotation": READ_WRITE,
        "GetConfigurationMaxKeys": READ_ONLY, "HeartbeatInterval": READ_WRITE,
        "LocalAuthorizeOffline": READ_WRITE, "LocalPreAuthorize": READ_WRITE,
        "MeterValuesAlignedData": READ_WRITE, "MeterValuesSampledData": READ_WRITE,
        "MeterValueSampleInterval": READ_WRITE, "NumberOfConnectors": READ_ONLY,
        "ResetRetries": READ_WRITE, "StopTransactionOnEVSideDisconnect": READ_WRITE,
        "StopTransactionOnInvalidId": READ_WRITE, "StopTxnAlignedData": READ_WRITE,
        "StopTxnSampledData": READ_WRITE, "SupportedFeatureProfiles": READ_ONLY,
        "TransactionMessageAttempts": READ_WRITE, "TransactionMessageRetryInterval": READ_WRITE,
        "UnlockConnectorOnEVSideDisconnect": READ_WRITE,
    },
    "LocalAuthListManagement": {
        "LocalAuthListEnabled": READ_WRITE, "LocalAuthListMaxLength": READ_ONLY,
        "SendLocalListMaxLength": READ_ONLY,
    },
    "SmartCharging": {
        "ChargeProfileMaxStackLevel": READ_ONLY, "ChargingScheduleAllowedChargingRateUnit": READ_ONLY,
        "ChargingScheduleMaxPeriods": READ_ONLY, "MaxChargingProfilesInstalled": READ_ONLY,
    },
}
UNKNOWN_KEY = "HarnessUnknownKey"


def _answer(response):
    return response.status if response.error is None else f"CALLERROR {response.error.error_code}"


@case("TC_019_CS", "Retrieve configuration", profile="Core",
      aliases=("TC_019_1_CS", "TC_019_2_CS"))
async def test_tc_019_cs_retrieve_configuration(cp, driver, pics):
    await booted(cp, pics)

    # 1. Harness: GetConfiguration.req key SupportedFeatureProfiles  2. Charge point: .conf
    first = await cp.call("GetConfiguration", {"key": ["SupportedFeatureProfiles"]})
    assert first.error is None, (
        f"step 2: GetConfiguration was answered with {_answer(first)} ({cite(first)})")
    assert not first.get("unknownKey"), (
        f"step 2: unknownKey is {first.get('unknownKey')}, expected empty ({cite(first)})")
    keys = {kv["key"]: kv for kv in first.get("configurationKey") or []}
    assert "SupportedFeatureProfiles" in keys, (
        f"step 2: GetConfiguration.conf does not report SupportedFeatureProfiles ({cite(first)})")
    profiles = [p.strip() for p in str(keys["SupportedFeatureProfiles"].get("value", "")).split(",")
                if p.strip()]
    assert "Core" in profiles, (
        f"step 2: SupportedFeatureProfiles is {profiles}, expected it to contain Core ({cite(first)})")
    unknown = [p for p in profiles if p not in PROFILES]
    assert not unknown, (
        f"step 2: SupportedFeatureProfiles names {unknown}, which are not OCPP 1.6 profiles "
        f"({', '.join(PROFILES)}) ({cite(first)})")
    missing = [p for p in pics.features.profiles if p not in profiles]
    assert not missing, (
        f"step 2: the PICS claims {missing}, but SupportedFeatureProfiles is {profiles} "
        f"({cite(first)})")

    # 3. Harness: GetConfiguration.req with no key  4. Charge point: .conf with every key
    every = await cp.call("GetConfiguration", {})
    assert every.error is None, (
        f"step 4: GetConfiguration was answered with {_answer(every)} ({cite(every)})")
    reported = {kv["key"]: kv for kv in every.get("configurationKey") or []}
    problems = []
    for profile in ("Core", *pics.features.profiles):
        for key, readonly in REQUIRED_KEYS.get(profile, {}).items():
            if key not in reported:
                problems.append(f"{key} ({profile}) is missing")
            elif readonly is not None and reported[key].get("readonly") is not readonly:
                problems.append(f"{key} ({profile}) has readonly={reported[key].get('readonly')}, "
                                f"expected {readonly} ({'R' if readonly else 'RW'})")
    if "AuthorizationKey" in reported and reported["AuthorizationKey"].get("value"):
        problems.append("AuthorizationKey is reported with its value; it is write-only")
    assert not problems, (
        f"step 4: GetConfiguration.conf (all keys): {'; '.join(problems)} ({cite(every)})")

    # 5. Harness: GetConfiguration.req for one known and one unknown key  6. Charge point: .conf
    # (one request each when the charge point's GetConfigurationMaxKeys, reported at step 4, is 1:
    # asking it for two would break its declared limit, and a CALLERROR would be its right answer)
    limit = _max_keys(reported.get("GetConfigurationMaxKeys"))
    asked = [["HeartbeatInterval", UNKNOWN_KEY]] if limit is None or limit >= 2 \
        else [["HeartbeatInterval"], [UNKNOWN_KEY]]
    known, unknown = [], []
    for keys in asked:
        one = await cp.call("GetConfiguration", {"key": keys})
        assert one.error is None, (
            f"step 6: GetConfiguration {keys} was answered with {_answer(one)} ({cite(one)})")
        known += [kv.get("key") for kv in one.get("configurationKey") or []]
        unknown += list(one.get("unknownKey") or [])
        assert known == ["HeartbeatInterval"], (
            f"step 6: configurationKey lists {known}, expected exactly ['HeartbeatInterval'] "
            f"({cite(one)})")
    assert unknown == [UNKNOWN_KEY], (
        f"step 6: unknownKey is {unknown}, expected [{UNKNOWN_KEY!r}] ({cite(one)})")


def _max_keys(kv: dict | None) -> int | None:
    """GetConfigurationMaxKeys as the charge point reported it (None if it is not a number: step 4
    already failed on a missing key)."""
    try:
        return int(str((kv or {}).get("value", "")).strip())
    except ValueError:
        return None
