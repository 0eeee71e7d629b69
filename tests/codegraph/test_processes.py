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
