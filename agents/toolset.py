"""caramba's MCP tools for agents: one ``McpToolset`` on ``caramba mcp``, filtered per agent.

The server is started as a stdio subprocess (``python -m caramba mcp --workspace W``) or
reached over streamable HTTP at a running ``caramba mcp --transport http``. All agents
of a session share one toolset, hence one server process; :class:`AllowList` is the
toolset's ``tool_filter`` and shows each agent (by its name, the team role) only the
tools its persona file allows. :func:`check_allow_lists` runs at session start and
names every tool a persona lists that the server does not have.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caramba.agents.errors import AgentSetupError
from caramba.agents.persona import Persona

#: Seconds to wait for the server to start and for one tool call (dry runs build models).
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class McpConnection:
    """How to reach ``caramba mcp``: a stdio subprocess in ``workspace``, or ``url``."""

    workspace: Path
    url: str | None = None
    token: str | None = None
    timeout_s: float = TIMEOUT_S

    def stdio_params(self) -> Any:
        """``StdioServerParameters`` of the subprocess."""
        from mcp import StdioServerParameters

        return StdioServerParameters(command=sys.executable,
                                     args=["-m", "caramba", "mcp", "--workspace", str(self.workspace)])

    def adk_params(self) -> Any:
        """ADK connection parameters (stdio or streamable HTTP)."""
        from google.adk.tools.mcp_tool import StdioConnectionParams, StreamableHTTPConnectionParams

        if self.url is None:
            return StdioConnectionParams(server_params=self.stdio_params(), timeout=self.timeout_s)
        # ADK probes Google application-default credentials (and the GCE metadata server)
        # for mTLS on every HTTP MCP connection; caramba's server is not a Google API.
        os.environ.setdefault("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        return StreamableHTTPConnectionParams(url=self.url, headers=headers, timeout=self.timeout_s)

    def client(self) -> Any:
        """An ``mcp.Client`` for the process's own calls (validation, dry runs)."""
        from mcp import Client

        if self.url is None:
            return Client(self.stdio_params(), read_timeout_seconds=self.timeout_s)
        if self.token:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token}"},
                                      timeout=httpx2.Timeout(30.0, read=self.timeout_s))
            return Client(streamable_http_client(self.url, http_client=http), read_timeout_seconds=self.timeout_s)
        return Client(self.url, read_timeout_seconds=self.timeout_s)


class AllowList:
    """``tool_filter`` of the shared toolset: agent name → allowed tool names."""

    def __init__(self, allowed: dict[str, list[str]]) -> None:
        self.allowed = {role: frozenset(names) for role, names in allowed.items()}

    def __call__(self, tool: Any, readonly_context: Any = None) -> bool:
        if readonly_context is None:  # listing for the start-up check: every tool
            return True
        return tool.name in self.allowed.get(readonly_context.agent_name, frozenset())


def build_toolset(connection: McpConnection, personas: dict[str, Persona]) -> Any:
    """The shared ``McpToolset`` (roles → personas give the allow-lists)."""
    from google.adk.tools.mcp_tool import McpToolset

    return McpToolset(connection_params=connection.adk_params(),
                      tool_filter=AllowList({role: p.tools for role, p in personas.items()}),
                      tool_list_cache_ttl_seconds=3600)


def check_allow_lists(personas: dict[str, Persona], server_tools: list[str]) -> None:
    """Raise one AgentSetupError naming every listed tool the server lacks."""
    problems = []
    for persona in {p.name: p for p in personas.values()}.values():
        for tool in persona.tools:
            if tool not in server_tools:
                close = difflib.get_close_matches(tool, server_tools, n=1)
                problems.append(f"persona {persona.name}: tool {tool!r} is not served"
                                + (f" (did you mean {close[0]!r}?)" if close else ""))
    if problems:
        raise AgentSetupError("; ".join(problems), f"the server's tools: {', '.join(sorted(server_tools))} "
                                                   "(code-graph tools need the code-graph component and a synced graph)")
