"""The harness's own overhead on a call round trip over loopback (target: median <= 0.5 ms).

A peer in a separate process answers every CALL at once. For each ``Session.call`` the overhead is
the time the harness spends on its side: from entering ``call()`` to the request leaving, plus from
the answer's arrival at the socket to ``call()`` returning, i.e. the call's wall time minus the round
trip measured at the socket. The reverse direction is measured too: a device request's arrival to
the harness's answer leaving (framing, validation, wire log, dispatch).

Run: .venv/bin/python bench/bench_roundtrip.py [N]
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness.session import Session
from harness.transport import CentralSystemServer
from harness.wirelog import WireLog

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available",
          "timestamp": "2026-11-21T10:00:00.000Z"}


def peer(port: int, requests: int) -> None:
    """A charge point that answers at once, then sends ``requests`` StatusNotifications."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=["ocpp1.6"]) as ws:
        while True:
            frame = json.loads(ws.recv())
            if frame[0] == 2 and frame[2] == "DataTransfer" and frame[3].get("messageId") == "stop":
                ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
                break
            ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        for i in range(requests):
            ws.send(json.dumps([2, f"s{i}", "StatusNotification", STATUS]))
            ws.recv()


async def main(n: int) -> None:
    server = CentralSystemServer("127.0.0.1", 0)
    await server.start()
    process = multiprocessing.get_context("spawn").Process(target=peer, args=(server.port, n))
    process.start()
    session = Session("csms", response_timeout=5, defaults={"StatusNotification": lambda p: {}})
    with tempfile.TemporaryDirectory() as tmp, WireLog(Path(tmp) / "wire.jsonl") as log:
        session.begin(log)
        session.attach(await server.accept(10))
        overheads = []
        for i in range(n + 50):
            started = time.monotonic_ns()
            response = await session.call("ChangeAvailability",
                                          {"connectorId": 1, "type": "Operative"})
            total = time.monotonic_ns() - started
            if i >= 50:  # warm-up
                overheads.append(total - (response.frame.mono_ns - response.request.mono_ns))
        await session.call("DataTransfer", {"vendorId": "bench", "messageId": "stop"})
        for _ in range(n):
            await session.expect("StatusNotification", timeout=5)
        answers = session.answer_delays_ns[-n:]
        session.end()
    await session.close()
    await server.stop()
    process.join(10)

    def show(label: str, values: list[int]) -> float:
        ms = sorted(v / 1e6 for v in values)
        median = statistics.median(ms)
        print(f"{label}: n={len(ms)} median={median:.3f} ms p95={ms[int(len(ms) * .95)]:.3f} ms "
              f"max={ms[-1]:.3f} ms")
        return median

    call_median = show("harness overhead per call() round trip", overheads)
    show("harness time from a device request to its answer", answers)
    verdict = "met" if call_median <= 0.5 else "NOT met"
    print(f"target median <= 0.5 ms: {verdict}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
