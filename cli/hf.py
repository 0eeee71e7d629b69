"""``caramba import-hf`` and ``caramba export-hf``: Hugging Face checkpoints ↔ caramba folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail


def import_hf(
    path: Annotated[str, typer.Argument(help="checkpoint folder (config.json + safetensors) or hf://org/name (local cache)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write manifest.yml and model.safetensors into")],
) -> None:
    """Convert a Llama or GPT-2 checkpoint into a caramba manifest and weights."""
    from caramba.engine.hf import CheckpointError
    from caramba.engine.hf import import_hf as convert

    try:
        manifest = convert(path, out)
    except CheckpointError as exc:
        fail(str(exc), "supported: Llama (incl. GQA, llama3/linear RoPE scaling) and GPT-2 checkpoints")
    console.print(f"wrote {manifest} and {out / 'model.safetensors'}; check it with: caramba validate {manifest}")


def export_hf(
    source: Annotated[str, typer.Argument(help="a run id (or run directory), or a folder written by import-hf")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Hugging Face folder to write (config.json + model.safetensors)")],
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="a run's final (newest) or best checkpoint")] = "final",
) -> None:
    """Write a trained run (or an imported model) as a Hugging Face checkpoint folder."""
    from caramba.engine.hf import CheckpointError
    from caramba.engine.hf import export_hf as convert
    from caramba.engine.store.runs import RunStore, UnknownRun

    if checkpoint not in ("final", "best"):
        fail(f"--checkpoint {checkpoint!r} is not final or best", "use --checkpoint final or --checkpoint best")
    folder_in = Path(source)
    if not folder_in.is_dir():
        try:
            folder_in = Path(RunStore(Path.cwd()).get(source).dir)
        except UnknownRun as exc:
            fail(f"{source} is neither a folder nor a run: {exc}", "give a run id from `caramba runs list` or a folder")
    try:
        folder = convert(folder_in, out, checkpoint)
    except CheckpointError as exc:
        fail(str(exc), "export works for Llama- and GPT-2-shaped TransformerModels")
    console.print(f"wrote {folder}/config.json and {folder}/model.safetensors (load with transformers' from_pretrained)")


def upcycle_surgery(
    teacher: Annotated[str, typer.Argument(help="Llama checkpoint folder (config.json + safetensors) or hf://org/name")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write manifest.yml, model.safetensors, surgery.json into")],
    sem_dim: Annotated[int, typer.Option("--sem-dim", help="DBA semantic q/k width over all heads (multiple of n_heads)")],
    geo_dim: Annotated[int, typer.Option("--geo-dim", help="DBA geometric (RoPE) q/k width over all heads (multiple of 2·n_heads)")],
    gate: Annotated[bool, typer.Option("--gate", help="add DBA's per-head output gate (identity at init)")] = False,
    v_dim: Annotated[int | None, typer.Option("--v-dim", help="value width over all heads (default d_model: V/O copied)")] = None,
) -> None:
    """Turn a Llama (GQA) teacher into a DBA student by surgery; print the kept energy per layer."""
    from caramba.engine.hf import CheckpointError
    from caramba.engine.upcycle import write_surgery

    try:
        manifest, done = write_surgery(teacher, out, sem_dim, geo_dim, gate, v_dim)
    except CheckpointError as exc:  # SurgeryError is one too
        fail(str(exc), "surgery takes Llama checkpoints; see `caramba upcycle-surgery --help` for the shape options")
    for r in done.report:
        console.print(f"layer {r.layer}: kept {r.kept:.4f} of the attention-logit energy (semantic rank {r.semantic_rank}: "
                      f"{r.semantic_kept:.4f}; {r.geo_pairs} RoPE pairs kept exactly; dropped rotation ≤ {r.dropped_frequency:.3g}/token; values {r.value_kept:.4f})")
    console.print(f"KV cache per token: {done.kv_ratio:.3f} of the teacher's")
    console.print(f"wrote {manifest}, {out / 'model.safetensors'} and {out / 'surgery.json'}; check it with: caramba validate {manifest}")


def register(app: typer.Typer) -> None:
    """Add ``import-hf``, ``export-hf`` and ``upcycle-surgery`` to the ``caramba`` command."""
    app.command("import-hf")(import_hf)
    app.command("export-hf")(export_hf)
    app.command("upcycle-surgery")(upcycle_surgery)
