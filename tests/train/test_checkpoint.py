"""Checkpoint files: atomic folders with checksums; keep_last; best; corrupt ones skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from caramba.engine.manifest.defaults import RuntimeDefaults
from caramba.engine.train.checkpoint import Checkpoints, CorruptCheckpoint
from caramba.engine.train.checkpoint import files


def _model(value: float) -> nn.Module:
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.fill_(value)
    return model


def test_keep_last_best_and_fallback_to_previous_good(tmp_path: Path) -> None:
    said: list[str] = []
    ckpts = Checkpoints(tmp_path, RuntimeDefaults(save_every=1, keep_last=2, save_best="val_loss"), said.append)
    for step in (1, 2, 3):
        ckpts.save(step, _model(step), {"step": step}, {})
    assert [p.name for p in ckpts.steps()] == ["step_00000002", "step_00000003"]
    assert ckpts.offer_best(3, {"val_loss": 1.0}, _model(3), {}) and not ckpts.offer_best(4, {"val_loss": 2.0}, _model(4), {})
    assert files.verify(tmp_path / "best")["step"] == 3
    newest = tmp_path / "step_00000003" / "state.pt"
    newest.write_bytes(newest.read_bytes()[:-5])
    with pytest.raises(CorruptCheckpoint, match="checksum"):
        files.verify(newest.parent)
    target = _model(0.0)
    step, state = ckpts.latest(target, torch.device("cpu"))
    assert step == 2 and state["step"] == 2 and float(target.weight.detach()[0, 0]) == 2.0
    assert "skipping checkpoint step_00000003" in said[0]


def test_missing_meta_and_no_leftover_temporaries(tmp_path: Path) -> None:
    folder = files.write(tmp_path / "step_00000001", _model(1.0), {}, 1, {})
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    (folder / "meta.json").unlink()
    with pytest.raises(CorruptCheckpoint, match="unreadable"):
        files.verify(folder)


def test_resume_removes_stale_temporary_folders_of_a_killed_write(tmp_path: Path) -> None:
    said: list[str] = []
    ckpts = Checkpoints(tmp_path, RuntimeDefaults(save_every=1, keep_last=2), said.append)
    ckpts.save(1, _model(1.0), {"step": 1}, {})
    for stale in (".step_00000002.4242.tmp", ".step_00000001.4242.old"):  # what kill -9 mid-write leaves
        (tmp_path / stale).mkdir()
        (tmp_path / stale / "model.safetensors").write_bytes(b"half")
    step, _ = ckpts.latest(_model(0.0), torch.device("cpu"))
    assert step == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["step_00000001"]
    assert any(".step_00000002.4242.tmp" in line for line in said)


def test_newest_good_passes_over_a_damaged_newer_checkpoint_and_says_why(tmp_path: Path) -> None:
    for step in (1, 2):
        files.write(tmp_path / f"step_0000000{step}", _model(float(step)), {}, step, {})
    (tmp_path / "step_00000002" / "state.pt").write_bytes(b"truncated")
    folder, meta, skipped = files.newest_good(tmp_path)
    assert (folder.name, meta["step"]) == ("step_00000001", 1)
    assert skipped == ["step_00000002: state.pt fails its checksum (truncated or corrupt)"]
    assert files.newest_good(tmp_path, "best") is None  # no best folder was written
