"""The reference central system simulator."""

from harness.sim.csms.csms import CsmsSim

__all__ = ["CsmsSim"]
