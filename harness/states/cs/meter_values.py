"""Meter values: the measurands a key configures and the problems of a MeterValues request.
Rule: pure judgements of a request against what was configured; no waits.
"""

from __future__ import annotations


from harness.clock import parse_time
from harness.session import Request, Session
from harness.states.assertions import cite
from harness.states.cs.configuration import read_configuration
from harness.states.cs.charging import Tx


DEFAULT_MEASURAND = "Energy.Active.Import.Register"


async def configured_list(cp: Session, key: str, *, step: str) -> list[str]:
    """Reusable state "GetConfiguration for key K": the comma separated list K holds (the
    measurands the charge point was told to report)."""
    known, unknown, response = await read_configuration(cp, [key])
    assert key in known, (
        f"{step}: GetConfiguration.conf does not report {key}, a required Core key "
        f"(unknownKey {unknown}) ({cite(response)})")
    return [m.strip() for m in str(known[key].get("value", "")).split(",") if m.strip()]


def meter_value_problems(request: Request, tx: Tx, measurands: list[str],
                         contexts: tuple[str | None, ...]) -> list[str]:
    """What is wrong with a MeterValues.req of the transaction ``tx``: connector and transactionId,
    context (omitted counts as Sample.Periodic, its default), format Raw or omitted, location EV
    only for SoC, and exactly the configured measurands (an empty list means
    Energy.Active.Import.Register)."""
    problems = []
    if request.get("connectorId") != tx.connector_id:
        problems.append(f"connectorId {request.get('connectorId')}, expected {tx.connector_id}")
    if request.get("transactionId") != tx.transaction_id:
        problems.append(f"transactionId {request.get('transactionId')}, expected "
                        f"{tx.transaction_id}")
    wanted = set(measurands or [DEFAULT_MEASURAND])
    for meter_value in request.get("meterValue") or []:
        seen = set()
        for value in meter_value.get("sampledValue") or []:
            measurand = value.get("measurand", DEFAULT_MEASURAND)
            seen.add(measurand)
            context = value.get("context")
            if context not in contexts:
                problems.append(f"{measurand}: context {context!r}, expected "
                                f"{' or '.join(repr(c) for c in contexts if c)}")
            if value.get("format", "Raw") != "Raw":
                problems.append(f"{measurand}: format {value.get('format')!r}, expected 'Raw' or "
                                "omitted")
            if value.get("location") == "EV" and measurand != "SoC":
                problems.append(f"{measurand}: location 'EV', only SoC is measured in the EV")
        if seen != wanted:
            problems.append(f"measurands {sorted(seen)}, expected the configured {sorted(wanted)}")
    return problems


def sample_times(request: Request) -> list:
    return [parse_time(mv.get("timestamp")) for mv in request.get("meterValue") or []]
