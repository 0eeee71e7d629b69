"""The development loop end to end through LiteLLM's real HTTP path, killed and resumed.

``caramba develop`` runs as a user runs it, against the scripted OpenAI-compatible server
on 127.0.0.1 (the ADK script of ``test_loop.py`` queued per role), on the real engine on
the CPU: a tiny transformer trained on Python's stdlib source, three iterations, 3 seeds,
a compute budget set so tight that the third iteration's variant is refused. The session
is killed with SIGKILL while a variant's full runs train, and the same command resumes
it: every run it started is finished (the interrupted one resumes from its checkpoint),
none is left running. Then the done-means of issue 16 are checked on its outputs, and the
killed-and-resumed session replays through the CLI to identical files with no model and no run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from caramba.agents.testing.openai_server import ScriptedOpenAIServer
from caramba.agents.testing.script import from_adk_script
from tests.processes.development.conftest import GOAL, SCRIPT

BUDGET = 250  # steps: root 48, iteration 1 111 (two full variants, one pruned pilot), iteration 2 53 → 212; iteration 3 needs 53


def command(workspace: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "caramba", "develop", "--goal", GOAL, "--from", "tiny_lm.yml", "--metric", "val_loss",
            "--direction", "min", "--seeds", "3", "--iterations", "3", "--patience", "3", "--compute-steps", str(BUDGET),
            "--pilot-fraction", "0.25", "--model", "openai/scripted", "--api-base", url, "--price-per-mtok", "0.15,0.6",
            "--out", "session", "--workspace", str(workspace)]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return {**env, "OPENAI_API_KEY": "sk-local", "COLUMNS": "200"}


def tree_of(folder: Path) -> dict:
    try:
        return json.loads((folder / "tree.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


@pytest.fixture(scope="module")
def session(workspace: Path) -> tuple[subprocess.CompletedProcess[str], Path, list, dict]:
    folder = workspace / "session"
    with ScriptedOpenAIServer(from_adk_script(SCRIPT)) as server:
        first = subprocess.Popen(command(workspace, server.url), cwd=workspace, env=environment(), text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        killed_during: dict = {}
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and first.poll() is None:  # kill -9 while n1's full runs train
            node = tree_of(folder).get("nodes", {}).get("n1", {})
            if node.get("status") == "running" and node.get("run_ids"):
                run = workspace / ".caramba" / "runs" / node["run_ids"][0] / "metrics.jsonl"
                if run.is_file() and run.stat().st_size > 0:
                    os.killpg(first.pid, signal.SIGKILL)
                    killed_during = node
                    break
            time.sleep(0.05)
        first.wait(timeout=60)
        assert killed_during, "the session ended before n1's full runs started: " + (first.stdout.read() if first.stdout else "")
        second = subprocess.run(command(workspace, server.url), cwd=workspace, env=environment(), capture_output=True,
                                text=True, timeout=900)
        requests = list(server.requests)
    return second, folder, requests, killed_during


def test_killed_session_resumes_and_finishes(session: tuple, workspace: Path) -> None:
    done, folder, _requests, killed = session
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    tree = tree_of(folder)
    assert tree["nodes"]["n1"]["status"] == "done" and tree["nodes"]["n1"]["run_ids"] == killed["run_ids"]
    for node in tree["nodes"].values():  # every run the session started is finished: none orphaned
        for run_id in node["pilot_run_ids"] + node["run_ids"]:
            status = json.loads((workspace / ".caramba" / "runs" / run_id / "status.json").read_text())
            assert status["status"] in ("succeeded", "failed"), (run_id, status)
            assert status["status"] == "succeeded" or node["status"] == "pruned"


def test_three_iterations_with_a_fix_a_pruned_pilot_and_a_significant_best(session: tuple, workspace: Path) -> None:
    _done, folder, requests, _killed = session
    nodes = tree_of(folder)["nodes"]
    assert max(n["iteration"] for n in nodes.values()) == 3
    statuses = [n["status"] for n in nodes.values()]
    assert statuses.count("invalid") == 1 and statuses.count("pruned") == 1 and statuses.count("failed") == 0
    invalid = next(n for n in nodes.values() if n["status"] == "invalid")
    assert any(n["fixed_from"] == invalid["id"] and n["status"] == "done" for n in nodes.values())
    fix_request = next(r for r in requests if r.role == "architect" and "was rejected at its check" in json.dumps(r.body))
    assert "does not divide d_model=32" in json.dumps(fix_request.body)  # the validator's words reached the persona
    report = (folder / "report.md").read_text()
    best = min((n for n in nodes.values() if n["status"] == "done"), key=lambda n: n["metrics"]["val_loss"]["mean"])
    versus = json.loads(json.dumps(best["versus_parent"])) if best["parent"] == "n0" else None
    root = nodes["n0"]["metrics"]["val_loss"]
    assert best["metrics"]["val_loss"]["ci_high"] < root["ci_low"]
    assert versus is None or versus["significant"]
    assert "95% CI" in report and best["id"] in report
    for name in ("tree.json", "tree.md", "tree.png", "tree.pdf", "report.md"):
        assert (folder / name).is_file(), name


def test_tight_compute_budget_is_never_exceeded(session: tuple, workspace: Path) -> None:
    _done, folder, _requests, _killed = session
    nodes = tree_of(folder)["nodes"]
    refused = [n for n in nodes.values() if n["status"] == "over_budget"]
    assert len(refused) == 1 and refused[0]["iteration"] == 3 and "compute budget" in refused[0]["reason"]
    trained = 0
    for node in nodes.values():
        for run_id in node["pilot_run_ids"] + node["run_ids"]:
            trained += json.loads((workspace / ".caramba" / "runs" / run_id / "status.json").read_text())["step"]
    assert trained <= BUDGET


def test_replay_gives_identical_outputs_with_no_model_and_no_training(session: tuple, workspace: Path) -> None:
    _done, folder, _requests, _killed = session
    runs = workspace / ".caramba" / "runs"
    before = {p.name: (p / "status.json").stat().st_mtime_ns for p in runs.iterdir()}
    env = {k: v for k, v in environment().items() if k != "OPENAI_API_KEY"}  # no model: no key, no server
    replay = subprocess.run([sys.executable, "-m", "caramba", "develop", "--replay", "session", "--workspace",
                             str(workspace)], cwd=workspace, env=env, capture_output=True, text=True, timeout=600)
    assert replay.returncode == 0, replay.stdout[-3000:] + replay.stderr[-3000:]
    for name in ("tree.json", "tree.md", "report.md"):
        assert (workspace / "session-replay" / name).read_text() == (folder / name).read_text(), name
    after = {p.name: (p / "status.json").stat().st_mtime_ns for p in runs.iterdir()}
    assert after == before  # not one run was started, let alone trained
