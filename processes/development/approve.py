"""``--approve``: a human says yes or no before each node's full runs.

Two ways to ask (``config.approve``):

* ``terminal`` — a prompt on the terminal (``caramba develop --approve``): the node, its
  change, its pilot's result and the cost of its full runs; ``y`` runs them;
* ``file`` — for a session started through MCP (``develop_start(approve=true)``): the
  loop writes ``approvals/<node>.request.json`` and waits until ``approvals/<node>.json``
  holds ``{"approve": true|false}``, which the MCP ``develop_approve`` tool writes.

Each answer is kept in the checkpoint (``state.data["approvals"]``), so a resumed session
does not ask again and a replay gives the recorded answers (read from the recorded
session's ``state.json``) without asking anyone.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from caramba.engine.store.atomic import write_json
from caramba.processes.development.tree import Node, Tree, describe

FOLDER = "approvals"


def request_path(folder: Path, node_id: str) -> Path:
    """Where the loop asks about ``node_id``."""
    return folder / FOLDER / f"{node_id}.request.json"


def answer_path(folder: Path, node_id: str) -> Path:
    """Where the answer about ``node_id`` is written (``develop_approve``)."""
    return folder / FOLDER / f"{node_id}.json"


class Approver:
    """Asks before full runs (see the module docstring)."""

    def __init__(self, mode: str | None, folder: Path, session: Any, answers: dict[str, bool]) -> None:
        self.mode, self.folder, self.session, self.answers = mode, folder, session, answers
        replay = session.options.replay
        self.recorded: dict[str, bool] = {}
        if replay is not None and (Path(replay).parent / "state.json").is_file():
            self.recorded = json.loads((Path(replay).parent / "state.json").read_text())["data"].get("approvals", {})

    async def approved(self, node: Node, tree: Tree) -> bool:
        """The answer about ``node``'s full runs (asked once; True without ``--approve``)."""
        if not self.mode:
            return True
        if node.id not in self.answers:
            if self.session.options.replay is not None:
                self.answers[node.id] = bool(self.recorded.get(node.id, False))
            elif self.mode == "terminal":
                self.answers[node.id] = await self._terminal(node, tree)
            else:
                self.answers[node.id] = await self._file(node, tree)
            self.session.checkpoint()
        return self.answers[node.id]

    def _question(self, node: Node, tree: Tree) -> dict[str, Any]:
        change = "the starting manifest" if node.parent is None else describe(node.diff)
        return {"node": node.id, "change": change, "hypothesis": node.hypothesis, "pilot_run_ids": node.pilot_run_ids,
                "cost": node.cost.model_dump(), "seeds": tree.goal.seeds}

    async def _terminal(self, node: Node, tree: Tree) -> bool:
        q = self._question(node, tree)
        prompt = (f"\nRun {node.id} in full ({q['seeds']} seeds; {q['change']}; its pilot runs {node.pilot_run_ids or 'none'} "
                  f"passed)? [y/N] ")
        answer = await asyncio.to_thread(input, prompt)
        return answer.strip().lower() in ("y", "yes")

    async def _file(self, node: Node, tree: Tree) -> bool:
        write_json(request_path(self.folder, node.id), self._question(node, tree))
        self.session.notice(f"waiting for approval of {node.id} (MCP develop_approve)")
        answer = answer_path(self.folder, node.id)
        while not answer.is_file():
            await asyncio.sleep(0.5)
        return bool(json.loads(answer.read_text()).get("approve", False))
