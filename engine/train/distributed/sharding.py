"""Which sequences each rank trains on: a pure function of (step, rank, world size).

The global batch of optimiser step ``s`` is what a single process would train on:
micro-batches ``s·A + m`` (m < A, A = ``gradient_accumulation_steps``) of ``batch_size``
sequences each, drawn by the dataset from (seed, split, index). Over ``N`` ranks:

* when ``N`` divides ``A``, rank ``r`` takes whole micro-batches ``r·A/N … (r+1)·A/N − 1``
  (its micro-batch stays ``batch_size``: the per-rank memory of the single-process plan);
* else, when ``N`` divides ``batch_size``, every rank takes all ``A`` micro-batches and
  rows ``r·B/N … (r+1)·B/N − 1`` of each;
* else the global batch cannot be split evenly and the run is refused before it starts.

DDP and FSDP average gradients over ranks and each rank averages over its micro-batches,
so the update equals the single-process one (to float rounding), and a run resumed on a
different number of ranks continues with the same global batches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MicroBatch:
    """Micro-batch ``index`` of the train split, rows ``rows[0] … rows[1] − 1`` of it."""

    index: int
    rows: tuple[int, int]


class UnevenBatch(ValueError):
    """The global batch cannot be split evenly over the ranks."""


def plan_split(batch_size: int, accumulation: int, world_size: int) -> tuple[int, int]:
    """(micro-batches per rank, rows per micro-batch) for ``world_size`` ranks, or :class:`UnevenBatch`."""
    if accumulation % world_size == 0:
        return accumulation // world_size, batch_size
    if batch_size % world_size == 0:
        return accumulation, batch_size // world_size
    raise UnevenBatch(
        f"the global batch (train.batch_size {batch_size} × gradient_accumulation_steps {accumulation}) cannot be split "
        f"evenly over {world_size} ranks: make gradient_accumulation_steps or batch_size a multiple of {world_size}")


def rank_micro_batches(step: int, batch_size: int, accumulation: int, rank: int, world_size: int) -> list[MicroBatch]:
    """The micro-batches rank ``rank`` trains on at optimiser step ``step`` (see the module docstring)."""
    per_rank, rows = plan_split(batch_size, accumulation, world_size)
    first = step * accumulation
    if rows == batch_size:
        return [MicroBatch(first + rank * per_rank + k, (0, batch_size)) for k in range(per_rank)]
    return [MicroBatch(first + m, (rank * rows, (rank + 1) * rows)) for m in range(accumulation)]
