"""Recompute the stored symbol table's entries that changed files touch.

The table (``caramba.codegraph.symbols.SymbolTable``) merges every file's symbol record
in path order. A name can only come from files whose module name is the name itself or
one of its dotted prefixes (``pkg.mod.Class.f`` from ``pkg/mod.py``, or, rarely, from
``pkg/__init__.py`` defining a class ``mod``), so the entries that changed files touch
can be recomputed from those few files alone instead of rebuilding the table:

1. the *affected* names: every name the changed files defined, aliased, star-imported
   into or gave bases to, before or after the change;
2. their *contributors*: the current files whose module is a prefix of an affected name;
3. each affected entry, merged again from the contributors' records by the table's rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from caramba.codegraph.symbols import SymbolRecord, SymbolTable

#: path -> symbol record (``facts.Symbols.as_tuple``); None for a file without one.
Records = dict[str, SymbolRecord | None]


def affected_names(records: Iterable[SymbolRecord | None]) -> dict[str, set[str]]:
    """Return, per stored map, the names that ``records`` contribute to."""
    names: dict[str, set[str]] = {"defs": set(), "aliases": set(), "stars": set(), "bases": set()}
    for record in records:
        if record is None:
            continue
        defs, aliases, stars, bases = record
        names["defs"].update(qualname for qualname, *_ in defs)
        names["aliases"].update(name for name, _ in aliases)
        if stars and defs:
            names["stars"].add(defs[0][0])
        names["bases"].update(qualname for qualname, _ in bases)
    return names


def contributors(names: Iterable[str], modules: dict[str, list[str]]) -> set[str]:
    """Return the paths (by module, from ``modules``) that may contribute to ``names``."""
    found: set[str] = set()
    seen: set[str] = set()
    for name in names:
        position = name.find(".")
        while True:
            prefix = name if position == -1 else name[:position]
            if prefix not in seen:
                seen.add(prefix)
                found.update(modules.get(prefix, ()))
            if position == -1:
                break
            position = name.find(".", position + 1)
    return found


def recompute(
    affected: dict[str, set[str]],
    modules: dict[str, list[str]],
    load: Callable[[list[str]], Records],
) -> dict[str, dict[str, Any]]:
    """Return the new value (None: absent) of every affected entry, per map.

    ``modules`` maps a module name to the current files with that module; ``load`` returns
    the current symbol records of the paths it is given.
    """
    everything = set().union(*affected.values())
    paths = sorted(contributors(everything, modules))
    records = load(paths)
    table = SymbolTable((path, records[path]) for path in paths if records.get(path) is not None)
    merged = {"defs": table.defs, "aliases": table.aliases, "stars": table.stars, "bases": table.bases}
    return {part: {name: merged[part].get(name) for name in names} for part, names in affected.items()}


def modules_of(files: dict[str, tuple]) -> dict[str, list[str]]:
    """Group current, parseable files by module (``files``: path -> index file record)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for path, record in files.items():
        if not record[4]:
            grouped[record[3]].append(path)
    return dict(grouped)
