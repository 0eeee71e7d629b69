"""Cooperative cancellation: one process-wide flag that every long loop polls.

``caramba run`` turns SIGTERM (``cancel_run``, ``caramba runs cancel``, the MCP
watchdog) into :func:`request`. The trainer polls it between steps; verification,
benchmarks and held-out evaluation call :func:`check` once per batch, which raises
:class:`Cancelled` — so a ``verify.batches: 2**63`` or a huge benchmark grid stops
within one batch of the signal instead of running on. The run records ``cancelled``
with the phase that was interrupted.
"""

from __future__ import annotations

import threading

_requested = threading.Event()


class Cancelled(BaseException):
    """Raised by :func:`check` after a cancellation was requested; the message names the phase.

    A ``BaseException`` (like ``KeyboardInterrupt``): isolation boundaries that record a
    failed benchmark and go on (``except Exception``) must not swallow a cancellation.
    """


def request() -> None:
    """Ask every long loop of this process to stop (safe inside a signal handler)."""
    _requested.set()


def requested() -> bool:
    """True once :func:`request` was called (until :func:`reset`)."""
    return _requested.is_set()


def reset() -> None:
    """Clear the flag (a new ``execute`` starts uncancelled)."""
    _requested.clear()


def check(phase: str) -> None:
    """Raise :class:`Cancelled` naming ``phase`` when a cancellation was requested."""
    if _requested.is_set():
        raise Cancelled(f"cancelled during {phase}")
