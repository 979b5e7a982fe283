"""OCPP time: how the harness, its states and its simulators write and read an OCPP dateTime.

The contract, one for every caller:

- **Writing** (:func:`iso`, :func:`now_iso`): RFC 3339 in UTC with milliseconds and ``Z``
  (``2026-01-01T12:00:00.000Z``), the form every timestamp the harness and the simulators send
  uses. :func:`iso` takes an aware datetime; a naive one is read as UTC.
- **Reading** (:func:`parse_time`): a peer's text as an aware datetime in UTC, or None when it is
  not an RFC 3339 date-time: not a string, another shape, a day or time that does not exist, a
  leap second (datetime cannot hold second 60), or no timezone. A date-time without ``Z`` or an
  offset is ambiguous, so the harness does not guess (None); a reader that may guess passes
  ``default_zone`` (the simulators pass :data:`UTC`: lenient in what they accept, the harness is
  the one that judges). Fractions beyond microseconds are cut, not rounded. :func:`require_time`
  is the same reading for a value that must be one (a charging profile the model computes with):
  it raises ValueError instead of returning None.
- **Now** (:func:`now`): the wall clock, aware, in UTC. Waits and durations use the monotonic
  clock, never this.

Judging whether a device's date-time is valid is :mod:`harness.validation`'s job (the
``format:date-time`` finding); this module only reads the ones it is given.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo

__all__ = ["UTC", "now", "iso", "now_iso", "parse_time", "require_time"]

UTC = timezone.utc

_SHAPE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?"
                    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?").fullmatch


def now() -> datetime:
    """The current wall-clock time, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """``moment`` as OCPP writes it: UTC, milliseconds, ``Z`` (a naive datetime is read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current UTC time as OCPP writes it (:func:`iso` of :func:`now`)."""
    return iso(now())


def parse_time(text: object, *, default_zone: tzinfo | None = None) -> datetime | None:
    """``text`` as an aware datetime in UTC, or None when it is not an RFC 3339 date-time (see the
    module docstring); a date-time without a timezone is read in ``default_zone`` if given, else
    None."""
    if not isinstance(text, str):
        return None
    m = _SHAPE(text)
    if m is None:
        return None
    day, time, fraction, zone = m.groups()
    if zone is None:
        if default_zone is None:
            return None
        offset = ""
    else:
        offset = "+00:00" if zone in "Zz" else zone
    try:
        moment = datetime.fromisoformat(f"{day}T{time}{(fraction or '')[:7]}{offset}")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_zone)
    return moment.astimezone(UTC)


def require_time(text: object, *, default_zone: tzinfo | None = None) -> datetime:
    """:func:`parse_time` for a value that must be a date-time: ValueError naming it if not."""
    moment = parse_time(text, default_zone=default_zone)
    if moment is None:
        raise ValueError(f"not an RFC 3339 date-time with a timezone: {text!r}")
    return moment
