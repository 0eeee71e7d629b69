"""Checking a manifest for a tool: the compiler's report plus the workspace's refusals.

``inspect_manifest`` is what every manifest-taking tool calls first. It confines the
``manifest`` argument to the workspace, refuses ``python:`` references that are not
allow-listed (before anything could import them) and ``extends`` links that leave the
workspace, and compiles with :func:`caramba.engine.compiler.check` for the workspace
(which resolves every path field once and refuses paths outside it). The result has the JSON shape of
``caramba validate --format json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from caramba.engine.compiler import Compiled, ManifestError, ManifestInvalid, check
from caramba.engine.compiler.extends import resolve_extends
from caramba.tools.security import Workspace, document_of, extends_errors, python_ref_errors


class ManifestIssue(BaseModel):
    """One problem in a manifest, located so that it can be fixed in one edit."""

    path: str = Field(description="field path, e.g. targets[0].runs[0].train.lr ('' = the whole document)")
    line: int | None = Field(description="1-based line in `file`, when known")
    column: int | None = Field(description="1-based column in `file`, when known")
    message: str = Field(description="what is wrong, including what was expected")
    hint: str = Field(description="how to fix it")
    file: str = Field(description="the file the value came from ('<text>' for manifest text)")
    stage: str = Field(description="checklist stage: syntax, schema, references, limits, dimensions, runs, files, data, comparability")


class ValidationResult(BaseModel):
    """The same JSON as `caramba validate --format json`."""

    ok: bool = Field(description="true when the manifest is valid and may be dry-run or run")
    errors: list[ManifestIssue] = Field(description="every problem found (empty when ok)")


@dataclass
class Inspection:
    """A checked manifest: errors, and the compiled manifest when there are none."""

    source: str
    errors: list[ManifestError] = field(default_factory=list)
    compiled: Compiled | None = None

    def result(self) -> ValidationResult:
        """The tool-facing result."""
        return ValidationResult(ok=not self.errors, errors=[ManifestIssue(**e.to_json()) for e in self.errors])

    def require(self) -> Compiled:
        """The compiled manifest, or a ToolError listing every error (for run/dry-run)."""
        from mcp.server.mcpserver.exceptions import ToolError

        if self.compiled is None or self.errors:
            lines = "\n".join(e.render() for e in self.errors)
            raise ToolError(f"the manifest is invalid ({len(self.errors)} error(s)); fix them (validate_manifest "
                            f"returns them structured) and try again:\n{lines}")
        return self.compiled


def inspect_manifest(ws: Workspace, manifest: str, sets: list[str] | None = None) -> Inspection:
    """Confine, refuse disallowed references, compile (see the module docstring)."""
    source = ws.manifest_source(manifest)
    inspection = Inspection(source)
    document = document_of(source)
    if document is not None:
        inspection.errors += extends_errors(ws, document)
        if inspection.errors:
            return inspection
        try:
            document = resolve_extends(document)
        except ManifestInvalid:
            pass  # check() below reports the broken extends with its location
        inspection.errors += python_ref_errors(ws, document)
        if inspection.errors:
            return inspection
    report = check(source, sets or [], ws.root)  # paths resolved and confined by the compiler
    inspection.errors += report.errors
    if report.compiled is not None:
        inspection.compiled = report.compiled if not inspection.errors else None
    return inspection


def json_safe(data: Any) -> Any:
    """Round-trip through JSON so that tool results hold only JSON types."""
    import json

    return json.loads(json.dumps(data, default=str))
