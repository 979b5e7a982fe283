"""The reference charge point's Smart Charging against the harness's own model.

- Regression tests of the behaviours the Smart Charging faults break (stack levels, a
  TxDefaultProfile on a running transaction, clearing by criteria, the composite periods): without
  the fault the simulator does it right, so a case that fails under the fault fails because of it.
- A property test: the simulator's composite schedule (harness/sim/cp/smart.py) and the harness's
  (harness/smart_charging.py), two independent implementations, agree under the harness's own
  comparison for random sets of profiles of every kind, purpose and unit.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import smart_charging as sc
from harness import clock
from harness.sim.cp.smart import ProfileStore

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def profile(pid: int, stack: int, periods: list[tuple[int, float]], *,
            purpose: str = "TxDefaultProfile", start: datetime = T0,
            duration: int | None = None) -> dict:
    schedule = {"chargingRateUnit": "A", "startSchedule": clock.iso(start),
                "chargingSchedulePeriod": [{"startPeriod": s, "limit": limit}
                                           for s, limit in periods]}
    if duration is not None:
        schedule["duration"] = duration
    return {"chargingProfileId": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute", "chargingSchedule": schedule}


def installed(*profiles: tuple[int, dict], tx_id: int | None = None,
              at: datetime = T0) -> ProfileStore:
    store = ProfileStore()
    for connector_id, raw in profiles:
        assert store.install(connector_id, raw, at, connectors=2, tx_id=tx_id,
                             tx_running=tx_id is not None, max_stack=10, max_periods=10,
                             allowed_units=["Current", "Power"], max_installed=10) == "Accepted"
    return store


def limits(store: ProfileStore, *, tx_id=None, tx_start=None, start=T0) -> list[float]:
    schedule = store.composite(1, start, 400, "A", connectors=2, tx_id=tx_id, tx_start=tx_start)
    return [p["limit"] for p in schedule["chargingSchedulePeriod"]]


def test_the_highest_stack_level_wins():  # fault stack_level_inverted
    store = installed((1, profile(1, 0, [(0, 6.0)])), (1, profile(2, 1, [(0, 10.0)])))
    assert limits(store)[0] == 10.0
    store.lowest_stack_wins = True
    assert limits(store)[0] == 6.0


def test_a_tx_default_profile_set_during_a_transaction_limits_it():  # tx_default_skips_running_tx
    started = T0 - timedelta(seconds=30)
    store = installed((1, profile(1, 0, [(0, 10.0)])), tx_id=5, at=T0)
    assert limits(store, tx_id=5, tx_start=started)[0] == 10.0
    store.default_skips_running_tx = True
    assert limits(store, tx_id=5, tx_start=started)[0] == 32.0  # the hardware limit


def test_clearing_by_criteria_keeps_other_stack_levels():  # clear_ignores_stack_level
    store = installed((1, profile(1, 0, [(0, 7.0)])), (1, profile(2, 1, [(0, 6.0)])))
    assert store.clear(None, 1, "TxDefaultProfile", 1)
    assert limits(store)[0] == 7.0


def test_each_composite_period_has_its_own_limit():  # composite_limits_shifted
    store = installed((1, profile(1, 0, [(0, 6.0), (100, 10.0), (200, 8.0)])))
    assert limits(store)[:3] == [6.0, 10.0, 8.0]


# --- the simulator and the harness agree -------------------------------------------------------

@st.composite
def any_profiles(draw, pid: int) -> tuple[int, dict]:
    """Every kind, purpose, unit and phases; startSchedule as far back as a day and more (so that
    recurrences repeat inside the window); optional duration, validFrom and validTo. An Absolute
    profile always has its startSchedule: without one the two differ on purpose (the harness
    reads it as relative to the start of charging, rule 4 of harness/smart_charging.py; the
    simulator starts it at validFrom or at its installation)."""
    purpose, connector = draw(st.sampled_from([
        ("ChargePointMaxProfile", 0), ("TxDefaultProfile", 0), ("TxDefaultProfile", 1),
        ("TxProfile", 1)]))
    kind = draw(st.sampled_from(["Absolute", "Relative", "Recurring"]))
    unit = draw(st.sampled_from(["A", "W"]))
    periods = []
    for start in [0, *sorted(draw(st.sets(st.integers(1, 399), max_size=3)))]:
        phases = draw(st.sampled_from([1, 3]))
        amps = Decimal(draw(st.integers(0, 320))) / 10
        value = amps if unit == "A" else amps * 230 * phases
        periods.append({"startPeriod": start, "limit": float(value), "numberPhases": phases})
    schedule: dict = {"chargingRateUnit": unit, "chargingSchedulePeriod": periods}
    if (duration := draw(st.none() | st.integers(1, 500))) is not None:
        schedule["duration"] = duration
    raw = {"chargingProfileId": pid, "stackLevel": draw(st.integers(0, 3)),
           "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
           "chargingSchedule": schedule}
    if kind != "Relative":
        offset = timedelta(seconds=draw(st.integers(-90000, 200)))
        schedule["startSchedule"] = clock.iso(T0 + offset)
    if kind == "Recurring":
        raw["recurrencyKind"] = draw(st.sampled_from(["Daily", "Weekly"]))
    for key, low, high in (("validFrom", -100, 400), ("validTo", 0, 500)):
        if draw(st.booleans()):
            raw[key] = clock.iso(T0 + timedelta(seconds=draw(st.integers(low, high))))
    return connector, raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(*[any_profiles(i + 1) for i in range(n)])),
       st.none() | st.integers(0, 300), st.sampled_from(["A", "W"]))
def test_the_simulator_and_the_harness_compute_the_same_composite(profiles, since, unit):
    # one profile per (purpose, connector, stack level): a device replaces the older (5.16)
    kept = {}
    for connector, raw in profiles:
        kept[(raw["chargingProfilePurpose"], connector, raw["stackLevel"])] = (connector, raw)
    running = since is not None
    if not running:  # a TxProfile needs a running transaction
        kept = {k: v for k, v in kept.items() if k[0] != "TxProfile"}
    store, tx = ProfileStore(), None
    if running:
        tx = sc.Transaction(5, T0 - timedelta(seconds=since))
    for connector, raw in kept.values():
        if raw["chargingProfilePurpose"] == "TxProfile":
            raw["transactionId"] = 5
        assert store.install(connector, raw, T0, connectors=2, tx_id=5 if running else None,
                             tx_running=running, max_stack=10, max_periods=10,
                             allowed_units=[], max_installed=10) == "Accepted"
    schedule = store.composite(1, T0, 400, unit, connectors=2, tx_id=5 if running else None,
                               tx_start=tx.started if tx else None)
    schedule = {**schedule, "startSchedule": clock.iso(T0)}
    model = [sc.ChargingProfile.from_ocpp(c, raw) for c, raw in kept.values()]
    expected = sc.composite(model, 1, T0, 400, unit, transaction=tx)
    assert sc.compare(expected, schedule, deviation=Decimal(0)) == [], (
        sc.describe(expected), schedule["chargingSchedulePeriod"])


# --- N/A from the PICS --------------------------------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = {"cs": 10, "csms": 5}


def _pics(sut: str, *, profile: bool = True, configuration: dict | None = None) -> str:
    text = (ROOT / f"harness/sim/default_{sut}.toml").read_text()
    if not profile:
        text = re.sub(r'"SmartCharging",\s*', "", text).replace(",SmartCharging", "")
    for key, value in (configuration or {}).items():
        text = re.sub(rf'^{key} = ".*"$', f'{key} = "{value}"', text, flags=re.M)
    return text


@pytest.mark.parametrize("sut", ["cs", "csms"])
def test_without_the_profile_every_case_is_not_applicable_end_to_end(pytester, tmp_path, sut):
    pytester.path.joinpath("pics.toml").write_text(_pics(sut, profile=False))
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", str(ROOT / "testcases" / sut / "smart_charging"),
        "--ocpp-sut", sut, "--ocpp-pics", "pics.toml", "--ocpp-report", str(out),
        f"--rootdir={ROOT}", timeout=120)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    data = json.loads((out / "report.json").read_text())
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in data["test_cases"]}
    assert len(verdicts) == CASES[sut]
    assert set(verdicts.values()) == {
        ("N/A", "N/A: the PICS does not list the SmartCharging profile")}
    assert data["profiles"]["SmartCharging"] == "N/A"


def _cases(sut: str) -> dict:
    import importlib
    found = {}
    for path in sorted((ROOT / "testcases" / sut / "smart_charging").glob("test_*.py")):
        module = importlib.import_module(f"testcases.{sut}.smart_charging.{path.stem}")
        for name in dir(module):
            info = getattr(getattr(module, name), "ocpp_case", None)
            if info is not None:
                found[info.id] = info
    return found


def _load(tmp_path, text: str):
    from harness import pics as pics_module
    path = tmp_path / "pics.toml"
    path.write_text(text)
    return pics_module.load(path)


@pytest.mark.parametrize("key,value,reason", [
    ("MaxChargingProfilesInstalled", "2", "fewer than 3 charging profiles"),
    ("ChargingScheduleMaxPeriods", "4", "fewer than 5 periods"),
])
def test_get_composite_schedule_needs_room_for_its_profiles(tmp_path, key, value, reason):
    cases = _cases("cs")
    assert len(cases) == CASES["cs"]
    full = _load(tmp_path, _pics("cs"))
    assert [i for i, info in cases.items() if info.not_applicable(full)] == []
    small = _load(tmp_path, _pics("cs", configuration={key: value}))
    na = {i: info.not_applicable(small) for i, info in cases.items()
          if info.not_applicable(small)}
    assert list(na) == ["TC_066_CS"] and reason in na["TC_066_CS"]


def test_the_cases_pass_in_watts(pytester, tmp_path):
    """<Configured chargingRateUnit> W (the device lists Power first): limits x 1000, composite
    asked and judged in W."""
    pytester.path.joinpath("pics.toml").write_text(_pics(
        "cs", configuration={"ChargingScheduleAllowedChargingRateUnit": "Power,Current"}))
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", str(ROOT / "testcases" / "cs" / "smart_charging"),
        "--ocpp-sut", "cs", "--ocpp-pics", "pics.toml", "--ocpp-report", str(out),
        f"--rootdir={ROOT}", "-k", "TC_066 or TC_072", timeout=120)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    wire = (out / "wire" / "TC_066_CS.jsonl").read_text()
    assert '"chargingRateUnit":"W"' in wire and '"limit":10000' in wire
