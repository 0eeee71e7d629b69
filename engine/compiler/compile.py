"""The compiler front door: parse → extends → --set → vars → schema → checks → lower.

``check`` never raises for a bad manifest: it returns a :class:`Report` (the checklist
and every error). ``compile_manifest`` returns a :class:`Compiled` manifest or raises
:class:`ManifestInvalid`. Both accept a file path or YAML text.

With a ``workspace`` (the fronts pass theirs: the CLI its current directory, the MCP
server its root), the limits of its ``caramba.yml`` apply and the ``files`` stage runs:
every path field is resolved once (``compiler/paths.py``), confined and checked, token
files are read for their vocabulary, and the compiled manifest carries the resolved
absolute paths the run then uses. Without one (library use), default limits apply and
the ``files`` stage is reported as skipped; ``execute`` binds such a manifest to its
workspace before anything runs (:func:`bind_workspace`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.checks.comparability import check_comparability
from caramba.engine.compiler.checks.comparison import check_comparison
from caramba.engine.compiler.checks.data import check_data
from caramba.engine.compiler.checks.dimensions import check_dimensions
from caramba.engine.compiler.checks.files import check_files
from caramba.engine.compiler.checks.fit import check_fit
from caramba.engine.compiler.checks.limits import check_limits
from caramba.engine.compiler.checks.runs import check_runs
from caramba.engine.compiler.checks.upcycle import check_upcycle
from caramba.engine.compiler.checks.weights import check_starting_weights
from caramba.engine.compiler.errors import STAGES, ManifestError, ManifestInvalid, format_path
from caramba.engine.compiler.extends import resolve_extends
from caramba.engine.compiler.lower import lower
from caramba.engine.compiler.overrides import apply_overrides
from caramba.engine.compiler.paths import Roots, bind, resolve_paths
from caramba.engine.compiler.schema import validate_schema
from caramba.engine.compiler.source import Document, load
from caramba.engine.compiler.variables import Substitution
from caramba.engine.manifest import Manifest

CHECKS: list[tuple[str, Callable[[Manifest], list[Issue]]]] = [
    ("dimensions", check_dimensions),
    ("runs", check_runs),
    ("runs", check_starting_weights),
    ("runs", check_fit),
    ("runs", check_upcycle),
]


@dataclass
class Report:
    """The outcome of checking a manifest: a checklist per stage and every error."""

    errors: list[ManifestError] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    compiled: "Compiled | None" = None

    @property
    def ok(self) -> bool:
        """True when no stage reported an error."""
        return not self.errors

    def stage_status(self, stage: str) -> str:
        """``ok``, ``failed`` or ``skipped`` (an earlier stage failed) for a checklist stage."""
        if any(e.stage == stage for e in self.errors):
            return "failed"
        return "ok" if stage in self.checked else "skipped"

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "errors": [...], "checklist": {stage: status}}``."""
        return {"ok": self.ok, "errors": [e.to_json() for e in self.errors],
                "checklist": {s: self.stage_status(s) for s in STAGES}}


@dataclass
class Compiled:
    """A valid, lowered manifest and where it came from."""

    manifest: Manifest
    resolved: dict[str, Any]
    file: str
    base_dir: Path
    workspace: Path | None = None

    @property
    def digest(self) -> str:
        """sha256 of the resolved manifest (canonical JSON): the manifest hash of artifacts."""
        import hashlib

        return hashlib.sha256(json.dumps(self.resolved, sort_keys=True, default=str).encode()).hexdigest()


def read_source(source: str | Path | bytes) -> tuple[bytes | str, str]:
    """A path (existing file) or YAML text → (raw content, file label)."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith((".yml", ".yaml"))):
        path = Path(source)
        if not path.is_file():
            raise ManifestInvalid([ManifestError("syntax", "", f"manifest file {str(path)!r} does not exist",
                                                 "check the path, or list presets with `caramba presets`", str(path))])
        return path.read_bytes(), str(path)
    return source, "<text>"


def check(source: str | Path | bytes, sets: list[str] | tuple[str, ...] = (), workspace: Path | None = None) -> Report:
    """Run every stage that can run; collect all errors (see the module docstring)."""
    report = Report()
    try:
        raw, file = read_source(source)
        document = resolve_extends(load(raw, file))
        apply_overrides(document, list(sets))
        settings = _settings(workspace)
    except ManifestInvalid as exc:
        report.errors = exc.errors
        return report
    report.checked.add("syntax")
    substitution = Substitution(document)
    data = substitution.run()
    report.errors += substitution.errors
    manifest, schema_errors = validate_schema(document, data)
    broken = {e.path for e in substitution.errors}
    report.errors += [e for e in schema_errors if e.path not in broken]
    report.checked |= {"schema", "references"}
    if manifest is None or report.errors:
        return report
    report.checked.add("limits")
    report.errors += [_locate(document, "limits", i) for i in check_limits(manifest, settings.limits)]
    if report.errors:
        return report
    for stage, check_fn in CHECKS:
        report.checked.add(stage)
        report.errors += [_locate(document, stage, issue) for issue in check_fn(manifest)]
    bounds: dict[int, int] = {}
    base = base_folder(file, workspace)
    if workspace is not None:
        report.checked.add("files")
        roots = _roots(workspace, settings.data_roots)
        resolved, issues = resolve_paths(manifest, base, roots)
        if not issues:
            bounds, issues = check_files(manifest, resolved, workspace / ".caramba" / "cache")
        report.errors += [_locate(document, "files", issue) for issue in issues]
    report.checked.add("data")
    report.errors += [_locate(document, "data", issue) for issue in check_data(manifest, bounds)]
    report.checked.add("comparability")
    report.errors += [_locate(document, "comparability", issue) for issue in check_comparability(manifest) + check_comparison(manifest)]
    if not report.errors:
        lowered = lower(manifest)
        report.compiled = Compiled(lowered, lowered.model_dump(mode="json"), file, base, workspace)
        if workspace is not None:
            bind(lowered, resolve_paths(lowered, base, _roots(workspace, settings.data_roots))[0])
    return report


def base_folder(file: str, workspace: Path | None) -> Path:
    """Where a manifest's relative paths resolve: its folder; for manifest text and caramba's
    own presets (``path: data.npy`` means *your* data.npy), the workspace."""
    from caramba.engine.compiler.extends import PRESETS_DIR

    here = workspace or Path.cwd()
    if file in ("<text>", "--set"):
        return here.resolve()
    folder = Path(file).resolve().parent
    return here.resolve() if folder == PRESETS_DIR.resolve() else folder


def bind_workspace(compiled: Compiled, workspace: Path) -> Compiled:
    """``compiled`` checked against ``workspace`` (its limits, the ``files`` and ``data``
    stages) with the resolved paths bound; raises :class:`ManifestInvalid`. Returns
    ``compiled`` itself when it was compiled for that workspace."""
    if compiled.workspace is not None and compiled.workspace.resolve() == workspace.resolve():
        return compiled
    settings = _settings(workspace)
    manifest = compiled.manifest.model_copy(deep=True)
    roots = _roots(workspace, settings.data_roots)
    issues = [("limits", i) for i in check_limits(manifest, settings.limits)]
    resolved, found = resolve_paths(manifest, compiled.base_dir, roots)
    issues += [("files", i) for i in found]
    if not issues:
        bounds, found = check_files(manifest, resolved, workspace / ".caramba" / "cache")
        issues += [("files", i) for i in found] + [("data", i) for i in check_data(manifest, bounds)]
    if issues:
        raise ManifestInvalid([ManifestError(stage, format_path(i.path), i.message, i.hint, compiled.file) for stage, i in issues])
    bind(manifest, resolved)
    return Compiled(manifest, compiled.resolved, compiled.file, compiled.base_dir, workspace)


def _settings(workspace: Path | None) -> Any:
    from caramba.workspace.config import WorkspaceConfig, load_workspace

    return load_workspace(workspace) if workspace is not None else WorkspaceConfig()


def _roots(workspace: Path, data_roots: list[str]) -> Roots:
    root = workspace.resolve()
    return Roots(root, tuple((root / r).resolve() for r in data_roots))


def compile_manifest(source: str | Path | bytes, sets: list[str] | tuple[str, ...] = (), workspace: Path | None = None) -> Compiled:
    """Compile or raise :class:`ManifestInvalid` with every error."""
    report = check(source, sets, workspace)
    if report.compiled is None:
        raise ManifestInvalid(report.errors)
    return report.compiled


def _locate(document: Document, stage: str, issue: Issue) -> ManifestError:
    pos = document.position(issue.path)
    return ManifestError(stage, format_path(issue.path), issue.message, issue.hint, pos.file, pos.line, pos.column)
