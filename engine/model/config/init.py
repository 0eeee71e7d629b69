"""``system.config.init``: the initialisation scheme of a system's weights.

The schemes themselves live in ``engine/model/init`` (torch-free here, so validation stays
fast). A system that states no ``init`` uses its family's standard recipe
(``SystemConfig.default_init``): ``gpt2`` for language models, ``torch`` (PyTorch's
module defaults) for the classifier, node-classifier, denoiser and graph systems.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from caramba.engine.model.config.base import StrictModel


class InitConfig(StrictModel):
    """How the weights of a freshly built system are drawn.

    ``gpt2``: linear and embedding weights N(0, std), residual outputs N(0, std/√(2·n_layers)),
    biases 0. ``llama``: the Hugging Face Llama convention (N(0, std), no residual scaling).
    ``torch``: PyTorch's module defaults (``std`` does not apply).
    """

    scheme: Literal["gpt2", "llama", "torch"] = Field(description="gpt2, llama or torch (PyTorch defaults)")
    std: float = Field(default=0.02, gt=0, le=1, description="standard deviation of weights (gpt2, llama)")

    @model_validator(mode="after")
    def _std_needs_a_drawing_scheme(self) -> "InitConfig":
        if self.scheme == "torch" and "std" in self.model_fields_set:
            raise ValueError("init.std does not apply to scheme torch (PyTorch's defaults); remove std or use gpt2/llama")
        return self


class SystemConfig(StrictModel):
    """Base of every system config: the optional ``init`` and the family's default."""

    default_init: ClassVar[str] = "torch"
    init: InitConfig | None = Field(default=None, description="initialisation scheme (default: the family's recipe)")

    def init_scheme(self) -> InitConfig:
        """The scheme that applies: ``init`` when given, else the family default (std 0.02)."""
        return self.init if self.init is not None else InitConfig(scheme=self.default_init)  # type: ignore[arg-type]
