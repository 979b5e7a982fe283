"""Which driver actions a test case needs, derived from its code, so that a case the rig cannot do is
N/A before it starts (docs/driver-protocol.md, "Capabilities").

Rules:

- Read from the source, not declared: what a case needs changes when its code changes, and a
  declaration would go stale. The case's function is parsed, and so is every function of the
  harness or of the test cases it calls or names (the states it uses, the helpers of its module),
  transitively.
- Over, never under: every action named anywhere in that code counts, whichever branch the PICS
  takes at run time. A rig that lacks an action a branch needs makes the case N/A; a case never
  starts to stop half-way for want of an action the rig declared it cannot do.
- What is named: a driver convenience method (``driver.plug_in(...)``, or a reference to it), an
  ``act``/``perform`` call with a literal action, and an OCPP operation a CSMS is made to send
  (``csms_send("RemoteStartTransaction", ...)``), followed through the functions that pass the
  operation on as a parameter (``operator_sends(csms, driver, pics, "Reset", ...)``). An action
  that is not a literal where it enters is reported in :attr:`Needs.unresolved`, so a test catches it.
- Actions the harness does for itself around a case (bringing the device idle) are not the case's.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.drivers.base import CHARGE_POINT_ACTIONS

__all__ = ["Needs", "needed_actions"]

_ROOTS = tuple(str(Path(__file__).resolve().parents[2] / d) for d in ("harness", "testcases"))
"""Only the harness's and the test cases' own functions are followed."""
_EXCLUDED = (str(Path(__file__).resolve().parent),)
"""The drivers themselves: their convenience methods are what is being looked for."""
_SENDS = "csms_send"
_GENERIC = ("act", "perform")


@dataclass
class Needs:
    actions: set[str] = field(default_factory=set)
    forwards: set[str] = field(default_factory=set)
    """Parameters of the function that carry an OCPP operation on to csms_send."""
    unresolved: list[str] = field(default_factory=list)
    """Where an action could not be read as a literal (file:line and what was there)."""


_MEMO: dict[types.CodeType, Needs] = {}


def needed_actions(function: Any) -> Needs:
    """The driver actions ``function`` (a test case) may perform, with everything it calls: the
    functions of the harness, of the test cases and of the case's own file (a lab's cases kept
    elsewhere have their helpers beside them)."""
    function = _unwrap(function)
    own = getattr(getattr(function, "__code__", None), "co_filename", None)
    if own and not own.startswith(_ROOTS):
        _EXTRA_FILES.add(own)
    return _analyse(function, set())


def _unwrap(function: Any) -> Any:
    """Through decorators (``asynccontextmanager``, ``functools.wraps``) to the function written."""
    for _ in range(20):
        if isinstance(function, types.ModuleType) or inspect.isclass(function):
            return function
        inner = getattr(function, "__wrapped__", None) or getattr(function, "__func__", None)
        if inner is None:
            return function
        function = inner
    return function


_EXTRA_FILES: set[str] = set()


def _followed(obj: Any) -> bool:
    if not isinstance(obj, types.FunctionType):
        return False
    path = obj.__code__.co_filename
    return (path.startswith(_ROOTS) or path in _EXTRA_FILES) and not path.startswith(_EXCLUDED)


def _analyse(function: types.FunctionType, active: set[types.CodeType]) -> Needs:
    code = function.__code__
    if code in _MEMO:
        return _MEMO[code]
    if code in active:  # recursion: what it needs is being collected already
        return Needs()
    active.add(code)
    try:
        needs = _read(function, active)
    finally:
        active.discard(code)
    _MEMO[code] = needs
    return needs


def _definition(function: types.FunctionType) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return node
    return None


def _params(node: ast.AST) -> list[str]:
    args = node.args  # type: ignore[attr-defined]
    return [a.arg for a in (*args.posonlyargs, *args.args)] + [a.arg for a in args.kwonlyargs]


def _resolve(node: ast.AST, scope: dict[str, Any]) -> Any:
    """The object a Name or a dotted Attribute chain names in the function's globals, or None."""
    if isinstance(node, ast.Name):
        return _unwrap(scope.get(node.id))
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, scope)
        if isinstance(owner, types.ModuleType) or inspect.isclass(owner):
            return _unwrap(getattr(owner, node.attr, None))
    return None


def _read(function: types.FunctionType, active: set[types.CodeType]) -> Needs:
    needs = Needs()
    node = _definition(function)
    if node is None:
        return needs
    where = f"{Path(function.__code__.co_filename).name}:{function.__code__.co_firstlineno}"
    params = set(_params(node))
    scope = dict(function.__globals__)
    if function.__closure__:
        for name, cell in zip(function.__code__.co_freevars, function.__closure__):
            try:
                scope[name] = cell.cell_contents
            except ValueError:
                pass

    for sub in ast.walk(node):  # imports inside the function (a state importing another lazily)
        if isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
            for alias in sub.names:
                try:
                    scope[alias.asname or alias.name] = getattr(
                        importlib.import_module(sub.module), alias.name)
                except (ImportError, AttributeError):
                    pass
        elif isinstance(sub, ast.Import):
            for alias in sub.names:
                try:
                    module = importlib.import_module(alias.name)
                except ImportError:
                    continue
                if alias.asname:
                    scope[alias.asname] = module
                else:
                    scope.setdefault(alias.name.partition(".")[0],
                                     importlib.import_module(alias.name.partition(".")[0]))

    def operation(arg: ast.AST | None, what: str) -> None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            needs.actions.add(arg.value)
        elif isinstance(arg, ast.Name) and arg.id in params:
            needs.forwards.add(arg.id)
        elif arg is not None:
            needs.unresolved.append(f"{where}: {what} with {ast.unparse(arg)}")

    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in CHARGE_POINT_ACTIONS:
            needs.actions.add(sub.attr)
        if not isinstance(sub, ast.Call):
            if isinstance(sub, (ast.Name, ast.Attribute)) and isinstance(sub.ctx, ast.Load):
                target = _resolve(sub, scope)
                if _followed(target) and target is not function:
                    # Named, perhaps passed on to be called: what it needs counts.
                    callee = _analyse(target, active)
                    needs.actions |= callee.actions
                    needs.unresolved += callee.unresolved
            continue
        func = sub.func
        if isinstance(func, ast.Attribute) and func.attr == _SENDS:
            operation(sub.args[0] if sub.args else _keyword(sub, "action"), "csms_send")
            continue
        if isinstance(func, ast.Attribute) and func.attr in _GENERIC and sub.args and \
                isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str):
            needs.actions.add(sub.args[0].value)
            continue
        target = _resolve(func, scope)
        if not _followed(target) or target is function:
            continue
        callee = _analyse(target, active)
        if not callee.forwards:
            continue
        callee_node = _definition(target)
        names = _params(callee_node) if callee_node is not None else []
        for forwarded in callee.forwards:
            arg = _keyword(sub, forwarded)
            if arg is None and forwarded in names:
                index = names.index(forwarded)
                arg = sub.args[index] if index < len(sub.args) and not any(
                    isinstance(a, ast.Starred) for a in sub.args[:index + 1]) else None
            if arg is None:
                default = _default(target, forwarded)
                if isinstance(default, str):
                    needs.actions.add(default)
                    continue
                needs.unresolved.append(f"{where}: {target.__name__}() without its {forwarded!r}")
                continue
            operation(arg, f"{target.__name__}({forwarded}=...)")
    return needs


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _default(function: types.FunctionType, name: str) -> Any:
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default
