"""Verification after training: ``compare``, ``fidelity`` and ``eval`` gates (``runs[].verify``).

``run_verify(config, ctx)`` dispatches on the config's type and returns a ``Verdict``;
a failed verdict fails the run with its reasons listed. See each module for the exact
measurements and ``context.py`` for what the reference is without a teacher.
"""

from __future__ import annotations

from caramba.engine.manifest.verify import CompareVerify, EvalVerify, FidelityVerify
from caramba.engine.verify.compare import verify_compare
from caramba.engine.verify.context import VerifyContext
from caramba.engine.verify.eval import verify_eval
from caramba.engine.verify.fidelity import verify_fidelity
from caramba.engine.verify.gates import Gates, StopVerifying, Verdict

__all__ = ["Verdict", "VerifyContext", "run_verify"]


def run_verify(config: CompareVerify | FidelityVerify | EvalVerify, ctx: VerifyContext) -> Verdict:
    """Evaluate the gates of ``config`` (all of them unless ``fail_fast`` stops at the first failure)."""
    gates = Gates(config.type, config.fail_fast)
    verifier = {"compare": verify_compare, "fidelity": verify_fidelity, "eval": verify_eval}[config.type]
    try:
        verifier(config, ctx, gates)  # type: ignore[operator]
    except StopVerifying:
        pass
    return gates.verdict
