"""The compiler front door: parse → extends → --set → vars → schema → checks → lower.

``check`` never raises for a bad manifest: it returns a :class:`Report` (the checklist
and every error). ``compile_manifest`` returns a :class:`Compiled` manifest or raises
:class:`ManifestInvalid`. Both accept a file path or YAML text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.checks.comparability import check_comparability
from caramba.engine.compiler.checks.comparison import check_comparison
from caramba.engine.compiler.checks.dimensions import check_dimensions
from caramba.engine.compiler.checks.runs import check_runs
from caramba.engine.compiler.checks.weights import check_starting_weights
from caramba.engine.compiler.errors import STAGES, ManifestError, ManifestInvalid, format_path
from caramba.engine.compiler.extends import resolve_extends
from caramba.engine.compiler.lower import lower
from caramba.engine.compiler.overrides import apply_overrides
from caramba.engine.compiler.schema import validate_schema
from caramba.engine.compiler.source import Document, load
from caramba.engine.compiler.variables import Substitution
from caramba.engine.manifest import Manifest

CHECKS: list[tuple[str, Callable[[Manifest], list[Issue]]]] = [
    ("dimensions", check_dimensions),
    ("runs", check_runs),
    ("runs", check_starting_weights),
    ("comparability", check_comparability),
    ("comparability", check_comparison),
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

    @property
    def digest(self) -> str:
        """sha256 of the resolved manifest (canonical JSON): the manifest hash of artifacts."""
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


def check(source: str | Path | bytes, sets: list[str] | tuple[str, ...] = ()) -> Report:
    """Run every stage that can run; collect all errors."""
    report = Report()
    try:
        raw, file = read_source(source)
        document = resolve_extends(load(raw, file))
        apply_overrides(document, list(sets))
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
    for stage, check_fn in CHECKS:
        report.checked.add(stage)
        report.errors += [_locate(document, stage, issue) for issue in check_fn(manifest)]
    if not report.errors:
        lowered = lower(manifest)
        base = Path(file).resolve().parent if file != "<text>" else Path.cwd()
        report.compiled = Compiled(lowered, lowered.model_dump(mode="json"), file, base)
    return report


def compile_manifest(source: str | Path | bytes, sets: list[str] | tuple[str, ...] = ()) -> Compiled:
    """Compile or raise :class:`ManifestInvalid` with every error."""
    report = check(source, sets)
    if report.compiled is None:
        raise ManifestInvalid(report.errors)
    return report.compiled


def _locate(document: Document, stage: str, issue: Issue) -> ManifestError:
    pos = document.position(issue.path)
    return ManifestError(stage, format_path(issue.path), issue.message, issue.hint, pos.file, pos.line, pos.column)
