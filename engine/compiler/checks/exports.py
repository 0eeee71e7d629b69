"""``runs[].export_hf``: a run that writes its model as a Hugging Face folder another target starts from.

Checked in the ``files`` stage, once paths are resolved:

* two runs may not write the same folder, a run with a list of seeds may not export (its
  seeds would overwrite one folder in turn), and the folder, when it exists, holds nothing
  but an earlier export (``caramba_export.json``), so no one's checkpoint is overwritten;
* the run's model can be written as a Hugging Face checkpoint (a Llama- or GPT-2-shaped
  ``TransformerModel``: ``engine/hf``'s ``hf_config`` accepts it), so a refused export
  fails here and not after training.

:func:`exporter_of` answers "which target writes this folder" for the other checks: a
``teacher: {hf: …}`` or ``init_from: {hf: …}`` naming a folder that does not exist yet is
valid when a run of the manifest exports it, and the student is then checked against the
exporting target's model (``checks/files.py``).
"""

from __future__ import annotations

from pathlib import Path

from caramba.engine.compiler.checks import Issue
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget

FieldPath = tuple[object, ...]


def exports(manifest: Manifest, resolved: dict[FieldPath, Path]) -> dict[Path, tuple[int, int]]:
    """Folder → (target index, run index) of every run with ``export_hf`` (the first run, for a duplicate)."""
    found: dict[Path, tuple[int, int]] = {}
    for t_index, target in enumerate(manifest.targets):
        if isinstance(target, ExperimentTarget):
            for r_index, _ in enumerate(target.runs):
                path = resolved.get(("targets", t_index, "runs", r_index, "export_hf"))
                if path is not None:
                    found.setdefault(path, (t_index, r_index))
    return found


def exporter_of(manifest: Manifest, resolved: dict[FieldPath, Path], folder: Path) -> ExperimentTarget | None:
    """The target one of whose runs writes ``folder`` (None when no run does)."""
    at = exports(manifest, resolved).get(folder)
    if at is None:
        return None
    target = manifest.targets[at[0]]
    return target if isinstance(target, ExperimentTarget) else None


def foreign_files(folder: Path) -> list[str]:
    """Names in ``folder`` when it holds files but no ``caramba_export.json`` (not an earlier export); else []."""
    if not folder.is_dir() or (folder / "caramba_export.json").is_file():
        return []
    return sorted(p.name for p in folder.iterdir())


def check_exports(manifest: Manifest, resolved: dict[FieldPath, Path]) -> list[Issue]:
    """Every problem of the manifest's ``export_hf`` fields (module docstring)."""
    issues: list[Issue] = []
    first = exports(manifest, resolved)
    for t_index, target in enumerate(manifest.targets):
        if not isinstance(target, ExperimentTarget):
            continue
        for r_index, run in enumerate(target.runs):
            at = ("targets", t_index, "runs", r_index, "export_hf")
            if at not in resolved:
                continue
            owner = first[resolved[at]]
            if owner != (t_index, r_index):
                other = manifest.targets[owner[0]]
                issues.append(Issue(at, f"{resolved[at]} is already written by run {other.runs[owner[1]].id!r} of target "
                                    f"{other.name!r}", "give each exporting run its own folder"))
            foreign = foreign_files(resolved[at])
            if foreign:
                issues.append(Issue(at, f"{resolved[at]} holds files caramba did not export ({', '.join(foreign[:3])}); "
                                    "the export would overwrite them", "name a new folder, or empty this one"))
            if isinstance(run.seed, list) and len(run.seed) > 1:
                issues.append(Issue(at, f"run {run.id!r} has {len(run.seed)} seeds, and each would overwrite the one folder",
                                    "export from a run with a single seed"))
            model = getattr(target.system.config, "model", None)
            if model is None:
                issues.append(Issue(at, "only a language model (system.language_model) can be exported to Hugging Face format",
                                    "remove export_hf, or export a system.language_model target"))
                continue
            issues += _round_trip(at, model.model_dump(mode="json", exclude_none=True))
    return issues


def _round_trip(at: FieldPath, config: dict) -> list[Issue]:
    """The model must come back unchanged from its Hugging Face config (else the export would be another model)."""
    from caramba.engine.compiler.checks.upcycle import _differences
    from caramba.engine.hf import CheckpointError, family_of
    from caramba.engine.model.config.models import TransformerModelConfig

    hint = "export works for Llama- and GPT-2-shaped TransformerModels (e.g. presets/upcycle_dba_gpu.yml's teacher); remove export_hf"
    try:
        family = family_of({"model_type": "gpt2" if config["embedder"].get("positions") == "learned" else "llama"})
        back = family.model_config(family.hf_config(config))
        want = TransformerModelConfig.model_validate(config).model_dump(mode="json", exclude_none=True)
        have = TransformerModelConfig.model_validate(back).model_dump(mode="json", exclude_none=True)
    except (CheckpointError, KeyError, IndexError, TypeError, ValueError) as exc:
        return [Issue(at, f"this target's model has no Hugging Face form: {exc}", hint)]
    differences = _differences(want, have)
    if differences:
        path, mine, theirs = differences[0]
        where = ".".join(str(p) for p in path)
        return [Issue(at, f"this target's model has no exact Hugging Face form: at system.config.model.{where} it has "
                      f"{mine!r}, its Hugging Face form {theirs!r}", hint)]
    return []
