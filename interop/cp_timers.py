"""The charge point's timers: heartbeats, and meter values sampled during a transaction or
aligned to the clock (OCPP 1.6 sections 4.6, 4.7, 9.1.5, 9.1.15).

A mixin of :class:`interop.cp_station.Station`: it uses the station's configuration, outbox and
change notification (``_wait_change``).
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta
from typing import Any

from ocpp.v16 import call

from interop.cp_model import Connector, Transaction, stamp, utc_now
from interop.cp_outbox import Outgoing


class Timers:
    async def _heartbeat(self) -> None:
        """A Heartbeat.req every HeartbeatInterval seconds while registered."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            interval = self.config.number("HeartbeatInterval")
            if interval <= 0 or not self.ready:
                await self._wait_change(None)
                last = loop.time()
                continue
            left = last + interval - loop.time()
            if left > 0:
                await self._wait_change(left)
                continue  # time is up, or something changed (the interval perhaps): look again
            last = loop.time()
            self.outbox.put(Outgoing(lambda: call.Heartbeat(), label="Heartbeat"))

    async def _clock_aligned(self) -> None:
        while True:
            interval = self.config.number("ClockAlignedDataInterval")
            if interval <= 0:
                await self._wait_change(None)
                continue
            now = utc_now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            ticks = math.floor((now - midnight).total_seconds() / interval) + 1
            due = midnight + timedelta(seconds=ticks * interval)
            if await self._wait_change((due - utc_now()).total_seconds()):
                continue
            for connector in self.connectors.values():
                if connector.transaction is not None:
                    self._meter_values(connector, connector.transaction, "Sample.Clock",
                                       self.config.measurands("MeterValuesAlignedData"), due)

    async def _sample(self, connector: Connector, tx: Transaction) -> None:
        """MeterValueSampleInterval seconds apart, counted from the start of the transaction."""
        last = tx.started
        while connector.transaction is tx:
            interval = self.config.number("MeterValueSampleInterval")
            if interval <= 0:
                await self._wait_change(None)
                continue
            due = last + timedelta(seconds=interval)
            left = (due - utc_now()).total_seconds()
            if left > 0 and await self._wait_change(left):
                continue
            if connector.transaction is not tx:
                return
            last = due
            self._meter_values(connector, tx, "Sample.Periodic",
                               self.config.measurands("MeterValuesSampledData"), due)

    def _meter_values(self, connector: Connector, tx: Transaction, context: str,
                      measurands: list[str], moment: datetime) -> None:
        readings = {
            "Energy.Active.Import.Register": (str(connector.meter_wh()), "Wh"),
            "Power.Active.Import": (f"{connector.power_w():.1f}", "W"),
            "Current.Import": (f"{connector.power_w() / 230:.1f}", "A"),
            "Voltage": ("230.0", "V"),
        }
        sampled = [{"value": readings[m][0], "context": context, "measurand": m,
                    "unit": readings[m][1]} for m in measurands or ["Energy.Active.Import.Register"]]

        def build() -> Any:
            if tx.abandoned or tx.transaction_id is None:
                return None
            return call.MeterValues(connector_id=connector.connector_id,
                                    transaction_id=tx.transaction_id,
                                    meter_value=[{"timestamp": stamp(moment),
                                                  "sampledValue": sampled}])

        self.outbox.put(Outgoing(build, transactional=True, label=f"MeterValues {context}"))
