"""Kernels one captured decode step launches, counted on the CPU: what a CUDA graph replays per token.

A batch-1 decode step over a static cache is launch-bound once captured (docs/measurements.md,
issue 20): its time is about (kernels a step) × (a graph node's few µs), far above the bytes
it reads. This counts those kernels without a GPU, through the code path CUDA takes: the
dispatch is told every kernel op runs on Triton (the DBA attention kernel excepted, as the
registry holds it back), the Triton kernels run in Triton's interpreter and count one launch
each, and every PyTorch op that is not a view or other metadata-only op counts one kernel.
The count does not depend on the models' widths, so the ``dba_vs_gqa`` models are narrowed
(d_model 256) to keep the interpreter fast; depth, heads and the op sequence are the GPU
benchmark's.

    python benchmarks/decode_launches.py            # DBA and GQA, bf16 / q8 / q4 caches
"""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

os.environ["TRITON_INTERPRET"] = "1"  # Triton's own switch, read when the kernels are decorated

import torch  # noqa: E402
import triton.runtime.interpreter as interpreter  # noqa: E402
import yaml  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dba_vs_gqa as bench  # noqa: E402  (also puts a bare checkout on the path as `caramba`)

from caramba.engine.compiler.compile import compile_manifest  # noqa: E402
from caramba.engine.infer import CachePolicy, StaticDecoder  # noqa: E402
from caramba.engine.infer.static import DecodePath  # noqa: E402
from caramba.engine.model.build import build_system  # noqa: E402
from caramba.kernels import dispatch  # noqa: E402
from caramba.kernels.registry import OPS  # noqa: E402

METADATA = {"view", "_unsafe_view", "transpose", "slice", "select", "unsqueeze", "expand", "split", "split_with_sizes",
            "t", "detach", "alias", "as_strided", "permute", "squeeze", "unflatten", "empty", "empty_strided",
            "lift_fresh", "_reshape_alias", "unbind", "narrow", "reshape", "flatten", "empty_like", "promote_types"}


class Launches(TorchDispatchMode):
    """Counts PyTorch ops that launch a kernel and, through the interpreter, Triton launches."""

    def __init__(self) -> None:
        super().__init__()
        self.torch: collections.Counter[str] = collections.Counter()
        self.triton: collections.Counter[str] = collections.Counter()
        self.inside = False
        original = interpreter.InterpretedFunction.run

        def run(fn: interpreter.InterpretedFunction, *args: object, **kwargs: object) -> object:
            self.triton[fn.fn.__name__] += 1
            self.inside = True  # the interpreter's own tensor traffic is not the kernel's launches
            try:
                return original(fn, *args, **kwargs)
            finally:
                self.inside = False

        interpreter.InterpretedFunction.run = run  # type: ignore[method-assign]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = func.overloadpacket.__name__
        if not self.inside and name not in METADATA and func.namespace != "caramba":
            self.torch[name] += 1
        return func(*args, **(kwargs or {}))


class Everywhere(dispatch.KernelPlan):
    """Every chosen op on Triton, CPU tensors too (they run in the interpreter)."""

    def uses_triton(self, op: str, tensor: torch.Tensor) -> bool:
        return op in self.triton


def main() -> None:
    """Print the kernels of one decode step per model and cache kind."""
    doc = yaml.safe_load(bench.scaled_preset("gpu"))
    doc["vars"].update({"d_model": 256, "d_ff": 512, "vocab_size": 512})
    for target in doc["targets"]:
        bench._scale_attention(target, 64)
    compiled = compile_manifest(yaml.safe_dump(doc, sort_keys=False))
    held_back = {name for name, op in OPS.items() if op.held_back}
    dispatch.plan = lambda: Everywhere("cuda", frozenset(OPS) - held_back)  # type: ignore[assignment]
    print("| model | cache | kernels a step | PyTorch ops | Triton launches | largest PyTorch groups |")
    print("|---|---|---|---|---|---|")
    for name, target_name in bench.TARGETS.items():
        target = compiled.manifest.target(target_name)
        torch.manual_seed(0)
        model = build_system(target.system.ref, target.system.config).to(torch.bfloat16).eval()
        for kind in ("bf16", "q8", "q4"):
            state = StaticDecoder(model, CachePolicy(kind, 4), 40, DecodePath(True, False, True, "counted"))
            with torch.no_grad():
                state.step(state.prefill(torch.randint(0, 512, (1, 16))).argmax(-1, keepdim=True))
                counter = Launches()
                with counter:
                    state.step(torch.zeros(1, 1, dtype=torch.long))
            ops, launches = sum(counter.torch.values()), sum(counter.triton.values())
            groups = ", ".join(f"{op} {n}" for op, n in counter.torch.most_common(6))
            print(f"| {name} | {kind} | {ops + launches} | {ops} | {launches} | {groups} |", flush=True)


if __name__ == "__main__":
    main()
