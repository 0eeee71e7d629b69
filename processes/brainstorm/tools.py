"""The moderator's process tools, given only to the turns that need them: ``end_discussion``
(round summaries) and ``record_proposal`` (closing). What they receive is written to the
turn's ``actions`` and checkpointed. (Authors get :mod:`caramba.agents.manifests.submit`.)
"""

from __future__ import annotations

import re
from typing import Any

from google.adk.tools import FunctionTool

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
