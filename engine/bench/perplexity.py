"""Perplexity over held-out tokens: token-weighted mean NLL over windows.

Windows of L = ``block_size`` inputs (plus one target token) start every S = ``stride``
tokens (S = L: non-overlapping). The first window scores all its L targets; each later
window scores only its last min(S, L) targets, whose prefix context the earlier window
did not give (Hugging Face's "sliding window" perplexity). Only full windows are used,
so the last < S tokens may be left out: ``tokens`` reports exactly how many targets
were scored, ``coverage`` that count over the split's targets.

    NLL = Σ_scored −log p(x_t | x_<t) / N_scored,      PPL = exp(NLL)

Accumulated in float64, so the mean is independent of batching.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from caramba.engine import cancel
from caramba.engine.data.heldout import window_plan
from caramba.engine.manifest.benchmarks import PerplexityBenchmark
from caramba.engine.model.context import ForwardContext


@torch.no_grad()
def perplexity(model: nn.Module, tokens: np.ndarray, config: PerplexityBenchmark, device: torch.device) -> dict[str, Any]:
    """NLL, PPL and tokens covered of ``model`` over a 1-D token array (module docstring)."""
    block, stride = config.block_size, config.stride or config.block_size
    plan = window_plan(int(tokens.shape[0]), block, stride)
    if not plan:
        raise ValueError(f"the validation split has {tokens.shape[0]} tokens, fewer than one window of {block + 1}; "
                         "lower the perplexity block_size or use more data")
    batches = [plan[i:i + config.batch_size] for i in range(0, len(plan), config.batch_size)]
    if config.num_batches is not None:
        batches = batches[: config.num_batches]
    total_nll, scored = 0.0, 0
    offsets = np.arange(block + 1)
    for number, batch in enumerate(batches):
        cancel.check(f"perplexity benchmark (batch {number} of {len(batches)})")
        starts = np.array([s for s, _ in batch])
        window = torch.from_numpy(tokens[starts[:, None] + offsets].astype(np.int64)).to(device)   # (B, L+1)
        logits = model(window[:, :-1], ForwardContext()).float()                                   # (B, L, V)
        nll = nn.functional.cross_entropy(logits.transpose(1, 2), window[:, 1:], reduction="none")  # (B, L)
        for row, (_, keep) in enumerate(batch):
            total_nll += float(nll[row, block - keep:].double().sum())
            scored += keep
    mean = total_nll / scored
    return {"nll": mean, "ppl": math.exp(mean), "tokens": scored, "windows": sum(len(b) for b in batches),
            "coverage": scored / max(int(tokens.shape[0]) - 1, 1), "block_size": block, "stride": stride}


def validation_tokens(config: PerplexityBenchmark, dataset: Any, data_path: str | None) -> np.ndarray:
    """The held-out tokens: the validation tail of the benchmark's ``dataset`` file, or of the target's data.

    A named file is split like the target's data (same validation fraction), so a file
    that is also the training data is never scored on its training part.
    """
    if not (hasattr(dataset, "tokens") and hasattr(dataset, "bounds")):
        raise TypeError(f"perplexity needs a token dataset (dataset.tokens), got {type(dataset).__name__}")
    lo, hi = dataset.bounds["val"]
    if config.dataset is None:
        return dataset.tokens[lo:hi]
    base = _base_dir(Path(dataset.path), data_path)
    path = Path(config.dataset) if Path(config.dataset).is_absolute() else base / config.dataset
    if path.resolve() == Path(dataset.path).resolve():
        return dataset.tokens[lo:hi]
    from caramba.engine.data.tokens import BIN_DTYPES, open_tokens

    dtype = str(dataset.tokens.dtype)  # a .bin file is read with the dtype of the target's data
    tokens = open_tokens(path, dtype if dtype in BIN_DTYPES else None)
    frac = (hi - lo) / max(int(dataset.tokens.shape[0]), 1)
    return tokens[int(tokens.shape[0]) - int(tokens.shape[0] * frac):]


def _base_dir(resolved: Path, configured: str | None) -> Path:
    """The folder the manifest's relative paths resolve against (where the target's data path points from)."""
    if configured is None or Path(configured).is_absolute():
        return resolved.parent
    depth = len(Path(configured).parts)
    return resolved.parents[depth - 1]
