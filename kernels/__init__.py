"""Triton kernels, chosen once at start-up by capability detection (``engine/capabilities``).

This release ships no custom kernel: on every device the measured fast path is
PyTorch's own (SDPA flash/memory-efficient attention, fused ``F.rms_norm``, fused AdamW
on CUDA, and ``torch.compile``'s Inductor-generated Triton kernels when CUDA and Triton
are present). ``caramba run`` logs the path each operation category takes. A kernel
added here must come with its autograd function, a float64 reference test (run on the
CPU under ``TRITON_INTERPRET=1``) and a benchmark table against the PyTorch path, and be
selected in ``Capabilities.paths`` — never as a silent fallback.
"""
