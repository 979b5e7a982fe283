"""The charge point's configuration keys (OCPP 1.6 chapter 9, and the security whitepaper's).

Every standard key has a type, an accessibility and the profile it belongs to. The keys a charge
point holds are: the PICS ``[configuration]`` values, plus the required keys of every claimed
profile that the PICS left out (with the defaults below), plus NumberOfConnectors and
SupportedFeatureProfiles taken from ``[features]``. A PICS key that is not standard is kept as a
read-write vendor key holding any string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MEASURANDS = (
    "Energy.Active.Export.Register", "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
    "Power.Active.Export", "Power.Active.Import", "Power.Offered", "Power.Reactive.Export",
    "Power.Reactive.Import", "Power.Factor", "Current.Import", "Current.Export", "Current.Offered",
    "Voltage", "Frequency", "Temperature", "SoC", "RPM",
)
PHASE_ROTATIONS = ("NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR")


def _int(minimum: int = 0) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        try:
            return int(value.strip()) >= minimum and value.strip().lstrip("-").isdigit()
        except ValueError:
            return False
    return ok


def _bool(value: str) -> bool:
    return value.strip().lower() in ("true", "false")


def _csl(options: tuple[str, ...] | None = None, max_key: str | None = None):
    """A comma separated list; items from ``options``; at most the value of ``max_key`` items."""
    def ok(value: str, store: "Configuration | None" = None) -> bool:
        items = [i.strip() for i in value.split(",") if i.strip()]
        if options is not None and any(i not in options for i in items):
            return False
        if max_key and store is not None and store.has(max_key):
            return len(items) <= store.int(max_key)
        return True
    ok.uses_store = True  # type: ignore[attr-defined]
    return ok


def _phase_rotation(value: str) -> bool:
    # "0.RST, 1.RST, 2.RTS": connector.rotation pairs.
    for item in filter(None, (i.strip() for i in value.split(","))):
        number, _, rotation = item.partition(".")
        if not number.isdigit() or rotation not in PHASE_ROTATIONS:
            return False
    return True


def _any(value: str) -> bool:
    return len(value) <= 500


@dataclass(frozen=True)
class KeyDef:
    readonly: bool
    check: Callable[..., bool]
    profile: str | None = None
    """The profile that requires the key, or None when the key is optional."""
    default: str | None = None
    write_only: bool = False


_I, _B = _int(), _bool
KEYS: dict[str, KeyDef] = {
    # Core (9.1)
    "AllowOfflineTxForUnknownId": KeyDef(False, _B, None, "false"),
    "AuthorizationCacheEnabled": KeyDef(False, _B, None, "true"),
    "AuthorizeRemoteTxRequests": KeyDef(False, _B, "Core", "true"),
    "BlinkRepeat": KeyDef(False, _I),
    "ClockAlignedDataInterval": KeyDef(False, _I, "Core", "0"),
    "ConnectionTimeOut": KeyDef(False, _int(1), "Core", "60"),
    "ConnectorPhaseRotation": KeyDef(False, _phase_rotation, "Core", "0.RST"),
    "ConnectorPhaseRotationMaxLength": KeyDef(True, _I),
    "GetConfigurationMaxKeys": KeyDef(True, _int(1), "Core", "50"),
    "HeartbeatInterval": KeyDef(False, _I, "Core", "300"),
    "LightIntensity": KeyDef(False, _I),
    "LocalAuthorizeOffline": KeyDef(False, _B, "Core", "true"),
    "LocalPreAuthorize": KeyDef(False, _B, "Core", "false"),
    "MaxEnergyOnInvalidId": KeyDef(False, _I),
    "MeterValuesAlignedData": KeyDef(False, _csl(MEASURANDS, "MeterValuesAlignedDataMaxLength"),
                                     "Core", "Energy.Active.Import.Register"),
    "MeterValuesAlignedDataMaxLength": KeyDef(True, _I),
    "MeterValuesSampledData": KeyDef(False, _csl(MEASURANDS, "MeterValuesSampledDataMaxLength"),
                                     "Core", "Energy.Active.Import.Register"),
    "MeterValuesSampledDataMaxLength": KeyDef(True, _I),
    "MeterValueSampleInterval": KeyDef(False, _I, "Core", "60"),
    "MinimumStatusDuration": KeyDef(False, _I),
    "NumberOfConnectors": KeyDef(True, _int(1), "Core"),
    "ResetRetries": KeyDef(False, _I, "Core", "1"),
    "StopTransactionOnEVSideDisconnect": KeyDef(False, _B, "Core", "true"),
    "StopTransactionOnInvalidId": KeyDef(False, _B, "Core", "true"),
    "StopTxnAlignedData": KeyDef(False, _csl(MEASURANDS, "StopTxnAlignedDataMaxLength"), "Core",
                                 ""),
    "StopTxnAlignedDataMaxLength": KeyDef(True, _I),
    "StopTxnSampledData": KeyDef(False, _csl(MEASURANDS, "StopTxnSampledDataMaxLength"), "Core",
                                 ""),
    "StopTxnSampledDataMaxLength": KeyDef(True, _I),
    "SupportedFeatureProfiles": KeyDef(True, _csl(), "Core"),
    "SupportedFeatureProfilesMaxLength": KeyDef(True, _I),
    "TransactionMessageAttempts": KeyDef(False, _int(1), "Core", "3"),
    "TransactionMessageRetryInterval": KeyDef(False, _I, "Core", "60"),
    "UnlockConnectorOnEVSideDisconnect": KeyDef(False, _B, "Core", "true"),
    "WebSocketPingInterval": KeyDef(False, _I),
    # Local Auth List Management (9.2)
    "LocalAuthListEnabled": KeyDef(False, _B, "LocalAuthListManagement", "true"),
    "LocalAuthListMaxLength": KeyDef(True, _I, "LocalAuthListManagement", "1000"),
    "SendLocalListMaxLength": KeyDef(True, _I, "LocalAuthListManagement", "100"),
    # Reservation (9.3)
    "ReserveConnectorZeroSupported": KeyDef(True, _B),
    # Smart Charging (9.4)
    "ChargeProfileMaxStackLevel": KeyDef(True, _I, "SmartCharging", "8"),
    "ChargingScheduleAllowedChargingRateUnit": KeyDef(True, _csl(("Current", "Power")),
                                                      "SmartCharging", "Current,Power"),
    "ChargingScheduleMaxPeriods": KeyDef(True, _I, "SmartCharging", "24"),
    "ConnectorSwitch3to1PhaseSupported": KeyDef(True, _B),
    "MaxChargingProfilesInstalled": KeyDef(True, _I, "SmartCharging", "10"),
    # Firmware Management
    "SupportedFileTransferProtocols": KeyDef(True, _csl(("FTP", "FTPS", "HTTP", "HTTPS", "SFTP"))),
    # Security whitepaper
    "AdditionalRootCertificateCheck": KeyDef(True, _B),
    "AuthorizationKey": KeyDef(False, lambda v: 16 <= len(v) <= 40, write_only=True),
    "CertificateSignedMaxChainSize": KeyDef(True, _I),
    "CertificateStoreMaxLength": KeyDef(True, _I),
    "CpoName": KeyDef(False, _any),
    "SecurityProfile": KeyDef(False, lambda v: v.strip() in ("0", "1", "2", "3")),
}
_VENDOR = KeyDef(False, _any)


@dataclass
class Entry:
    key: str
    value: str
    definition: KeyDef


class Configuration:
    """The keys a charge point holds. Lookups are case-sensitive, as OCPP keys are on the wire."""

    def __init__(self, declared: Mapping[str, str], profiles: tuple[str, ...], connectors: int,
                 extra: Mapping[str, str] | None = None):
        self._entries: dict[str, Entry] = {}
        for key, definition in KEYS.items():
            if definition.profile in profiles and definition.default is not None:
                self._entries[key] = Entry(key, definition.default, definition)
        for key, value in {**declared, **(extra or {})}.items():
            self._entries[key] = Entry(key, str(value), KEYS.get(key, _VENDOR))
        # These two describe the hardware and the firmware; [features] is the authority.
        self._entries["NumberOfConnectors"] = Entry("NumberOfConnectors", str(connectors),
                                                    KEYS["NumberOfConnectors"])
        self._entries["SupportedFeatureProfiles"] = Entry(
            "SupportedFeatureProfiles", ",".join(profiles), KEYS["SupportedFeatureProfiles"])

    def has(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str, default: str | None = None) -> str | None:
        entry = self._entries.get(key)
        return entry.value if entry is not None else default

    def int(self, key: str, default: int = 0) -> int:
        try:
            return int(self._entries[key].value.strip())
        except (KeyError, ValueError):
            return default

    def bool(self, key: str, default: bool = False) -> bool:
        entry = self._entries.get(key)
        if entry is None:
            return default
        return entry.value.strip().lower() == "true"

    def list(self, key: str) -> list[str]:
        return [i.strip() for i in (self.get(key) or "").split(",") if i.strip()]

    def keys(self) -> list[str]:
        return list(self._entries)

    def describe(self, key: str) -> dict | None:
        """The KeyValue of GetConfiguration.conf, or None for an unknown key. A write-only key
        (AuthorizationKey) is listed without its value."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        kv: dict[str, Any] = {"key": key, "readonly": entry.definition.readonly}
        if not entry.definition.write_only:
            kv["value"] = entry.value
        return kv

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration: returns the status (Accepted, Rejected, NotSupported)."""
        entry = self._entries.get(key)
        if entry is None:
            return "NotSupported"
        if entry.definition.readonly:
            return "Rejected"
        check = entry.definition.check
        valid = check(value, self) if getattr(check, "uses_store", False) else check(value)
        if not valid:
            return "Rejected"
        entry.value = value.strip() if entry.definition is not _VENDOR else value
        return "Accepted"

    def set(self, key: str, value: str) -> None:
        """Set a value from inside the charge point (the heartbeat interval a CSMS gave at boot)."""
        if key in self._entries:
            self._entries[key].value = value
        else:
            self._entries[key] = Entry(key, value, KEYS.get(key, _VENDOR))

    def snapshot(self) -> dict[str, str]:
        return {k: e.value for k, e in self._entries.items() if not e.definition.write_only}
