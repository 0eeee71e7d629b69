"""Fixtures of the paper tests: a real 2-arm x 3-seed CPU comparison, and one paper written from it.

``comparison`` is a workspace where ``caramba run cmp.yml`` trained mha and gqa, three
seeds each, on Python's own source bytes (tests/bench/comparisons.py). ``e2e`` writes a
paper from it with ``caramba paper`` through LiteLLM's real HTTP path: the scripted
OpenAI-compatible server on 127.0.0.1 answers the writer and the reviewer from
``scripts/paper_e2e.yml`` (draft, one review, one revision), and its request log is kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from caramba.agents.testing.openai_server import LoggedRequest, ScriptedOpenAIServer
from caramba.agents.testing.script import from_adk_script
from tests.processes.paper_write.build_fixtures import build_workspace  # noqa: F401  (the shared comparison)

SCRIPTS = Path(__file__).resolve().parent / "scripts"
E2E_SCRIPT = SCRIPTS / "paper_e2e.yml"


@dataclass
class Result:
    """A finished ``caramba`` command: exit code and its output (stdout then stderr)."""

    exit_code: int
    output: str


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """``caramba ARGS`` run in ``root`` as a user would (its own process; provider keys only from ``env``)."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    done = subprocess.run([sys.executable, "-m", "caramba", *args], cwd=root, env={**clean, "COLUMNS": "200", **(env or {})},
                          capture_output=True, text=True, timeout=600)
    return Result(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="session")
def comparison(build_workspace: Path) -> Path:
    """The paper-build tests' workspace (2 arms x 3 seeds trained once per test session), with
    this module's BibTeX file as ``paper_refs.bib``."""
    shutil.copy(SCRIPTS / "refs.bib", build_workspace / "paper_refs.bib")
    return build_workspace


@dataclass
class Written:
    """The e2e paper: the command's result, the server's request log, the paper folder."""

    result: Result
    requests: list[LoggedRequest]
    folder: Path


@pytest.fixture(scope="session")
def e2e(comparison: Path) -> Written:
    """``caramba paper --manifest cmp.yml --bib paper_refs.bib`` answered by the scripted server (the
    README's way to use a local OpenAI-compatible server)."""
    with ScriptedOpenAIServer(from_adk_script(E2E_SCRIPT)) as server:
        result = invoke(comparison, "paper", "--manifest", "cmp.yml", "--bib", "paper_refs.bib", "--out", "written",
                        "--model", "openai/scripted", "--api-base", server.url, env={"OPENAI_API_KEY": "sk-local"})
        requests = list(server.requests)
    return Written(result, requests, comparison / "written")
