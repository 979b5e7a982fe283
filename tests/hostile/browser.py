"""Many pages in one headless Chromium: one launch, one tab, the DevTools protocol over its
WebSocket (``--remote-debugging-port=0``), so that rendering every report of the campaign costs
seconds, not a browser start each.

Before any page script runs, ``alert``/``confirm``/``prompt`` are replaced by a hook that marks
the document (``data-pwned``): markup from a device that became live (a ``<script>``, an
``onerror`` handler) and calls them shows in :data:`PROBE`'s answer. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import websockets

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

HOOK = """(() => {
  const mark = (how) => (...args) => {
    document.documentElement.setAttribute('data-pwned', how + ': ' + args.join(' '));
  };
  window.alert = mark('alert'); window.confirm = mark('confirm'); window.prompt = mark('prompt');
})();"""

PROBE = """(() => ({
  pwned: document.documentElement.getAttribute('data-pwned'),
  scripts: [...document.scripts].filter(s => /alert\\(/.test(s.textContent)).length,
  handlers: document.querySelectorAll('[onerror], [onload], img[src="x"]').length,
  text: document.body ? document.body.innerText : '',
  title: document.title,
}))()"""


def available() -> bool:
    return CHROMIUM.is_file() and bool(CHROMIUM.stat().st_mode & 0o111)


class _Cdp:
    """One DevTools connection: commands by id, events to whoever waits for them."""

    def __init__(self, ws: Any):
        self.ws, self.ids = ws, itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.events: asyncio.Queue = asyncio.Queue()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)
            elif "method" in message:
                self.events.put_nowait(message)

    async def send(self, method: str, session: str | None = None, **params: Any) -> dict:
        number = next(self.ids)
        future = self.pending[number] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"id": number, "method": method, "params": params,
                                       **({"sessionId": session} if session else {})}))
        answer = await future
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    async def event(self, method: str, session: str) -> dict:
        while True:
            message = await self.events.get()
            if message["method"] == method and message.get("sessionId") == session:
                return message.get("params", {})


async def probe(pages: list[Path], profile: Path, timeout: float = 30) -> dict[Path, dict]:
    """Load each page in turn in one tab of one headless Chromium; :data:`PROBE`'s answer for
    each, once its load event fired (each page within ``timeout`` seconds)."""
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "about:blank", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async with asyncio.timeout(timeout):
            while not (found := re.search(rb"DevTools listening on (ws://\S+)",
                                          line := await process.stderr.readline())):
                assert line, "chromium exited before it listened"
        async with websockets.connect(found.group(1).decode(), max_size=None) as ws:
            cdp = _Cdp(ws)
            async with asyncio.timeout(timeout):
                target = (await cdp.send("Target.createTarget", url="about:blank"))["targetId"]
                tab = (await cdp.send("Target.attachToTarget", targetId=target,
                                      flatten=True))["sessionId"]
                await cdp.send("Page.enable", tab)
                await cdp.send("Page.addScriptToEvaluateOnNewDocument", tab, source=HOOK)
            results = {}
            for page in pages:
                while not cdp.events.empty():  # nothing of the page before counts
                    cdp.events.get_nowait()
                async with asyncio.timeout(timeout):
                    navigated = await cdp.send("Page.navigate", tab, url=page.as_uri())
                    assert "errorText" not in navigated, (page, navigated)
                    await cdp.event("Page.loadEventFired", tab)
                    answer = await cdp.send("Runtime.evaluate", tab, expression=PROBE,
                                            returnByValue=True)
                results[page] = answer["result"]["value"]
            cdp.reader.cancel()
            return results
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)
