"""Inference: KV caches (dense and block-quantised), sampling, generation, budget planning.

``generate(model, prompt, n, Sampling(...), CachePolicy(...))`` runs a prefill and one
decode step per token (``generation`` adds tokens/s and the fraction of the bandwidth
bound); ``decoder`` exposes the two steps for the latency benchmark — over a static cache
with captured steps where ``static/plan.py`` allows, else the growing ``ModelCache``;
``plan_budget`` answers "how long a context fits in this much memory, per cache kind".
"""

from caramba.engine.infer.budget import cache_bytes, longest_context, plan_budget, probe_layout
from caramba.engine.infer.cache import KINDS, CachePolicy, ModelCache
from caramba.engine.infer.generate import Decoder, Generation, decoder, generate, generation
from caramba.engine.infer.sampling import Sampling, sample
from caramba.engine.infer.static import StaticCache, StaticDecoder, decode_path
from caramba.engine.infer.throughput import Throughput

__all__ = ["KINDS", "CachePolicy", "Decoder", "Generation", "ModelCache", "Sampling", "StaticCache", "StaticDecoder",
           "Throughput", "cache_bytes", "decode_path", "decoder", "generate", "generation", "longest_context",
           "plan_budget", "probe_layout", "sample"]
