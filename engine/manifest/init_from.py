"""``runs[].init_from``: start a run from existing weights instead of a fresh init.

Exactly one source:

* ``hf: <folder | hf://org/name>`` — a Hugging Face Llama/GPT-2 checkpoint (config.json +
  safetensors), converted to caramba names (``engine/hf``);
* ``run: <id>`` — a caramba run: ``previous`` (the run before this one in the target's
  ``runs:`` list as written: chained runs), a run id of this target (``pretrain``), of
  another target (``target: other``), or a full run-store id (``base-train-1a2b3c4d``); its
  ``final`` (newest step) or ``best`` checkpoint. When the named run has a seed list, each
  seed of this run starts from that run's same seed (``global-s1`` from ``blockwise-s1``;
  this run needs a seed list within it), one seed's run is named ``<id>-s<seed>``; when it
  has one seed, every seed of this run starts from it (``engine/compiler/seeds.py``);
* ``path: <file | folder>`` — a ``.safetensors`` file of caramba parameter names, or a
  folder holding ``model.safetensors`` (a caramba checkpoint, or ``caramba import-hf``'s
  output).

A plain string is shorthand for ``path``. Loading is strict by default (every parameter
of the model loaded, shapes equal, nothing left over); ``strict: false`` loads what
matches and lists the missing, unexpected and mis-shaped keys. ``key_map`` renames the
source's keys first (``re.sub(pattern, replacement, key)``, in order). A run's id hashes its
manifest, not the source's bytes: after replacing a ``path``/``hf`` source in place, change
the manifest (or delete the run) to train again. Weights are read
with safetensors only: nothing is unpickled. Paths are workspace paths, resolved like
data paths (relative to the manifest's folder).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from caramba.engine.manifest.paths import CheckpointPath, InputPath
from caramba.engine.model.config.base import StrictModel


class InitFromConfig(StrictModel):
    """Where a run's starting weights come from (see the module docstring)."""

    hf: CheckpointPath | None = Field(default=None, min_length=1, description="Hugging Face checkpoint folder or hf://org/name")
    run: str | None = Field(default=None, min_length=1, description="previous (the run before this one in runs:), a run id "
                            "of this target or of `target` (a seeded run: each seed of this run starts from its same seed; "
                            "one seed's run: blockwise-s0), or a run-store id")
    target: str | None = Field(default=None, min_length=1, description="the target whose run `run` names (default: this one)")
    checkpoint: Literal["final", "best"] = Field(default="final", description="which checkpoint of `run`")
    path: InputPath | None = Field(default=None, min_length=1, description="a .safetensors file or a folder with model.safetensors")
    strict: bool = Field(default=True, description="every parameter loaded with equal shapes, nothing left over")
    key_map: dict[str, str] = Field(default_factory=dict, description="regex → replacement applied to the source's keys")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> "InitFromConfig":
        given = [name for name in ("hf", "run", "path") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"init_from needs exactly one of hf, run, path (got {', '.join(given) or 'none'})")
        if self.run is None and (self.target is not None or self.checkpoint != "final"):
            raise ValueError("init_from.target and init_from.checkpoint apply to `run` only")
        return self

    @field_validator("key_map")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"key_map pattern {pattern!r} is not a regular expression: {exc}") from None
        return value

    def describe(self) -> str:
        """``hf ./dir``, ``run previous (final)`` or ``path ./w.safetensors`` (+ strictness)."""
        if self.run is not None:
            source = f"run {self.target + '/' if self.target else ''}{self.run} ({self.checkpoint})"
        else:
            source = f"hf {self.hf}" if self.hf is not None else f"path {self.path}"
        return source + ("" if self.strict else ", non-strict")
