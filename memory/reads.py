"""Graph questions of the memory: facts about an entity, the timeline of findings, related runs, stats.

Functions of a :class:`caramba.memory.api.Memory` (its methods delegate here). Every
date is an ISO 8601 string; ``as_of`` keeps the facts that held at that moment
(``valid_at <= as_of`` and not yet invalid), which answers "what did we believe on D?".
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from caramba.memory.runfacts import RunFacts

if TYPE_CHECKING:  # pragma: no cover - typing only
    from caramba.memory.api import Memory

HOLDS = "(e.valid_at IS NULL OR e.valid_at <= $as_of) AND (e.invalid_at IS NULL OR e.invalid_at > $as_of)"


def facts(memory: "Memory", entity: str, as_of: str | None = None, limit: int = 200) -> dict[str, Any]:
    """Every fact (edge) touching the entity named ``entity``, with validity intervals.

    When no entity has that name the graph's hybrid fact search answers instead, and the
    result says so (``matched: "search"``).
    """
    graph = memory.graph
    found = graph.entities(entity)
    if not found:
        return {"entity": entity, "matched": "search", "as_of": as_of, "facts": graph.search(entity, min(limit, 20))}
    where = "(s.uuid IN $ids OR t.uuid IN $ids)" + (f" AND {HOLDS}" if as_of else "")
    edges = graph.edges(where, {"ids": [e["uuid"] for e in found], "as_of": as_of}, limit)
    return {"entity": entity, "matched": "entity", "entities": found, "as_of": as_of, "facts": edges}


def timeline(memory: "Memory", experiment: str | None = None, limit: int = 200) -> dict[str, Any]:
    """Findings over time (oldest first): what led each experiment on each metric, from when until when."""
    where = "e.name STARTS WITH 'FINDING_'" + (" AND s.name = $experiment" if experiment else "")
    events = memory.graph.edges(where, {"experiment": experiment}, limit)
    for event in events:
        event["status"] = "superseded" if event["invalid_at"] else "current"
        event["metric"] = event["relation"].removeprefix("FINDING_").lower()
        event["run_id"] = event.pop("target")
        event["experiment"] = event.pop("source")
    return {"experiment": experiment, "events": events}


def related_runs(memory: "Memory", component: str, limit: int = 100) -> dict[str, Any]:
    """Runs that used ``component`` (a class or manifest type name), through the code graph.

    The name is resolved in every code graph of the database: a ``Class`` with that name
    or qualified name, or a manifest ``TypeName`` followed along its ``REGISTERS`` edge
    (and one ``CALLS`` step, for registered builder functions) to the classes that
    implement it. Runs are then those whose ``USED`` edges reach one of those classes.
    """
    qualnames, code_graphs = resolve_classes(memory, component)
    rows = memory.graph.ro_query(
        "MATCH (r:Run)-[e:RELATES_TO {name: 'USED'}]->(c:Component) WHERE r.memory_hash IS NOT NULL AND "
        "(c.qualname IN $qualnames OR toLower(c.name) = toLower($name)) "
        "RETURN r.finished, r.facts_json, collect(c.qualname) ORDER BY r.finished LIMIT $limit",
        {"qualnames": sorted(qualnames), "name": component, "limit": limit})
    runs = []
    for _, facts_json, used in rows:
        run = RunFacts.from_json(json.loads(facts_json))
        runs.append({"run_id": run.run_id, "experiment": run.experiment, "arm": run.arm, "status": run.status,
                     "finished": run.when, "used": sorted(set(used)), "metrics": run.metrics, "variants": run.variants})
    return {"component": component, "classes": sorted(qualnames), "code_graphs": code_graphs, "runs": runs}


def resolve_classes(memory: "Memory", name: str) -> tuple[set[str], list[str]]:
    """Qualified names of the classes ``name`` stands for in the code graphs; and the graphs asked."""
    database = memory.graph.db
    graphs = [g for g in database.list_graphs() if not g.startswith("memory_")]
    found: set[str] = set()
    asked: list[str] = []
    for graph_name in graphs:
        graph = database.graph(graph_name)
        labels = graph.ro_query("CALL db.labels() YIELD label RETURN label").result_set
        if ["Class"] not in labels:
            continue
        asked.append(graph_name)
        rows = graph.ro_query("MATCH (c:Class) WHERE c.name = $name OR c.qualname = $name RETURN c.qualname",
                              {"name": name}).result_set
        found.update(row[0] for row in rows)
        if ["TypeName"] in labels:
            rows = graph.ro_query(
                "MATCH (n:TypeName)-[:REGISTERS]->(t) WHERE n.name = $name "
                "OPTIONAL MATCH (t)-[:CALLS]->(c:Class) RETURN t.qualname, labels(t), collect(c.qualname)",
                {"name": name}).result_set
            for target, target_labels, called in rows:
                if "Class" in target_labels:
                    found.add(target)
                found.update(q for q in called if q)
    return found, asked


def stats(memory: "Memory") -> dict[str, Any]:
    """Sizes: recorded runs, entities and facts by kind, chunks by kind, and what the stores are."""
    graph = memory.graph
    labels = graph.ro_query("MATCH (n:Entity) UNWIND labels(n) AS l WITH l WHERE l <> 'Entity' RETURN l, count(*)")
    relations = graph.ro_query("MATCH ()-[e:RELATES_TO]->() RETURN e.name, count(*)")
    kinds: dict[str, int] = {}
    for row in memory.chunks.rows():
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    return {"runs_recorded": len(graph.recorded()), "entities": dict(sorted(labels)), "facts": dict(sorted(relations)),
            "chunks": dict(sorted(kinds.items())), "embedder": memory.embedder.identity,
            "graph": f"{memory.db_location} (graph {memory.group})", "chunk_dataset": memory.chunk_location}
