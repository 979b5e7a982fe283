"""Repository-level pytest configuration.

The harness's pytest plugin itself is loaded through its ``pytest11`` entry point (``pip install``
registers it), so nothing needs importing here. The harness's own tests' configuration (the
hypothesis profile among it) is in ``tests/conftest.py``: a conformance run does not import
hypothesis, which costs every campaign subprocess about 0.2 s of CPU.
"""
