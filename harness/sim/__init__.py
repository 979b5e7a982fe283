"""Reference simulators: a charge point and a central system (CSMS), both OCPP 1.6J with all six
feature profiles, configured from a PICS, driven over the DUT control protocol (DESIGN 2.5) or
in-process through ``control(action, params)``, and able to inject named faults
(:mod:`harness.sim.faults`) so the harness can prove it catches them."""

from harness.sim.control import ControlError, ControlServer
from harness.sim.cp import ChargePointSim
from harness.sim.csms import CsmsSim

__all__ = ["ChargePointSim", "ControlError", "ControlServer", "CsmsSim"]
