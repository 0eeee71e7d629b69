"""A tiny LM learns a synthetic task on the CPU, and the run leaves its full record behind."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from caramba.engine.compiler import compile_manifest
from caramba.engine.run import execute
from caramba.engine.store import RunStore
from tests.train.manifests import tiny

COPYING = {"ref": "dataset.copying", "config": {"vocab_size": 32, "block_size": 32, "num_examples": 4096, "data_seed": 1}}
STEPS, TARGET_LOSS = 120, 0.1  # the copy task starts at ln(29) ≈ 3.4


def test_tiny_lm_learns_copying_below_target_loss(workspace: Path) -> None:
    manifest = tiny(steps=STEPS, data=COPYING, train={"lr": 0.01},
                    verify={"type": "fidelity", "batches": 2, "max_delta_nll": -1.0, "max_ppl_ratio": 0.5})
    [record] = execute(compile_manifest(manifest), None, workspace)
    assert record.status == "succeeded", record.reasons
    run_dir = Path(record.dir)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["kind"] == "train"]
    assert [r["step"] for r in train] == list(range(1, STEPS + 1))
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "mfu", "memory_mb"} <= set(train[0])
    final_eval = [r for r in rows if r["kind"] == "eval"][-1]
    assert final_eval["val_loss"] < TARGET_LOSS, final_eval
    assert pq.read_table(run_dir / "metrics.parquet").num_rows == len(rows)
    verdict = json.loads((run_dir / "artifacts" / "verify.json").read_text())
    assert verdict["passed"] and verdict["measurements"]["reference"] == "initialisation"
    for name in ("manifest.yml", "environment.json", "status.json", "log.txt"):
        assert (run_dir / name).is_file(), name
    assert RunStore(workspace).get(record.id).status == "succeeded"


def test_identical_work_is_recognised_and_a_failed_gate_fails_the_run(workspace: Path) -> None:
    failing = tiny(steps=5, verify={"type": "fidelity", "batches": 1, "max_delta_nll": -50.0})
    [first] = execute(compile_manifest(failing), None, workspace)
    assert first.status == "failed"
    assert any("delta_nll" in reason for reason in first.reasons)
    passing = tiny(steps=5)
    [done] = execute(compile_manifest(passing), None, workspace)
    [again] = execute(compile_manifest(passing), None, workspace)
    assert done.status == again.status == "succeeded" and again.id == done.id and again.finished == done.finished
