"""The seeded-fault catalogue: which simulator fault models which device bug, and which test case
must catch it with which symptom.

Entries live in one module per OCPP profile, named after the profile's pytest marker (``core.py``,
``reservation.py``, ``smart_charging.py`` ...), each defining ``ENTRIES: list[Entry]``; :func:`load`
finds every such module in this package, so adding a profile means adding a file, nothing else.
(Other modules of the package, the schema-agreement campaign for one, are never imported by it.) :func:`check` is what the tests run over the whole catalogue.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.cases import CASE_MARKERS
from harness.sim.faults import REGISTRY, FaultError, Faults



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
    symptom: str
    """A regex (re.search, case-sensitive, DOTALL: ``.`` crosses the lines of a reason) the FAIL
    reason of every intended case must match."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """The fault's parameters (see docs/faults.md)."""
    collateral: Mapping[str, str] = field(default_factory=dict)
    """Full mode: other case ids (fnmatch patterns allowed, e.g. ``TC_0*``) whose verdict may change
    with this fault, each with the reason why that is right."""
    also: str = ""
    """Full mode: a regex for the same bug as other cases word it (``Heartbeat interval accuracy``);
    another case that FAILs with a reason matching it or the symptom caught the bug too."""
    after: tuple[str, ...] = ()
    """Cases run first in the same pytest run, not judged: what the intended case needs from earlier
    in a run (a transactionId the central system already gave, ...)."""
    fast: bool = True
    """Run in the fast subset inside ``make test`` (intended cases only)."""
    known_miss: str = ""
    """Not empty: the intended case does NOT catch the fault (a harness bug, reported); says why.
    The campaign still runs the entry and reports it as a miss."""

    @property
    def side(self) -> str:
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
        try:
            re.compile(entry.symptom)
        except re.error as exc:
            problems.append(f"{where}: the symptom is not a regex: {exc}")
        if not entry.symptom.strip():
            problems.append(f"{where}: the symptom is empty")
        if entry.also:
            try:
                re.compile(entry.also)
            except re.error as exc:
                problems.append(f"{where}: also is not a regex: {exc}")
        for pattern, why in entry.collateral.items():
            if not why:
                problems.append(f"{where}: collateral {pattern} needs a reason")
    return problems
