"""The knowledge memory end to end: real CPU runs of two arms are recorded by the run hook,
searched, superseded by a better run, joined to the code graph, and read over CLI and MCP.

The expected answers are computed here from the runs' own metrics files (validation
perplexity = exp(last val_loss)), independently of memory's code.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from caramba.cli.app import app
from tests.memory.manifests import two_arms

REPO = Path(__file__).resolve().parents[2]
QUESTION = "which attention variant had the lowest validation perplexity"
pytestmark = pytest.mark.slow


def cli(*args: str) -> Any:
    """Run ``caramba *args`` in-process; JSON output parsed when asked for."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--format" in args else result.output


def perplexities(workspace: Path) -> dict[str, float]:
    """Each run's validation perplexity, read from its metrics file (the reference answer)."""
    out = {}
    for run_dir in (workspace / ".caramba" / "runs").iterdir():
        rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
        out[run_dir.name] = math.exp([r for r in rows if r.get("kind") == "eval"][-1]["val_loss"])
    return out


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three runs of two arms, a search; then a fourth run that changes the answer, and a search again."""
    workspace = tmp_path_factory.mktemp("memory_ws")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workspace)
        (workspace / "first.yml").write_text(two_arms({"dba": [(0, 30)], "gqa": [(0, 30), (1, 30)]}))
        cli("run", "first.yml", "--target", "dba")
        cli("run", "first.yml", "--target", "gqa")
        first = perplexities(workspace)
        before = cli("memory", "search", QUESTION, "--format", "json")
        leader = min(first, key=first.get)
        loser_arm = "gqa" if leader.startswith("dba") else "dba"
        (workspace / "second.yml").write_text(two_arms({loser_arm: [(2, 200)]}))
        cli("run", "second.yml", "--target", loser_arm)
        every = perplexities(workspace)
        fourth = next(run for run in every if run not in first)
        after = cli("memory", "search", QUESTION, "--format", "json")
        timeline = cli("memory", "timeline", "--format", "json")
        yield {"workspace": workspace, "first": first, "every": every, "leader": leader, "fourth": fourth,
               "before": before, "after": after, "timeline": timeline, "patch": patch}


def test_search_answers_with_the_best_run_its_number_and_id(story: dict[str, Any]) -> None:
    top = story["before"]["hits"][0]
    leader, ppl = story["leader"], story["first"][story["leader"]]
    assert top["source"]["run_id"] == leader
    assert leader in top["text"] and f"{ppl:.4g}" in top["text"]
    assert "attention variant" in top["text"]
    for other, value in story["first"].items():  # the other arms' numbers are cited beside it
        if not other.startswith(leader.split("-")[0]):
            assert f"{value:.4g}" in top["text"]


def test_a_better_run_supersedes_the_finding_and_the_timeline_keeps_both(story: dict[str, Any]) -> None:
    every, fourth, leader = story["every"], story["fourth"], story["leader"]
    assert every[fourth] < every[leader], "precondition: the longer fourth run must beat the first leader"
    top = story["after"]["hits"][0]
    assert top["source"]["run_id"] == fourth and f"{every[fourth]:.4g}" in top["text"]
    assert all(hit["source"].get("run_id") != leader or hit["kind"] != "finding" for hit in story["after"]["hits"])
    events = [e for e in story["timeline"]["events"] if e["metric"] == "val_perplexity"]
    # The history: whoever led as runs finished (the first run to finish led first), then the
    # first three runs' leader, then the fourth run; each superseded when the next took over.
    assert [e["run_id"] for e in events][-2:] == [leader, fourth]
    assert [e["status"] for e in events] == ["superseded"] * (len(events) - 1) + ["current"]
    assert all(a["invalid_at"] == b["valid_at"] for a, b in zip(events, events[1:]))
    old, new = events[-2:]
    status = json.loads((story["workspace"] / ".caramba" / "runs" / fourth / "status.json").read_text())
    assert old["invalid_at"] == new["valid_at"] == status["finished"]
    # What did we believe when the first finding was made? The superseded finding.
    then = cli("memory", "search", QUESTION, "--as-of", old["valid_at"], "--format", "json")
    assert then["hits"][0]["source"]["run_id"] == leader and then["hits"][0]["invalid_at"] == old["invalid_at"]


def test_facts_carry_validity_intervals(story: dict[str, Any]) -> None:
    facts = cli("memory", "facts", "attn", "--format", "json")
    findings = [f for f in facts["facts"] if f["relation"] == "FINDING_VAL_PERPLEXITY"]
    assert len(findings) >= 2 and [f["run_id"] if "run_id" in f else f["target"] for f in findings if f["invalid_at"] is None] == [story["fourth"]]
    measured = cli("memory", "facts", story["fourth"], "--format", "json")["facts"]
    value = next(f for f in measured if f["relation"] == "MEASURED" and "val_perplexity" in f["fact"])
    assert f"{story['every'][story['fourth']]:.6g}" in value["fact"]


def test_code_graph_join_finds_the_runs_that_used_decoupled_attention(story: dict[str, Any]) -> None:
    from caramba.codegraph.api import CodeGraph

    workspace = story["workspace"]
    with CodeGraph(db=workspace / ".caramba" / "codegraph.db", graph="caramba", workspace=workspace) as code:
        code.sync(REPO)
    related = cli("memory", "related", "DecoupledAttention", "--format", "json")
    assert related["classes"] == ["caramba.engine.model.layers.attention_decoupled.DecoupledAttention"]
    expected = sorted(run for run in story["every"] if run.startswith("dba-"))
    assert sorted(r["run_id"] for r in related["runs"]) == expected
    assert all("val_perplexity" in r["metrics"] for r in related["runs"])


def test_transcript_claims_are_found_with_session_and_turn(story: dict[str, Any]) -> None:
    from caramba.memory.hook import record_session

    turns = [{"speaker": "moderator", "text": "Today: is DBA worth it at long context?"},
             {"speaker": "architect", "text": "I claim the KV cache of decoupled attention is 25% smaller than GQA's at equal heads."},
             {"speaker": "skeptic", "text": "Only if the semantic path keeps its quality; I want a 4k-context run first."}]
    assert record_session(story["workspace"], "brainstorm-7", turns)["turns"] == 3
    found = cli("memory", "search", "how much smaller is the KV cache of decoupled attention", "--format", "json")
    top = found["hits"][0]
    assert top["source"] == {"session": "brainstorm-7", "turn": 2, "speaker": "architect", "kind": "transcript"}
    assert "25% smaller" in top["text"]


def test_no_model_records_structure_and_refuses_free_text_extraction(story: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["memory", "add", "DBA halves the cache", "--extract"])
    assert result.exit_code == 2
    assert "needs an LLM" in result.output and "llm.model" in result.output
    stats = cli("memory", "stats", "--format", "json")
    assert stats["runs_recorded"] == 4 and stats["entities"]["Run"] == 4


def test_sync_is_idempotent_and_mcp_shares_the_memory(story: dict[str, Any]) -> None:
    from mcp import Client

    from caramba.tools.server import build_server

    assert cli("memory", "sync", "--format", "json")["runs"] == 0

    async def ask() -> dict[str, Any]:
        async with Client(build_server(story["workspace"], watchdog=False)) as client:
            found = await client.call_tool("memory_search", {"query": QUESTION, "k": 3})
            note = await client.call_tool("memory_add_note", {"text": "Prefer 200-step runs before judging DBA.",
                                                              "title": "lesson"})
            return {"found": found.structured_content, "note": note.structured_content}

    answers = asyncio.run(ask())
    assert answers["found"]["hits"][0]["source"]["run_id"] == story["fourth"]
    again = cli("memory", "search", "lesson: prefer 200-step runs", "--format", "json")
    assert again["hits"][0]["id"] == answers["note"]["id"]
