"""Benchmarks after training: perplexity, latency and memory, measured, then written as artifacts.

``run_benchmarks(target, models, dataset, run_dir, run_id, digest, device)`` is the entry
point the run executor calls (docs/contracts.md); ``compare_runs`` writes side-by-side
artifacts of several finished runs.
"""

from caramba.engine.bench.runner import run_benchmarks

__all__ = ["run_benchmarks"]
