"""Shared preparation of the Local Auth List Management cases, for a charge point under test.

The OCTT's maintenance between cases clears the local list; here :func:`local_list` does it at the
end of the block that used it (a Full update with no entries, one version up), so that a case never
leaves idTags in the list for the next one, and restores the configuration it changed.

Readings of OCPP 1.6 (sections 3.5.2, 5.10, 5.15) the checks rely on:
- GetLocalListVersion.conf listVersion is the version the last successful SendLocalList set;
  0 when no list is installed (empty), -1 when the charge point has no local list in use.
- A Full update replaces the list (no ``localAuthorizationList``: the list is emptied); a
  Differential one applies its entries to the list: an entry with idTagInfo adds or replaces the
  idTag, one without removes it.
- A Differential update whose listVersion is less than or equal to the installed one is answered
  VersionMismatch and changes nothing.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from harness.session import Response, Session
from harness.states.cs import Configuration, cite, configured, id_tag_info, quietly


def lal_disabled(pics: Any) -> bool:
    return not pics.features.local_auth_list


def entry(pics: Any, id_tag: str, *, remove: bool = False) -> dict:
    """An AuthorizationData: the idTag with the IdTagInfo the harness gives it (its PICS status),
    or without IdTagInfo (a Differential removal)."""
    if remove:
        return {"idTag": id_tag}
    return {"idTag": id_tag, "idTagInfo": id_tag_info(pics, id_tag)}


def answered(response: Response) -> str:
    return response.status if response.error is None else f"CALLERROR {response.error.error_code}"


async def list_version(cp: Session, *, step: str) -> int:
    """GetLocalListVersion.req; the charge point must answer with a listVersion."""
    response = await cp.call("GetLocalListVersion", {})
    assert response.error is None, (
        f"{step}: GetLocalListVersion was answered with CALLERROR {response.error.error_code}, "
        f"expected GetLocalListVersion.conf ({cite(response)})")
    return int(response["listVersion"])


async def assert_version(cp: Session, expected: int, *, step: str) -> None:
    response = await cp.call("GetLocalListVersion", {})
    got = response.get("listVersion") if response.error is None else \
        f"CALLERROR {response.error.error_code}"
    assert got == expected, (
        f"{step}: GetLocalListVersion.conf listVersion is {got!r}, expected {expected} "
        f"({cite(response)})")


async def send_list(cp: Session, version: int, update_type: str, entries: list[dict] | None, *,
                    step: str, expected: str = "Accepted") -> Response:
    """SendLocalList.req; its status must be ``expected``."""
    payload: dict[str, Any] = {"listVersion": version, "updateType": update_type}
    if entries is not None:
        payload["localAuthorizationList"] = entries
    response = await cp.call("SendLocalList", payload)
    assert answered(response) == expected, (
        f"{step}: SendLocalList ({update_type}, listVersion {version}) was answered "
        f"{answered(response)}, expected {expected!r} ({cite(response)})")
    return response


@asynccontextmanager
async def local_list(cp: Session, pics: Any, required: dict[str, str] | None = None,
                     if_implemented: dict[str, str] | None = None) -> AsyncIterator[Configuration]:
    """Configuration LocalAuthListEnabled=true (plus the case's keys) for the block; at its end the
    list is emptied (Full, no entries, one version above the installed one) and the configuration
    restored."""
    failed = False
    async with configured(cp, pics, {"LocalAuthListEnabled": "true", **(required or {})},
                          if_implemented) as config:
        try:
            yield config
        except BaseException:
            failed = True
            raise
        finally:
            async def empty() -> None:
                response = await cp.call("GetLocalListVersion", {})
                current = max(0, int(response.get("listVersion", 0) or 0))
                await cp.call("SendLocalList", {"listVersion": current + 1, "updateType": "Full"})
            await quietly(empty, failed)


async def authorized_locally(cp: Session, driver: Any, pics: Any, id_tag: str, *,
                             step: str) -> bool:
    """Whether the charge point authorizes ``id_tag`` without asking (no Authorize.req): the idTag
    is presented (the harness answers an Authorize.req by the PICS status), the connector must
    report Preparing, and presenting it again ends the authorization (back to Available). Meant
    with LocalPreAuthorize=true and the authorization cache off, so that only the local list can
    make the charge point decide alone."""
    from harness.states.cs import (authorized, connection_timeout_bound, connector_under_test,
                                   status_until, triggered)
    connector_id = connector_under_test(pics)
    asked = await authorized(cp, driver, pics, id_tag=id_tag, connector_id=connector_id,
                             expect_authorize=None, state=step)
    await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
    await status_until(cp, pics, connector_id, "Available",
                       timeout=triggered(pics) + connection_timeout_bound(pics))
    return asked is None
