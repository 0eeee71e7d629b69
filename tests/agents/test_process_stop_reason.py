"""A process run ended by an exception records ``failed`` with a reason naming the exception's type.

``execute_process`` re-raises whatever ended the process (the CLI turns it into its exit),
after writing ``status.json``. The reason tells a user what happened: Ctrl-C reads
``interrupted (KeyboardInterrupt)``, a bug reads ``stopped by <Type>: <message>``, never
"interrupted" for both.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

import caramba.processes
from caramba.engine.compiler.compile import compile_manifest
from caramba.engine.run.process import execute_process, process_target

MANIFEST = """
version: 2
name: research
targets:
  - type: process
    name: ideas
    team: {moderator: research_lead, architect: architect}
    process: {type: brainstorm, topic: "cheaper KV caches", rounds: 1, model: openai/local, budget_tokens: 1000}
"""


@pytest.mark.parametrize("raised, reason", [
    (ZeroDivisionError("division by zero\nsecond line"), "stopped by ZeroDivisionError: division by zero; run again to resume"),
    (KeyboardInterrupt(), "interrupted (KeyboardInterrupt); run again to resume"),
])
def test_the_failed_reason_names_the_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               raised: BaseException, reason: str) -> None:
    (tmp_path / "research.yml").write_text(MANIFEST)
    compiled = compile_manifest(str(tmp_path / "research.yml"), [], tmp_path)
    target = process_target(compiled, "ideas")
    assert target is not None

    def broken(*_args: object, **_kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(caramba.processes, "run_process", broken)
    with pytest.raises(type(raised)):
        execute_process(compiled, target, tmp_path, Console(file=io.StringIO()))
    [status] = list((tmp_path / ".caramba" / "runs").glob("*/status.json"))
    record = json.loads(status.read_text())
    assert record["status"] == "failed" and record["reasons"] == [reason]
