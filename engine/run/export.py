"""``runs[].export_hf``: a succeeded run's final checkpoint written as a Hugging Face folder.

The manifest-level form of ``caramba export-hf RUN --out FOLDER``: after the run succeeds
(or when ``caramba run`` finds it already succeeded), :func:`export_run` writes
``config.json`` + ``model.safetensors`` (``engine/hf``'s ``export_hf``, the run's newest
good checkpoint) and ``caramba_export.json`` naming the run it came from. A folder that
already holds this run's export is left alone; one holding another run's (an older
teacher) is written again, so a target that starts from the folder (``teacher: {hf: …}``)
always reads the run this manifest made. Validation already checked that the model has an
exact Hugging Face form (``engine/compiler/checks/exports.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from caramba.engine.manifest.targets import Run
from caramba.engine.run.errors import RunInputError
from caramba.engine.store.record import RunRecord

MARKER = "caramba_export.json"


def export_run(run: Run, record: RunRecord, console: Console) -> Path | None:
    """Write ``run.export_hf`` from the succeeded ``record`` (module docstring); the folder, or None when nothing is due."""
    if run.export_hf is None or record.status != "succeeded":
        return None
    from caramba.engine.hf import CheckpointError, export_hf

    folder = Path(run.export_hf)
    marker = folder / MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("run_id") == record.id and (folder / "config.json").is_file():
        return folder
    from caramba.engine.compiler.checks.exports import foreign_files

    foreign = foreign_files(folder)
    if foreign:  # validation refused this; the folder was filled since
        raise RunInputError(f"export_hf of run {record.id}: {folder} now holds files caramba did not export "
                            f"({', '.join(foreign[:3])}); move them, or name a new folder")
    try:
        export_hf(Path(record.dir), folder, "final")
    except CheckpointError as exc:
        raise RunInputError(f"export_hf of run {record.id} to {folder}: {exc}") from None
    marker.write_text(json.dumps({"run_id": record.id, "checkpoint": "final", "run_dir": record.dir}, indent=2))
    console.print(f"exported {record.id} → {folder} (Hugging Face format: config.json, model.safetensors)")
    return folder
