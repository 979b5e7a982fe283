"""What the charge point does for the EV driver and on the central system's orders: authorization
(with the authorization cache), starting and stopping transactions, availability, unlocking.

A mixin of :class:`interop.cp_station.Station`: it uses the station's configuration, outbox,
status reporting (``report``) and tasks (``spawn``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from ocpp.v16 import call

from interop.cp_model import Authorization, Connector, Transaction, stamp, utc_now
from interop.cp_outbox import Offline, Outgoing

log = logging.getLogger("interop.cp")


class Charging:
    # --- authorization ---------------------------------------------------------------------------

    def _cached(self, id_tag: str) -> dict | None:
        if not self.has_cache or not self.config.flag("AuthorizationCacheEnabled"):
            return None
        entry = self.cache.get(id_tag.casefold())
        if entry is None:
            return None
        info = dict(entry[1])
        expiry = info.get("expiryDate")
        if expiry and datetime.fromisoformat(expiry.replace("Z", "+00:00")) < utc_now():
            info["status"] = "Expired"
        return info

    def remember(self, id_tag: str, info: dict | None) -> None:
        """Section 3.5.1: the cache keeps the latest IdTagInfo the central system gave."""
        if info is not None and self.has_cache and self.config.flag("AuthorizationCacheEnabled"):
            self.cache[id_tag.casefold()] = (id_tag, dict(info))

    async def authorize(self, id_tag: str) -> dict | None:
        """The IdTagInfo for ``id_tag``: from the cache when LocalPreAuthorize (online) or
        LocalAuthorizeOffline (offline) allows it, else from the central system; offline and
        unknown, AllowOfflineTxForUnknownId decides. None: it cannot be authorized now."""
        cached = self._cached(id_tag)
        if self.ready:
            if cached is not None and cached.get("status") == "Accepted" \
                    and self.config.flag("LocalPreAuthorize"):
                return cached
            future = asyncio.get_running_loop().create_future()
            self.outbox.put(Outgoing(lambda: call.Authorize(id_tag=id_tag), future=future,
                                     label="Authorize"))
            try:
                conf = await future
            except (Offline, asyncio.TimeoutError):
                return await self._authorize_offline(id_tag, cached)
            except Exception as exc:  # a CALLERROR: the central system did not authorize it
                log.info("Authorize %s failed: %s", id_tag, exc)
                return None
            info = _camel(conf.id_tag_info)
            self.remember(id_tag, info)
            return info
        return await self._authorize_offline(id_tag, cached)

    async def _authorize_offline(self, id_tag: str, cached: dict | None) -> dict | None:
        if cached is not None:
            return cached if self.config.flag("LocalAuthorizeOffline") else None
        if self.config.flag("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return None

    # --- the EV driver's actions --------------------------------------------------------------

    def target(self, connector_id: int | None, id_tag: str | None = None) -> Connector:
        if connector_id is not None:
            return self.connectors[connector_id]
        if id_tag is not None:
            for connector in self.connectors.values():
                if connector.transaction and connector.transaction.id_tag.casefold() == id_tag.casefold():
                    return connector
        free = [c for c in self.connectors.values() if c.transaction is None]
        return next((c for c in free if c.cable_in), free[0] if free else self.connectors[1])

    async def present_id_tag(self, id_tag: str, connector: Connector) -> None:
        tx = connector.transaction
        if tx is not None:
            await self._present_during_transaction(id_tag, connector, tx)
            return
        pending = connector.authorization
        if pending is not None:
            if pending.id_tag.casefold() == id_tag.casefold():
                connector.authorization = None  # presented again: the driver changed their mind
                self.report(connector.connector_id)
            return
        if connector.fault is not None or not self._usable(connector):
            return
        info = await self.authorize(id_tag)
        if info is None or info.get("status") != "Accepted":
            log.info("idTag %s not authorized: %s", id_tag, info)
            return
        self._authorized(connector, Authorization(id_tag, info))

    async def _present_during_transaction(self, id_tag: str, connector: Connector,
                                          tx: Transaction) -> None:
        """The idTag that started the transaction stops it; another one only if it belongs to the
        same group (parentIdTag, section 4.10): asked only when the transaction has a group."""
        if id_tag.casefold() == tx.id_tag.casefold():
            self.stop_transaction(connector, "Local", id_tag=id_tag)
            return
        if tx.parent is None:
            return
        info = await self.authorize(id_tag)
        if info and info.get("status") == "Accepted" and info.get("parentIdTag") \
                and info["parentIdTag"].casefold() == tx.parent.casefold() \
                and connector.transaction is tx:
            self.stop_transaction(connector, "Local", id_tag=id_tag)

    def _usable(self, connector: Connector) -> bool:
        return connector.operative and self.station_operative and connector.fault is None

    def _authorized(self, connector: Connector, authorization: Authorization) -> None:
        connector.authorization = authorization
        self.report(connector.connector_id)
        if not connector.ev_connected:
            self.spawn(self._connection_timeout(connector, authorization))
        self._try_start(connector)

    async def _connection_timeout(self, connector: Connector, authorization: Authorization) -> None:
        """ConnectionTimeOut from the authorization: no EV by then, the authorization lapses."""
        while connector.authorization is authorization:
            left = authorization.at + self.config.number("ConnectionTimeOut") \
                - asyncio.get_running_loop().time()
            if left <= 0:
                connector.authorization = None
                self.report(connector.connector_id)
                return
            await self._wait_change(left)

    def plug_in(self, connector: Connector) -> None:
        connector.cable_in = connector.ev_connected = True
        connector.finishing = False
        self.report(connector.connector_id)
        self._try_start(connector)

    def unplug(self, connector: Connector) -> None:
        """The EV side is disconnected; the cable comes out too unless the lock holds it (a
        socket without a lock holds nothing: the cable leaves with the EV)."""
        connector.ev_connected = False
        if not self.has_lock:
            connector.cable_in = False
        tx = connector.transaction
        if tx is not None:
            if self.config.flag("StopTransactionOnEVSideDisconnect"):
                self.stop_transaction(connector, "EVDisconnected")
            else:
                self.report(connector.connector_id)  # SuspendedEV: the transaction goes on
            return
        self._release_cable(connector)

    def _release_cable(self, connector: Connector) -> None:
        if not connector.locked and not connector.ev_connected:
            connector.cable_in = connector.finishing = False
        self.report(connector.connector_id)

    def _try_start(self, connector: Connector) -> None:
        authorization = connector.authorization
        if authorization is None or not connector.ev_connected or connector.transaction is not None \
                or not self._usable(connector):
            return
        if connector.lock_fails and self.has_lock:
            connector.authorization = None
            connector.fault = "ConnectorLockFailure"
            self.report(connector.connector_id)
            return
        connector.locked = self.has_lock
        connector.authorization = None
        tx = Transaction(connector.connector_id, authorization.id_tag, dict(authorization.info),
                         connector.meter_wh(), utc_now())
        connector.transaction = tx

        def build() -> Any:
            return call.StartTransaction(connector_id=tx.connector_id, id_tag=tx.id_tag,
                                         meter_start=tx.meter_start, timestamp=stamp(tx.started))

        self.outbox.put(Outgoing(build, transactional=True, label="StartTransaction",
                                 on_result=lambda conf: self._started(connector, tx, conf)))
        self.report(connector.connector_id)
        self.spawn(self._sample(connector, tx))

    def _started(self, connector: Connector, tx: Transaction, conf: Any) -> None:
        tx.transaction_id = conf.transaction_id
        info = _camel(conf.id_tag_info)
        self.remember(tx.id_tag, info)
        tx.info = info
        if info.get("status") == "Accepted" or connector.transaction is not tx:
            return
        # Section 4.8 (errata): stop the transaction, or only the energy, as configured.
        if self.config.flag("StopTransactionOnInvalidId"):
            self.stop_transaction(connector, "DeAuthorized")
        else:
            tx.deauthorized = True
            self.report(connector.connector_id)

    def stop_transaction(self, connector: Connector, reason: str, *,
                         id_tag: str | None = None) -> None:
        tx = connector.transaction
        if tx is None:
            return
        meter_stop, moment = connector.meter_wh(), utc_now()
        connector.transaction = None
        keep_locked = self.has_lock and reason == "EVDisconnected" and \
            not self.config.flag("UnlockConnectorOnEVSideDisconnect")
        connector.finishing = True
        if not self.finishing_when_empty and not connector.ev_connected and not keep_locked:
            # Nothing is left at the connector: straight to Available (section 4.9 allows it).
            connector.locked = connector.cable_in = connector.finishing = False

        def build() -> Any:
            if tx.abandoned or tx.transaction_id is None:
                return None
            return call.StopTransaction(meter_stop=meter_stop, timestamp=stamp(moment),
                                        transaction_id=tx.transaction_id, reason=reason,
                                        id_tag=id_tag)

        self.outbox.put(Outgoing(build, transactional=True, label=f"StopTransaction {reason}",
                                 on_result=lambda conf: self.remember(
                                     id_tag, _camel(conf.id_tag_info)) if id_tag else None))
        if connector.scheduled_inoperative:
            connector.scheduled_inoperative, connector.operative = False, False
        self.report(connector.connector_id)
        if not keep_locked:
            connector.locked = False
            self._release_cable(connector)

    # --- the central system's operations ----------------------------------------------------

    def connector_of_transaction(self, transaction_id: int) -> Connector | None:
        return next((c for c in self.connectors.values() if c.transaction is not None
                     and c.transaction.transaction_id == transaction_id), None)

    def remote_start_target(self, connector_id: int | None) -> Connector | None:
        """Where a RemoteStartTransaction.req can start, or None (Rejected): connectorId 0 is not
        a connector (section 6.33), a busy, unavailable or faulted one cannot."""
        if connector_id is None:
            candidates = list(self.connectors.values())
        elif connector_id in self.connectors:
            candidates = [self.connectors[connector_id]]
        else:
            return None
        return next((c for c in candidates if c.transaction is None and c.authorization is None
                     and self._usable(c)), None)

    async def remote_start(self, connector: Connector, id_tag: str) -> None:
        if self.config.flag("AuthorizeRemoteTxRequests"):
            info = await self.authorize(id_tag)
            if info is None or info.get("status") != "Accepted":
                return
        else:
            info = {"status": "Accepted"}
        if connector.transaction is None and connector.authorization is None:
            self._authorized(connector, Authorization(id_tag, info))

    def change_availability(self, connector_id: int, operative: bool) -> str:
        if connector_id != 0 and connector_id not in self.connectors:
            return "Rejected"
        targets = list(self.connectors.values()) if connector_id == 0 \
            else [self.connectors[connector_id]]
        busy = [c for c in targets if c.transaction is not None]
        if connector_id == 0:
            self.station_operative = operative or bool(busy)
        for connector in targets:
            if connector.transaction is not None and not operative:
                connector.scheduled_inoperative = True
            else:
                connector.operative, connector.scheduled_inoperative = operative, False
        return "Scheduled" if busy and not operative else "Accepted"

    def unlock_status(self, connector_id: int) -> str:
        connector = self.connectors.get(connector_id)
        if connector is None or not self.has_lock:
            return "NotSupported"  # section 7.44: no such connector, or no connector lock
        return "UnlockFailed" if connector.unlock_fails else "Unlocked"

    def unlock(self, connector_id: int) -> None:
        """Section 5.18: a running transaction is stopped first (reason UnlockCommand)."""
        connector = self.connectors[connector_id]
        if connector.transaction is not None:
            self.stop_transaction(connector, "UnlockCommand")
        connector.locked = False
        self._release_cable(connector)


def _camel(info: Any) -> dict:
    """An IdTagInfo as the library hands it over (snake_case keys) in the wire's camelCase."""
    if not isinstance(info, dict):
        return {}
    names = {"parent_id_tag": "parentIdTag", "expiry_date": "expiryDate"}
    return {names.get(k, k): v for k, v in info.items()}
