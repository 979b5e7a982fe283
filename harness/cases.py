"""Declaring a conformance test case: its OCTT id, name, profile, and when it does not apply.

    @case("TC_001_CS", "Cold Boot Charge Point", profile="Core")
    async def test_tc_001_cs_cold_boot(cp, driver, pics): ...

``na_when`` lists (condition, reason) pairs on the PICS: the first that holds makes the case N/A with
that reason. A profile the PICS does not list makes every case of that profile N/A.

The profiles a case may be filed under, the Robustness pseudo-profile (``-m robustness`` runs its
cases alone; ``-m "not robustness"`` leaves them out) and the certificate rule are
:mod:`harness.profiles`' (no pytest there: the report model reads them too).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import pytest

from harness.profiles import CASE_MARKERS, not_declared

Condition = Callable[[Any], bool]


@dataclass(frozen=True)
class CaseInfo:
    id: str
    name: str
    profile: str
    sut: str
    needs: tuple[str, ...] = ()
    """The OCTT preparations (reusable states, configuration, memory state), for the report."""
    na_when: tuple[tuple[Condition, str], ...] = field(default=())
    aliases: tuple[str, ...] = ()
    """Other ids the OCTT tool uses for the same case (TC_007_1_CS ...)."""

    def not_applicable(self, pics: Any) -> str | None:
        """Why the case does not apply to this device, or None if it does."""
        if (why := not_declared(self.profile, pics)) is not None:
            return why
        for condition, reason in self.na_when:
            if condition(pics):
                return reason
        return None


def case(case_id: str, name: str, *, profile: str, needs: tuple[str, ...] = (),
         na_when: tuple[tuple[Condition, str], ...] = (), aliases: tuple[str, ...] = ()):
    """Mark a test function as the OCTT test case ``case_id``."""
    if profile not in CASE_MARKERS:
        raise ValueError(f"unknown profile {profile!r}; one of {', '.join(CASE_MARKERS)}")
    sut = "csms" if case_id.endswith("_CSMS") else "cs" if case_id.endswith("_CS") else None
    if sut is None:
        raise ValueError(f"{case_id!r}: an OCTT id ends with _CS or _CSMS")
    info = CaseInfo(case_id, name, profile, sut, tuple(needs), tuple(na_when), tuple(aliases))

    def decorate(function: Callable) -> Callable:
        function.ocpp_case = info  # type: ignore[attr-defined]
        function = getattr(pytest.mark, CASE_MARKERS[profile])(function)
        if inspect.iscoroutinefunction(function):
            # Every case talks to the device over the one connection the bench holds, which
            # lives in the session's event loop. Marked here, not at collection time, so that
            # pytest-asyncio sees it in strict mode too.
            function = pytest.mark.asyncio(loop_scope="session")(function)
        return pytest.mark.ocpp_case(info)(function)

    return decorate


def cases_of(module: ModuleType) -> list[CaseInfo]:
    """The test cases a module declares."""
    return [info for obj in vars(module).values()
            if isinstance(info := getattr(obj, "ocpp_case", None), CaseInfo)]


def package_cases(modules: Iterable[ModuleType]) -> list[CaseInfo]:
    """Every test case declared in the test packages these modules belong to, whether pytest
    collected them or not: running ``testcases/cs/core/test_tc_003_...py`` alone must still know
    that Core has 53 applicable cases. A module is in a package when its name is dotted
    (``testcases.cs.core.test_tc_003``): every ``test_*.py`` under the outermost package's
    directory is read (imported once, as pytest would name it). A module that cannot be
    imported is skipped: it cannot run either."""
    found: dict[str, CaseInfo] = {}
    roots: dict[Path, str] = {}
    for module in modules:
        parts = module.__name__.split(".")
        file = getattr(module, "__file__", None)
        if len(parts) < 2 or not file:
            continue
        roots[Path(file).resolve().parents[len(parts) - 2]] = parts[0]
    for root, package in roots.items():
        for path in sorted(root.rglob("test_*.py")):
            relative = path.relative_to(root).with_suffix("").parts
            if not all((root.joinpath(*relative[:i]) / "__init__.py").is_file()
                       for i in range(len(relative))):
                continue
            name = ".".join((package, *relative))
            try:
                module = sys.modules.get(name) or importlib.import_module(name)
            except Exception:  # noqa: BLE001 -- not importable: not a case that can run
                continue
            for info in cases_of(module):
                found.setdefault(info.id, info)
    return list(found.values())
