"""The machine-read table of ``schemas/ERRATA.md``, and the official schemas with it applied.

``schemas/`` is the OCA's files with the documented errata: each row of the table names a file, a
JSON pointer, a keyword, our value and the official value. ``apply_errata`` rebuilds our schema
from the official copy and the table, so that an independent judge can be built from the OCA's
files rather than from ours (``harness.fidelity.agreement``); ``tests/test_schemas_official.py``
proves that the rebuilt schema and ours are the same document.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

ERRATA_MD = Path(__file__).resolve().parent.parent / "schemas" / "ERRATA.md"
TABLE_HEADER = "| file | pointer | aspect | ours | official | why |"
_SEPARATOR = re.compile(r"\|(\s*:?-{3,}:?\s*\|){6}")
_CODE = re.compile(r"`([^`]*)`")

Row = tuple[Any, Any, str]
"""(ours, official, why) of one (file, pointer, aspect)."""


class _Absent:
    """The keyword is not there (distinct from any JSON value, null included)."""

    def __repr__(self) -> str:
        return "absent"


ABSENT = _Absent()


def schema_files() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in ERRATA_MD.parent.glob("*.json")))


def _code(cell: str, where: str, what: str) -> str:
    m = _CODE.fullmatch(cell)
    if m is None:
        raise ValueError(f"{where}: the {what} cell must be one `code span`, got {cell!r}")
    return m[1]


def _value(cell: str, where: str, what: str) -> Any:
    if cell == "absent":
        return ABSENT
    text = _code(cell, where, what)
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValueError(f"{where}: the {what} cell is not JSON ({e}): {text!r}") from None


def parse_errata(text: str, files: tuple[str, ...] | None = None
                 ) -> dict[tuple[str, str, str], Row]:
    """The table of ERRATA.md: {(file, pointer, aspect): (ours, official, why)}.

    Strict on purpose: a row the parser would have to guess about is an error, not skipped.
    """
    files = schema_files() if files is None else files
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == TABLE_HEADER]
    if len(starts) != 1:
        raise ValueError(f"ERRATA.md must contain the header line {TABLE_HEADER!r} exactly once, "
                         f"found {len(starts)}")
    start = starts[0]
    if start + 1 >= len(lines) or not _SEPARATOR.fullmatch(lines[start + 1].strip()):
        raise ValueError(f"ERRATA.md line {start + 2}: expected the table's |---| separator row")
    rows: dict[tuple[str, str, str], Row] = {}
    for number, line in enumerate(lines[start + 2:], start + 3):
        line = line.strip()
        if not line.startswith("|"):
            break
        where = f"ERRATA.md line {number}"
        if not line.endswith("|"):
            raise ValueError(f"{where}: a row must end with '|'")
        cells = [c.strip() for c in line[1:-1].split("|")]
        if len(cells) != 6:
            raise ValueError(f"{where}: {len(cells)} cells, expected 6 (no '|' inside a cell)")
        file, pointer_cell, aspect, ours_cell, official_cell, why = cells
        if file not in files:
            raise ValueError(f"{where}: {file!r} is not one of the {len(files)} schema files")
        pointer = "" if pointer_cell == "root" else _code(pointer_cell, where, "pointer")
        if pointer and not pointer.startswith("/"):
            raise ValueError(f"{where}: {pointer!r} is not a JSON pointer (RFC 6901)")
        if not re.fullmatch(r"\$?[A-Za-z]+", aspect):
            raise ValueError(f"{where}: the aspect must be a keyword name, got {aspect!r}")
        if not why:
            raise ValueError(f"{where}: the why cell is empty")
        key = (file, pointer, aspect)
        if key in rows:
            raise ValueError(f"{where}: a second row for {file} {pointer or 'root'} {aspect}")
        rows[key] = (_value(ours_cell, where, "ours"),
                     _value(official_cell, where, "official"), why)
    if not rows:
        raise ValueError("ERRATA.md: the table has no rows")
    return rows


def load_errata() -> dict[tuple[str, str, str], Row]:
    return parse_errata(ERRATA_MD.read_text(encoding="utf-8"))


def _node(schema: dict, pointer: str) -> dict:
    node: Any = schema
    for token in pointer.split("/")[1:]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def apply_errata(file: str, official: dict, errata: dict[tuple[str, str, str], Row]) -> dict:
    """The official schema of ``file`` with every row of the table for it applied."""
    schema = copy.deepcopy(official)
    for (name, pointer, aspect), (ours, _, _) in errata.items():
        if name != file:
            continue
        node = _node(schema, pointer)
        if ours is ABSENT:
            node.pop(aspect, None)
        else:
            node[aspect] = copy.deepcopy(ours)
    return schema
