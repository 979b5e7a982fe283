"""The charge point's physical and logical state: connectors, transactions, reservations, meters.

The status a connector reports is never stored as the truth; it is derived from the state
(:func:`connector_status`), so that every path that changes the state (a plug, a stop, a fault, an
availability change) gets the right StatusNotification by asking "what is it now?".
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

# What the simulated hardware can do: a 3-phase 32 A connector and an EV that takes 16 A.
VOLTAGE = 230.0
PHASES = 3
CONNECTOR_MAX_A = 32.0
EV_MAX_A = 16.0


@dataclass
class Transaction:
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    meter_start: int
    started: datetime
    started_mono: float
    reservation_id: int | None = None
    transaction_id: int | None = None
    """The CSMS's id, known once StartTransaction.conf arrived (it may be queued while offline)."""
    start_failed: bool = False
    deauthorized: bool = False
    """StartTransaction.conf said the idTag is not valid and StopTransactionOnInvalidId is false:
    the transaction goes on without energy (SuspendedEVSE)."""
    stop_data: list[dict] = field(default_factory=list)
    """transactionData for StopTransaction (StopTxnSampledData / StopTxnAlignedData values)."""
    sampler: asyncio.Task | None = None
    id_known: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime
    timer: asyncio.TimerHandle | None = None

    def matches(self, id_tag: str, parent_id_tag: str | None) -> bool:
        if id_tag.casefold() == self.id_tag.casefold():
            return True
        return bool(self.parent_id_tag and parent_id_tag
                    and parent_id_tag.casefold() == self.parent_id_tag.casefold())


@dataclass
class PendingStart:
    """An authorized idTag waiting for the cable (ConnectionTimeOut runs meanwhile)."""
    id_tag: str
    parent_id_tag: str | None
    reservation_id: int | None
    timer: asyncio.TimerHandle | None = None
    charging_profile: dict | None = None
    floating: bool = False
    """Presented without a connectorId: the connector the cable goes into gets it."""


class Meter:
    """An energy register integrating the power drawn; the power follows the smart charging limit."""

    def __init__(self) -> None:
        self.energy_wh = 0.0
        self.power_w = 0.0
        self._since = time.monotonic()
        self.soc = 20.0

    def advance(self, power_w: float) -> None:
        """Account the energy drawn at the previous power up to now, then switch to ``power_w``."""
        now = time.monotonic()
        hours = (now - self._since) / 3600
        self.energy_wh += self.power_w * hours
        self.soc = min(100.0, self.soc + self.power_w * hours / 600)  # a 60 kWh battery
        self._since, self.power_w = now, power_w

    @property
    def register(self) -> int:
        return int(self.energy_wh)


@dataclass
class Connector:
    id: int
    operative: bool = True
    scheduled_operative: bool | None = None
    """A ChangeAvailability answered Scheduled, applied when the transaction ends."""
    fault: str | None = None
    ev_connected: bool = False
    cable_held: bool = False
    """A socket's cable left in after the EV side was disconnected: locked (``locked``,
    UnlockConnectorOnEVSideDisconnect=false) or, on a cable_stays rig, until remove_cable."""
    locked: bool = False
    lock_failure: bool = False
    unlock_failure: bool = False
    ev_suspended: bool = False
    finishing: bool = False
    pending: PendingStart | None = None
    transaction: Transaction | None = None
    reservation: Reservation | None = None
    meter: Meter = field(default_factory=Meter)
    reported: str | None = None
    """The last status the CSMS acknowledged."""
    queued: str | None = None
    """The last status handed to the outbox."""
    status_timer: asyncio.TimerHandle | None = None
    limit_a: float = CONNECTOR_MAX_A


def connector_status(c: Connector, cp_operative: bool, cp_reserved: bool) -> str:
    """ChargePointStatus of connector ``c`` (OCPP 1.6 section 4.9)."""
    if c.fault is not None:
        return "Faulted"
    tx = c.transaction
    if tx is not None:
        if tx.deauthorized or c.limit_a <= 0:
            return "SuspendedEVSE"
        if not c.ev_connected or c.ev_suspended:
            return "SuspendedEV"
        return "Charging"
    if not c.operative or not cp_operative:
        return "Unavailable"
    if c.finishing or c.cable_held:
        return "Finishing"
    if c.ev_connected or c.pending is not None:
        return "Preparing"
    if c.reservation is not None or cp_reserved:
        return "Reserved"
    return "Available"


def is_free(c: Connector, cp_operative: bool) -> bool:
    """Free for a new session: nothing plugged, nothing pending, no fault, operative."""
    return (c.fault is None and c.transaction is None and c.operative and cp_operative
            and not c.ev_connected and not c.cable_held and not c.finishing and c.pending is None)
