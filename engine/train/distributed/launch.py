"""``caramba run M.yml --nproc N``: torchrun on this host, and a failed rank named in the run store.

This is torchrun itself (``torch.distributed.run``, the module behind the ``torchrun``
command), called with ``--standalone --nproc-per-node N -m caramba run …`` — caramba has
no launcher of its own. Several hosts use torchrun directly (README: ``--nnodes``,
``--rdzv-backend c10d``, ``--rdzv-endpoint``); caramba reads torchrun's environment
either way (``context.py``).

When a rank dies (killed, out of memory, an exception), torchrun stops the others and
reports every failed rank; this front turns that into one line naming the rank and its
exit (``rank 1 was killed by SIGKILL``) and writes it into the run's ``status.json``
(``failed``), which the next ``caramba run`` resumes from its last checkpoint.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

from caramba.engine.store.record import RunRecord
from caramba.engine.train.distributed.context import PEER_MARK


def torchrun_args(nproc: int, caramba_args: list[str]) -> list[str]:
    """torchrun's command line for ``nproc`` ranks on this host running ``caramba <caramba_args>``."""
    return ["--standalone", f"--nproc-per-node={nproc}", "--no-python", sys.executable, "-m", "caramba", *caramba_args]


def describe(rank: int, failure: ProcessFailure) -> str:
    """``rank 1 was killed by SIGKILL`` / ``rank 0 exited with code 1``."""
    if failure.exitcode < 0:
        return f"rank {rank} was killed by {failure.signal_name()}"
    return f"rank {rank} exited with code {failure.exitcode}"


def failed_ranks(error: ChildFailedError) -> dict[int, str]:
    """Every failed rank, causes first: killed by a signal (SIGKILL, OOM …), then an error exit,
    then SIGTERM — the signal torchrun itself stops the surviving ranks with."""
    def cause(item: tuple[int, ProcessFailure]) -> tuple[int, int]:
        code = item[1].exitcode
        return (0 if code < 0 and code != -signal.SIGTERM else 1 if code > 0 else 2), item[0]

    return {rank: describe(rank, failure) for rank, failure in sorted(error.failures.items(), key=cause)}


def then(failures: list[str]) -> str:
    """`` (then rank 0 exited with code 1)``: what followed the first failure, or nothing."""
    return f" (then {'; '.join(failures[1:])})" if len(failures) > 1 else ""


def launch(nproc: int, caramba_args: list[str]) -> dict[int, str]:
    """Run ``caramba <caramba_args>`` on ``nproc`` ranks; returns the failed ranks, causes first (empty: success)."""
    from torch.distributed.run import get_args_parser, run

    try:
        run(get_args_parser().parse_args(torchrun_args(nproc, caramba_args)))
    except ChildFailedError as error:
        return failed_ranks(error)
    return {}


def record_failure(run_dirs: list[Path], failed: dict[int, str], command: str) -> list[str] | None:
    """Name the failed ranks in the first run of ``run_dirs`` that a dead or failed peer ended;
    returns the failures, causes first, or None when no rank failed on its own (a run that
    ended cancelled or failed a gate: rank 0 has said so, every rank exited non-zero).

    When rank 0 recorded that a peer failed, rank 0 was a victim, not a cause (torchrun
    then stops it like the others). A run that failed on its own terms (a verify gate,
    bad input: every rank exits with the same error) keeps rank 0's reasons untouched."""
    failures = list(failed.values())
    for run_dir in run_dirs:
        if not (run_dir / "status.json").is_file():
            continue
        record = RunRecord.load(run_dir)
        if record.status in ("succeeded", "cancelled", "queued"):
            continue
        victim = any(PEER_MARK in r for r in record.reasons)
        if victim and 0 in failed and len(failed) > 1:
            failures = [text for rank, text in failed.items() if rank != 0] + [failed[0]]
        peer = victim or any(r.startswith("process died") for r in record.reasons)
        if not peer and not any(" was killed by " in f for f in failures):
            return None
        line = f"{failures[0]} at step {record.step}{then(failures)}; run `{command}` again to resume"
        record.status = "failed"
        record.reasons = [line, *(r for r in record.reasons if not r.startswith("process died"))]
        record.save()
        return failures
    return None if all(" exited with code " in f for f in failures) else failures
