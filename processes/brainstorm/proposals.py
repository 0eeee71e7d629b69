"""From proposals to manifests that validate and dry-run, fixed in a bounded loop.

For each proposal the author gets a manifest turn with ``submit_manifest``; the last
submission is validated through the MCP ``validate_manifest`` tool. While it is invalid
the author gets another turn holding the structured errors and the previous manifest,
up to ``max_attempts`` turns; then the proposal is marked failed with the reason (it is
reported, never silently dropped). A valid manifest is dry-run through
``dry_run_manifest`` and saved as ``proposals/NN_<name>.yml``.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from caramba.engine.store.atomic import write_text
from caramba.processes.brainstorm.prompts import manifest_task
from caramba.processes.brainstorm.state import Proposal, SessionState, TurnRecord
from caramba.processes.brainstorm.tools import submit_manifest_tool

#: Dry-run fields kept per target (the full plan is large; these make the cost table).
PLAN_FIELDS = ("target", "type", "params_total", "params_trainable", "tokens_total", "kv_bytes_per_token", "device")
RUN_FIELDS = ("id", "steps", "tokens", "flops_per_token", "memory_bytes")


class Host(Protocol):
    """What the proposal loop needs from the session."""

    state: SessionState
    max_attempts: int

    async def turn(self, turn_id: str, role: str, kind: str, round_: int, task: str,
                   tools: Callable[[dict[str, Any]], list[Any]]) -> TurnRecord: ...

    async def validate(self, manifest: str) -> dict[str, Any]: ...

    async def dry_run(self, manifest: str) -> dict[str, Any]: ...

    def checkpoint(self) -> None: ...

    def save_manifest(self, proposal: Proposal) -> str: ...


async def write_manifests(host: Host) -> None:
    """Run the loop of the module docstring for every pending proposal."""
    for proposal in host.state.proposals:
        while proposal.status == "pending":
            if proposal.attempts >= host.max_attempts:
                first = proposal.errors[0]["message"] if proposal.errors else "no manifest"
                proposal.status = "failed"
                proposal.reason = f"still invalid after {proposal.attempts} attempt(s): {first}"
                host.checkpoint()
                break
            attempt = proposal.attempts + 1
            record = await host.turn(f"proposal-{proposal.index}.attempt-{attempt}", proposal.author, "manifest", 0,
                                     manifest_task(proposal, attempt, host.max_attempts),
                                     lambda actions: [submit_manifest_tool(actions, host.validate)])
            proposal.attempts = attempt
            await _judge(host, proposal, record)
            host.checkpoint()


async def _judge(host: Host, proposal: Proposal, record: TurnRecord) -> None:
    """Take the turn's last submission: errors for the next attempt, or dry-run and save."""
    manifest = record.actions.get("manifest")
    if manifest is None:
        proposal.errors = [{"path": "", "line": None, "message": "no manifest was submitted in this turn",
                            "hint": "call submit_manifest(manifest=<the complete YAML text>)"}]
        return
    proposal.manifest = manifest
    validation = record.actions["validation"]
    if not validation["ok"]:
        proposal.errors = validation["errors"]
        return
    result = await host.dry_run(manifest)
    if not result["ok"]:
        proposal.errors = result["errors"]
        return
    proposal.dry_run = [_compact(plan) for plan in result["targets"]]
    proposal.errors = []
    proposal.status = "valid"
    proposal.file = host.save_manifest(proposal)


def _compact(plan: dict[str, Any]) -> dict[str, Any]:
    out = {k: plan.get(k) for k in PLAN_FIELDS}
    out["runs"] = [{k: run.get(k) for k in RUN_FIELDS} for run in plan.get("runs", [])]
    return out


def manifest_file(proposal: Proposal) -> str:
    """``proposals/NN_<name>.yml``."""
    return f"proposals/{proposal.index:02d}_{proposal.name}.yml"


def save(folder: Any, proposal: Proposal) -> str:
    """Write the proposal's manifest; returns its path relative to the session folder."""
    relative = manifest_file(proposal)
    write_text(folder / relative, proposal.manifest or "")
    return relative

