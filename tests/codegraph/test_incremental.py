"""An incremental sync after edits, additions, deletions and renames equals a fresh full sync.

Each scenario changes the fixture repository, syncs graph ``live`` incrementally and
graph ``fresh`` from scratch (``reset``), then compares every node and edge of the two,
with all properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from caramba.codegraph.api import CodeGraph

from .helpers import dump, write


@pytest.fixture
def pair(db_file: Path) -> Iterator[tuple[CodeGraph, CodeGraph]]:
    """Two graphs in one database: one synced incrementally, one rebuilt each time."""
    live = CodeGraph(db=db_file, graph="live")
    fresh = CodeGraph(db=db_file, graph="fresh")
    yield live, fresh
    fresh.close()
    live.close()


def _assert_same(live: CodeGraph, fresh: CodeGraph, repo: Path) -> dict:
    report = live.sync(repo)
    assert not report["full"], report["reason"]
    fresh.sync(repo, reset=True)
    live_nodes, live_edges = dump(live)
    fresh_nodes, fresh_edges = dump(fresh)
    assert live_nodes - fresh_nodes == set() and fresh_nodes - live_nodes == set()
    assert live_edges - fresh_edges == set() and fresh_edges - live_edges == set()
    return report


def _edit_helper(repo: Path) -> None:
    write(repo, "pkg/util.py", '''
        def helper(value):
            """Help with a value, now twice."""
            return extra(len(value))


        def extra(value):
            return value
        ''')


def _remove_helper(repo: Path) -> None:
    write(repo, "pkg/util.py", "def other(value):\n    return value\n")


def _add_module(repo: Path) -> None:
    write(repo, "pkg/square.py", '''
        from pkg.shapes import Shape, make_circle
        from pkg.util import helper


        class Square(Shape):
            def grow(self):
                make_circle(3)
                helper(self)
                return self.area()
        ''')
    write(repo, "pkg/__init__.py", '''
        """The shapes package."""
        from .shapes import Circle, Shape
        from .square import Square
        from . import util
        ''')


def _delete_module(repo: Path) -> None:
    (repo / "pkg" / "registry.py").unlink()


def _rename_module(repo: Path) -> None:
    (repo / "pkg" / "shapes.py").rename(repo / "pkg" / "forms.py")


def _rename_back_and_fix(repo: Path) -> None:
    (repo / "pkg" / "forms.py").rename(repo / "pkg" / "shapes.py")
    write(repo, "broken.py", "def fixed():\n    return 1\n")
    write(repo, "pkg/util.py", "def helper(value):\n    return len(value\n")


def _drop_package_init(repo: Path) -> None:
    (repo / "pkg" / "__init__.py").unlink()


def _function_becomes_class(repo: Path) -> None:
    """Same name, same node key, another label: the old node must go, callers re-link."""
    write(repo, "pkg/util.py", '''
        class helper:
            """Now a class; calls to it are constructor calls."""

            def __init__(self, value):
                self.value = value
        ''')


def _odd_text_and_shifted_lines(repo: Path) -> None:
    """Control characters and a lone surrogate in docstrings; every line moves down."""
    source = (repo / "pkg" / "shapes.py").read_text()
    (repo / "pkg" / "shapes.py").write_text(
        '"""Shapes\x01 with a form feed\x0c, a bell\x07,\r a tab\t and \\ud800."""\n\n\n' + source)
    # only escape sequences in the source: the odd characters appear in the docstring value
    (repo / "pkg" / "escaped.py").write_text('def f():\n    """Esc\\x01aped \\ud800 \\x1b[0m."""\n')


SCENARIOS: list[tuple[str, Callable[[Path], None], int]] = [
    ("edit", _edit_helper, 1),
    ("remove a called function", _remove_helper, 1),
    ("add a module and a re-export", _add_module, 2),
    ("delete a module", _delete_module, 0),
    ("rename a module", _rename_module, 1),
    ("rename back, fix one file, break another", _rename_back_and_fix, 3),
    ("delete a package __init__", _drop_package_init, 0),
    ("a function becomes a class", _function_becomes_class, 1),
    ("odd text, shifted lines", _odd_text_and_shifted_lines, 2),
]


def test_incremental_sync_equals_full_sync(pair: tuple[CodeGraph, CodeGraph], repo: Path) -> None:
    live, fresh = pair
    assert live.sync(repo)["full"]
    for name, change, parsed in SCENARIOS:
        change(repo)
        report = _assert_same(live, fresh, repo)
        assert report["parsed"] == parsed, name


def test_unchanged_repository_writes_nothing(pair: tuple[CodeGraph, CodeGraph], repo: Path) -> None:
    live, _ = pair
    live.sync(repo)
    (repo / "app.py").touch()  # new mtime, same content: re-hashed, not re-parsed
    report = live.sync(repo)
    assert (report["parsed"], report["deleted"], report["relinked"]) == (0, 0, 0)
    assert report["written"] == {"nodes": 0, "edges_created": 0, "edges_deleted": 0, "properties_set": 0}


def test_calls_into_a_changed_file_are_re_resolved(pair: tuple[CodeGraph, CodeGraph], repo: Path) -> None:
    live, _ = pair
    live.sync(repo)
    _remove_helper(repo)
    report = live.sync(repo)
    assert report["relinked"] >= 2  # pkg.shapes (assist) and app (pkg.util.helper)
    calls = live.query("MATCH (f:Method {qualname: 'pkg.shapes.Circle.grow'}) RETURN f.unresolved_calls")["rows"]
    assert calls == [[["assist", "super"]]]
    assert live.query("MATCH ()-[r:CALLS]->(f {name: 'helper'}) RETURN r")["rows"] == []
