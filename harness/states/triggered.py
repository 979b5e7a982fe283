"""The charge point the harness plays sends what a TriggerMessage it accepted asked for.

OCPP 1.6 section 5.17: a charge point that answers TriggerMessage Accepted SHALL then send the
requested message (after the .conf), for the connectorId given or, where a connector is relevant
and none is given, for every connector. A central system that triggers a StatusNotification at boot
and waits for it must get it, or it misbehaves later and the harness would blame it.

:func:`answer_triggers` makes this the session's default: TriggerMessage is answered Accepted for a
message the harness's charge point can send (Rejected for a connector it does not have,
NotImplemented for a message it cannot send), and once that answer has left
(:attr:`Session.answer_observers`) the message follows, with what the charge point has reported so
far (its connectors' last statuses, open transactions and energy register, read off its own CALLs
whichever case sent them; its boot fields from the PICS ``[harness]``).

A case that answers TriggerMessage itself (``Session.on``, ``expect(answer=...)``) or waits for it
(``expect``, e.g. :func:`harness.states.registration.register`) sends what follows itself: no
follow-up then. A request answered by default before a state took it from the backlog carries its
follow-up (``Request.follow_up``, the Responses), so that the state does not send it twice.
The follow-up waits until no CALL of the harness is outstanding (OCPP-J: one per direction), and
a CALL of the case waits for a follow-up under way (a call preparer), so the two never overlap. A
central system that does not answer the follow-up, or answers it with a CALLERROR, gets a remark:
no case asked for this exchange.
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.clock import now_iso
from harness.session import (DeviceDisconnected, DeviceTimeout, HarnessError, ProtocolViolation,
                             Request, Response, Session)
from harness.states import boot_notification, connector_ids, status_notification
from harness.states.csms import record_boot

__all__ = ["SENDABLE", "Reported", "Triggers", "answer_triggers"]

SENDABLE = frozenset({"BootNotification", "DiagnosticsStatusNotification",
                      "FirmwareStatusNotification", "Heartbeat", "MeterValues",
                      "StatusNotification"})
"""The requestedMessage values (OCPP 1.6 MessageTrigger) the harness's charge point sends."""


class Reported:
    """What the harness's charge point has told the central system so far, read off its own CALLs
    (a :class:`harness.session.CallObserver`): whichever case or state sent them."""

    def __init__(self) -> None:
        self.statuses: dict[int, tuple[str, str]] = {}
        """connectorId -> (status, errorCode) of its last StatusNotification."""
        self.open: dict[int, tuple[Any, int]] = {}
        """connectorId -> (transactionId, meterStart) of a transaction the central system opened."""
        self.meter_wh: dict[int, int] = {}
        """connectorId -> the last energy register value it reported (Wh)."""

    def sending(self, action: str, payload: dict) -> None:
        connector_id = payload.get("connectorId")
        if action == "StatusNotification" and isinstance(connector_id, int):
            self.statuses[connector_id] = (payload.get("status", "Available"),
                                           payload.get("errorCode", "NoError"))
        elif action == "StopTransaction":
            for c, (tx_id, _) in list(self.open.items()):
                if tx_id == payload.get("transactionId"):
                    del self.open[c]
                    self._meter(c, payload.get("meterStop"))
        elif action == "MeterValues" and isinstance(connector_id, int):
            for value in payload.get("meterValue") or []:
                for sampled in value.get("sampledValue") or []:
                    if sampled.get("measurand", "Energy.Active.Import.Register") == \
                            "Energy.Active.Import.Register" and sampled.get("unit", "Wh") == "Wh":
                        self._meter(connector_id, sampled.get("value"))

    def answered(self, action: str, payload: dict, response: Response) -> None:
        connector_id = payload.get("connectorId")
        if action == "StartTransaction" and isinstance(connector_id, int) and \
                response.error is None and response.get("transactionId") is not None:
            self.open[connector_id] = (response.get("transactionId"), payload.get("meterStart", 0))
            self._meter(connector_id, payload.get("meterStart"))

    def _meter(self, connector_id: int, value: Any) -> None:
        try:
            self.meter_wh[connector_id] = int(float(value))
        except (TypeError, ValueError):
            pass

    def status(self, connector_id: int) -> tuple[str, str]:
        if connector_id in self.statuses:
            return self.statuses[connector_id]
        return ("Charging" if connector_id in self.open else "Available"), "NoError"

    def meter(self, connector_id: int) -> int:
        return self.meter_wh.get(connector_id, max(self.meter_wh.values(), default=0))


class Triggers:
    """The default TriggerMessage answer of one session and the follow-ups it owes."""

    def __init__(self, csms: Session, pics: Any):
        self.csms, self.pics = csms, pics
        self.reported = Reported()
        self.queue: list[Request] = []
        self.task: asyncio.Task | None = None
        self.sent: list[str] = []
        """Actions of the follow-ups sent, in order (for tests)."""

    # --- the answer ---------------------------------------------------------------------------

    def answer(self, payload: dict) -> dict:
        if payload.get("requestedMessage") not in SENDABLE:
            return {"status": "NotImplemented"}
        connector_id = payload.get("connectorId")
        if connector_id is not None and connector_id not in connector_ids(self.pics):
            return {"status": "Rejected"}  # no such connector
        return {"status": "Accepted"}

    def answered(self, request: Request) -> None:
        """After an answer left: schedule the follow-up the default Accepted answer promised."""
        if (request.action != "TriggerMessage" or request.answered_by != "default"
                or not isinstance(request.answer, dict)
                or request.answer.get("status") != "Accepted"):
            return
        request.follow_up = asyncio.get_running_loop().create_future()
        self.queue.append(request)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def prepare(self, action: str, payload: dict) -> None:
        """Before another CALL of the harness leaves: let a follow-up under way finish first."""
        task = self.task
        if task is None or task.done() or asyncio.current_task() is task:
            return
        await asyncio.wait({task})  # bounded: each of its CALLs by the response timeout

    # --- the follow-up ------------------------------------------------------------------------

    async def _run(self) -> None:
        while self.queue:
            request = self.queue.pop(0)
            responses: list[Response] = []
            try:
                for action, payload in self.messages(request.payload):
                    await self.csms.calls_settled()
                    if request.link is not self.csms.link or not self.csms.connected:
                        break  # the connection it came on is gone: a rebooted charge point
                        # does not send what it promised before (nor to anyone else)
                    response = await self._send(request, action, payload)
                    if response is None:
                        break
                    responses.append(response)
            except Exception as exc:  # the harness's bug, never the device's
                self.csms.harness_errors.append(f"harness error in a triggered message: {exc!r}")
            finally:
                if not request.follow_up.done():
                    request.follow_up.set_result(responses)

    def messages(self, trigger: dict) -> list[tuple[str, dict]]:
        """What the TriggerMessage ``trigger`` asks the harness's charge point to send now."""
        message = trigger["requestedMessage"]
        given = trigger.get("connectorId")
        reported = self.reported
        if message == "BootNotification":
            return [(message, boot_notification(self.pics))]
        if message == "Heartbeat":
            return [(message, {})]
        if message in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
            return [(message, {"status": "Idle"})]  # the harness uploads / installs nothing
        if message == "StatusNotification":
            targets = [given] if given is not None else connector_ids(self.pics)
            return [(message, status_notification(c, *reported.status(c))) for c in targets]
        # MeterValues: the register as last reported (a transaction's start, a reading, a stop)
        targets = [given] if given is not None else connector_ids(self.pics, with_zero=False)
        out = []
        for c in targets:
            payload: dict = {"connectorId": c, "meterValue": [{"timestamp": now_iso(),
                             "sampledValue": [{"value": str(reported.meter(c)),
                                               "context": "Trigger",
                                               "measurand": "Energy.Active.Import.Register",
                                               "unit": "Wh"}]}]}
            if c in reported.open:
                payload["transactionId"] = reported.open[c][0]
            out.append((message, payload))
        return out

    async def _send(self, trigger: Request, action: str, payload: dict) -> Response | None:
        what = (f"{action}.req the harness's charge point sent after accepting the TriggerMessage "
                f"of wire log line {trigger.line}")
        try:
            response = await self.csms.call(action, payload)
        except (DeviceTimeout, DeviceDisconnected, ProtocolViolation) as exc:
            self.csms.remark(f"{what}: {exc}")
            return None
        except HarnessError as exc:
            self.csms.harness_errors.append(f"{what}: {exc}")
            return None
        self.sent.append(action)
        if response.error is not None:
            self.csms.remark(f"{what} was answered with CALLERROR {response.error.error_code} "
                             f"(wire log line {response.line})")
        elif action == "BootNotification":
            record_boot(self.csms, response)
        return response


def answer_triggers(csms: Session, pics: Any) -> Triggers:
    """Make ``csms`` (the harness playing the charge point) answer TriggerMessage by default and
    send what it accepted (module docstring)."""
    triggers = Triggers(csms, pics)
    csms.defaults["TriggerMessage"] = triggers.answer
    csms.answer_observers.append(triggers.answered)
    csms.call_preparers.append(triggers.prepare)
    csms.call_observers.append(triggers.reported)
    return triggers
