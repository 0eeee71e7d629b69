"""The knowledge memory: what caramba has learned, time-aware, searchable, joined to the code graph.

Two stores behind one API (:class:`caramba.memory.api.Memory`):

* a **Graphiti temporal knowledge graph** in the same FalkorDB as the code graph (its own
  graph per workspace): runs, their experiment/arm, seed, manifest digest, the classes
  they used, metrics, verdicts and artifacts, written as entities and edges with no LLM;
  *findings* (which arm leads an experiment on a metric) carry ``valid_at``/``invalid_at``
  so a newer result supersedes an older one and both stay queryable;
* a **DeepLake dataset** of text chunks (run reports, findings, transcript turns, notes)
  with BM25 and vector indexes, each chunk linked to its source (run id, session and turn,
  file and line).

It is fed by the run store's end-of-run hook (:mod:`caramba.memory.hook`), by agent
sessions (:func:`caramba.memory.hook.record_session`) and by ``caramba memory sync``; it is
read through the MCP tools ``memory_*`` and ``caramba memory …``.
"""

import os

# Graphiti's own switch (a library setting, not caramba configuration): it otherwise sends
# usage telemetry to PostHog whenever it is imported outside pytest. Memory never does.
os.environ.setdefault("GRAPHITI_TELEMETRY_ENABLED", "false")

from caramba.memory.errors import MemoryUnavailable, NeedsModel

__all__ = ["MemoryUnavailable", "NeedsModel"]
