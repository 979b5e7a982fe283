"""PICS timing measurements: samples taken at the socket, statistics, and the verdict against the
values the PICS declares (the certificates' "Performance Measurement Results").

A :class:`Recorder` lives for a whole run. The session feeds it (``session.timing``): every answer
of the device to a harness CALL (:meth:`Recorder.call_answered`) and every request of the device
the harness answered (:meth:`Recorder.request_answered`). Test cases declare the one thing the
session cannot guess, which request a trigger of the harness caused, with :func:`triggered`.

Metrics (keys as in report.json, titles as the certificates print them):

- ``triggered_function`` "OCPP triggered function timeout": from the harness's trigger (its CALL
  handed to the socket) to the request it causes, read at the socket; PICS
  triggered_function_timeout. A TriggerMessage pairs with its requested message by itself; other
  triggers (RemoteStart -> StartTransaction, RemoteStop / UnlockConnector -> StopTransaction,
  ChangeAvailability -> StatusNotification ...) are declared by the test cases. Firmware update,
  diagnostics and reboot are excluded (as on the certificates): :func:`triggered` refuses them.
- ``response_time`` "OCPP response timeout": every device answer (CALLRESULT or CALLERROR) to a
  harness CALL, from the CALL handed to the socket to the answer read off it; PICS
  response_timeout.
- ``remote_start_response`` "Response time RemoteStartTransaction" (SUT cs) and
  ``authorize_response`` "Response time Authorize" (SUT csms): the same round trip for those
  actions, against their own PICS values.
- ``heartbeat_interval`` and ``meter_value_interval`` (SUT cs): how far the observed interval
  between two consecutive Heartbeats / sampled MeterValues strays from the configured
  HeartbeatInterval / MeterValueSampleInterval; PICS max_time_deviation. The configured value is
  what the harness set (BootNotification.conf interval, ChangeConfiguration Accepted) or read
  (GetConfiguration) during the run, never the PICS.

The harness's own time is measured apart and never counted against the device: for a round trip
the time from stamping the CALL (the wire log's "mono") to handing it to the socket (wire log
writing, checks); for an interval the harness's time to answer the first request.

A sample over its limit fails the test case in which it was taken (:meth:`Recorder.failures`),
unless the harness itself lagged while it was taken: each sample keeps the span it measured
(``start_ns``, ``end_ns``), and the run's :class:`harness.lag.LagMonitor` (:attr:`Recorder.lag`)
says how late the event loop was over it. Beyond the bound (harness.lag.LAG_BOUND_S) the sample is
*unreliable*: marked so in the report, left out of the figures, and, when over its limit, an
INCONCLUSIVE of its case with the figure (:meth:`Recorder.unreliable`), never a FAIL.
"""

from __future__ import annotations

import math
import statistics as stats
from dataclasses import dataclass, field
from typing import Any, Iterable

from harness import clock
from harness.lag import LagMonitor, lag_reason
from harness.report.model import Measurement


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    pics_key: str
    """The attribute of :class:`harness.pics.Timing` holding the declared limit."""
    sut: tuple[str, ...]
    """The SUTs the metric applies to (the certificates show it for those)."""
    interval_of: str | None = None
    """For interval accuracy: the configuration key the interval is judged against."""


METRICS: tuple[Metric, ...] = (
    Metric("triggered_function", "OCPP triggered function timeout", "triggered_function_timeout",
           ("cs",)),
    Metric("response_time", "OCPP response timeout", "response_timeout", ("cs", "csms")),
    Metric("remote_start_response", "Response time RemoteStartTransaction",
           "remote_start_response", ("cs",)),
    Metric("authorize_response", "Response time Authorize", "authorize_response", ("csms",)),
    Metric("heartbeat_interval", "Heartbeat interval accuracy", "max_time_deviation", ("cs",),
           interval_of="HeartbeatInterval"),
    Metric("meter_value_interval", "Meter value sample interval accuracy", "max_time_deviation",
           ("cs",), interval_of="MeterValueSampleInterval"),
)
BY_KEY = {m.key: m for m in METRICS}

EXCLUDED_TRIGGERS = frozenset({"UpdateFirmware", "GetDiagnostics", "Reset"})
"""Firmware update, diagnostics and reboot: excluded from the triggered function timeout (as the
certificates say), since their duration is the download, the upload or the boot."""

_ROUND_TRIP_METRIC = {"RemoteStartTransaction": "remote_start_response",
                      "Authorize": "authorize_response"}


@dataclass
class Sample:
    metric: str
    case: str
    value_s: float
    """Seconds; for interval accuracy the absolute deviation from the configured interval."""
    limit_s: float | None
    wire_log: str | None
    lines: list[int]
    what: str
    harness_s: float | None = None
    configured_s: float | None = None
    """Interval accuracy: the configured interval the sample was judged against."""
    start_ns: int = 0
    end_ns: int = 0
    """The span measured (time.monotonic_ns()), for the harness's lag over it."""
    lag_s: float | None = None
    """The event loop's worst lag over the span, once judged (None: not judged, no monitor)."""
    unreliable: bool = False
    """The harness lagged beyond its bound while taking it: not judged, not in the figures."""
    start_read: bool = False
    """The span starts at a frame the harness read (harness.lag.LagMonitor.lag_during)."""

    @property
    def over(self) -> bool:
        return self.limit_s is not None and self.value_s > self.limit_s

    @property
    def fails(self) -> bool:
        """Over its limit and measured while the harness kept time: the device's failure."""
        return self.over and not self.unreliable

    def reason(self) -> str:
        """Why this sample fails its case, with the figures."""
        metric = BY_KEY[self.metric]
        lines = ", ".join(map(str, self.lines))
        where = f"wire line{'s' if len(self.lines) > 1 else ''} {lines}"
        if metric.interval_of:
            return (f"{metric.title}: {self.what}, off by {fmt(self.value_s)}, PICS "
                    f"max_time_deviation is {self.limit_s:g} s ({where})")
        return f"{metric.title}: {self.what}, PICS declares {self.limit_s:g} s ({where})"

    def lag_reason(self, bound_s: float) -> str:
        """Why this sample over its limit is INCONCLUSIVE, not a FAIL."""
        return lag_reason(self.lag_s or 0.0, f"measuring {self.reason()}", bound_s)

    def to_json(self) -> dict:
        out = {"case": self.case, "value_s": round(self.value_s, 6),
               "harness_s": None if self.harness_s is None else round(self.harness_s, 6),
               "wire_log": self.wire_log, "lines": list(self.lines), "what": self.what}
        if self.lag_s is not None:
            out["lag_s"] = round(self.lag_s, 6)
        if self.unreliable:
            out["unreliable"] = True
        return out


def summary(values: Iterable[float]) -> dict[str, Any]:
    """n, min, median, p95 (nearest rank: the smallest value with at least 95 % of the samples at
    or below it, always a value that was measured) and max; None for an empty series."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return {"n": 0, "min_s": None, "median_s": None, "p95_s": None, "max_s": None}
    return {"n": n, "min_s": ordered[0], "median_s": stats.median(ordered),
            "p95_s": ordered[max(0, math.ceil(0.95 * n) - 1)], "max_s": ordered[-1]}


def _s(ns: int) -> float:
    return ns / 1e9


def _round(value: float | None) -> float | None:
    """Microseconds: the clock reads nanoseconds, the event loop is not that exact."""
    return None if value is None else round(value, 6)


def fmt(seconds: float) -> str:
    """A duration for a message: milliseconds below a second, else seconds."""
    return f"{seconds * 1000:.1f} ms" if abs(seconds) < 1 else f"{seconds:.3f} s"


@dataclass
class _Last:
    """The previous Heartbeat / sampled MeterValues, to pair with the next one."""
    request: Any
    link: Any
    configured: float


@dataclass
class Recorder:
    """The run's samples, per metric, and the configuration values the intervals are judged by."""
    timing: Any
    """The PICS [timing] (harness.pics.Timing)."""
    sut: str
    samples: list[Sample] = field(default_factory=list)
    configured: dict[str, float] = field(default_factory=dict)
    """HeartbeatInterval / MeterValueSampleInterval as the harness last set or read them."""
    case: str | None = None
    wire_log: str | None = None
    _last: dict[Any, _Last] = field(default_factory=dict)
    _trigger_messages: list[tuple[Any, dict]] = field(default_factory=list)
    """TriggerMessage calls answered Accepted whose requested message has not come yet."""
    _requests: list[Any] = field(default_factory=list)
    """The device's requests in this case: a triggered one may be read before the .conf reaches
    the call that waits for it (both in one TCP read), or even overtake it."""
    lag: LagMonitor | None = None
    """The run's event-loop monitor; without one every sample is judged as taken."""

    # --- test case boundaries -------------------------------------------------------------------

    def begin_case(self, case: str, wire_log: str | None) -> None:
        """Samples from now on belong to ``case``. Intervals are paired within one case only, so
        that the lines of a sample are lines of one wire log."""
        self.case, self.wire_log = case, wire_log
        self._last.clear()
        self._trigger_messages.clear()
        self._requests.clear()

    def restart_case(self) -> None:
        """What was measured in the current case so far is not the case's (the Idle state's
        clean-up before it: a device sending back to back the Heartbeats it held back behind the
        retries of an earlier case's refused message): dropped; the case is measured afresh."""
        self.samples = [s for s in self.samples if s.case != self.case]
        self._last.clear()
        self._trigger_messages.clear()
        self._requests.clear()

    def end_case(self) -> None:
        self.case = self.wire_log = None
        self._last.clear()
        self._trigger_messages.clear()
        self._requests.clear()

    def failures(self, case: str | None = None) -> list[str]:
        """The reasons of the samples of ``case`` (default: the current one) over their limit,
        taken while the harness kept time."""
        case = case or self.case
        return [s.reason() for s in self._judged(case) if s.fails]

    def unreliable(self, case: str | None = None) -> list[str]:
        """The samples of ``case`` over their limit that were taken while the harness lagged
        beyond its bound: 'harness lagged 730 ms while measuring ...' each (an INCONCLUSIVE)."""
        case = case or self.case
        bound = self.lag.bound_s if self.lag is not None else 0.0
        return [s.lag_reason(bound) for s in self._judged(case) if s.over and s.unreliable]

    def _judged(self, case: str | None = None) -> list[Sample]:
        """The samples (of ``case``, or all), each judged once against the harness's lag over
        its span: judged when first asked (the case's end, the report), by which time the loop
        has run the tick that saw a stall inside the span."""
        out = [s for s in self.samples if case is None or s.case == case]
        if self.lag is not None:
            for sample in out:
                if sample.lag_s is None and sample.end_ns:
                    sample.lag_s = self.lag.lag_during(sample.start_ns, sample.end_ns,
                                                       start_read=sample.start_read)
                    # A stamp is late by the lag at most: a sample over its limit by more than
                    # the lag is over whatever the lag did, and is judged.
                    sample.unreliable = sample.lag_s > self.lag.bound_s and not (
                        sample.limit_s is not None and sample.value_s - sample.lag_s > sample.limit_s)
        return out

    # --- samples --------------------------------------------------------------------------------

    def metrics(self) -> list[Metric]:
        return [m for m in METRICS if self.sut in m.sut]

    def limit(self, metric: str) -> float | None:
        return getattr(self.timing, BY_KEY[metric].pics_key, None)

    def add(self, metric: str, value_s: float, *, lines: Iterable[int], what: str,
            harness_s: float | None = None, configured_s: float | None = None,
            span: tuple[int, int] = (0, 0), start_read: bool = False) -> Sample | None:
        """Record a sample in the current case (none outside a case: it could not be cited);
        ``span``: the monotonic ns it measured, judged against the harness's lag (``start_read``:
        it starts at a frame the harness read)."""
        if metric not in BY_KEY:
            raise ValueError(f"unknown metric {metric!r}; one of {', '.join(BY_KEY)}")
        if self.case is None or self.sut not in BY_KEY[metric].sut:
            return None
        sample = Sample(metric, self.case, value_s, self.limit(metric), self.wire_log,
                        list(lines), what, harness_s, configured_s, *span)
        sample.start_read = start_read
        self.samples.append(sample)
        return sample

    def call_answered(self, response: Any, payload: dict) -> None:
        """The device answered a CALL of the harness (``response``: harness.session.Response with
        ``sent_ns`` and ``request_line`` set; ``payload``: what the harness sent)."""
        self._note_configuration(response, payload)
        if response.action == "TriggerMessage" and response.status == "Accepted":
            self._trigger_message_accepted(response, payload)
        sent = response.sent_ns or response.request.mono_ns
        device = _s(response.frame.mono_ns - sent)
        harness = _s(sent - response.request.mono_ns)
        answer = ("CALLERROR " + response.error.error_code) if response.error else "answered"
        what = f"{response.action} {answer} in {fmt(device)}"
        lines = [response.request_line, response.line]
        span = (sent, response.frame.mono_ns)
        self.add("response_time", device, lines=lines, what=what, harness_s=harness, span=span)
        if response.action in _ROUND_TRIP_METRIC:
            self.add(_ROUND_TRIP_METRIC[response.action], device, lines=lines, what=what,
                     harness_s=harness, span=span)

    def request_answered(self, request: Any, link: Any) -> None:
        """The device sent ``request`` (harness.session.Request) on ``link`` and the harness
        answered it (or chose not to)."""
        if request.action == "BootNotification":
            answer = request.answer if isinstance(request.answer, dict) else {}
            interval = answer.get("interval")
            # Only an Accepted boot's interval is the heartbeat interval (section 4.2); Pending
            # and Rejected carry the retry interval.
            if answer.get("status") == "Accepted" and isinstance(interval, int) and interval > 0:
                self.configured["HeartbeatInterval"] = float(interval)
        if self.case is not None:
            self._requests.append(request)
        if self._trigger_message_answered(request):
            # Sent on demand, off the device's schedule: it neither ends nor starts an interval.
            if request.action == "Heartbeat":
                self._last.pop("Heartbeat", None)
        elif request.action == "Heartbeat":
            self._heartbeat(request, link)
        elif request.action == "MeterValues":
            self._meter_values(request, link)

    def _trigger_message_answered(self, request: Any) -> bool:
        """TriggerMessage needs no declaration: the request it causes is the first one of the
        requested message (for the requested connector, if one was given) after the
        TriggerMessage.req left, once it was Accepted (section 5.17). This side pairs a request
        that comes after the .conf reached the call; :meth:`_trigger_message_accepted` one that
        was read before (same TCP read, or the device sent it first)."""
        for pending in self._trigger_messages:
            if _requested(pending[1], request):
                self._trigger_messages.remove(pending)
                self.triggered(pending[0], request)
                return True
        return False

    def _trigger_message_accepted(self, response: Any, payload: dict) -> None:
        """A TriggerMessage.conf Accepted: pair it with its request if that was read already,
        else wait for it."""
        sent = response.sent_ns or response.request.mono_ns
        for request in self._requests:
            if request.frame.mono_ns >= sent and _requested(payload, request) and \
                    self.triggered(response, request) is not None:
                # Sent on demand, off the device's schedule: it starts no interval.
                last = self._last.get("Heartbeat")
                if last is not None and last.request is request:
                    del self._last["Heartbeat"]
                return
        self._trigger_messages.append((response, payload))

    def triggered(self, trigger: Any, request: Any, what: str | None = None) -> Sample | None:
        """Declare that ``request`` (a device request, harness.session.Request) was caused by
        ``trigger``: the harness's call (its Response) or a frame the harness sent
        (harness.transport.Frame). Returns the sample, or None when it cannot be one: outside a
        case, an excluded trigger (firmware, diagnostics, reboot), or a request that arrived
        before the trigger left (it was not caused by it)."""
        action = getattr(trigger, "action", None)
        if action in EXCLUDED_TRIGGERS:
            return None
        if hasattr(trigger, "sent_ns"):  # a Response
            start = trigger.sent_ns or trigger.request.mono_ns
            lines = [trigger.request_line]
            harness = _s(start - trigger.request.mono_ns)
        else:  # a Frame the harness sent
            start, lines, harness = trigger.mono_ns, [], None
        value = request.frame.mono_ns - start
        if value < 0 or any(s.metric == "triggered_function" and s.case == self.case
                            and s.lines[-1] == request.line for s in self.samples):
            return None  # not caused by the trigger, or already declared
        what = what or f"{action or 'the trigger'} -> {request.action} in {fmt(_s(value))}"
        return self.add("triggered_function", _s(value), lines=[*lines, request.line], what=what,
                        harness_s=harness, span=(start, request.frame.mono_ns))

    # --- the report -----------------------------------------------------------------------------

    def measurements(self) -> list:
        """One harness.report.model.Measurement per metric of the SUT, measured or not."""
        out = []
        judged = self._judged()
        for metric in self.metrics():
            samples = [s for s in judged if s.metric == metric.key]
            reliable = [s for s in samples if not s.unreliable]
            figures = summary(s.value_s for s in reliable)
            harness = [s.harness_s for s in reliable if s.harness_s is not None]
            limit = self.limit(metric.key)
            ok = None if not reliable or limit is None else not any(s.over for s in reliable)
            if ok and any(s.over for s in samples):
                ok = None  # over only where the harness lagged: no verdict either way
            figures = {k: v if k == "n" else _round(v) for k, v in figures.items()}
            out.append(Measurement(
                name=metric.key, title=metric.title, pics_s=limit, measured_s=figures["max_s"],
                harness_median_s=_round(stats.median(harness)) if harness else None, ok=ok,
                unit_note=self._unit_note(metric, samples), samples=[s.to_json() for s in samples],
                unreliable=len(samples) - len(reliable), **figures))
        return out

    def unreliable_count(self) -> int:
        """Samples of the run not judged because the harness lagged."""
        return sum(1 for s in self._judged() if s.unreliable)

    @staticmethod
    def _unit_note(metric: Metric, samples: list[Sample]) -> str:
        if not metric.interval_of:
            return ""
        configured = sorted({s.configured_s for s in samples if s.configured_s is not None})
        against = (", ".join(f"{c:g} s" for c in configured) if configured
                   else f"the {metric.interval_of}")
        return f"interval accuracy vs configured {against}"

    # --- intervals ------------------------------------------------------------------------------

    def _note_configuration(self, response: Any, payload: dict) -> None:
        """Keep HeartbeatInterval / MeterValueSampleInterval as the harness set or read them."""
        keys = {"heartbeatinterval": "HeartbeatInterval",
                "metervaluesampleinterval": "MeterValueSampleInterval"}
        if response.action == "ChangeConfiguration" and response.status == "Accepted":
            name = keys.get(str(payload.get("key", "")).casefold())
            if name:
                self._set_configured(name, payload.get("value"))
        elif response.action == "GetConfiguration" and response.error is None:
            for entry in response.get("configurationKey") or []:
                name = keys.get(str(entry.get("key", "")).casefold())
                if name:
                    self._set_configured(name, entry.get("value"))

    def _set_configured(self, name: str, value: Any) -> None:
        try:
            seconds = float(str(value).strip())
        except ValueError:
            return  # a value that is not a number: another test case judges that
        if math.isfinite(seconds):
            self.configured[name] = seconds

    def _heartbeat(self, request: Any, link: Any) -> None:
        configured = self.configured.get("HeartbeatInterval")
        previous = self._last.get("Heartbeat")
        self._last["Heartbeat"] = _Last(request, link, configured or 0.0)
        if previous is None or not configured or previous.configured != configured:
            return
        # HeartbeatInterval is an "interval of inactivity (no OCPP exchanges)" (section 9.1.12),
        # while many charge points run a plain timer. Both readings agree on a clean interval:
        # nothing but the first Heartbeat's answer between the two (same connection, no other
        # frame, no event). Only those are judged.
        answered = previous.request.answer_frame is not None
        if previous.link is not link or request.line != previous.request.line + 1 + answered:
            return
        self._interval("heartbeat_interval", previous.request, request, configured)

    def _meter_values(self, request: Any, link: Any) -> None:
        if not _sampled(request.payload):
            return
        key = ("MeterValues", request.get("connectorId"), request.get("transactionId"))
        if _replayed(request, self.timing.max_time_deviation):
            self._last.pop(key, None)  # the sampling was disrupted: start afresh after it
            return
        configured = self.configured.get("MeterValueSampleInterval")
        previous = self._last.get(key)
        self._last[key] = _Last(request, link, configured or 0.0)
        if previous is None or not configured or previous.configured != configured \
                or previous.link is not link:
            return
        self._interval("meter_value_interval", previous.request, request, configured)

    def _interval(self, metric: str, first: Any, second: Any, configured: float) -> None:
        observed = _s(second.frame.mono_ns - first.frame.mono_ns)
        harness = (_s(first.answer_frame.mono_ns - first.frame.mono_ns)
                   if first.answer_frame is not None else None)
        key = BY_KEY[metric].interval_of
        what = (f"{second.action} {fmt(observed)} after the previous one, configured {key} "
                f"{configured:g} s")
        self.add(metric, abs(observed - configured), lines=[first.line, second.line], what=what,
                 harness_s=harness, configured_s=configured,
                 span=(first.frame.mono_ns, second.frame.mono_ns), start_read=True)


def _requested(payload: dict, request: Any) -> bool:
    """Whether ``request`` is the message a TriggerMessage.req ``payload`` asked for."""
    connector = payload.get("connectorId")
    return payload.get("requestedMessage") == request.action and (
        connector is None or request.get("connectorId", connector) == connector)


def _sampled(payload: dict) -> bool:
    """A MeterValues.req of periodic samples: every sampledValue's context is Sample.Periodic or
    omitted (its default). Clock-aligned, triggered, begin/end readings are not samples."""
    values = [v for mv in payload.get("meterValue") or [] for v in mv.get("sampledValue") or []]
    return bool(values) and all(v.get("context", "Sample.Periodic") == "Sample.Periodic"
                                for v in values)


def _replayed(request: Any, deviation: float) -> bool:
    """A MeterValues.req whose own timestamp is older than its arrival by more than the PICS
    max_time_deviation: data queued while offline and sent in a burst after the reconnection. Its
    arrival says nothing about the sampling interval, so it is not paired. A timestamp that cannot
    be read counts as replayed too: not judged rather than judged wrongly."""
    stamps = []
    for mv in request.get("meterValue") or []:
        moment = clock.parse_time(mv.get("timestamp"))
        if moment is None:
            return True  # cannot tell: not judged, rather than judged wrongly
        stamps.append(moment)
    if not stamps:
        return True
    age = request.frame.wall_ns / 1e9 - max(stamps).timestamp()
    return age > deviation


# --- the run's recorder, for test cases ---------------------------------------------------------
# The run owns its Recorder (harness.plugin's OcppRun, on the pytest config's stash) and gives it
# to the session it holds (Session.timing); a case reaches it through that session, no global.

def triggered(session: Any, trigger: Any, request: Any, what: str | None = None) -> Sample | None:
    """Test cases: ``request`` (a device request) was caused by ``trigger`` (the harness's
    Response, or a Frame it sent), e.g. ``timing.triggered(cp, remote_start, start_transaction)``.
    Recorded as an "OCPP triggered function timeout" sample into the run's recorder, which
    ``session`` carries (:attr:`harness.session.Session.timing`); nothing when it carries none."""
    recorder = getattr(session, "timing", None)
    if recorder is None:
        return None
    return recorder.triggered(trigger, request, what)


def judge(session: Any, first: Any, second: Any, ok: bool, message: str,
          by_s: float | None = None) -> None:
    """Test cases: a timing the case measured itself between two stamps of the harness (``first``,
    ``second``: device requests or frames, e.g. two Heartbeats) holds (``ok``), else FAIL with
    ``message`` -- unless the harness lagged beyond its bound over that span (the session's
    harness.lag.LagMonitor) by as much as the timing missed its tolerance (``by_s``; unknown:
    any lag beyond the bound): then INCONCLUSIVE with the lag, never a FAIL of the device. A
    stamp is late by the lag at most, so a timing missed by more than the lag is a FAIL."""
    if ok:
        return
    monitor = getattr(session, "lag", None)
    if monitor is not None:
        start, end = (getattr(x, "frame", x).mono_ns for x in (first, second))
        lag = monitor.lagged(min(start, end), max(start, end))
        if lag is not None and (by_s is None or by_s <= lag):
            from harness.verdicts import Inconclusive
            raise Inconclusive(lag_reason(lag, f"measuring: {message}", monitor.bound_s))
    raise AssertionError(message)
