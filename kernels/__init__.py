"""Triton kernels behind one dispatch, chosen once at start-up by capability detection.

Every op has one name across four places (Liger-Kernel's convention):

| op | kernel + custom op | entry the layers call | test | benchmark table |
|---|---|---|---|---|
| ``rms_norm`` | ``kernels/rms_norm/kernel.py`` | ``kernels.rms_norm.rms_norm`` | ``tests/kernels/test_rms_norm.py`` | ``rms_norm`` |
| ``layer_norm`` | ``kernels/layer_norm/kernel.py`` | ``kernels.layer_norm.layer_norm`` | ``tests/kernels/test_layer_norm.py`` | ``layer_norm`` |
| ``glu`` (SwiGLU, GEGLU) | ``kernels/glu/kernel.py`` | ``kernels.glu.glu`` | ``tests/kernels/test_glu.py`` | ``glu`` |
| ``rope`` | ``kernels/rope/kernel.py`` | ``kernels.rope.rope`` | ``tests/kernels/test_rope.py`` | ``rope`` |
| ``linear_cross_entropy`` | ``kernels/linear_cross_entropy/kernel.py`` | ``kernels.linear_cross_entropy.linear_cross_entropy`` | ``tests/kernels/test_linear_cross_entropy.py`` | ``linear_cross_entropy`` |
| ``dba_attention`` (DBA prefill/training) | ``kernels/dba_attention/kernel.py`` | ``kernels.dba_attention.dba_attention`` (called by ``DecoupledAttention``) | ``tests/kernels/test_dba_attention.py`` | ``dba_attention`` |
| ``kv_decode`` (q8/q4 cache, GQA and DBA) | ``kernels/kv_decode/kernel.py`` | ``kernels.kv_decode.kv_decode`` (called by ``ModelCache.attend``) | ``tests/kernels/test_kv_decode.py`` | ``kv_decode``, ``kv_decode_dba`` |

Who calls what: ``RMSNormLayer``/``LayerNormLayer`` → ``rms_norm``/``layer_norm``;
``SwiGLULayer``/``GEGLULayer`` → ``glu``; the attention layers (standard, GQA, DBA's
geometric path) → ``rope`` through ``Rope.pair``; ``DecoupledAttention`` (DBA) prefill and
training → ``dba_attention``; the ``next_token`` objective →
``linear_cross_entropy`` (fused with a ``TransformerModel``'s head); decode steps of
standard/GQA and DBA attention over a q8/q4 ``ModelCache`` → ``kv_decode``. The norms'
backward kernels share their weight-gradient partials (``kernels/norm_backward.py``). The
norms' fused residual add is available to callers but no topology passes a residual yet.

The training ops (norms, GLU, RoPE, linear + cross-entropy) are ``torch.library`` custom
ops with fake implementations and autograd rules (``torch.ops.caramba.*``), so inside a
``torch.compile`` region a kernel is one node of the graph, never a graph break
(``tests/kernels/test_compile.py``). Eagerly, the norms, GLU and RoPE entries call a plain
autograd Function over the same launches instead: the custom op's Python layers made the
launched fwd+bwd host-bound (``rms_norm/kernel.py``). Which ops run their kernel inside the trainer's
compiled step is ``dispatch.KERNELS_INSIDE_COMPILE``, decided by the end-to-end
measurement: on GPT-2 124M none does yet (Inductor's fusion of PyTorch's path was as fast
or faster, ``kernels.dispatch`` docstring). ``dba_attention`` is correct but
measured slower than DBA's SDPA path, so the dispatch holds it back (``held_back`` in the
registry) and says so in the log.

``kernels.registry`` lists the ops (what each computes, its category, the minimum CUDA
capability); ``kernels.dispatch`` decides once per process which ops take the Triton path
(CUDA tensor, capability high enough, Triton importable) and which take PyTorch's, and
says why — ``engine/capabilities`` logs it and the dry run prints it. Each entry's
package ``__init__`` holds the PyTorch path and imports nothing from Triton; the
``kernel.py`` beside it is imported only when the Triton path runs (or by its test, on the
CPU under ``TRITON_INTERPRET=1``), so the package imports on machines without Triton.
(``kv_decode`` is the exception: its package is the Triton path, and ``ModelCache``
imports it only after the dispatch chose it.)

Every launch uses a configuration computed from the shape alone (block widths, warps,
program counts): there is no autotuning anywhere, so two runs of one manifest launch the
same kernels and ``apples_to_apples: true`` holds for the kernel path by construction.

Imports point down only: the engine imports this package; nothing here imports the engine.
"""
