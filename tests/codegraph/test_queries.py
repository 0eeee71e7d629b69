"""Symbol search, callers/callees, neighbours, shortest paths and impact on the fixture graph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caramba.codegraph.api import CodeGraph

from .helpers import write_fixture


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeGraph]:
    """The synced fixture graph, shared by the tests of this module."""
    base = tmp_path_factory.mktemp("queries")
    code = CodeGraph(db=base / "cg.db", graph="fixture")
    code.sync(write_fixture(base / "repo"))
    yield code
    code.close()


def _names(items: list[dict]) -> list[tuple[str, int]]:
    return [(item["qualname"], item.get("depth", 0)) for item in items]


def test_find_exact_and_fulltext(graph: CodeGraph) -> None:
    exact = graph.find_symbol("describe")["symbols"]
    assert [item["qualname"] for item in exact] == ["pkg.shapes.Shape.describe"]
    assert graph.find_symbol("pkg.util.helper")["symbols"][0]["key"] == "pkg/util.py:helper"
    ranked = graph.find_symbol("round shape", fulltext=True)["symbols"]
    assert {item["qualname"] for item in ranked} >= {"pkg.shapes.Circle", "shape:Round"}
    assert all(item["score"] > 0 for item in ranked)


def test_callers_and_callees_to_depth(graph: CodeGraph) -> None:
    direct = graph.callers("pkg.shapes.Shape.describe")["callers"]
    assert _names(direct) == [("app.main", 1), ("pkg.shapes.Circle.grow", 1)]
    deep = graph.callers("pkg.shapes.Shape.describe", depth=3)["callers"]
    assert _names(deep) == [("app.main", 1), ("pkg.shapes.Circle.grow", 1), ("app", 2),
                            ("pkg.shapes.make_circle", 2), ("pkg.shapes.make_circle.inner", 3)]
    callees = graph.callees("pkg.shapes.make_circle", depth=2)["callees"]
    assert _names(callees) == [("pkg.shapes.Circle", 1), ("pkg.shapes.Circle.grow", 1),
                               ("pkg.shapes.Shape.describe", 2), ("pkg.util.helper", 2)]


def test_neighbours(graph: CodeGraph) -> None:
    found = graph.neighbours("pkg.util.helper")["neighbours"]
    assert {(item["direction"], item["type"], item["qualname"]) for item in found} == {
        ("in", "DEFINES", "pkg.util"),
        ("in", "CALLS", "app.main"),
        ("in", "CALLS", "pkg.shapes.Circle.grow"),
    }


def test_shortest_path(graph: CodeGraph) -> None:
    found = graph.shortest_path("pkg.shapes.make_circle.inner", "pkg.util.helper")
    assert found["hops"] == 3
    assert [(step["qualname"], step.get("via")) for step in found["path"]] == [
        ("pkg.shapes.make_circle.inner", None), ("pkg.shapes.make_circle", "CALLS"),
        ("pkg.shapes.Circle.grow", "CALLS"), ("pkg.util.helper", "CALLS")]
    assert graph.shortest_path("pkg.util.helper", "app")["path"] is None
    assert graph.shortest_path("app", "pkg.util.helper")["hops"] == 2


def test_impact_follows_calls_inheritance_imports_and_registrations(graph: CodeGraph) -> None:
    impact = graph.impact("pkg.shapes.Shape", depth=2)
    found = {(item["qualname"], item["via"]) for item in impact["dependents"]}
    assert ("pkg.shapes.Circle", "INHERITS") in found
    assert ("app.main", "CALLS") in found  # calls Shape() and Shape.describe
    assert ("pkg.shapes.Circle.grow", "CALLS") in found  # calls a member, Shape.describe
    assert impact["members"] == 2
    registered = graph.impact("pkg.shapes.Circle", depth=1)["dependents"]
    assert ("shape:Round", "REGISTERS") in {(item["qualname"], item["via"]) for item in registered}
    module = graph.impact("pkg.util", depth=1)["dependents"]
    assert {"pkg", "pkg.shapes"} <= {item["qualname"] for item in module if item["via"] == "IMPORTS"}
