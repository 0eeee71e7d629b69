"""``GraphStore``: the memory's Graphiti graph in the workspace's FalkorDB.

The database is the code graph's (``graph.db`` of ``caramba.yml``: the embedded
FalkorDBLite file by default, or a server URL), opened through
:class:`caramba.codegraph.database.Database` so the MCP server and the CLI share one
embedded server. The memory's graph is the Graphiti group ``group`` (a FalkorDB graph of
its own). Writes go through Graphiti's bulk save with no LLM; a run counts as recorded
only once its ``Run`` node carries ``memory_hash`` (set last, after its edges), so a
writer killed part-way leaves nothing that reads as a complete run, and ``caramba memory
sync`` rewrites it. Reads are read-only Cypher (``ro_query``) on the same graph.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from caramba.codegraph.database import Database
from caramba.memory.clients import EmbedderAdapter, EmbeddingRanker, NoModel
from caramba.memory.embedder import Embedder
from caramba.memory.loop import LoopThread
from caramba.memory.runfacts import RunFacts
from caramba.memory.triplets import Triplets

#: Embeddings of entity names and facts kept per process (shared names recur in every run).
CACHE_SIZE = 20_000
EDGE_COLUMNS = ("e.name", "e.fact", "e.valid_at", "e.invalid_at", "s.name", "t.name", "e.uuid")


class GraphStore:
    """The memory graph ``group`` in the database at ``location``."""

    def __init__(self, location: str | Path, group: str, embedder: Embedder, llm: Any = None, check: bool = True) -> None:
        """Open the database and Graphiti (``llm``: a Graphiti LLM client, or None for no model).

        The graph records the embedder its vectors come from; another one is refused
        (unless not ``check``: :meth:`reembed` is about to replace them).
        """
        from graphiti_core import Graphiti
        from graphiti_core.driver.falkordb_driver import FalkorDriver

        self.group = group
        self.db = Database.open(location)
        self.loop = LoopThread()
        self.adapter = EmbedderAdapter(embedder)
        self._cache: dict[str, list[float]] = {}
        self._spill: dict[str, list[float]] = {}

        # Graphiti's FalkorDB driver logs every index that already exists at INFO each time a
        # memory is opened: for a reopened memory that is the normal case, not news, and it
        # buried the end of every `caramba run` under a dozen lines. Its warnings still show.
        logging.getLogger("graphiti_core.driver.falkordb_driver").setLevel(logging.WARNING)

        async def connect() -> Graphiti:
            import falkordb.asyncio as falkor_async

            if self.db.embedded:
                client = falkor_async.FalkorDB(unix_socket_path=self.db._client.client.socket_file)
            else:
                client = falkor_async.FalkorDB.from_url(self.db.location.replace("falkor", "redis", 1))
            driver = FalkorDriver(falkor_db=client, database=group)
            graphiti = Graphiti(graph_driver=driver, llm_client=llm or NoModel(), embedder=self.adapter,
                                cross_encoder=EmbeddingRanker(embedder))
            await graphiti.build_indices_and_constraints()
            return graphiti

        self.graphiti = self.loop.run(connect())
        self.graph = self.db.graph(group)
        if check:
            self._check_embedder()

    def _check_embedder(self) -> None:
        from caramba.memory.errors import MemoryUnavailable

        built = self.ro_query("MATCH (m:MemoryMeta {key: 'embedder'}) RETURN m.value")
        if built and built[0][0] != self.adapter.embedder.identity:
            self.close()
            raise MemoryUnavailable(
                f"the memory graph {self.group} was embedded with {built[0][0]}, but the configured embedder is "
                f"{self.adapter.embedder.identity}; run `caramba memory sync --reembed` to re-embed it, or set "
                "memory.embedder back in caramba.yml")

    def _stamp_embedder(self) -> None:
        self.graph.query("MERGE (m:MemoryMeta {key: 'embedder'}) SET m.value = $value",
                         {"value": self.adapter.embedder.identity})

    def reembed(self) -> int:
        """Recompute every entity-name and fact embedding with the configured embedder; return how many."""
        nodes = self.ro_query("MATCH (n:Entity) RETURN n.uuid, n.name")
        edges = self.ro_query("MATCH ()-[e:RELATES_TO]->() RETURN e.uuid, e.fact")
        vectors = self.adapter.embedder.embed([name for _, name in nodes] + [fact for _, fact in edges])
        node_rows = [{"uuid": u, "v": v.tolist()} for (u, _), v in zip(nodes, vectors[: len(nodes)])]
        edge_rows = [{"uuid": u, "v": v.tolist()} for (u, _), v in zip(edges, vectors[len(nodes):])]
        if node_rows:
            self.graph.query("UNWIND $rows AS row MATCH (n:Entity {uuid: row.uuid}) SET n.name_embedding = vecf32(row.v)",
                             {"rows": node_rows})
        if edge_rows:
            self.graph.query("UNWIND $rows AS row MATCH ()-[e:RELATES_TO {uuid: row.uuid}]->() "
                             "SET e.fact_embedding = vecf32(row.v)", {"rows": edge_rows})
        self._stamp_embedder()
        self.db.save()
        self._cache.clear()
        return len(node_rows) + len(edge_rows)

    def close(self) -> None:
        """Close Graphiti, the loop and this process's database connection."""
        self.loop.run(self.graphiti.close())
        self.loop.close()
        self.db.close()

    def write(self, triplets: Triplets, markers: dict[str, str]) -> None:
        """Save ``triplets`` (one bulk save), then mark each run in ``markers`` (run id → hash) recorded."""
        from graphiti_core.utils.bulk_utils import add_nodes_and_edges_bulk

        nodes, edges = list(triplets.nodes.values()), list(triplets.edges.values())
        vectors = self._vectors([n.name for n in nodes] + [e.fact for e in edges])
        for node in nodes:
            node.name_embedding = vectors[node.name]
        for edge in edges:
            edge.fact_embedding = vectors[edge.fact]
        self.loop.run(add_nodes_and_edges_bulk(self.graphiti.driver, [], [], nodes, edges, self.adapter))
        self._stamp_embedder()
        if markers:
            self.graph.query("UNWIND $rows AS row MATCH (r:Run {uuid: row.uuid}) SET r.memory_hash = row.hash",
                             {"rows": [{"uuid": triplets.uid(f"Run:{run}"), "hash": h} for run, h in markers.items()]})
        self.db.save()

    def _vectors(self, texts: list[str]) -> dict[str, list[float]]:
        """Embeddings of ``texts`` in one batch; names seen before (metrics, classes, verdicts) come from a cache."""
        missing = sorted({t for t in texts if t not in self._cache})
        for text, vector in zip(missing, self.adapter.embedder.embed(missing)):
            if len(self._cache) < CACHE_SIZE:
                self._cache[text] = vector.tolist()
            else:
                self._spill[text] = vector.tolist()
        found = {t: self._cache.get(t) or self._spill[t] for t in texts}
        self._spill.clear()
        return found

    def recorded(self) -> dict[str, str]:
        """``{run id: content hash}`` of every completely recorded run."""
        if not self.db.graph_exists(self.group):
            return {}
        rows = self.graph.ro_query("MATCH (r:Run) WHERE r.memory_hash IS NOT NULL RETURN r.run_id, r.memory_hash").result_set
        return {run: digest for run, digest in rows}

    def runs(self, experiment: str | None = None) -> list[RunFacts]:
        """The facts of every recorded run (of ``experiment``)."""
        if not self.db.graph_exists(self.group):
            return []
        where = " AND r.experiment = $experiment" if experiment else ""
        rows = self.graph.ro_query(f"MATCH (r:Run) WHERE r.memory_hash IS NOT NULL{where} RETURN r.facts_json",
                                   {"experiment": experiment}).result_set
        return [RunFacts.from_json(json.loads(row[0])) for row in rows]

    def edges(self, where: str, params: dict[str, Any], limit: int = 200) -> list[dict[str, Any]]:
        """``RELATES_TO`` edges matching ``where`` (over ``e``, source ``s``, target ``t``), oldest first."""
        if not self.db.graph_exists(self.group):
            return []
        cypher = (f"MATCH (s:Entity)-[e:RELATES_TO]->(t:Entity) WHERE {where} RETURN {', '.join(EDGE_COLUMNS)} "
                  f"ORDER BY e.valid_at, e.name LIMIT {int(limit)}")
        return [dict(zip(("relation", "fact", "valid_at", "invalid_at", "source", "target", "uuid"), row))
                for row in self.graph.ro_query(cypher, params).result_set]

    def entities(self, name: str) -> list[dict[str, Any]]:
        """Entities named ``name`` (case-insensitive), with their labels."""
        if not self.db.graph_exists(self.group):
            return []
        rows = self.graph.ro_query("MATCH (n:Entity) WHERE toLower(n.name) = toLower($name) "
                                   "RETURN n.name, labels(n), n.uuid", {"name": name}).result_set
        return [{"name": n, "labels": [l for l in labels if l != "Entity"], "uuid": u} for n, labels, u in rows]

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Graphiti's hybrid (BM25 + cosine, RRF) search over the graph's facts."""
        if not self.db.graph_exists(self.group):
            return []
        found = self.loop.run(self.graphiti.search(query, group_ids=[self.group], num_results=limit))
        return [{"relation": e.name, "fact": e.fact, "valid_at": e.valid_at.isoformat() if e.valid_at else None,
                 "invalid_at": e.invalid_at.isoformat() if e.invalid_at else None, "uuid": e.uuid} for e in found]

    def ro_query(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """Read-only Cypher on the memory graph (the database refuses writes)."""
        if not self.db.graph_exists(self.group):
            return []
        return self.graph.ro_query(cypher, params or {}).result_set
