"""Conformance under load (issue 17): a swarm of simulated charge points against a central system,
scheduled by Locust, every frame judged by the engine's sans-I/O core.

- :mod:`harness.load.chargepoint`: the Locust user that *is* a charge point (gevent, websocket-client;
  framing by :mod:`harness.rpc`, every frame both ways through a :class:`harness.protocol.Checker`).
- :mod:`harness.load.connection`: its OCPP-J connection, the run's Config and the Swarm's figures.
- :mod:`harness.load.disruptions`: rolling-restart, blackout, duplicate-identity.
- :mod:`harness.load.distributed`: ``--processes N``, Locust master and workers.
- :mod:`harness.load.cases`: conformance cases run against the CSMS while the swarm runs.
- :mod:`harness.load.html`: report.html.
- :mod:`harness.load.objectives`: the service objectives (TOML) and the verdict of a run: PASS,
  FAIL (an objective missed, with its figure) or INCONCLUSIVE (the generator itself was saturated).
- ``python -m harness load ...`` (:mod:`harness.load.__main__`): runs Locust headless in its own
  process (Locust monkey-patches the standard library with gevent at import) and writes
  report.json.

Nothing here imports Locust at package import: ``harness.load.objectives`` is usable without it.
"""
