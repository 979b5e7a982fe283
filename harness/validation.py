"""Payload validation against the OCPP 1.6 JSON schemas (and the security extension's), compiled;
or against another version's schema set, which its :class:`harness.dialect.Dialect` names.

Every schema is turned into two validators that must agree:

* a *fast* one: Python source generated for that schema alone (straight-line type tests, frozensets
  for enums and property names, one precompiled regex per format) that only answers valid or not.
  It runs on every frame, so it builds nothing, and calls out only for a format's regex and the
  exact multipleOf test;
* a *slow* one, a plain walk of the schema that explains: it runs only when the fast one said no,
  and returns every :class:`Finding` of the payload with its JSON path (``$.meterValue[0].unit``).

Semantics are JSON Schema draft 4 for every file (schemas/ERRATA.md, D1). Values are judged as a
JSON parser delivers them (dict, list, str, int, float, Decimal, bool, None): ``integer`` is an int
that is not a bool (draft 4 does not count 1.0), ``number`` an int, float or Decimal. Where a
schema uses ``multipleOf``, the caller re-parses with Decimal numbers
(:meth:`Validator.needs_exact`) and the test is exact rational arithmetic; a float is judged by its
shortest repr, i.e. as it would be written. ``maxLength`` counts code points. A keyword or
format this module does not implement makes loading fail rather than pass silently.
"""

from __future__ import annotations

import _thread
import functools
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import orjson

from harness.findings import Finding

# Keywords that only annotate; everything else must be implemented below or loading fails.
_ANNOTATIONS = frozenset({"$schema", "$id", "id", "title", "description", "javaType", "default",
                          "definitions", "$comment", "examples"})
_KEYWORDS = frozenset({"type", "enum", "properties", "required", "additionalProperties", "items",
                       "additionalItems", "minItems", "maxItems", "minLength", "maxLength",
                       "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                       "exclusiveMaximum", "multipleOf", "$ref"})
_FORMATS = ("date-time", "uri")


class SchemaError(Exception):
    """A schema file this module cannot compile faithfully."""


# --- formats ----------------------------------------------------------------------------------

# RFC 3339 section 5.6, split in two: _DT_COMMON is the fast path (days 01-28, seconds 00-59, which
# every valid timestamp of those days matches); anything else goes to _datetime_problem, which knows
# month lengths, leap years and leap seconds. [0-9], not \d: \d would accept other scripts' digits.
_DT_COMMON = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r"[0-5][0-9](?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])").fullmatch
_DT_SHAPE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|([+-])([0-9]{2}):([0-9]{2}))?").fullmatch


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _datetime_problem(text: str) -> str | None:
    """Why ``text`` is not an RFC 3339 date-time, or None when it is one."""
    m = _DT_SHAPE(text)
    if m is None:
        return "not in the RFC 3339 form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)"
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if m[8] is None:
        return "the timezone is missing (RFC 3339 requires Z or an offset such as +01:00)"
    if not 1 <= month <= 12:
        return f"month {m[2]} does not exist"
    days = _month_days(year, month)
    if not 1 <= day <= days:
        return f"day {m[3]} does not exist: {m[1]}-{m[2]} has {days} days"
    if hour > 23 or minute > 59:
        return f"time {m[4]}:{m[5]} does not exist: hours run 00-23, minutes 00-59"
    if m[9] and (int(m[10]) > 23 or int(m[11]) > 59):
        return f"offset {m[8]} does not exist: hours run 00-23, minutes 00-59"
    if second > 60:
        return f"second {m[6]} does not exist: seconds run 00-59 (60 for a leap second)"
    if second == 60:
        # RFC 3339 5.7: a leap second is 23:59:60 UTC on the last day of a month, shifted by the
        # offset in other zones. ITU-R TF.460 allows the end of any month, so any month qualifies.
        offset = 0 if m[9] is None else (int(m[10]) * 60 + int(m[11])) * (1 if m[9] == "+" else -1)
        shift, utc_minute = divmod(hour * 60 + minute - offset, 1440)
        last_day = {0: day == days, 1: day == days - 1, -1: day == 1}[shift]
        if utc_minute != 23 * 60 + 59 or not last_day:
            return "second 60 (a leap second) is only allowed at 23:59:60 UTC on a month's last day"
    return None


def _datetime_ok(text: str) -> bool:
    return _DT_COMMON(text) is not None or _datetime_problem(text) is None


# OCPP types the `uri` fields as xsd:anyURI, which accepts nearly any string. Our reading: an
# absolute URI as RFC 3986 3.1 starts it (a scheme, then ':'), then at least one character, none of
# them whitespace or control characters (a firmware URL with a raw space fails at the client
# anyway). Non-ASCII is accepted (IRIs, as anyURI allows); percent-encoding and authority are not
# parsed. Empty strings and relative references ("/upload", "host/fw.bin") are findings.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f]+").fullmatch


def _uri_ok(text: str) -> bool:
    return _URI(text) is not None


# --- numbers ----------------------------------------------------------------------------------

# JSON has no NaN or Infinity (rpc.loads refuses them); a caller handing one in directly gets it
# judged as breaking every numeric keyword rather than an exception.

def _exact(number: Any) -> Decimal | int | None:
    """``number`` as written: ints and Decimals as they are, a float as its shortest repr (the text
    that reads back as that float), None when it is not finite."""
    if type(number) is int:
        return number
    exact = Decimal(repr(number)) if type(number) is float else number
    return exact if exact.is_finite() else None


def _ratio(number: Any) -> tuple[int, int]:
    """``number`` (finite) as an exact fraction: (numerator, denominator)."""
    exact = _exact(number)
    if exact is None:
        raise SchemaError(f"{number!r} is not a finite number")
    return exact.as_integer_ratio()


def _multiple_of(value: Any, num: int, den: int) -> bool:
    """Is ``value`` an integral multiple of num/den? Exact: 7.1 is a multiple of 0.1, 7.15 not."""
    if type(value) is int:
        return value * den % num == 0
    exact = _exact(value)
    if exact is None:
        return False
    n, d = exact.as_integer_ratio()
    return n * den % (num * d) == 0


def _under_minimum(value: Any, bound: Any, exclusive: bool) -> bool:
    exact = _exact(value)
    return exact is None or (exact <= bound if exclusive else exact < bound)


def _over_maximum(value: Any, bound: Any, exclusive: bool) -> bool:
    exact = _exact(value)
    return exact is None or (exact >= bound if exclusive else exact > bound)


# --- types ------------------------------------------------------------------------------------

_NUMBER_TYPES = (int, float, Decimal)
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": _NUMBER_TYPES, "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),)}
_JSON_NAMES = {str: "string", int: "integer", float: "number", Decimal: "number", bool: "boolean",
               dict: "object", list: "array", type(None): "null"}


def _json_type(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _types_of(schema: dict) -> tuple[type, ...] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    names = [declared] if isinstance(declared, str) else declared
    return tuple(dict.fromkeys(t for name in names for t in _PY_TYPES[name]))


class _Facts:
    """What the explaining walk asks of one resolved schema node, worked out once: its Python
    types, its enum as a set (strings, by set lookup) plus the other options (compared as JSON),
    and, for a node that can hold an object or an array, its compiled fast validator, so that the
    walk descends only into the array items that break a rule (explaining costs about the path to
    the findings, not the whole payload)."""
    __slots__ = ("types", "enum_strings", "enum_others", "fast", "node")

    def __init__(self, schema: dict):
        self.node = schema  # kept alive: the cache is keyed by id()
        self.types = _types_of(schema)
        enum = schema.get("enum")
        self.enum_strings = None if enum is None else frozenset(o for o in enum if type(o) is str)
        self.enum_others = None if enum is None else tuple(o for o in enum if type(o) is not str)
        self.fast: Callable[[Any], bool] | None = None
        if _structural(schema):
            self.fast = _compile(schema, "valid_member")[0]


_FACTS: dict[int, _Facts] = {}
_FACTS_LOCK = _thread.allocate_lock()


def _facts(schema: dict) -> _Facts:
    facts = _FACTS.get(id(schema))
    if facts is None:
        with _FACTS_LOCK:
            facts = _FACTS.get(id(schema))
            if facts is None:
                facts = _FACTS[id(schema)] = _Facts(schema)
    return facts


def _valid_member(schema: dict, value: Any) -> bool:
    """True when ``value`` breaks no rule of ``schema``, told cheaply: by the compiled validator
    for objects and arrays, None (do explain) for the rest."""
    fast = _facts(schema).fast
    return fast is not None and type(value) in (dict, list) and fast(value)


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON means it: true is not 1, 1 is 1.0, containers compare member by member."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, _NUMBER_TYPES) and isinstance(b, _NUMBER_TYPES):
        return _exact(a) is not None and _exact(a) == _exact(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_json_equal, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


def _in_enum(value: Any, options: tuple) -> bool:
    return any(_json_equal(value, option) for option in options)


# --- the slow path: every finding, with its path ---------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").fullmatch


def _member(path: str, key: str) -> str:
    """JSONPath of a member: ``$.status``, or ``$['extra key']`` when the name is no identifier."""
    if _IDENTIFIER(key):
        return f"{path}.{key}"
    quoted = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{quoted}']"


def _show(value: Any, limit: int = 60) -> str:
    """A value as a message shows it: strings quoted, numbers as written, the rest as JSON text,
    long ones cut."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    try:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            text = str(value)  # Decimal("7.15") is 7.15, not "7.15"; ints of any width
        else:
            text = orjson.dumps(value, default=str).decode()
    except (TypeError, ValueError):  # nesting orjson refuses, ints str() refuses to spell out
        text = f"<{_json_type(value)}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _show_type(value: Any) -> str:
    return f"{_json_type(value)} {_show(value)}"


def _explain(schema: dict, value: Any, path: str, out: list[Finding]) -> None:
    """Append to ``out`` every rule of ``schema`` (refs resolved) that ``value`` breaks."""
    facts = _facts(schema)
    types = facts.types
    if types is not None and type(value) not in types:
        wanted = schema["type"] if isinstance(schema["type"], str) else " or ".join(schema["type"])
        note = (" (in JSON Schema draft 4 an integer has no decimal point and no exponent)"
                if types == (int,) and type(value) in (float, Decimal) else "")
        # The type-specific keywords do not apply to a value of another type, and enum would only
        # restate the mismatch: one finding says it all.
        message = f"expected {wanted}, got {_show_type(value)}{note}"
        out.append(Finding("type", path, message, value))
        return
    if facts.enum_strings is not None and not (
            (type(value) is str and value in facts.enum_strings)
            or (facts.enum_others and _in_enum(value, facts.enum_others))):
        out.append(Finding("enum", path, _enum_message(value, schema["enum"]), value))
    kind = type(value)
    if kind is str:
        _explain_string(schema, value, path, out)
    elif kind in _NUMBER_TYPES:
        _explain_number(schema, value, path, out)
    elif kind is dict:
        _explain_object(schema, value, path, out)
    elif kind is list:
        _explain_array(schema, value, path, out)


def _enum_message(value: Any, options: tuple) -> str:
    if type(value) is str and len(value) <= 100:
        return _enum_message_of_string(value, options)  # a device repeats its mistakes
    return _enum_message_uncached(value, options)


def _enum_message_uncached(value: Any, options: tuple) -> str:
    listed = ", ".join(o if isinstance(o, str) else _show(o) for o in options)
    message = f"{_show(value)} is not one of {listed}"
    if isinstance(value, str) and len(value) <= 100:
        import difflib  # an explanation's: the start-up of a valid log does without it

        words = [o for o in options if isinstance(o, str)]
        close = [o for o in words if o.lower() == value.lower()] or \
            difflib.get_close_matches(value, words, n=1, cutoff=0.75)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    return message


_enum_message_of_string = functools.lru_cache(maxsize=1024)(_enum_message_uncached)


def _explain_string(schema: dict, value: str, path: str, out: list[Finding]) -> None:
    length = len(value)  # code points, as JSON Schema counts
    if "maxLength" in schema and length > schema["maxLength"]:
        out.append(Finding("maxLength", path, f"string of {length} characters is longer than "
                           f"maxLength {schema['maxLength']}", value))
    if "minLength" in schema and length < schema["minLength"]:
        out.append(Finding("minLength", path, f"string of {length} characters is shorter than "
                           f"minLength {schema['minLength']}", value))
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        out.append(Finding("pattern", path, f"{_show(value)} does not match the pattern "
                           f"{schema['pattern']!r}", value))
    fmt = schema.get("format")
    if fmt == "date-time" and not _datetime_ok(value):
        out.append(Finding("format:date-time", path, f"{_show(value)} is not an RFC 3339 "
                           f"date-time: {_datetime_problem(value)}", value))
    elif fmt == "uri" and not _uri_ok(value):
        out.append(Finding("format:uri", path, f"{_show(value)} is not an absolute URI (a scheme "
                           "such as https: then at least one character, no whitespace)", value))


def _explain_number(schema: dict, value: Any, path: str, out: list[Finding]) -> None:
    if "minimum" in schema:
        low, exclusive = schema["minimum"], schema.get("exclusiveMinimum", False)
        if _under_minimum(value, low, exclusive):
            relation = "greater than" if exclusive else "at least"
            out.append(Finding("minimum", path, f"{_show(value)} is not {relation} the minimum "
                               f"{low}", value))
    if "maximum" in schema:
        high, exclusive = schema["maximum"], schema.get("exclusiveMaximum", False)
        if _over_maximum(value, high, exclusive):
            relation = "less than" if exclusive else "at most"
            out.append(Finding("maximum", path, f"{_show(value)} is not {relation} the maximum "
                               f"{high}", value))
    if "multipleOf" in schema and not _multiple_of(value, *_ratio(schema["multipleOf"])):
        out.append(Finding("multipleOf", path, f"{_show(value)} is not a multiple of "
                           f"{schema['multipleOf']}", value))


def _explain_object(schema: dict, value: dict, path: str, out: list[Finding]) -> None:
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            out.append(Finding("required", _member(path, name),
                               f"required property {name!r} is missing", None))
    extra = schema.get("additionalProperties", True)
    for name, member in value.items():
        sub = properties.get(name)
        if sub is not None:
            # No fast check here: the payload failed it as a whole, and a member of an object is
            # most often the part that did; the items of an array are checked one by one.
            _explain(sub, member, _member(path, name), out)
        elif extra is False:
            allowed = ", ".join(properties) or "none"
            out.append(Finding("additionalProperties", _member(path, name),
                               f"property {name!r} is not allowed here (allowed: {allowed})",
                               member))
        elif isinstance(extra, dict) and not _valid_member(extra, member):
            _explain(extra, member, _member(path, name), out)


def _explain_array(schema: dict, value: list, path: str, out: list[Finding]) -> None:
    count = len(value)
    if "minItems" in schema and count < schema["minItems"]:
        out.append(Finding("minItems", path, f"array of {count} items has fewer than minItems "
                           f"{schema['minItems']}", value))
    if "maxItems" in schema and count > schema["maxItems"]:
        out.append(Finding("maxItems", path, f"array of {count} items has more than maxItems "
                           f"{schema['maxItems']}", value))
    items = schema.get("items", {})
    if isinstance(items, dict):
        for i, member in enumerate(value):
            if not _valid_member(items, member):
                _explain(items, member, f"{path}[{i}]", out)
        return
    for i, member in enumerate(value):  # tuple form: one schema per position
        if i < len(items):
            _explain(items[i], member, f"{path}[{i}]", out)
        elif schema.get("additionalItems", True) is False:
            out.append(Finding("additionalItems", f"{path}[{i}]", f"item {i} is not allowed: "
                               f"the array has {len(items)} positions", member))
        elif isinstance(schema.get("additionalItems"), dict):
            _explain(schema["additionalItems"], member, f"{path}[{i}]", out)


# --- compiling: refs resolved, keywords checked, then the fast path generated -----------------

def _resolve(node: Any, root: dict, where: str, seen: tuple[str, ...] = (),
             annotations: frozenset[str] = _ANNOTATIONS) -> dict:
    """A copy of ``node`` with local ``$ref``s replaced by their targets; unknown keywords fail
    (``annotations``: the keywords that only annotate, dropped)."""
    if not isinstance(node, dict):
        raise SchemaError(f"{where}: a schema must be a JSON object, got {_json_type(node)}")
    if "$ref" in node:  # draft 4: the siblings of $ref are ignored
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaError(f"{where}: only local references are supported, got {ref!r}")
        if ref in seen:
            raise SchemaError(f"{where}: recursive reference {ref!r} is not supported")
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise SchemaError(f"{where}: reference {ref!r} points nowhere")
            target = target[part]
        return _resolve(target, root, f"{where} -> {ref}", seen + (ref,), annotations)
    unknown = node.keys() - _KEYWORDS - annotations
    if unknown:
        raise SchemaError(f"{where}: unsupported keyword(s) {', '.join(sorted(unknown))}")
    out = {k: v for k, v in node.items() if k not in annotations}
    declared = node.get("type")
    if declared is not None and not set([declared] if isinstance(declared, str) else declared) \
            <= _PY_TYPES.keys():
        raise SchemaError(f"{where}: unknown type {declared!r}")
    if node.get("format", _FORMATS[0]) not in _FORMATS:
        raise SchemaError(f"{where}: unsupported format {node['format']!r}")
    for key in ("maxLength", "minLength", "maxItems", "minItems"):
        if key in node and (type(node[key]) is not int or node[key] < 0):
            raise SchemaError(f"{where}: {key} must be a non-negative integer")
    for key in ("minimum", "maximum", "multipleOf"):
        if key in node and type(node[key]) not in (int, Decimal):
            raise SchemaError(f"{where}: {key} must be a number")
    if node.get("multipleOf", 1) <= 0:
        raise SchemaError(f"{where}: multipleOf must be greater than 0")
    if "enum" in node:
        out["enum"] = tuple(node["enum"])
    if "properties" in node:
        out["properties"] = {k: _resolve(v, root, f"{where}/properties/{k}", seen, annotations)
                             for k, v in node["properties"].items()}
    for key in ("additionalProperties", "additionalItems"):
        if isinstance(node.get(key), dict):
            out[key] = _resolve(node[key], root, f"{where}/{key}", seen, annotations)
    if isinstance(node.get("items"), dict):
        out["items"] = _resolve(node["items"], root, f"{where}/items", seen, annotations)
    elif isinstance(node.get("items"), list):
        out["items"] = [_resolve(s, root, f"{where}/items/{i}", seen, annotations)
                        for i, s in enumerate(node["items"])]
    return out


class _Absent:
    """The value of a property the payload leaves out (None would confuse it with null)."""


_ABSENT = _Absent()
_STRUCTURE = ("properties", "required", "additionalProperties", "items", "additionalItems",
              "minItems", "maxItems")


class _Generator:
    """Emits one function ``valid(payload) -> bool`` for one resolved schema.

    A scalar's keywords become one condition, ``if <broken>: return False``, written with a ``{x}``
    placeholder for the value so that a required property can be tested in place
    (``d['status'] not in E``). An optional property tested by an enum or a type alone is read
    with a default of ``_ABSENT``, which its set also holds: one lookup, one membership test.
    A missing required property raises KeyError and an unhashable value in an enum test
    TypeError, both caught once around the body (a try block is free in CPython 3.11).
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self.names = 0

    def name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def constant(self, value: Any, prefix: str) -> str:
        name = self.name(prefix)
        self.constants[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append(" " * indent + line)

    def source(self, schema: dict, function: str) -> str:
        self.lines = [f"def {function}(v0):", "  try:"]
        self.node(schema, "v0", 4)
        self.lines += ["  except (KeyError, TypeError):", "    return False", "  return True"]
        return "\n".join(self.lines)

    def node(self, schema: dict, var: str, indent: int) -> None:
        conditions = self.conditions(schema)
        if conditions:
            self.emit(indent, f"if {' or '.join(conditions).format(x=var)}: return False")
        types = _types_of(schema)
        for kind, emit in ((dict, self.object), (list, self.array)):
            if types is not None and kind not in types:
                continue  # e.g. OCPP's `additionalProperties: false` on string enums
            if types is not None and set(types) == {kind}:
                emit(schema, var, indent)
            else:
                self.block(indent, f"if type({var}) is {self.constant(kind, 't')}:",
                           functools.partial(emit, schema, var))

    def block(self, indent: int, header: str, body: Callable[[int], None]) -> None:
        """``header`` (an if or a for) with ``body``'s lines under it; nothing if there are none."""
        mark = len(self.lines)
        self.emit(indent, header)
        body(indent + 2)
        if len(self.lines) == mark + 1:
            del self.lines[mark:]

    def single_test(self, schema: dict) -> frozenset | None:
        """The set a value must be in, when one membership test is all the schema asks:
        an enum of strings (the value itself), or a type alone (the value's type)."""
        if _structural(schema) or any(k in schema for k in _BY_KIND_STRING + _BY_KIND_NUMBER):
            return None
        types, enum = _types_of(schema), schema.get("enum")
        string_enum = enum is not None and all(type(o) is str for o in enum)
        if string_enum and (types is None or str in types):
            return frozenset(enum or ())
        if enum is None and types is not None:
            return frozenset(types)
        return None

    def conditions(self, schema: dict) -> list[str]:
        """The scalar keywords of ``schema`` as conditions that hold when ``{x}`` breaks one."""
        types, enum, out = _types_of(schema), schema.get("enum"), []
        string_enum = enum is not None and all(type(o) is str for o in enum)
        # Only a string equals a string: an enum of strings already tests the type.
        if types is not None and not (string_enum and str in types):
            test = f"is not {self.constant(types[0], 't')}" if len(types) == 1 else \
                f"not in {self.constant(types, 't')}"
            out.append(f"type({{x}}) {test}")
        if string_enum:
            out.append(f"{{x}} not in {self.constant(frozenset(enum or ()), 'e')}")
        elif enum is not None:
            out.append(f"not _in_enum({{x}}, {self.constant(enum, 'e')})")
        for kind, keyword_conditions in (((str,), self.string), (_NUMBER_TYPES, self.number)):
            found = keyword_conditions(schema)
            if not found or (types is not None and not set(types) & set(kind)):
                continue
            if (types is not None and set(types) <= set(kind)) or (string_enum and kind == (str,)):
                out += found
            else:
                test = f"type({{x}}) in {self.constant(kind, 't')}"
                out.append(f"({test} and ({' or '.join(found)}))")
        return out

    def string(self, schema: dict) -> list[str]:
        out = []
        if "maxLength" in schema:
            out.append(f"len({{x}}) > {int(schema['maxLength'])}")
        if "minLength" in schema:
            out.append(f"len({{x}}) < {int(schema['minLength'])}")
        if "pattern" in schema:
            out.append(f"{self.constant(re.compile(schema['pattern']).search, 'p')}({{x}}) is None")
        if schema.get("format") == "date-time":
            out.append("(_DT_COMMON({x}) is None and _datetime_problem({x}) is not None)")
        elif schema.get("format") == "uri":
            out.append("_URI({x}) is None")
        return out

    def number(self, schema: dict) -> list[str]:
        out = []
        for key, test in (("minimum", "_under_minimum"), ("maximum", "_over_maximum")):
            if key in schema:
                bound = self.constant(schema[key], "b")
                exclusive = bool(schema.get("exclusive" + key[:1].upper() + key[1:], False))
                out.append(f"{test}({{x}}, {bound}, {exclusive})")
        if "multipleOf" in schema:
            num, den = _ratio(schema["multipleOf"])
            out.append(f"not _multiple_of({{x}}, {num}, {den})")
        return out

    def object(self, schema: dict, var: str, indent: int) -> None:
        properties = schema.get("properties", {})
        required = schema.get("required", ())
        extra = schema.get("additionalProperties", True)
        if extra is False:
            self.emit(indent, f"if not {var}.keys() <= {self.constant(frozenset(properties), 'k')}:"
                      " return False")
        for name in required:
            if name not in properties:
                self.emit(indent, f"if {name!r} not in {var}: return False")
        for name, sub in properties.items():
            self.member(sub, f"{var}[{name!r}]" if name in required
                        else f"{var}.get({name!r}, _ABSENT)", name in required, indent)
        if isinstance(extra, dict):
            key, child = self.name("k"), self.name("v")
            known = self.constant(frozenset(properties), "k")
            self.block(indent, f"for {key}, {child} in {var}.items():", lambda i: self.block(
                i, f"if {key} not in {known}:", lambda j: self.node(extra, child, j)))

    def member(self, schema: dict, read: str, required: bool, indent: int) -> None:
        """Test one property, read by ``read`` (a subscript, or a get defaulting to _ABSENT)."""
        structural = _structural(schema)
        conditions = [] if structural else self.conditions(schema)
        if not structural and required and len(conditions) == 1 and conditions[0].count("{x}") == 1:
            self.emit(indent, f"if {conditions[0].format(x=read)}: return False")
            return
        single = None if required else self.single_test(schema)
        if single is not None:
            test = "{x}" if schema.get("enum") is not None else "type({x})"
            allowed = self.constant(single | {_ABSENT if "enum" in schema else _Absent}, "a")
            self.emit(indent, f"if {test.format(x=read)} not in {allowed}: return False")
            return
        if not structural and not conditions:
            if required:
                self.emit(indent, f"{read}")  # presence alone: KeyError when missing
            return
        child = self.name("v")
        self.emit(indent, f"{child} = {read}")
        if required:
            self.node(schema, child, indent)
            return
        self.block(indent, f"if {child} is not _ABSENT:", lambda i: self.node(schema, child, i))

    def array(self, schema: dict, var: str, indent: int) -> None:
        if "minItems" in schema:
            self.emit(indent, f"if len({var}) < {int(schema['minItems'])}: return False")
        if "maxItems" in schema:
            self.emit(indent, f"if len({var}) > {int(schema['maxItems'])}: return False")
        items = schema.get("items", {})
        if isinstance(items, dict):
            if items:
                child = self.name("v")
                self.block(indent, f"for {child} in {var}:", lambda i: self.node(items, child, i))
            return
        for i, sub in enumerate(items):
            child = self.name("v")

            def item(j: int, i: int = i, sub: dict = sub, child: str = child) -> None:
                self.emit(j, f"{child} = {var}[{i}]")
                self.node(sub, child, j)
            self.block(indent, f"if len({var}) > {i}:", item)
        more = schema.get("additionalItems", True)
        if more is False:
            self.emit(indent, f"if len({var}) > {len(items)}: return False")
        elif isinstance(more, dict):
            child = self.name("v")
            self.block(indent, f"for {child} in {var}[{len(items)}:]:",
                       lambda i: self.node(more, child, i))


def _structural(schema: dict) -> bool:
    """Does ``schema`` say anything about an object or array value? (OCPP writes
    ``additionalProperties: false`` on string enums, where it says nothing.)"""
    types = _types_of(schema)
    return any(k in schema for k in _STRUCTURE) and (types is None or dict in types
                                                      or list in types)


_BY_KIND_STRING = ("maxLength", "minLength", "pattern", "format")
_BY_KIND_NUMBER = ("minimum", "maximum", "multipleOf")
_RUNTIME = {"_ABSENT": _ABSENT, "_Absent": _Absent, "_DT_COMMON": _DT_COMMON,
            "_datetime_problem": _datetime_problem, "_URI": _URI, "_multiple_of": _multiple_of,
            "_under_minimum": _under_minimum, "_over_maximum": _over_maximum,
            "_in_enum": _in_enum}


def _compile(schema: dict, function: str) -> tuple[Callable[[Any], bool], str]:
    generator = _Generator()
    source = generator.source(schema, function)
    namespace = {**_RUNTIME, **generator.constants}
    exec(compile(source, f"<schema {function}>", "exec"), namespace)
    return namespace[function], source


_BY_VALUE = ("multipleOf", "minimum", "maximum")


def _compares_numbers(schema: Any) -> bool:
    """Does ``schema`` compare a number by value: a ``multipleOf``, ``minimum`` or ``maximum``, or
    an enum listing a number? (Then the number is read as written.) One walk of the schema: a
    walk per keyword was half of building the default validator (2 of 4 ms)."""
    if isinstance(schema, dict):
        if any(k in schema for k in _BY_VALUE):
            return True
        enum = schema.get("enum")
        if enum is not None and any(type(o) is not str for o in enum):
            return True
        return any(_compares_numbers(v) for v in schema.values())
    if isinstance(schema, (list, tuple)):
        return any(_compares_numbers(v) for v in schema)
    return False


# --- the public face --------------------------------------------------------------------------

class Validator:
    """Compiled validators for each ``<Action>.json`` / ``<Action>Response.json`` of a directory
    (1.6's names; a schema set named otherwise, as 2.0.1's ``<Action>Request.json``, says its
    ``request_suffix``, and the keywords it adds that only annotate, as 2.0.1's ``comment``)."""

    _default: Validator | None = None
    _default_lock = _thread.allocate_lock()

    @classmethod
    def default(cls) -> Validator:
        """The validator of the packaged schemas, built once per process."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def __init__(self, schema_dir: Path | None = None, version: str = "OCPP 1.6", *,
                 request_suffix: str = "", annotations: frozenset[str] = frozenset()):
        # By default the package's schemas/ (in a checkout, a link to the repository's).
        self.version = version
        """How messages name the schemas' version (a harness.dialect.Dialect's name)."""
        ignored = _ANNOTATIONS | annotations
        self.schema_dir = Path(schema_dir or Path(__file__).parent / "schemas")
        files = sorted(self.schema_dir.glob("*.json"))
        if not files:
            raise SchemaError(f"no JSON schemas in {self.schema_dir}")
        self._texts: dict[tuple[str, bool], str] = {}
        self._fast: tuple[dict[str, Callable], dict[str, Callable]] = ({}, {})
        """Compiled on first use (a run or a log meets a few of the 78 schemas): every schema is
        read and checked here, so an unsupported keyword still fails loading."""
        self._resolved: tuple[dict[str, dict], dict[str, dict]] = ({}, {})
        self._sources: dict[tuple[str, bool], str] = {}
        self._compile_lock = _thread.allocate_lock()
        exact: tuple[set[str], set[str]] = (set(), set())
        for path in files:
            response = path.stem.endswith("Response")
            if response:
                action = path.stem[:-len("Response")]
            elif path.stem.endswith(request_suffix) and len(path.stem) > len(request_suffix):
                action = path.stem[:len(path.stem) - len(request_suffix)]
            else:
                raise SchemaError(f"{path}: neither <Action>{request_suffix}.json nor "
                                  "<Action>Response.json")
            text = path.read_text(encoding="utf-8")
            try:
                # Decimal numbers: a multipleOf of 0.1 must be the decimal 1/10, not a float.
                raw = json.loads(text, parse_float=Decimal)
                resolved = _resolve(raw, raw, path.name, annotations=ignored)
            except (ValueError, SchemaError) as exc:
                raise SchemaError(f"{path}: {exc}") from exc
            key = (action, response)
            self._texts[key] = text
            self._resolved[response][action] = resolved
            if _compares_numbers(resolved):
                exact[response].add(action)
        self._exact = (frozenset(exact[False]), frozenset(exact[True]))
        self.actions: frozenset[str] = frozenset(self._resolved[False]) | \
            frozenset(self._resolved[True])

    def _compiled(self, action: str, response: bool) -> Callable[[Any], bool] | None:
        """The fast check of one schema, compiled the first time it is asked for."""
        with self._compile_lock:
            fast = self._fast[response].get(action)
            if fast is None and action in self._resolved[response]:
                stem = f"{action}Response" if response else action
                name = re.sub(r"\W", "_", f"valid_{stem}")  # any file name: an identifier
                fast, source = _compile(self._resolved[response][action], name)
                self._fast[response][action] = fast
                self._sources[(action, response)] = source
            return fast

    @property
    def sources(self) -> dict[tuple[str, bool], str]:
        """The generated fast-path source per (action, response), for reading and debugging."""
        for response in (False, True):
            for action in self._resolved[response]:
                self._compiled(action, response)
        return dict(self._sources)

    def needs_exact(self, action: str, response: bool) -> bool:
        """True when the schema compares numbers by value (``multipleOf``, ``minimum``,
        ``maximum``, an enum listing a number): then pass non-integral numbers as Decimal, parsed
        from the wire text, so that 7.1 is judged as 7.1 and not as its nearest float. Elsewhere
        a number is only judged by its type, which a float read of a decimal cannot change."""
        return action in self._exact[response]

    def validate(self, action: str, response: bool, payload: Any) -> list[Finding]:
        """Every rule ``payload`` breaks, or [] when it is valid."""
        fast = self._fast[response].get(action) or self._compiled(action, response)
        if fast is not None and fast(payload):
            return []
        if fast is None:
            kind = "response" if response else "request"
            return [Finding("rpc.action", "frame",
                            f"no {self.version} schema for the {kind} of action {action!r}", action)]
        findings: list[Finding] = []
        _explain(self._resolved[response][action], payload, "$", findings)
        return findings

    def schema(self, action: str, response: bool) -> dict:
        """The schema as its file has it (a fresh copy; numbers as JSON floats and ints)."""
        try:
            return json.loads(self._texts[(action, response)])
        except KeyError:
            raise KeyError(f"no schema for the {'response' if response else 'request'} of "
                           f"{action!r}") from None
