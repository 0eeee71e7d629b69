"""An independent GPT-2 reference (the published recipe, nanoGPT's shape) and the parity harness.

Written from Radford et al. (2019) and nanoGPT (Karpathy): token + learned position
embeddings; pre-LayerNorm blocks of fused-QKV causal self-attention and a 4× GELU(tanh)
MLP, all projections with biases; a final LayerNorm and a head tied to the token
embedding. Initialisation: N(0, 0.02) for linear and embedding weights, N(0,
0.02/√(2·n_layer)) for the two residual projections (``c_proj``), zero biases. AdamW
(β = 0.9, 0.95) with weight decay on the projection matrices only (not on biases,
LayerNorm gains or the embeddings), gradient clipping at 1.0, linear warm-up then cosine
decay to 10% of the peak lr. Nothing here imports caramba's layers, builder or trainer.

:func:`parity` trains caramba (from a manifest, through ``caramba.engine.run.execute``)
and this reference with the same width, depth, block, batch, steps, schedule and AdamW
settings on one token file, and evaluates both models on the same validation windows
with :func:`val_loss`. The CPU test (``test_gpt_parity.py``) and the GPU benchmark
(``benchmarks/gpt_parity.py``) both use it.
"""

from __future__ import annotations

import math
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn


@dataclass
class Setup:
    """One parity configuration (shared by both implementations)."""

    d_model: int
    n_layers: int
    n_heads: int
    block: int
    batch: int
    steps: int
    lr: float
    warmup: int
    weight_decay: float = 0.1
    vocab: int = 256
    val_frac: float = 0.1
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0  # caramba's run seed (its init and data order); the reference draws its init from seed + 1


def stdlib_bytes(limit: int) -> np.ndarray:
    """The first ``limit`` bytes of Python's own standard-library sources (sorted by name) as tokens."""
    root = Path(sysconfig.get_paths()["stdlib"])
    chunks, total = [], 0
    for path in sorted(root.glob("*.py")):
        data = path.read_bytes()
        chunks.append(data)
        total += len(data)
        if total >= limit:
            break
    return np.frombuffer(b"".join(chunks)[:limit], dtype=np.uint8).astype(np.uint16)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in self.c_attn(x).split(d, dim=2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1), float("-inf")).softmax(-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(d), Attention(d, heads), nn.LayerNorm(d)
        self.c_fc, self.c_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class ReferenceGPT(nn.Module):
    """GPT-2 (see the module docstring)."""

    def __init__(self, s: Setup) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(s.vocab, s.d_model), nn.Embedding(s.block, s.d_model)
        self.h = nn.ModuleList(Block(s.d_model, s.n_heads) for _ in range(s.n_layers))
        self.ln_f = nn.LayerNorm(s.d_model)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * s.n_layers))
            elif name.endswith("bias") and "ln" not in name:
                nn.init.zeros_(p)
            elif p.ndim == 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1], device=ids.device))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.T  # tied head


def lr_at(s: Setup, step: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 0.1·lr at the last step."""
    if step < s.warmup:
        return s.lr * (step + 1) / s.warmup
    progress = (step - s.warmup) / max(1, s.steps - s.warmup)
    return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_reference(s: Setup, tokens: np.ndarray, seed: int | None = None) -> ReferenceGPT:
    """Train the reference on windows of the first (1 − val_frac) of ``tokens``.

    Step ``i`` reads the windows that ``dataset.tokens`` documents for batch ``i`` of run
    seed ``s.seed`` (start positions ``default_rng((s.seed, 0, i)).integers(0, n − block,
    batch)``), so both implementations see the same data in the same order and differ only
    in their code and their independent initial draw (``seed``, default ``s.seed + 1``)."""
    torch.manual_seed(s.seed + 1 if seed is None else seed)
    device = torch.device(s.device)
    model = ReferenceGPT(s).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim == 2 and not n.startswith(("wte", "wpe"))]
    rest = [p for n, p in model.named_parameters() if not (p.ndim == 2 and not n.startswith(("wte", "wpe")))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": s.weight_decay}, {"params": rest, "weight_decay": 0.0}],
                            lr=s.lr, betas=(0.9, 0.95))
    train = torch.from_numpy(tokens[: len(tokens) - int(len(tokens) * s.val_frac)].astype(np.int64))
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if s.dtype == "bfloat16" else torch.autocast("cpu", enabled=False)
    for step in range(s.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(s, step)
        starts = np.random.default_rng((s.seed, 0, step)).integers(0, len(train) - s.block, size=s.batch)
        window = torch.stack([train[i:i + s.block + 1] for i in starts.tolist()]).to(device)
        with autocast:
            logits = model(window[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, s.vocab), window[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return model


@torch.no_grad()
def val_loss(forward: Callable[[torch.Tensor], torch.Tensor], s: Setup, tokens: np.ndarray, windows: int = 64) -> float:
    """Mean next-token cross-entropy over ``windows`` evenly spaced windows of the validation tail."""
    val = torch.from_numpy(tokens[len(tokens) - int(len(tokens) * s.val_frac):].astype(np.int64))
    starts = np.linspace(0, len(val) - s.block - 1, windows).astype(int)
    total = 0.0
    for chunk in np.array_split(starts, max(1, windows // 16)):
        batch = torch.stack([val[i:i + s.block + 1] for i in chunk]).to(s.device)
        logits = forward(batch[:, :-1]).float()
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction="sum").item()
    return total / (windows * s.block)


def manifest(s: Setup) -> str:
    """The same GPT as a caramba manifest (GPT-2 init is the language-model default)."""
    d, norm = s.d_model, {"type": "LayerNormLayer", "d_model": s.d_model}
    model = {"type": "TransformerModel", "tie_embeddings": True,
             "embedder": {"type": "token", "vocab_size": s.vocab, "d_model": d, "positions": "learned", "max_seq_len": s.block},
             "topology": {"type": "StackedTopology", "layers": [
                 {"type": "NestedTopology", "repeat": s.n_layers, "layers": [
                     {"type": "ResidualTopology", "layers": [norm, {"type": "AttentionLayer", "d_model": d, "n_heads": s.n_heads,
                                                                    "rope": False, "bias": True}]},
                     {"type": "ResidualTopology", "layers": [norm, {"type": "MLPLayer", "d_model": d, "d_ff": 4 * d,
                                                                    "activation": "gelu_tanh", "bias": True}]}]},
                 norm, {"type": "LinearLayer", "d_in": d, "d_out": s.vocab}]}}
    train = {"batch_size": s.batch, "block_size": s.block, "lr": s.lr, "device": s.device, "weight_decay": s.weight_decay,
             "betas": [0.9, 0.95], "grad_clip": 1.0, "schedule": {"kind": "cosine", "warmup_steps": s.warmup, "min_lr_ratio": 0.1},
             **({"use_amp": True, "amp_dtype": "bfloat16"} if s.dtype == "bfloat16" else {})}
    return yaml.safe_dump({"version": 2, "name": "parity",
                           "defaults": {"data": {"val_frac": s.val_frac}, "logging": {"instrument": "plain", "eval_iters": 1}},
                           "targets": [{"type": "experiment", "name": "gpt", "task": "task.language_modeling",
                                        "data": {"ref": "dataset.tokens", "config": {"path": "data.npy", "block_size": s.block}},
                                        "system": {"ref": "system.language_model", "config": {"model": model}},
                                        "objective": "objective.next_token_ce", "trainer": "trainer.standard",
                                        "runs": [{"id": "r", "seed": s.seed, "steps": s.steps, "train": train}]}]})


def parity(s: Setup, tokens: np.ndarray, workspace: Path) -> dict[str, Any]:
    """Train both on ``tokens`` (written to ``workspace/data.npy``); return both val losses and wall times."""
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.infer.load import load_run
    from caramba.engine.run import execute

    np.save(workspace / "data.npy", tokens)
    (workspace / "parity.yml").write_text(manifest(s))
    start = time.perf_counter()
    [record] = execute(compile_manifest(workspace / "parity.yml"), "gpt", workspace)
    caramba_s = time.perf_counter() - start
    if record.status != "succeeded":
        raise RuntimeError(f"caramba run {record.id} {record.status}: {record.reasons}")
    ours = load_run(workspace, record.id, s.device).model
    start = time.perf_counter()
    reference = train_reference(s, tokens).eval()
    reference_s = time.perf_counter() - start
    return {"caramba_val_loss": val_loss(ours, s, tokens), "reference_val_loss": val_loss(reference, s, tokens),
            "caramba_s": caramba_s, "reference_s": reference_s, "run_id": record.id}
