"""A two-arm experiment for the memory tests: decoupled (DBA) attention against GQA, CPU-sized."""

from __future__ import annotations

import yaml


def model(attention: dict) -> dict:
    """A one-block, 32-wide transformer with the given attention layer."""
    return {
        "type": "TransformerModel",
        "embedder": {"type": "token", "vocab_size": 32, "d_model": 32},
        "topology": {"type": "StackedTopology", "layers": [
            {"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": 32},
                                                    {"type": "AttentionLayer", "d_model": 32, "n_heads": 2, **attention}]},
            {"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": 32},
                                                    {"type": "SwiGLULayer", "d_model": 32, "d_ff": 64}]},
            {"type": "RMSNormLayer", "d_model": 32},
            {"type": "LinearLayer", "d_in": 32, "d_out": 32},
        ]},
    }


ARMS = {"dba": {"mode": "decoupled", "n_kv_heads": 1, "sem_dim": 8, "geo_dim": 8},
        "gqa": {"mode": "gqa", "n_kv_heads": 1}}


def two_arms(steps: dict[str, list[tuple[int, int]]]) -> str:
    """YAML of experiment ``attn`` with targets ``dba`` and ``gqa``; ``steps[arm]`` lists (seed, steps) runs."""
    targets = []
    for arm, runs in steps.items():
        targets.append({
            "type": "experiment", "name": arm, "task": "task.language_modeling",
            "data": {"ref": "dataset.copying", "config": {"vocab_size": 32, "block_size": 32, "num_examples": 512, "data_seed": 0}},
            "system": {"ref": "system.language_model", "config": {"model": model(ARMS[arm])}},
            "objective": "objective.next_token_ce", "trainer": "trainer.standard",
            "runs": [{"id": f"s{seed}-n{n}", "seed": seed, "steps": n,
                      "train": {"batch_size": 8, "block_size": 32, "lr": 0.003, "device": "cpu", "deterministic": True}}
                     for seed, n in runs],
        })
    manifest = {"version": 2, "name": "attn", "defaults": {"data": {"val_frac": 0.1}, "logging": {"instrument": "plain"}},
                "targets": targets, "entrypoints": {"default": next(iter(steps))}}  # several targets name their default
    return yaml.safe_dump(manifest, sort_keys=False)
