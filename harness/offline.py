"""Offline validation (``python -m harness validate``): logs from anywhere, streamed, judged by the
live session's own :class:`harness.protocol.Checker`.

Rules, in the order a line meets them:

1. A log is a file (gzip or not, told by its first bytes), a folder (every ``*.jsonl``,
   ``*.ndjson``, ``*.json``, ``*.log``, ``*.txt``, each also ``.gz``, below it, sorted) or a glob.
   Its format is told by the first recognisable line, and holds for the whole file:

   ``jsonl``
       JSON Lines. A line is one of: a wire-log frame line of this harness
       (``{"ts", "mono", "from", "frame"[, "raw"][, "findings"]}``, ``ts`` and ``mono`` optional
       and never judged); a wire-log event line (``{"event": NAME, "detail": {...}}``: ``connected``
       and ``closed`` start a new connection, every other event, known or not, carries no frame and
       is passed over); a frame object without a direction (``{"frame": [...]}``) or a bare OCPP-J
       frame (``[2, "id", "Heartbeat", {}]``), whose sender is ``--from``, else inferred: a CALL by
       its action where only one side may send it (DataTransfer may come from either), an answer as
       the other side of the outstanding CALL it names. A line that cannot be read (truncated,
       corrupt, not UTF-8, an object that is neither) is a finding of that line (``log.line``); a
       frame whose sender cannot be told is one too (``log.direction``), and is not judged.
   ``ocpp-python``
       The logging lines of the PyPI ``ocpp`` library (mobilityhouse/ocpp, the most used Python
       implementation, on both sides), ``ocpp.charge_point.ChargePoint``: ``"%s: receive message
       %s"`` and ``"%s: send %s"`` (charge point id, frame text), after any logging prefix
       (``INFO:ocpp:CP_1: receive message [2,...]`` with ``logging.basicConfig``, or a timestamp).
       One connection per charge point id. The library runs on either side, so the side that wrote
       the log is inferred per id from the first CALL whose action only one side may send; the
       frames before it wait (a connection's first frame is normally its BootNotification).
   ``steve``
       The ``WebSocketLogger`` lines of SteVe (steve-community/steve, the most deployed open-source
       OCPP 1.6J central system): ``[chargeBoxId=ID, sessionId=S] Received: FRAME`` (from the
       charge point), ``... Sending: FRAME`` (from SteVe), ``... Connection is established`` and
       ``... Connection is closed, status: ...``. One connection per session id.

   In the two implementation formats every other line is other log output and is passed over.
2. Each line is parsed once (orjson) and the frame is judged straight from the parsed array. What
   orjson cannot read as written is re-read exactly (the standard library, Decimal): a line it
   refuses (lone surrogates, nesting beyond 1024), and, before a schema finding is reported or
   where a schema uses ``multipleOf``, the numbers (orjson reads integers wider than 64 bits and
   decimals with more digits than a double as floats). A wire log's ``raw`` text wins over its
   parsed ``frame`` (harness.wirelog).
3. Findings are reported in line order, then the CALLs never answered (``rpc.unanswered``), by the
   line of the CALL. Memory holds the findings and each connection's pairing state (its uniqueIds),
   never the frames.
4. ``--jobs N`` judges files side by side and cuts a large plain JSON Lines file into byte ranges,
   one process each. A range is judged from an empty pairing state; its parent then replays, in
   order, what the state before the range changes: answers the range could not pair are paired
   with the CALLs still pending before it and judged again, its unanswered CALLs carry forward; a
   range whose CALLs reuse a uniqueId of the connection before it is judged again in order. The
   output is the one of ``--jobs 1``, byte for byte.
"""

from __future__ import annotations

import codecs
import gc
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from glob import glob, has_magic
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from harness import rpc
from harness.findings import Finding
from harness.protocol import Checker
from harness.validation import Validator

SENDERS = frozenset({"cp", "csms"})
_OTHER = {"cp": "csms", "csms": "cp"}
CP_ONLY = rpc.CP_ACTIONS - rpc.CSMS_ACTIONS
CSMS_ONLY = rpc.CSMS_ACTIONS - rpc.CP_ACTIONS
LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".txt")
DETECT_LINES = 1000
"""How many leading lines may pass before the format is known; none recognised: not a log."""
CHUNK_BYTES = 2 << 20
"""--jobs: a file of at least twice this is cut into ranges (:func:`_spans`)."""
TAIL_BYTES_PER_CHUNK = 4
"""--jobs: the last, shortest ranges are CHUNK_BYTES / this (512 KiB, ~2 ms of judging)."""

_STEVE = re.compile(
    r"\[chargeBoxId=(?P<id>[^,\]]*), sessionId=(?P<session>[^\]]*)\] (?:(?P<verb>Received|Sending): "
    r"(?P<frame>.*)|(?P<event>Connection is established|Connection is closed))")
_OCPP_PY = re.compile(r"(?:^|[\s:])(?P<id>[^\s:]+): (?P<verb>receive message|send) (?P<frame>.*)")


class LogError(Exception):
    """A log that cannot be judged at all (unreadable, empty, not a log); the message names it."""


# --- findings placed in a log ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Reported:
    """A finding placed in the log: the line of the frame that broke the rule."""
    line: int
    sender: str
    action: str | None
    unique_id: str | None
    finding: Finding

    def text(self, log: str) -> str:
        kind = " (remark)" if self.finding.is_remark else ""
        return (f"{log}:{self.line}: {self.sender} {self.action or '?'} {self.finding.path}: "
                f"{self.finding.message} [{self.finding.rule}]{kind}")

    def to_json(self) -> dict:
        return {"line": self.line, "from": self.sender, "action": self.action,
                "uniqueId": self.unique_id, **self.finding.to_json()}


@dataclass(slots=True)
class Unanswered:
    """A CALL still pending when its connection ended (``why``: connected, closed, end)."""
    line: int
    sender: str
    action: str
    unique_id: str
    why: str
    why_line: int = 0

    def reported(self, offset: int = 0) -> Reported:
        because = {"connected": f"a new connection began at line {self.why_line + offset}",
                   "closed": f"the connection closed at line {self.why_line + offset}",
                   "end": "the log ends"}[self.why]
        return Reported(self.line + offset, self.sender, self.action, self.unique_id, Finding(
            "rpc.unanswered", "frame",
            f"CALL {self.action} {self.unique_id!r} was never answered ({because})",
            self.unique_id))


@dataclass
class Result:
    """One log judged."""
    log: str
    frames: int = 0
    findings: list[Reported] = field(default_factory=list)
    error: str | None = None
    format: str | None = None


def _line_finding(message: str, value: Any = None) -> Finding:
    return Finding("log.line", "line", message, value)


def _preview(line: bytes | str, limit: int = 120) -> str:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


# --- opening -----------------------------------------------------------------------------------

def expand(specs: Iterable[str]) -> list[str]:
    """The log files named by files, folders and globs, in the order given (a folder's and a
    glob's files sorted). A name that matches nothing is kept, to be reported as unreadable."""
    out: list[str] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            out += sorted(str(p) for p in path.rglob("*") if p.is_file() and _is_log_name(p.name))
        elif has_magic(spec) and not path.exists():
            matches = sorted(glob(spec, recursive=True))
            files = [m for m in matches if Path(m).is_file()]
            for m in matches:
                if Path(m).is_dir():
                    files += expand([m])
            out += files or [spec]
        else:
            out.append(spec)
    return list(dict.fromkeys(out))


def _is_log_name(name: str) -> bool:
    name = name[:-3] if name.endswith(".gz") else name
    return not name.startswith(".") and name.endswith(LOG_SUFFIXES)


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_lines(path: str) -> io.BufferedIOBase:
    """The file's bytes, decompressed when it is gzip. Raises LogError when it cannot be read."""
    try:
        if _is_gzip(path):
            import gzip  # here: a plain log's start-up does without it (1 ms)
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb", buffering=1 << 20)
    except OSError as exc:
        raise LogError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _kind_of(line: bytes) -> str | None:
    """The format a line shows, or None when it shows none. A JSON line is JSON Lines even when
    a string in it looks like an implementation's log line; SteVe's logback prefix (``[INFO ]``)
    is no JSON array."""
    try:
        orjson.loads(line)
        return "jsonl"
    except orjson.JSONDecodeError:
        pass
    text = line.decode("utf-8", "replace")
    if _STEVE.search(text):
        return "steve"
    if _OCPP_PY.search(text):
        return "ocpp-python"
    if line.lstrip()[:1] in (b"{", b"["):
        return "jsonl"  # a JSON line, if a broken one
    return None


# --- judging -------------------------------------------------------------------------------------

class _NeedsOrder(Exception):
    """A range of a log cannot be judged on its own (a frame's sender must be inferred)."""


def _exact_line(line: bytes) -> Any:
    """The frame of a JSON Lines line with its numbers as written (Decimal, wide integers)."""
    obj = rpc.loads(line, exact=True)
    if isinstance(obj, dict):
        raw = obj.get("raw")
        return rpc.loads(raw, exact=True) if isinstance(raw, str) else obj.get("frame")
    return obj


class _Connection:
    __slots__ = ("checker", "lines", "role", "waiting")

    def __init__(self, validator: Validator):
        self.checker = Checker(validator)
        self.lines: dict[tuple[str, str], int] = {}
        """(sender, uniqueId) of each CALL -> its line, for reporting it unanswered."""
        self.role: str | None = None
        """ocpp-python: the side that wrote the log, once known."""
        self.waiting: list[tuple[int, str, str]] = []
        """ocpp-python: (line, verb, text) of frames read before the role was known."""


class Judge:
    """Judges one log's lines in order. ``chunk=True`` judges a range of a log from an empty
    pairing state and keeps what its parent needs to join the ranges (rule 4)."""

    def __init__(self, validator: Validator, default_sender: str | None = None,
                 chunk: bool = False):
        self.validator = validator
        self.default_sender = default_sender
        self.chunk = chunk
        self.connections: dict[Any, _Connection] = {}
        self.frames = 0
        self.events = 0
        self.reported: list[Reported] = []
        self.unanswered: list[Unanswered] = []
        self.format: str | None = None
        # chunk mode: the first connection boundary, the answers that named no CALL before it.
        self.first_reset: tuple[int, str] | None = None
        self.first_used: dict[str, set[str]] | None = None
        self.orphans: list[tuple[int, str, str, bytes]] = []

    # -- connections

    def connection(self, key: Any = None) -> _Connection:
        conn = self.connections.get(key)
        if conn is None:
            conn = self.connections[key] = _Connection(self.validator)
        return conn

    def end_connection(self, key: Any, why: str, line: int = 0) -> None:
        conn = self.connections.pop(key, None)
        if self.chunk and key is None and self.first_reset is None:
            self.first_reset = (line, why)
            self.first_used = conn.checker._used_ids if conn else {"cp": set(), "csms": set()}
        if conn is None:
            return
        self._flush_waiting(conn)
        for (sender, unique_id), call in conn.checker.pending.items():
            self.unanswered.append(Unanswered(conn.lines.get((sender, unique_id), 0), sender,
                                              call.action, unique_id, why, line))

    def _record(self, number: int, sender: str, checked: Any, conn: _Connection,
                line: bytes | None = None) -> None:
        """Book one judged frame (the slow path's half of run_jsonl's inlined loop)."""
        self.frames += 1
        unique_id = checked.unique_id
        if checked.message_type == 2 and unique_id is not None:
            conn.lines[(sender, unique_id)] = number
        if checked.findings:
            self._findings(number, sender, checked, line)

    def _findings(self, number: int, sender: str, checked: Any, line: bytes | None) -> None:
        if (self.chunk and self.first_reset is None and checked.call is None
                and checked.message_type in (3, 4) and checked.unique_id is not None):
            self.orphans.append((number, sender, checked.unique_id, line or b""))
        for finding in checked.findings:
            self.reported.append(Reported(number, sender, checked.action, checked.unique_id,
                                          finding))

    def finish(self, offset: int = 0) -> list[Reported]:
        """Every finding: the frames' in line order, then the unanswered CALLs by line."""
        for key in list(self.connections):
            self.end_connection(key, "end")
        self.reported.sort(key=lambda r: r.line)  # the ocpp-python waits can reorder
        unanswered = sorted(self.unanswered, key=lambda u: u.line)
        return self.reported + [u.reported(offset) for u in unanswered]

    # -- JSON Lines

    def run_jsonl(self, lines: Iterable[bytes], number: int = 0) -> int:
        """Judge JSON Lines; returns the number of the last line read."""
        conn = self.connection()
        valid, check, calls = conn.checker.check_valid, conn.checker.check_array, conn.lines
        loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
        default = self.default_sender
        frames = 0  # this loop's fast-path frames; the slow path counts its own
        for line in lines:
            number += 1
            try:
                obj = loads(line)
            except JSONDecodeError:
                obj = None
            else:
                # The hot path, inlined: a wire-log frame line with its parsed array.
                if type(obj) is dict and "raw" not in obj:
                    frame = obj.get("frame")
                    sender = obj.get("from", default)
                    if type(frame) is list and (sender == "cp" or sender == "csms"):
                        frames += 1
                        booked = valid(sender, frame, line)  # a valid CALL or CALLRESULT
                        if booked is not None:
                            if booked is not True:
                                calls[booked] = number
                            continue
                        checked = check(sender, frame, None, _exact_line, line)
                        if checked.message_type == 2:
                            calls[(sender, checked.unique_id)] = number
                        if checked.findings:
                            self._findings(number, sender, checked, line)
                        continue
            self._jsonl_slow(number, line, obj)
            conn = self.connection()  # an event line may have begun a new connection
            valid, check, calls = conn.checker.check_valid, conn.checker.check_array, conn.lines
        self.frames += frames
        return number

    def _jsonl_slow(self, number: int, line: bytes, obj: Any) -> None:
        if obj is None:
            if not line.strip():
                return
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.reported.append(Reported(number, "?", None, None, _line_finding(
                    f"not UTF-8 text ({exc.reason}): a corrupt line", _preview(line))))
                return
            try:
                obj = rpc.loads(text, exact=True)  # what orjson refuses but JSON allows
            except (ValueError, RecursionError) as exc:
                why = "nested too deep to read" if isinstance(exc, RecursionError) else \
                    f"not JSON ({exc})"
                self.reported.append(Reported(number, "?", None, None, _line_finding(
                    f"{why}: a truncated or corrupt line", _preview(line))))
                return
        if isinstance(obj, list):
            self._frame(number, None, obj, None, line)
            return
        if not isinstance(obj, dict):
            self.reported.append(Reported(number, "?", None, None, _line_finding(
                f"a JSON {type(obj).__name__}, not a frame, a frame object or an event line",
                _preview(line))))
            return
        if "event" in obj:
            event = obj["event"]
            if not isinstance(event, str):
                self.reported.append(Reported(number, "?", None, None, _line_finding(
                    "\"event\" must be a string", _preview(line))))
                return
            self.events += 1
            if event in ("connected", "closed"):
                # uniqueIds and pending calls belong to one WebSocket connection (OCPP-J
                # 4.1.3): a reconnect starts afresh and what was pending stays unanswered.
                self.end_connection(None, event, number)
            return
        if "frame" not in obj:
            self.reported.append(Reported(number, "?", None, None, _line_finding(
                "a JSON object with neither \"frame\" nor \"event\"", _preview(line))))
            return
        sender = obj.get("from")
        if sender is not None and sender not in SENDERS:
            self.reported.append(Reported(number, "?", None, None, _line_finding(
                f"\"from\" must be \"cp\" or \"csms\", found {sender!r}", _preview(line))))
            return
        frame, raw = obj["frame"], obj.get("raw")
        if raw is not None and not isinstance(raw, str):
            self.reported.append(Reported(number, "?", None, None, _line_finding(
                "\"raw\" must be the frame's text", _preview(line))))
            return
        if raw is not None:
            self._frame(number, sender, None, raw, line)
        elif isinstance(frame, str):
            self._frame(number, sender, None, frame, line)
        else:
            self._frame(number, sender, frame, None, line)

    def _frame(self, number: int, sender: str | None, array: Any, text: str | None,
               line: bytes) -> None:
        """A frame of a JSON Lines log: ``array`` parsed, or ``text`` to parse."""
        conn = self.connection()
        if sender is None:
            sender = self.default_sender or self._infer(conn, array, text)
            if sender is None:
                self.reported.append(Reported(number, "?", None, None, Finding(
                    "log.direction", "frame", "cannot tell who sent this frame (an action "
                    "either side may send, or an answer to no CALL of one side only): give the "
                    "line \"from\": \"cp\" or \"csms\", or run with --from", _preview(line))))
                return
        if text is not None:
            checked = conn.checker.check(sender, text)
        else:
            checked = conn.checker.check_array(sender, array, None, _exact_line, line)
        self._record(number, sender, checked, conn, line)

    def _infer(self, conn: _Connection, array: Any, text: str | None) -> str | None:
        if self.chunk:
            raise _NeedsOrder
        if array is None:
            try:
                array = rpc.load_frame(text)
            except rpc.FramingError:
                return None
        if not isinstance(array, list) or len(array) < 2:
            return None
        kind, unique_id = array[0], array[1]
        if kind == 2 and len(array) > 2:
            action = array[2]
            return "cp" if action in CP_ONLY else "csms" if action in CSMS_ONLY else None
        if kind in (3, 4) and isinstance(unique_id, str):
            pending = conn.checker.pending
            by_cp, by_csms = ("cp", unique_id) in pending, ("csms", unique_id) in pending
            if by_cp != by_csms:
                return "csms" if by_cp else "cp"
        return None

    # -- implementation logs

    def run_text(self, lines: Iterable[bytes], fmt: str, number: int = 0) -> int:
        pattern = _STEVE if fmt == "steve" else _OCPP_PY
        for raw in lines:
            number += 1
            text = raw.decode("utf-8", "replace")
            m = pattern.search(text)
            if m is None:
                continue
            if fmt == "steve":
                key = ("steve", m["id"], m["session"])
                if m["event"]:
                    self.events += 1
                    self.end_connection(key, "connected" if "established" in m["event"]
                                        else "closed", number)
                    continue
                sender = "cp" if m["verb"] == "Received" else "csms"
                conn = self.connection(key)
                self._record(number, sender, conn.checker.check(sender, m["frame"].rstrip()),
                             conn)
            else:
                conn = self.connection(("ocpp-python", m["id"]))
                verb = "receive" if m["verb"] == "receive message" else "send"
                frame = m["frame"].rstrip()
                if conn.role is None:
                    conn.role = self._role(verb, frame)
                    if conn.role is None:
                        conn.waiting.append((number, verb, frame))
                        continue
                    self._flush_waiting(conn)
                self._text_frame(conn, number, verb, frame)
        return number

    def _text_frame(self, conn: _Connection, number: int, verb: str, frame: str) -> None:
        sender = conn.role if verb == "send" else _OTHER[conn.role]
        self._record(number, sender, conn.checker.check(sender, frame), conn)

    @staticmethod
    def _role(verb: str, frame: str) -> str | None:
        """The side that wrote an ocpp-python log, from a CALL only one side may send."""
        try:
            array = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return None
        if type(array) is list and len(array) == 4 and array[0] == 2:
            sender = "cp" if array[2] in CP_ONLY else "csms" if array[2] in CSMS_ONLY else None
            if sender is not None:
                return sender if verb == "send" else _OTHER[sender]
        return None

    def _flush_waiting(self, conn: _Connection) -> None:
        waiting, conn.waiting = conn.waiting, []
        for number, verb, frame in waiting:
            if conn.role is None:
                self.reported.append(Reported(number, "?", None, None, Finding(
                    "log.direction", "frame", "cannot tell who sent this frame: no CALL of "
                    "this charge point's connection shows which side wrote the log",
                    _preview(frame))))
            else:
                self._text_frame(conn, number, verb, frame)


# --- one log, whole ------------------------------------------------------------------------------

def judge_log(path: str, validator: Validator | None = None,
              default_sender: str | None = None) -> Result:
    """Judge one log file from its first line to its last."""
    validator = validator or Validator.default()
    result = Result(path)
    try:
        fh = open_lines(path)
    except LogError as exc:
        result.error = str(exc)
        return result
    judge = Judge(validator, default_sender)
    try:
        with fh:
            head: list[bytes] = []
            fmt = None
            for line in fh:
                head.append(line)
                if line.strip():
                    fmt = _kind_of(line)
                    if fmt is not None or len(head) >= DETECT_LINES:
                        break
            if fmt is None:
                result.error = (f"{path}: empty log" if not any(h.strip() for h in head) else
                                f"{path}: not a log this command reads: none of its first "
                                f"{len(head)} lines is a wire-log line, an OCPP-J frame, or a "
                                "line of the ocpp library's or SteVe's logs")
                return result
            result.format = judge.format = fmt
            if head[0].startswith(codecs.BOM_UTF8):
                head[0] = head[0][len(codecs.BOM_UTF8):]
            broken: list[str] = []
            lines: Iterable[bytes] = chain(head, fh)
            if not isinstance(fh, io.BufferedReader):  # gzip.open's GzipFile
                lines = _guarded(lines, broken)  # a plain file is not cut mid-read
            number = judge.run_jsonl(lines) if fmt == "jsonl" else judge.run_text(lines, fmt)
            if broken:
                # A log cut while it was written or copied: what was read is judged, and the
                # cut is a finding of the line after the last one read.
                judge.reported.append(Reported(number + 1, "?", None, None, _line_finding(
                    f"the file ends early: {broken[0]} (a truncated or corrupt file)")))
    except OSError as exc:
        result.error = f"{path}: cannot read: {exc}"
        return result
    result.frames = judge.frames
    result.findings = judge.finish()
    if not judge.frames and not judge.events:
        detail = f" ({result.findings[0].finding.message}, line {result.findings[0].line})" \
            if result.findings else ""
        result.error = f"{path}: no frame and no event in the log{detail}"
    return result


def _guarded(lines: Iterator[bytes], broken: list[str]) -> Iterator[bytes]:
    """``lines`` until the file cannot be read on (a gzip stream cut short or corrupt); the reason
    goes into ``broken``."""
    import gzip
    import zlib

    try:
        yield from lines
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        broken.append(str(exc) or type(exc).__name__)


# --- --jobs: ranges of one file ------------------------------------------------------------------

@dataclass
class _Range:
    """What judging one byte range of a JSON Lines log from an empty state gives."""
    lines: int
    frames: int
    events: int
    reported: list[Reported]
    unanswered: list[Unanswered]
    orphans: list[tuple[int, str, str, bytes]]
    first_reset: tuple[int, str] | None
    first_used: dict[str, set[str]]
    tail_pending: list[tuple[tuple[str, str], str, int]]
    tail_used: dict[str, set[str]]
    ordered: bool = False
    """True when the range needs its sender inferred: judge the file in order instead."""


def _spans(path: str, jobs: int) -> list[tuple[int, int]]:
    """The byte ranges ``jobs`` processes judge a file in, each from a line start, shrinking as
    they go (guided self-scheduling): each range is 1/(2 jobs) of what is left after the ones
    before it, down to CHUNK_BYTES / TAIL_BYTES_PER_CHUNK. A process takes the next range when
    it is done with one, so the ones they finish on are short, and the processes end within a
    few milliseconds of each other; equal ranges (16 of 2.8 MB for the benchmark's log) left up
    to one range, ~25 ms, between the first process to finish and the last. 45 MB in 2 jobs: 17
    ranges, 11.2 MB down to 0.5 MB."""
    size = os.path.getsize(path)
    least = max(1, CHUNK_BYTES // TAIL_BYTES_PER_CHUNK)
    targets, position = [], 0
    while size - position > least:
        position += max((size - position) // (2 * jobs), least)
        targets.append(position)
    cuts = [0]
    with open(path, "rb") as fh:
        for target in targets:
            fh.seek(min(target, size) - 1)
            fh.readline()  # to the start of the next line (the target itself when it is one)
            position = fh.tell()
            if cuts[-1] < position < size:
                cuts.append(position)
    cuts.append(size)
    return list(zip(cuts, cuts[1:]))


READ_BLOCK = 64 << 10
"""--jobs: a range is read in blocks of this many bytes: below malloc's mmap threshold (128 KiB),
so each block reuses the memory of the one before. 1 MiB blocks were mapped afresh each time: 12,600
page faults for the benchmark's log with --jobs 2 against 6,100 (one process: 3,000)."""


def _read_range(path: str, start: int, end: int) -> Iterator[bytes]:
    """The lines of the bytes ``[start, end)`` of a file (both line starts, or ``end`` its size),
    each with its b"\n" as iterating the file gives them. Read a block at a time and split in C
    (BytesIO.readlines: b"\n" only, as the file's own lines): no Python step per line. Counting
    each line's length to find the range's end cost a generator step per line, 21 ms of the
    workers' CPU on the benchmark's 100,000 frames (their judging 380 ms against one process's
    359)."""
    return chain.from_iterable(_range_blocks(path, start, end))


def _range_blocks(path: str, start: int, end: int) -> Iterator[list[bytes]]:
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        left, carry = end - start, b""
        while left > 0:
            block = fh.read(min(READ_BLOCK, left))
            if not block:
                break
            left -= len(block)
            lines = io.BytesIO(carry + block if carry else block).readlines()
            # A line cut by the block's end waits for the next block.
            carry = lines.pop() if left > 0 and not lines[-1].endswith(b"\n") else b""
            yield lines
        if carry:
            yield [carry]


def _judge_range(task: tuple[str, int, int, str | None]) -> _Range:
    path, start, end, default_sender = task
    judge = Judge(Validator.default(), default_sender, chunk=True)
    try:
        lines = judge.run_jsonl(_read_range(path, start, end))
    except _NeedsOrder:
        return _Range(0, 0, 0, [], [], [], None, {}, [], {}, ordered=True)
    conn = judge.connections.get(None)
    tail_pending = [] if conn is None else [
        (key, call.action, conn.lines.get(key, 0)) for key, call in conn.checker.pending.items()]
    tail_used = {"cp": set(), "csms": set()} if conn is None else conn.checker._used_ids
    first_used = judge.first_used if judge.first_reset is not None else tail_used
    return _Range(lines, judge.frames, judge.events, judge.reported, judge.unanswered,
                  judge.orphans, judge.first_reset, first_used, tail_pending, tail_used)


def _judge_file_task(task: tuple[str, str | None]) -> Result:
    path, default_sender = task
    return judge_log(path, Validator.default(), default_sender)


class _Joiner:
    """Joins the ranges of one file in order into the result ``judge_log`` gives (rule 4)."""

    def __init__(self, path: str, validator: Validator, default_sender: str | None):
        self.path, self.validator, self.default_sender = path, validator, default_sender
        self.result = Result(path, format="jsonl")
        self.offset = 0  # lines before the range
        self.events = 0
        self.pending: dict[tuple[str, str], tuple[str, int]] = {}
        """The connection's pending CALLs before the range: key -> (action, absolute line)."""
        self.used: dict[str, set[str]] = {"cp": set(), "csms": set()}
        self.unanswered: list[Unanswered] = []

    def add(self, piece: _Range, span: tuple[int, int]) -> None:
        if any(self.used[s] & piece.first_used.get(s, set()) for s in SENDERS):
            piece = self._in_order(span)  # a uniqueId reused across the cut: judge it in order
        off = self.offset
        findings = [r if not off else replace(r, line=r.line + off) for r in piece.reported]
        for number, sender, unique_id, line in piece.orphans:
            key = (_OTHER[sender], unique_id)
            if key not in self.pending:
                continue  # unmatched in order too
            action, call_line = self.pending.pop(key)
            judge = Judge(self.validator, self.default_sender)
            conn = judge.connection()
            conn.checker.pending[key] = rpc.Call(unique_id, action, {})
            judge.run_jsonl([line], number + off - 1)
            findings = [r for r in findings if r.line != number + off] + judge.reported
            findings.sort(key=lambda r: r.line)
        self.result.findings += findings
        for u in piece.unanswered:
            self.unanswered.append(replace(u, line=u.line + off, why_line=u.why_line + off))
        if piece.first_reset is not None:
            line, why = piece.first_reset
            for (sender, unique_id), (action, call_line) in self.pending.items():
                self.unanswered.append(Unanswered(call_line, sender, action, unique_id, why,
                                                  line + off))
            self.pending = {}
            self.used = {s: set(piece.tail_used.get(s, ())) for s in SENDERS}
        else:
            for s in SENDERS:
                self.used[s] |= piece.tail_used.get(s, set())
        for key, action, line in piece.tail_pending:
            self.pending[key] = (action, line + off)
        self.result.frames += piece.frames
        self.events += piece.events
        self.offset += piece.lines

    def _in_order(self, span: tuple[int, int]) -> _Range:
        """Judge a range in the parent, starting from the true pairing state."""
        judge = Judge(self.validator, self.default_sender, chunk=True)
        conn = judge.connection()
        for key, (action, line) in self.pending.items():
            conn.checker.pending[key] = rpc.Call(key[1], action, {})
            conn.lines[key] = line - self.offset
        conn.checker._used_ids = {s: set(self.used[s]) for s in SENDERS}
        self.pending, self.used = {}, {"cp": set(), "csms": set()}
        lines = judge.run_jsonl(_read_range(self.path, *span))
        judge.orphans = []  # paired in order already
        conn = judge.connections.get(None)
        tail_pending = [] if conn is None else [
            (key, call.action, conn.lines.get(key, 0)) for key, call in conn.checker.pending.items()]
        tail_used = {"cp": set(), "csms": set()} if conn is None else conn.checker._used_ids
        return _Range(lines, judge.frames, judge.events, judge.reported, judge.unanswered, [],
                      judge.first_reset, {}, tail_pending, tail_used)

    def finish(self) -> Result:
        for (sender, unique_id), (action, line) in self.pending.items():
            self.unanswered.append(Unanswered(line, sender, action, unique_id, "end"))
        self.unanswered.sort(key=lambda u: u.line)
        self.result.findings += [u.reported() for u in self.unanswered]
        if not self.result.frames and not self.events:
            self.result.error = f"{self.path}: no frame and no event in the log"
        return self.result


def _splittable(path: str) -> bool:
    try:
        if os.path.getsize(path) < 2 * CHUNK_BYTES or _is_gzip(path):
            return False
        with open(path, "rb") as fh:
            for line in fh:
                if line.strip():
                    return _kind_of(line) == "jsonl"
    except OSError:
        return False
    return False


def judge_logs(paths: list[str], jobs: int = 1, default_sender: str | None = None) -> Iterator[Result]:
    """Judge logs in order, ``jobs`` processes side by side; yields one Result per log, in the
    order of ``paths``, each the same as ``judge_log`` gives."""
    validator = Validator.default()  # read once, before the workers fork
    if jobs <= 1 or not hasattr(os, "fork"):
        for path in paths:
            yield judge_log(path, validator, default_sender)
        return
    plan: list[tuple[str, list[tuple[int, int]] | None]] = []
    tasks: list[tuple[Any, tuple]] = []
    for path in paths:
        if _splittable(path):
            # Many ranges, shrinking: a process slowed by the rest of the machine holds up
            # less of the file, as the others take its share, and the last ones are short.
            spans = _spans(path, jobs)
            plan.append((path, spans))
            tasks += [(_judge_range, (path, a, b, default_sender)) for a, b in spans]
        else:
            plan.append((path, None))
            tasks.append((_judge_file_task, (path, default_sender)))
    results = _forked(tasks, jobs)
    for path, spans in plan:
        if spans is None:
            result = next(results)
            yield result if isinstance(result, Result) else judge_log(path, validator,
                                                                      default_sender)
            continue
        # Joined as the ranges come back in order, while the workers judge the next ones: after
        # the last range only its own join is left.
        joiner: _Joiner | None = _Joiner(path, validator, default_sender)
        for span in spans:
            piece = next(results)  # every range is read, whatever happens to the join
            if joiner is not None and (not isinstance(piece, _Range) or piece.ordered):
                joiner = None
            if joiner is not None:
                joiner.add(piece, span)
        # A range that raised or needs its senders inferred: the file in order, in this process.
        yield joiner.finish() if joiner is not None else judge_log(path, validator,
                                                                   default_sender)


def _forked(tasks: list[tuple[Any, tuple]], jobs: int) -> Iterator[Any]:
    """Run ``fn(args)`` for each task in ``jobs`` forked processes; yield the results in task
    order (an exception's text, as a string, where a task raised). Workers take the next task
    index from one pipe written before they fork (no pool threads, nothing polled), and send
    each result back, length-prefixed, on their own pipe."""
    import pickle
    import selectors
    import struct

    if not tasks:
        return
    jobs = min(jobs, len(tasks))
    todo_read, todo_write = os.pipe()
    indices = struct.pack(f"<{len(tasks)}I", *range(len(tasks)))
    if len(indices) > 60_000:  # a pipe holds 64 KiB: beyond that, no task pipe
        yield from (fn(args) for fn, args in tasks)
        return
    os.write(todo_write, indices)
    os.close(todo_write)
    gc.freeze()  # what exists now is never collected in a worker: its pages stay shared
    workers: list[tuple[int, int]] = []
    for _ in range(jobs):
        out_read, out_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            code = 0
            try:
                os.close(out_read)
                for _, other in workers:
                    os.close(other)
                while True:
                    raw = os.read(todo_read, 4)
                    if len(raw) < 4:
                        break
                    (index,) = struct.unpack("<I", raw)
                    fn, args = tasks[index]
                    try:
                        value: Any = fn(args)
                    except Exception as exc:  # noqa: BLE001 - the parent judges in order then
                        value = f"{type(exc).__name__}: {exc}"
                    data = pickle.dumps((index, value), protocol=pickle.HIGHEST_PROTOCOL)
                    view = memoryview(struct.pack("<Q", len(data)) + data)
                    while view:
                        view = view[os.write(out_write, view):]
            except BaseException:  # noqa: BLE001 - a worker must never run the parent's code
                code = 1
            finally:
                os._exit(code)
        os.close(out_write)
        workers.append((pid, out_read))
    gc.unfreeze()
    os.close(todo_read)
    done: dict[int, Any] = {}
    buffers = {fd: bytearray() for _, fd in workers}
    selector = selectors.DefaultSelector()
    for _, fd in workers:
        selector.register(fd, selectors.EVENT_READ)
    following = 0
    try:
        while following < len(tasks):
            while following in done:
                yield done.pop(following)
                following += 1
            if following >= len(tasks):
                break
            if not selector.get_map():
                # Every worker has gone and a task never came back (a worker was killed).
                done[following] = "a worker process ended without its result"
                continue
            for key, _ in selector.select():
                chunk = os.read(key.fd, 1 << 20)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buffer = buffers[key.fd]
                buffer += chunk
                while len(buffer) >= 8:
                    (size,) = struct.unpack_from("<Q", buffer)
                    if len(buffer) < 8 + size:
                        break
                    index, value = pickle.loads(bytes(buffer[8:8 + size]))
                    del buffer[:8 + size]
                    done[index] = value
    finally:
        selector.close()
        for pid, fd in workers:
            os.close(fd)
        for pid, _ in workers:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
