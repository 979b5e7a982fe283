"""The driver interface: how a test case asks for what OCPP cannot do itself (DESIGN 2.5).

Rules of this module:

- Every action has one name on the wire (the DUT control protocol, docs/driver-protocol.md), a
  convenience method here with Python argument names, and a plain-words instruction for an operator.
  Charge point actions are snake_case (``plug_in``); CSMS operator actions are the OCPP action the
  central system must send, by its OCPP name (``RemoteStartTransaction``).
- Every action goes through :meth:`Driver.act`, whatever the driver: it bounds the wait, and records
  the action and its outcome as two ``driver`` event lines in the wire log of the case (the
  ``recorder``), so the report's sequence diagram shows "operator: Plug the EV cable into connector
  1." between the frames, and its answer.
- Every payload a driver is given is exact JSON (:func:`to_json`): a Decimal goes out as written.
- A driver says what it cannot do by the exception's type: :class:`ActionNotDone` (refused,
  with the rig's status if it gave one), :class:`ActionTimedOut` (no answer in time). Both are
  INCONCLUSIVE: a precondition was not reached, the device is not to blame.
- A rig may declare its capabilities (:meth:`Driver.capabilities`): the actions it can perform, or
  None for every action. A case needing an action outside them is N/A before it starts.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import json
import math
import re
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Callable

from harness.verdicts import ActionNotDone, ActionTimedOut, Inconclusive, NotApplicable

__all__ = ["Driver", "CHARGE_POINT_ACTIONS", "OPTIONAL_ACTIONS", "describe", "is_csms_action",
           "python_name", "check_timeout", "to_json", "ActionNotDone", "ActionTimedOut",
           "acting_for", "parse_capabilities"]


_PURPOSE: contextvars.ContextVar[str] = contextvars.ContextVar("driver_purpose", default="case")


@contextlib.contextmanager
def acting_for(purpose: str) -> Iterator[None]:
    """Actions done inside are recorded as done for ``purpose`` (``"idle"``: bringing the device
    idle before a case; ``"run"``: the start of the run) rather than by the case's own steps."""
    token = _PURPOSE.set(purpose)
    try:
        yield
    finally:
        _PURPOSE.reset(token)


def _conn(p: dict) -> Any:
    return p.get("connectorId", "?")


def _id_tag(p: dict) -> str:
    where = f" (connector {p['connectorId']})" if p.get("connectorId") is not None else ""
    return f"Present the id tag '{p.get('idTag', '?')}' to the RFID reader{where}."


# action -> (its parameters, the instruction an operator reads). The parameter names are those of
# the protocol, so a rig implementer and an operator see the same thing.
CHARGE_POINT_ACTIONS: dict[str, tuple[tuple[str, ...], Callable[[dict], str]]] = {
    "plug_in": (("connectorId",), lambda p: f"Plug the EV cable into connector {_conn(p)}."),
    "unplug": (("connectorId",), lambda p: f"Unplug the EV cable from connector {_conn(p)}."),
    "present_id_tag": (("idTag", "connectorId?"), _id_tag),
    "power_cycle": ((), lambda p: "Power-cycle the charge point: switch it off, then on again."),
    "power_off": ((), lambda p: "Switch the charge point off (cut its power supply) and leave it off."),
    "power_on": ((), lambda p: "Switch the charge point on again (restore its power supply)."),
    "go_offline": ((), lambda p: "Take the charge point offline: cut its network connection to the "
                                 "central system, but keep it powered."),
    "go_online": ((), lambda p: "Bring the charge point back online: restore its network connection "
                                "to the central system."),
    "report_fault": (("connectorId", "errorCode"),
                     lambda p: f"Cause the fault {p.get('errorCode', '?')} on connector {_conn(p)}, "
                               "so that the charge point reports it."),
    "clear_fault": (("connectorId",), lambda p: f"Clear the fault on connector {_conn(p)}, so that it "
                                                "works normally again."),
    "ev_suspend": (("connectorId",), lambda p: f"Make the EV on connector {_conn(p)} stop drawing "
                                               "power (the EV suspends charging)."),
    "ev_resume": (("connectorId",), lambda p: f"Make the EV on connector {_conn(p)} draw power again "
                                              "(the EV resumes charging)."),
    "lock_failure": (("connectorId",), lambda p: f"Make the cable lock of connector {_conn(p)} fail to "
                                                 "lock (e.g. insert the plug only half-way)."),
    "unlock_failure": (("connectorId",), lambda p: f"Make the cable lock of connector {_conn(p)} fail to "
                                                   "unlock, so that an unlock request cannot succeed."),
    "local_list_failure": ((), lambda p: "Make the charge point unable to store the next local "
                                         "authorization list (e.g. fill its list memory), so that a "
                                         "SendLocalList ends Failed."),
    "refuse_reservation": ((), lambda p: "Set the charge point not to accept reservations, so that "
                                         "the next ReserveNow is answered Rejected."),
    "remove_cable": (("connectorId",), lambda p: f"Remove the charging cable from the socket of "
                                                 f"connector {_conn(p)} at the charge point (the EV "
                                                 "end is already unplugged)."),
    "reset_device": ((), lambda p: "Put the charge point back into its known starting state (factory "
                                   "settings or the lab's baseline configuration, no transaction, "
                                   "no reservation, no charging profile, cables out), then let it "
                                   "connect to the central system."),
}
"""``unplug`` is the EV side: the plug leaves the EV (a fixed cable, or a socket whose cable stays
locked in, stays at the charge point). ``remove_cable`` takes a cable out of the charge point's
socket. ``reset_device``, optional, is offered before a run starts when the rig declares it."""

OPTIONAL_ACTIONS = frozenset({"reset_device"})
"""Actions the harness uses only when the rig declares them; no case needs them."""


def parse_capabilities(value: Any, source: str) -> frozenset[str]:
    """A rig's declared capabilities: a list of action names, or an object with ``actions`` (a list
    of names, or an object keyed by name, as the reference simulators' ``GET /`` gives). A
    ValueError naming ``source`` for anything else."""
    if isinstance(value, dict) and "actions" in value:
        value = value["actions"]
    if isinstance(value, dict):
        value = list(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{source}: capabilities must be a list of action names or "
                         f'{{"actions": [...]}}, got {value!r:.200}')
    names = list(value)
    bad = [n for n in names if not isinstance(n, str) or not n]
    if bad:
        raise ValueError(f"{source}: capabilities must be action names (strings), got {bad[:5]!r}")
    return frozenset(names)


def is_csms_action(action: str) -> bool:
    """OCPP action names are CamelCase; the charge point actions are snake_case."""
    return action[:1].isupper()


def python_name(action: str) -> str:
    """The method name a ``python:`` driver object implements: ``RemoteStartTransaction`` ->
    ``remote_start_transaction``; charge point actions are already Python names."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", action).lower()


def to_json(value: Any, *, sort_keys: bool = False, readable: bool = False) -> str:
    """The exact JSON text of what a driver is given: every HTTP body, operator instruction and
    wire-log event goes through here. A ``Decimal`` (the harness keeps limits as written, e.g.
    ``Decimal('0.1')``, ``Decimal('7.10')``) is written as the number it is, digit for digit: no
    binary float in between. NaN and infinities have no JSON spelling and are refused, as are
    values that are not JSON (a ValueError naming the path). ``readable``: ``", "`` and ``": "``
    between items, for an operator's eyes."""
    parts: list[str] = []
    _emit(value, parts, sort_keys, (", ", ": ") if readable else (",", ":"), "$")
    return "".join(parts)


def _emit(value: Any, out: list[str], sort_keys: bool, seps: tuple[str, str], path: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(int.__repr__(value))  # an IntEnum too, as its number
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not a JSON number")
        out.append(float.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{path}: {value!r} is not a JSON number")
        out.append(str(value))  # '0.1', '7.10', '1E+2', '-0': each a valid JSON number
    elif isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        out.append("{")
        for i, (key, item) in enumerate(items):
            if not isinstance(key, str):
                raise ValueError(f"{path}: the key {key!r} is not a string")
            out.append((seps[0] if i else "") + json.dumps(key, ensure_ascii=False) + seps[1])
            _emit(item, out, sort_keys, seps, f"{path}.{key}")
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(seps[0])
            _emit(item, out, sort_keys, seps, f"{path}[{i}]")
        out.append("]")
    else:
        raise ValueError(f"{path}: a {type(value).__name__} is not JSON ({value!r})")


def describe(action: str, params: dict | None) -> str:
    """The plain-words instruction for an operator."""
    p = params or {}
    if action in CHARGE_POINT_ACTIONS:
        return CHARGE_POINT_ACTIONS[action][1](p)
    if is_csms_action(action):
        payload = to_json(p.get("payload", {}), sort_keys=True, readable=True)
        return (f"Make the central system send {action} to charge point "
                f"{p.get('chargePointId', '?')} with: {payload}")
    return f"Do the action '{action}' with: {to_json(p, sort_keys=True, readable=True)}"


def _safely(record: Callable[..., None], event: str, **detail: Any) -> None:
    """A wire log that cannot take the line (closed at the end of a case) must not undo the action."""
    try:
        record(event, **detail)
    except (ValueError, OSError):
        pass


_SECRET_KEYS = frozenset({"authorizationkey", "password", "secret", "token"})
_MAX_LOGGED = 4000


def _loggable(value: Any) -> Any:
    """What a ``driver`` event line holds of params or a reply: the exact JSON read back (so a
    Decimal is a number, not a string), secrets masked, a body of more than 4000 characters cut
    (its text, truncated, in its place)."""
    try:
        text = to_json(_masked(value))
    except (ValueError, RecursionError):
        return repr(value)[:_MAX_LOGGED]
    if len(text) > _MAX_LOGGED:
        return f"{text[:_MAX_LOGGED]}... ({len(text)} characters in all)"
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _instruction(action: str, params: dict) -> str:
    """What the operator reads, secrets masked, for the wire log."""
    try:
        return describe(action, _masked(params))
    except (ValueError, RecursionError):
        return action


def _masked(value: Any, depth: int = 0) -> Any:
    if depth > 50:
        raise ValueError("nested too deep")
    if isinstance(value, dict):
        if isinstance(value.get("key"), str) and value["key"].lower() in _SECRET_KEYS \
                and "value" in value:  # ChangeConfiguration {"key": "AuthorizationKey", "value": ...}
            return {**value, "value": "***"}
        return {k: "***" if isinstance(k, str) and k.lower() in _SECRET_KEYS else
                _masked(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v, depth + 1) for v in value]
    return value


def check_timeout(timeout: float) -> float:
    """Every driver wait is bounded; a missing or nonsensical bound is a bug in the caller."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise ValueError(f"a driver timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


class Driver(abc.ABC):
    """Performs manual and operator actions. Subclasses implement ``perform``, which returns the
    reply body ({} if none) and raises :class:`ActionNotDone` / :class:`ActionTimedOut` (or any
    :class:`~harness.verdicts.Inconclusive`) when the action could not be done in time. Callers use
    :meth:`act` or the convenience methods, never ``perform`` directly: ``act`` records."""

    recorder: Callable[..., None] | None = None
    """Where the ``driver`` event lines go: ``recorder(event, **detail)``, the session's
    ``record_event`` (the wire log of the case under way). None: not recorded."""

    declared: frozenset[str] | None = None
    """The rig's capabilities as read by :meth:`load_capabilities`; None: every action."""

    @abc.abstractmethod
    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        """Do ``action`` with the protocol's ``params`` within ``timeout`` seconds."""

    async def capabilities(self, *, timeout: float) -> frozenset[str] | None:
        """The actions this rig can perform, or None if it does not say (every action)."""
        return None

    capabilities_known: bool = False
    """The rig answered :meth:`load_capabilities` (declaring something or nothing). False while it
    could not be reached: the plugin asks again before the next case."""

    async def load_capabilities(self, *, timeout: float) -> frozenset[str] | None:
        """Ask the rig (at the start of the run, and again before a case while it could not be
        reached); :meth:`cannot` answers from what it said."""
        try:
            self.declared = await self.capabilities(timeout=check_timeout(timeout))
        except ActionNotDone:  # not reachable now: every action, until it answers
            self.declared, self.capabilities_known = None, False
            return None
        self.capabilities_known = True
        return self.declared

    def cannot(self, actions: Iterable[str]) -> list[str]:
        """Of ``actions``, those the rig declared it cannot do (sorted); none if it declared nothing."""
        if self.declared is None:
            return []
        return sorted(set(actions) - self.declared)

    def action_timeout(self, timeout: float) -> float:
        """The time an action really gets, given the case's bound (from the device's PICS
        timings): the same, except for a driver with a person behind it, whose operator timeout
        (PICS ``[operator] timeout``, ``--ocpp-operator-timeout``) it is instead."""
        return timeout

    def observe_actions(self, observer: Callable[[str, dict], None]) -> None:
        """Tell ``observer(action, params)`` of every action :meth:`act` got done (after the
        rig's answer; not for an action that failed or timed out): the Idle state's knowledge of
        cables plugged, cards presented, power cut."""
        self.__dict__.setdefault("_action_observers", []).append(observer)

    async def _performed(self, action: str, params: dict, timeout: float) -> dict:
        reply = await self.perform(action, params, timeout=timeout)
        for observer in self.__dict__.get("_action_observers", ()):
            observer(action, params)
        return reply

    async def act(self, action: str, params: dict, *, timeout: float) -> dict:
        """Do ``action`` through :meth:`perform`, recorded in the wire log before and after."""
        timeout = self.action_timeout(check_timeout(timeout))
        record = self.recorder
        if record is None:
            return await self._performed(action, params, timeout)
        purpose = _PURPOSE.get()
        _safely(record, "driver", phase="asked", action=action, params=_loggable(params),
               instruction=_instruction(action, params), timeout_s=timeout,
               **({} if purpose == "case" else {"for": purpose}))
        started = time.monotonic()
        outcome: dict[str, Any] = {}
        try:
            reply = await self._performed(action, params, timeout)
            outcome = {"outcome": "done", "reply": _loggable(reply)}
            return reply
        except ActionTimedOut as exc:
            outcome = {"outcome": "timeout", "reason": exc.reason}
            raise
        except ActionNotDone as exc:
            outcome = {"outcome": "not done", "reason": exc.reason,
                       **({} if exc.status is None else {"status": exc.status})}
            raise
        except Inconclusive as exc:
            outcome = {"outcome": "not done", "reason": exc.reason}
            raise
        except NotApplicable as exc:
            outcome = {"outcome": "not applicable", "reason": exc.reason}
            raise
        except BaseException as exc:  # cancelled (the case moved on), or a harness error
            outcome = {"outcome": "error" if isinstance(exc, Exception) else "abandoned",
                       "reason": f"{type(exc).__name__}: {exc}"[:500]}
            raise
        finally:
            _safely(record, "driver", phase="answered", action=action,
                   elapsed_s=round(time.monotonic() - started, 3), **outcome,
                   **({} if purpose == "case" else {"for": purpose}))

    async def close(self) -> None:
        """Release what the driver holds (connections, readers). Safe to call twice."""

    async def __aenter__(self) -> "Driver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # Charge point actions.
    async def plug_in(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("plug_in", {"connectorId": connector_id}, timeout=timeout)

    async def unplug(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("unplug", {"connectorId": connector_id}, timeout=timeout)

    async def present_id_tag(self, id_tag: str, connector_id: int | None = None, *, timeout: float) -> dict:
        params: dict[str, Any] = {"idTag": id_tag}
        if connector_id is not None:
            params["connectorId"] = connector_id
        return await self.act("present_id_tag", params, timeout=timeout)

    async def power_cycle(self, *, timeout: float) -> dict:
        return await self.act("power_cycle", {}, timeout=timeout)

    async def power_off(self, *, timeout: float) -> dict:
        return await self.act("power_off", {}, timeout=timeout)

    async def power_on(self, *, timeout: float) -> dict:
        return await self.act("power_on", {}, timeout=timeout)

    async def go_offline(self, *, timeout: float) -> dict:
        return await self.act("go_offline", {}, timeout=timeout)

    async def go_online(self, *, timeout: float) -> dict:
        return await self.act("go_online", {}, timeout=timeout)

    async def report_fault(self, connector_id: int, error_code: str, *, timeout: float) -> dict:
        return await self.act("report_fault", {"connectorId": connector_id, "errorCode": error_code},
                                  timeout=timeout)

    async def clear_fault(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("clear_fault", {"connectorId": connector_id}, timeout=timeout)

    async def ev_suspend(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("ev_suspend", {"connectorId": connector_id}, timeout=timeout)

    async def ev_resume(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("ev_resume", {"connectorId": connector_id}, timeout=timeout)

    async def lock_failure(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("lock_failure", {"connectorId": connector_id}, timeout=timeout)

    async def unlock_failure(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("unlock_failure", {"connectorId": connector_id}, timeout=timeout)

    async def local_list_failure(self, *, timeout: float) -> dict:
        return await self.act("local_list_failure", {}, timeout=timeout)

    async def refuse_reservation(self, *, timeout: float) -> dict:
        return await self.act("refuse_reservation", {}, timeout=timeout)

    async def remove_cable(self, connector_id: int, *, timeout: float) -> dict:
        return await self.act("remove_cable", {"connectorId": connector_id}, timeout=timeout)

    async def reset_device(self, *, timeout: float) -> dict:
        return await self.act("reset_device", {}, timeout=timeout)

    # CSMS operator action.
    async def csms_send(self, action: str, charge_point_id: str, payload: dict, *, timeout: float) -> dict:
        """Make the central system under test send the OCPP ``action`` to ``charge_point_id``."""
        if not is_csms_action(action):
            raise ValueError(f"csms_send needs an OCPP action name such as 'RemoteStartTransaction', "
                             f"not {action!r}")
        return await self.act(action, {"chargePointId": charge_point_id, "payload": payload},
                                  timeout=timeout)

