"""``layer_norm`` table: 16384 × 4096 bf16 with bias, caramba vs ``F.layer_norm`` vs compile vs Liger."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from rms_norm import N, norm_inputs, norm_rows
from runner import liger


def rows() -> list[dict[str, object]]:
    """The layer_norm table's rows."""
    from caramba.kernels.layer_norm.kernel import layer_norm_triton

    inputs, dy = norm_inputs(bias=True)
    eager = lambda x, w, b: F.layer_norm(x, (N,), w, b, 1e-5)  # noqa: E731
    lg = liger("liger_kernel.ops.layer_norm:LigerLayerNormFunction")
    theirs = (lambda x, w, b: lg.apply(x, w, b, 1e-5)) if not isinstance(lg, str) else lg  # noqa: E731
    impls = {"caramba": lambda x, w, b: layer_norm_triton(x, w, b, 1e-5)[0], "eager": eager,
             "torch.compile": torch.compile(eager), "liger": theirs}
    return norm_rows("layer_norm", impls, inputs, dy)
