"""The development loop on the agent runtime: plan → check → pilot → run → analyse → decide.

One iteration ``k`` (every step checkpointed, so a killed session resumes where it stopped):

1. **decide** — :func:`~caramba.processes.development.tree.search.stop_reason` (target met,
   budgets spent, ``iterations``, ``patience``, nothing left), else the parent is
   :func:`~caramba.processes.development.tree.search.next_to_expand` (best-first);
2. **plan** — each proposer gets a turn ``plan-k.<role>`` with the goal, the tree so far,
   what memory says was tried, and the parent's manifest; it calls ``propose_variant``;
3. each variant becomes a node and goes through :class:`~caramba.processes.development.stages.Stages`
   (check, pilot, full runs); an ``invalid`` one goes back to its proposer (turn
   ``fix-<node>``) with the validator's errors, and the fix is a new node (``fixed_from``);
4. **analyse** — the analyst's turn ``analyse-k`` on the iteration's numbers (each with its
   run ids); each node is compared with its parent (Welch, 95% CI) and remembered.

The root (the starting manifest) is checked and run with the goal's seeds first. The
tree lives in the checkpoint (``state.data["tree"]``) and in ``tree.json``; the compute
ledger, the dry-run shapes and which proposal made which node live beside it.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import yaml

from caramba.agents.runtime import AgentSession, SessionState
from caramba.processes.development import prompts
from caramba.processes.development.approve import Approver
from caramba.processes.development.budget import Ledger
from caramba.processes.development.config import ANALYST, DevelopmentConfig
from caramba.processes.development.decide import ending, grounded, stop_now
from caramba.processes.development.inputs import StartInfo
from caramba.processes.development.outputs import summary_lines, write_outputs
from caramba.processes.development.stages import Stages
from caramba.processes.development.tools import propose_variant_tool
from caramba.processes.development.tree import Goal, Node, NodeStatus, Tree, diff_manifests
from caramba.processes.development.tree.memory import is_repeat
from caramba.processes.development.tree.search import compare_nodes, next_to_expand
from caramba.processes.development.variants import ChangeError, apply_changes, dump

NODES = "nodes"


class Development:
    """The development :class:`~caramba.agents.runtime.Process` (see the module docstring)."""

    def __init__(self, config: DevelopmentConfig, start: StartInfo) -> None:
        self.config, self.start = config, start
        self.session: AgentSession = None  # type: ignore[assignment]  (set by run)
        self.tree: Tree = Tree(goal=self.goal())
        self.stages = Stages(self)
        self.started = time.monotonic()

    # ── what the stages use ─────────────────────────────────────────────────────────
    folder = property(lambda self: self.session.folder)
    workspace = property(lambda self: self.session.options.workspace)

    def goal(self) -> Goal:
        """The tree's goal, from the config."""
        c = self.config
        return Goal(question=c.question, metric=c.metric, direction=c.direction, target=c.target, seeds=c.seeds)

    def save(self) -> None:
        """Checkpoint the tree, ledger and bookkeeping (``state.json``) and write ``tree.json``."""
        data = self.session.state.data
        data["tree"] = self.tree.model_dump(mode="json")
        data["wall_s"] = self.wall_s()
        self.session.checkpoint()
        self.tree.save(self.folder / "tree.json")

    def wall_s(self) -> float:
        """Wall time this session has used, over all its resumptions."""
        return float(self.session.state.data.get("wall_before", 0.0)) + time.monotonic() - self.started

    async def approved(self, node: Node) -> bool:
        """Whether ``node``'s full runs may start (always, without ``--approve``)."""
        return await self.approver.approved(node, self.tree)

    # ── the Process protocol ────────────────────────────────────────────────────────
    async def run(self, session: AgentSession) -> tuple[str, str]:
        """The root, then iterations until a stop reason (module docstring); ``(status, message)``."""
        self.session = session
        data = session.state.data
        data["wall_before"] = float(data.get("wall_s", 0.0))
        if "tree" in data:
            self.tree = Tree.model_validate(data["tree"])
        self.shapes: dict[str, Any] = data.setdefault("shapes", {})
        self.made: dict[str, str] = data.setdefault("made", {})
        self.ledger = Ledger(data.setdefault("charged", {}), self.config.compute_steps, self.config.compute_gpu_hours)
        self.approver = Approver(self.config.approve, self.folder, session, data.setdefault("approvals", {}))
        (self.folder / NODES).mkdir(exist_ok=True)
        root = await self._root()
        if root.status != NodeStatus.done:
            return "failed", f"the starting manifest did not run: {root.status.value} — {root.reason}"
        while True:
            current = data.get("current")
            if current is None:
                reason = stop_now(self)
                if reason is not None:
                    data["stopped"] = reason
                    return "completed", ending(self.tree, reason)
                parent = next_to_expand(self.tree)
                if parent is None:  # stop_reason says so first; kept for safety of the types
                    return "completed", ending(self.tree, "nothing left to expand")
                current = data["current"] = {"iteration": int(data.get("iterations", 0)) + 1, "parent": parent.id}
                self.tree.update(parent.id, expanded=True)
                self.save()
            await self._iteration(current["iteration"], self.tree.get(current["parent"]))
            data["iterations"], data["current"] = current["iteration"], None
            self.save()

    def summary_lines(self, state: SessionState) -> list[str]:
        """The summary's lines about the tree."""
        return summary_lines(state)

    def write_outputs(self, folder: Path, state: SessionState) -> list[str]:
        """tree.json, tree.md, the picture and report.md (:mod:`.outputs`)."""
        return write_outputs(folder, state, self.config)

    # ── steps ───────────────────────────────────────────────────────────────────────
    async def _root(self) -> Node:
        if not self.tree.nodes:
            file = self.folder / NODES / "n0.yml"
            from caramba.agents.manifests.save import save_runnable

            errors = save_runnable(self.config.start_text, file, self.workspace)
            if errors:
                from caramba.processes.development.stages import errors_text

                raise RuntimeError(f"the starting manifest does not compile where it is saved: {errors_text(errors)}")
            self.tree.add(Node(manifest=f"{NODES}/n0.yml", manifest_hash=_hash(file.read_text(encoding='utf-8')),
                               hypothesis="the starting point", proposed_by="start"))
            self.save()
        return await self.stages.advance(self.tree.root)

    async def _iteration(self, k: int, parent: Node) -> None:
        parent_text = (self.folder / parent.manifest).read_text(encoding="utf-8")
        tried = self._tried(k)
        for role in self.config.proposers:
            task = prompts.plan_task(self.config, self.tree, parent, parent_text, tried)
            turn = await self.session.turn(f"plan-{k}.{role}", role, "plan", k, prompts.message(self.config, self.tree, task),
                                           lambda actions: [propose_variant_tool(actions, self.config.max_variants)])
            for j, variant in enumerate(turn.actions.get("variants", [])):
                await self._handle(f"plan-{k}.{role}.{j}", parent, variant, role, k, None, 0, tried)
        await self._analyse(k)

    async def _handle(self, key: str, parent: Node, variant: dict[str, Any], role: str, k: int,
                      fixed_from: str | None, attempt: int, tried: list[dict[str, Any]]) -> None:
        """Make the variant a node, refuse a repeat of a refuted one, advance it, and send an
        invalid (or refused) one back to its proposer for a fix."""
        node_id = self._materialize(key, parent, variant, role, k, fixed_from)
        repeat = is_repeat(self.tree.get(node_id).diff, tried)
        if self.tree.get(node_id).status == NodeStatus.proposed and repeat is not None and repeat.get("refuted"):
            self.tree.update(node_id, status=NodeStatus.invalid, reason=(
                f"already tried and refuted: {repeat['session']}/{repeat['node']} made the same change "
                f"({repeat.get('outcome') or repeat.get('reason') or repeat.get('status')}); propose something else"))
            self.save()
        node = await self.stages.advance(node_id)
        if node.status != NodeStatus.invalid or attempt >= self.config.max_fixes:
            return
        task = prompts.fix_task(node, variant["changes"], node.reason or "")
        turn = await self.session.turn(f"fix-{node.id}", role, "fix", k, prompts.message(self.config, self.tree, task),
                                       lambda actions: [propose_variant_tool(actions, 1)])
        fixes = turn.actions.get("variants", [])
        if fixes:
            await self._handle(f"fix-{node.id}", parent, fixes[0], role, k, node.id, attempt + 1, tried)

    def _materialize(self, key: str, parent: Node, variant: dict[str, Any], role: str, k: int,
                     fixed_from: str | None) -> str:
        """The node of proposal ``key`` (created once: its manifest written, its diff taken)."""
        if key in self.made:
            return self.made[key]
        parent_doc = yaml.safe_load((self.folder / parent.manifest).read_text(encoding="utf-8"))
        node_id = f"n{len(self.tree.nodes)}"
        file = self.folder / NODES / f"{node_id}.yml"
        problem = None
        try:
            child = apply_changes(parent_doc, variant["changes"])
        except ChangeError as exc:
            child, problem = parent_doc, str(exc)
        text = dump(child)
        file.write_text(text, encoding="utf-8")
        node = self.tree.add(Node(parent=parent.id, iteration=k, manifest=f"{NODES}/{node_id}.yml",
                                  manifest_hash=_hash(text), diff=diff_manifests(parent_doc, child),
                                  hypothesis=variant["hypothesis"], refuted_if=variant["refuted_if"],
                                  fixed_from=fixed_from, proposed_by=role))
        if problem is not None:
            self.tree.update(node.id, status=NodeStatus.invalid, reason=f"the changes cannot be applied: {problem}")
        self.made[key] = node.id
        self.save()
        return node.id

    async def _analyse(self, k: int) -> None:
        nodes = [n for n in self.tree.ordered() if n.iteration == k]
        for node in nodes:
            if node.status == NodeStatus.done and node.versus_parent is None and node.parent is not None:
                self.tree.update(node.id, versus_parent=compare_nodes(self.tree, node.parent, node.id))
        self.save()
        parents = {n.parent for n in nodes}
        facts = [prompts.node_line(self.tree, n) for n in self.tree.ordered() if n.iteration == k or n.id in parents]
        for node in nodes:
            if node.versus_parent is not None:
                v = node.versus_parent
                ci = f"95% CI {v['ci_low']:.4f} to {v['ci_high']:.4f}" if v["ci_low"] is not None else "no CI"
                facts.append(f"- {node.id} vs {node.parent}: improvement {v['improvement']:.4f} ({ci}, "
                             f"{'significant' if v['significant'] else 'not significant'}; runs "
                             f"{', '.join(v['b_run_ids'])} vs {', '.join(v['a_run_ids'])})")
        turn = await self.session.turn(f"analyse-{k}", ANALYST, "analyse", k,
                                       prompts.message(self.config, self.tree, prompts.analyse_task(self.tree, nodes, facts)))
        analysis = grounded(turn.text.strip(), "\n".join(facts))
        for node in nodes:
            if node.status in (NodeStatus.done, NodeStatus.pruned, NodeStatus.failed) and node.analysis is None:
                self.tree.update(node.id, analysis=analysis)
        self._remember(nodes)
        self.save()

    # ── memory ──────────────────────────────────────────────────────────────────────
    def _tried(self, k: int) -> list[dict[str, Any]]:
        """What memory says was tried, read once per iteration and kept in the checkpoint (a
        resumed session sends the same messages; a replay uses the recorded session's answer)."""
        from caramba.processes.development.memory import tried

        kept: dict[str, Any] = self.session.state.data.setdefault("tried", {})
        if str(k) not in kept:
            replay = self.session.options.replay
            if replay is not None:
                recorded = json.loads((Path(replay).parent / "state.json").read_text())["data"].get("tried", {})
                kept[str(k)] = recorded.get(str(k), [])
            else:
                kept[str(k)] = json.loads(json.dumps(tried(self.workspace, self.tree.goal), default=str))
            self.session.checkpoint()
        return kept[str(k)]

    def _remember(self, nodes: list[Node]) -> None:
        from caramba.processes.development.memory import remember

        remember(self.workspace, self.tree, nodes, self.folder)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
