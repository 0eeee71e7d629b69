"""Results a researcher can trust: a small GPT built from a caramba manifest and an
independent GPT-2 reference (``gpt_reference.py``: the published recipe, none of
caramba's layers) reach the same validation loss on real text — Python's own
standard-library sources, byte-level — with the same width, depth, block, batch, steps,
lr schedule and AdamW settings."""

from __future__ import annotations

import math
from pathlib import Path

from tests.train.gpt_reference import Setup, parity, stdlib_bytes

SETUP = Setup(d_model=64, n_layers=2, n_heads=4, block=64, batch=8, steps=300, lr=2e-3, warmup=20)


def test_caramba_gpt_matches_the_gpt2_recipe_on_real_text(workspace: Path) -> None:
    tokens = stdlib_bytes(400_000)
    result = parity(SETUP, tokens, workspace)
    ours, theirs = result["caramba_val_loss"], result["reference_val_loss"]
    assert theirs < 0.6 * math.log(256), f"the reference did not learn: {theirs:.3f}"
    assert abs(ours - theirs) / theirs < 0.02, f"caramba {ours:.4f} vs reference {theirs:.4f} ({result})"
