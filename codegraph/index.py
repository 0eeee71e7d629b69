"""The sync index: per-file bookkeeping kept next to the graph, in the same database.

An incremental sync must know, without re-reading the repository, what every unchanged
file contributed: its content hash (to detect changes), its symbols (to rebuild the global
symbol table), its references and their resolved edges (to re-resolve and diff them),
and which dotted names its resolutions depend on. That is kept in Redis hashes under
``codegraph:<graph>:…`` in the same database as the graph, so it is saved, shared and
deleted together with it:

* ``meta``: schema version, Python version, repository root and package prefix;
* ``files``: path → (hash, size, mtime_ns, module, error);
* ``symbols``, ``refs``: path → the file's symbol record and reference tuples;
* ``answers``: path → the file's answered questions (``caramba.codegraph.link``); with
  the references they give back the file's last link (edges, unresolved names, deps),
  which is therefore not stored;
* ``rdeps``: dependency name → the paths whose answers depend on it;
* ``defs``, ``aliases``, ``stars``, ``bases``: the merged symbol table
  (``caramba.codegraph.table``).

Values are ``marshal``-encoded: it is the fastest codec for plain tuples/lists/strings,
and the Python version is in ``meta`` because its format may change between versions.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from caramba.codegraph.table import MAPS, encode_value

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis

SCHEMA_VERSION = "3"
_PARTS = ("meta", "files", "symbols", "refs", "answers", "rdeps", *MAPS)
#: Parts earlier schema versions kept; ``clear`` removes them too.
_LEGACY = ("links",)
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
        self._legacy = [f"codegraph:{graph}:{part}" for part in _LEGACY]

    def meta(self) -> dict[str, str]:
        """Return the ``meta`` record ({} when the graph was never synced)."""
        raw = self._raw.hgetall(self._keys["meta"])
        return {key.decode(): value.decode() for key, value in raw.items()}

    def clear(self) -> None:
        """Delete the whole index."""
        self._raw.delete(*self._keys.values(), *self._legacy)

    def files(self) -> dict[str, tuple[str, int, int, str, str]]:
        """Return path → (hash, size, mtime_ns, module, error) for every indexed file."""
        return {path.decode(): marshal.loads(value) for path, value in self._raw.hgetall(self._keys["files"]).items()}

    def records(self, part: str, paths: Iterable[str]) -> dict[str, Any]:
        """Return path → record of ``part`` (``symbols``, ``answers``, …) for ``paths``."""
        return self._many(part, paths)

    def dependents(self, names: Iterable[str]) -> set[str]:
        """Return the paths whose resolutions depend on any of ``names``."""
        found: set[str] = set()
        for paths in self._many("rdeps", names).values():
            found.update(paths)
        return found

    def write(
        self,
        meta: dict[str, str],
        records: dict[str, dict[str, Any]],
        removed: Iterable[str],
        rdeps: dict[str, list[str]],
        table: dict[str, dict[str, Any]],
    ) -> None:
        """Store new per-file ``records`` (part → path → record), drop ``removed`` paths,
        replace the given ``rdeps`` fields and ``table`` entries, in one transaction.

        ``records`` parts are ``files``, ``symbols``, ``refs``, ``answers``
        (a record given as ``bytes`` is already marshal-encoded); a
        path in ``removed`` is deleted from every part that got no new record for it. An
        ``rdeps`` entry with an empty path list and a ``table`` entry of None are deleted.
        """
        removed = list(removed)
        pipe = self._raw.pipeline(transaction=True)
        pipe.hset(self._keys["meta"], mapping=meta)
        for part in ("files", "symbols", "refs", "answers"):
            values = records.get(part, {})
            for chunk in _chunks(values.items()):
                pipe.hset(self._keys[part], mapping={key: _encoded(value) for key, value in chunk})
            stale = [path for path in removed if path not in values]
            if stale:
                pipe.hdel(self._keys[part], *stale)
        entries = {"rdeps": {name: None if not paths else marshal.dumps(paths) for name, paths in rdeps.items()}}
        for part, values in table.items():
            entries[part] = {name: None if value is None else encode_value(part, value) for name, value in values.items()}
        for part, values in entries.items():
            gone = [name for name, value in values.items() if value is None]
            for chunk in _chunks(gone):
                pipe.hdel(self._keys[part], *chunk)
            for chunk in _chunks((name, value) for name, value in values.items() if value is not None):
                pipe.hset(self._keys[part], mapping=dict(chunk))
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


def _encoded(value: Any) -> bytes:
    """Marshal-encode a record unless it already is (records are never ``bytes``)."""
    return value if type(value) is bytes else marshal.dumps(value)


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
