"""``dry_run``: build each target's plan (see the package docstring)."""

from __future__ import annotations

import os
from typing import Any

import torch

from caramba.engine.capabilities import detect, resolve_device
from caramba.engine.compiler import Compiled
from caramba.engine.manifest.selection import select_targets
from caramba.engine.manifest.targets import ExperimentTarget, ProcessTarget
from caramba.engine.model.build import build_system
from caramba.engine.model.init import describe
from caramba.engine.plan.measure import DTYPE_BYTES, graph_cost, layer_costs, optimizer_state_bytes
from caramba.engine.manifest.distributed import DistributedConfig
from caramba.engine.plan.ranks import device_capacity, per_rank
from caramba.engine.plan.report import RunPlan, TargetPlan
from caramba.engine.train.distributed.sharding import UnevenBatch

CACHE_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "q8": 1.0 + 2 / 32, "q4": 0.5 + 2 / 32}


def dry_run(compiled: Compiled, target: str | None = None, ranks: int | None = None) -> list[TargetPlan]:
    """The plans of the targets that run for ``target`` (``select_targets``: the same choice as
    ``caramba run`` and the MCP tools); raises ``TargetChoiceError`` for an unknown name.

    ``ranks``: the processes the runs will use (``--nproc``; default: torchrun's
    ``WORLD_SIZE`` when started by it, else 1) — memory is reported per rank (``ranks.py``)."""
    ranks = ranks or int(os.environ.get("WORLD_SIZE", "1"))
    distributed = compiled.manifest.defaults.runtime.distributed
    manifest = compiled.manifest
    chosen = select_targets(manifest, target)
    resolved = {t["name"]: t for t in compiled.resolved["targets"]}
    plans = [_plan(t, resolved[t.name], ranks, distributed) for t in chosen]
    for chosen_target, plan in zip(chosen, plans):
        if isinstance(chosen_target, ExperimentTarget) and chosen_target.trainer.ref == "trainer.upcycle":
            from caramba.engine.upcycle.plan import annotate

            annotate(chosen_target, plan, manifest)
    return plans


def _plan(target: ExperimentTarget | ProcessTarget, resolved: dict[str, Any], ranks: int,
          distributed: DistributedConfig | None) -> TargetPlan:
    caps = detect()
    plan = TargetPlan(target.name, target.type, resolved, device=caps.device,
                      kernel_paths={op: f"{icon} {impl}" for op, (icon, impl) in caps.paths().items()})
    if isinstance(target, ProcessTarget):
        plan.process = {"process": target.process.model_dump(), "team": target.team}
        plan.notes.append("a process target runs persona agents; its cost is the LLM usage, bounded by budget_usd")
        return plan
    with torch.device("meta"):
        model = build_system(target.system.ref, target.system.config)
    params = {id(p): p for p in model.parameters()}
    plan.params_total = sum(p.numel() for p in params.values())
    plan.params_trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    plan.layers = layer_costs(model)
    scheme = target.system.config.init_scheme()
    plan.init = describe(scheme.scheme, scheme.std, model)
    model_config = getattr(target.system.config, "model", None)
    if model_config is not None and hasattr(model_config, "kv_values_per_token"):
        values = model_config.kv_values_per_token()
        plan.kv_bytes_per_token = {kind: values * size for kind, size in CACHE_BYTES.items()}
    plan.benchmarks = [f"{b.id} ({b.config.type}, models: {', '.join(b.models)}, repeats: {b.repeats})" for b in target.benchmarks]
    for run in target.runs:
        plan.runs.append(_run_plan(model, run, plan, ranks, distributed))
    return plan


def autocast_copies(train: Any, device: str, matmul_weights: int, distributed: DistributedConfig | None) -> int:
    """Bytes of autocast's low-precision copies of the matmul weights, which autograd keeps
    until each layer's backward — whole on every rank, also under FSDP2 (each rank runs
    every block). None when nothing is cast: no AMP (the CPU trains without it), weights
    already in the autocast dtype, or FSDP2 gathering them in it (``param_dtype``)."""
    amp = train.use_amp and device.startswith("cuda") and train.amp_dtype != train.dtype
    if not amp or (distributed is not None and distributed.strategy == "fsdp" and distributed.param_dtype == train.amp_dtype):
        return 0
    return matmul_weights * DTYPE_BYTES[train.amp_dtype]


def _run_plan(model: torch.nn.Module, run: Any, plan: TargetPlan, ranks: int, distributed: DistributedConfig | None) -> RunPlan:
    train = run.train
    try:
        device = resolve_device(train.device, f"run {run.id!r} of target {plan.target!r}")
    except ValueError as exc:
        device = train.device
        plan.notes.append(f"run {run.id}: {exc}")
    tokens = run.steps * train.batch_size * train.block_size * train.gradient_accumulation_steps
    size = DTYPE_BYTES[train.dtype]
    memory = {"weights": plan.params_total * size, "gradients": plan.params_trainable * size,
              "optimizer": optimizer_state_bytes(train.optimizer, plan.params_trainable)}
    flops: dict[str, float] = {}
    example = getattr(model, "example_inputs", None)
    if example is None:
        plan.notes.append(f"{type(model).__name__} has no example_inputs(); FLOPs and activation memory are not measured")
    else:
        with torch.device("meta"):
            dtype = getattr(torch, train.dtype)
            # An AMP step computes (and saves its activations) in the autocast dtype: measure that graph.
            compute = getattr(torch, train.amp_dtype) if train.use_amp else dtype
            cost = graph_cost(model.to(compute), example(train.batch_size, train.block_size))
        per = max(1, train.batch_size * train.block_size)
        flops = {"forward": cost.forward_flops / per, "backward": cost.backward_flops / per,
                 "train_step": (cost.forward_flops + cost.backward_flops) / per}
        memory["activations"] = cost.activation_bytes
        copies = autocast_copies(train, str(device), cost.matmul_weights, distributed if ranks > 1 else None)
        if copies:
            memory["autocast copies"] = copies
    try:
        strategy, memory = per_rank(memory, model, size, train.batch_size, train.gradient_accumulation_steps, ranks, distributed)
    except UnevenBatch as exc:
        plan.notes.append(f"run {run.id}: {exc}")
        strategy, memory = "single", {**memory, "total": sum(memory.values())}
    capacity = device_capacity(distributed, device)
    if capacity is not None and memory["total"] > capacity:
        plan.refusals.append(f"run {run.id} needs {memory['total'] / 2**30:.1f} GiB per rank ({strategy}, {ranks} rank(s)) "
                             f"but a device has {capacity / 2**30:.1f} GiB")
    phases = [f"start from {run.init_from.describe()}"] if run.init_from is not None else []
    phases.append(f"train {run.steps} steps ({train.optimizer}, lr {train.lr:g}, {train.schedule.kind})")
    if run.verify is not None:
        phases.append(f"verify: {run.verify.type}")
    phases += [f"benchmark: {b}" for b in plan.benchmarks]
    seed = run.seed if isinstance(run.seed, int) else run.seed[0]
    return RunPlan(run.id, seed, run.steps, train.batch_size, train.block_size, tokens, device, train.dtype, phases, memory, flops,
                   ranks=ranks, strategy=strategy, device_memory_bytes=capacity)
