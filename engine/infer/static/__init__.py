"""Static KV caches and captured decode steps (see ``plan.py`` for the paths and when each is taken).

``decode_path(model, policy, device)`` decides once; ``StaticDecoder`` runs it: an eager
prefill into a :class:`StaticCache` allocated for prompt + new tokens, then decode steps
replayed from a CUDA graph (CUDA) or run eagerly on the same buffers (CPU).
"""

from caramba.engine.infer.static.cache import StaticCache
from caramba.engine.infer.static.decoder import StaticDecoder
from caramba.engine.infer.static.plan import DecodePath, announce, decode_path

__all__ = ["DecodePath", "StaticCache", "StaticDecoder", "announce", "decode_path"]
