"""Tiny manifests and models for the inference and benchmark tests (CPU, seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from caramba.engine.compiler.compile import compile_manifest
from caramba.engine.model.build import build_system

ATTENTION = {
    "standard": "{type: AttentionLayer, d_model: 64, n_heads: 2, mode: standard}",
    "gqa": "{type: AttentionLayer, d_model: 64, n_heads: 4, n_kv_heads: 2, mode: gqa}",
    "decoupled": "{type: AttentionLayer, d_model: 64, n_heads: 2, mode: decoupled, sem_dim: 32, geo_dim: 64, v_dim: 64}",
}


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """Tiny models run fastest on one intra-op thread (and do not fight other tests for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def manifest_text(attention: str = "standard", data_path: str = "tokens.npy", benchmarks: str = "[]",
                  teacher: bool = False) -> str:
    """A 2-layer, d_model 64, vocab 97 language-model manifest with the given attention."""
    extra = ", teacher_ckpt: teacher" if teacher else ""
    return f"""
version: 2
name: tiny
defaults: {{data: {{val_frac: 0.25}}}}
targets:
  - type: experiment
    name: tiny
    task: task.language_modeling
    data: {{ref: dataset.tokens, config: {{path: {data_path}, block_size: 32}}}}
    system:
      ref: system.language_model
      config:
        model:
          type: TransformerModel
          embedder: {{type: token, vocab_size: 97, d_model: 64}}
          topology:
            type: StackedTopology
            layers:
              - type: NestedTopology
                repeat: 2
                layers:
                  - type: ResidualTopology
                    layers: [{{type: RMSNormLayer, d_model: 64}}, {ATTENTION[attention]}]
                  - type: ResidualTopology
                    layers: [{{type: RMSNormLayer, d_model: 64}}, {{type: SwiGLULayer, d_model: 64, d_ff: 128}}]
              - {{type: RMSNormLayer, d_model: 64}}
              - {{type: LinearLayer, d_in: 64, d_out: 97}}
    objective: objective.next_token_ce
    trainer: trainer.standard
    runs: [{{id: train, steps: 1, train: {{phase: standard, batch_size: 2, block_size: 32, lr: 0.001, device: cpu{extra}}}}}]
    benchmarks: {benchmarks}
"""


def tiny_model(attention: str = "standard", seed: int = 0) -> nn.Module:
    """A randomly initialised tiny model (eval mode) with the given attention mode."""
    compiled = compile_manifest(manifest_text(attention))
    target = compiled.manifest.experiments()[0]
    torch.manual_seed(seed)
    return build_system(target.system.ref, target.system.config).eval()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """A 4 000-token file of ids < 97 with some structure (a noisy repeating pattern)."""
    rng = np.random.default_rng(0)
    tokens = (np.arange(4000) * 7 % 97 + rng.integers(0, 3, 4000)) % 97
    path = tmp_path / "tokens.npy"
    np.save(path, tokens.astype(np.uint16))
    return path


@pytest.fixture(scope="session")
def two_arms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace where `caramba run cmp.yml` trained 2 arms (mha, gqa) × 3 seeds for real."""
    from tests.bench.comparisons import make_comparison

    torch.set_num_threads(1)
    return make_comparison(tmp_path_factory.mktemp("two_arms"), ["mha", "gqa"], [1, 2, 3])


@pytest.fixture
def anyio_backend() -> str:
    """MCP clients in these tests run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="session")
def four_arms(two_arms: Path) -> Path:
    """The same workspace after `caramba run cmp4.yml`: 4 arms (mha, gqa, dba, mqa) × 3 seeds = 12 runs.

    mha and gqa are the same targets as in ``two_arms``, so their 6 runs are recognised as
    identical work and only dba and mqa train.
    """
    from tests.bench.comparisons import make_comparison

    return make_comparison(two_arms, ["mha", "gqa", "dba", "mqa"], [1, 2, 3], name="cmp4")
