"""Topologies: modules that compose child modules (sequence, residual, parallel, …)."""
