"""Independent OCPP 1.6J implementations written with the PyPI ``ocpp`` library, to run the harness's
suites against something that is not the harness's own reference simulators.

- :mod:`interop.ocpp_lib_cp`: a Core charge point (``python -m interop.ocpp_lib_cp``).
- :mod:`interop.supervised_cp`: a second charge point, the same library firmware with other legal
  behaviour (``python -m interop.supervised_cp``): a socket without a cable lock, no authorization
  cache, Charging -> Available when nothing is left at the connector, and a firmware that exits on
  Reset and is restarted by its rig (the supervisor process it runs under); PICS
  ``interop/ocpp_lib_cp_supervised.toml``.
- :mod:`interop.ocpp_lib_csms`: a Core central system (``python -m interop.ocpp_lib_csms``).
- :mod:`interop.run`: starts each one, runs the Core suite against it and compares the verdicts
  with those against the simulators (``make interop``; writes docs/interop.md).

Both serve the DUT control protocol (docs/driver-protocol.md) with aiohttp. Neither imports
``harness``: they are written from the OCPP 1.6 specification, as a vendor would.
"""
