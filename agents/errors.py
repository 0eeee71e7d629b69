"""Errors of the agent layer: each says what went wrong and how to fix it.

They are plain exceptions with a ``hint``; the CLI prints both and exits with code 2
(configuration problems) instead of a traceback.
"""

from __future__ import annotations


class AgentSetupError(Exception):
    """A persona, model, script or tool connection cannot be set up as asked."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


class ModelNotConfigured(AgentSetupError):
    """No model was given for a persona, and the workspace has no default."""


class ScriptError(AgentSetupError):
    """A scripted model's script does not cover the call it was asked for."""


class ReplayDiverged(AgentSetupError):
    """A replayed session asked the model something the recording did not ask."""


class ProviderFailed(Exception):
    """A model provider kept failing (after retries) or refused the call outright.

    ``message`` names the provider, the HTTP status and what happened; ``hint`` says
    what to do. The session that meets it checkpoints, writes its outputs with status
    ``failed`` and can be resumed by running the same command again.
    """

    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}")


class BudgetReached(Exception):
    """The next model call could exceed the session's budget; it was not made."""


class TurnLimitReached(Exception):
    """A turn used its allowance of model calls; the turn ends there."""
