"""The analysis of every verdict that differs between the simulators and the ocpp-library
implementations: case id -> (classification, explanation). interop/run.py writes it into
docs/interop.md next to the reason taken from report.json.

Classifications: "non-conformance of the library implementation" (the harness is right, the rule is
named), "missing feature" (the implementation does not do it; N/A would be the better verdict if
the PICS could say so), "harness issue" (the harness or a test case is wrong; reported to the
lead), "PICS difference" (the two implementations declare different features, both verdicts right).
"""

ANALYSIS: dict[str, tuple[str, str]] = {}
