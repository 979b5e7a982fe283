"""The load scenarios that disrupt a running swarm: rolling restart, blackout, duplicate identity.

Each charge point the scenario selects (``--fraction`` of the swarm, by index: every 1/f-th, the
same ones on every run) waits until it has booted, then until ``--event-at`` seconds after the run
started (plus a random point of ``--spread`` seconds: a rolling restart comes in waves), and then:

``rolling-restart``
    closes its connection (1001 going away, as a rebooting firmware does), stays down
    ``--offline`` seconds, reconnects, boots and reports its connectors again. Measured: the time
    from its reconnect attempt to BootNotification Accepted (``recovery_s``).
``blackout``
    drops its TCP connection without a closing handshake (power cut: the CSMS sees a reset),
    and while it is down runs a charging session offline: StartTransaction, MeterValues and
    StopTransaction queued with the times they happened (OCPP 1.6 section 4.7: transaction-related
    messages are kept and delivered once the connection is back). After ``--offline`` seconds
    (plus up to ``--reconnect-jitter`` seconds of random back-off, 0 = every charge point at once)
    it reconnects, boots, and replays the queue in order, the StopTransaction and MeterValues with
    the transactionId the replayed StartTransaction got. Measured: recovery as above, and the
    queued messages replayed, failed (a CALLERROR, a timeout, the connection lost) or never sent.
``duplicate-identity``
    opens a second connection with its own identity while the first is open, and sends a
    BootNotification on it (a second device configured with the same chargePointId, or a charge
    point whose old connection the CSMS still believes alive). Within ``--duplicate-grace``
    seconds, woken by whichever connection closes first, the CSMS must keep one: refuse the
    newcomer (handshake refused, or the new connection closed) or replace the old one (the old
    closed). When neither closed, a Heartbeat on each tells whether the CSMS serves both
    (``kept_both``): OCPP-J 1.6 describes one connection per charge point identity (section 3),
    so the objective ``duplicate_identity`` (``refuse``, ``replace`` or ``either``) judges it.

While a charge point is held offline its tasks wait (``ChargePointUser.up``), so nothing but the
scenario reconnects it. Sessions (``--session-weight``) are off by default in these scenarios: a
session caught by the disruption breaks and is counted as broken.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

import gevent
import websocket

from harness import clock
from harness.load.chargepoint import (CallFailed, CallTimeout, ChargePointUser, Connection,
                                      ConnectionLost)

SCENARIOS = ("rolling-restart", "blackout", "duplicate-identity")


def selected(index: int, fraction: float) -> bool:
    """Whether charge point ``index`` (1-based) is among the ``fraction`` a scenario disrupts:
    every 1/fraction-th, so the choice is spread over the swarm and the same on every run."""
    return int(index * fraction) > int((index - 1) * fraction)


class DisruptedChargePoint(ChargePointUser):
    """A load charge point that also plays its part in a disrupting scenario."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        if self.config.scenario in SCENARIOS and selected(self.index, self.config.fraction):
            self.disruption = gevent.spawn(self._disrupt)

    def on_stop(self) -> None:
        disruption = getattr(self, "disruption", None)
        if disruption is not None:
            disruption.kill(block=False)
        super().on_stop()

    def _disrupt(self) -> None:
        cfg = self.config
        due = self.swarm.started_at + cfg.event_at + random.uniform(0, cfg.spread)
        if due > time.monotonic():
            gevent.sleep(due - time.monotonic())
        if cfg.scenario == "duplicate-identity":
            self._duplicate()
        else:
            self._outage(blackout=cfg.scenario == "blackout")

    # --- rolling restart, blackout ------------------------------------------------------------

    def _outage(self, blackout: bool) -> None:
        cfg, swarm = self.config, self.swarm
        self.up.clear()
        swarm.disruption["disrupted"] += 1
        if self.heartbeat is not None:
            self.heartbeat.kill(block=False)
        conn = self.conn
        if conn is not None:
            conn.expected = True
            if blackout:
                conn.abort()
            else:
                conn.close()
        queue = self._offline_session() if blackout else []
        swarm.disruption["queued"] += len(queue)
        back = cfg.offline + (random.uniform(0, cfg.reconnect_jitter) if blackout else 0)
        gevent.sleep(back)
        started = time.monotonic()
        try:
            self._come_online()
            swarm.recoveries.append(time.monotonic() - started)
            swarm.disruption["recovered"] += 1
            self._replay(queue)  # before anything new (the tasks wait for `up`)
        except (CallFailed, CallTimeout):  # a StatusNotification unanswered: not recovered
            swarm.disruption["recovery_failed"] += 1
            swarm.disruption["replay_unsent"] += len(queue)
        finally:
            self.up.set()

    def _offline_session(self) -> list[tuple[str, dict]]:
        """The transaction-related messages of a session run while offline, with their times."""
        cfg, now = self.config, clock.now()
        span = cfg.offline
        moment = lambda share: clock.iso(now + timedelta(seconds=span * share))  # noqa: E731
        connector, start = 1, self.meter
        queue: list[tuple[str, dict]] = [("StartTransaction", {
            "connectorId": connector, "idTag": self.id_tag, "meterStart": start,
            "timestamp": moment(0.1)})]
        for k in range(cfg.meter_samples):
            self.meter += random.randint(50, 500)
            queue.append(("MeterValues", {
                "connectorId": connector, "transactionId": None, "meterValue": [{
                    "timestamp": moment(0.2 + 0.6 * (k + 1) / (cfg.meter_samples + 1)),
                    "sampledValue": [{"value": str(self.meter),
                                      "measurand": "Energy.Active.Import.Register",
                                      "unit": "Wh"}]}]}))
        self.meter += random.randint(50, 500)
        queue.append(("StopTransaction", {"transactionId": None, "idTag": self.id_tag,
                                          "meterStop": self.meter, "timestamp": moment(0.9),
                                          "reason": "Local"}))
        return queue

    def _replay(self, queue: list[tuple[str, dict]]) -> None:
        """In order; what follows a StartTransaction that got no transactionId is not sent."""
        counts, transaction_id = self.swarm.disruption, None
        for position, (action, payload) in enumerate(queue):
            if "transactionId" in payload:
                if transaction_id is None:
                    counts["replay_unsent"] += len(queue) - position
                    return
                payload = {**payload, "transactionId": transaction_id}
            try:
                answer = self.conn.call(action, payload)
            except (CallFailed, CallTimeout, ConnectionLost):
                counts["replay_failed"] += 1
                continue
            if action == "StartTransaction":
                transaction_id = answer.get("transactionId")
                if not isinstance(transaction_id, int) or isinstance(transaction_id, bool):
                    counts["replay_failed"] += 1
                    transaction_id = None
                    continue
            counts["replayed"] += 1

    # --- duplicate identity ---------------------------------------------------------------------

    def _duplicate(self) -> None:
        swarm = self.swarm
        old = self.conn
        if old is None or not old.open:
            return
        self.up.clear()
        try:
            swarm.duplicates["attempted"] += 1
            old.expected = True
            outcome = self._twin(old)
            swarm.duplicates[outcome] += 1
        finally:
            self.up.set()

    def _twin(self, old: Connection) -> str:
        try:
            ws = self._dial()
        except websocket.WebSocketBadStatusException:
            old.expected = False
            return "refused"  # the handshake refused (HTTP 4xx/5xx)
        except (websocket.WebSocketException, OSError):
            old.expected = False
            return "refused"
        twin = Connection(self, ws)
        twin.expected = True
        boot = gevent.spawn(self._quiet_call, twin, "BootNotification", {
            "chargePointVendor": "OCPPHarness", "chargePointModel": "LoadCP",
            "chargePointSerialNumber": self.charge_point_id[:25], "firmwareVersion": "load-0.1"})
        gevent.wait([old.closed, twin.closed], timeout=self.config.duplicate_grace, count=1)
        if old.closed.is_set() and not twin.closed.is_set():
            boot.join(self.config.response_timeout)
            self._adopt(twin)
            return "replaced"
        if twin.closed.is_set() and not old.closed.is_set():
            old.expected = False
            boot.kill(block=False)
            return "refused"
        if old.closed.is_set():  # both closed: the CSMS kept neither
            boot.kill(block=False)
            twin.close()
            self.conn = None
            return "closed_both"
        # Neither closed: does the CSMS serve both?
        boot.join(self.config.response_timeout)
        answered = [self._quiet_call(c, "Heartbeat", {}) is not None for c in (old, twin)]
        twin.close()
        old.expected = False
        if all(answered):
            return "kept_both"
        return "undecided"

    def _adopt(self, twin: Connection) -> None:
        """The CSMS replaced the old connection: the new one is this charge point's now."""
        twin.expected = False
        self.conn = twin
        if self.heartbeat is not None:
            self.heartbeat.kill(block=False)
        self.heartbeat = gevent.spawn(self._heartbeats, twin)

    @staticmethod
    def _quiet_call(conn: Connection, action: str, payload: dict) -> dict | None:
        try:
            return conn.call(action, payload)
        except (CallFailed, CallTimeout, ConnectionLost):
            return None
