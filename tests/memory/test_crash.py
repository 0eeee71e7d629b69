"""A writer killed with SIGKILL part-way leaves no half-written facts, and `caramba memory sync` repairs.

The run store holds two finished runs (their directories written as the engine writes
them). A child process records them and is killed with SIGKILL at the worst moments:
(a) after the chunk rows are appended but before DeepLake's commit, (b) after the graph's
entities and edges are saved but before the runs' completion markers. Another process
(this one) must then see no partly recorded run, and a sync must record both exactly once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.store.record import RunRecord
from tests.memory.manifests import two_arms

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CRASH_AT = {
    # The chunk store's dataset, wrapped so that its commit is a SIGKILL (rows appended, not committed).
    "chunk_commit": """
        store, real = memory.chunks, memory.chunks.ds
        class Crashing:
            def __getattr__(self, name):
                return getattr(real, name)
            def __getitem__(self, key):
                return real[key]
            def __len__(self):
                return len(real)
            def commit(self, message=None):
                os.kill(os.getpid(), signal.SIGKILL)
        store.ds = Crashing()
    """,
    # The graph write, killed after Graphiti's bulk save of entities and edges, before the markers.
    "graph_marker": """
        from caramba.memory import graph
        original = graph.GraphStore.write
        def write(self, triplets, markers):
            original(self, triplets, {})
            os.kill(os.getpid(), signal.SIGKILL)
        graph.GraphStore.write = write
    """,
}


def run_dir(workspace: Path, arm: str, seed: int, ppl_loss: float, finished: str) -> Path:
    """A finished run directory as the engine leaves it (status, resolved manifest, metrics)."""
    run_id = f"{arm}-s{seed}-n30-0000000{seed}"
    folder = workspace / ".caramba" / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "manifest.yml").write_text(two_arms({arm: [(seed, 30)]}))
    (folder / "metrics.jsonl").write_text(json.dumps({"kind": "eval", "step": 30, "val_loss": ppl_loss}) + "\n")
    RunRecord(run_id, arm, f"s{seed}-n30", "attn", "ab" * 32, status="succeeded", started=finished, finished=finished,
              step=30, steps=30, dir=str(folder)).save()
    return folder


@pytest.mark.parametrize("moment", sorted(CRASH_AT))
def test_sigkill_mid_write_leaves_nothing_half_written_and_sync_repairs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                         moment: str) -> None:
    workspace = tmp_path / "ws"
    run_dir(workspace, "dba", 0, 3.2, "2026-11-28T08:00:00+00:00")
    run_dir(workspace, "gqa", 0, 3.4, "2026-11-28T08:05:00+00:00")
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from caramba.memory.api import Memory
        memory = Memory(Path(sys.argv[1]))
    """) + textwrap.dedent(CRASH_AT[moment]) + "\nmemory.sync()\nprint('not killed')\n"
    child = subprocess.run([sys.executable, "-c", script, str(workspace)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr

    from caramba.memory.api import Memory

    monkeypatch.chdir(workspace)
    with Memory(workspace) as memory:
        assert memory.graph.recorded() == {}                  # no run reads as recorded
        assert memory.graph.runs() == []
        assert memory.timeline()["events"] == [] or moment == "graph_marker"
        assert len(memory.chunks) == (0 if moment == "chunk_commit" else 4)
    result = CliRunner().invoke(app, ["memory", "sync", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["runs"] == 2
    with Memory(workspace) as memory:
        assert sorted(memory.graph.recorded()) == ["dba-s0-n30-00000000", "gqa-s0-n30-00000000"]
        count = memory.graph.ro_query("MATCH (r:Run) RETURN count(r)")[0][0]
        assert count == 2                                      # rewritten in place, never duplicated
        top = memory.search("which attention variant had the lowest validation perplexity", k=1)["hits"][0]
        assert top["kind"] == "finding" and top["source"]["run_id"] == "dba-s0-n30-00000000"
        assert len(memory.chunks) == 4                         # 2 run reports + 2 findings (val_loss, val_perplexity)
