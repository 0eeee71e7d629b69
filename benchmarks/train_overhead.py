"""Training overhead of caramba against a plain PyTorch loop, same model, same process, CPU.

Both loops train the *same* network (built by caramba's builder from one manifest) with
AdamW, gradient clipping at 1.0 and random windows of one token file:

* **caramba** — ``caramba.engine.run.execute`` on the manifest: the full standard
  trainer (recorder, JSONL metrics, display, schedule, status updates; no checkpoint
  before the end);
* **plain** — the textbook loop: ``get_batch`` (nanoGPT style) → forward →
  cross-entropy → backward → clip → step → zero_grad.

The two alternate ``--repeats`` times after a warm-up; steady-state steps/s are the
medians. Goal: overhead ≤ 5 %.

    python benchmarks/train_overhead.py [--steps 300] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import steady_rate  # noqa: E402
from caramba.engine.compiler import compile_manifest  # noqa: E402
from caramba.engine.run import execute  # noqa: E402
from caramba.engine.run.build import build_model  # noqa: E402

D, LAYERS, HEADS, VOCAB, BLOCK, BATCH, WARMUP = 64, 2, 4, 256, 64, 8, 20


def manifest(steps: int, data: Path) -> str:
    """A 2-layer, d_model-64 pre-norm transformer on a byte-level token file (small: overhead shows)."""
    block = [{"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": D},
                                                     {"type": "AttentionLayer", "d_model": D, "n_heads": HEADS}]},
             {"type": "ResidualTopology", "layers": [{"type": "RMSNormLayer", "d_model": D},
                                                     {"type": "SwiGLULayer", "d_model": D, "d_ff": 4 * D}]}]
    model = {"type": "TransformerModel", "embedder": {"type": "token", "vocab_size": VOCAB, "d_model": D},
             "topology": {"type": "StackedTopology", "layers": [{"type": "NestedTopology", "repeat": LAYERS, "layers": block},
                                                                {"type": "RMSNormLayer", "d_model": D},
                                                                {"type": "LinearLayer", "d_in": D, "d_out": VOCAB}]}}
    return yaml.safe_dump({
        "version": 2, "name": "overhead",
        "defaults": {"data": {"val_frac": 0.01}, "logging": {"instrument": "plain", "eval_iters": 1}},
        "targets": [{"type": "experiment", "name": "bench", "task": "task.language_modeling",
                     "data": {"ref": "dataset.tokens", "config": {"path": str(data), "block_size": BLOCK}},
                     "system": {"ref": "system.language_model", "config": {"model": model}},
                     "objective": "objective.next_token_ce", "trainer": "trainer.standard",
                     "runs": [{"id": "r", "seed": 0, "steps": steps,
                               "train": {"batch_size": BATCH, "block_size": BLOCK, "lr": 3e-4, "device": "cpu"}}]}]})


def caramba_rate(text: str, workspace: Path) -> float:
    """Steady-state steps/s of the caramba trainer (fresh workspace: no resume)."""
    from rich.console import Console

    [record] = execute(compile_manifest(text), None, workspace, Console(quiet=True))
    return steady_rate(Path(record.dir) / "metrics.jsonl", WARMUP)[0]


def plain_rate(text: str, tokens: np.ndarray, steps: int) -> float:
    """Steady-state steps/s of a plain PyTorch loop over the same model."""
    compiled = compile_manifest(text)
    target = compiled.manifest.targets[0]
    model = build_model(target, target.runs[0])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.0, foreach=True)
    n = len(tokens) - BLOCK - 1

    def get_batch() -> tuple[torch.Tensor, torch.Tensor]:
        ix = torch.randint(n, (BATCH,))
        x = torch.stack([torch.from_numpy(tokens[i: i + BLOCK].astype(np.int64)) for i in ix.tolist()])
        y = torch.stack([torch.from_numpy(tokens[i + 1: i + 1 + BLOCK].astype(np.int64)) for i in ix.tolist()])
        return x, y

    start = 0.0
    for step in range(steps):
        if step == WARMUP:
            start = time.perf_counter()
        x, y = get_batch()
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, VOCAB), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return (steps - WARMUP) / (time.perf_counter() - start)


def main() -> None:
    """Alternate both loops and print steps/s and the overhead."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (both loops)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "tokens.npy"
        np.save(data, np.random.default_rng(0).integers(0, VOCAB, 2_000_000, dtype=np.uint16))
        tokens = np.load(data, mmap_mode="r")
        text = manifest(args.steps, data)
        plain, ours = [], []
        for repeat in range(args.repeats):
            plain.append(plain_rate(text, tokens, args.steps))
            ours.append(caramba_rate(text, Path(tmp) / f"ws{repeat}"))
            print(f"repeat {repeat}: plain {plain[-1]:.2f} steps/s, caramba {ours[-1]:.2f} steps/s", flush=True)
    p, c = statistics.median(plain), statistics.median(ours)
    print(f"\nmodel: d_model {D}, {LAYERS} layers, batch {BATCH}×{BLOCK}, vocab {VOCAB}; CPU, {args.threads} thread(s), "
          f"torch {torch.__version__}")
    print(f"{'loop':10} {'steps/s':>9} {'tokens/s':>10}")
    print(f"{'plain':10} {p:9.2f} {p * BATCH * BLOCK:10,.0f}")
    print(f"{'caramba':10} {c:9.2f} {c * BATCH * BLOCK:10,.0f}")
    print(f"overhead: {100 * (p / c - 1):+.1f} % (goal ≤ 5 %)")


if __name__ == "__main__":
    main()
