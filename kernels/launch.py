"""Launch configurations shared by the kernels, computed from the shape alone.

No autotuning: a configuration is a pure function of the problem's shape and the device's
multiprocessor count, so a run always launches the same kernels (``apples_to_apples``).
"""

from __future__ import annotations

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


def tile_config(width: int, op: str) -> tuple[int, int, int]:
    """(BLOCK, BLOCK_M, num_warps) for a backward kernel that steps through rows ``BLOCK_M`` at a time.

    A step holds about 16K values per tensor (4 rows of 4096), so each program keeps
    several rows' loads in flight instead of waiting on one row's reduction at a time.
    """
    block, _ = row_config(width, op)
    rows = max(1, min(16, 16384 // block))
    tile = rows * block
    return block, rows, 16 if tile >= 16384 else 8 if tile >= 4096 else 4


def row_split(device: torch.device, rows: int, step: int, per_sm: int = 4) -> tuple[int, int]:
    """(programs, rows per program) for a backward kernel that accumulates weight gradients.

    About ``per_sm`` programs per multiprocessor on CUDA (four on the CPU interpreter), each
    taking a multiple of ``step`` consecutive rows and writing one float32 partial sum.
    """
    target = torch.cuda.get_device_properties(device).multi_processor_count * per_sm if device.type == "cuda" else 4
    per_program = -(-max(1, -(-rows // target)) // step) * step
    return -(-rows // per_program), per_program
