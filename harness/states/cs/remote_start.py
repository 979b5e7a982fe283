"""Remote start: RemoteStartTransaction, with AuthorizeRemoteTxRequests read from the device, and
the authorization cache filled by a remote start. Rule: the device's answer is judged with the
assertion vocabulary; what it may do before answering (an Authorize) is allowed.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

from harness.session import Request, Response, Session
from harness.states.assertions import assert_status, cite, conf_status
from harness.states.cs.data import connection_timeout, connector_under_test, triggered, valid_tag
from harness.states.cs.messages import next_status, requests_of, status_until
from harness.states.cs.configuration import configured
from harness.states.cs.charging import Tx, take_authorize


async def authorize_remote_tx_requests(cp: Session, pics: Any, *, step: str) -> tuple[bool, Response]:
    """GetConfiguration AuthorizeRemoteTxRequests (a required Core key): its value, and the
    response."""
    response = await cp.call("GetConfiguration", {"key": ["AuthorizeRemoteTxRequests"]})
    assert response.error is None, (
        f"{step}: GetConfiguration AuthorizeRemoteTxRequests was answered with CALLERROR "
        f"{response.error.error_code if response.error else ''} ({cite(response)})")
    keys = {kv.get("key"): kv for kv in response.get("configurationKey") or []}
    assert "AuthorizeRemoteTxRequests" in keys, (
        f"{step}: GetConfiguration.conf does not report AuthorizeRemoteTxRequests, a required Core "
        f"key (unknownKey {response.get('unknownKey')}) ({cite(response)})")
    value = str(keys["AuthorizeRemoteTxRequests"].get("value", "")).strip().lower()
    assert value in ("true", "false"), (
        f"{step}: AuthorizeRemoteTxRequests has value {value!r}, expected true or false "
        f"({cite(response)})")
    return value == "true", response


async def remote_start(cp: Session, pics: Any, tx: Tx, *, step: str,
                       payload: dict | None = None) -> Response:
    """RemoteStartTransaction.req for ``tx`` (connectorId and idTag), bounded by the PICS
    remote_start_response; asserts Accepted."""
    body = payload or {"connectorId": tx.connector_id, "idTag": tx.id_tag}
    response = await cp.call("RemoteStartTransaction", body,
                             timeout=pics.timing.remote_start_response or pics.timing.response_timeout)
    conf_status(response, "Accepted", step=step)
    return response


def _same_tag(id_tag: str) -> Callable[[dict], bool]:
    return lambda p: str(p.get("idTag", "")).casefold() == id_tag.casefold()


async def remote_started(cp: Session, pics: Any, tx: Tx, *, authorize: bool | None,
                         step: str) -> tuple[Response, Request | None]:
    """The remote counterpart of Authorized: RemoteStartTransaction.req for ``tx`` answered Accepted,
    then the Authorize.req for its idTag -- ``authorize`` True: required; False: forbidden (the
    idTag is known locally and may not be asked for); None: either is right -- and
    StatusNotification Preparing. Returns the RemoteStartTransaction.conf and the Authorize, if one
    came."""
    response = await remote_start(cp, pics, tx, step=step)
    request = None
    if authorize:
        request = await cp.expect("Authorize", _same_tag(tx.id_tag), timeout=triggered(pics),
                                  what=f"{step}: Authorize.req for idTag {tx.id_tag} after the "
                                       "RemoteStartTransaction.req")
    preparing = await next_status(cp, pics, tx.connector_id,
                                  what=f"{step}: StatusNotification Preparing for connector "
                                       f"{tx.connector_id} after the remote start")
    assert_status(preparing, "Preparing", step=step, when="after the remote start")
    if authorize is not True:
        # Since the request left: a charge point may authorize before it answers.
        asked = [r for r in requests_of(cp, "Authorize", _same_tag(tx.id_tag))
                 if r.frame.mono_ns >= response.request.mono_ns]
        assert authorize is None or not asked, (
            f"{step}: the idTag {tx.id_tag} is known locally (LocalPreAuthorize), yet the charge "
            f"point sent Authorize.req for the remote start ({cite(asked[0] if asked else None)})")
        request = asked[-1] if asked else None
        await take_authorize(cp, tx.id_tag)
    return response, request


@asynccontextmanager
async def cached_for_remote_start(cp: Session, pics: Any) -> AsyncIterator[float]:
    """Preparation of the remote-start cache cases (TC_007_2, TC_061_2): configuration
    LocalPreAuthorize=true, AuthorizeRemoteTxRequests=true (N/A when the charge point cannot take
    it), ConnectionTimeOut=<Configured connectionTimeout>, AuthorizationCacheEnabled=true (if
    implemented); then memory state IdTagCached by a remote start (:func:`id_tag_cached_remotely`).
    Yields the ConnectionTimeOut set, in seconds."""
    lapse = connection_timeout(pics)
    async with configured(cp, pics, {"LocalPreAuthorize": "true", "AuthorizeRemoteTxRequests": "true",
                                     "ConnectionTimeOut": str(lapse)},
                          {"AuthorizationCacheEnabled": "true"},
                          na_if_missing=("AuthorizeRemoteTxRequests",)):
        await id_tag_cached_remotely(cp, pics, lapse=lapse)
        yield lapse


async def id_tag_cached_remotely(cp: Session, pics: Any, *, lapse: float,
                                 id_tag: str | None = None) -> None:
    """Memory state IdTagCached for a charge point driven remotely (no card needed): with
    AuthorizeRemoteTxRequests=true a RemoteStartTransaction.req is authorized like a card (OCPP 1.6
    section 5.11), so its Authorize.conf Accepted puts the idTag in the cache (if it is not there
    already: then no Authorize.req comes); nobody plugs in, and the authorization lapses after
    ConnectionTimeOut, ``lapse`` seconds (the case configures it short): Available again."""
    tx = Tx(connector_under_test(pics), id_tag or valid_tag(pics), running=False, plugged=False)
    await remote_started(cp, pics, tx, authorize=None, step="memory state IdTagCached")
    await status_until(cp, pics, tx.connector_id, "Available", timeout=lapse + triggered(pics))
