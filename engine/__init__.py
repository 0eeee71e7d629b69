"""The experiment engine: manifest → plan → build → train → verify → benchmark → artifacts.

Sub-packages follow the pipeline: ``manifest`` (schema, torch-free), ``compiler`` (parse,
lower, validate), ``plan`` (dry-run), ``model`` (layers, topologies, systems), ``data``,
``train``, ``verify``, ``bench`` and ``store`` (the run store).
"""
