"""Wide tables adapt to the terminal: `caramba runs list` at 60 and 200 columns (cli/table.py's rule).

The command runs as a user runs it, in its own process with the terminal width in
``COLUMNS`` (what a shell exports and rich reads); the runs are real ``status.json``
records of the workspace's run store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from caramba.cli.table import Column, fitted
from caramba.engine.store import RunStore
from caramba.engine.store.record import RunRecord

IDS = ["full_pipeline-train-8fd90251", "dba_vs_gqa-dba_null-train-s3-3d443554", "tiny-train-6299b754"]


def runs_list(workspace: Path, columns: int) -> list[str]:
    """`caramba runs list` printed to a terminal ``columns`` wide; its lines."""
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    result = subprocess.run([sys.executable, "-m", "caramba", "runs", "list"], cwd=workspace, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def cells(line: str) -> list[str]:
    """The cells of a printed header row (rich's heavy header box)."""
    return [c.strip() for c in line.strip().strip("┃").split("┃")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wide")
    store = RunStore(root)
    for n, run_id in enumerate(IDS):
        folder = store.run_dir(run_id)
        folder.mkdir(parents=True)
        RunRecord(run_id, run_id.split("-")[1], "train", run_id.split("-")[0], "0" * 64, status="succeeded",
                  started=f"2026-11-28T10:0{n}:00", finished=f"2026-11-28T10:1{n}:00", step=200, steps=200,
                  dir=str(folder)).save()
    return root


def test_at_200_columns_every_column_is_shown(workspace: Path) -> None:
    lines = runs_list(workspace, 200)
    assert max(len(line) for line in lines) <= 200
    header = next(line for line in lines if " id " in line)
    assert cells(header) == ["id", "target", "status", "step", "started", "finished", "dir"]
    for run_id in IDS:
        row = next(line for line in lines if run_id in line)  # whole, on one line
        assert "succeeded" in row and "200/200" in row and "2026-11-28T10:" in row
    assert not any("not shown" in line for line in lines)


def test_at_60_columns_columns_drop_in_order_and_ids_stay_whole(workspace: Path) -> None:
    lines = runs_list(workspace, 60)
    assert max(len(line) for line in lines) <= 60
    for run_id in IDS:
        assert any(run_id in line and "succeeded" in line for line in lines), run_id
    header = next(line for line in lines if " id " in line)
    assert cells(header) == ["id", "status"]  # id (37) + status fit; with step (7) the row would be 63 wide
    caption = " ".join(line.strip() for line in lines[lines.index(next(l for l in lines if "not shown" in l)):])
    assert "not shown at 60 columns: target, step, started, finished, dir" in caption and "--format json" in caption


def test_the_drop_order_follows_the_columns_priorities() -> None:
    columns = [Column("name", no_wrap=True), Column("b", 10, drop=2), Column("c", 10, drop=1), Column("d", 10)]
    rows = [["x" * 20, "b" * 30, "c" * 30, "d" * 30]]

    def headers(width: int) -> list[str]:
        return [str(c.header) for c in fitted(columns, rows, width).columns]

    assert headers(200) == ["name", "b", "c", "d"]
    assert headers(60) == ["name", "b", "d"]    # 20 + 3 × 10 + 4 × 3 + 1 = 63 > 60: c goes first
    assert headers(40) == ["name", "d"]         # 20 + 10 + 3 × 3 + 1 = 40
    assert headers(20) == ["name", "d"]         # the undroppable columns stay, rich wraps what it can
    console = Console(width=44, record=True, file=open(os.devnull, "w"))
    console.print(fitted(columns, rows, 44))
    printed = console.export_text().splitlines()
    assert max(len(line) for line in printed) <= 44 and "x" * 20 in printed[3]
