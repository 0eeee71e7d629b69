"""``benchmarks``: measurements after training (perplexity, latency, memory)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from caramba.engine.manifest.paths import BenchmarkModel, TokenFilePath
from caramba.engine.model.config.base import StrictModel

CacheKind = Literal["fp16", "bf16", "fp32", "q8", "q4"]


class CacheConfig(StrictModel):
    """The KV-cache policy of decoding: storage kind, quantisation blocks, exact recent window.

    q8/q4 quantise each head vector in blocks of ``block_size`` values with one float16
    scale per block; the ``residual_window`` most recent tokens stay in the compute dtype.
    DBA layers cache ``k_sem``, ``k_geo`` and ``v``; ``sem_kind``/``geo_kind``/``v_kind``
    override ``kind`` for each of them (``v_kind`` also applies to standard attention's v).
    """

    kind: CacheKind = Field(default="fp16", description="storage kind of every cached tensor")
    block_size: int = Field(default=32, ge=2, description="values per quantisation block (must divide each head width)")
    residual_window: int = Field(default=0, ge=0, description="most recent tokens kept in full precision (q8/q4)")
    sem_kind: CacheKind | None = Field(default=None, description="DBA semantic keys (default: kind)")
    geo_kind: CacheKind | None = Field(default=None, description="DBA geometric keys (default: kind)")
    v_kind: CacheKind | None = Field(default=None, description="values (default: kind)")


class PerplexityBenchmark(StrictModel):
    """Token-weighted NLL/PPL over non-overlapping (or strided) windows of held-out tokens."""

    type: Literal["perplexity"] = "perplexity"
    dataset: TokenFilePath | None = Field(default=None, description="token file (default: the target's data, validation split)")
    block_size: int = Field(ge=1, description="window length")
    batch_size: int = Field(default=1, ge=1, description="windows per forward")
    num_batches: int | None = Field(default=None, ge=1, description="cap on batches (default: the whole split)")
    stride: int | None = Field(default=None, ge=1, description="window stride (default: block_size, no overlap)")


class LatencyBenchmark(StrictModel):
    """Prefill, time-to-first-token and per-token decode latency over a grid of sizes."""

    type: Literal["latency"] = "latency"
    prompt_lengths: list[int] = Field(min_length=1, description="prompt lengths")
    generation_lengths: list[int] = Field(min_length=1, description="generated tokens")
    batch_sizes: list[int] = Field(default=[1], min_length=1, description="batch sizes")
    warmup_runs: int = Field(default=2, ge=0, description="untimed runs first")
    timed_runs: int = Field(default=5, ge=1, description="timed runs (median and p90 reported)")
    use_cache: bool = Field(default=True, description="decode with a KV cache (false: recompute the full prefix)")
    cache_kind: CacheKind = Field(default="fp16", description="KV-cache storage kind (shorthand for cache.kind)")
    cache: CacheConfig | None = Field(default=None, description="full cache policy (kinds per tensor, blocks, window)")

    @model_validator(mode="after")
    def _one_kind(self) -> "LatencyBenchmark":
        if self.cache is not None and "cache_kind" in self.model_fields_set and self.cache.kind != self.cache_kind:
            raise ValueError(f"cache_kind {self.cache_kind} contradicts cache.kind {self.cache.kind}; "
                             "remove cache_kind and keep cache.kind")
        return self


class MemoryBenchmark(StrictModel):
    """Measured peak memory and measured KV-cache bytes per cache kind and length."""

    type: Literal["memory"] = "memory"
    sequence_lengths: list[int] = Field(min_length=1, description="context lengths")
    batch_sizes: list[int] = Field(default=[1], min_length=1, description="batch sizes")
    measure_peak: bool = Field(default=True, description="measure peak memory of a prefill")
    measure_kvcache: bool = Field(default=True, description="measure the bytes of real cache tensors")
    quantization_modes: list[CacheKind] = Field(default=["fp16"], min_length=1, description="cache kinds measured")
    cache: CacheConfig | None = Field(default=None, description="block size and residual window of the q8/q4 modes")


BenchmarkConfig = Annotated[Union[PerplexityBenchmark, LatencyBenchmark, MemoryBenchmark], Field(discriminator="type")]


class Benchmark(StrictModel):
    """One benchmark entry of a target."""

    id: str = Field(min_length=1, description="name of the benchmark (the `benchmark` column of its type's CSV)")
    config: BenchmarkConfig
    models: list[BenchmarkModel] = Field(default=["student"], min_length=1, description="student, teacher, or checkpoint paths")
    repeats: int = Field(default=1, ge=1, description="repetitions (mean and spread reported, never the best)")
