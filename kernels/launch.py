"""Launch configurations shared by the kernels, computed from the shape alone.

No autotuning: a configuration is a pure function of the problem's shape and the device's
multiprocessor count, so a run always launches the same kernels (``apples_to_apples``).
"""

from __future__ import annotations

from functools import lru_cache

import torch

MAX_ROW = 65536  # widest row a row-wise kernel keeps in registers in one block


def next_power_of_2(n: int) -> int:
    """Smallest power of two ≥ n (n ≥ 1)."""
    return 1 << (max(1, n) - 1).bit_length()


def row_config(width: int, op: str) -> tuple[int, int]:
    """(BLOCK, num_warps) for a kernel that holds one row of ``width`` values in registers.

    Raises ValueError past ``MAX_ROW`` (the row would spill), naming the op and the width.
    """
    if width > MAX_ROW:
        raise ValueError(f"{op}: rows of {width} values exceed the kernel's {MAX_ROW}; "
                         f"this op's Triton kernel handles widths up to {MAX_ROW}")
    block = next_power_of_2(width)
    warps = 16 if block >= 8192 else 8 if block >= 2048 else 4
    return block, warps


def reduction_programs(device: torch.device, rows: int, per_sm: int = 4) -> int:
    """How many programs a backward kernel that accumulates weight gradients launches.

    ``per_sm`` programs per multiprocessor on CUDA (each loops over its share of rows and
    writes one partial sum); four on the CPU interpreter; never more than ``rows``.
    """
    count = multiprocessors(device.index) * per_sm if device.type == "cuda" else 4
    return max(1, min(rows, count))


@lru_cache(maxsize=None)
def multiprocessors(index: int | None) -> int:
    """The multiprocessor count of CUDA device ``index``, queried once per device (not on every backward)."""
    device = torch.cuda.current_device() if index is None else index
    return torch.cuda.get_device_properties(device).multi_processor_count
