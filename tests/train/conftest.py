"""Training tests run on one CPU thread: tiny models gain nothing from more, and a shared
machine's oversubscribed OpenMP threads slow them down by an order of magnitude."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace directory that is also the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
