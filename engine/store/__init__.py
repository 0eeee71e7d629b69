"""The run store and durable files: atomic writes (temp file + rename) used by every
writer in caramba, run ids, run directories and their status records."""

from caramba.engine.store.record import STATUSES, RunRecord
from caramba.engine.store.runs import RunStore, UnknownRun

__all__ = ["STATUSES", "RunRecord", "RunStore", "UnknownRun"]
