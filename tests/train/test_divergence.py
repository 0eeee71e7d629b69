"""A run whose loss or gradient becomes NaN/Inf ends ``failed`` with the step, never
``succeeded``; its metrics stay valid JSON (non-finite values as null plus a flag)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from caramba.engine.compiler import compile_manifest
from caramba.engine.run import execute
from tests.train.manifests import tiny


def strict_rows(run_dir: str) -> list[dict[str, Any]]:
    """metrics.jsonl parsed by a JSON parser that refuses NaN/Infinity (as every non-Python one does)."""
    def refuse(token: str) -> None:
        raise ValueError(f"invalid JSON constant {token}")

    return [json.loads(line, parse_constant=refuse) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def diverging(workspace: Path, steps: int = 12, **train: Any) -> Any:
    [record] = execute(compile_manifest(tiny(steps=steps, train={"lr": 1e6, **train},
                                             defaults={"runtime": {"save_every": 1}})), "t", workspace)
    return record


def test_divergence_fails_the_run_at_its_step_with_valid_json(workspace: Path) -> None:
    record = diverging(workspace)
    assert record.status == "failed"
    [reason] = record.reasons
    rows = strict_rows(record.dir)
    flagged = [r for r in rows if r.get("nonfinite")]
    assert flagged, "the diverged step's non-finite values must be flagged"
    first = flagged[0]
    assert reason.startswith(f"diverged at step {first['step']} "), reason
    assert record.step == first["step"] < 12
    assert all(first[key] is None for key in first["nonfinite"])
    checkpoints = sorted((Path(record.dir) / "checkpoints").glob("step_*"))
    assert all(int(c.name.removeprefix("step_")) < first["step"] for c in checkpoints), "no checkpoint from diverged weights"


def test_skip_drops_updates_and_says_so_then_fails_past_max_retries(workspace: Path) -> None:
    record = diverging(workspace, on_divergence={"action": "skip", "max_retries": 2})
    rows = strict_rows(record.dir)
    skipped = [r["step"] for r in rows if r.get("skipped")]
    assert record.status == "failed" and len(skipped) == 3, (record.reasons, skipped)
    assert record.reasons == [f"diverged at step {skipped[-1]}: 3 consecutive non-finite steps skipped (max_retries 2)"]
    assert "update skipped" in (Path(record.dir) / "log.txt").read_text()


def test_rollback_reloads_the_last_checkpoint_with_a_lower_lr(workspace: Path) -> None:
    record = diverging(workspace, on_divergence={"action": "rollback", "lr_factor": 0.001, "max_retries": 2})
    rows = strict_rows(record.dir)
    events = [r for r in rows if r["kind"] == "event"]
    assert [e["lr_scale"] for e in events] == [0.001, 0.001 ** 2]
    assert all(e["step"] < e["diverged_at"] for e in events)
    after = [r for r in rows if r["kind"] == "train" and r["step"] > events[-1]["step"]]
    before = {r["step"]: r["lr"] for r in rows if r["kind"] == "train" and r["step"] <= events[0]["step"]}
    assert after and after[0]["lr"] < 1e-3 * 1e6, after[0]
    assert record.status == "failed" and "after 2 rollbacks" in record.reasons[0], record.reasons
    assert before, "rows up to the checkpoint are kept"
    assert "rolled back to step" in (Path(record.dir) / "log.txt").read_text()
