"""The global symbol table, and resolution of candidates into node keys.

Resolution follows what Python would do at run time, as far as static facts allow:

1. an exact definition wins (modules before classes before functions; ties go to the
   first file in path order, then to the first definition in the file);
2. otherwise the longest known prefix decides: for a *module* prefix, the rest is looked
   up through the module's import aliases (re-exports such as ``from .a import f`` in a
   package ``__init__``) and then its star imports; for a *class* prefix, a one-part rest
   is a method looked up through the base classes (an inherited ``self.f()``);
3. ``^C.f`` (written ``super().f()`` in a method of ``C``) looks only in ``C``'s bases.

Every name looked at is recorded; its dotted prefixes are the resolution's *dependencies*.
A file can only ever define names below its own module name, so a change to the file with
module ``m`` can change a resolution only if ``m`` is among its dependencies. That is what
lets an incremental sync re-resolve exactly the references that could have changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from caramba.codegraph.facts import CALLS, CLASS, FUNCTION, IMPORTS, INHERITS, METHOD, MODULE, REGISTERS
from caramba.codegraph.scope import SUPER
from caramba.codegraph.table import Missing, StoredTable

#: Which target labels each resolved relationship accepts.
ACCEPTS: dict[str, frozenset[str]] = {
    CALLS: frozenset({FUNCTION, METHOD, CLASS}),
    IMPORTS: frozenset({MODULE}),
    INHERITS: frozenset({CLASS}),
    REGISTERS: frozenset({CLASS}),
}
MAX_DEPTH = 12
#: Fetch rounds ``resolve_all`` allows (a walk is at most ``MAX_DEPTH`` levels of a few steps).
MAX_ROUNDS = 100

#: One file's symbols as stored: (defs, aliases, stars, bases); see ``facts.Symbols``.
SymbolRecord = tuple[list, list, list, list]


class SymbolTable:
    """All definitions, aliases, star imports and base classes of a repository."""

    def __init__(self, records: Iterable[tuple[str, SymbolRecord]]) -> None:
        """Build the table from ``(path, record)`` pairs, which must come in path order.

        ``defs`` maps a qualname to ``(key, label, file)`` of the node that wins it.
        """
        self.defs: dict[str, tuple[str, str, str]] = {}
        self.aliases: dict[str, str] = {}
        self.stars: dict[str, list[str]] = {}
        self.bases: dict[str, tuple[tuple[str, ...], ...]] = {}
        ranks: dict[str, int] = {}
        defs, aliases, bases = self.defs, self.aliases, self.bases
        for path, (file_defs, file_aliases, file_stars, file_bases) in records:
            for qualname, key, label, rank in file_defs:
                known = ranks.get(qualname)
                if known is None or rank < known:
                    ranks[qualname] = rank
                    defs[qualname] = (key, label, path)
            for name, target in file_aliases:
                aliases.setdefault(name, target)
            if file_stars:
                module = file_defs[0][0]
                self.stars.setdefault(module, []).extend(file_stars)
            for qualname, base_candidates in file_bases:
                bases.setdefault(qualname, tuple(tuple(c) for c in base_candidates))


class Resolver:
    """Resolves candidates against a table, caching each candidate's answer.

    The table is a ``SymbolTable`` (a full sync, everything in memory) or a
    ``caramba.codegraph.table.StoredTable`` (an incremental sync): with the latter a
    lookup may raise ``Missing``, and ``resolve_all`` fetches and retries.
    """

    def __init__(self, table: "SymbolTable | StoredTable") -> None:
        """Resolve against ``table``; the cache lives as long as this object."""
        self.table = table
        self._cache: dict[str, tuple[str | None, tuple[str, ...]]] = {}

    def resolve(self, candidate: str) -> tuple[str | None, tuple[str, ...]]:
        """Return ``(qualname or None, names consulted)`` for one candidate.

        The consulted names (and their dotted prefixes) are the answer's dependencies.
        """
        cached = self._cache.get(candidate)
        if cached is not None:
            return cached
        consulted: list[str] = []
        found = self._walk(candidate, 0, set(), consulted)
        result = (found, tuple(dict.fromkeys(consulted)))
        self._cache[candidate] = result
        return result

    def target(self, qualname: str) -> tuple[str, str, str]:
        """Return ``(key, label, file)`` of the node a resolved qualname names."""
        return self.table.defs[qualname]

    def exact(self, qualname: str) -> tuple[str, str, str] | None:
        """Return ``(key, label, file)`` of the node defined as exactly ``qualname``, if any."""
        return self.table.defs.get(qualname)

    def _walk(self, name: str, depth: int, seen: set[str], consulted: list[str]) -> str | None:
        if depth > MAX_DEPTH or name in seen:
            return None
        seen.add(name)
        table = self.table
        if name.startswith(SUPER):
            owner, _, attr = name[1:].rpartition(".")
            consulted.append(owner)
            return self._inherited(owner, attr, depth, seen, consulted)
        consulted.append(name)
        if name in table.defs:
            return name
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            entry = table.defs.get(prefix)
            if entry is None:
                continue
            rest = parts[cut:]
            if entry[1] == MODULE:
                alias = table.aliases.get(f"{prefix}.{rest[0]}")
                if alias is not None:
                    return self._walk(".".join([alias, *rest[1:]]), depth + 1, seen, consulted)
                for star in table.stars.get(prefix, ()):
                    found = self._walk(".".join([star, *rest]), depth + 1, seen, consulted)
                    if found is not None:
                        return found
                return None
            if entry[1] == CLASS and len(rest) == 1:
                return self._inherited(prefix, rest[0], depth, seen, consulted)
            return None
        return None

    def _inherited(self, owner: str, attr: str, depth: int, seen: set[str], consulted: list[str]) -> str | None:
        """Look ``attr`` up in the bases of class ``owner``, depth-first in base order."""
        table = self.table
        for base_candidates in table.bases.get(owner, ()):
            for candidate in base_candidates:
                base = self._walk(candidate, depth + 1, seen, consulted)
                if base is None or table.defs[base][1] != CLASS:
                    continue
                found = self._walk(f"{base}.{attr}", depth + 1, seen, consulted)
                if found is not None:
                    return found
                break
        return None


def prefixes(names: Iterable[str]) -> set[str]:
    """Return ``names`` with all their dotted prefixes (what a change could affect)."""
    found: set[str] = set()
    for name in names:
        position = name.find(".")
        while position != -1:
            found.add(name[:position])
            position = name.find(".", position + 1)
        found.add(name)
    return found


def resolve_all(resolver: Resolver, candidates: Iterable[str], exact: Iterable[str] = ()) -> int:
    """Resolve ``candidates`` (and look up ``exact`` names) so later calls hit the cache.

    Against an in-memory ``SymbolTable`` there is nothing to do. Against a stored table
    this works in rounds (see ``caramba.codegraph.table``) and returns how many rounds
    of fetching it took.
    """
    table = resolver.table
    if not isinstance(table, StoredTable):
        return 0
    pending = set(candidates)
    table.want([*pending, *exact])
    table.fetch()
    for rounds in range(1, MAX_ROUNDS + 1):
        for candidate in list(pending):
            try:
                resolver.resolve(candidate)
            except Missing:
                continue
            pending.discard(candidate)
        if not pending:
            return rounds
        if table.fetch() == 0:
            raise RuntimeError(f"resolving {sorted(pending)[0]!r} needs a name the stored table cannot supply")
    raise RuntimeError(f"resolution did not finish in {MAX_ROUNDS} rounds (e.g. {sorted(pending)[0]!r})")
