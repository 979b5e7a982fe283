"""A finding: one rule a frame broke.

Framing (``rpc.*`` rules), schema validation (JSON Schema keyword names such as ``required`` or
``format:date-time``) and transport (``ws.*``) all report the same shape, so the session, the wire
log and the offline validator print them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    """The rule broken: a JSON Schema keyword (``enum``, ``format:date-time``) or ``rpc.*`` / ``ws.*``."""
    path: str
    """JSON path of the offending value inside the payload (``$`` is the payload), or ``frame``."""
    message: str
    """One sentence a person can act on."""
    value: Any = None
    """The offending value, as received."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"

    def to_json(self) -> dict:
        """A JSON-ready dict; values JSON cannot carry (``Decimal``) become their text."""
        return {"rule": self.rule, "path": self.path, "message": self.message,
                "value": orjson.loads(orjson.dumps(self.value, default=str))}
