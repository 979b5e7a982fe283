"""The OCTT's reusable states, for both roles: shared preparation that test cases build on.

Each state takes the session (``cp`` or ``csms`` fixture), the PICS and, where the device must be
acted upon, the driver; it brings the device into the state or raises :class:`Inconclusive` saying
which precondition was not reached. States of a charge point under test live in
:mod:`harness.states.cs`, those of a central system under test in :mod:`harness.states.csms`;
this module holds what both use.
"""

from __future__ import annotations

from typing import Any

from harness.clock import now_iso
from harness.session import DeviceTimeout, Session
from harness.verdicts import Inconclusive


def heartbeat_interval(pics: Any) -> int:
    """The OCTT's <Configured Heartbeat interval>: the PICS's HeartbeatInterval."""
    return int(pics.configuration.get("HeartbeatInterval", "300"))


def connector_ids(pics: Any, with_zero: bool = True) -> list[int]:
    return ([0] if with_zero else []) + list(range(1, pics.features.connectors + 1))


async def cs_connected(cp: Session, pics: Any) -> None:
    """SUT charge point: it is connected to the harness's central system."""
    try:
        await cp.wait_connected(pics.timing.boot_timeout)
    except DeviceTimeout as exc:
        raise Inconclusive(f"the charge point {pics.dut.charge_point_id} is not connected to the "
                           f"harness: {exc}") from None


async def csms_booted(csms: Session, pics: Any) -> None:
    """SUT central system, state Booted: the harness's charge point is connected and accepted,
    and has reported every connector Available."""
    if not csms.connected:
        await csms.reconnect()
    boot = await csms.call("BootNotification", boot_notification(pics))
    if boot.status != "Accepted":
        raise Inconclusive(f"the central system answered BootNotification with {boot.status!r}, "
                           "so the Booted state was not reached")
    for connector_id in connector_ids(pics):
        await csms.call("StatusNotification", status_notification(connector_id, "Available"))


def boot_notification(pics: Any) -> dict:
    """The BootNotification of the charge point the harness plays: its own identity (PICS
    ``[harness]``, defaults that fit the schema), never the central system's ``[dut]`` vendor."""
    me = pics.harness
    payload = {"chargePointVendor": me.vendor, "chargePointModel": me.model,
               "firmwareVersion": me.firmware_version}
    if me.serial_number:
        payload["chargePointSerialNumber"] = me.serial_number
    return payload


def status_notification(connector_id: int, status: str, error_code: str = "NoError") -> dict:
    return {"connectorId": connector_id, "errorCode": error_code, "status": status,
            "timestamp": now_iso()}
