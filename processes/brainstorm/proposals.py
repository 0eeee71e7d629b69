"""From proposals to manifests that validate, dry-run and run where they are saved.

For each proposal the author gets a manifest turn with ``submit_manifest``; the last
submission is validated through the MCP ``validate_manifest`` tool. While it is invalid
the author gets another turn holding the structured errors and the previous manifest,
up to ``max_attempts`` turns; then the proposal is marked failed with the reason (it is
reported, never silently dropped). A valid manifest is dry-run through
``dry_run_manifest`` and saved runnable as ``proposals/NN_<name>.yml``
(:func:`~caramba.agents.manifests.save.save_runnable`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from caramba.agents.manifests.costs import compact_plan
from caramba.agents.manifests.save import save_runnable
from caramba.agents.manifests.submit import submit_manifest_tool
from caramba.processes.brainstorm.prompts import manifest_task

if TYPE_CHECKING:
    from caramba.processes.brainstorm.process import Brainstorm


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


async def write_manifests(host: Brainstorm) -> None:
    """Run the loop of the module docstring for every pending proposal."""
    for proposal in host.proposals:
        while proposal.status == "pending":
            if proposal.attempts >= host.max_attempts:
                first = proposal.errors[0]["message"] if proposal.errors else "no manifest"
                proposal.status, proposal.reason = "failed", f"still invalid after {proposal.attempts} attempt(s): {first}"
                host.checkpoint()
                break
            attempt = proposal.attempts + 1
            record = await host.turn(f"proposal-{proposal.index}.attempt-{attempt}", proposal.author, "manifest", 0,
                                     manifest_task(proposal, attempt, host.max_attempts),
                                     lambda actions: [submit_manifest_tool(actions, host.call_tool)])
            proposal.attempts = attempt
            await _judge(host, proposal, record.actions)
            host.checkpoint()


async def _judge(host: Brainstorm, proposal: Proposal, actions: dict[str, Any]) -> None:
    """Take the turn's last submission: errors for the next attempt, or dry-run and save."""
    manifest = actions.get("manifest")
    if manifest is None:
        proposal.errors = [{"path": "", "line": None, "message": "no manifest was submitted in this turn",
                            "hint": "call submit_manifest(manifest=<the complete YAML text>)"}]
        return
    proposal.manifest = manifest
    if not actions["validation"]["ok"]:
        proposal.errors = actions["validation"]["errors"]
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
    proposal.dry_run = [compact_plan(plan) for plan in result["targets"]]
    proposal.errors, proposal.status, proposal.file = [], "valid", relative
