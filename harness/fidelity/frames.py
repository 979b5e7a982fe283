"""Generated OCPP 1.6 payloads, their single mutations, and an oracle written apart from the harness.

Shared by the property tests (``tests/test_validation_properties.py``) and the schema-agreement
campaign (``harness.fidelity.agreement``). Needs the test extra (hypothesis, hypothesis-jsonschema,
jsonschema).

hypothesis-jsonschema's own date-time strings are not always RFC 3339 and its multiples of 0.1
are floats such as 7.300000000000001, so the schemas handed to it name our own formats, and
multipleOf values are turned into exact decimals after generation.
"""

from __future__ import annotations

import calendar
import copy
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal
from fractions import Fraction
from functools import cache
from urllib.parse import urlsplit

import jsonschema
from hypothesis import strategies as st
from hypothesis.provisional import domains
from hypothesis_jsonschema import from_schema

from harness.validation import Validator

V = Validator.default()
SCHEMAS = sorted((action, response) for action in V.actions for response in (False, True))
UNKNOWN_MEMBER = "unexpectedMember"
EXACT = Context(prec=2000)  # wide enough that no generated number is rounded


# --- strategies ---------------------------------------------------------------------------------

def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@st.composite
def rfc3339(draw) -> str:
    """RFC 3339 date-times in their variety: fractions, offsets, lowercase t and z, leap days,
    and leap seconds where they may fall (23:59:60 UTC on a month's last day)."""
    if draw(st.integers(0, 9)) == 0:  # a leap second, as UTC or local time elsewhere
        year, month = draw(st.integers(2, 9998)), draw(st.integers(1, 12))
        minutes = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1))
        zone = timezone(timedelta(minutes=minutes))
        local = datetime(year, month, _last_day(year, month), 23, 59, 59,
                         tzinfo=timezone.utc).astimezone(zone)
        offset = "Z" if minutes == 0 else f"{'+' if minutes > 0 else '-'}" \
            f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        return f"{local.date().isoformat()}T{local.hour:02d}:{local.minute:02d}:60{offset}"
    day = draw(st.dates(min_value=date(1, 1, 1)) | st.sampled_from([date(2024, 2, 29),
                                                                     date(2000, 2, 29)]))
    clock = draw(st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)))
    fraction = draw(st.just("") | st.from_regex(r"\.[0-9]{1,9}", fullmatch=True))
    offset = draw(st.sampled_from(["Z", "z"]) | st.builds(
        "{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)))
    return (f"{day.isoformat()}{draw(st.sampled_from('Tt'))}{clock[0]:02d}:{clock[1]:02d}:"
            f"{clock[2]:02d}{fraction}{offset}")


URIS = (st.builds("{}://{}/{}".format, st.sampled_from(["ftp", "ftps", "http", "https", "sftp"]),
                  domains(), st.from_regex(r"[A-Za-z0-9._~%/-]{0,30}", fullmatch=True))
        | st.builds("urn:{}".format, st.text(st.characters(blacklist_categories=("Z", "C")),
                                             min_size=1, max_size=20)))
FORMATS = {"ocpp-date-time": rfc3339(), "ocpp-uri": URIS}


def resolved(action: str, response: bool) -> dict:
    """The schema with its local $refs inlined (hypothesis-jsonschema and our walk both use it)."""
    root = V.schema(action, response)

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(root["definitions"][node["$ref"].rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items() if k not in ("definitions", "id", "$id")}
        return [inline(v) for v in node] if isinstance(node, list) else node
    return inline(root)


def for_generation(node):
    if isinstance(node, dict):
        out = {k: for_generation(v) for k, v in node.items()}
        if out.get("format") in ("date-time", "uri"):
            out["format"] = "ocpp-" + out["format"]
        return out
    return [for_generation(v) for v in node] if isinstance(node, list) else node


def walk(schema: dict, value, path: str = "$"):
    """Every (schema, parent, key, path) of a payload; the root has parent None."""
    yield schema, None, None, path
    yield from _children(schema, value, path)


def _children(schema, value, path):
    if isinstance(value, dict):
        for key, member in value.items():
            sub = schema.get("properties", {}).get(key)
            if sub is not None:
                yield sub, value, key, f"{path}.{key}"
                yield from _children(sub, member, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, member in enumerate(value):
            yield schema["items"], value, i, f"{path}[{i}]"
            yield from _children(schema["items"], member, f"{path}[{i}]")


def exact_decimals(schema: dict, payload):
    """hypothesis-jsonschema's float multiples (7.300000000000001) as the exact decimals a
    device would write (7.3)."""
    for sub, parent, key, _ in list(walk(schema, payload)):
        if "multipleOf" in sub and parent is not None:
            step = Decimal(str(sub["multipleOf"]))
            parent[key] = Decimal(round(Fraction(parent[key]) / Fraction(step))).fma(step, 0, EXACT)
    return payload


@cache
def payloads(key) -> st.SearchStrategy:
    schema = resolved(*key)
    return from_schema(for_generation(schema), custom_formats=FORMATS).map(
        lambda payload: exact_decimals(schema, payload))


# --- the independent oracle ----------------------------------------------------------------------

_DT = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?"
                 r"([Zz]|([+-])(\d\d):(\d\d))", re.ASCII)


def oracle_date_time(text) -> bool:
    """RFC 3339 by the standard library's calendar, written apart from harness.validation."""
    m = _DT.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return not isinstance(text, str)
    year, month, day, hour, minute, second = map(int, m.groups()[:6])
    try:
        sign = -1 if m[8] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(m[9] or 0), minutes=int(m[10] or 0)))
        if int(m[10] or 0) > 59:
            return False
        # datetime has no year 0 and no second 60: year 2000 has year 0's calendar (both leap).
        moment = datetime(year or 2000, month, day, hour, minute, min(second, 59), tzinfo=zone)
    except ValueError:
        return False
    if second == 60:
        utc = moment.astimezone(timezone.utc)
        return (utc.hour, utc.minute) == (23, 59) and utc.day == _last_day(utc.year, utc.month)
    return True


def oracle_uri(text) -> bool:
    if not isinstance(text, str):
        return True
    parts = urlsplit(text)
    rest = text[len(parts.scheme) + 1:]
    return (bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme)) and bool(rest)
            and not any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in rest))


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(oracle_date_time)
FORMAT_CHECKER.checks("uri")(oracle_uri)


# --- one mutation at a time ---------------------------------------------------------------------

WRONG_TYPES = {"string": [7, True, None, ["x"], {}], "integer": ["7", 7.5, True, None,
                                                                Decimal("7.0")],
               "number": ["7.1", True, None, [7]], "boolean": ["true", 0, None],
               "object": [[], "x", 0], "array": [{}, "x", None]}


def _broken_date_times(text: str) -> list[str]:
    stamp = text[:10]
    return [re.sub(r"([Zz]|[+-]\d\d:\d\d)$", "", text),            # no timezone
            f"{stamp[:4]}-02-30{text[10:]}",                          # a day February never has
            f"{text[:11]}24{text[13:]}",                              # hour 24
            f"{stamp} {text[11:]}"]                                   # a space for the T


def mutations(schema: dict, payload):
    """(rule, path, apply) for every single change the payload admits; apply edits in place."""
    for sub, parent, key, path in walk(schema, payload):
        value = payload if parent is None else parent[key]
        props = sub.get("properties", {})

        def put(new, parent=parent, key=key):
            parent[key] = new
        if isinstance(value, dict):
            for name in sub.get("required", ()):
                yield "required", f"{path}.{name}", lambda o=value, n=name: o.pop(n)
            if sub.get("additionalProperties") is False and UNKNOWN_MEMBER not in props:
                yield ("additionalProperties", f"{path}.{UNKNOWN_MEMBER}",
                       lambda o=value: o.__setitem__(UNKNOWN_MEMBER, 1))
        if parent is None:
            continue
        for wrong in WRONG_TYPES.get(sub.get("type"), []):
            yield "type", path, lambda w=wrong, put=put: put(copy.deepcopy(w))
        if "enum" in sub:
            for bad in (value.lower(), value + "X", ""):
                if bad not in sub["enum"]:
                    yield "enum", path, lambda b=bad, put=put: put(b)
        if "maxLength" in sub:
            yield "maxLength", path, lambda put=put, n=sub["maxLength"]: put("\u00e9" * (n + 1))
        if sub.get("format") == "date-time":
            for bad in _broken_date_times(value):
                yield "format:date-time", path, lambda b=bad, put=put: put(b)
        if sub.get("format") == "uri":
            for bad in ("", "no-scheme/path", "ftp://host/a file.bin"):
                yield "format:uri", path, lambda b=bad, put=put: put(b)
        if "multipleOf" in sub:
            for delta in (Decimal("0.05"), Decimal("1E-17")):
                yield "multipleOf", path, lambda d=delta, v=value, put=put: put(EXACT.add(v, d))
