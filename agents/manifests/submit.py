"""``submit_manifest(manifest)``: how an agent hands in a manifest, validated at once.

A plain ADK function tool given only to the turns that write a manifest. It validates
the text through the real MCP ``validate_manifest`` tool (the session's own client) and
returns the structured errors at once, so the author can fix them in the same turn;
the last submission and its validation are written to the turn's ``actions``.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from google.adk.tools import FunctionTool

CallTool = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def submit_manifest_tool(actions: dict[str, Any], call_tool: CallTool) -> FunctionTool:
    """``submit_manifest(manifest)`` writing into ``actions``; ``call_tool`` reaches MCP."""

    async def submit_manifest(manifest: str) -> dict[str, Any]:
        """Submit the proposal's manifest (complete YAML text). It is validated at once;
        when errors come back, fix them and submit again. The last submission counts.

        Args:
            manifest: the complete manifest YAML text.
        """
        result = await validate(manifest, call_tool)
        actions["manifest"] = manifest
        actions["validation"] = result
        actions["submissions"] = actions.get("submissions", 0) + 1
        return result

    return FunctionTool(submit_manifest)


async def validate(manifest: str, call_tool: CallTool) -> dict[str, Any]:
    """``{ok, errors}`` of ``validate_manifest``; a one-line text (a name, a path) is refused."""
    if "\n" not in manifest.strip():
        return {"ok": False, "errors": [{"path": "", "line": None, "message": "submit the complete manifest YAML "
                                         "text, not a name or a path", "hint": "pass the YAML document itself"}]}
    return await call_tool("validate_manifest", {"manifest": manifest})
