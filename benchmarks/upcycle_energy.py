"""What DBA surgery keeps of a *trained* teacher, before any student training.

Trains a small Hugging Face Llama (GQA) on Python's own stdlib sources (bytes, vocab 256)
with plain PyTorch AdamW, then runs ``caramba.engine.upcycle.surgery`` at several semantic
ranks (geometric pairs fixed) and prints one table: mean attention-logit energy kept
(trained vs the same architecture at random init), the semantic part alone, the KV-cache
ratio, and the student's held-out NLL at initialisation next to the teacher's (measured in
the same run, same batches). The last row keeps every RoPE pair geometric: its NLL must
equal the teacher's (a check of the whole mapping on trained weights).

    python benchmarks/upcycle_energy.py [--steps 400] [--d 128] [--layers 4] [--batch 16] [--block 128]
"""

from __future__ import annotations

import argparse
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from caramba.engine.upcycle import surgery


def stdlib_bytes(limit: int = 4_000_000) -> np.ndarray:
    """Concatenated stdlib .py sources as uint8 tokens (sorted file order, deterministic)."""
    root, chunks, size = Path(sysconfig.get_paths()["stdlib"]), [], 0
    for path in sorted(root.glob("*.py")):
        data = path.read_bytes()
        chunks.append(np.frombuffer(data, dtype=np.uint8))
        size += len(data)
        if size >= limit:
            break
    return np.concatenate(chunks)


def batches(tokens: np.ndarray, n: int, batch: int, block: int, seed: int) -> list[torch.Tensor]:
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(tokens) - block - 1, (n, batch))
    return [torch.from_numpy(np.stack([tokens[s:s + block + 1] for s in row]).astype(np.int64)) for row in starts]


def nll(model: torch.nn.Module, data: list[torch.Tensor], hf: bool) -> float:
    with torch.no_grad():
        losses = []
        for ids in data:
            logits = model(ids[:, :-1]).logits if hf else model(ids[:, :-1])
            losses.append(torch.nn.functional.cross_entropy(logits.reshape(-1, 256), ids[:, 1:].reshape(-1)).item())
    return float(np.mean(losses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--block", type=int, default=128)
    args = parser.parse_args()
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    heads, kv = 4, 2
    hd = args.d // heads
    config = LlamaConfig(vocab_size=256, hidden_size=args.d, intermediate_size=3 * args.d, num_hidden_layers=args.layers,
                         num_attention_heads=heads, num_key_value_heads=kv, rope_theta=10000.0, max_position_embeddings=256)
    tokens = stdlib_bytes()
    split = int(len(tokens) * 0.95)
    train, held = tokens[:split], tokens[split:]
    fresh = LlamaForCausalLM(config)
    teacher = LlamaForCausalLM(config)
    teacher.load_state_dict(fresh.state_dict())
    opt = torch.optim.AdamW(teacher.parameters(), lr=3e-3, weight_decay=0.1)
    began = time.perf_counter()
    for step, ids in enumerate(batches(train, args.steps, args.batch, args.block, 1)):
        loss = torch.nn.functional.cross_entropy(teacher(ids[:, :-1]).logits.reshape(-1, 256), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"teacher step {step + 1}/{args.steps}: loss {loss.item():.3f} ({time.perf_counter() - began:.0f} s)", flush=True)
    evaluation = batches(held, 8, 16, args.block, 2)
    teacher.eval()
    table = Table(title=f"DBA surgery of a stdlib-trained Llama (d {args.d}, {args.layers} layers, {heads} heads / {kv} KV, "
                        f"hd {hd}, {args.steps} steps of {args.batch}×{args.block} bytes); teacher held-out NLL {nll(teacher, evaluation, True):.3f} nats/byte")
    for col in ("geo pairs", "dropped θ (rad/token)", "sem rank", "kept (trained)", "kept (random init)", "semantic kept (trained)", "KV ratio",
                "student NLL at init"):
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        trained_dir, fresh_dir = Path(tmp) / "trained", Path(tmp) / "fresh"
        teacher.save_pretrained(trained_dir)
        fresh.save_pretrained(fresh_dir)
        shapes = [(hd // 4, r) for r in (3 * hd // 4, 3 * hd // 8, 3 * hd // 16, 1)] + [(hd // 2, hd // 2), (hd // 2, hd // 4),
                                                                                 (hd, 2)]
        for geo, rank in shapes:
            done = surgery(trained_dir, sem_dim=heads * rank, geo_dim=heads * geo)
            rand = surgery(fresh_dir, sem_dim=heads * rank, geo_dim=heads * geo)
            mean = lambda rows, key: float(np.mean([getattr(r, key) for r in rows]))  # noqa: E731
            table.add_row(str(geo // 2), f"{done.report[0].dropped_frequency:.3g}", str(rank), f"{mean(done.report, 'kept'):.3f}", f"{mean(rand.report, 'kept'):.3f}",
                          f"{mean(done.report, 'semantic_kept'):.3f}", f"{done.kv_ratio:.3f}",
                          f"{nll(done.student, evaluation, False):.3f}")
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
