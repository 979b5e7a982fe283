"""How the reference CSMS answers a charge point's CALLs, and what it stores from them.

A mixin of :class:`harness.sim.csms.csms.CsmsSim`. Every handler takes the charge point's record
and the request payload and returns the CALLRESULT payload (or an :class:`Answer` when something
follows the answer: a fault's disconnect, an unsolicited frame).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from harness import rpc
from harness.rpc import CallResult
from harness import clock
from harness.sim.csms.records import ChargePointRecord, TransactionRecord
from harness.sim.link import Answer, CallFailed, LinkDown, Reply, Withhold

if TYPE_CHECKING:
    from harness.sim.csms.csms import CsmsSim


class CsmsHandlers:
    def current_time(self: CsmsSim) -> str:
        wrong = self.faults.get("wrong_current_time")
        offset = timedelta(seconds=wrong["offset_s"]) if wrong is not None else timedelta(0)
        return clock.iso(clock.now() + offset)

    def id_tag_info(self: CsmsSim, id_tag: str) -> dict:
        info = self.id_tags.lookup(id_tag)
        status = info["status"]
        if (status == "Blocked" and self.faults.get("accept_blocked_idtag") is not None) or \
                (status == "Invalid" and self.faults.get("accept_unknown_idtag") is not None):
            info = {"status": "Accepted"}
        if info["status"] == "Accepted" and self.faults.get("expiry_in_past") is not None:
            info["expiryDate"] = clock.iso(clock.now() - timedelta(days=1))
        elif info["status"] == "Accepted" and \
                self.faults.get("idtaginfo_optional_fields") is not None:
            info = {"expiryDate": clock.iso(clock.now() + timedelta(days=1)), **info}
            if self.pics.id_tags.parent and "parentIdTag" not in info:
                info["parentIdTag"] = self.pics.id_tags.parent
        return info

    async def _call_quietly(self: CsmsSim, link: Any, action: str, payload: dict) -> None:
        """A request of its own that follows an answer (a legal behaviour): its outcome is only
        logged, whatever it is."""
        try:
            await link.call(action, payload, None)
        except (LinkDown, CallFailed, TimeoutError) as exc:
            self.events.add("own_request_failed", action=action, reason=str(exc)[:200])

    async def _trigger_and_wait(self: CsmsSim, rec: ChargePointRecord, link: Any) -> None:
        """trigger_after_boot: the triggered messages are awaited before operator commands."""
        rec.awaiting_triggered.clear()
        for message, extra in (("Heartbeat", {}), ("MeterValues", {"connectorId": 1})):
            rec.awaiting_triggered.add(message)  # before: it may come right after the .conf
            try:
                answer = await link.call("TriggerMessage", {"requestedMessage": message, **extra},
                                         None)
            except (LinkDown, CallFailed, TimeoutError) as exc:
                answer = {"status": f"failed: {exc}"[:200]}
            if answer.get("status") != "Accepted":
                rec.awaiting_triggered.discard(message)  # nothing was promised
                self.events.add("own_request_failed", action="TriggerMessage",
                                reason=str(answer.get("status")))

    async def on_BootNotification(self: CsmsSim, rec: ChargePointRecord, p: dict) -> Answer:
        storm = self.faults.get("drop_boots_under_storm")
        if storm is not None:
            now, recent = time.monotonic(), self.recent_boots
            while recent and now - recent[0] > storm["window_ms"] / 1000:
                recent.popleft()
            recent.append(now)
            if len(recent) > storm["threshold"]:
                raise Withhold("drop_boots_under_storm")
        policy = self.boot_policies.get(rec.id, self.boot_policy)
        status, interval = policy["status"], policy["interval"]
        rec.boots_on_link += 1
        pending = self.faults.get("boot_pending_first")
        if status == "Accepted" and pending is not None and rec.boots_on_link <= pending["count"]:
            status, interval = "Pending", pending["interval"]
        own = self.faults.get("heartbeat_interval_own")
        if status == "Accepted" and own is not None:
            interval = own["seconds"]
        rec.registration = status
        rec.boots.append({"received": clock.now_iso(), "request": p, "status": status})
        answer = {"status": status, "currentTime": self.current_time(), "interval": interval}
        self.events.add("boot", chargePointId=rec.id, status=status)
        link = rec.link

        async def after() -> None:
            if link is None:
                return
            requests = self.faults.get("requests_after_boot")
            if requests is not None and (status == "Accepted" or
                                         (status == "Pending" and requests["on_pending"])):
                for action, payload in (
                        ("GetConfiguration", {}),
                        ("ChangeConfiguration", {"key": "HeartbeatInterval",
                                                 "value": str(interval)}),
                        ("TriggerMessage", {"requestedMessage": "StatusNotification"})):
                    await self._call_quietly(link, action, payload)
            if self.faults.get("trigger_after_boot") is not None and status == "Accepted":
                await self._trigger_and_wait(rec, link)
            if status == "Pending" and pending is not None and pending["trigger_ms"] >= 0:
                await asyncio.sleep(pending["trigger_ms"] / 1000)
                await self._call_quietly(link, "TriggerMessage",
                                         {"requestedMessage": "BootNotification"})
            if self.faults.get("unsolicited_result") is not None and rec.link is not None:
                try:
                    await rec.link.send_text(rpc.dumps(CallResult(str(uuid.uuid4()), {})))
                except LinkDown:
                    pass
            if self.faults.get("disconnect_after_boot") is not None and rec.link is not None:
                await rec.link.close(1000, "simulated fault")

        return Answer(answer, after)

    async def on_Heartbeat(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        rec.awaiting_triggered.discard("Heartbeat")
        rec.heartbeats += 1
        rec.last_heartbeat = clock.now_iso()
        return {"currentTime": self.current_time()}

    async def on_Authorize(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        info = self.id_tag_info(p["idTag"])
        rec.authorizations.append({"idTag": p["idTag"], "status": info["status"],
                                   "received": clock.now_iso()})
        return {"idTagInfo": info}

    async def on_StartTransaction(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        id_tag = p["idTag"]
        info = self.id_tag_info(id_tag)
        busy = any(t.open and t.id_tag.casefold() == id_tag.casefold()
                   for t in self.transactions.values())
        if info["status"] == "Accepted" and busy:
            info = {**info, "status": "ConcurrentTx"}
        reuse = self.faults.get("reuse_transaction_id")
        if reuse is not None:
            tx_id = reuse["transactionId"]
        else:
            tx_id = self.next_transaction_id
            self.next_transaction_id += 1
        self.transactions[tx_id] = TransactionRecord(
            tx_id, rec.id, p["connectorId"], id_tag, p["meterStart"], p["timestamp"],
            p.get("reservationId"), info["status"])
        self.events.add("transaction_started", chargePointId=rec.id, transactionId=tx_id,
                        idTag=id_tag, status=info["status"])
        wire_id = str(tx_id) if self.faults.get("transaction_id_as_string") is not None else tx_id
        return {"idTagInfo": info, "transactionId": wire_id}

    async def on_StopTransaction(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        tx = self.transactions.get(p["transactionId"])
        if tx is None:
            self.events.add("unknown_transaction_stopped", chargePointId=rec.id,
                            transactionId=p["transactionId"])
        else:
            tx.meter_stop, tx.stopped = p["meterStop"], p["timestamp"]
            tx.reason, tx.stop_id_tag = p.get("reason", "Local"), p.get("idTag")
        self.events.add("transaction_stopped", chargePointId=rec.id,
                        transactionId=p["transactionId"], reason=p.get("reason", "Local"))
        if "idTag" in p:
            return {"idTagInfo": self.id_tag_info(p["idTag"])}
        if tx is not None and self.faults.get("idtaginfo_optional_fields") is not None:
            return {"idTagInfo": self.id_tag_info(tx.id_tag)}
        return {}

    async def on_MeterValues(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        rec.meter_values.append({"received": clock.now_iso(), **p})
        rec.awaiting_triggered.discard("MeterValues")
        tx = self.transactions.get(p.get("transactionId"))
        if tx is not None:
            tx.meter_values += 1
        return {}

    async def on_StatusNotification(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        entry = {"status": p["status"], "errorCode": p["errorCode"],
                 "timestamp": p.get("timestamp"), "received": clock.now_iso()}
        rec.statuses[p["connectorId"]] = entry
        rec.status_history.append({"connectorId": p["connectorId"], **entry})
        return {}

    async def on_DataTransfer(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        rec.data_transfers.append(p)
        if p["vendorId"] != self.pics.dut.vendor:
            return {"status": "UnknownVendorId"}
        if p.get("messageId") not in (None, "Echo"):
            return {"status": "UnknownMessageId"}
        return {"status": "Accepted", **({"data": p["data"]} if "data" in p else {})}

    async def on_FirmwareStatusNotification(self: CsmsSim, rec: ChargePointRecord,
                                            p: dict) -> dict:
        rec.firmware_statuses.append(p["status"])
        return {}

    async def on_DiagnosticsStatusNotification(self: CsmsSim, rec: ChargePointRecord,
                                               p: dict) -> dict:
        rec.diagnostics_statuses.append(p["status"])
        return {}

    # The security whitepaper's charge point messages: stored and acknowledged.

    async def on_SecurityEventNotification(self: CsmsSim, rec: ChargePointRecord,
                                           p: dict) -> dict:
        rec.security_events.append(p)
        return {}

    async def on_LogStatusNotification(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        return {}

    async def on_SignedFirmwareStatusNotification(self: CsmsSim, rec: ChargePointRecord,
                                                  p: dict) -> dict:
        rec.firmware_statuses.append(p["status"])
        return {}

    async def on_SignCertificate(self: CsmsSim, rec: ChargePointRecord, p: dict) -> dict:
        return {"status": "Rejected"}  # no certificate authority behind this CSMS


def unsupported(action: str) -> Reply:
    return Reply("NotSupported", f"{action} is not sent to a central system")
