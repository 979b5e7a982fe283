"""The physical and logical state of the charge point's connectors, and the status it implies
(OCPP 1.6 section 4.9, ChargePointStatus).

A connector is a socket with a cable lock: the EV driver's cable is ``cable_in`` at the charge point
side and ``ev_connected`` at the EV side. While a transaction runs the lock holds the cable, so an
EV-side disconnection leaves the cable in the socket until the lock opens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

CHARGING_POWER_W = 7400.0
"""What the EV draws while charging (single phase 32 A)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Authorization:
    id_tag: str
    info: dict
    """The IdTagInfo that authorized it (camelCase keys, as on the wire)."""
    at: float = field(default_factory=time.monotonic)
    """When the authorization succeeded: ConnectionTimeOut counts from here (section 9.1.9)."""


@dataclass
class Transaction:
    connector_id: int
    id_tag: str
    info: dict
    meter_start: int
    started: datetime
    transaction_id: int | None = None
    """Given by the central system in StartTransaction.conf (None until then, e.g. offline)."""
    deauthorized: bool = False
    """The central system answered the StartTransaction with an idTag status other than Accepted
    and StopTransactionOnInvalidId is false: energy delivery is suspended (SuspendedEVSE)."""
    abandoned: bool = False
    """Its StartTransaction.req could not be delivered: its other messages are dropped too."""

    @property
    def parent(self) -> str | None:
        return self.info.get("parentIdTag")


@dataclass
class Connector:
    connector_id: int
    cable_in: bool = False
    ev_connected: bool = False
    locked: bool = False
    ev_suspended: bool = False
    finishing: bool = False
    """A transaction ended and the cable has not been taken away yet."""
    operative: bool = True
    """Availability set by ChangeAvailability; it survives reboots (section 5.2)."""
    scheduled_inoperative: bool = False
    fault: str | None = None
    """A ChargePointErrorCode while the connector is faulted."""
    lock_fails: bool = False
    unlock_fails: bool = False
    authorization: Authorization | None = None
    transaction: Transaction | None = None
    energy_wh: float = 0.0
    _energy_since: float = field(default_factory=time.monotonic)
    reported: tuple[str, str] | None = None
    """(status, errorCode) last handed to the outbox."""
    delivered: tuple[str, str] | None = None
    """(status, errorCode) last acknowledged by the central system."""

    def delivering(self) -> bool:
        tx = self.transaction
        return (tx is not None and not tx.deauthorized and self.ev_connected
                and not self.ev_suspended and self.fault is None)

    def meter_wh(self) -> int:
        """The energy register, integrated over the time energy was delivered."""
        now = time.monotonic()
        if self.delivering():
            self.energy_wh += CHARGING_POWER_W * (now - self._energy_since) / 3600.0
        self._energy_since = now
        return int(self.energy_wh)

    def power_w(self) -> float:
        return CHARGING_POWER_W if self.delivering() else 0.0

    def status(self, station_operative: bool) -> tuple[str, str]:
        """(ChargePointStatus, ChargePointErrorCode) of the connector as it is now."""
        if self.fault is not None:
            return "Faulted", self.fault
        tx = self.transaction
        if tx is not None:
            if tx.deauthorized:
                return "SuspendedEVSE", "NoError"
            if not self.ev_connected or self.ev_suspended:
                return "SuspendedEV", "NoError"
            return "Charging", "NoError"
        if not (self.operative and station_operative):
            return "Unavailable", "NoError"
        if self.finishing and self.cable_in:
            return "Finishing", "NoError"
        if self.cable_in or self.authorization is not None:
            return "Preparing", "NoError"
        return "Available", "NoError"
