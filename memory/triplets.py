"""Run facts and findings as Graphiti entities and edges (no LLM involved).

Entities (label, name): ``Run`` (run id; attributes: experiment, arm, status, seed,
finished, the facts as JSON), ``Experiment``, ``Arm`` (``experiment/arm``), ``Component``
(class name; attribute ``qualname``, the code graph's key), ``Metric``, ``Verdict``
(the status), ``Artifact`` (``run id/path``). Edges (Graphiti ``RELATES_TO`` with a
relation name): ``IN_ARM``, ``PART_OF``, ``USED``, ``MEASURED`` (attribute ``value``),
``HAS_VERDICT``, ``PRODUCED`` and, from an experiment to its leading run, ``FINDING``
(attribute ``metric``) with ``valid_at``/``invalid_at``. Every uuid is derived from the
memory group and the entity's key, so writing the same facts twice changes nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from graphiti_core.edges import EntityEdge
from graphiti_core.nodes import EntityNode

from caramba.memory.findings import Finding
from caramba.memory.runfacts import LABELS, RunFacts


def stamp(iso: str) -> datetime:
    """Parse an ISO time (UTC assumed when it has no zone)."""
    value = datetime.fromisoformat(iso)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Triplets:
    """Builds the entities and edges of one memory group."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.nodes: dict[str, EntityNode] = {}
        self.edges: dict[str, EntityEdge] = {}

    def uid(self, key: str) -> str:
        """The stable uuid of ``key`` in this group."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"caramba-memory:{self.group}:{key}"))

    def node(self, label: str, name: str, summary: str = "", **attributes: object) -> EntityNode:
        """The entity ``label:name`` (created once)."""
        key = f"{label}:{name}"
        if key not in self.nodes:
            self.nodes[key] = EntityNode(uuid=self.uid(key), name=name, group_id=self.group, labels=["Entity", label],
                                         summary=summary, attributes=dict(attributes), created_at=datetime.now(timezone.utc))
        return self.nodes[key]

    def edge(self, source: EntityNode, relation: str, target: EntityNode, fact: str, when: str,
             invalid: str = "", **attributes: object) -> EntityEdge:
        """The edge ``source -relation-> target`` stating ``fact`` from ``when`` (until ``invalid``)."""
        key = f"{source.uuid}|{relation}|{target.uuid}"
        valid_at = stamp(when) if when else None
        edge = EntityEdge(uuid=self.uid(key), source_node_uuid=source.uuid, target_node_uuid=target.uuid, name=relation,
                          fact=fact, group_id=self.group, created_at=valid_at or datetime.now(timezone.utc),
                          valid_at=valid_at, invalid_at=stamp(invalid) if invalid else None,
                          expired_at=stamp(invalid) if invalid else None, episodes=[], attributes=dict(attributes))
        self.edges[key] = edge
        return edge

    def run(self, facts: RunFacts) -> EntityNode:
        """Add a run and everything it relates to; return the run's node."""
        when = facts.when
        run = self.node("Run", facts.run_id, facts.report(), run_id=facts.run_id, experiment=facts.experiment,
                        arm=facts.arm, status=facts.status, seed=facts.seed if facts.seed is not None else -1,
                        finished=facts.when, facts_json=json.dumps(facts.to_json(), sort_keys=True))
        experiment = self.node("Experiment", facts.experiment)
        arm = self.node("Arm", f"{facts.experiment}/{facts.arm}", arm=facts.arm)
        self.edge(run, "IN_ARM", arm, f"run {facts.run_id} is a run of arm {facts.arm} of experiment {facts.experiment}", when)
        self.edge(arm, "PART_OF", experiment, f"{facts.arm} is an arm of experiment {facts.experiment}", when)
        for qualname in facts.components:
            component = self.node("Component", qualname.rsplit(".", 1)[-1], qualname=qualname)
            self.edge(run, "USED", component, f"run {facts.run_id} ({facts.arm}) used {qualname}", when)
        for metric, value in sorted(facts.metrics.items()):
            node = self.node("Metric", metric, LABELS.get(metric, metric))
            self.edge(run, "MEASURED", node, f"run {facts.run_id} ({facts.arm}) measured {LABELS.get(metric, metric)} "
                      f"{metric} = {value:.6g}", when, value=float(value))
        verdict = self.node("Verdict", facts.status)
        reasons = f": {'; '.join(facts.reasons)}" if facts.reasons else ""
        self.edge(run, "HAS_VERDICT", verdict, f"run {facts.run_id} {facts.status}{reasons}", when)
        for path in facts.artifacts:
            artifact = self.node("Artifact", f"{facts.run_id}/{path}", path=path, run_id=facts.run_id)
            self.edge(run, "PRODUCED", artifact, f"run {facts.run_id} produced {path}", when)
        return run

    def finding(self, finding: Finding) -> None:
        """Add ``finding`` as an ``Experiment -FINDING-> Run`` edge with its validity interval."""
        experiment = self.node("Experiment", finding.experiment)
        # The leading run was recorded before (its node carries its own completion marker,
        # which rewriting the node here would erase), so the edge points at its uuid.
        leader = EntityNode(uuid=self.uid(f"Run:{finding.leader.run_id}"), name=finding.leader.run_id,
                            group_id=self.group, labels=["Entity", "Run"])
        self.edge(experiment, f"FINDING_{finding.metric.upper()}", leader, finding.text(), finding.valid_at,
                  finding.invalid_at, metric=finding.metric, superseded_by=finding.superseded_by)
