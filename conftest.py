"""Repository-level pytest configuration.

The harness's pytest plugin itself is loaded through its ``pytest11`` entry point (``pip install``
registers it), so nothing needs importing here. What lives here is what both the conformance test
cases and the harness's own tests want: a deterministic hypothesis profile for CI.
"""

import os

try:
    from hypothesis import settings
except ImportError:  # hypothesis is a test extra; conformance runs do not need it
    settings = None

if settings is not None:
    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
