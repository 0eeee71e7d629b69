"""``runs[].init_from``: find the source weights and load them into the freshly built model.

The source (``engine/manifest/init_from.py``) resolves to a state dict of caramba
parameter names, read with safetensors only (never unpickled):

* ``hf`` → the Hugging Face checkpoint converted by ``engine/hf`` (Llama, GPT-2);
* ``run`` → ``model.safetensors`` of the run's newest good step checkpoint (``final``) or
  of ``checkpoints/best``; the run must have succeeded;
* ``path`` → a ``.safetensors`` file, a folder with ``model.safetensors``, or a Hugging
  Face folder (config.json).

:func:`load_init` loads it (strict by default, ``engine/model/weights.py``) and returns the
report; the session announces it and writes ``artifacts/init_from.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import Tensor, nn

from caramba.engine.compiler import Compiled
from caramba.engine.manifest.init_from import InitFromConfig
from caramba.engine.manifest.targets import ExperimentTarget, Run
from caramba.engine.model.weights import LoadReport, load_weights
from caramba.engine.run.errors import RunInputError


@dataclass
class InitSource:
    """Where a run starts from: a readable description and the state dict."""

    description: str
    state: dict[str, Tensor]


def _safetensors(path: Path) -> dict[str, Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def _hf(text: str, base_dir: Path) -> InitSource:
    from caramba.engine.hf import CheckpointError, family_of
    from caramba.engine.hf.checkpoint import read_config, read_weights, resolve

    location = text if text.startswith("hf://") else str(base_dir / text)
    try:
        folder = resolve(location)
        cfg = read_config(folder)
        state = family_of(cfg).to_caramba(read_weights(folder), cfg)
    except (CheckpointError, KeyError) as exc:
        raise RunInputError(f"init_from.hf {text}: {exc}") from None
    return InitSource(f"Hugging Face checkpoint {folder}", state)


def _path(text: str, base_dir: Path) -> InitSource:
    path = base_dir / text
    if path.is_dir() and (path / "config.json").is_file():
        return _hf(str(path), base_dir)
    weights = path / "model.safetensors" if path.is_dir() else path
    if weights.suffix != ".safetensors" or not weights.is_file():
        raise RunInputError(f"init_from.path {text}: {weights} is not a .safetensors file (resolved against {base_dir}); "
                            "give a .safetensors file, a folder with model.safetensors, or a Hugging Face folder")
    return InitSource(f"weights {weights}", _safetensors(weights))


def run_dir_of(init: InitFromConfig, compiled: Compiled, target: ExperimentTarget, run: Run, workspace: Path) -> Path:
    """The run-store directory that ``init_from.run`` names (see the module docstring)."""
    from caramba.engine.store.ids import run_ids
    from caramba.engine.store.runs import RunStore, UnknownRun

    store, name = RunStore(workspace), init.target or target.name
    assert init.run is not None
    if init.run == "previous":  # lowering names the exact run wherever seeds are involved, so here
        index = target.runs.index(run)  # the run before this one is the previous run as written
        if index == 0:
            raise RunInputError(f"init_from.run previous: run {run.id!r} is the first run of target {target.name!r}")
        return store.run_dir(run_ids(compiled, target.name)[index - 1])
    try:
        chosen = compiled.manifest.target(name)
    except KeyError:
        raise RunInputError(f"init_from.target {name!r} is not a target of this manifest") from None
    ids = dict(zip((r.id for r in getattr(chosen, "runs", [])), run_ids(compiled, chosen.name)))
    if init.run in ids:
        return store.run_dir(ids[init.run])
    try:
        return Path(store.get(init.run).dir)
    except UnknownRun as exc:
        raise RunInputError(f"init_from.run {init.run!r}: not a run of target {name!r} ({', '.join(ids)}) and {exc}") from None


def _run(init: InitFromConfig, folder: Path) -> InitSource:
    from caramba.engine.store.record import RunRecord
    from caramba.engine.train.checkpoint.files import newest_good

    if not (folder / "status.json").is_file():
        raise RunInputError(f"init_from.run: run {folder.name} has not run yet; run it first (runs of a target run in order)")
    record = RunRecord.load(folder)
    if record.status != "succeeded":
        why = "; ".join(record.reasons) or "no reason recorded"
        raise RunInputError(f"init_from.run: run {record.id} is {record.status} ({why}); start from a succeeded run")
    found = newest_good(folder / "checkpoints", init.checkpoint)
    if found is not None:
        candidate, meta, skipped = found
        passed = f"; skipped {'; '.join(skipped)}" if skipped else ""
        return InitSource(f"run {record.id} checkpoint {candidate.name} (step {meta['step']}{passed})",
                          _safetensors(candidate / "model.safetensors"))
    hint = "set defaults.runtime.save_best" if init.checkpoint == "best" else "it saved no checkpoint"
    raise RunInputError(f"init_from.run: run {record.id} has no good {init.checkpoint} checkpoint ({hint})")


def source_of(init: InitFromConfig, compiled: Compiled, target: ExperimentTarget, run: Run, workspace: Path,
              base_dir: Path) -> InitSource:
    """Resolve ``init`` to its description and state dict (errors are :class:`RunInputError`)."""
    if init.hf is not None:
        return _hf(init.hf, base_dir)
    if init.path is not None:
        return _path(init.path, base_dir)
    return _run(init, run_dir_of(init, compiled, target, run, workspace))


def load_init(model: nn.Module, init: InitFromConfig, source: InitSource) -> LoadReport:
    """Load ``source`` into ``model`` under ``init``'s strictness and key map."""
    from caramba.engine.model.weights import WeightsMismatch

    try:
        return load_weights(model, source.state, init.strict, init.key_map)
    except WeightsMismatch as exc:
        raise RunInputError(f"init_from ({source.description}): {exc}") from None
