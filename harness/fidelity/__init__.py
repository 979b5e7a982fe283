"""Verdict fidelity: prove the harness's verdicts by seeding realistic faults into the reference
simulators and checking that the intended test cases catch them (``python -m harness.fidelity``).

The catalogue is one module per OCPP profile (``core.py`` ...), each with ``ENTRIES``; see
README.md in this directory for the format.
"""

from harness.fidelity.catalogue import Entry, check, load

__all__ = ["Entry", "check", "load"]
