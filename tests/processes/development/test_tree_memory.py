"""Node outcomes go to the real workspace memory (DeepLake chunks), and a second session reads them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.memory.api import Memory
from caramba.processes.development.tree import Change, Goal
from caramba.processes.development.tree.memory import is_repeat, remember_node, tried_before
from tests.processes.development.trees import GOAL, child, finish, small


def test_a_second_session_sees_the_first_sessions_refuted_variants(tmp_path: Path) -> None:
    first = small()
    worse = child(first, "n0", "model.d_model", 32, 16, 1)
    finish(first, worse.id, [3.60, 3.62, 3.58])  # significantly worse than n0: refuted
    with Memory(tmp_path) as memory:
        for node in first.ordered():
            remember_node(memory, first, node, "session-1")
        remember_node(memory, first, first.nodes["n1"], "session-1")  # again: replaces, does not duplicate
    with Memory(tmp_path) as memory:  # a new session, a new connection to the same workspace
        tried = tried_before(memory, Goal(question=GOAL.question, metric="val_loss", direction="min"))
        other_metric = tried_before(memory, Goal(question=GOAL.question, metric="val_ppl", direction="min"))
        hits = memory.search("d_model 32 -> 16 refuted", k=3, mode="bm25")["hits"]
        facts = memory.facts("session-1/n5")["facts"]
    by_node = {entry["node"]: entry for entry in tried}
    assert sorted(by_node) == ["n1", "n2", "n3", "n4", "n5"] and len(tried) == 5  # the root (no diff) is left out
    assert other_metric == []
    assert by_node["n5"]["refuted"] and by_node["n5"]["diff_text"] == "model.d_model: 32 -> 16"
    assert by_node["n5"]["run_ids"] == ["n5-s0", "n5-s1", "n5-s2"] and by_node["n5"]["mean"] == pytest.approx(3.6)
    assert "significant" in by_node["n5"]["outcome"] and by_node["n5"]["session"] == "session-1"
    assert by_node["n4"]["refuted"] and by_node["n4"]["status"] == "pruned" and "diverged" in by_node["n4"]["reason"]
    assert not by_node["n1"]["refuted"] and by_node["n2"]["status"] == "invalid"
    repeat = is_repeat([Change(path="model.d_model", old=32, new=16)], tried)
    assert repeat is not None and repeat["node"] == "n5"
    assert is_repeat([{"path": "train.lr", "old": 0.003, "new": 0.3}], tried)["node"] == "n4"  # dicts work too
    assert is_repeat([Change(path="model.d_model", old=32, new=24)], tried) is None
    assert hits and hits[0]["source"]["node"] == "n5" and hits[0]["kind"] == "development"
    relations = {f["relation"]: f["fact"] for f in facts}
    assert relations["HAS_VERDICT"].startswith("variant session-1/n5 (model.d_model: 32 -> 16 (from n0)) was refuted: done")
    assert "tried model.d_model: 32 -> 16" in relations["TRIED_IN"] and "session-1/n0" in relations["VARIANT_OF"]
    assert "over runs n5-s0, n5-s1, n5-s2" in relations["MEASURED"]
