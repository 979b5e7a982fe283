"""Verdicts a test case can reach other than PASS, FAIL and ERROR (DESIGN 2.3).

FAIL is an ``AssertionError`` and ERROR any other exception; these two need their own classes so
that the pytest plugin can tell them apart from both.
"""


class Inconclusive(Exception):
    """A precondition was not reached: the operator did not act in time or could not do the action,
    there was no terminal to ask on, the rig refused. Not the device's fault, so not a FAIL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotApplicable(Exception):
    """Found at run time that the test case does not apply, e.g. the device answered NotSupported
    for an "if implemented" feature. Reported as N/A with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
