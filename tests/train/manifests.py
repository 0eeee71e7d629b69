"""Tiny manifests for the training tests: a 2-layer, d_model-32 transformer on the CPU."""

from __future__ import annotations

import yaml

MODEL = {
    "type": "TransformerModel",
    "embedder": {"type": "token", "vocab_size": 32, "d_model": 32},
    "topology": {"type": "StackedTopology", "layers": [
        {"type": "NestedTopology", "repeat": 2, "layers": [
            {"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": 32},
                                                    {"type": "AttentionLayer", "d_model": 32, "n_heads": 2}]},
            {"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": 32},
                                                    {"type": "SwiGLULayer", "d_model": 32, "d_ff": 64}]},
        ]},
        {"type": "RMSNormLayer", "d_model": 32},
        {"type": "LinearLayer", "d_in": 32, "d_out": 32},
    ]},
}


def tiny(steps: int = 60, data: dict | None = None, train: dict | None = None, verify: dict | None = None,
         defaults: dict | None = None, seed: int = 0) -> str:
    """YAML text of a one-run manifest (target ``t``, run ``r``) over a synthetic task by default."""
    run = {"id": "r", "seed": seed, "steps": steps,
           "train": {"batch_size": 16, "block_size": 32, "lr": 0.003, "device": "cpu", "deterministic": True,
                     "schedule": {"kind": "cosine", "warmup_steps": 10}, **(train or {})}}
    if verify is not None:
        run["verify"] = verify
    manifest = {
        "version": 2, "name": "tiny",
        "defaults": {"data": {"val_frac": 0.1}, "logging": {"instrument": "plain"}, **(defaults or {})},
        "targets": [{
            "type": "experiment", "name": "t", "task": "task.language_modeling",
            "data": data or {"ref": "dataset.mqar", "config": {"vocab_size": 32, "block_size": 32, "num_examples": 4096, "data_seed": 1}},
            "system": {"ref": "system.language_model", "config": {"model": MODEL}},
            "objective": "objective.next_token_ce", "trainer": "trainer.standard", "runs": [run],
        }],
    }
    return yaml.safe_dump(manifest, sort_keys=False)
