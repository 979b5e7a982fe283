"""The seeded-fault catalogue: which simulator fault models which device bug, and which test case
must catch it with which symptom.

Entries live in one module per OCPP profile, named after the profile's pytest marker (``core.py``,
``reservation.py``, ``smart_charging.py`` ...), each defining ``ENTRIES: list[Entry]``; :func:`load`
finds every such module in this package, so adding a profile means adding a file, nothing else.
(Other modules of the package, the schema-agreement campaign for one, are never imported by it.) :func:`check` is what the tests run over the whole catalogue.

A symptom is structured (:class:`Symptom`) when the case fails through the assertion vocabulary
(``harness.states.assertions``): it is matched against the FAIL's data in report.json (kind,
action, field, got, expected), not its wording. A regex on the reason remains for the symptoms
that are prose by nature: schema and OCPP-J findings (their text is the validator's), timeouts
("expected X within N s; it did not come"), measured timings and the checks still worded by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from harness.cases import CASE_MARKERS
from harness.sim.faults import REGISTRY, FaultError, Faults



_ANY: Any = object()


@dataclass(frozen=True)
class Symptom:
    """Matches a FAIL whose report carries a structured symptom (harness.verdicts.Mismatch) with
    these values; a field left out matches anything. ``expected``: a value matches when it is one
    of the values the case expected, a tuple when the case expected exactly those."""
    kind: str
    """``wrong-value`` or ``callerror`` (harness.verdicts.Mismatch.KINDS)."""
    action: str | None = None
    field: str | None = None
    got: Any = _ANY
    expected: Any = _ANY
    message: str | None = None
    """``req`` or ``conf``."""

    def matches(self, found: Mapping[str, Any] | None) -> bool:
        if not isinstance(found, Mapping) or found.get("kind") != self.kind:
            return False
        for name in ("action", "field", "message"):
            wanted = getattr(self, name)
            if wanted is not None and found.get(name) != wanted:
                return False
        if self.got is not _ANY and found.get("got") != self.got:
            return False
        if self.expected is not _ANY:
            listed = list(found.get("expected") or ())
            if isinstance(self.expected, tuple):
                return listed == list(self.expected)
            return self.expected in listed
        return True

    def __str__(self) -> str:
        parts = [self.kind, ".".join(p for p in (self.action, self.message) if p)]
        parts += [f"{name}={getattr(self, name)!r}" for name in ("field", "got", "expected")
                  if getattr(self, name) not in (None, _ANY)]
        return " ".join(p for p in parts if p)


Matcher = Union[str, Symptom]
"""A regex on the FAIL reason (re.search, DOTALL) or a structured :class:`Symptom`."""


def matches(matcher: Matcher | tuple[Matcher, ...], reason: str,
            symptom: Mapping[str, Any] | None) -> bool:
    """Whether a FAIL with ``reason`` and structured ``symptom`` (None: prose only) shows it."""
    if isinstance(matcher, tuple):
        return any(matches(m, reason, symptom) for m in matcher)
    if isinstance(matcher, Symptom):
        return matcher.matches(symptom)
    return bool(matcher) and re.search(matcher, reason, re.DOTALL) is not None


def describe(matcher: Matcher | tuple[Matcher, ...]) -> str:
    if isinstance(matcher, tuple):
        return " | ".join(describe(m) for m in matcher)
    return str(matcher) if isinstance(matcher, Symptom) else repr(matcher)


@dataclass(frozen=True)
class Entry:
    id: str
    """Unique, kebab-case, prefixed with the SUT: ``cs-boot-retry-ignores-interval``."""
    sut: Literal["cs", "csms"]
    """The side under test whose simulator gets the fault (cs: the charge point simulator)."""
    fault: str
    """A fault of harness/sim/faults.py for that simulator."""
    description: str
    """One line: the realistic device bug the fault models."""
    cases: tuple[str, ...]
    """The OCTT test case id(s) that must FAIL with the fault."""
    symptom: Matcher
    """What every intended case's FAIL must show: a :class:`Symptom` (the structured data of a
    vocabulary failure), or a regex (re.search, case-sensitive, DOTALL: ``.`` crosses the lines of
    a reason) on the FAIL reason where the symptom is prose."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """The fault's parameters (see docs/faults.md)."""
    collateral: Mapping[str, str] = field(default_factory=dict)
    """Full mode: other case ids (fnmatch patterns allowed, e.g. ``TC_0*``) whose verdict may change
    with this fault, each with the reason why that is right."""
    also: Matcher | tuple[Matcher, ...] = ""
    """Full mode: the same bug as other cases show it, a :class:`Symptom`, a regex
    (``Heartbeat interval accuracy``) or a tuple of them; another case that FAILs matching it or
    the symptom caught the bug too."""
    after: tuple[str, ...] = ()
    """Cases run first in the same pytest run, not judged: what the intended case needs from earlier
    in a run (a transactionId the central system already gave, ...)."""
    fast: bool = True
    """Run in the fast subset inside ``make test`` (intended cases only)."""
    known_miss: str = ""
    """Not empty: the intended case does NOT catch the fault (a harness bug, reported); says why.
    The campaign still runs the entry and reports it as a miss."""
    pics: str = ""
    """The simulator's PICS for the entry, relative to the repository (empty: the SUT's default).
    The security cases need one declaring a security profile: ``harness/sim/security_cs.toml``.
    Full mode compares with an unfaulted baseline run on the same PICS."""

    @property
    def baseline_key(self) -> tuple[str, str]:
        """Which unfaulted baseline run the entry is compared with: (SUT, PICS)."""
        return self.sut, self.pics

    @property
    def side(self) -> Literal["cp", "csms"]:
        """The simulator the fault goes into."""
        return "cp" if self.sut == "cs" else "csms"

    @property
    def cli(self) -> str:
        """The ``--ocpp-sim-fault`` value: ``name:key=value,...``."""
        if not self.params:
            return self.fault
        return self.fault + ":" + ",".join(f"{k}={v}" for k, v in self.params.items())


def profile_modules() -> list[str]:
    """The names of this package's profile modules: those named after a profile's marker."""
    import harness.fidelity as package
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__)
                  if info.name in CASE_MARKERS.values())


def load(modules: list[str] | None = None) -> list[Entry]:
    """Every entry of every profile module (or of the named ones), in module order."""
    entries: list[Entry] = []
    for name in modules if modules is not None else profile_modules():
        module = importlib.import_module(f"harness.fidelity.{name}")
        entries.extend(getattr(module, "ENTRIES", ()))
    return entries


_ID = re.compile(r"^(cs|csms)-[a-z0-9]+(-[a-z0-9]+)*$")


def identity_problems(where: str, entry_id: str, sut: str, id_pattern: re.Pattern, prefix: str,
                      description: str, case_ids: tuple[str, ...], seen: set[str]) -> list[str]:
    """What every kind of entry (a fault here, a legal behaviour in harness.fidelity.legal) must
    hold: a unique kebab-case id starting ``prefix``, a one-line description, and case ids of
    its SUT. ``seen`` collects the ids."""
    problems: list[str] = []
    if entry_id in seen:
        problems.append(f"{where}: duplicate id")
    seen.add(entry_id)
    if not id_pattern.match(entry_id) or not entry_id.startswith(prefix):
        problems.append(f"{where}: the id must be kebab-case and start with '{prefix}'")
    if not description or "\n" in description:
        problems.append(f"{where}: the description is one line")
    suffix = "_CS" if sut == "cs" else "_CSMS"
    problems += [f"{where}: {case_id} is not a test case of SUT {sut}"
                 for case_id in case_ids if not case_id.endswith(suffix)]
    return problems


def check(entries: list[Entry]) -> list[str]:
    """Everything wrong with a catalogue, one message per problem (empty when sound)."""
    problems: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        where = f"fidelity entry {entry.id!r}"
        problems += identity_problems(where, entry.id, entry.sut, _ID, f"{entry.sut}-",
                                      entry.description, tuple(entry.cases), seen)
        if entry.fault not in REGISTRY:
            problems.append(f"{where}: unknown simulator fault {entry.fault!r}")
        else:
            try:
                # Through the CLI syntax, as the runner passes it: a value with a comma or an
                # equals sign would not survive the trip.
                Faults(entry.side, [entry.cli])
            except FaultError as exc:
                problems.append(f"{where}: {exc}")
        if not entry.cases:
            problems.append(f"{where}: no intended test case")
        problems += _matcher_problems(where, "the symptom", entry.symptom, required=True)
        if entry.also:
            problems += _matcher_problems(where, "also", entry.also, required=False)
        for pattern, why in entry.collateral.items():
            if not why:
                problems.append(f"{where}: collateral {pattern} needs a reason")
    return problems


def _matcher_problems(where: str, name: str, matcher: Any, *, required: bool) -> list[str]:
    from harness.verdicts import Mismatch

    matchers = matcher if isinstance(matcher, tuple) else (matcher,)
    problems: list[str] = []
    for one in matchers:
        if isinstance(one, Symptom):
            if one.kind not in Mismatch.KINDS:
                problems.append(f"{where}: {name} has an unknown kind {one.kind!r}")
            continue
        if not isinstance(one, str):
            problems.append(f"{where}: {name} is neither a regex nor a Symptom")
            continue
        if required and not one.strip():
            problems.append(f"{where}: {name} is empty")
        try:
            re.compile(one)
        except re.error as exc:
            problems.append(f"{where}: {name} is not a regex: {exc}")
    return problems
