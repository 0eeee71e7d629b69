"""Every tool error reaches the client with a reason and a hint, never empty.

The MCP SDK turns any exception other than ``ToolError`` into the bare text "Error
executing tool <name>" (the original stays in the server log). An LLM client cannot fix
what it cannot read, so :class:`CarambaServer` wraps every tool it registers with
:func:`guard`: a ``ToolError`` passes through (an empty one gets a reason), and anything
else becomes a ``ToolError`` whose first line says what failed (exception type and its
first line) and whose ``hint:`` line says what to do. Unexpected crashes are still logged
with their traceback on stderr.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

log = logging.getLogger("caramba.tools")

#: (exception class name, hint) in order: the first class in an exception's MRO wins.
HINTS: tuple[tuple[str, str], ...] = (
    ("ManifestInvalid", "fix the reported fields; validate_manifest lists every error with its line"),
    ("UnknownRun", "list_runs shows the run ids of this workspace"),
    ("ForeignProcess", "the run's recorded process is not this workspace's `caramba run`; nothing was signalled"),
    ("CorruptCheckpoint", "the checkpoint is damaged or not caramba's; run again to resume from an earlier one"),
    ("QueryError", "use read-only Cypher (MATCH … RETURN …) with a LIMIT; see the code-graph tool descriptions"),
    ("BoundExceeded", "make the manifest smaller or raise the limit in caramba.yml"),
    ("MemoryError", "the request needs more memory than this machine allows; make it smaller"),
    ("TimeoutError", "the operation took too long; make the request smaller or try again"),
    ("FileNotFoundError", "give a path that exists inside the workspace (paths are workspace-relative)"),
    ("IsADirectoryError", "give a file, not a folder"),
    ("PermissionError", "the file is not readable by the server; check its permissions"),
    ("UnicodeDecodeError", "the file is not UTF-8 text; read it as an artifact of a known type"),
    ("KeyError", "a name was not found; list the valid names with the matching list_* tool"),
    ("ValueError", "check the arguments against the tool's description"),
    ("TypeError", "check the arguments against the tool's description"),
    ("OSError", "a file or process operation failed; check the workspace's disk and permissions"),
)
FALLBACK = "an unexpected error in caramba; the MCP server's log (stderr) has the traceback — report it with the call"


def describe(exc: BaseException) -> str:
    """``"<Type>: <first line>\\nhint: <hint>"`` for any exception (see the module docstring)."""
    text = str(exc).strip()
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    first = text.splitlines()[0] if text else "(no message)"
    names = [cls.__name__ for cls in type(exc).__mro__]
    hint = next((h for name, h in HINTS if name in names), FALLBACK)
    rest = "\n".join(text.splitlines()[1:])
    return f"{type(exc).__name__}: {first}" + (f"\n{rest}" if rest else "") + f"\nhint: {hint}"


def guard(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fn`` with every failure turned into a ``ToolError`` that has a message and a hint."""
    def convert(exc: Exception) -> ToolError:
        if isinstance(exc, ToolError):
            return exc if str(exc).strip() else ToolError(f"{name} failed without a reason\nhint: {FALLBACK}")
        if type(exc).__name__ in {n for n, _ in HINTS[:6]}:
            log.info("tool %s refused: %s", name, exc)
        else:
            log.exception("tool %s failed", name)
        return ToolError(f"{name} failed: {describe(exc)}")

    if is_async(fn):
        @functools.wraps(fn)
        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                raise convert(exc) from exc
        return wrapped_async

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise convert(exc) from exc
    return wrapped


def is_async(fn: Callable[..., Any]) -> bool:
    """True for coroutine functions (what the SDK awaits instead of running in a thread)."""
    import inspect

    return inspect.iscoroutinefunction(fn)


class CarambaServer(MCPServer):
    """An ``MCPServer`` whose tools are all wrapped by :func:`guard`."""

    def add_tool(self, fn: Callable[..., Any], name: str | None = None, *args: Any, **kwargs: Any) -> None:
        """Register ``fn`` (guarded) exactly as ``MCPServer.add_tool`` would."""
        super().add_tool(guard(fn, name or fn.__name__), name, *args, **kwargs)
