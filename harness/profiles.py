"""The OCPP 1.6 feature profiles, the harness's pseudo-profile, and the certificate rule; no pytest
(:mod:`harness.report.model` and :mod:`harness.timing` read them outside a pytest run).

Rules, stated first:

- The six OCPP feature profiles (:data:`PROFILE_MARKERS`, with the pytest marker of each) are what
  a certificate covers; a case of a profile the PICS does not list is N/A.
- Beside them there is one pseudo-profile, **Robustness** (:data:`PSEUDO_PROFILES`, marker
  ``robustness``): the negative cases the OCTT implies (CALLERROR codes for an unknown action, a
  known but unsupported one, malformed payloads and frames; TC_088_CSMS subprotocol negotiation; a
  composite schedule with nothing installed). A pseudo-profile, not cases filed under Core,
  because these are not cases of the OCTT's Core test plan: every device runs them whatever
  profiles its PICS declares (a case that needs a profile says so in its ``na_when``); their
  verdicts are reported (per case, and as ``robustness`` in report.json) but they are not a
  functionality of the certificate, so a Robustness FAIL never changes the certificate type the
  OCTT cases imply. It does fail the pytest run, like any FAIL. Their ids are the harness's
  (``RB_001_CS``), except TC_088_CSMS, an OCTT case of the security section that belongs to no
  feature profile.
- The certificate (:func:`certificate`), from the six profiles' results only: implied only when no
  profile is Incomplete; **Full** when all six pass, **Subset** when Core passes, else **None**.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PROFILE_MARKERS", "PSEUDO_PROFILES", "FUNCTIONALITIES", "CASE_MARKERS",
           "not_declared", "certificate"]

PROFILE_MARKERS = {
    "Core": "core",
    "FirmwareManagement": "firmware_management",
    "LocalAuthListManagement": "local_auth_list_management",
    "Reservation": "reservation",
    "SmartCharging": "smart_charging",
    "RemoteTrigger": "remote_trigger",
}
"""The OCPP 1.6 feature profiles, with the pytest marker of each."""

PSEUDO_PROFILES = {"Robustness": "robustness"}
"""Profiles that are not OCPP feature profiles: always applicable, outside the certificate."""

FUNCTIONALITIES = {"Security": "security"}
"""Functionalities beside the six profiles, each with its own result in the report but outside the
certificate (the security certification is a separate letter): **Security**, the OCPP 1.6
security white paper's cases, N/A unless the PICS declares a security profile (1 to 3)."""

CASE_MARKERS = {**PROFILE_MARKERS, **PSEUDO_PROFILES, **FUNCTIONALITIES}
"""Every profile a case may be filed under, with its pytest marker."""


def not_declared(profile: str, pics: Any) -> str | None:
    """Why a case of ``profile`` does not apply to the device the PICS describes, or None."""
    if profile in PROFILE_MARKERS and not pics.supports(profile):
        return f"the PICS does not list the {profile} profile"
    if profile == "Security" and not pics.security.profile:
        return ("the PICS declares no security profile (security.profile = 0): the security "
                "white paper's cases do not apply")
    return None


def certificate(results: Mapping[str, Mapping[str, Any]]) -> str:
    """The certificate type the six profiles' results imply: ``Full``, ``Subset`` or ``None``
    (``results``: per profile of :data:`PROFILE_MARKERS`, a mapping with its ``result``)."""
    if any(r["result"] == "Incomplete" for r in results.values()):
        return "None"
    if results["Core"]["result"] != "Pass":
        return "None"
    return "Full" if all(r["result"] == "Pass" for r in results.values()) else "Subset"
