"""Checking a development session's inputs before any model call or run.

:func:`load_start` reads the starting manifest (a workspace file or a preset);
:func:`check_inputs` compiles it for the workspace and checks what would otherwise fail
late: the chosen target is an experiment with a run to vary, the goal's metric is one
that target reports, the session folder lies inside the workspace (the MCP tools only
see the workspace), and the compute budget pays at least for the starting point's full
runs plus one pilot. Every problem is an :class:`~caramba.agents.errors.AgentSetupError`
(what, where, how to fix; the CLI exits 2) or the compiler's ``ManifestInvalid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from caramba.agents.errors import AgentSetupError
from caramba.processes.development.config import DevelopmentConfig

#: Metrics every trained run reports (the standard trainer's last evaluation and training rows).
RUN_METRICS = ("val_loss", "train_loss")


@dataclass(frozen=True)
class StartInfo:
    """What the session needs to know about its starting manifest's varied run."""

    target: str
    steps: int
    tokens_per_step: int
    flops_per_token: float  # training FLOPs per token (forward + backward), from the dry run


def load_start(start: str, workspace: Path) -> str:
    """The YAML text of ``start``: a ``.yml`` file (relative to the workspace) or a preset name."""
    from caramba.engine.compiler.extends import preset_names, preset_path

    path = (Path(start) if Path(start).is_absolute() else workspace / start).resolve()
    if not path.is_relative_to(workspace.resolve()):
        raise AgentSetupError(f"--from {start}: {path} is outside the workspace {workspace}",
                              "copy the manifest into the workspace (the loop and its tools see only the workspace)")
    if path.is_file():
        return _workspace_relative(path, workspace)
    if not start.endswith((".yml", ".yaml")) and (preset := preset_path(start)) is not None and preset.is_file():
        return preset.read_text(encoding="utf-8")
    raise AgentSetupError(f"--from {start}: no such manifest file in {workspace} and no preset of that name",
                          f"pass a .yml file relative to the workspace, or a preset: {', '.join(preset_names())}")


def _workspace_relative(path: Path, workspace: Path) -> str:
    """The text of manifest ``path`` with its relative path fields rewritten to be relative to
    the workspace (the session keeps the text, and text resolves against the workspace)."""
    import yaml

    from caramba.agents.manifests.save import rewrite_paths
    from caramba.engine.compiler import compile_manifest

    text = path.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if isinstance(document, dict) and rewrite_paths(document, compile_manifest(path, [], workspace), workspace):
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    return text


def known_metrics(target: object) -> list[str]:
    """The metrics ``target``'s runs report: the trainer's losses and its benchmarks' metrics."""
    names = list(RUN_METRICS)
    for bench in getattr(target, "benchmarks", []):
        kind, bench_id = getattr(bench, "type", ""), getattr(bench, "id", "")
        if kind == "perplexity":
            names += [f"{bench_id}.nll", f"{bench_id}.ppl"]
    return names


def check_inputs(config: DevelopmentConfig, workspace: Path, folder: Path) -> StartInfo:
    """Compile and check the start (module docstring); returns what the loop needs of it."""
    from caramba.engine.compiler import compile_manifest
    from caramba.engine.manifest.selection import TargetChoiceError, select_target
    from caramba.engine.manifest.targets import ExperimentTarget
    from caramba.engine.plan.bounded import bounded_dry_run

    try:
        folder.resolve().relative_to(workspace.resolve())
    except ValueError:
        raise AgentSetupError(f"session folder {folder} is outside the workspace {workspace}",
                              "pass --out a folder inside the workspace (the MCP tools see only the workspace)") from None
    compiled = compile_manifest(config.start_text.encode(), [], workspace)
    try:
        target = select_target(compiled.manifest, None)
    except TargetChoiceError as exc:
        raise AgentSetupError(f"--from {config.start}: {exc}", "set entrypoints.default to the experiment to develop") from None
    if not isinstance(target, ExperimentTarget):
        raise AgentSetupError(f"--from {config.start}: target {target.name!r} is a {target.type} target, not an experiment",
                              "start from a manifest whose default target trains a model")
    metrics = known_metrics(target)
    if config.metric not in metrics:
        raise AgentSetupError(f"--metric {config.metric}: target {target.name!r} of {config.start} does not report it "
                              f"(it reports: {', '.join(metrics)})", f"pass --metric {metrics[0]}, or add the benchmark that measures it")
    if config.metric == "val_loss" and compiled.manifest.defaults.data.val_frac == 0:
        raise AgentSetupError(f"--metric val_loss: {config.start} holds out no validation data (defaults.data.val_frac: 0)",
                              "set defaults.data.val_frac (e.g. 0.1) or use --metric train_loss")
    plan = bounded_dry_run(compiled, target.name, 60.0, 2048)[0]
    run = plan["runs"][0]
    info = StartInfo(target.name, int(run["steps"]), int(run["tokens"]) // max(1, int(run["steps"])),
                     float(run["flops_per_token"]["train_step"]))
    _check_budget(config, info)
    return info


def pilot_steps(config: DevelopmentConfig, steps: int) -> int:
    """Steps of a pilot of a run of ``steps`` steps: a fraction of them, at least ``pilot_min_steps``."""
    return max(config.pilot_min_steps, min(steps, round(steps * config.pilot_fraction)))


def _check_budget(config: DevelopmentConfig, info: StartInfo) -> None:
    """The budget must pay for the start's full runs and one pilot, or nothing can be learned."""
    steps = config.seeds * info.steps + pilot_steps(config, info.steps)
    if config.compute_steps is not None and config.compute_steps < steps:
        raise AgentSetupError(
            f"--compute-steps {config.compute_steps} cannot pay for the starting point ({config.seeds} seeds × "
            f"{info.steps} steps) plus one pilot ({pilot_steps(config, info.steps)} steps): {steps} steps",
            f"pass --compute-steps {steps} or more (about {steps * 3} leaves room for a few variants)")
    if config.compute_gpu_hours is not None:
        hours = steps * info.tokens_per_step * info.flops_per_token / config.gpu_flops / 3600
        if config.compute_gpu_hours < hours:
            raise AgentSetupError(f"--compute-gpu-hours {config.compute_gpu_hours:g} cannot pay for the starting point "
                                  f"plus one pilot: {hours:.3g} GPU-hours at {config.gpu_flops:.3g} FLOP/s",
                                  f"pass --compute-gpu-hours {hours:.3g} or more")
