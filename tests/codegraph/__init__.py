"""Tests of the code graph (caramba.codegraph) and its CLI, on real FalkorDBLite."""
