"""Planning starts from memory: a second session on the same goal does not rerun a refuted variant.

With session memory on (real FalkorDBLite and DeepLake on disk), session 1 prunes lr 50 at
its pilot and remembers its nodes. Session 2, on the same goal, is shown that attempt in
its planning message; when its architect proposes the same change anyway, the variant is
refused before any pilot (naming the earlier session and node) and goes back for a fix.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from caramba.processes import ProcessOptions
from caramba.processes.development import DevelopmentConfig, load_start, run_development
from tests.processes.development.conftest import GOAL, HERE, make_workspace


def develop(workspace: Path, name: str, script: str) -> dict:
    folder = workspace / name
    config = DevelopmentConfig(question=GOAL, start="tiny_lm.yml", start_text=load_start("tiny_lm.yml", workspace),
                               seeds=2, iterations=1, patience=3, pilot_fraction=0.25)
    console = Console(file=open(workspace / f"{name}.log", "w"), width=120)
    result = run_development(config, ProcessOptions(workspace=workspace, output_dir=folder, console=console,
                                                    model=f"script:{HERE / 'scripts' / script}"))
    assert result.status == "completed", result.message
    return json.loads((folder / "state.json").read_text())


def test_a_refuted_variant_is_not_run_again(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws")
    (workspace / "caramba.yml").write_text("memory:\n  record_runs: false\n  record_sessions: true\n")
    first = develop(workspace, "first", "memory_first.yml")
    assert first["data"]["tree"]["nodes"]["n1"]["status"] == "pruned"
    second = develop(workspace, "second", "memory_second.yml")
    tried = second["data"]["tried"]["1"]
    assert any(t["session"] == "development/first" and t["node"] == "n1" and t["refuted"] for t in tried), tried
    plan = next(t for t in second["turns"] if t["id"] == "plan-1.architect")
    node = second["data"]["tree"]["nodes"]["n1"]
    assert node["status"] == "invalid" and node["pilot_run_ids"] == []
    assert "already tried and refuted: development/first/n1" in node["reason"]
    fix = next(t for t in second["turns"] if t["id"] == "fix-n1")
    assert fix["role"] == "architect" and plan["role"] == "architect"
