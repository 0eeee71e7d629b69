"""The full sync's resolve and write stages: everything from scratch, in memory, in bulk.

All files were parsed (with bulk-load ``blobs``); the symbol table is built in memory,
every file is linked against it, and the graph is loaded with ``GRAPH.BULK`` into a new
graph; its indexes are defined afterwards, from a thread, while the sync writes its index
(FalkorDB builds them in the background: about 2 s for torch, mostly overlapped). The returned ``Outcome`` carries every record the
sync index keeps, the reverse dependencies and the whole symbol table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from caramba.codegraph.bulk import BulkLoader
from caramba.codegraph.facts import FileFacts
from caramba.codegraph.link import link_file
from caramba.codegraph.load import load_full
from caramba.codegraph.outcome import Outcome
from caramba.codegraph.properties import set_unresolved
from caramba.codegraph.schema import ensure_indexes
from caramba.codegraph.symbols import Resolver, SymbolTable

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis
    from falkordb import Graph


def full_sync(raw: "redis.Redis", name: str, graph: "Graph", facts: list[FileFacts],
              lap: Callable[[str], None]) -> Outcome:
    """Link every parsed file and bulk-load graph ``name`` (which must not exist)."""
    ok = [item for item in facts if not item.error]
    symbols = {item.path: item.symbols.as_tuple() for item in ok}
    table = SymbolTable((path, symbols[path]) for path in sorted(symbols))
    resolver = Resolver(table)
    links, answers = {}, {}
    for item in ok:
        linked = link_file(resolver, item.path, item.module, item.refs)
        record = linked.record()
        set_unresolved(item, record)
        links[item.path] = record
        answers[item.path] = linked.answer_record()
    lap("resolve")
    written = load_full(BulkLoader(raw, name), ok, links)
    # FalkorDB builds each index in the background but makes the next CREATE INDEX on a
    # label wait for the build before it; defining them from a thread lets the sync write
    # its own index meanwhile (the caller joins ``indexing`` and waits for the builds).
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codegraph-indexes")
    indexing = pool.submit(ensure_indexes, graph)
    pool.shutdown(wait=False)
    lap("write")
    rdeps: dict[str, list[str]] = defaultdict(list)
    for path in sorted(links):
        for dep in links[path][2]:
            rdeps[dep].append(path)
    return Outcome(
        written,
        records={"symbols": {item.path: item.encoded[0] for item in ok if item.encoded},
                 "refs": {item.path: item.encoded[1] for item in ok if item.encoded},
                 "answers": answers},
        rdeps=dict(rdeps),
        table={"defs": table.defs, "aliases": table.aliases, "stars": table.stars, "bases": table.bases},
        indexing=indexing,
    )
