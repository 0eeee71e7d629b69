"""The dry run under a time and memory bound, for long-lived fronts (the MCP server).

``dry_run`` builds on the meta device, so its tensors cost nothing — but the Python
objects of a model do: a valid-looking ``repeat: 10**18`` builds module after module
until the process is killed, taking the server with it. :func:`bounded_dry_run` runs the
dry run in a forked child process whose address space is capped (``RLIMIT_AS``: what the
parent already maps plus ``memory_mb``) and which is killed after ``timeout_s``. The
child sends the plans back as JSON over a pipe (never a pickle); the parent raises
:class:`DryRunBoundExceeded` naming the bound that was hit and the ``caramba.yml`` key
that raises it. The server's own memory is untouched either way.

POSIX only (``os.fork``); elsewhere the dry run runs in-process, unbounded, and says so.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import warnings
from typing import Any

from caramba.engine.compiler import Compiled


class DryRunBoundExceeded(RuntimeError):
    """The dry run needed more time or memory than its bound (the message names the setting)."""


def bounded_dry_run(compiled: Compiled, target: str | None, timeout_s: float, memory_mb: int) -> list[dict[str, Any]]:
    """``[plan.to_json() …]`` of :func:`caramba.engine.plan.dry_run`, computed in a bounded child."""
    from caramba.engine.plan import dry_run

    if not hasattr(os, "fork"):
        return [p.to_json() for p in dry_run(compiled, target)]
    _warm()
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork in a threaded server: the child only computes
        pid = os.fork()
    if pid == 0:  # the child: compute, write one JSON document, exit without clean-up handlers
        os.close(read_fd)
        _child(compiled, target, memory_mb, write_fd)
    os.close(write_fd)
    try:
        payload = _read_until(read_fd, pid, time.monotonic() + timeout_s)
    finally:
        os.close(read_fd)
    if payload is None:
        raise DryRunBoundExceeded(f"the dry run did not finish within {timeout_s:g} s (the workspace bound "
                                  "mcp.dry_run_timeout_s); the model is too large to plan here — shrink it (repeat, layers, "
                                  "widths) or raise the bound in caramba.yml")
    answer = json.loads(payload) if payload else {"error": "MemoryError", "message": "the planning process was killed"}
    if "plans" in answer:
        return answer["plans"]
    if answer["error"] == "MemoryError":
        raise DryRunBoundExceeded(f"the dry run needed more than {memory_mb} MB (the workspace bound mcp.dry_run_memory_mb) "
                                  "to build the model on the meta device; shrink it (repeat, layers, widths) or raise the "
                                  "bound in caramba.yml")
    raise RuntimeError(f"the dry run failed: {answer['error']}: {answer['message']}")


#: What a dry run imports lazily (seconds of work): imported once in the parent, so each
#: child starts warm instead of paying it inside its time bound.
WARM_MODULES = ("torch.utils.flop_counter", "torch.fx.experimental.symbolic_shapes", "torch._dynamo", "torch.distributed.tensor")
_warmed: list[bool] = []


def _warm() -> None:
    """Import :data:`WARM_MODULES` and every registered model component once per process."""
    if _warmed:
        return
    import importlib

    from caramba.engine.capabilities import detect
    from caramba.engine.registry import REGISTRY

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue  # an optional part of torch absent from this build: the child imports what it needs
    for kind in ("layer", "embedder", "topology", "model", "system"):
        for entry in REGISTRY.entries(kind):
            entry.load()
    detect()
    _warmed.append(True)


def _child(compiled: Compiled, target: str | None, memory_mb: int, write_fd: int) -> None:
    """Cap the address space, plan, send JSON, ``_exit`` (see the module docstring)."""
    code = 0
    try:
        import resource

        limit = _mapped_bytes() + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        from caramba.engine.plan import dry_run

        answer: dict[str, Any] = {"plans": [p.to_json() for p in dry_run(compiled, target)]}
        data = json.dumps(answer, default=str).encode()
    except MemoryError:
        data = json.dumps({"error": "MemoryError", "message": "out of memory"}).encode()
    except BaseException as exc:  # noqa: BLE001 — the child reports every failure to the parent, then exits
        data = json.dumps({"error": type(exc).__name__, "message": str(exc.args[0]) if isinstance(exc, KeyError) and exc.args
                           else str(exc)}).encode()
        code = 1
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(code)


def _read_until(fd: int, pid: int, deadline: float) -> bytes | None:
    """Everything the child writes, or None after killing it at ``deadline``."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                os.waitpid(pid, 0)
                return b"".join(chunks)
            chunks.append(chunk)


def _mapped_bytes() -> int:
    """This process's current virtual size (what the child inherits from the server)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
