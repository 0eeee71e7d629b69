"""GPT-2 124M training throughput on one GPU: caramba's trainer vs a nanoGPT-style loop.

Both train GPT-2 small (block 1024, bf16 autocast, fused AdamW, grad clip 1.0,
``torch.compile``) on random windows of a synthetic token file, in this process:

* **caramba** — ``benchmarks/gpt2_124m.yml`` through ``caramba.engine.run.execute``: the
  model is built by caramba's builder from the manifest, trained by ``trainer.standard``
  (compile chosen by capability detection, losses read back once per flush);
* **nanoGPT** — a self-contained copy of nanoGPT's model and training step (Karpathy,
  github.com/karpathy/nanoGPT ``model.py``/``train.py``): compiled model, fused AdamW with
  the same decay groups, ``loss.item()`` only every 10 steps.

Tokens/s are steady-state (after ``--warmup`` steps, which include compilation); MFU is
achieved model FLOPs (PaLM estimate 6N + 12·L·d·T per token, ``engine/train/metrics/flops.py``)
over the dense bf16 peak of the device (989 TFLOP/s on an H100 SXM).

With ``--compare-kernels`` caramba's trainer runs twice: as shipped (the compiled training
step takes PyTorch's path for every kernel op and Inductor fuses it; ``caramba.kernels``
dispatch docstring) and with ``KERNELS_INSIDE_COMPILE`` set, so the Triton kernels (norms,
fused linear + cross-entropy) run inside the compiled step: the end-to-end effect of the
kernels on a training step, measured in the same process. (The second run trains one step
more, so the run store does not recognise it as identical work.)

    python benchmarks/gpt2_h100.py [--steps 60] [--warmup 20] [--batch 16] [--compare-kernels] [--out results.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from timing import steady_rate  # noqa: E402

VOCAB, D, LAYERS, HEADS, BLOCK = 50304, 768, 12, 12, 1024


# ── nanoGPT reference (model.py, condensed; dropout 0, bias True) ──────────────────────
class CausalSelfAttention(nn.Module):
    """nanoGPT's causal self-attention: one fused QKV projection, SDPA with is_causal, output projection."""
    def __init__(self) -> None:
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) → (B, T, D)."""
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    """nanoGPT's pre-norm block: x + attn(ln_1(x)), then + mlp(ln_2(x)) with a 4·D GELU MLP."""
    def __init__(self) -> None:
        super().__init__()
        self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(D), CausalSelfAttention(), nn.LayerNorm(D)
        self.mlp = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(), nn.Linear(4 * D, D))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) → (B, T, D)."""
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """GPT-2 small as nanoGPT builds it: tied token embedding and head, learned positions, N(0, 0.02) init."""
    def __init__(self) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(VOCAB, D), nn.Embedding(BLOCK, D)
        self.h, self.ln_f = nn.ModuleList(Block() for _ in range(LAYERS)), nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, VOCAB, bias=False)
        self.wte.weight = self.lm_head.weight
        self.apply(self._init)

    def _init(self, m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The mean next-token cross-entropy of token ids ``idx`` (B, T) against ``targets`` (B, T)."""
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def nanogpt_rate(tokens: np.ndarray, batch: int, steps: int, warmup: int) -> float:
    """Steady-state tokens/s of nanoGPT's training loop (compiled, bf16, fused AdamW)."""
    device = torch.device("cuda")
    model = GPT().to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), fused=True)
    model = torch.compile(model)
    n = len(tokens) - BLOCK - 1

    def get_batch() -> tuple[torch.Tensor, torch.Tensor]:
        ix = torch.randint(n, (batch,))
        x = torch.stack([torch.from_numpy(tokens[i: i + BLOCK].astype(np.int64)) for i in ix.tolist()])
        y = torch.stack([torch.from_numpy(tokens[i + 1: i + 1 + BLOCK].astype(np.int64)) for i in ix.tolist()])
        return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)

    x, y = get_batch()
    start = 0.0
    for step in range(steps):
        if step == warmup:
            torch.cuda.synchronize()
            start = time.perf_counter()
        lr = 6e-4 * min(1.0, (step + 1) / 10)
        for group in opt.param_groups:
            group["lr"] = lr
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(x, y)
        x, y = get_batch()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % 10 == 0:
            loss.item()
    torch.cuda.synchronize()
    return (steps - warmup) * batch * BLOCK / (time.perf_counter() - start)


def caramba_rate(data: Path, workspace: Path, batch: int, steps: int, warmup: int) -> tuple[float, float]:
    """Steady-state tokens/s of caramba's trainer on the GPT-2 manifest, and its FLOPs per token."""
    from rich.console import Console

    from caramba.engine.compiler import compile_manifest
    from caramba.engine.run import execute
    from caramba.engine.run.build import build_model
    from caramba.engine.train.metrics import flops_per_token

    sets = [f"vars.steps={steps}", f"vars.batch_size={batch}", f"targets[0].data.config.path={data}"]
    compiled = compile_manifest(HERE / "gpt2_124m.yml", sets)
    target = compiled.manifest.targets[0]
    flops = flops_per_token(build_model(target, target.runs[0]), BLOCK)
    [record] = execute(compiled, None, workspace, Console(stderr=True))
    if record.status != "succeeded":
        raise RuntimeError(f"caramba run failed: {record.reasons}")
    steps_per_s = steady_rate(Path(record.dir) / "metrics.jsonl", warmup)[0]
    return steps_per_s * batch * BLOCK, flops


def kernels_inside_compile() -> None:
    """Let the Triton kernels run inside the compiled training step too (see the module docstring)."""
    from caramba.kernels import dispatch

    dispatch.KERNELS_INSIDE_COMPILE = True


def main() -> None:
    """Run both loops and print a table of tokens/s and MFU."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="optimiser steps per loop (warm-up included)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps (compilation, allocator warm-up)")
    parser.add_argument("--batch", type=int, default=16, help="sequences of 1024 tokens per step")
    parser.add_argument("--compare-kernels", action="store_true",
                        help="also run caramba with its Triton kernels inside the compiled step")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("this benchmark needs a CUDA GPU (for the CPU overhead benchmark see benchmarks/train_overhead.py)")
    from caramba.engine.train.metrics import device_peak

    device = torch.device("cuda")
    peak = device_peak(device, torch.bfloat16)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "gpt2_tokens.npy"
        np.save(data, np.random.default_rng(0).integers(0, 50257, 20_000_000, dtype=np.uint16))
        # a throughput benchmark: no end-of-run memory writes (as benchmarks/gpt2_ddp.py)
        (Path(tmp) / "caramba.yml").write_text(f"memory: {{record_runs: false}}\ndata_roots: [{tmp}]\n")
        ours, flops = caramba_rate(data, Path(tmp), args.batch, args.steps, args.warmup)
        rows = [("caramba trainer.standard", ours)]
        if args.compare_kernels:
            gc.collect()
            torch.cuda.empty_cache()
            torch._dynamo.reset()
            kernels_inside_compile()
            rows.append(("caramba, kernels inside compile", caramba_rate(data, Path(tmp), args.batch,
                                                                          args.steps + 1, args.warmup)[0]))
        gc.collect()
        torch.cuda.empty_cache()
        torch._dynamo.reset()
        reference = nanogpt_rate(np.load(data, mmap_mode="r"), args.batch, args.steps, args.warmup)
    rows.append(("nanoGPT loop (torch.compile)", reference))
    name = torch.cuda.get_device_name(device)
    print(f"\nGPT-2 124M, batch {args.batch}×{BLOCK}, bf16 autocast, {name}, torch {torch.__version__}; "
          f"{flops / 1e9:.3f} GFLOP/token, peak {peak / 1e12 if peak else math.nan:.0f} TFLOP/s")
    print(f"| {'loop':30} | {'tokens/s':>10} | {'MFU':>6} |")
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 8}|")
    for label, rate in rows:
        mfu = f"{100 * rate * flops / peak:5.1f}%" if peak else "  n/a"
        print(f"| {label:30} | {rate:10,.0f} | {mfu:>6} |")
    print(f"caramba / nanoGPT: {ours / reference:.3f}")
    if args.compare_kernels:
        print(f"caramba as shipped / with kernels inside compile: {ours / rows[1][1]:.3f}")
    if args.out is not None:
        args.out.write_text(json.dumps({"device": name, "torch": torch.__version__, "batch": args.batch, "block": BLOCK,
                                        "flops_per_token": flops, "peak": peak, "caramba_tokens_per_s": ours,
                                        "nanogpt_tokens_per_s": reference, "rows": dict(rows),
                                        "command": "python benchmarks/gpt2_h100.py " + " ".join(sys.argv[1:])}, indent=2))


if __name__ == "__main__":
    main()
