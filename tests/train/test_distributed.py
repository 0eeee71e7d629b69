"""Two gloo ranks on the CPU through ``caramba run --nproc 2`` (torchrun): DDP and FSDP2 give
the single-process run's losses and weights; a rank killed with SIGKILL is named, and the
run resumes on one process and on two, ending with the uninterrupted run's weights; one
run-store entry and one set of artifacts however many ranks wrote them.

The reference is the same manifest trained by one process with no distributed section
(global batch 16 × 2 accumulation steps = 32 sequences per step on every side). Attention
dropout is on (0.1): each micro-batch draws its masks from a seed of (run seed,
micro-batch, first row), so rank 1 draws micro-batch 1's masks — the one process's — and a
resumed run, on any number of ranks, draws the masks it would have drawn.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.compiler import compile_manifest
from caramba.engine.plan import dry_run
from caramba.engine.run import build, execute
from caramba.engine.train.checkpoint import files
from caramba.engine.train.distributed.sharding import UnevenBatch, plan_split, rank_micro_batches
from tests.train.manifests import tiny

STEPS, SAVE_EVERY = 40, 10
LOGGING = {"instrument": "plain", "eval_every": 20, "eval_iters": 3}
TRAIN = {"gradient_accumulation_steps": 2}
DROPOUT = 0.1
ARTIFACTS = ["checkpoints", "environment.json", "log.txt", "manifest.yml", "metrics.jsonl", "metrics.parquet", "status.json"]


def manifest(strategy: str | None) -> str:
    """The test manifest; ``strategy`` None: no distributed section (the one-process reference)."""
    runtime: dict = {"save_every": SAVE_EVERY, "keep_last": 2}
    if strategy is not None:
        runtime["distributed"] = {"strategy": strategy}
    data = yaml.safe_load(tiny(steps=STEPS, train=TRAIN, defaults={"runtime": runtime, "logging": LOGGING}))
    for block in data["targets"][0]["system"]["config"]["model"]["topology"]["layers"][0]["layers"]:
        for layer in block["layers"]:
            if layer["type"] == "AttentionLayer":
                layer["dropout"] = DROPOUT
    return yaml.safe_dump(data, sort_keys=False)


def caramba(workspace: Path, *args: str) -> subprocess.Popen[str]:
    # Knowledge memory (its own tests) stays off: recording each run would dominate these tests' time.
    (workspace / "caramba.yml").write_text("memory: {record_runs: false}\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "caramba", "run", "m.yml", *args], cwd=workspace, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_dir(workspace: Path) -> Path:
    [only] = list((workspace / ".caramba" / "runs").iterdir())  # one run-store entry, whatever the ranks
    return only


def train_losses(workspace: Path) -> list[float]:
    rows = [json.loads(line) for line in (run_dir(workspace) / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["kind"] == "train"]
    assert [r["step"] for r in train] == list(range(1, STEPS + 1))  # each step once: rank 0 alone writes
    return [r["loss"] for r in train] + [r["val_loss"] for r in rows if r["kind"] == "eval"]


def final_weights(workspace: Path, text: str) -> dict[str, torch.Tensor]:
    """The last checkpoint's weights loaded into a plain model (DCP folders load without ranks)."""
    compiled = compile_manifest(text)
    target = compiled.manifest.targets[0]
    model = build.build_model(target, target.runs[0])
    folder = sorted((run_dir(workspace) / "checkpoints").glob("step_*"))[-1]
    meta, _ = files.read(folder, model, torch.device("cpu"))
    assert meta["step"] == STEPS
    return model.state_dict()


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[float], dict[str, torch.Tensor]]:
    """One process, no distributed section: losses and final weights."""
    workspace = tmp_path_factory.mktemp("single")
    text = manifest(None)
    cwd = os.getcwd()
    os.chdir(workspace)
    try:
        [record] = execute(compile_manifest(text), None, workspace)
    finally:
        os.chdir(cwd)
    assert record.status == "succeeded"
    return train_losses(workspace), final_weights(workspace, text)


def launch_and_check(workspace: Path, strategy: str) -> None:
    (workspace / "m.yml").write_text(manifest(strategy))
    proc = caramba(workspace, "--nproc", "2")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert f"{strategy.upper()} over 2 ranks (gloo)" in out
    assert out.count("training finished") == 1  # rank 0 alone prints
    folder = run_dir(workspace)
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "succeeded" and status["step"] == STEPS
    assert (folder / "log.txt").read_text().count("training finished") == 1
    assert sorted(p.name for p in folder.iterdir()) == ARTIFACTS


def test_fsdp_on_two_ranks_matches_one_process(tmp_path: Path, reference) -> None:
    """FSDP2 over 2 gloo ranks: the one-process losses and weights (DDP: the kill test below)."""
    launch_and_check(tmp_path, "fsdp")
    losses, weights = reference
    assert train_losses(tmp_path) == pytest.approx(losses, rel=1e-5)
    assert_same_weights(final_weights(tmp_path, manifest("fsdp")), weights)


def _rank_pid(launcher: int, rank: int) -> int | None:
    """The pid of torchrun's worker ``rank`` (a child of the launcher with RANK=<rank>)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == launcher and f"RANK={rank}".encode() in env:
            return int(entry.name)
    return None


def test_kill9_of_a_rank_then_resume_on_one_and_on_two(tmp_path: Path, reference) -> None:
    """DDP over 2 gloo ranks, rank 1 killed with SIGKILL after the first checkpoint, resumed on
    2 ranks and on 1 process: every step's loss and the final weights are the one-process run's."""
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    text = manifest("ddp")
    (crashed / "m.yml").write_text(text)
    proc = caramba(crashed, "--nproc", "2")
    deadline = time.monotonic() + 240
    checkpoints = crashed / ".caramba" / "runs"
    while not list(checkpoints.glob("*/checkpoints/step_*")):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.005)
    victim = _rank_pid(proc.pid, 1)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, out
    said = " ".join(out.split())  # the console wraps long lines
    assert "the run stopped: rank 1 was killed by SIGKILL" in said, said[-600:]
    status = json.loads((run_dir(crashed) / "status.json").read_text())
    assert status["status"] == "failed" and status["step"] < STEPS
    assert status["reasons"][0].startswith("rank 1 was killed by SIGKILL at step ")

    on_two = tmp_path / "on_two"
    shutil.copytree(crashed, on_two)
    resumed = caramba(on_two, "--nproc", "2")
    out_two, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out_two
    assert "resuming from step" in out_two

    one = caramba(crashed)  # plain `caramba run`: one process, the same DCP checkpoints
    out_one, _ = one.communicate(timeout=300)
    assert one.returncode == 0, out_one
    assert "resuming from step" in out_one and "distributed: one process" in out_one

    losses, weights = reference
    for workspace in (crashed, on_two):
        assert json.loads((run_dir(workspace) / "status.json").read_text())["status"] == "succeeded"
        assert_same_weights(final_weights(workspace, text), weights)
        assert train_losses(workspace) == pytest.approx(losses, rel=1e-5)  # each step once, across crash and resume
    assert sorted(p.name for p in run_dir(on_two).iterdir()) == ARTIFACTS


def test_ranks_share_out_exactly_the_one_process_global_batch() -> None:
    """Every (step, rank) gets its rows; together the ranks cover the single process's micro-batches once."""
    for batch, accumulation, world in ((16, 2, 2), (16, 1, 2), (6, 3, 3), (8, 4, 2), (4, 1, 4)):
        for step in (0, 7):
            single = {(step * accumulation + m, row) for m in range(accumulation) for row in range(batch)}
            covered = [(micro.index, row) for rank in range(world)
                       for micro in rank_micro_batches(step, batch, accumulation, rank, world)
                       for row in range(*micro.rows)]
            assert sorted(covered) == sorted(single)
    with pytest.raises(UnevenBatch, match="cannot be split evenly over 2 ranks"):
        plan_split(3, 1, 2)


def test_a_plan_that_cannot_fit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dry run's per-rank memory: FSDP divides weights, gradients and optimizer state by the ranks."""
    data = yaml.safe_load(manifest("fsdp"))
    (tmp_path / "m.yml").write_text(yaml.safe_dump(data))
    one, two = (dry_run(compile_manifest(tmp_path / "m.yml"), None, n)[0].runs[0] for n in (1, 2))
    for key in ("weights", "gradients", "optimizer"):
        assert two.memory_bytes[key] == -(-one.memory_bytes[key] // 2)
    assert two.strategy == "fsdp" and two.ranks == 2 and two.memory_bytes["gathered"] > 0
    data["defaults"]["runtime"]["distributed"]["param_dtype"] = "bfloat16"  # blocks gathered in 16 bits: half the bytes
    (tmp_path / "m.yml").write_text(yaml.safe_dump(data))
    bf16 = dry_run(compile_manifest(tmp_path / "m.yml"), None, 2)[0].runs[0]
    assert bf16.memory_bytes["gathered"] * 2 == two.memory_bytes["gathered"]
    del data["defaults"]["runtime"]["distributed"]["param_dtype"]
    budget = (one.memory_bytes["total"] + two.memory_bytes["total"]) / 2 / 2**30  # fits on 2 ranks, not on 1
    data["defaults"]["runtime"]["distributed"]["device_memory_gib"] = budget
    (tmp_path / "m.yml").write_text(yaml.safe_dump(data))
    monkeypatch.chdir(tmp_path)
    refused = CliRunner().invoke(app, ["run", "m.yml", "--dry-run", "--nproc", "1"])
    assert refused.exit_code == 2 and "does not fit the devices" in refused.output, refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    fits = CliRunner().invoke(app, ["run", "m.yml", "--dry-run", "--nproc", "2"])
    assert fits.exit_code == 0, fits.output


def test_strategy_options_are_validated(tmp_path: Path) -> None:
    data = yaml.safe_load(manifest("ddp"))
    data["defaults"]["runtime"]["distributed"]["reshard_after_forward"] = True
    (tmp_path / "m.yml").write_text(yaml.safe_dump(data))
    out = subprocess.run([sys.executable, "-m", "caramba", "validate", "m.yml"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 2
    assert "defaults.runtime.distributed" in out.stdout + out.stderr
    assert "only apply to strategy fsdp" in out.stdout + out.stderr


class _Payload:
    """Unpickling this runs ``Path.touch(marker)``: the proof that a payload executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))  # type: ignore[return-value]


def test_a_pickle_payload_in_dcp_metadata_is_refused(tmp_path: Path) -> None:
    """DCP pickles its ``.metadata``; caramba reads it with a restricted unpickler, never executing a payload."""
    import pickle

    from caramba.engine.train.checkpoint import CorruptCheckpoint
    from caramba.engine.train.checkpoint.sharded import ShardedIO
    from caramba.engine.train.distributed import DistContext

    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    folder = ShardedIO(DistContext(), optimizer).write(tmp_path / "step_00000001", model, {"step": 1}, 1, {})
    fresh = torch.nn.Linear(3, 2)
    files.read_weights(folder, fresh, torch.device("cpu"))  # a genuine folder loads
    assert torch.equal(fresh.weight, model.weight)
    marker = tmp_path / "pwned"
    (folder / "dcp" / ".metadata").write_bytes(pickle.dumps(_Payload(marker)))
    meta = json.loads((folder / "meta.json").read_text())
    meta["files"]["dcp/.metadata"] = files.sha256(folder / "dcp" / ".metadata")  # checksums right: only the content lies
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptCheckpoint, match="refused, nothing executed"):
        files.read_weights(folder, torch.nn.Linear(3, 2), torch.device("cpu"))
    assert not marker.exists()
