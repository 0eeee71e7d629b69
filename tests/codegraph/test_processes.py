"""The CLI and another Python process share one embedded database and see the same graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from caramba.codegraph.api import CodeGraph
from caramba.codegraph.database import Database

pytestmark = pytest.mark.slow


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "caramba.cli.codegraph", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_sync_is_seen_by_a_process_holding_the_database(repo: Path, db_file: Path) -> None:
    with CodeGraph(db=db_file, graph="shared") as code:
        assert code.database.owner  # this process started the server; the CLI attaches
        done = _cli("codegraph-sync", str(repo), "--db", str(db_file), "--graph", "shared", "--format", "json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        rows = code.query("MATCH (n) RETURN count(n)")["rows"]
        assert rows == [[report["nodes"]]] and report["nodes"] > 0
        # and the other way round, while both are attached
        shown = _cli("codegraph", "query", "MATCH (f:Function) RETURN f.qualname ORDER BY f.qualname", "--db",
                     str(db_file), "--graph", "shared", "--format", "json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["rows"][0] == ["app.main"]


def test_api_sync_persists_for_a_later_cli_process(repo: Path, db_file: Path) -> None:
    with CodeGraph(db=db_file, graph="saved") as code:
        expected = code.sync(repo)["nodes"]
    assert not Path(f"{db_file}.settings").exists()  # the last client stopped the server
    done = _cli("codegraph", "query", "MATCH (n) RETURN count(n)", "--db", str(db_file), "--graph", "saved",
                "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"columns": ["count(n)"], "rows": [[expected]]}


def test_stale_settings_file_is_replaced(repo: Path, db_file: Path, tmp_path: Path) -> None:
    db_file.parent.mkdir(parents=True)
    dead = tmp_path / "gone"
    Path(f"{db_file}.settings").write_text(json.dumps({
        "pidfile": str(dead / "redis.pid"), "unixsocket": str(dead / "redis.socket"),
        "dbdir": str(db_file.parent), "dbfilename": db_file.name,
    }))
    database = Database.open(db_file)
    try:
        assert database.owner
        assert database.notes == [f"removed stale {db_file}.settings (its server's pid file is gone)"]
        assert database.raw.ping()
    finally:
        database.close()


# A process whose workspace folder is deleted while its database is open (another pytest
# session pruning old temporary folders, a user's `rm -rf`) closes it in an exit hook.
_CLOSE_AFTER_DELETE = """
import atexit, json, shutil, sys
from pathlib import Path
from caramba.codegraph.database import Database

db_file = Path(sys.argv[1])
database = Database.open(db_file)
print(json.dumps({"pid": database._client.client.pid}), flush=True)
atexit.register(database.close)
shutil.rmtree(db_file.parent.parent)
"""


def test_closing_at_exit_after_the_workspace_was_deleted_stops_the_server_without_a_traceback(db_file: Path) -> None:
    import psutil

    done = subprocess.run([sys.executable, "-c", _CLOSE_AFTER_DELETE, str(db_file)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "was deleted while its database was open" in done.stderr
    pid = json.loads(done.stdout)["pid"]
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, "the server still runs"
    assert not db_file.parent.exists(), "closing must not bring the deleted workspace back"
