"""The reference charge point simulator."""

from harness.sim.cp.chargepoint import ChargePointSim

__all__ = ["ChargePointSim"]
