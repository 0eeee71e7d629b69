"""KV caches: dense (fp32/fp16/bf16) and block-quantised (q8_0/q4_0) storage per attention layer."""

from caramba.engine.infer.cache.model import ModelCache, fresh_cache
from caramba.engine.infer.cache.policy import KINDS, CachePolicy

__all__ = ["KINDS", "CachePolicy", "ModelCache", "fresh_cache"]
