"""``metrics.jsonl`` during training, ``metrics.parquet`` at the end.

One JSON object per line: training rows (``kind: "train"``, one per optimiser step) and
evaluation rows (``kind: "eval"``). Lines are appended as the trainer flushes its
buffer; after a crash the file may end in a partial line or hold steps past the
checkpoint a resumed run restarts from, so :meth:`MetricsLog.rewind` rewrites it
(atomically) keeping only whole rows up to that step. The Parquet file is the same rows
as a column table (pyarrow), written atomically at the end of the run.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from caramba.engine.store.atomic import write_bytes, write_text


class MetricsLog:
    """Append-only JSONL of one run, with rewind-on-resume and a Parquet export."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    def rows(self) -> list[dict[str, Any]]:
        """Every complete row in the file (a torn last line is ignored)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return out

    def rewind(self, step: int) -> list[dict[str, Any]]:
        """Keep only rows with ``step <= step`` (start of a run: ``step = 0`` keeps nothing); return them."""
        self.close()
        kept = [r for r in self.rows() if r.get("step", 0) <= step] if step > 0 else []
        write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))
        return kept

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Append rows and flush them to the OS."""
        if self._handle is None:
            self._handle = self.path.open("a")
        self._handle.write("".join(json.dumps(r) + "\n" for r in rows))
        self._handle.flush()

    def close(self) -> None:
        """Close the file handle (rows are already flushed)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def to_parquet(self, path: Path) -> Path:
        """Write every row to ``path`` as Parquet (atomically); returns the path."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.close()
        rows = self.rows()
        columns = sorted({k for r in rows for k in r})
        table = pa.table({c: [r.get(c) for r in rows] for c in columns}) if rows else pa.table({"step": pa.array([], pa.int64())})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return write_bytes(path, buffer.getvalue())
