"""The sync index: per-file bookkeeping kept next to the graph, in the same database.

An incremental sync must know, without re-reading the repository, what every unchanged
file contributed: its content hash (to detect changes), its symbols (to rebuild the global
symbol table), its references and their resolved edges (to re-resolve and diff them),
and which dotted names its resolutions depend on. That is kept in Redis hashes under
``codegraph:<graph>:…`` in the same database as the graph, so it is saved, shared and
deleted together with it:

* ``meta``: schema version, Python version, repository root and package prefix;
* ``files``: path → (hash, size, mtime_ns, module, error);
* ``symbols``, ``refs``, ``links``: path → the file's symbol record, reference tuples,
  and (edges, unresolved names, dependencies) from the last resolution;
* ``rdeps``: dependency name → the paths that depend on it (the reverse of ``links``).

Values are ``marshal``-encoded: it is the fastest codec for plain tuples/lists/strings,
and the Python version is in ``meta`` because its format may change between versions.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis

SCHEMA_VERSION = "1"
_PARTS = ("meta", "files", "symbols", "refs", "links", "rdeps")
_CHUNK = 2000


def python_version() -> str:
    """The interpreter version recorded in ``meta`` (marshal's format may change)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class SyncIndex:
    """Read and write one graph's sync index through a binary-safe Redis connection."""

    def __init__(self, raw: "redis.Redis", graph: str) -> None:
        """Address the index of graph ``graph``."""
        self._raw = raw
        self._keys = {part: f"codegraph:{graph}:{part}" for part in _PARTS}

    def meta(self) -> dict[str, str]:
        """Return the ``meta`` record ({} when the graph was never synced)."""
        raw = self._raw.hgetall(self._keys["meta"])
        return {key.decode(): value.decode() for key, value in raw.items()}

    def clear(self) -> None:
        """Delete the whole index."""
        self._raw.delete(*self._keys.values())

    def files(self) -> dict[str, tuple[str, int, int, str, str]]:
        """Return path → (hash, size, mtime_ns, module, error) for every indexed file."""
        return {path.decode(): marshal.loads(value) for path, value in self._raw.hgetall(self._keys["files"]).items()}

    def symbols(self) -> dict[str, Any]:
        """Return path → symbol record for every parsed file."""
        return {path.decode(): marshal.loads(value) for path, value in self._raw.hgetall(self._keys["symbols"]).items()}

    def refs(self, paths: Iterable[str]) -> dict[str, list]:
        """Return path → reference tuples for ``paths``."""
        return self._many("refs", paths)

    def links(self, paths: Iterable[str]) -> dict[str, tuple]:
        """Return path → (edges, unresolved, deps) from the last resolution of ``paths``."""
        return self._many("links", paths)

    def dependents(self, names: Iterable[str]) -> set[str]:
        """Return the paths whose resolutions depend on any of ``names``."""
        found: set[str] = set()
        for paths in self._many("rdeps", names).values():
            found.update(paths)
        return found

    def write(
        self,
        meta: dict[str, str],
        files: dict[str, tuple],
        symbols: dict[str, Any],
        refs: dict[str, list],
        links: dict[str, tuple],
        removed: Iterable[str],
        rdeps: dict[str, list[str]],
    ) -> None:
        """Store new records, drop ``removed`` paths and replace the given ``rdeps`` fields.

        An ``rdeps`` entry with an empty path list is deleted.
        """
        removed = list(removed)
        pipe = self._raw.pipeline(transaction=True)
        pipe.hset(self._keys["meta"], mapping=meta)
        for part, values in (("files", files), ("symbols", symbols), ("refs", refs), ("links", links)):
            for chunk in _chunks(values.items()):
                pipe.hset(self._keys[part], mapping={key: marshal.dumps(value) for key, value in chunk})
            stale = [path for path in removed if path not in values]
            if stale:
                pipe.hdel(self._keys[part], *stale)
        gone = [name for name, paths in rdeps.items() if not paths]
        if gone:
            for chunk in _chunks(gone):
                pipe.hdel(self._keys["rdeps"], *chunk)
        kept = [(name, paths) for name, paths in rdeps.items() if paths]
        for chunk in _chunks(kept):
            pipe.hset(self._keys["rdeps"], mapping={name: marshal.dumps(paths) for name, paths in chunk})
        pipe.execute()

    def rdeps(self, names: Iterable[str]) -> dict[str, list[str]]:
        """Return the current ``rdeps`` entries for ``names`` (missing ones omitted)."""
        return self._many("rdeps", names)

    def _many(self, part: str, fields: Iterable[str]) -> dict[str, Any]:
        fields = list(fields)
        found: dict[str, Any] = {}
        for start in range(0, len(fields), _CHUNK):
            chunk = fields[start : start + _CHUNK]
            for field, value in zip(chunk, self._raw.hmget(self._keys[part], chunk)):
                if value is not None:
                    found[field] = marshal.loads(value)
        return found


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
