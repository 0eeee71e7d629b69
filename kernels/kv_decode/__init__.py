"""``kv_decode``: one decode step of attention over a q8/q4 KV cache, dequantised in registers.

    out = kv_decode(q, [Segment(k_codes, k_scales, "q4", v_codes, v_scales, "q8", n),
                        Segment(k_window, None, "dense", v_window, None, "dense", w)], block_size, scale)

The caller is the inference cache (``engine/infer/cache``): it asks the dispatch
(``uses_triton("kv_decode", q)``) and, on the PyTorch path, keeps its own dequantise-then-
SDPA step. This package holds only the Triton path (``kernel.py``): no PyTorch copy of the
cache's dequantiser lives below the engine.
"""

from caramba.kernels.kv_decode.kernel import Segment, kv_decode

__all__ = ["Segment", "kv_decode"]
