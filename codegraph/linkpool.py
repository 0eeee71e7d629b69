"""Link a full sync's files in the parse workers, in parallel, instead of in this process.

After the parse, linking (answering every question of every file against the symbol
table, then aggregating edges) is the longest step a full sync runs on one core. The
parse workers are idle by then, so each gets the table (``marshal``-encoded, sent once per
task) and a share of the files with their already encoded references, links them, and
sends back per file its link record and its answers already encoded for the sync index.
The result is exactly what ``caramba.codegraph.link.link_file`` gives in this process;
``tests/codegraph/test_parse_pool.py`` compares the two.
"""

from __future__ import annotations

import marshal
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from caramba.codegraph.facts import FileFacts
from caramba.codegraph.link import LinkRecord, link_file
from caramba.codegraph.parse import gc_paused
from caramba.codegraph.symbols import Resolver, SymbolTable


def table_blob(table: SymbolTable) -> bytes:
    """Encode ``table`` for the workers."""
    return marshal.dumps((table.defs, table.aliases, table.stars, table.bases))


def link_chunk(table: bytes, files: bytes) -> bytes:
    """Worker side: link ``files`` (marshal list of ``(path, module, encoded refs)``)."""
    with gc_paused():
        resolver = Resolver(SymbolTable.from_maps(*marshal.loads(table)))
        done: list[tuple[str, Any, bytes]] = []
        for path, module, refs in marshal.loads(files):
            linked = link_file(resolver, path, module, marshal.loads(refs))
            done.append((path, linked.record(), marshal.dumps(linked.answer_record())))
        return marshal.dumps(done)


def link_all(pool: ProcessPoolExecutor, table: SymbolTable, facts: list[FileFacts],
             workers: int) -> tuple[dict[str, LinkRecord], dict[str, bytes]]:
    """Link parsed ``facts`` (each with its ``encoded`` records) in ``workers`` tasks.

    Returns path -> link record and path -> encoded answer record.
    """
    shares: list[list[tuple[str, str, bytes]]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for item in sorted(facts, key=lambda fact: -len(fact.refs)):  # balance by references
        share = loads.index(min(loads))
        if item.encoded is None:
            raise ValueError(f"{item.path}: link_all needs facts parsed with blobs=True")
        shares[share].append((item.path, item.module, item.encoded[1]))
        loads[share] += len(item.refs) + 1
    blob = table_blob(table)
    futures = [pool.submit(link_chunk, blob, marshal.dumps(share)) for share in shares if share]
    links: dict[str, LinkRecord] = {}
    answers: dict[str, bytes] = {}
    for future in futures:
        for path, record, answer in marshal.loads(future.result()):
            links[path] = record
            answers[path] = answer
    return links, answers
