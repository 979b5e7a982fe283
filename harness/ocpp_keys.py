"""The standard OCPP 1.6 configuration keys (chapter 9, and the security whitepaper's), with the
type of their value: what the PICS lint judges a ``[configuration]`` table against.

Rules:

- A key spelt exactly as here is judged by its type: ``bool`` ("true"/"false", any case), ``int``
  (an integer >= 0), ``csl`` (a comma separated list; at most as many items as its
  ``...MaxLength`` key says when that key is declared too and not 0), ``str``.
- A key that is not here but nearly is (the same letters in another case, or difflib's ratio >= 0.85
  to one of these) is a misspelling, an error: ``HeartBeatInterval`` silently stays a vendor key on
  the device and the harness would wait for an interval nobody configured. A real vendor key that
  happens to look like a standard one is listed in PICS ``dut.vendor_keys`` and lets through.
- Any other key is a vendor key, kept as declared.

Independent of the reference simulator's own key table (harness/sim/cp/config.py), on purpose.
"""

from __future__ import annotations

import difflib
from typing import Literal

Kind = Literal["bool", "int", "csl", "str"]

KEYS: dict[str, Kind] = {
    # 9.1 Core
    "AllowOfflineTxForUnknownId": "bool", "AuthorizationCacheEnabled": "bool",
    "AuthorizeRemoteTxRequests": "bool", "BlinkRepeat": "int", "ClockAlignedDataInterval": "int",
    "ConnectionTimeOut": "int", "ConnectorPhaseRotation": "csl",
    "ConnectorPhaseRotationMaxLength": "int", "GetConfigurationMaxKeys": "int",
    "HeartbeatInterval": "int", "LightIntensity": "int", "LocalAuthorizeOffline": "bool",
    "LocalPreAuthorize": "bool", "MaxEnergyOnInvalidId": "int", "MeterValuesAlignedData": "csl",
    "MeterValuesAlignedDataMaxLength": "int", "MeterValuesSampledData": "csl",
    "MeterValuesSampledDataMaxLength": "int", "MeterValueSampleInterval": "int",
    "MinimumStatusDuration": "int", "NumberOfConnectors": "int", "ResetRetries": "int",
    "StopTransactionOnEVSideDisconnect": "bool", "StopTransactionOnInvalidId": "bool",
    "StopTxnAlignedData": "csl", "StopTxnAlignedDataMaxLength": "int",
    "StopTxnSampledData": "csl", "StopTxnSampledDataMaxLength": "int",
    "SupportedFeatureProfiles": "csl", "SupportedFeatureProfilesMaxLength": "int",
    "TransactionMessageAttempts": "int", "TransactionMessageRetryInterval": "int",
    "UnlockConnectorOnEVSideDisconnect": "bool", "WebSocketPingInterval": "int",
    # 9.2 Local Auth List Management
    "LocalAuthListEnabled": "bool", "LocalAuthListMaxLength": "int",
    "SendLocalListMaxLength": "int",
    # 9.3 Reservation
    "ReserveConnectorZeroSupported": "bool",
    # 9.4 Smart Charging
    "ChargeProfileMaxStackLevel": "int", "ChargingScheduleAllowedChargingRateUnit": "csl",
    "ChargingScheduleMaxPeriods": "int", "ConnectorSwitch3to1PhaseSupported": "bool",
    "MaxChargingProfilesInstalled": "int",
    # Security whitepaper (edition 2)
    "AdditionalRootCertificateCheck": "bool", "AuthorizationKey": "str",
    "CertificateSignedMaxChainSize": "int", "CertificateStoreMaxLength": "int",
    "CpoName": "str", "SecurityProfile": "int",
}

_BY_FOLDED = {key.casefold(): key for key in KEYS}


def near_standard_key(key: str) -> str | None:
    """The standard key ``key`` is most likely a misspelling of, or None (an exact standard key,
    or nothing close)."""
    if key in KEYS:
        return None
    same_letters = _BY_FOLDED.get(key.casefold())
    if same_letters:
        return same_letters
    close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.85)
    return close[0] if close else None


def value_problem(key: str, value: str, declared: dict[str, str]) -> str | None:
    """What is wrong with ``value`` for the standard ``key`` (None: nothing). ``declared``: the
    other keys of the same table, for a list's MaxLength."""
    kind = KEYS.get(key)
    text = value.strip()
    if kind == "bool" and text.casefold() not in ("true", "false"):
        return f"a boolean (true or false), found {value!r}"
    if kind == "int":
        digits = text[1:] if text.startswith("-") else text
        if not digits.isdigit():
            return f"an integer, found {value!r}"
        if text.startswith("-"):
            return f"an integer >= 0, found {value!r}"
    if kind == "csl":
        items = [item.strip() for item in text.split(",")]
        if text and any(not item for item in items):
            return f"a comma separated list without empty items, found {value!r}"
        limit = declared.get(f"{key}MaxLength")
        # A MaxLength of 0 beside a non-empty list is read as "no limit stated": a certified
        # charge point reports exactly that (examples/pics/ecarplug-ac-cpt-ocpp.toml).
        if limit is not None and limit.strip().isdigit() and 0 < int(limit) < len(items):
            return (f"at most {int(limit)} items ({key}MaxLength = {limit}), found "
                    f"{len(items)}")
    return None
