"""Comparison manifests that train for real on the CPU: arms × seeds on Python's own source text.

The text is the standard library's ``json`` and ``inspect`` sources as bytes (vocab 256),
so every run trains on real text; each arm is one attention variant of a one-layer,
32-wide model, every arm with the same seeds, steps and perplexity/memory benchmarks.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from caramba.cli.app import app

ATTENTION = {
    "mha": "{type: AttentionLayer, d_model: 32, n_heads: 2, mode: standard}",
    "gqa": "{type: AttentionLayer, d_model: 32, n_heads: 4, n_kv_heads: 1, mode: gqa}",
    "dba": "{type: AttentionLayer, d_model: 32, n_heads: 2, mode: decoupled, sem_dim: 8, geo_dim: 16, v_dim: 32}",
    "mqa": "{type: AttentionLayer, d_model: 32, n_heads: 2, n_kv_heads: 1, mode: gqa}",
}


def target(name: str, seeds: list[int], steps: int) -> str:
    """One arm: the attention variant ``name`` trained with each seed."""
    return f"""
  - type: experiment
    name: {name}
    task: task.language_modeling
    data: {{ref: dataset.tokens, config: {{path: text.npy, block_size: 32}}}}
    system:
      ref: system.language_model
      config:
        model:
          type: TransformerModel
          embedder: {{type: token, vocab_size: 256, d_model: 32}}
          topology:
            type: StackedTopology
            layers:
              - type: ResidualTopology
                layers: [{{type: RMSNormLayer, d_model: 32}}, {ATTENTION[name]}]
              - type: ResidualTopology
                layers: [{{type: RMSNormLayer, d_model: 32}}, {{type: SwiGLULayer, d_model: 32, d_ff: 64}}]
              - {{type: RMSNormLayer, d_model: 32}}
              - {{type: LinearLayer, d_in: 32, d_out: 256}}
    objective: objective.next_token_ce
    trainer: trainer.standard
    runs: [{{id: train, seed: {seeds}, steps: {steps}, train: {{batch_size: 4, block_size: 32, lr: 0.003, device: cpu}}}}]
    benchmarks:
      - {{id: perplexity, config: {{type: perplexity, block_size: 32, batch_size: 16}}}}
      - {{id: memory, config: {{type: memory, sequence_lengths: [64, 256, 1024], quantization_modes: [fp16], measure_peak: false}}}}
"""


def comparison_manifest(arms: list[str], seeds: list[int], steps: int = 12, name: str = "cmp") -> str:
    """A manifest whose ``comparison:`` block makes ``arms`` (baseline first) of ``seeds`` each."""
    return (f"version: 2\nname: {name}\napples_to_apples: true\n"
            "defaults: {data: {val_frac: 0.2}, logging: {eval_iters: 2, eval_every: 4}}\ntargets:"
            + "".join(target(a, seeds, steps) for a in arms)
            + f"comparison: {{question: 'Which attention?', arms: {json.dumps(arms)}, primary: perplexity.ppl}}\n")


def make_comparison(root: Path, arms: list[str], seeds: list[int], name: str = "cmp") -> Path:
    """Write text.npy and the manifest into ``root`` and run it with `caramba run` (one command, every arm)."""
    root.mkdir(parents=True, exist_ok=True)
    text = (Path(json.__file__).read_bytes() + Path(inspect.__file__).read_bytes())[:60_000]
    np.save(root / "text.npy", np.frombuffer(text, dtype=np.uint8).astype(np.uint16))
    (root / f"{name}.yml").write_text(comparison_manifest(arms, seeds, name=name))
    result = invoke(root, "run", f"{name}.yml")
    assert f"comparison: running arms {', '.join(arms)}" in result
    return root


def invoke(root: Path, *args: str) -> str:
    """Run the caramba CLI in ``root``; its output (exit code 0 asserted)."""
    import os

    before = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(before)
    assert result.exit_code == 0, result.output
    return result.output
