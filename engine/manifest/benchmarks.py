"""``benchmarks``: measurements after training (perplexity, latency, memory)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from caramba.engine.model.config.base import StrictModel

CacheKind = Literal["fp16", "bf16", "fp32", "q8", "q4"]


class PerplexityBenchmark(StrictModel):
    """Token-weighted NLL/PPL over non-overlapping (or strided) windows of held-out tokens."""

    type: Literal["perplexity"] = "perplexity"
    dataset: str | None = Field(default=None, description="token file (default: the target's data, validation split)")
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
    cache_kind: CacheKind = Field(default="fp16", description="KV-cache storage kind")


class MemoryBenchmark(StrictModel):
    """Measured peak memory and measured KV-cache bytes per cache kind and length."""

    type: Literal["memory"] = "memory"
    sequence_lengths: list[int] = Field(min_length=1, description="context lengths")
    batch_sizes: list[int] = Field(default=[1], min_length=1, description="batch sizes")
    measure_peak: bool = Field(default=True, description="measure peak memory of a prefill")
    measure_kvcache: bool = Field(default=True, description="measure the bytes of real cache tensors")
    quantization_modes: list[CacheKind] = Field(default=["fp16"], min_length=1, description="cache kinds measured")


BenchmarkConfig = Annotated[Union[PerplexityBenchmark, LatencyBenchmark, MemoryBenchmark], Field(discriminator="type")]


class Benchmark(StrictModel):
    """One benchmark entry of a target."""

    id: str = Field(min_length=1, description="name of the benchmark (artifact prefix)")
    config: BenchmarkConfig
    models: list[str] = Field(default=["student"], min_length=1, description="student, teacher, or checkpoint paths")
    repeats: int = Field(default=1, ge=1, description="repetitions (mean and spread reported, never the best)")
