"""The driver interface: how a test case asks for what OCPP cannot do itself (DESIGN 2.5).

Every action has one name on the wire (the DUT control protocol, docs/driver-protocol.md), a
convenience method here with Python argument names, and a plain-words instruction for an operator.
Charge point actions are snake_case (``plug_in``); CSMS operator actions are the OCPP action the
central system must send, by its OCPP name (``RemoteStartTransaction``).
"""

from __future__ import annotations

import abc
import json
import math
import re
from decimal import Decimal
from typing import Any, Callable

__all__ = ["Driver", "CHARGE_POINT_ACTIONS", "describe", "is_csms_action", "python_name", "check_timeout",
           "to_json"]


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
}


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


def check_timeout(timeout: float) -> float:
    """Every driver wait is bounded; a missing or nonsensical bound is a bug in the caller."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise ValueError(f"a driver timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


class Driver(abc.ABC):
    """Performs manual and operator actions. ``perform`` returns the reply body ({} if none) and
    raises :class:`~harness.verdicts.Inconclusive` when the action could not be done in time."""

    @abc.abstractmethod
    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        """Do ``action`` with the protocol's ``params`` within ``timeout`` seconds."""

    async def close(self) -> None:
        """Release what the driver holds (connections, readers). Safe to call twice."""

    async def __aenter__(self) -> "Driver":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # Charge point actions.
    async def plug_in(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("plug_in", {"connectorId": connector_id}, timeout=timeout)

    async def unplug(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("unplug", {"connectorId": connector_id}, timeout=timeout)

    async def present_id_tag(self, id_tag: str, connector_id: int | None = None, *, timeout: float) -> dict:
        params: dict[str, Any] = {"idTag": id_tag}
        if connector_id is not None:
            params["connectorId"] = connector_id
        return await self.perform("present_id_tag", params, timeout=timeout)

    async def power_cycle(self, *, timeout: float) -> dict:
        return await self.perform("power_cycle", {}, timeout=timeout)

    async def power_off(self, *, timeout: float) -> dict:
        return await self.perform("power_off", {}, timeout=timeout)

    async def power_on(self, *, timeout: float) -> dict:
        return await self.perform("power_on", {}, timeout=timeout)

    async def go_offline(self, *, timeout: float) -> dict:
        return await self.perform("go_offline", {}, timeout=timeout)

    async def go_online(self, *, timeout: float) -> dict:
        return await self.perform("go_online", {}, timeout=timeout)

    async def report_fault(self, connector_id: int, error_code: str, *, timeout: float) -> dict:
        return await self.perform("report_fault", {"connectorId": connector_id, "errorCode": error_code},
                                  timeout=timeout)

    async def clear_fault(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("clear_fault", {"connectorId": connector_id}, timeout=timeout)

    async def ev_suspend(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("ev_suspend", {"connectorId": connector_id}, timeout=timeout)

    async def ev_resume(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("ev_resume", {"connectorId": connector_id}, timeout=timeout)

    async def lock_failure(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("lock_failure", {"connectorId": connector_id}, timeout=timeout)

    async def unlock_failure(self, connector_id: int, *, timeout: float) -> dict:
        return await self.perform("unlock_failure", {"connectorId": connector_id}, timeout=timeout)

    async def local_list_failure(self, *, timeout: float) -> dict:
        return await self.perform("local_list_failure", {}, timeout=timeout)

    async def refuse_reservation(self, *, timeout: float) -> dict:
        return await self.perform("refuse_reservation", {}, timeout=timeout)

    # CSMS operator action.
    async def csms_send(self, action: str, charge_point_id: str, payload: dict, *, timeout: float) -> dict:
        """Make the central system under test send the OCPP ``action`` to ``charge_point_id``."""
        if not is_csms_action(action):
            raise ValueError(f"csms_send needs an OCPP action name such as 'RemoteStartTransaction', "
                             f"not {action!r}")
        return await self.perform(action, {"chargePointId": charge_point_id, "payload": payload},
                                  timeout=timeout)

