"""Typed, torch-free configs of every layer, topology and model (validated by the compiler)."""
