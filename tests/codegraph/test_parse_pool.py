"""Parsing in worker processes gives the same facts as parsing in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.codegraph.parse import POOL_THRESHOLD, parse_all

pytestmark = pytest.mark.slow


def test_pool_and_in_process_parsing_agree(tmp_path: Path) -> None:
    paths = []
    for index in range(POOL_THRESHOLD + 6):
        path = f"pkg/mod{index}.py"
        (tmp_path / "pkg").mkdir(exist_ok=True)
        (tmp_path / path).write_text(f"import os\n\n\ndef f{index}(x):\n    return os.path.join(x, f{index - 1}(x))\n")
        paths.append(path)
    (tmp_path / "pkg" / "bad.py").write_text("def (:\n")
    paths.append("pkg/bad.py")
    pooled = parse_all(str(tmp_path), paths, "", workers=2)
    local = parse_all(str(tmp_path), paths, "", workers=1)
    assert [item.path for item in pooled] == paths
    assert [(f.path, f.error, f.nodes, f.edges, f.refs, f.symbols) for f in pooled] == [
        (f.path, f.error, f.nodes, f.edges, f.refs, f.symbols) for f in local]
    assert pooled[-1].error.startswith("SyntaxError")


def test_full_sync_linked_in_workers_equals_linked_in_process(tmp_path: Path) -> None:
    """A full sync of enough files links in the parse workers; the graph must not differ."""
    from caramba.codegraph.api import CodeGraph

    from .helpers import dump, write_fixture

    repo = write_fixture(tmp_path / "repo")
    for index in range(POOL_THRESHOLD + 4):  # enough files for the pool
        (repo / "pkg" / f"extra{index}.py").write_text(
            "from pkg.shapes import Circle, make_circle\nfrom pkg.util import helper\n\n\n"
            f"class Extra{index}(Circle):\n    def grow(self):\n        helper(self)\n"
            f"        return make_circle({index}).area() + self.area()\n")
    db = tmp_path / "cg.db"
    with CodeGraph(db=db, graph="pooled") as pooled:
        report = pooled.sync(repo, reset=True, workers=2)
        expected = dump(pooled)
    with CodeGraph(db=db, graph="local") as local:
        local.sync(repo, reset=True, workers=1)
        assert dump(local) == expected
    assert report["edges"] > 4 * (POOL_THRESHOLD + 4)  # the extra files' calls and bases resolved
