"""Shared test set-up: offline settings for third-party libraries, and small helpers.

The only stand-in used anywhere in the suite is the LLM (a scripted model); everything
else (engine, databases, MCP transports) is real.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Third-party libraries' own switches (not caramba configuration): stay offline.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("GRAPHITI_TELEMETRY_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Triton reads TRITON_INTERPRET when a function is decorated, i.e. when triton is first
# imported, and tests of other areas import it long before tests/kernels/ runs (through
# torch.compile and the kernel dispatch's capability check). So the kernels' CPU
# interpreter mode is switched on here, at the very start of the session.
import torch  # noqa: E402  (after the offline switches above)

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

REPO = Path(__file__).resolve().parents[1]
PRESETS = REPO / "presets"


@pytest.fixture
def complete_example() -> str:
    """The text of the complete-example preset."""
    return (PRESETS / "complete_example.yml").read_text()


@pytest.fixture
def data_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace (the current directory) holding the `data.npy` the presets read:
    validation checks that a manifest's data files exist in the workspace."""
    import numpy as np

    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "data.npy", np.random.default_rng(0).integers(0, 256, size=20_000).astype(np.uint16))
    return tmp_path
