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

With ``--compare-kernels`` caramba's trainer also runs in *variants*, each a ``+``-joined
set of levers applied to the same manifest in this process (``--variants``; the default
list is ``shipped,lce+chunk=4096,norms,norms+lce+chunk=4096``; ``cudnn`` is left out since
SDPA's default already picks cuDNN for GPT-2's heads on an H200, docs/measurements.md):

* ``shipped`` — caramba as on main (``kernels.dispatch.KERNELS_INSIDE_COMPILE`` as it ships);
* ``lce`` — the fused linear + cross-entropy custom op inside the compiled step (the
  logits are never materialised); ``chunk=N`` fixes its rows per chunk;
* ``norms`` — the LayerNorm/RMSNorm custom ops inside the compiled step;
* ``cudnn`` — SDPA prefers its cuDNN backend (``sdpa_kernel(..., set_priority=True)``),
  for caramba's attention only; nanoGPT keeps SDPA's default choice.

Every variant compiles afresh (``torch._dynamo.reset()``); rows are printed as they finish
and, with ``--out``, the JSON is rewritten after each, so a run cut short keeps what it
measured. nanoGPT runs first: the reference every ratio is taken against.

    python benchmarks/gpt2_h100.py [--steps 60] [--warmup 20] [--batch 16] [--compare-kernels]
                                   [--variants shipped,lce+cudnn] [--out results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import sys
import tempfile
import time
from collections.abc import Iterator
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


def nanogpt_optimizer(model: nn.Module) -> torch.optim.AdamW:
    """nanoGPT's ``configure_optimizers``: fused AdamW (lr 6e-4, betas 0.9/0.95), weight decay 0.1 on matrices only."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=6e-4, betas=(0.9, 0.95), fused=True)


def nanogpt_update(model: nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor, step: int) -> None:
    """nanoGPT's update after the backward: clip to norm 1, step, clear the gradients; every 10th
    step reads the loss (its logging's ``loss.item()``), which syncs the host as nanoGPT's loop does."""
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    if step % 10 == 0:
        loss.item()


def nanogpt_rate(tokens: np.ndarray, batch: int, steps: int, warmup: int) -> float:
    """Steady-state tokens/s of nanoGPT's training loop (compiled, bf16, fused AdamW)."""
    device = torch.device("cuda")
    model = GPT().to(device)
    opt = nanogpt_optimizer(model)
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
        nanogpt_update(model, opt, loss, step)
    torch.cuda.synchronize()
    return (steps - warmup) * batch * BLOCK / (time.perf_counter() - start)


def caramba_rate(data: Path, workspace: Path, batch: int, steps: int,
                 warmup: int) -> tuple[float, float, dict[int, float]]:
    """Steady-state tokens/s of caramba's trainer on the GPT-2 manifest, its FLOPs per token, its losses by step."""
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
    metrics = Path(record.dir) / "metrics.jsonl"
    steps_per_s = steady_rate(metrics, warmup)[0]
    return steps_per_s * batch * BLOCK, flops, train_losses(metrics)


def train_losses(metrics: Path) -> dict[int, float]:
    """Step → training loss of a run's metrics (variants share seed and data, so equal steps compare)."""
    rows = (json.loads(line) for line in metrics.read_text().splitlines())
    return {r["step"]: r["loss"] for r in rows if r["kind"] == "train"}


COMPARE_STEP = 10  # the manifest's last warm-up step: every variant's learning rate agrees up to here
VARIANTS = "shipped,lce+chunk=4096,norms,norms+lce+chunk=4096"
LEVERS = {"shipped": "caramba as shipped", "lce": "fused linear+CE in graph", "norms": "norm kernels in graph",
          "cudnn": "cuDNN SDPA", "chunk": "LCE chunk"}


@contextlib.contextmanager
def levers(variant: str) -> Iterator[None]:
    """Apply a variant's levers (module docstring) for the duration of one caramba run, then restore."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from caramba.kernels import dispatch
    from caramba.kernels.linear_cross_entropy import kernel as lce

    names = variant.split("+")
    unknown = [n for n in names if n.split("=")[0] not in LEVERS]
    if unknown:
        raise SystemExit(f"unknown lever(s) {unknown} in variant {variant!r}; valid: {', '.join(LEVERS)} (chunk=N)")
    inside, chunk = set(dispatch.KERNELS_INSIDE_COMPILE), lce.CHUNK_ROWS
    saved = dispatch.KERNELS_INSIDE_COMPILE
    if "lce" in names:
        inside.add("linear_cross_entropy")
    if "norms" in names:
        inside |= {"layer_norm", "rms_norm"}
    for name in names:
        if name.startswith("chunk="):
            lce.CHUNK_ROWS = int(name.split("=")[1])
    dispatch.KERNELS_INSIDE_COMPILE = frozenset(inside)
    order = [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
    try:
        with sdpa_kernel(order, set_priority=True) if "cudnn" in names else contextlib.nullcontext():
            yield
    finally:
        dispatch.KERNELS_INSIDE_COMPILE, lce.CHUNK_ROWS = saved, chunk


def fresh() -> None:
    """Free the previous loop's memory and compiled graphs, so the next loop compiles and allocates afresh."""
    gc.collect()
    torch.cuda.empty_cache()
    torch._dynamo.reset()


def main() -> None:
    """Run nanoGPT, then each caramba variant, and print a table of tokens/s, MFU and the ratio to nanoGPT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="optimiser steps per loop (warm-up included)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps (compilation, allocator warm-up)")
    parser.add_argument("--batch", type=int, default=16, help="sequences of 1024 tokens per step")
    parser.add_argument("--compare-kernels", action="store_true",
                        help=f"run caramba in several variants (default {VARIANTS})")
    parser.add_argument("--variants", default=None, help="comma-separated variants, each +-joined levers: "
                        + ", ".join(f"{k} ({v})" for k, v in LEVERS.items()))
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON (after each loop)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("this benchmark needs a CUDA GPU (for the CPU overhead benchmark see benchmarks/train_overhead.py)")
    from caramba.engine.train.metrics import device_peak

    variants = (args.variants or (VARIANTS if args.compare_kernels else "shipped")).split(",")
    device = torch.device("cuda")
    peak = device_peak(device, torch.bfloat16)
    name = torch.cuda.get_device_name(device)
    rows: list[tuple[str, float, float]] = []
    result: dict[str, object] = {"device": name, "torch": torch.__version__, "batch": args.batch, "block": BLOCK,
                                 "peak": peak, "command": "python benchmarks/gpt2_h100.py " + " ".join(sys.argv[1:])}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "gpt2_tokens.npy"
        np.save(data, np.random.default_rng(0).integers(0, 50257, 20_000_000, dtype=np.uint16))
        # a throughput benchmark: no end-of-run memory writes (as benchmarks/gpt2_ddp.py)
        (Path(tmp) / "caramba.yml").write_text(f"memory: {{record_runs: false}}\ndata_roots: [{tmp}]\n")
        began = time.perf_counter()
        reference = nanogpt_rate(np.load(data, mmap_mode="r"), args.batch, args.steps, args.warmup)
        rows.append(("nanoGPT loop (torch.compile)", reference, time.perf_counter() - began))
        print(f"nanoGPT: {reference:,.0f} tokens/s ({rows[-1][2]:.0f} s with compilation)", flush=True)
        flops = math.nan
        for index, variant in enumerate(variants):
            fresh()
            began = time.perf_counter()
            try:
                with levers(variant):  # each run trains one more step, so the run store never reuses an earlier one
                    rate, flops, losses = caramba_rate(data, Path(tmp), args.batch, args.steps + index, args.warmup)
            except Exception as exc:  # one variant failing must not hide the others' numbers
                print(f"caramba {variant}: FAILED: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
                continue
            rows.append((f"caramba {variant}", rate, time.perf_counter() - began))
            loss = losses.get(COMPARE_STEP, math.nan)
            result.setdefault("caramba_loss_at_step", {})[variant] = loss  # type: ignore[union-attr]
            print(f"caramba {variant}: {rate:,.0f} tokens/s = {rate / reference:.3f}× nanoGPT "
                  f"({rows[-1][2]:.0f} s with compilation); loss at step {COMPARE_STEP} {loss:.4f}", flush=True)
            result.update(flops_per_token=flops, nanogpt_tokens_per_s=reference,
                          rows={label: {"tokens_per_s": r, "vs_nanogpt": r / reference, "wall_s": w}
                                for label, r, w in rows})
            if args.out is not None:
                args.out.write_text(json.dumps(result, indent=2))
    print(f"\nGPT-2 124M, batch {args.batch}×{BLOCK}, bf16 autocast, {name}, torch {torch.__version__}; "
          f"{flops / 1e9:.3f} GFLOP/token, peak {peak / 1e12 if peak else math.nan:.0f} TFLOP/s")
    print(f"| {'loop':36} | {'tokens/s':>10} | {'MFU':>6} | {'× nanoGPT':>9} | {'wall s':>6} |")
    print(f"|{'-' * 38}|{'-' * 12}|{'-' * 8}|{'-' * 11}|{'-' * 8}|")
    for label, rate, wall in rows:
        mfu = f"{100 * rate * flops / peak:5.1f}%" if peak else "  n/a"
        print(f"| {label:36} | {rate:10,.0f} | {mfu:>6} | {rate / reference:9.3f} | {wall:6.0f} |")


if __name__ == "__main__":
    main()
