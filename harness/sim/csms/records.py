"""What the reference CSMS knows: one record per charge point identity, and the idTag table."""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import Any

from harness import clock


@dataclass
class ChargePointRecord:
    id: str
    link: Any = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    registration: str | None = None
    connections: int = 0
    boots_on_link: int = 0
    """BootNotifications received on the current connection."""
    remote: str | None = None
    path: str | None = None
    subprotocol: str | None = None
    boots: list[dict] = field(default_factory=list)
    statuses: dict[int, dict] = field(default_factory=dict)
    status_history: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    heartbeats: int = 0
    last_heartbeat: str | None = None
    authorizations: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    meter_values: collections.deque = field(default_factory=lambda: collections.deque(maxlen=500))
    data_transfers: list[dict] = field(default_factory=list)
    firmware_statuses: list[str] = field(default_factory=list)
    awaiting_triggered: set[str] = field(default_factory=set)
    """Messages it triggered after a boot and waits for before it takes an operator command
    (legal behaviour trigger_after_boot)."""
    diagnostics_statuses: list[str] = field(default_factory=list)
    security_events: list[dict] = field(default_factory=list)

    def to_json(self, transactions: list[dict]) -> dict:
        return {
            "connected": self.connected.is_set(), "registration": self.registration,
            "connections": self.connections, "remote": self.remote, "path": self.path,
            "subprotocol": self.subprotocol, "bootNotifications": self.boots[-10:],
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "heartbeats": self.heartbeats, "lastHeartbeat": self.last_heartbeat,
            "authorizations": list(self.authorizations)[-20:],
            "transactions": transactions,
            "meterValues": len(self.meter_values),
            "lastMeterValues": list(self.meter_values)[-5:],
            "dataTransfers": self.data_transfers[-20:],
            "firmwareStatuses": self.firmware_statuses[-20:],
            "diagnosticsStatuses": self.diagnostics_statuses[-20:],
            "securityEvents": self.security_events[-20:],
        }


@dataclass
class TransactionRecord:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    started: str
    reservation_id: int | None = None
    status: str = "Accepted"
    meter_stop: int | None = None
    stopped: str | None = None
    reason: str | None = None
    stop_id_tag: str | None = None
    meter_values: int = 0

    @property
    def open(self) -> bool:
        return self.stopped is None

    def to_json(self) -> dict:
        return {"transactionId": self.transaction_id, "chargePointId": self.charge_point_id,
                "connectorId": self.connector_id, "idTag": self.id_tag,
                "idTagStatus": self.status, "meterStart": self.meter_start,
                "started": self.started, "reservationId": self.reservation_id,
                "meterStop": self.meter_stop, "stopped": self.stopped, "reason": self.reason,
                "stopIdTag": self.stop_id_tag, "meterValues": self.meter_values}


class IdTagTable:
    """idTag -> IdTagInfo, compared without case (idTags are case-insensitive, section 7.xx).
    Built from the PICS [id_tags]: valid and valid2 Accepted (with the parent as parentIdTag),
    invalid Invalid, expired Expired, blocked Blocked, the parent itself Accepted."""

    def __init__(self, id_tags: Any):
        self._table: dict[str, dict] = {}
        parent = getattr(id_tags, "parent", None)
        for attr, status in (("valid", "Accepted"), ("valid2", "Accepted"),
                             ("invalid", "Invalid"), ("expired", "Expired"),
                             ("blocked", "Blocked"), ("parent", "Accepted")):
            tag = getattr(id_tags, attr, None)
            if tag:
                info: dict = {"status": status}
                if parent and attr in ("valid", "valid2"):
                    info["parentIdTag"] = parent
                self._table[tag.casefold()] = info

    def set(self, id_tag: str, info: dict) -> None:
        self._table[id_tag.casefold()] = info

    def lookup(self, id_tag: str) -> dict:
        info = dict(self._table.get(id_tag.casefold(), {"status": "Invalid"}))
        if info.get("status") == "Accepted" and info.get("expiryDate"):
            expiry = clock.parse_time(info["expiryDate"], default_zone=clock.UTC)
            if expiry is not None and expiry <= clock.now():
                info["status"] = "Expired"
        return info

    def to_json(self) -> dict:
        return dict(self._table)
