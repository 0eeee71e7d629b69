"""From proposals to manifests that validate, dry-run and run where they are saved.

For each proposal the author gets a manifest turn with ``submit_manifest``; the last
submission is validated through the MCP ``validate_manifest`` tool. While it is invalid
the author gets another turn holding the structured errors and the previous manifest,
up to ``max_attempts`` turns; then the proposal is marked failed with the reason (it is
reported, never silently dropped). A valid manifest is dry-run through
``dry_run_manifest`` and saved as ``proposals/NN_<name>.yml``.

The agent wrote the manifest against the workspace (``data.npy`` means the workspace's
file) but it is saved in the session folder, and manifest paths resolve against the
manifest's own folder. Saving therefore rewrites every relative file path
(:data:`PATH_KEYS`) to reach the same file from the saved location, and compiles the
saved file once more; a manifest that does not compile where it is saved is a failed
proposal, with the errors.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import yaml

from caramba.engine.store.atomic import write_text
from caramba.processes.brainstorm.prompts import manifest_task
from caramba.processes.brainstorm.tools import submit_manifest_tool

#: Dry-run fields kept per target (the full plan is large; these make the cost table).
PLAN_FIELDS = ("target", "type", "params_total", "params_trainable", "tokens_total", "kv_bytes_per_token", "device")
RUN_FIELDS = ("id", "steps", "tokens", "flops_per_token", "memory_bytes")
#: Manifest keys whose values are file paths relative to the manifest (as the MCP front checks them).
PATH_KEYS = frozenset({"path", "teacher_ckpt"})
NOT_LOCAL = ("hf://", "http://", "https://")


@dataclass
class Proposal:
    """One proposed experiment and what became of its manifest."""

    index: int
    name: str
    author: str
    hypothesis: str
    refuted_if: str
    status: str = "pending"  # pending | valid | failed
    attempts: int = 0
    manifest: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: list[dict[str, Any]] = field(default_factory=list)
    file: str | None = None
    reason: str = ""


class Host(Protocol):
    """What the proposal loop needs: turns, MCP tools, the checkpoint, the folders."""

    folder: Path
    workspace: Path
    max_attempts: int
    proposals: list[Proposal]

    async def turn(self, turn_id: str, role: str, kind: str, round_: int, task: str,
                   tools: Callable[[dict[str, Any]], list[Any]]) -> Any: ...

    async def call_tool(self, tool: str, args: dict[str, Any]) -> dict[str, Any]: ...

    def checkpoint(self) -> None: ...


async def write_manifests(host: Host) -> None:
    """Run the loop of the module docstring for every pending proposal."""
    for proposal in host.proposals:
        while proposal.status == "pending":
            if proposal.attempts >= host.max_attempts:
                first = proposal.errors[0]["message"] if proposal.errors else "no manifest"
                proposal.status = "failed"
                proposal.reason = f"still invalid after {proposal.attempts} attempt(s): {first}"
                host.checkpoint()
                break
            attempt = proposal.attempts + 1
            validate = _validator(host)
            record = await host.turn(f"proposal-{proposal.index}.attempt-{attempt}", proposal.author, "manifest", 0,
                                     manifest_task(proposal, attempt, host.max_attempts),
                                     lambda actions: [submit_manifest_tool(actions, validate)])
            proposal.attempts = attempt
            await _judge(host, proposal, record.actions)
            host.checkpoint()


def _validator(host: Host) -> Callable[[str], Any]:
    async def validate(manifest: str) -> dict[str, Any]:
        if "\n" not in manifest.strip():
            return {"ok": False, "errors": [{"path": "", "line": None, "message": "submit the complete manifest YAML "
                                             "text, not a name or a path", "hint": "pass the YAML document itself"}]}
        return await host.call_tool("validate_manifest", {"manifest": manifest})

    return validate


async def _judge(host: Host, proposal: Proposal, actions: dict[str, Any]) -> None:
    """Take the turn's last submission: errors for the next attempt, or dry-run and save."""
    manifest = actions.get("manifest")
    if manifest is None:
        proposal.errors = [{"path": "", "line": None, "message": "no manifest was submitted in this turn",
                            "hint": "call submit_manifest(manifest=<the complete YAML text>)"}]
        return
    proposal.manifest = manifest
    validation = actions["validation"]
    if not validation["ok"]:
        proposal.errors = validation["errors"]
        return
    result = await host.call_tool("dry_run_manifest", {"manifest": manifest})
    if not result["ok"]:
        proposal.errors = result["errors"]
        return
    relative = f"proposals/{proposal.index:02d}_{proposal.name}.yml"
    errors = await asyncio.to_thread(save_runnable, manifest, host.folder / relative, host.workspace)
    if errors:
        proposal.errors = errors
        return
    proposal.dry_run = [_compact(plan) for plan in result["targets"]]
    proposal.errors, proposal.status, proposal.file = [], "valid", relative


def save_runnable(manifest: str, file: Path, workspace: Path) -> list[dict[str, Any]]:
    """Write ``manifest`` at ``file`` with its paths rewritten; the errors of compiling it there."""
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.compiler.errors import ManifestInvalid

    document = yaml.safe_load(manifest)
    changed = _rewrite_paths(document, file.parent, workspace)
    write_text(file, yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120) if changed else manifest)
    try:
        compile_manifest(str(file), [])
    except ManifestInvalid as exc:
        file.unlink()
        return [{"path": e.path, "line": e.line, "message": f"saved as {file.name}: {e.message}", "hint": e.hint}
                for e in exc.errors]
    return []


def _rewrite_paths(node: Any, folder: Path, workspace: Path) -> bool:
    """Rewrite relative file paths in place (see the module docstring); True if any changed."""
    changed = False
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in list(items):
        if key in PATH_KEYS and isinstance(value, str) and value and not value.startswith(NOT_LOCAL) \
                and "${" not in value and not os.path.isabs(value):
            node[key] = os.path.relpath(workspace / value, folder)
            changed = True
        elif isinstance(value, (dict, list)):
            changed = _rewrite_paths(value, folder, workspace) or changed
    return changed


def _compact(plan: dict[str, Any]) -> dict[str, Any]:
    out = {k: plan.get(k) for k in PLAN_FIELDS}
    out["runs"] = [{k: run.get(k) for k in RUN_FIELDS} for run in plan.get("runs", [])]
    return out
