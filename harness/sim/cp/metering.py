"""Sampled values for the measurands a charge point is configured to report (OCPP 1.6 section
7.31 SampledValue): plausible, self-consistent numbers derived from the connector's meter."""

from __future__ import annotations

from harness.sim.cp.model import EV_MAX_A, PHASES, VOLTAGE, Connector

# measurand -> (unit or None, location or None); None leaves the field out (its default applies).
_SHAPE: dict[str, tuple[str | None, str | None]] = {
    "Energy.Active.Import.Register": ("Wh", None),
    "Energy.Active.Export.Register": ("Wh", None),
    "Energy.Reactive.Import.Register": ("varh", None),
    "Energy.Reactive.Export.Register": ("varh", None),
    "Energy.Active.Import.Interval": ("Wh", None),
    "Energy.Active.Export.Interval": ("Wh", None),
    "Energy.Reactive.Import.Interval": ("varh", None),
    "Energy.Reactive.Export.Interval": ("varh", None),
    "Power.Active.Import": ("W", None),
    "Power.Active.Export": ("W", None),
    "Power.Offered": ("W", None),
    "Power.Reactive.Import": ("var", None),
    "Power.Reactive.Export": ("var", None),
    "Power.Factor": (None, None),
    "Current.Import": ("A", None),
    "Current.Export": ("A", None),
    "Current.Offered": ("A", None),
    "Voltage": ("V", None),
    "Frequency": (None, None),
    "Temperature": ("Celsius", "Body"),
    "SoC": ("Percent", "EV"),
    "RPM": (None, "Body"),
}


def power_for(c: Connector, charging: bool) -> float:
    """What the EV draws: its own maximum, capped by the connector's current limit."""
    if not charging:
        return 0.0
    return max(0.0, min(EV_MAX_A, c.limit_a)) * VOLTAGE * PHASES


def _value(measurand: str, c: Connector, since_wh: float | None) -> str:
    m = c.meter
    amps = m.power_w / (VOLTAGE * PHASES)
    numbers = {
        "Energy.Active.Import.Register": m.register,
        "Energy.Active.Import.Interval": int(m.energy_wh - since_wh) if since_wh is not None else 0,
        "Power.Active.Import": round(m.power_w),
        "Power.Offered": round(c.limit_a * VOLTAGE * PHASES),
        "Current.Import": round(amps, 1),
        "Current.Offered": round(c.limit_a, 1),
        "Voltage": VOLTAGE,
        "Frequency": 50.0,
        "Temperature": 25.0 + round(amps / 4, 1),
        "SoC": int(m.soc),
        "Power.Factor": 1.0 if m.power_w else 0.0,
    }
    value = numbers.get(measurand, 0)
    return str(int(value)) if float(value).is_integer() else str(value)


def sampled_values(measurands: list[str], c: Connector, context: str,
                   since_wh: float | None = None) -> list[dict]:
    out = []
    for measurand in measurands or ["Energy.Active.Import.Register"]:
        unit, location = _SHAPE.get(measurand, (None, None))
        if measurand == "SoC" and not c.ev_connected:
            continue  # no EV, no state of charge
        item = {"value": _value(measurand, c, since_wh), "context": context,
                "format": "Raw", "measurand": measurand}
        if location:
            item["location"] = location
        if unit:
            item["unit"] = unit
        out.append(item)
    return out
