"""Tile helpers shared by the DBA forward (``kernel.py``) and backward (``backward.py``) kernels."""

from __future__ import annotations

import triton
import triton.language as tl

LOG2E = tl.constexpr(1.4426950408889634)   # scores run in base 2 (exp2 is the hardware's exponential)
LN2 = tl.constexpr(0.6931471805599453)


@triton.jit
def load(P, base, rows, stride_t, n_rows, cols, width):
    """A (rows, cols) tile of a (T, width) head with unit column stride, zero outside."""
    mask = (rows < n_rows)[:, None] & (cols < width)[None, :]
    return tl.load(P + base + rows[:, None] * stride_t + cols[None, :], mask=mask, other=0.0)


@triton.jit
def scores(qs, qg, ks, kg, a, b, IEEE: tl.constexpr):
    """a · qs ksᵀ + b · qg kgᵀ in float32."""
    if IEEE:
        s = tl.dot(qs, tl.trans(ks), input_precision="ieee") * a
        s += tl.dot(qg, tl.trans(kg), input_precision="ieee") * b
    else:
        s = tl.dot(qs, tl.trans(ks)) * a
        s += tl.dot(qg, tl.trans(kg)) * b
    return s


@triton.jit
def dot(x, y, IEEE: tl.constexpr):
    if IEEE:
        return tl.dot(x, y, input_precision="ieee")
    return tl.dot(x, y)
