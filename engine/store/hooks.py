"""End-of-run hooks: components above the engine learn that a run ended without the engine knowing them.

The engine calls :func:`run_ended` with the final :class:`RunRecord` whenever a run (or a
process target) reaches ``succeeded``, ``failed`` or ``cancelled``. Whoever wants to know
registers a callback with :func:`on_run_end` (the CLI's ``caramba run`` registers the
knowledge memory's recorder), so the import points from the higher layer down to this one.
A callback reports its own problems; one that raises stops the others and propagates.
"""

from __future__ import annotations

from collections.abc import Callable

from caramba.engine.store.record import RunRecord

RunEndHook = Callable[[RunRecord], None]
_hooks: list[RunEndHook] = []


def on_run_end(hook: RunEndHook) -> None:
    """Register ``hook`` to be called with every finished run's record (once per hook)."""
    if hook not in _hooks:
        _hooks.append(hook)


def remove_run_end_hook(hook: RunEndHook) -> None:
    """Unregister ``hook`` (no error when it was not registered)."""
    if hook in _hooks:
        _hooks.remove(hook)


def run_ended(record: RunRecord) -> None:
    """Call every registered hook with ``record`` (a run that just reached its final status)."""
    for hook in list(_hooks):
        hook(record)
