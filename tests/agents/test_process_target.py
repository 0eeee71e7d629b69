"""A brainstorm as a manifest's process target, run by ``caramba run``, stopped by its budget.

The scripted models report usage that LiteLLM prices (``price_as: openai/gpt-4o-mini``);
the moderator's opening alone costs more than the budget, so the session stops cleanly
after one turn: exit code 0, status ``succeeded`` with the stop message, outputs written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.agents.helpers import E2E_SCRIPT, E2E_TOPIC

MANIFEST = f"""
version: 2
name: research
targets:
  - type: process
    name: kv_brainstorm
    team: {{moderator: research_lead, architect: architect, ml_expert: ml_expert, developer: developer}}
    process:
      type: brainstorm
      topic: "{E2E_TOPIC}"
      rounds: 2
      model: "script:{E2E_SCRIPT}"
      budget_usd: 0.0003
      output_dir: brainstorm
entrypoints: {{default: kv_brainstorm}}
"""


def test_caramba_run_process_target_stops_cleanly_at_its_budget(graph_workspace: Path) -> None:
    (graph_workspace / "research.yml").write_text(MANIFEST)
    done = subprocess.run([sys.executable, "-m", "caramba", "run", "research.yml", "--target", "kv_brainstorm",
                           "--format", "json"], cwd=graph_workspace, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    records = json.loads(done.stdout[done.stdout.index("["):])
    assert len(records) == 1 and records[0]["status"] == "succeeded"
    message = "stopped: budget of $0.0003 reached after 1 turns"
    assert records[0]["reasons"] == [message]
    folder = Path(records[0]["dir"]) / "brainstorm"
    assert message in (folder / "summary.md").read_text()
    turns = (folder / "transcript.jsonl").read_text().splitlines()
    assert [json.loads(t)["id"] for t in turns] == ["open"]
    assert "brainstorm/summary.md" in records[0]["artifacts"]
