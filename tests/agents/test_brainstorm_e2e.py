"""End to end: scripted personas drive the REAL ``caramba mcp`` server over stdio, the
real code graph of this repository and the real engine.

One 2-round session among a moderator and three participants calls code-graph and
manifest tools, records two proposals, fixes one invalid manifest after its validation
errors and writes the transcript and two manifests that validate and dry-run. The same
session replayed from its recording gives identical outputs; a session stopped after
four turns resumes from its checkpoint to the same outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from caramba.processes import ProcessOptions, ProcessResult
from caramba.processes.brainstorm import BrainstormConfig, replay_config, run_brainstorm
from tests.agents.helpers import E2E_SCRIPT, E2E_TEAM, E2E_TOPIC

OUTPUTS = ["transcript.md", "transcript.jsonl", "proposals.md", "proposals.csv", "summary.md",
           "proposals/01_dba_kv.yml", "proposals/02_gqa_kv.yml"]
CONFIG = BrainstormConfig.from_command(E2E_TOPIC, E2E_TEAM, "research_lead", 2)


class Stop(Exception):
    """Simulates a session killed mid-way."""


class StopAfter:
    """An observer that stops the session once ``turns`` new turns completed."""

    def __init__(self, turns: int) -> None:
        self.left = turns

    def turn_finished(self, record: object, resumed: bool) -> None:
        if not resumed:
            self.left -= 1
            if self.left == 0:
                raise Stop


def brainstorm(workspace: Path, output: Path, **options: object) -> ProcessResult:
    console = Console(file=open(output.parent / f"{output.name}.log", "w"), width=120)
    opts = ProcessOptions(workspace=workspace, output_dir=output, console=console, **options)  # type: ignore[arg-type]
    if opts.replay is not None:
        config, opts = replay_config(opts)
        return run_brainstorm(config, opts)
    return run_brainstorm(CONFIG, opts)


@pytest.fixture(scope="module")
def session(graph_workspace: Path) -> ProcessResult:
    return brainstorm(graph_workspace, graph_workspace / "full", model=f"script:{E2E_SCRIPT}")


def test_two_round_brainstorm_end_to_end(session: ProcessResult, graph_workspace: Path) -> None:
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.plan import dry_run

    assert session.status == "completed", session.message
    folder = session.output_dir
    assert sorted(session.outputs) == sorted(OUTPUTS) and all((folder / f).is_file() for f in OUTPUTS)
    turns = [json.loads(line) for line in (folder / "transcript.jsonl").read_text().splitlines()]
    assert [t["id"] for t in turns][:5] == ["open", "round-1.architect", "round-1.ml_expert", "round-1.developer", "summary-1"]
    called = {c["name"] for t in turns for c in t["tools"]}
    assert {"find_symbol", "callers", "codegraph_query"} <= called  # the code graph
    assert {"generate_manifest", "validate_manifest", "manifest_schema", "list_presets"} <= called  # manifest tools
    found = next(c for c in turns[0]["tools"] if c["name"] == "find_symbol")
    assert found["ok"] and "caramba.engine.model.layers.attention.AttentionLayer" in found["result"]
    # the invalid GQA manifest was fixed by its author after the structured errors
    first, second = (next(t for t in turns if t["id"] == f"proposal-2.attempt-{n}") for n in (1, 2))
    assert not first["actions"]["validation"]["ok"]
    assert any("n_kv_heads" in e["message"] for e in first["actions"]["validation"]["errors"])
    assert second["actions"]["validation"]["ok"]
    assert "proposal-2.attempt-2" in (folder / "transcript.md").read_text()
    state = json.loads((folder / "state.json").read_text())
    assert [(p["name"], p["status"], p["attempts"]) for p in state["data"]["proposals"]] == [("dba_kv", "valid", 1), ("gqa_kv", "valid", 2)]
    for name in ("proposals/01_dba_kv.yml", "proposals/02_gqa_kv.yml"):
        plans = dry_run(compile_manifest(str(folder / name), []), None)
        assert plans[0].params_total > 0
    table = (folder / "proposals.csv").read_text().splitlines()
    assert table[0].startswith("proposal,author,target,params,tokens") and len(table) == 3
    summary = (folder / "summary.md").read_text()
    assert "completed: 13 turns, 2 of 2 proposals valid" in summary and "$" in summary and "cost unknown" not in summary
    usage = session.usage["per_agent"]
    assert set(usage) == {"moderator", *E2E_TEAM} and session.usage["total"]["cost_usd"] > 0


def test_replay_gives_identical_outputs(session: ProcessResult, graph_workspace: Path) -> None:
    replayed = brainstorm(graph_workspace, graph_workspace / "replayed", replay=session.output_dir / "recording.jsonl")
    assert replayed.status == "completed"
    for name in OUTPUTS:
        assert (replayed.output_dir / name).read_text() == (session.output_dir / name).read_text(), name


def test_a_stopped_session_resumes_after_its_last_turn(session: ProcessResult, graph_workspace: Path) -> None:
    folder = graph_workspace / "resumed"
    with pytest.raises(Stop):
        brainstorm(graph_workspace, folder, model=f"script:{E2E_SCRIPT}", observers=[StopAfter(4)])
    state = json.loads((folder / "state.json").read_text())
    assert state["status"] == "failed" and len(state["turns"]) == 4
    assert (folder / "transcript.md").is_file()  # partial outputs are written on any stop
    resumed = brainstorm(graph_workspace, folder, model=f"script:{E2E_SCRIPT}")
    assert resumed.status == "completed"
    log = (graph_workspace / "resumed.log").read_text()
    assert log.count("(from checkpoint)") == 4
    for name in OUTPUTS:
        assert (folder / name).read_text() == (session.output_dir / name).read_text(), name


def test_the_session_is_remembered_with_its_session_and_turn(session: ProcessResult, graph_workspace: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from caramba.cli.app import app

    monkeypatch.chdir(graph_workspace)
    result = CliRunner().invoke(app, ["memory", "search", "which KV head count for GQA did round 1 leave open",
                                      "-k", "20", "--format", "json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    summary = next(h for h in hits if h["source"].get("kind") == "transcript" and h["source"]["session"] == "brainstorm/full"
                   and "Open: which KV head count" in h["text"])
    turns = [json.loads(line) for line in (session.output_dir / "transcript.jsonl").read_text().splitlines()]
    assert summary["source"]["speaker"] == "moderator"  # the other sessions of this module (replayed, resumed) say it too
    assert turns[summary["source"]["turn"] - 1]["id"] == "summary-1"  # the turn number points at the right turn
    proposed = CliRunner().invoke(app, ["memory", "search", "GQA with 2 KV heads halves the KV cache", "--format", "json"])
    assert any(h["source"].get("kind") == "proposal" and "gqa_kv" in h["text"] for h in json.loads(proposed.stdout)["hits"])
