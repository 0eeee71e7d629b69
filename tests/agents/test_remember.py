"""A finished session is fed to memory unless switched off; a memory that fails never breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.agents.runtime.remember import remember
from caramba.agents.runtime.state import SessionState, TurnRecord


def _state(folder: Path) -> SessionState:
    state = SessionState.open(folder, "brainstorm", {})
    state.turns.append(TurnRecord("open", "moderator", "research_lead", "open", 0, "GQA halves the KV cache."))
    return state


def test_switched_off_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "caramba.yml").write_text("memory:\n  record_sessions: false\n")
    assert remember(tmp_path, "brainstorm", tmp_path / "out", _state(tmp_path / "out")) is None
    assert not (tmp_path / ".caramba" / "memory.deeplake").exists()


def test_an_unreachable_memory_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "unused")  # a provider key; the server on port 9 is never there
    (tmp_path / "caramba.yml").write_text("memory:\n  embedder: openai/text-embedding-3-small\n"
                                          "  embed_api_base: http://127.0.0.1:9/v1\n")
    assert remember(tmp_path, "brainstorm", tmp_path / "out", _state(tmp_path / "out")) is None
    err = capsys.readouterr().err
    assert "memory: session brainstorm/out was not recorded" in err and "text-embedding-3-small" in err
