"""The development process's own tool: ``propose_variant``, given to planning and fixing turns.

A proposal names its changes against the parent manifest (dotted paths → new values,
:mod:`caramba.processes.development.variants`) with the hypothesis it tests and the
result that would refute it. What the tool receives is written to the turn's
``actions["variants"]`` (checkpointed with the turn); the loop turns each into a node and
validates it, so a persona's mistakes come back to it as validator errors in a later turn.
"""

from __future__ import annotations

import re
from typing import Any

from google.adk.tools import FunctionTool

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def propose_variant_tool(actions: dict[str, Any], limit: int) -> FunctionTool:
    """``propose_variant(name, changes, hypothesis, refuted_if)``, at most ``limit`` per turn."""
    variants: list[dict[str, Any]] = actions.setdefault("variants", [])

    def propose_variant(name: str, changes: dict[str, Any], hypothesis: str, refuted_if: str) -> dict[str, Any]:
        """Propose one variant of the parent manifest to test.

        Args:
            name: short name (letters, digits, _ . -).
            changes: dotted manifest paths mapped to their new values, e.g.
                {"vars.lr": 0.01} or {"targets.0.runs.0.train.batch_size": 16}.
            hypothesis: what the change should do to the goal metric, and why.
            refuted_if: the result that would show the hypothesis wrong.
        """
        if not NAME.match(name):
            return {"ok": False, "error": f"name {name!r} may hold only letters, digits, _ . - (at most 40)"}
        if not isinstance(changes, dict) or not changes:
            return {"ok": False, "error": "changes must map at least one dotted path to its new value, e.g. {\"vars.lr\": 0.01}"}
        if len(variants) >= limit:
            return {"ok": False, "error": f"{limit} variant(s) are proposed already, the most one turn takes"}
        variants.append({"name": name, "changes": dict(changes), "hypothesis": hypothesis, "refuted_if": refuted_if})
        return {"ok": True, "proposed": len(variants),
                "note": "it is validated, dry-run and piloted after your turn; errors come back to you"}

    return FunctionTool(propose_variant)
