"""One registry record: a manifest name, its config model and its lazily imported target."""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


class UnknownName(LookupError):
    """A manifest named a type or ref the registry does not know.

    The message lists the closest names (did-you-mean) and every valid name of the kind,
    so a person or an LLM can fix the manifest in one step.
    """

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Valid: {', '.join(sorted(known))}")

    @property
    def suggestions(self) -> list[str]:
        """The known names closest to the unknown one, best first."""
        return difflib.get_close_matches(self.name, self.known, n=3, cutoff=0.5)


@dataclass(frozen=True)
class Entry:
    """A registered type.

    Attributes:
        kind: the registry family (``layer``, ``topology``, ``dataset``, ``trainer`` …).
        name: the name manifests use (``AttentionLayer``, ``dataset.tokens``).
        config: the pydantic model that validates the manifest's config for this name.
        target: ``"module.path:Symbol"`` of the implementation, imported on first use.
        summary: one line for ``caramba schema`` listings and MCP tool descriptions.
    """

    kind: str
    name: str
    config: type[BaseModel]
    target: str
    summary: str

    def load(self) -> Any:
        """Import and return the implementation (a class or a factory function)."""
        module_name, _, symbol = self.target.partition(":")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, symbol)
        except AttributeError as exc:
            raise ImportError(
                f"registry entry {self.kind}:{self.name} points at {self.target!r}, but "
                f"{module_name} has no {symbol!r}; fix the registration in engine/registry/catalog.py"
            ) from exc
