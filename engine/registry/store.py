"""The process-wide registry and its explicit registration API."""

from __future__ import annotations

from pydantic import BaseModel

from caramba.engine.registry.entry import Entry, UnknownName


class Registry:
    """Maps ``(kind, name)`` to an :class:`Entry`.

    Registration is explicit (``engine/registry/catalog.py`` lists everything) and a name
    may be registered once per kind: a second registration is a programming error.
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {}

    def register(self, kind: str, name: str, config: type[BaseModel], target: str, summary: str) -> Entry:
        """Add one entry; raise if ``name`` is already registered for ``kind``."""
        family = self._entries.setdefault(kind, {})
        if name in family:
            raise ValueError(f"{kind} {name!r} is registered twice (engine/registry/catalog.py)")
        entry = Entry(kind=kind, name=name, config=config, target=target, summary=summary)
        family[name] = entry
        return entry

    def get(self, kind: str, name: str) -> Entry:
        """Return the entry or raise :class:`UnknownName` with did-you-mean suggestions."""
        family = self._entries.get(kind, {})
        if name not in family:
            raise UnknownName(kind, name, list(family))
        return family[name]

    def names(self, kind: str) -> list[str]:
        """All names registered for ``kind``, in registration order."""
        return list(self._entries.get(kind, {}))

    def entries(self, kind: str) -> list[Entry]:
        """All entries registered for ``kind``, in registration order."""
        return list(self._entries.get(kind, {}).values())

    def kinds(self) -> list[str]:
        """Every registry family that has at least one entry."""
        return list(self._entries)


REGISTRY = Registry()
