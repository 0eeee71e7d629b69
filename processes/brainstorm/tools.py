"""Process tools: how the moderator steers and authors hand in manifests.

These are plain ADK function tools, given only for the turn that needs them (besides
the persona's MCP tools): ``end_discussion`` in the moderator's round summaries,
``record_proposal`` in its closing turn, ``submit_manifest`` in an author's manifest
turn. Whatever they receive is written to the turn's ``actions`` and checkpointed.
``submit_manifest`` validates through the real MCP ``validate_manifest`` tool and
returns the structured errors at once, so an author can fix them in the same turn.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable

from google.adk.tools import FunctionTool

Validate = Callable[[str], Awaitable[dict[str, Any]]]
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def end_discussion_tool(actions: dict[str, Any]) -> FunctionTool:
    """``end_discussion(reason)``: skip the remaining rounds."""

    def end_discussion(reason: str) -> dict[str, Any]:
        """End the discussion after this summary and go straight to proposals.

        Args:
            reason: why the discussion has converged.
        """
        actions["end_discussion"] = reason
        return {"ok": True, "note": "the discussion ends after your summary"}

    return FunctionTool(end_discussion)


def record_proposal_tool(actions: dict[str, Any], authors: list[str], limit: int) -> FunctionTool:
    """``record_proposal(...)``: add one experiment proposal (checked, at most ``limit``)."""
    proposals: list[dict[str, str]] = actions.setdefault("proposals", [])

    def record_proposal(name: str, author: str, hypothesis: str, refuted_if: str) -> dict[str, Any]:
        """Record one concrete experiment proposal; its author then writes its manifest.

        Args:
            name: short experiment name (letters, digits, _ . -), unique in this session.
            author: the participant role who writes the manifest.
            hypothesis: the claim the experiment tests, with the metric that decides.
            refuted_if: the result that would refute the hypothesis.
        """
        if not NAME.match(name):
            return {"ok": False, "error": f"name {name!r} may hold only letters, digits, _ . -"}
        if author not in authors:
            return {"ok": False, "error": f"author {author!r} is not a participant; choose one of {authors}"}
        if any(p["name"] == name for p in proposals):
            return {"ok": False, "error": f"a proposal named {name!r} is already recorded; choose another name"}
        if len(proposals) >= limit:
            return {"ok": False, "error": f"{limit} proposals are recorded already, the most this session takes"}
        proposals.append({"name": name, "author": author, "hypothesis": hypothesis, "refuted_if": refuted_if})
        return {"ok": True, "recorded": len(proposals)}

    return FunctionTool(record_proposal)


def submit_manifest_tool(actions: dict[str, Any], validate: Validate) -> FunctionTool:
    """``submit_manifest(manifest)``: hand in a manifest; returns the validation result."""

    async def submit_manifest(manifest: str) -> dict[str, Any]:
        """Submit the proposal's manifest (complete YAML text). It is validated at once;
        when errors come back, fix them and submit again. The last submission counts.

        Args:
            manifest: the complete manifest YAML text.
        """
        result = await validate(manifest)
        actions["manifest"] = manifest
        actions["validation"] = result
        actions["submissions"] = actions.get("submissions", 0) + 1
        return result

    return FunctionTool(submit_manifest)
