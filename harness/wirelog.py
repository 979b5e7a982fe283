"""The wire log: every frame of a test case, one JSON object a line (JSON Lines), flushed per line.

Frame lines (DESIGN 2.6)::

    {"ts": "2026-11-21T10:00:00.123Z", "mono": 1234.567890123, "from": "cp",
     "frame": [2, "42", "Heartbeat", {}], "findings": [...]}

- ``ts``: wall clock, RFC 3339 UTC, milliseconds; ``mono``: monotonic clock in seconds, for
  measuring intervals (the wall clock may step).
- ``frame``: the parsed OCPP-J array when the text was a JSON array; otherwise (not JSON, or JSON
  that is not an array) the text itself, as a string. A string ``frame`` is therefore always raw
  text, never a parsed JSON string, and reading it back gives the same verdict.
- ``findings``: only when the frame broke a rule when it was received (``Finding.to_json``).
- ``raw``: the frame's text exactly as received, present only when writing the parsed array back
  out would change what a validator sees. Numbers are why: the array holds binary floats, and the
  offline validator re-reads numbers as exact decimals where a schema uses ``multipleOf``. The
  rule: ``raw`` is stored when the array re-serialised with orjson and the received text, both
  parsed with exact decimals (``rpc.loads(exact=True)``), differ in value or JSON type. So
  ``0.1``, ``7.10`` and ``1E2`` come back as ``0.1``, ``7.1`` and ``100.0``, the same decimal
  values, without ``raw`` (nearly every real frame costs nothing extra); ``1.00000000000000001``
  (read as the float 1.0), integers wider than 64 bits (orjson reads them as floats) and ``1e400``
  (beyond float range) get ``raw``. Whitespace, key order and string escapes never add it;
  duplicate object keys are not preserved (the validator, too, sees only the last one).

Event lines, for what is not a frame::

    {"ts": ..., "mono": ..., "event": "connected",
     "detail": {"url": "ws://...", "subprotocol": "ocpp1.6"}}

Known events: ``connected`` (one per WebSocket connection: offline validation starts a fresh
pairing state there, as uniqueIds only need to be unique per connection), ``closed`` (``code``,
``reason``), ``binary`` (a binary frame, which OCPP-J does not use: ``length``, ``hex``), ``error``,
``driver``: a manual or operator action (harness.drivers), two lines per action: ``phase``
``"asked"`` (``action``, ``params``, ``instruction``: what an operator reads, ``timeout_s``) when
the driver is asked, then ``"answered"`` (``action``, ``elapsed_s``, ``outcome``: ``done`` with the
rig's ``reply`` body, ``not done`` with the ``reason`` and the rig's HTTP ``status`` if it gave one,
``timeout``, ``not applicable``, ``abandoned`` when the case stopped waiting, ``error``). ``for``:
``"idle"`` when the harness did it to bring the device idle before the case, not a step of the
case. Frames that came while the rig worked lie between the two lines. Offline validation skips
them.
``handshake`` (a connection attempt that became a WebSocket: ``stage``, ``peer``, ``path``,
``status``, ``subprotocols_offered``, ...), ``refused`` (one the harness refused or that failed:
the same, plus ``rule`` and ``reason``, and the header or certificate field at fault; a
``note`` "before this test case" when it came between cases; never a password),
``invalid_utf8`` (a text frame that is not UTF-8: ``length``, ``reason``, ``hex``, all its bytes),
``invalid_on_purpose``. The offline validator reads every event line and judges frames only.

Each line is written with one ``write`` on a line-buffered file and flushed, so a crashed run keeps
every line written before the crash (an OS crash may still lose what the kernel had not written).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from harness import rpc
from harness.findings import Finding

SENDERS = ("cp", "csms")

MASK = "***"
_SECRETS: set[str] = set()
"""Values never written: the harness's own passwords (FTP, Basic auth). Process-wide, as the
secrets are: a file server's random password may appear in any case's frames."""


def secret(value: str | None) -> None:
    """Mask ``value`` (8 characters or more) from now on in every wire log line and in every
    text passed through :func:`redact` (reasons, the report)."""
    if value and len(value) >= 8:
        from urllib.parse import quote

        _SECRETS.update({value, quote(value, safe="")})


def _authorization_key_secret(text: str) -> None:
    """A ChangeConfiguration.req setting AuthorizationKey (the charge point's next HTTP Basic
    password, whoever chose it): its value becomes a secret before the frame is written."""
    try:
        frame = rpc.loads(text)
    except (ValueError, RecursionError):
        return
    if isinstance(frame, list) and len(frame) == 4 and frame[0] == 2 \
            and frame[2] == "ChangeConfiguration" and isinstance(frame[3], dict) \
            and frame[3].get("key") == "AuthorizationKey" and isinstance(frame[3].get("value"), str):
        value = frame[3]["value"]
        secret(value)
        try:  # its plain form too (the white paper's value is the password in hexadecimal)
            secret(bytes.fromhex(value).decode("utf-8"))
        except ValueError:
            pass


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for value in _SECRETS:
        if value in text:
            text = text.replace(value, MASK)
    return text


class WireLogError(ValueError):
    """The file is not a wire log (or not a readable one); the message names the file and line."""


def _timestamp(wall_ns: int) -> str:
    secs, ns = divmod(wall_ns, 1_000_000_000)
    # Truncated, not rounded, to milliseconds: rounding up could print ".1000".
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns // 1_000_000:03d}Z"


def _dumps(value: Any) -> str:
    """JSON text for a value. orjson refuses integers wider than 64 bits and lone surrogates (both
    can arrive in a frame); the standard library takes those, with ASCII escapes for surrogates."""
    try:
        return orjson.dumps(value, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        try:
            return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)
        except RecursionError:
            raise _TooDeep from None


class _TooDeep(ValueError):
    """A value nested deeper than the serialisers go (a device's frame can be)."""


def _preview_of(value: Any) -> str:
    from harness.findings import _preview
    return f"<not representable in JSON here: {_preview(value)}>"


def _same(a: Any, b: Any) -> bool:
    """Equal in value and JSON type (True is not 1, 1 is not Decimal 1.0; key order aside)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _needs_raw(text: str, serialised: str) -> bool:
    if serialised == text:
        return False
    try:
        return not _same(rpc.loads(text, exact=True), rpc.loads(serialised, exact=True))
    except (ValueError, RecursionError):
        return True


class WireLog:
    """Writes one test case's wire log. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8", buffering=1, newline="\n")

    def write_frame(self, sender: str, text: str | bytes, mono_ns: int, wall_ns: int,
                    findings: Iterable[Finding] = ()) -> None:
        """Record one text frame as received (or sent), with the clocks read at the socket."""
        if sender not in SENDERS:
            raise ValueError(f"sender must be 'cp' or 'csms', got {sender!r}")
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if "AuthorizationKey" in text:
            _authorization_key_secret(text)  # a central system's new Basic auth password
        if _SECRETS:
            # A password inside a URL (UpdateFirmware location) becomes ***: still a valid URI.
            text = redact(text)
        line: dict[str, Any] = {"ts": _timestamp(wall_ns), "mono": mono_ns / 1e9, "from": sender}
        try:
            parsed = rpc.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list):
            line["frame"] = parsed
            try:
                if _needs_raw(text, _dumps(parsed)):
                    line["raw"] = text
            except _TooDeep:
                line["frame"] = text
        else:
            line["frame"] = text
        found = [f.to_json() for f in findings]
        if found:
            line["findings"] = found
        try:
            self._write(line)
        except _TooDeep:
            # Parsed, but too deep to write back out as an array: the text itself, as received
            # (a string frame is always raw text), and the findings' values as text previews.
            line["frame"] = text
            line.pop("raw", None)
            for finding in found:
                if not isinstance(finding["value"], (str, int, float, bool, type(None))):
                    finding["value"] = _preview_of(finding["value"])
            self._write(line)

    def write_event(self, event: str, mono_ns: int, wall_ns: int, **detail: Any) -> None:
        """Record something that is not a frame (connection opened or closed, binary frame ...)."""
        if not isinstance(event, str) or not event:
            raise ValueError(f"event must be a non-empty string, got {event!r}")
        self._write({"ts": _timestamp(wall_ns), "mono": mono_ns / 1e9, "event": event,
                     "detail": detail}, masked=True)

    def _write(self, line: dict, masked: bool = False) -> None:
        if self._file.closed:
            raise ValueError(f"wire log {self.path} is closed")
        text = _dumps(line)
        if masked and _SECRETS:
            text = redact(text)
        self._file.write(text + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> WireLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a wire log: a frame (``sender`` and ``text`` set) or an event (``event`` set).
    ``ts`` and ``mono`` are None where the line has none (a log written by another tool, or cut
    down by hand: offline validation never needs them, the report leaves their time blank)."""
    line: int
    ts: str | None
    mono: float | None
    sender: str | None = None
    text: str | None = None
    """The frame's text, good for re-judging: ``raw`` if stored, else the array dumped again."""
    findings: tuple[dict, ...] = ()
    """The findings recorded when the frame was received."""
    event: str | None = None
    detail: dict | None = None

    @property
    def is_frame(self) -> bool:
        return self.event is None


def read(path: str | Path) -> Iterator[LogLine]:
    """Yield the lines of a wire log; blank lines are skipped. Raises :class:`WireLogError`, naming
    the file and the line, for a file that cannot be read or a line that is not a wire log line."""
    source = Path(path)
    try:
        fh = source.open("r", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise WireLogError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    with fh:
        number = 0
        try:
            for number, text in enumerate(fh, start=1):
                if text.strip():
                    yield _parse_line(source, number, text)
        except UnicodeDecodeError as exc:
            raise WireLogError(f"{source}:{number + 1}: not UTF-8 text, so not a wire log "
                               f"({exc.reason})") from exc


def _parse_line(source: Path, number: int, text: str) -> LogLine:
    where = f"{source}:{number}"
    try:
        obj = rpc.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireLogError(f"{where}: not a wire log line: not JSON ({exc})") from exc
    if not isinstance(obj, dict):
        raise WireLogError(f"{where}: not a wire log line: expected a JSON object, "
                           f"found {type(obj).__name__}")
    ts, mono = obj.get("ts"), obj.get("mono")
    if ts is not None and not isinstance(ts, str):
        raise WireLogError(f"{where}: not a wire log line: \"ts\" must be an RFC 3339 string, "
                           f"found {ts!r}")
    if mono is not None and (not isinstance(mono, (int, float)) or isinstance(mono, bool)):
        raise WireLogError(f"{where}: not a wire log line: \"mono\" must be a number of seconds, "
                           f"found {mono!r}")
    if mono is not None:
        mono = float(mono)
    if "event" not in obj and "frame" not in obj and "from" not in obj:
        raise WireLogError(f"{where}: not a wire log line: no \"frame\" and no \"event\"")
    if "event" in obj:
        event, detail = obj["event"], obj.get("detail", {})
        if not isinstance(event, str) or not isinstance(detail, dict):
            raise WireLogError(f"{where}: an event line needs \"event\" (a string) and \"detail\" "
                               f"(an object)")
        return LogLine(number, ts, mono, event=event, detail=detail)
    sender = obj.get("from")
    if sender not in SENDERS:
        raise WireLogError(f"{where}: not a wire log line: \"from\" must be \"cp\" or \"csms\", "
                           f"found {sender!r}")
    if "frame" not in obj:
        raise WireLogError(f"{where}: not a wire log line: no \"frame\" and no \"event\"")
    frame, raw = obj["frame"], obj.get("raw")
    if raw is not None and not isinstance(raw, str):
        raise WireLogError(f"{where}: \"raw\" must be the frame's text, found {_kind(raw)}")
    if raw is not None:
        frame_text = raw
    elif isinstance(frame, list):
        frame_text = _dumps(frame)
    elif isinstance(frame, str):
        frame_text = frame
    else:
        raise WireLogError(f"{where}: \"frame\" must be the OCPP-J array or the raw text, found "
                           f"{_kind(frame)}")
    findings = obj.get("findings", [])
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise WireLogError(f"{where}: \"findings\" must be a list of objects")
    return LogLine(number, ts, mono, sender, frame_text, tuple(findings))


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
