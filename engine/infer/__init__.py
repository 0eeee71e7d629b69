"""Inference: KV caches (dense and block-quantised), sampling, generation, budget planning.

``generate(model, prompt, n, Sampling(...), CachePolicy(...))`` runs a prefill and one
decode step per token; ``Decoder`` exposes the two steps for the latency benchmark;
``plan_budget`` answers "how long a context fits in this much memory, per cache kind".
"""

from caramba.engine.infer.budget import cache_bytes, longest_context, plan_budget, probe_layout
from caramba.engine.infer.cache import KINDS, CachePolicy, ModelCache
from caramba.engine.infer.generate import Decoder, decoder, generate
from caramba.engine.infer.sampling import Sampling, sample

__all__ = ["KINDS", "CachePolicy", "Decoder", "ModelCache", "Sampling", "cache_bytes", "decoder", "generate",
           "longest_context", "plan_budget", "probe_layout", "sample"]
