"""The dry run: what a valid manifest will cost, before it costs anything.

``dry_run(compiled, target)`` builds each experiment's model on the meta device (no
memory is allocated, nothing is trained) and reports parameters per layer, FLOPs per
token (counted by PyTorch's FlopCounterMode over a real forward and backward on meta
tensors), memory for weights, gradients, optimizer state and activations (the tensors
autograd saves, measured on the meta graph), KV-cache bytes per token per cache kind,
the tokens each run consumes, the runs and phases in order, and the kernel path of
every operation category on this machine.
"""

from caramba.engine.plan.dry_run import dry_run
from caramba.engine.plan.report import TargetPlan

__all__ = ["TargetPlan", "dry_run"]
