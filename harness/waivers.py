"""Waivers: known defects a CI run may carry (``--ocpp-waivers FILE``).

Rules, stated first:

1. A waiver names one test case (its id, ``TC_017_1_CS``), why the defect is known and until when
   it is waived. The file is TOML, checked strictly before the first case runs: an unknown key, a
   missing or empty field, a wrong type, an id that is not a test case id or a case waived twice
   is a usage error (exit 4) naming the file, the entry and the key.
2. A waived case that FAILs keeps its FAIL in the report (verdict, reason, profile result,
   certificate: nothing turns into Pass), marked waived with the reason; in pytest it is an
   expected failure (``x``, "waived: ..."), so the run's exit status stays green.
3. A waived case that PASSes fails the run ("unexpected PASS"): the defect is gone or the waiver is
   wrong, either way the file must be updated. The report keeps the PASS.
4. A waiver covers FAIL only: an INCONCLUSIVE, ERROR or BLOCKED case stays what it is (the defect
   was not shown), N/A stays N/A.
5. An expired waiver (its ``expires`` date is before today, UTC) is not applied and gives a
   warning naming it: the FAIL fails the run again, as it would without the file, and the rest of
   the file still applies. (Not a usage error: the run still tests the device and reports.)
   A waiver for a case id that no collected case has is a warning too (a typo, or a case of the
   other SUT).

::

    [[waiver]]
    case = "TC_017_1_CS"
    reason = "firmware 1.2 answers Unlocked without a cable lock; fixed in 1.3 (ticket FW-812)"
    expires = 2027-03-31
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

CASE_ID = re.compile(r"^[A-Z]{2}_[0-9]{3}(_[0-9]+)?_(CS|CSMS)$")
KEYS = ("case", "reason", "expires")

WAIVED, UNEXPECTED_PASS, NOT_APPLIED, EXPIRED = ("waived", "unexpected-pass", "not-applied",
                                                 "expired")


class WaiverError(ValueError):
    """The waiver file cannot be used; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class Waiver:
    case: str
    reason: str
    expires: date
    entry: int
    """Its position in the file, 1-based (for messages)."""

    def expired(self, today: date) -> bool:
        return self.expires < today

    def to_json(self, status: str) -> dict[str, Any]:
        return {"reason": self.reason, "expires": self.expires.isoformat(), "status": status}


@dataclass(frozen=True)
class Waivers:
    source: str
    active: dict[str, Waiver]
    """Case id -> its waiver, expired ones left out."""
    expired: tuple[Waiver, ...] = ()

    def get(self, case_id: str) -> Waiver | None:
        return self.active.get(case_id)

    def unknown(self, case_ids: set[str]) -> list[Waiver]:
        """The waivers (active or expired) that name no case of ``case_ids``."""
        return [w for w in (*self.active.values(), *self.expired) if w.case not in case_ids]


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def load(path: str | Path, *, today: date | None = None) -> Waivers:
    """Read and check a waiver file (rules 1 and 5)."""
    today = today or today_utc()
    where = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise WaiverError(f"--ocpp-waivers {where}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WaiverError(f"--ocpp-waivers {where}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"waiver"})
    if extra:
        raise WaiverError(f"--ocpp-waivers {where}: unknown top-level key(s) {', '.join(extra)}; "
                          f"a waiver file holds [[waiver]] tables only")
    entries = data.get("waiver", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise WaiverError(f"--ocpp-waivers {where}: 'waiver' must be an array of tables "
                          f"([[waiver]]), got {type(entries).__name__}")
    active: dict[str, Waiver] = {}
    expired: list[Waiver] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        at = f"--ocpp-waivers {where}: waiver {number}"
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise WaiverError(f"{at}: unknown key(s) {', '.join(unknown)}; accepted: "
                              f"{', '.join(KEYS)}")
        for key in KEYS:
            if key not in entry:
                raise WaiverError(f"{at}: '{key}' is missing")
        case_id, reason, expires = entry["case"], entry["reason"], entry["expires"]
        if not isinstance(case_id, str) or not CASE_ID.match(case_id):
            raise WaiverError(f"{at}: case must be a test case id such as 'TC_017_1_CS', got "
                              f"{case_id!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise WaiverError(f"{at} ({case_id}): reason must be a non-empty string (why the "
                              f"defect is known), got {reason!r}")
        if isinstance(expires, datetime) or not isinstance(expires, date):
            raise WaiverError(f"{at} ({case_id}): expires must be a TOML date such as "
                              f"2027-03-31 (unquoted), got {expires!r}")
        if case_id in seen:
            raise WaiverError(f"{at}: {case_id} is already waived by waiver {seen[case_id]}")
        seen[case_id] = number
        waiver = Waiver(case_id, reason.strip(), expires, number)
        if waiver.expired(today):
            expired.append(waiver)
        else:
            active[case_id] = waiver
    return Waivers(where, active, tuple(expired))
