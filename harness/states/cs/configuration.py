"""The configuration state: keys read with GetConfiguration (within GetConfigurationMaxKeys),
set with ChangeConfiguration, and restored afterwards. Rule: a value the device refuses is
INCONCLUSIVE, an unknown "(if implemented)" key is skipped, one the case needs makes it N/A.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from harness.session import Response, Session, StashKey
from harness.states.assertions import cite
from harness.verdicts import Inconclusive, NotApplicable
from harness.states.cs.messages import quietly


@dataclass
class Configuration:
    """What a configuration preparation did: keys set, keys skipped ("if implemented" keys the
    device does not know), and the values to restore afterwards."""
    applied: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """key -> why it was skipped (the device's answer)."""
    original: dict[str, str] = field(default_factory=dict)
    readonly: dict[str, str] = field(default_factory=dict)
    """Keys the device reports read-only, with their value (not changed)."""
    responses: dict[str, Response] = field(default_factory=dict)

    def has(self, key: str) -> bool:
        return key in self.applied or key in self.readonly

    def value(self, key: str) -> str | None:
        return self.applied.get(key, self.readonly.get(key))


MAX_KEYS = StashKey["int | None"]()
"""The charge point's GetConfigurationMaxKeys, read once per session (None: no limit known), on
:attr:`Session.stash`."""


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


async def get_configuration_max_keys(cp: Session, pics: Any) -> int | None:
    """GetConfigurationMaxKeys: how many keys one GetConfiguration.req may name (None: no limit
    known). Read from the charge point itself, once per session: it is a required read-only Core
    key, a request for this one key is within any limit, and the device's own value is what it
    enforces -- the PICS is a claim (the report compares the two), and a PICS that leaves the key
    out or gets it wrong would otherwise make every preparation INCONCLUSIVE. Only when the device
    does not report a usable value does the PICS [configuration] value count."""
    if MAX_KEYS in cp.stash:
        return cp.stash[MAX_KEYS]
    response = await cp.call("GetConfiguration", {"key": ["GetConfigurationMaxKeys"]})
    reported = {kv.get("key"): kv for kv in (response.get("configurationKey") or [])
                if isinstance(kv, dict)} if response.error is None else {}
    limit = _positive_int((reported.get("GetConfigurationMaxKeys") or {}).get("value"))
    if limit is None:
        limit = _positive_int(pics.configuration.get("GetConfigurationMaxKeys"))
    cp.stash[MAX_KEYS] = limit
    return limit


async def read_configuration(cp: Session, keys: list[str], *, max_keys: int | None = None
                             ) -> tuple[dict[str, dict], list[str], Response]:
    """GetConfiguration for ``keys``: (key -> KeyValue, unknown keys, the last response); at most
    ``max_keys`` keys a request (the device's GetConfigurationMaxKeys), so several requests when
    there are more."""
    size = max_keys or len(keys) or 1
    known: dict[str, dict] = {}
    unknown: list[str] = []
    for first in range(0, max(1, len(keys)), size):
        batch = keys[first:first + size]
        response = await cp.call("GetConfiguration", {"key": batch})
        if response.error is not None:
            raise Inconclusive(f"preparation: GetConfiguration {batch} was answered with CALLERROR "
                               f"{response.error.error_code} ({cite(response)}), so the "
                               "configuration could not be read")
        known.update({kv.get("key"): kv for kv in response.get("configurationKey") or []})
        unknown.extend(response.get("unknownKey") or [])
    return known, unknown, response


async def set_configuration(cp: Session, pics: Any, required: dict[str, str] | None = None,
                            if_implemented: dict[str, str] | None = None, *,
                            na_if_missing: tuple[str, ...] = ()) -> Configuration:
    """The OCTT's Configuration State: ChangeConfiguration for every key.

    ``required`` keys must be Accepted (or already hold the value when read-only), otherwise the
    case is INCONCLUSIVE (its precondition was not reached) -- or N/A when the key is listed in
    ``na_if_missing`` (the case cannot run without it). ``if_implemented`` keys the device answers
    NotSupported (or lists as unknown) are skipped."""
    required, if_implemented = dict(required or {}), dict(if_implemented or {})
    config = Configuration()
    keys = [*required, *if_implemented]
    if not keys:
        return config
    limit = await get_configuration_max_keys(cp, pics) if len(keys) > 1 else None
    known, unknown, _ = await read_configuration(cp, keys, max_keys=limit)
    for key in keys:
        if key in known and "value" in known[key]:
            config.original[key] = known[key]["value"]
    try:
        for key, value in [*required.items(), *if_implemented.items()]:
            optional = key in if_implemented
            kv = known.get(key)
            if kv is None and optional:
                config.skipped[key] = "not reported by GetConfiguration"
                continue
            if kv is not None and kv.get("readonly"):
                if str(kv.get("value", "")).strip().lower() == value.strip().lower():
                    config.readonly[key] = kv.get("value", "")
                    continue
                reason = f"{key} is read-only with value {kv.get('value')!r}; the case needs {value!r}"
                if optional and key not in na_if_missing:
                    config.skipped[key] = reason
                    continue
                if key in na_if_missing:
                    raise NotApplicable(reason)
                raise Inconclusive(f"preparation: {reason}")
            response = await cp.call("ChangeConfiguration", {"key": key, "value": value})
            config.responses[key] = response
            status = response.status if response.error is None else f"CALLERROR {response.error.error_code}"
            if status == "Accepted":
                config.applied[key] = value
                continue
            if status in ("NotSupported", "CALLERROR NotSupported", "CALLERROR NotImplemented") and optional \
                    and key not in na_if_missing:
                config.skipped[key] = status
                continue
            if key in na_if_missing and status in ("NotSupported", "Rejected", "CALLERROR NotSupported",
                                                   "CALLERROR NotImplemented"):
                raise NotApplicable(f"the charge point answered {status} to ChangeConfiguration "
                                    f"{key}={value} ({cite(response)}); the case cannot run without it")
            raise Inconclusive(f"preparation: ChangeConfiguration {key}={value!r} was answered {status} "
                               f"({cite(response)}); the configuration state of the case was not reached")
    except BaseException:
        # A later key ends the preparation (N/A, INCONCLUSIVE, the connection lost): the keys
        # already changed go back now -- the case never gets this configuration to restore.
        await quietly(lambda: restore_configuration(cp, config), True)
        raise
    return config


async def restore_configuration(cp: Session, config: Configuration) -> None:
    """Put back the values the keys had before :func:`set_configuration` changed them."""
    for key in config.applied:
        before = config.original.get(key)
        if before is not None and before != config.applied[key]:
            await cp.call("ChangeConfiguration", {"key": key, "value": before})


@asynccontextmanager
async def configured(cp: Session, pics: Any, required: dict[str, str] | None = None,
                     if_implemented: dict[str, str] | None = None, *,
                     na_if_missing: tuple[str, ...] = ()) -> AsyncIterator[Configuration]:
    """:func:`set_configuration` for the duration of the block, then the old values back."""
    config = Configuration()
    failed = False
    try:
        config = await set_configuration(cp, pics, required, if_implemented,
                                         na_if_missing=na_if_missing)
        yield config
    except BaseException:
        failed = True
        raise
    finally:
        await quietly(lambda: restore_configuration(cp, config), failed or not cp.connected)
