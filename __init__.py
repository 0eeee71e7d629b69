"""caramba: a research assistant for ML architecture research.

Experiments enter as YAML manifests (see ``caramba.engine.manifest``), are validated and
dry-run before they cost anything, then run on a real PyTorch engine. Persona agents and
external LLM clients act only through the MCP tools in ``caramba.tools``.

Heavy modules (torch, the agents) are imported lazily so that ``caramba --help`` and
``caramba validate`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
ENGINE_VERSION = "1"

if TYPE_CHECKING:  # pragma: no cover - typing only
    from torch import nn


def load_pretrained(path: str) -> "nn.Module":
    """Load a local Hugging Face checkpoint directory as the equivalent caramba model.

    See ``caramba.engine.hf.load_pretrained`` for the supported architectures.
    """
    from caramba.engine.hf import load_pretrained as _load

    return _load(path)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'caramba' has no attribute {name!r}")
