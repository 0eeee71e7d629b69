"""Manifest tools: presets, the schema, generation, validation and the dry run.

Each tool parses flat arguments, calls one engine function and returns a pydantic
model (the client gets it as structured output and as JSON text). An invalid manifest
is a normal result (``ok: false`` with every error), never a tool error.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from caramba.tools.checking import ManifestIssue, ValidationResult, inspect_manifest, json_safe
from caramba.tools.generate import Attention, BenchmarkKind, Description, from_description, from_preset
from caramba.tools.security import Workspace

ManifestArg = Annotated[str, Field(description="manifest YAML text, a .yml path relative to the workspace, or a preset name")]
TargetArg = Annotated[str | None, Field(description="target or entrypoint name; default: entrypoints.default, else the only target")]


class PresetInfo(BaseModel):
    """A preset manifest shipped with caramba: its name and one-line summary."""

    name: str = Field(description="preset name (pass to read_preset, generate_manifest or `extends:`)")
    description: str = Field(description="one-line summary")


class PresetList(BaseModel):
    """Every preset manifest shipped with caramba."""

    presets: list[PresetInfo]


class PresetText(BaseModel):
    """A preset's full YAML text, comments included."""

    name: str
    yaml: str = Field(description="the preset manifest, with its explanatory comments")


class SchemaResult(BaseModel):
    """The JSON Schema of a whole manifest, or of one registry kind (`component`)."""

    component: str | None = Field(description="the registry kind asked for, or null for the whole manifest")
    json_schema: dict[str, Any] = Field(description="JSON Schema (draft 2020-12)")


class GeneratedManifest(BaseModel):
    """A manifest generated from a preset with overrides, and whether it validates as generated."""

    manifest: str = Field(description="manifest YAML text; pass it to validate_manifest / dry_run_manifest / run_manifest")
    ok: bool = Field(description="true when the manifest validates as generated")
    errors: list[ManifestIssue] = Field(description="validation errors of the generated manifest (fix with overrides)")


class DryRunResult(BaseModel):
    """What a manifest would cost, computed without training (parameters, FLOPs, memory, kernel paths)."""

    manifest_digest: str = Field(description="sha256 of the resolved manifest")
    targets: list[dict[str, Any]] = Field(description="per target: parameters, FLOPs/token, memory, KV bytes, runs, kernel paths")


def register(server: MCPServer, ws: Workspace) -> None:
    """Add the manifest tools to ``server``."""
    from caramba.cli.presets import preset_summary
    from caramba.engine.compiler.extends import PRESETS_DIR, preset_names
    from caramba.tools.security import preset_file

    @server.tool()
    def list_presets() -> PresetList:
        """List the manifest presets (ready-made experiments) with a one-line description each.
        Use it first when asked to set up an experiment; read one with read_preset, or start
        from one with generate_manifest(preset=...)."""
        return PresetList(presets=[PresetInfo(name=n, description=preset_summary(PRESETS_DIR / f"{n}.yml")) for n in preset_names()])

    @server.tool()
    def read_preset(name: Annotated[str, Field(description="preset name from list_presets")]) -> PresetText:
        """Return a preset's manifest YAML, comments included: the best worked example of the
        manifest format. Copy and edit it, or extend it with `extends: <name>`."""
        path = preset_file(name)
        if path is None:
            raise ToolError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
        return PresetText(name=path.stem, yaml=path.read_text())

    @server.tool()
    def manifest_schema(component: Annotated[str | None, Field(
            description="a registry kind (layer, topology, embedder, model, task, dataset, system, objective, trainer) "
                        "for its registered types; omit for the whole manifest")] = None) -> SchemaResult:
        """Return the JSON Schema of a manifest, or of every registered type of one component
        kind (e.g. component='layer' lists every layer type with its fields). Use it to learn
        which fields and values are valid before writing a manifest."""
        from caramba.engine.schema_export import component_schema, manifest_schema as whole

        if component is None:
            return SchemaResult(component=None, json_schema=whole())
        try:
            return SchemaResult(component=component, json_schema=component_schema(component))
        except KeyError:
            raise ToolError(f"no component kind {component!r}; kinds: layer, topology, embedder, model, task, dataset, "
                            "system, objective, trainer") from None

    @server.tool()
    def generate_manifest(
        preset: Annotated[str | None, Field(description="start from this preset (then only `overrides` may change it)")] = None,
        overrides: Annotated[list[str], Field(description="field overrides PATH=VALUE, e.g. targets[0].runs[0].steps=20 "
                                                          "or vars.d_model=128 (values are YAML)")] = [],
        name: Annotated[str, Field(description="experiment and target name (letters, digits, _ . -)")] = "experiment",
        d_model: Annotated[int, Field(ge=1, description="model width")] = 64,
        n_layers: Annotated[int, Field(ge=1, description="transformer blocks")] = 2,
        n_heads: Annotated[int, Field(ge=1, description="query heads (must divide d_model)")] = 4,
        n_kv_heads: Annotated[int | None, Field(ge=1, description="key/value heads for attention='gqa' (divides n_heads)")] = None,
        d_ff: Annotated[int | None, Field(ge=1, description="SwiGLU hidden width (default 4*d_model)")] = None,
        vocab_size: Annotated[int, Field(ge=1, description="vocabulary size (256 for the byte tokenizer)")] = 256,
        attention: Annotated[Attention, Field(description="standard, gqa, or decoupled (DBA)")] = "standard",
        sem_dim: Annotated[int | None, Field(ge=1, description="decoupled only: semantic q/k width (default d_model/2)")] = None,
        geo_dim: Annotated[int | None, Field(ge=1, description="decoupled only: geometric (RoPE) q/k width (default d_model/2)")] = None,
        block_size: Annotated[int, Field(ge=1, description="tokens per training sequence")] = 64,
        data_path: Annotated[str, Field(description="token file (.npy) relative to the workspace")] = "data.npy",
        steps: Annotated[int, Field(ge=1, description="optimiser steps per run (the training budget)")] = 100,
        batch_size: Annotated[int, Field(ge=1, description="sequences per step")] = 8,
        lr: Annotated[float, Field(gt=0, description="peak learning rate")] = 3e-4,
        device: Annotated[str, Field(description="cpu, cuda, cuda:N, mps or auto")] = "auto",
        seeds: Annotated[list[int], Field(min_length=1, description="one run per seed")] = [0],
        benchmarks: Annotated[list[BenchmarkKind], Field(description="measurements after training")] = ["perplexity"],
    ) -> GeneratedManifest:
        """Write a manifest, either from a preset plus overrides (give `preset`, optionally
        `overrides`) or from an experiment description (omit `preset`; give the architecture,
        sizes, data file, training budget and benchmarks as flat arguments; `overrides` then
        adjust anything else). Returns the YAML text and whether it validates, with structured
        errors to fix. Nothing is written to disk; pass the text to the other manifest tools."""
        if preset is not None:
            given = {k: v for k, v in locals().items() if k in DESCRIPTION_FIELDS and v != DESCRIPTION_DEFAULTS[k]}
            if given:
                raise ToolError(f"give either `preset` (+ overrides) or description fields, not both; got preset={preset!r} and "
                                f"{', '.join(sorted(given))}. Change a preset with overrides, e.g. vars.d_model=128")
            text = from_preset(preset, overrides)
        else:
            text = from_description(Description(name, d_model, n_layers, n_heads, n_kv_heads, d_ff, vocab_size, attention,
                                                sem_dim, geo_dim, block_size, data_path, steps, batch_size, lr, device,
                                                list(seeds), list(benchmarks)), overrides)
        result = inspect_manifest(ws, text).result()
        return GeneratedManifest(manifest=text, ok=result.ok, errors=result.errors)

    @server.tool()
    def validate_manifest(manifest: ManifestArg) -> ValidationResult:
        """Check a manifest completely (syntax, schema, references, dimensions, runs,
        comparability, workspace rules) without running anything. Returns ok and every error
        with its field path, line, column, message and a fix hint. An invalid manifest is a
        normal answer: fix the reported fields and validate again."""
        return inspect_manifest(ws, manifest).result()

    @server.tool()
    def dry_run_manifest(manifest: ManifestArg, target: TargetArg = None) -> DryRunResult:
        """Plan a valid manifest without training: parameters per layer, FLOPs per token,
        memory (weights, gradients, optimizer, activations), KV-cache bytes per token per cache
        kind, tokens and runs, and the kernel path of each operation. Use it before
        run_manifest to see what a run will cost. Fails with the errors if the manifest is invalid."""
        from caramba.engine.manifest.selection import TargetChoiceError, select_targets
        from caramba.engine.plan.bounded import bounded_dry_run

        compiled = inspect_manifest(ws, manifest).require()
        try:
            select_targets(compiled.manifest, target)
        except TargetChoiceError as exc:
            raise ToolError(str(exc)) from None
        limits = ws.config.mcp  # the server survives any model: planned in a child under a time and memory bound
        plans = bounded_dry_run(compiled, target, limits.dry_run_timeout_s, limits.dry_run_memory_mb)
        return DryRunResult(manifest_digest=compiled.digest, targets=[json_safe(p) for p in plans])


DESCRIPTION_FIELDS = tuple(Description.__dataclass_fields__)
DESCRIPTION_DEFAULTS: dict[str, Any] = {k: getattr(Description(), k) for k in DESCRIPTION_FIELDS}
