"""Test data the OCTT keeps in its configuration: the connector under test, the intervals and
timeouts the harness configures, the idTags. Rule: pure functions of the PICS; no I/O, no waits.
"""

from __future__ import annotations

import math
from typing import Any

from harness.states import connector_ids



DEFAULT = object()
"""Marker: use the harness's default answer."""


NO_LOCK = (lambda pics: not pics.features.has_lock,
           "the PICS says the connectors have no cable lock (features.cable is not "
           "\"socket_with_lock\"): there is no lock to lock, fail or open")
"""``na_when`` entry of the cases that need a cable lock."""


def connector_under_test(pics: Any) -> int:
    """The OCTT's <Configured ConnectorId>: the connector the scenarios use."""
    return 1


def other_connectors(pics: Any) -> list[int]:
    return [c for c in connector_ids(pics, with_zero=False) if c != connector_under_test(pics)]


def short_interval(pics: Any) -> int:
    """An interval (seconds) the harness configures for timers it then watches: the OCTT's
    <Configured Meter Value (Sample) interval>, <Configured Clock Aligned Data interval> and
    <Configured connectionTimeout>. Short, so that a case takes seconds (the keys are whole
    seconds: 1 at least); at least twice the PICS max_time_deviation, so that a timer that ignores
    the configured value cannot pass as "within the deviation"."""
    return max(1, math.ceil(2 * pics.timing.max_time_deviation))


def sample_interval(pics: Any) -> int:
    """<Configured Meter Value (Sample) interval> (MeterValueSampleInterval)."""
    return short_interval(pics)


def clock_aligned_interval(pics: Any) -> int:
    """<Configured Clock Aligned Data interval> (ClockAlignedDataInterval)."""
    return short_interval(pics)


def connection_timeout(pics: Any) -> int:
    """<Configured connectionTimeout> (ConnectionTimeOut)."""
    return short_interval(pics)


def quiet_period(pics: Any) -> float:
    """How long the harness watches for a message that must NOT come (a StartTransaction after an
    invalid idTag, a StopTransaction after a rejected request): the PICS triggered function
    timeout, the longest the device may take to send what an event causes. What has not come by
    then is not coming."""
    return pics.timing.triggered_function_timeout


def triggered(pics: Any) -> float:
    """Bound of a wait for a request that an action or a call causes."""
    return pics.timing.triggered_function_timeout


def valid_tag(pics: Any) -> str:
    """<Configured Valid IdTag>."""
    return pics.id_tags.valid
