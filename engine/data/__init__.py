"""Datasets: token files through memmap and synthetic tasks, with deterministic sampling.

Every dataset implements :class:`caramba.engine.data.base.Dataset`.
"""
