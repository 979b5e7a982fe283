"""The charge point's configuration keys: OCPP 1.6 section 9.1 (Core), with each key's accessibility
and type, so that GetConfiguration reports them as the specification says and ChangeConfiguration
rejects a value the key cannot hold.

Keys are compared case-insensitively (CiString50). The values survive power cycles and resets (they
live in the process, which plays the charge point's flash memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage")
"""What this charge point's meter can measure."""

PHASE_ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")


def _boolean(value: str) -> bool:
    return value.strip().lower() in ("true", "false")


def _seconds(value: str) -> bool:
    return value.strip().isdigit() and int(value) <= 86400 * 7


def _count(value: str) -> bool:
    return value.strip().isdigit() and int(value) <= 100


def _measurands(max_length: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        items = [m.strip() for m in value.split(",") if m.strip()]
        return len(items) <= max_length and all(m in MEASURANDS for m in items)
    return check


def _phase_rotation(value: str) -> bool:
    for item in value.split(","):
        connector, _, rotation = item.strip().partition(".")
        if not connector.isdigit() or rotation not in PHASE_ROTATIONS:
            return False
    return True


@dataclass
class Key:
    name: str
    value: str
    readonly: bool
    valid: Callable[[str], bool] | None = None


MAX_MEASURANDS = 4


def core_keys(connectors: int) -> list[Key]:
    rotation = ",".join(f"{c}.RST" for c in range(connectors + 1))
    m = _measurands(MAX_MEASURANDS)
    return [
        Key("AllowOfflineTxForUnknownId", "false", False, _boolean),
        Key("AuthorizationCacheEnabled", "true", False, _boolean),
        Key("AuthorizeRemoteTxRequests", "true", False, _boolean),
        Key("ClockAlignedDataInterval", "0", False, _seconds),
        Key("ConnectionTimeOut", "60", False, _seconds),
        Key("ConnectorPhaseRotation", rotation, False, _phase_rotation),
        Key("ConnectorPhaseRotationMaxLength", str(connectors + 1), True),
        Key("GetConfigurationMaxKeys", "50", True),
        Key("HeartbeatInterval", "300", False, _seconds),
        Key("LocalAuthorizeOffline", "true", False, _boolean),
        Key("LocalPreAuthorize", "false", False, _boolean),
        Key("MeterValuesAlignedData", "Energy.Active.Import.Register", False, m),
        Key("MeterValuesAlignedDataMaxLength", str(MAX_MEASURANDS), True),
        Key("MeterValuesSampledData", "Energy.Active.Import.Register", False, m),
        Key("MeterValuesSampledDataMaxLength", str(MAX_MEASURANDS), True),
        Key("MeterValueSampleInterval", "60", False, _seconds),
        Key("NumberOfConnectors", str(connectors), True),
        Key("ResetRetries", "1", False, _count),
        Key("StopTransactionOnEVSideDisconnect", "true", False, _boolean),
        Key("StopTransactionOnInvalidId", "true", False, _boolean),
        Key("StopTxnAlignedData", "", False, m),
        Key("StopTxnAlignedDataMaxLength", str(MAX_MEASURANDS), True),
        Key("StopTxnSampledData", "", False, m),
        Key("StopTxnSampledDataMaxLength", str(MAX_MEASURANDS), True),
        Key("SupportedFeatureProfiles", "Core", True),
        Key("TransactionMessageAttempts", "3", False, _count),
        Key("TransactionMessageRetryInterval", "5", False, _seconds),
        Key("UnlockConnectorOnEVSideDisconnect", "true", False, _boolean),
    ]


class Configuration:
    def __init__(self, connectors: int, overrides: dict[str, str] | None = None, *,
                 cache: bool = True):
        # Without an authorization cache the key does not exist (section 9.1: "if implemented").
        self._keys = {k.name.casefold(): k for k in core_keys(connectors)
                      if cache or k.name != "AuthorizationCacheEnabled"}
        for name, value in (overrides or {}).items():
            key = self._keys.get(name.casefold())
            if key is not None:  # the PICS may list keys of other profiles: not this device's
                key.value = value
        self.listeners: list[Callable[[str], None]] = []

    def get(self, name: str) -> str:
        return self._keys[name.casefold()].value

    def flag(self, name: str) -> bool:
        return self.get(name).strip().lower() == "true"

    def number(self, name: str) -> int:
        return int(self.get(name))

    def measurands(self, name: str) -> list[str]:
        return [m.strip() for m in self.get(name).split(",") if m.strip()]

    def report(self, names: list[str] | None) -> tuple[list[dict], list[str]]:
        """GetConfiguration: (configurationKey, unknownKey); no names means every key."""
        if not names:
            chosen, unknown = list(self._keys.values()), []
        else:
            chosen = [self._keys[n.casefold()] for n in names if n.casefold() in self._keys]
            unknown = [n for n in names if n.casefold() not in self._keys]
        return ([{"key": k.name, "readonly": k.readonly, "value": k.value} for k in chosen],
                unknown)

    def changeable(self) -> dict[str, str]:
        """The values ChangeConfiguration can set, to be kept across a restart of the firmware."""
        return {k.name: k.value for k in self._keys.values() if not k.readonly}

    def restore(self, values: dict[str, str]) -> None:
        """Values kept by :meth:`changeable` before the firmware restarted (unknown ones ignored)."""
        for name, value in values.items():
            key = self._keys.get(str(name).casefold())
            if key is not None and not key.readonly and isinstance(value, str):
                key.value = value

    def flag_if_present(self, name: str, default: bool = False) -> bool:
        key = self._keys.get(name.casefold())
        return default if key is None else key.value.strip().lower() == "true"

    def set_internal(self, name: str, value: str) -> None:
        """A value the charge point sets itself (HeartbeatInterval from BootNotification.conf)."""
        self._keys[name.casefold()].value = value
        for listener in self.listeners:
            listener(name)

    def change(self, name: str, value: str) -> str:
        """ChangeConfiguration: Accepted, Rejected (read-only or a value the key cannot hold) or
        NotSupported (no such key)."""
        key = self._keys.get(name.casefold())
        if key is None:
            return "NotSupported"
        if key.readonly or (key.valid is not None and not key.valid(value)):
            return "Rejected"
        key.value = value.strip()
        for listener in self.listeners:
            listener(key.name)
        return "Accepted"
