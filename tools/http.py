"""Streamable HTTP for the MCP server, with a bearer token beyond loopback.

Bound to a loopback address (127.0.0.1, localhost, ::1) the server is reachable only
from this machine and needs no token (the SDK adds DNS-rebinding protection). Bound to
anything else it refuses to start unless ``mcp.token`` is set in ``caramba.yml``; when
a token is set, every request must carry ``Authorization: Bearer <token>`` whatever the
address.
"""

from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable

from mcp.server.mcpserver import MCPServer

LOOPBACK = ("127.0.0.1", "localhost", "::1")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BindRefused(Exception):
    """Binding beyond loopback without a token."""


class BearerToken:
    """ASGI middleware: HTTP requests without the right bearer token get 401."""

    def __init__(self, app: App, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body",
                            "body": b'{"error": "missing or wrong bearer token (Authorization: Bearer <mcp.token>)"}'})
                return
        await self.app(scope, receive, send)


def http_app(server: MCPServer, host: str, token: str | None) -> App:
    """The streamable-HTTP ASGI app at ``/mcp``, token-checked when ``token`` is set."""
    if host not in LOOPBACK and not token:
        raise BindRefused(f"refusing to serve MCP on {host}: beyond 127.0.0.1 a bearer token is required; set mcp.token "
                          "in caramba.yml (clients send Authorization: Bearer <token>), or bind --host 127.0.0.1")
    app: App = server.streamable_http_app(host=host)
    return BearerToken(app, token) if token else app


def serve_http(server: MCPServer, host: str, port: int, token: str | None) -> None:
    """Serve until interrupted (uvicorn; logs on stderr)."""
    import uvicorn

    uvicorn.run(http_app(server, host, token), host=host, port=port, log_level="warning")
