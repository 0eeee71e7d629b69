"""Model-library tests run tiny shapes: one intra-op thread avoids OpenMP spin-waits on a
shared 2-core CPU (tiny tensors are slower with more threads)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
