"""A brainstorm as a manifest's process target, run by ``caramba run``, stopped by its budget.

The scripted models report usage that LiteLLM prices (``price_as: openai/gpt-4o-mini``);
the budget is smaller than the session's cost, so the session stops cleanly before the
call that could exceed it: exit code 0, status ``succeeded`` with the stop message,
outputs written, and the budget never exceeded.
"""

from __future__ import annotations

import json
import re
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
      budget_usd: 0.003
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
    reason = records[0]["reasons"][0]
    assert re.fullmatch(r"stopped: budget of \$0\.003 reached \(spent \$[0-9.]+; the next call of \w+ could cost "
                        r"up to \$[0-9.]+\) after \d+ turns", reason), reason
    folder = Path(records[0]["dir"]) / "brainstorm"
    assert reason in (folder / "summary.md").read_text()
    turns = [json.loads(t)["id"] for t in (folder / "transcript.jsonl").read_text().splitlines()]
    assert turns[0] == "open" and len(turns) < 13  # the full session has 13 turns
    state = json.loads((folder / "state.json").read_text())
    assert 0 < sum(u["cost_usd"] for u in state["usage"].values()) <= 0.003
    assert "brainstorm/summary.md" in records[0]["artifacts"]
