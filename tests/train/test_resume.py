"""kill -9 mid-training, a truncated checkpoint, and `caramba run` again: the same final weights.

The interrupted run is a real ``python -m caramba run`` subprocess, killed with SIGKILL
once it has written two checkpoints. The newest checkpoint is then truncated (a crash
mid-write on a filesystem without atomic rename would look like this); the rerun must
refuse it, resume from the previous one, announce "resuming from step N", and end with
weights bit-identical to an uninterrupted run (CPU, deterministic mode).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.compiler import compile_manifest
from caramba.engine.run import execute
from caramba.engine.store import RunStore
from tests.train.manifests import tiny

STEPS, SAVE_EVERY = 150, 10
MANIFEST = tiny(steps=STEPS, defaults={"runtime": {"save_every": SAVE_EVERY, "keep_last": 3}, "logging": {"instrument": "plain"}})


def _caramba(workspace: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "caramba", "run", "m.yml"], cwd=workspace, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _final(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(sorted((run_dir / "checkpoints").glob("step_*"))[-1] / "model.safetensors")


def test_kill9_then_rerun_resumes_bit_exact(tmp_path: Path, monkeypatch) -> None:
    reference_ws, crashed_ws = tmp_path / "uninterrupted", tmp_path / "crashed"
    reference_ws.mkdir(), crashed_ws.mkdir()
    (crashed_ws / "m.yml").write_text(MANIFEST)
    proc = _caramba(crashed_ws)
    monkeypatch.chdir(reference_ws)
    [reference] = execute(compile_manifest(MANIFEST), None, reference_ws)
    assert reference.status == "succeeded"

    checkpoints = crashed_ws / ".caramba" / "runs" / reference.id / "checkpoints"
    deadline = time.monotonic() + 120
    while len(list(checkpoints.glob("step_*"))) < 2:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "no checkpoints appeared"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = sorted(checkpoints.glob("step_*"))
    steps_saved = [int(p.name.split("_")[1]) for p in saved]
    assert steps_saved[-1] < STEPS, "the run finished before it could be killed"

    # runs list / show tell the truth after the crash
    monkeypatch.chdir(crashed_ws)
    [crashed] = RunStore(crashed_ws).list()
    assert crashed.status == "failed" and "process died at step" in crashed.reasons[-1]
    listed = json.loads(CliRunner().invoke(app, ["runs", "list", "--format", "json"]).stdout)
    assert listed[0]["status"] == "failed" and listed[0]["id"] == reference.id
    shown = json.loads(CliRunner().invoke(app, ["runs", "show", reference.id[:8], "--format", "json"]).stdout)
    assert shown["status"] == "failed" and shown["dir"] == str(checkpoints.parent)

    # truncate the newest checkpoint: it must be refused for the previous good one
    weights = saved[-1] / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    rerun = _caramba(crashed_ws)
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output
    assert "skipping checkpoint" in output and "checksum" in output
    assert f"resuming from step {steps_saved[-2]}" in output, output

    final_crashed, final_reference = _final(checkpoints.parent), _final(Path(reference.dir))
    assert final_crashed.keys() == final_reference.keys()
    for name, tensor in final_reference.items():
        assert torch.equal(final_crashed[name], tensor), f"{name} differs after resume"
    assert RunStore(crashed_ws).get(reference.id).status == "succeeded"
