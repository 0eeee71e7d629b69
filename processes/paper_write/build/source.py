"""Where a paper's results come from: a comparison manifest, a list of run ids, or a development session.

:class:`Source` names one of the three; :func:`resolve` turns it into the arms the engine's
comparison code analyses (``caramba.engine.bench.compare``), read from the workspace's
run store — never from anything a model wrote.

* **manifest** (``Source.from_manifest("cmp.yml")``): the manifest is compiled; its arms
  are its ``comparison:`` block (else every experiment target), their runs the ids the
  manifest gives them, exactly as ``caramba compare cmp.yml`` finds them. Every run must
  have succeeded (``caramba run cmp.yml`` first).
* **runs** (``Source.from_runs(["mha-train-s1-…", …])``): the runs group into arms by
  target, seeds being replicates (``caramba compare ID ID …``).
* **session** (``Source.from_session(folder)``): a development session folder and its
  ``tree.json`` (:mod:`caramba.processes.development.tree`): the root node is the
  baseline arm, every ``done`` node another arm (its ``run_ids`` are its seeds). The
  session's goal gives the question and the primary metric; each node's hypothesis and
  manifest diff become the arm's note.

``Source.of(value)`` accepts a ``Source``, a folder (session), a ``.yml``/``.yaml`` file
(manifest) or a list of run ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from caramba.engine.bench.compare import Arm, ComparisonInputError, arms_of_manifest, arms_of_runs
from caramba.engine.store import RunStore
from caramba.engine.store.runs import UnknownRun


class SourceError(ValueError):
    """The source cannot give results (missing file, unknown run, unfinished runs, bad tree.json)."""


@dataclass(frozen=True)
class Source:
    """A session folder, a manifest file or run ids (module docstring); build with the ``from_*`` methods."""

    kind: Literal["session", "manifest", "runs"]
    path: Path | None = None
    run_ids: tuple[str, ...] = ()

    @classmethod
    def from_session(cls, folder: str | Path) -> "Source":
        """A development session folder (it holds ``tree.json``)."""
        return cls("session", Path(folder))

    @classmethod
    def from_manifest(cls, file: str | Path) -> "Source":
        """A comparison manifest whose runs are in the run store."""
        return cls("manifest", Path(file))

    @classmethod
    def from_runs(cls, run_ids: list[str] | tuple[str, ...]) -> "Source":
        """Run ids (or unique prefixes) of two or more arms."""
        return cls("runs", None, tuple(run_ids))

    @classmethod
    def of(cls, value: "Source | str | Path | list[str] | tuple[str, ...]") -> "Source":
        """A :class:`Source` from a Source, a folder, a manifest path or a list of run ids."""
        if isinstance(value, Source):
            return value
        if isinstance(value, (list, tuple)):
            return cls.from_runs([str(v) for v in value])
        path = Path(value)
        if path.is_dir():
            return cls.from_session(path)
        if path.suffix in (".yml", ".yaml"):
            return cls.from_manifest(path)
        raise SourceError(f"{value!s}: neither a session folder nor a .yml manifest; give a development session "
                          "folder (with tree.json), a comparison manifest, or a list of run ids")


@dataclass
class Resolved:
    """A source turned into arms, with what the paper says about them and how to reproduce them."""

    arms: list[Arm]
    spec: Any = None
    question: str = ""
    notes: dict[str, str] = field(default_factory=dict)
    manifest_files: dict[str, Path] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)


def resolve(source: Source, workspace: Path) -> Resolved:
    """The arms of ``source`` from the run store of ``workspace`` (module docstring); :class:`SourceError` if it cannot."""
    store = RunStore(workspace)
    try:
        if source.kind == "manifest":
            return _manifest(source.path, workspace, store)  # type: ignore[arg-type]
        if source.kind == "runs":
            records = [store.get(r) for r in source.run_ids]
            arms = arms_of_runs(records)
            return Resolved(arms, commands=[f"caramba compare {' '.join(r.id for r in records)}"])
        from caramba.processes.paper_write.build.session import session_arms

        return session_arms(source.path, store)  # type: ignore[arg-type]
    except (ComparisonInputError, UnknownRun) as exc:
        raise SourceError(str(exc)) from None


def _manifest(path: Path, workspace: Path, store: RunStore) -> Resolved:
    from caramba.engine.compiler import ManifestInvalid, compile_manifest

    if not path.is_file():
        raise SourceError(f"manifest {path} does not exist; give the comparison manifest the runs were made from")
    try:
        compiled = compile_manifest(path, workspace=workspace)
    except ManifestInvalid as exc:
        raise SourceError(f"{path} is not a valid manifest ({len(exc.errors)} error(s)): {exc.errors[0]}; "
                          f"run: caramba validate {path}") from None
    arms = arms_of_manifest(compiled, store)
    spec = compiled.manifest.comparison
    name = path.name if path.parent.resolve() == workspace.resolve() else str(path)
    return Resolved(arms, spec, spec.question if spec is not None else "", manifest_files={compiled.digest: path},
                    commands=[f"caramba run {name}", f"caramba compare {name}"])
