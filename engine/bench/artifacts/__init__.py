"""Benchmark artifacts: CSV tables, PNG plots, booktabs LaTeX tables, report.json and report.md."""

from caramba.engine.bench.artifacts.report import write_artifacts

__all__ = ["write_artifacts"]
