"""TC_088_CSMS WebSocket Subprotocol negotiation (Robustness; an OCTT case of the security
section, in no feature profile, so outside the certificate's profiles).

Rule (OCPP-J 1.6 §3.1.2): the charge point offers its OCPP versions in Sec-WebSocket-Protocol; the
central system selects ``ocpp1.6`` when offered. "If the Central System does not agree to using
one of the subprotocols offered by the client, it MUST complete the WebSocket handshake with a
response without a Sec-WebSocket-Protocol header and then immediately close the WebSocket
connection." The OCTT's reading (octt16/csms-catalogue.md): the central system does not upgrade.

Steps 1-2, only ``ocpp0.1`` offered. Legal branches, both PASS:
- the handshake is refused (an HTTP status other than 101): what the OCTT expects; a remark notes
  that §3.1.2's letter is "complete the handshake, then close";
- the handshake completes without Sec-WebSocket-Protocol and the central system closes the
  connection within the PICS response timeout: §3.1.2 to the letter.
FAIL: it selects a subprotocol that was not ``ocpp1.6`` (the one offered, or another), or
completes without one and keeps the connection open past the response timeout.

Steps 3-4, ``ocpp0.1, ocpp1.6`` offered: the central system upgrades and its answer carries
exactly ``Sec-WebSocket-Protocol: ocpp1.6``. That connection becomes the session's: the next
case's Booted boots on it.
"""

import asyncio

from harness.cases import case
from harness.transport import HandshakeRefused, LinkClosed

UNKNOWN = "ocpp0.1"


async def _closed_within(link, timeout: float) -> bool:
    """True when the central system closes ``link`` within ``timeout`` s (frames it sends
    meanwhile are read and dropped: nothing may be said on a connection without a protocol)."""
    async def read_until_closed() -> None:
        while True:
            await link.recv()
    try:
        await asyncio.wait_for(read_until_closed(), timeout)
    except LinkClosed:
        return True
    except TimeoutError:
        return False
    return True


@case("TC_088_CSMS", "WebSocket Subprotocol negotiation", profile="Robustness",
      needs=("a new connection of the harness's charge point",))
async def test_tc_088_csms_subprotocol_negotiation(csms, pics):
    timeout = pics.timing.response_timeout
    await csms.close()  # one connection per identity: the negotiation starts from none
    # 1. Harness: WebSocket handshake offering only ocpp0.1
    try:
        link = await csms.open_link((UNKNOWN,))
    except HandshakeRefused as refused:
        # 2. Central system: the upgrade is refused (the OCTT's expectation)
        csms.event("handshake", offered=[UNKNOWN], outcome="refused", status=refused.status)
        csms.remark(f"step 2: the central system refused the handshake offering only {UNKNOWN} "
                    f"with HTTP {refused.status}; OCPP-J 1.6 §3.1.2 says it completes the "
                    f"handshake without Sec-WebSocket-Protocol and then closes the connection "
                    f"(the OCTT accepts a refusal)")
    else:
        selected = link.subprotocol
        csms.event("handshake", offered=[UNKNOWN], outcome="upgraded", subprotocol=selected)
        try:
            assert selected is None, (
                f"step 2: the central system upgraded a handshake that offered only {UNKNOWN!r} "
                f"and selected {selected!r}; OCPP-J 1.6 §3.1.2: without ocpp1.6 among the "
                f"offered subprotocols it answers without Sec-WebSocket-Protocol and closes")
            closed = await _closed_within(link, timeout)
            csms.event("handshake", offered=[UNKNOWN], outcome="closed" if closed else "kept open")
            assert closed, (
                f"step 2: the central system completed the handshake offering only {UNKNOWN!r} "
                f"with no Sec-WebSocket-Protocol and kept the connection open for {timeout:g} s "
                f"(PICS response_timeout); OCPP-J 1.6 §3.1.2: it closes the connection at once")
        finally:
            await link.close()
    # 3. Harness: WebSocket handshake offering ocpp0.1, ocpp1.6
    link = await csms.reconnect((UNKNOWN, "ocpp1.6"))
    # 4. Central system: the upgrade, with Sec-WebSocket-Protocol: ocpp1.6
    assert link.subprotocol == "ocpp1.6", (
        f"step 4: offered {UNKNOWN}, ocpp1.6, the central system selected "
        f"{link.subprotocol or 'no subprotocol'}; expected exactly ocpp1.6 (OCPP-J 1.6 §3.1.2)")
