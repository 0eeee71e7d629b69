"""A scripted OpenAI-compatible chat-completions server for tests and offline demos.

``ScriptedOpenAIServer(script)`` serves ``POST /v1/chat/completions`` on 127.0.0.1 (a
free port unless one is given) from a background thread. Each request is attributed to
a role by the agent name ADK writes into the system message, answered with that role's
next scripted step (:mod:`caramba.agents.testing.script`), and logged in
:attr:`ScriptedOpenAIServer.requests` with the role, model, message count, tool names,
request size, ``max_tokens``, the bearer token it carried, the tool results it
contained, the whole body and the answer (HTTP status and the usage reported). Tests
read the log to check who was asked what, and that the usage a session reports equals
the usage the server sent::

    with ScriptedOpenAIServer(from_adk_script(path)) as server:
        run(... model="openai/scripted", api_base=server.url ...)
        assert session_usage == server.usage_total()

Run it by hand with ``python -m caramba.agents.testing.openai_server SCRIPT.yml
[--port 8000]`` (an ADK-level script, or a server script with ``roles: {role: [steps]}``)
to rehearse a process against a "local model" without any LLM.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from caramba.agents.testing.script import ServerScript, ServerStep

ROLE = re.compile(r'Your internal name is "([A-Za-z_][A-Za-z0-9_]*)"')


@dataclass
class LoggedRequest:
    """One request the server received and what it answered."""

    role: str
    model: str
    messages: int
    tools: list[str]
    bytes: int
    max_tokens: int | None
    token: str | None
    status: int = 200
    usage: dict[str, int] = field(default_factory=dict)
    tool_messages: list[str] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict, repr=False)


class ScriptedOpenAIServer:
    """Serves a :class:`ServerScript` (see the module docstring); a context manager."""

    def __init__(self, script: ServerScript, port: int = 0) -> None:
        self.script = script
        self.queues = {role: list(steps) for role, steps in script.roles.items()}
        self.requests: list[LoggedRequest] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="scripted-openai", daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give LiteLLM as ``api_base`` (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedOpenAIServer":
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def usage_total(self) -> dict[str, int]:
        """Prompt and completion tokens of every successful answer, summed."""
        total = {"prompt_tokens": 0, "completion_tokens": 0}
        for request in self.requests:
            for key in total:
                total[key] += request.usage.get(key, 0)
        return total

    def roles_asked(self) -> list[str]:
        """The role of each request, in order."""
        return [r.role for r in self.requests]

    def answer(self, body: dict[str, Any], token: str | None, size: int) -> tuple[int, dict[str, Any], float]:
        """(HTTP status, JSON body, delay) for one request; logs it."""
        messages = body.get("messages", [])
        system = " ".join(_text(m) for m in messages if m.get("role") == "system")
        match = ROLE.search(system)
        role = match.group(1) if match else "?"
        entry = LoggedRequest(role, str(body.get("model")), len(messages),
                              [t["function"]["name"] for t in body.get("tools") or []], size,
                              body.get("max_tokens") or body.get("max_completion_tokens"), token,
                              tool_messages=[_text(m) for m in messages if m.get("role") == "tool"], body=body)
        with self.lock:
            self.requests.append(entry)
            queue = self.queues.get(role, [])
            step = queue.pop(0) if queue else None
        if step is None:
            entry.status = 500
            return 500, _error(f"the scripted server has no step left for role {role!r}"), 0.0
        if step.status is not None:
            entry.status = step.status
            return step.status, _error(step.body), step.delay_s
        usage = step.usage or self.script.default_usage
        entry.usage = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
        return 200, _completion(body, step, entry.usage, len(self.requests)), step.delay_s


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return content or ""


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "scripted_error", "code": None}}


def _completion(body: dict[str, Any], step: ServerStep, usage: dict[str, int], number: int) -> dict[str, Any]:
    calls = [{"id": f"call_{number}_{i}", "type": "function", "function": {"name": name, "arguments": arguments}}
             for i, (name, arguments) in enumerate(step.tool_calls())]
    message: dict[str, Any] = {"role": "assistant", "content": step.text}
    if calls:
        message["tool_calls"] = calls
    return {"id": f"chatcmpl-{number}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}}


def _handler(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, _error(f"no route {self.path}; the scripted server serves /v1/chat/completions"))
                return
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization") or ""
            status, payload, delay = server.answer(json.loads(raw), auth.removeprefix("Bearer ") or None, len(raw))
            time.sleep(delay)
            self._send(status, payload)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            return

    return Handler


def main() -> None:
    """``python -m caramba.agents.testing.openai_server SCRIPT.yml [--port N]``."""
    import argparse
    from pathlib import Path

    from caramba.agents.testing.script import from_adk_script
    from caramba.agents.yamlfile import load_strict

    parser = argparse.ArgumentParser(description="scripted OpenAI-compatible chat-completions server")
    parser.add_argument("script", type=Path)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    text = args.script.read_text()
    is_server_script = re.search(r"^roles:\s*\n\s+\w+:\s*\n\s+-", text, re.MULTILINE) is not None
    script = load_strict(ServerScript, args.script, "server script") if is_server_script else from_adk_script(args.script)
    with ScriptedOpenAIServer(script, args.port) as server:
        print(f"serving {args.script} at {server.url} (Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
