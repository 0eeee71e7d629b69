"""One node through the loop's stages: check → pilot → full runs → metrics.

:class:`Stages` advances a node from whatever status it has (so a resumed session picks
up where it stopped), saving the tree after every step:

* **check** (``proposed``): validate through the MCP ``validate_manifest`` tool (invalid →
  ``invalid`` with the validator's errors), dry-run through ``dry_run_manifest`` (its steps,
  tokens and FLOPs price the node), then refuse (``over_budget``) a node whose pilot and
  full runs the compute left cannot pay for; the root goes straight to its full runs;
* **pilot** (``piloting``): a short run (:func:`~caramba.processes.development.inputs.pilot_steps`)
  must succeed with a finite, decreasing loss and the goal metric, else ``pruned`` with why;
* **run** (``running``): the goal's seeds; per-seed values become a ``MetricSummary`` with
  its CI (``done``), or the node ``failed`` with the runs' reasons.

Run ids are recorded on the node and charged to the ledger *before* a run starts; the
ledger is asked first, so no run starts that the budget cannot pay for.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from caramba.processes.development import runs as runs_
from caramba.processes.development.budget import RunShape, charge
from caramba.processes.development.inputs import pilot_steps
from caramba.processes.development.tree import Cost, MetricSummary, Node, NodeStatus
from caramba.processes.development.variants import dump, full_document, pilot_document

if TYPE_CHECKING:
    from caramba.processes.development.process import Development


def errors_text(errors: list[dict[str, Any]]) -> str:
    """Validator errors as ``path (line N): message — hint`` lines."""
    lines = []
    for e in errors[:8]:
        where = e.get("path") or "(manifest)"
        line = f" (line {e['line']})" if e.get("line") else ""
        hint = f" — {e['hint']}" if e.get("hint") else ""
        lines.append(f"{where}{line}: {e.get('message', '')}{hint}")
    return "\n".join(lines)


class Stages:
    """Advances nodes of ``host``'s tree (see the module docstring)."""

    def __init__(self, host: Development) -> None:
        self.host = host

    @property
    def tree(self) -> Any:
        """The host session's tree."""
        return self.host.tree

    def rel(self, path: Path) -> str:
        """``path`` relative to the workspace (how the MCP tools name files)."""
        return str(path.resolve().relative_to(self.host.workspace.resolve()))

    async def advance(self, node_id: str) -> Node:
        """Run every stage the node has left; returns it in a final (or approval-refused) state."""
        if self.tree.get(node_id).status == NodeStatus.proposed:
            await self.check(node_id)
        if self.tree.get(node_id).status == NodeStatus.piloting:
            await self.pilot(node_id)
        if self.tree.get(node_id).status == NodeStatus.running:
            await self.full(node_id)
        return self.tree.get(node_id)

    # ── check ───────────────────────────────────────────────────────────────────────
    async def check(self, node_id: str) -> None:
        """Validate, dry-run and price a proposed node (module docstring)."""
        host, node = self.host, self.tree.get(node_id)
        file = host.folder / node.manifest
        result = await host.session.call_tool("validate_manifest", {"manifest": self.rel(file)})
        if not result["ok"]:
            self._finish(node_id, NodeStatus.invalid, errors_text(result["errors"]))
            return
        plan = await host.session.call_tool("dry_run_manifest", {"manifest": self.rel(file)})
        if not plan["ok"]:
            self._finish(node_id, NodeStatus.invalid, errors_text(plan["errors"]))
            return
        target = next(t for t in plan["targets"] if t.get("target") == host.start.target)
        shape = RunShape.of_plan(target)
        host.shapes[node_id] = shape.__dict__
        full = charge(shape, host.config.seeds, shape.steps, host.config.gpu_flops)
        pilot = charge(shape, 1, pilot_steps(host.config, shape.steps), host.config.gpu_flops)
        is_root = node.parent is None
        need = full if is_root else full + pilot
        refusal = host.ledger.fits(need)
        if refusal is not None:
            self._finish(node_id, NodeStatus.over_budget, f"refused before any run: its {'full runs' if is_root else 'pilot and full runs'} {refusal}")
            return
        self.tree.update(node_id, status=NodeStatus.running if is_root else NodeStatus.piloting)
        host.save()

    # ── pilot ───────────────────────────────────────────────────────────────────────
    async def pilot(self, node_id: str) -> None:
        """Run a piloting node's short pilot and judge it (module docstring)."""
        host, node = self.host, self.tree.get(node_id)
        shape = RunShape(**host.shapes[node_id])
        steps = pilot_steps(host.config, shape.steps)
        file = host.folder / node.manifest.replace(".yml", ".pilot.yml")
        ids = await self._prepare(node_id, file, pilot_document(self._document(node), host.start.target, steps),
                                  "pilot_run_ids", charge(shape, 1, steps, host.config.gpu_flops))
        if ids is None:
            return
        result = (await self._train(file))[0]
        verdict = runs_.pilot_verdict(host.workspace, result, host.config.metric)
        if verdict is not None:
            self._finish(node_id, NodeStatus.pruned, verdict)
            return
        self.tree.update(node_id, status=NodeStatus.running)
        host.save()

    # ── full runs ───────────────────────────────────────────────────────────────────
    async def full(self, node_id: str) -> None:
        """Run a running node's seeds (after approval) and summarise its metric (module docstring)."""
        host, node = self.host, self.tree.get(node_id)
        shape = RunShape(**host.shapes[node_id])
        if not await host.approved(node):
            self._finish(node_id, NodeStatus.failed, "its full runs were not approved (--approve)")
            return
        file = host.folder / node.manifest.replace(".yml", ".runs.yml")
        ids = await self._prepare(node_id, file, full_document(self._document(node), host.start.target, host.config.seeds),
                                  "run_ids", charge(shape, 1, shape.steps, host.config.gpu_flops))
        if ids is None:
            return
        results = await self._train(file)
        failed = [r for r in results if r.status != "succeeded" or r.value is None or not math.isfinite(r.value)]
        if failed:
            self._finish(node_id, NodeStatus.failed, "; ".join(
                f"run {r.run_id} {r.status}: {'; '.join(r.reasons) or f'no finite {host.config.metric} measured'}" for r in failed))
            return
        summary = MetricSummary.of([r.value for r in results], [r.run_id for r in results])  # type: ignore[misc]
        self.tree.update(node_id, status=NodeStatus.done, metrics={host.config.metric: summary})
        host.save()

    # ── shared ──────────────────────────────────────────────────────────────────────
    def _document(self, node: Node) -> dict[str, Any]:
        return yaml.safe_load((self.host.folder / node.manifest).read_text(encoding="utf-8"))

    async def _prepare(self, node_id: str, file: Path, document: dict[str, Any], field: str, each: Any) -> list[str] | None:
        """Write the run manifest, record its run ids on the node and charge them — or refuse
        (over the budget: the node fails with why, nothing starts). None when refused."""
        host = self.host
        if not file.is_file():
            file.write_text(dump(document), encoding="utf-8")
            if runs_.pin_paths(document, file, host.workspace):
                file.write_text(dump(document), encoding="utf-8")
        ids = runs_.planned_ids(host.workspace, file, host.start.target)
        cost = host.ledger.new_cost(ids, each)
        refusal = host.ledger.fits(cost)
        if refusal is not None:
            self._finish(node_id, NodeStatus.failed if field == "run_ids" else NodeStatus.pruned,
                         f"not started: {refusal}")
            return None
        host.ledger.charge(ids, each)
        spent = self.tree.get(node_id).cost  # a node's cost is what was charged for it, pilot and full runs
        self.tree.update(node_id, **{field: ids}, cost=Cost(steps=spent.steps + cost.steps, tokens=spent.tokens + cost.tokens,
                                                            flops=spent.flops + cost.flops, gpu_hours=spent.gpu_hours + cost.gpu_hours))
        host.save()
        return ids

    async def _train(self, file: Path) -> list[runs_.RunOutcome]:
        host = self.host
        host.session.notice(f"training {file.name}")
        return await runs_.train(host.workspace, file, host.start.target, host.folder, host.config.metric)

    def _finish(self, node_id: str, status: NodeStatus, reason: str) -> None:
        self.tree.update(node_id, status=status, reason=reason)
        self.host.session.notice(f"{node_id}: {status.value} — {reason.splitlines()[0][:160]}")
        self.host.save()
