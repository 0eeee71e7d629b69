"""GPT parity at nanoGPT's "baby GPT" scale: caramba vs an independent GPT-2 reference.

The same comparison as ``tests/train/test_gpt_parity.py`` (harness and reference in
``tests/train/gpt_reference.py``): a GPT built from a caramba manifest and trained by
``caramba.engine.run.execute``, and the reference written from the published recipe,
with the same width, depth, block, batch, steps, lr schedule (warm-up + cosine to 10%)
and AdamW settings (β 0.9/0.95, weight decay 0.1 on projection matrices, clip 1.0), on
byte-level tokens of Python's own standard-library sources. Both models are evaluated on
the same validation windows. Prints a table of both validation losses and wall times.

    python benchmarks/gpt_parity.py --device cuda --steps 1000        # baby GPT: 6 × 384, 6 heads, block 256
    python benchmarks/gpt_parity.py --scale ci                         # the CPU test's size
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.train.gpt_reference import Setup, parity, stdlib_bytes  # noqa: E402

SCALES = {
    "baby": dict(d_model=384, n_layers=6, n_heads=6, block=256, batch=64, lr=1e-3, warmup=100),
    "ci": dict(d_model=64, n_layers=2, n_heads=4, block=64, batch=8, lr=2e-3, warmup=20),
}


def main() -> None:
    """Run the comparison and print (and optionally write) the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="baby")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--bytes", type=int, default=4_000_000, help="tokens (bytes of stdlib source) to use")
    parser.add_argument("--seed", type=int, default=0, help="caramba's run seed (init and data order); the reference inits from seed+1")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    dtype = "bfloat16" if args.device.startswith("cuda") else "float32"
    setup = Setup(**SCALES[args.scale], steps=args.steps, device=args.device, dtype=dtype, seed=args.seed)
    tokens = stdlib_bytes(args.bytes)
    with tempfile.TemporaryDirectory() as tmp:
        result = parity(setup, tokens, Path(tmp))
    result.update(setup=setup.__dict__, tokens=int(len(tokens)))
    gap = (result["caramba_val_loss"] - result["reference_val_loss"]) / result["reference_val_loss"]
    print(f"\n| implementation | val loss | wall s |\n|---|---|---|\n"
          f"| caramba (manifest, trainer.standard) | {result['caramba_val_loss']:.4f} | {result['caramba_s']:.1f} |\n"
          f"| reference (GPT-2 recipe, eager) | {result['reference_val_loss']:.4f} | {result['reference_s']:.1f} |\n"
          f"relative gap: {gap:+.2%} ({len(tokens):,} tokens, {args.steps} steps, {args.device}, {dtype}, seed {args.seed})")
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
