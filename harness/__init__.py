"""OCPP 1.6J conformance test harness.

The engine (framing, validation, transport, session, timing, report) is importable without pytest;
`harness.plugin` is the pytest front end, registered through the ``pytest11`` entry point.
"""

__version__ = "0.1.0"
