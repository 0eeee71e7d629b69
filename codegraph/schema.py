"""The graph's indexes: range indexes for lookups, full-text indexes for search.

Every label gets range indexes on ``key`` (how the sync finds nodes), ``qualname``,
``name`` and ``file``; full-text indexes cover names and docstrings (for a ``TypeName``
the docstring is the registration's summary). Qualified names are not full-text indexed:
that index would cost a third of the index build of a large repository (about 1 s of
torch's 3 s) for words that the names of modules and classes already carry. A full sync creates
them once, *after* the bulk load: FalkorDB then builds them in the background (about 2 s
for torch's 60k nodes) while the sync writes its own index, and
``wait_until_operational`` waits for the builds to finish at the end.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from caramba.codegraph.facts import LABELS

if TYPE_CHECKING:  # pragma: no cover - typing only
    from falkordb import Graph

RANGE_PROPERTIES: tuple[str, ...] = ("key", "qualname", "name", "file")
FULLTEXT_PROPERTIES: tuple[str, ...] = ("name", "docstring")


def existing_indexes(graph: "Graph") -> set[tuple[str, str, str]]:
    """Return ``(label, property, type)`` for every index of ``graph``."""
    found: set[tuple[str, str, str]] = set()
    result = graph.ro_query("CALL db.indexes() YIELD label, properties, types RETURN label, properties, types")
    for label, properties, types in result.result_set:
        for prop in properties:
            for kind in types.get(prop, []):
                found.add((label, prop, kind))
    return found


def ensure_indexes(graph: "Graph") -> int:
    """Create whichever of the code graph's indexes are missing; return how many statements ran.

    Each label gets one range index over all of ``RANGE_PROPERTIES`` and one full-text
    index over ``FULLTEXT_PROPERTIES``: one statement each, because FalkorDB builds an
    index over existing nodes in the background and a further ``CREATE INDEX`` on a label
    waits for the build before it. So this returns at once and the builds overlap with
    whatever the caller does next; ``wait_until_operational`` waits for them.
    """
    have = existing_indexes(graph) if graph.name in graph.client.execute_command("GRAPH.LIST") else set()
    created = 0
    for label in LABELS:
        missing = [prop for prop in RANGE_PROPERTIES if (label, prop, "RANGE") not in have]
        if missing:
            graph.query(f"CREATE INDEX FOR (n:{label}) ON ({', '.join(f'n.{prop}' for prop in missing)})")
            created += 1
    for label in LABELS:
        missing = [prop for prop in FULLTEXT_PROPERTIES if (label, prop, "FULLTEXT") not in have]
        if missing:
            quoted = ", ".join(f"'{prop}'" for prop in missing)
            graph.query(f"CALL db.idx.fulltext.createNodeIndex('{label}', {quoted})")
            created += 1
    return created


def wait_until_operational(graph: "Graph", timeout_s: float = 600.0) -> None:
    """Wait until every index of ``graph`` has finished building."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = graph.ro_query("CALL db.indexes() YIELD label, status RETURN label, status").result_set
        building = [f"{label}: {status}" for label, status in rows if status != "OPERATIONAL"]
        if not building:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"indexes still building after {timeout_s:.0f} s: {'; '.join(building)}")
        time.sleep(0.05)
