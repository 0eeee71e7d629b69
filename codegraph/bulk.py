"""Load a new graph with FalkorDB's binary bulk-insert command, ``GRAPH.BULK``.

A full sync creates every node and edge of the graph at once. Through Cypher that means
parsing megabytes of literal rows and matching both ends of every edge by id (about 7 s
for torch's 60k nodes and 150k edges); ``GRAPH.BULK`` takes the entities as packed
binary records and appends them directly (well under a second for the same graph).

The format (FalkorDB's, shared with its ``falkordb-bulk-loader`` tool): a call is
``GRAPH.BULK <graph> [BEGIN] <nodes> <edges> <labels> <types> <blob>…``; ``BEGIN`` opens a
graph that must not exist yet. A blob is a header (the label or type name and the
property names, NUL-terminated, with a uint32 property count) followed by the records:
a node is its properties; an edge is the uint64 ids of its two ends, then its properties.
A property is a type byte and a value: NULL 0, STRING 3 (NUL-terminated UTF-8), LONG 4
(int64), ARRAY 5 (int64 length, then typed elements). Nodes get ids in the order they
are sent, from 0 in a new graph, which is how edges name their ends.

Strings must not contain NUL; ``caramba.codegraph.text.clean`` already spelled every
control character out in the parse workers, so they cannot.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis

#: Bytes of blobs per ``GRAPH.BULK`` call (well below Redis's 512 MB argument limit).
CALL_BYTES = 16 * 1024 * 1024
_LONG = struct.Struct("=Bq")
_ENDS = struct.Struct("=QQ")
_NULL = b"\x00"


class BulkError(RuntimeError):
    """The database refused or miscounted a bulk insert."""


def encode(value: Any) -> bytes:
    """Encode one property value (str, int, list of those, or None)."""
    kind = type(value)
    if kind is str:
        return b"\x03" + value.encode() + _NULL
    if kind is int:
        return _LONG.pack(4, value)
    if kind is list or kind is tuple:
        return _LONG.pack(5, len(value)) + b"".join([encode(item) for item in value])
    if value is None:
        return _NULL
    raise TypeError(f"cannot bulk-load a property of type {kind.__name__}: {value!r}")


def _header(name: str, properties: Sequence[str]) -> bytes:
    parts = [name.encode(), _NULL, struct.pack("=I", len(properties))]
    for prop in properties:
        parts += [prop.encode(), _NULL]
    return b"".join(parts)


class BulkLoader:
    """Buffers nodes and edges for one new graph and sends them in ``GRAPH.BULK`` calls.

    Send all nodes before any edge that names them: ``add_nodes`` returns the ids the
    database will give them. Call ``finish`` once at the end. When nothing was added, no
    graph is created (creating its indexes creates it).
    """

    def __init__(self, client: "redis.Redis", graph: str, call_bytes: int | None = None) -> None:
        """Load graph ``graph`` (which must not exist) through ``client``, in calls of at
        most ``call_bytes`` bytes of blobs (default ``CALL_BYTES``)."""
        self._client = client
        self._graph = graph
        self._limit = call_bytes or CALL_BYTES
        self._begun = False
        self._next_id = 0
        #: Blobs of the call being built: node blobs (slot 0) and edge blobs (slot 1).
        self._blobs: tuple[list[bytes], list[bytes]] = ([], [])
        self._counts = [0, 0]
        self._added = [0, 0]
        self._size = 0
        self.nodes = 0
        self.edges = 0

    def add_nodes(self, label: str, properties: Sequence[str], rows: Iterable[Sequence[Any]]) -> range:
        """Queue nodes of ``label`` (one row of values per node, in ``properties`` order).

        Returns the ids the nodes will have, in row order.
        """
        return self.add_records(label, properties, (b"".join([encode(value) for value in row]) for row in rows))

    def add_records(self, label: str, properties: Sequence[str], records: Iterable[bytes]) -> range:
        """Queue nodes of ``label`` given as already encoded records (see ``encode``)."""
        first = self._next_id
        count = self._add(0, _header(label, properties), records)
        self._next_id += count
        return range(first, first + count)

    def add_edges(self, kind: str, properties: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Queue ``kind`` edges from rows ``[source id, target id, *values in properties order]``."""
        self._add(1, _header(kind, properties),
                  (_ENDS.pack(row[0], row[1]) + b"".join([encode(value) for value in row[2:]]) for row in rows))

    def finish(self) -> None:
        """Send what is still queued; afterwards the graph holds every entity added."""
        self._flush()
        if [self.nodes, self.edges] != self._added:
            raise BulkError(f"bulk load of {self._graph!r} sent {self.nodes} nodes and {self.edges} edges "
                            f"but {self._added[0]} and {self._added[1]} were added")

    def _add(self, slot: int, header: bytes, records: Iterable[bytes]) -> int:
        """Append records under ``header`` to the current call, flushing when it is full."""
        parts: list[bytes] = [header]
        size = len(header)
        count = total = 0
        for record in records:
            if self._size + size + len(record) > self._limit and count:
                self._blobs[slot].append(b"".join(parts))
                self._counts[slot] += count
                self._flush()
                parts, size, count = [header], len(header), 0
            parts.append(record)
            size += len(record)
            count += 1
            total += 1
        if count:
            self._blobs[slot].append(b"".join(parts))
            self._counts[slot] += count
            self._size += size
        self._added[slot] += total
        return total

    def _flush(self) -> None:
        if self._blobs[0] or self._blobs[1]:
            self._send()

    def _send(self) -> None:
        args: list[Any] = [self._graph]
        if not self._begun:
            args.append("BEGIN")
            self._begun = True
        labels, types = self._blobs
        args += [self._counts[0], self._counts[1], len(labels), len(types), *labels, *types]
        reply = self._client.execute_command("GRAPH.BULK", *args)
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        expected = f"{self._counts[0]} nodes created, {self._counts[1]} edges created"
        if text != expected:
            raise BulkError(f"GRAPH.BULK on {self._graph!r} answered {text!r}, expected {expected!r}")
        self.nodes += self._counts[0]
        self.edges += self._counts[1]
        self._blobs, self._counts, self._size = ([], []), [0, 0], 0
