"""The merged symbol table kept in the database, read lazily by an incremental sync.

A full sync builds ``symbols.SymbolTable`` in memory from every parsed file and stores its
four maps as Redis hashes next to the graph (``codegraph:<graph>:defs``, ``aliases``,
``stars``, ``bases``). An incremental sync never loads them whole (60k definitions for
torch would cost a quarter of a second): ``StoredTable`` exposes the same four maps as
``LazyMap``\\ s that hold only what was fetched, and ``symbols.resolve_all`` resolves in
*rounds*: walk every pending candidate until it needs a name not fetched yet
(``Missing``), fetch all such names in one pipelined round trip, repeat. Resolution
walks are a few steps deep, so a handful of rounds answer hundreds of candidates.

Values: ``defs`` → marshal ``(key, label, path)``; ``aliases`` → the target name;
``stars`` → marshal list of modules; ``bases`` → marshal tuple of candidate tuples.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis


MAPS = ("defs", "aliases", "stars", "bases")
_CHUNK = 5000


class Missing(LookupError):
    """A lookup needs a name that the lazy table has not fetched yet."""


class LazyMap:
    """A read-only mapping over one stored hash that knows only the names fetched so far.

    Looking up a name that was never fetched records it and raises ``Missing``; a name
    fetched but absent from the hash behaves as absent.
    """

    __slots__ = ("known", "wanted")

    def __init__(self) -> None:
        """Start knowing nothing."""
        self.known: dict[str, Any] = {}
        self.wanted: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value of ``name`` (``default`` when absent); ``Missing`` if unknown."""
        try:
            value = self.known[name]
        except KeyError:
            self.wanted.add(name)
            raise Missing(name) from None
        return default if value is None else value

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is defined; ``Missing`` if unknown."""
        return self.get(name) is not None  # type: ignore[arg-type]

    def __getitem__(self, name: str) -> Any:
        """Return the value of ``name``; ``KeyError`` when absent, ``Missing`` if unknown."""
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value


class StoredTable:
    """The four stored maps of one graph's symbol table, read lazily."""

    def __init__(self, raw: "redis.Redis", graph: str) -> None:
        """Address the table of graph ``graph`` through a binary-safe connection."""
        self._raw = raw
        self.keys = {name: f"codegraph:{graph}:{name}" for name in MAPS}
        self.defs = LazyMap()
        self.aliases = LazyMap()
        self.stars = LazyMap()
        self.bases = LazyMap()

    def maps(self) -> dict[str, LazyMap]:
        """The four maps by name."""
        return {"defs": self.defs, "aliases": self.aliases, "stars": self.stars, "bases": self.bases}

    def want(self, names: Iterable[str]) -> None:
        """Ask for ``names`` and all their dotted prefixes in every map (a prefetch)."""
        maps = self.maps().values()
        for name in names:
            if name.startswith("^"):
                name = name[1:].rpartition(".")[0]
            position = name.find(".")
            while position != -1:
                prefix = name[:position]
                for lazy in maps:
                    if prefix not in lazy.known:
                        lazy.wanted.add(prefix)
                position = name.find(".", position + 1)
            for lazy in maps:
                if name not in lazy.known:
                    lazy.wanted.add(name)

    def fetch(self) -> int:
        """Fetch every wanted name in one pipelined round trip; return how many."""
        pipe = self._raw.pipeline(transaction=False)
        asked: list[tuple[str, list[str]]] = []
        for part, lazy in self.maps().items():
            names = sorted(lazy.wanted - lazy.known.keys())
            lazy.wanted.clear()
            for start in range(0, len(names), _CHUNK):
                chunk = names[start : start + _CHUNK]
                pipe.hmget(self.keys[part], chunk)
                asked.append((part, chunk))
        if not asked:
            return 0
        maps = self.maps()
        for (part, names), values in zip(asked, pipe.execute()):
            known = maps[part].known
            for name, value in zip(names, values):
                known[name] = None if value is None else _decode(part, value)
        return sum(len(names) for _, names in asked)

    def set(self, part: str, name: str, value: Any) -> None:
        """Make the in-process view of ``part[name]`` ``value`` (None: absent)."""
        self.maps()[part].known[name] = value


def encode_value(part: str, value: Any) -> bytes:
    """Encode one stored value of map ``part``."""
    return value.encode() if part == "aliases" else marshal.dumps(value)


def _decode(part: str, value: bytes) -> Any:
    return value.decode() if part == "aliases" else marshal.loads(value)
