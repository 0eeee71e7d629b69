"""Recognise registry calls: ``REGISTRY.register(kind, name, config, "module:Symbol", …)``.

caramba's registries map a manifest type name (``"AttentionLayer"``) to the class that
implements it, written as a ``"module:Symbol"`` string so the module is imported lazily.
Any call to a method named ``register`` whose *name* and *target* are string literals and
whose target has the ``module:Symbol`` form counts; arguments may be positional (in the
order kind, name, config, target, summary) or keywords with those names.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from caramba.codegraph.text import clean

_ORDER = ("kind", "name", "config", "target", "summary")


@dataclass(slots=True)
class Registration:
    """One recognised registration; ``config`` is the config-class expression, if any."""

    kind: str
    name: str
    target: str
    summary: str
    config: ast.expr | None

    @property
    def target_candidate(self) -> str:
        """The dotted name of the registered symbol (``module.Symbol``)."""
        module, _, symbol = self.target.partition(":")
        return f"{module}.{symbol}"


def registration(call: ast.Call) -> Registration | None:
    """Return the registration that ``call`` makes, or None if it is not one."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr != "register":
        return None
    values: dict[str, ast.expr] = {}
    for field, arg in zip(_ORDER, call.args):
        if isinstance(arg, ast.Starred):
            return None
        values[field] = arg
    for keyword in call.keywords:
        if keyword.arg in _ORDER:
            values[keyword.arg] = keyword.value
    name = _text(values.get("name"))
    target = _text(values.get("target"))
    if name is None or target is None:
        return None
    module, colon, symbol = target.partition(":")
    if not colon or not module or not symbol:
        return None
    return Registration(
        kind=_text(values.get("kind")) or "",
        name=name,
        target=target,
        summary=_text(values.get("summary")) or "",
        config=values.get("config"),
    )


def _text(node: ast.expr | None) -> str | None:
    """Return the value of a string literal, None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return clean(node.value)
    return None
