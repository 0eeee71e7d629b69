"""Seed lists on chained runs: ``init_from: {run: previous}`` chains seed to seed.

Runs ``a`` (``seed: [0, 1]``) then ``b`` (``seed: [0, 1]``, ``init_from: {run: previous}``)
expand to ``a-s0, a-s1, b-s0, b-s1``; ``b-s<k>`` must start from ``a-s<k>`` — not from the
run before it in the expanded list (``b-s0`` from ``a-s1``, ``b-s1`` from ``b-s0``), which is
what chaining by position did. ``b`` trains one step at lr 1e-9, so its final weights are
its starting weights; ``a``'s two seeds end far apart, so each ``b`` seed's weights say
which ``a`` seed it started from. The comparison arm ``t/b`` holds both of ``b``'s seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

from caramba.engine.bench.compare import arms_of_manifest
from caramba.engine.compiler import compile_manifest
from caramba.engine.run import execute
from caramba.engine.store import RunStore
from tests.train.manifests import tiny


def final_weights(record: object) -> dict[str, torch.Tensor]:
    """The newest step checkpoint's weights of a finished run."""
    newest = sorted((Path(record.dir) / "checkpoints").glob("step_*"))[-1]
    return load_file(newest / "model.safetensors")


def max_change(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


def test_previous_chains_seed_to_seed(workspace: Path) -> None:
    manifest = yaml.safe_load(tiny(steps=4, defaults={"logging": {"instrument": "plain", "eval_iters": 1}}))
    target = manifest["targets"][0]
    [run] = target["runs"]
    target["runs"] = [{**run, "id": "a", "seed": [0, 1]},
                      {**run, "id": "b", "seed": [0, 1], "steps": 1, "init_from": {"run": "previous"},
                       "train": {**run["train"], "lr": 1e-9, "schedule": {"kind": "constant"}}}]
    manifest["comparison"] = {"arms": ["t/a", "t/b"]}
    compiled = compile_manifest(yaml.safe_dump(manifest), workspace=workspace)
    records = execute(compiled, "t", workspace)
    assert [r.run for r in records] == ["a-s0", "a-s1", "b-s0", "b-s1"]
    assert all(r.status == "succeeded" for r in records), [r.reasons for r in records]
    a, b = dict(enumerate(records[:2])), dict(enumerate(records[2:]))  # seeds 0 and 1, in order
    assert max_change(final_weights(a[0]), final_weights(a[1])) > 1e-3, "the two seeds of a end apart"
    for seed in (0, 1):
        source = json.loads((Path(b[seed].dir) / "artifacts" / "init_from.json").read_text())["source"]
        assert source.startswith(f"run {a[seed].id} "), (seed, source)
        own = yaml.safe_load((Path(b[seed].dir) / "manifest.yml").read_text())
        assert own["targets"][0]["runs"][0]["init_from"]["run"] == a[seed].id, "the stored manifest names the same source"
        assert max_change(final_weights(a[seed]), final_weights(b[seed])) < 1e-6, f"b-s{seed} starts where a-s{seed} ended"
    arms = {arm.name: [r.id for r in arm.runs] for arm in arms_of_manifest(compiled, RunStore(workspace))}
    assert arms == {"t/a": [a[0].id, a[1].id], "t/b": [b[0].id, b[1].id]}
