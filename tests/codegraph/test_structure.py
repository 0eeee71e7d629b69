"""A full sync of the fixture repository yields exactly the expected nodes and edges."""

from __future__ import annotations

from pathlib import Path

from caramba.codegraph.api import CodeGraph

from .helpers import edge_set

NODES = {
    ("Module", "app", "app.py"),
    ("Module", "pkg", "pkg/__init__.py"),
    ("Module", "pkg.registry", "pkg/registry.py"),
    ("Module", "pkg.shapes", "pkg/shapes.py"),
    ("Module", "pkg.util", "pkg/util.py"),
    ("Class", "pkg.registry.CircleConfig", "pkg/registry.py:CircleConfig"),
    ("Class", "pkg.registry.Registry", "pkg/registry.py:Registry"),
    ("Class", "pkg.shapes.Circle", "pkg/shapes.py:Circle"),
    ("Class", "pkg.shapes.Shape", "pkg/shapes.py:Shape"),
    ("Function", "app.main", "app.py:main"),
    ("Function", "pkg.shapes.make_circle", "pkg/shapes.py:make_circle"),
    ("Function", "pkg.shapes.make_circle.inner", "pkg/shapes.py:make_circle.inner"),
    ("Function", "pkg.util.helper", "pkg/util.py:helper"),
    ("Method", "pkg.registry.Registry.register", "pkg/registry.py:Registry.register"),
    ("Method", "pkg.shapes.Circle.__init__", "pkg/shapes.py:Circle.__init__"),
    ("Method", "pkg.shapes.Circle.grow", "pkg/shapes.py:Circle.grow"),
    ("Method", "pkg.shapes.Circle.radius", "pkg/shapes.py:Circle.radius"),
    ("Method", "pkg.shapes.Circle.radius", "pkg/shapes.py:Circle.radius#2"),
    ("Method", "pkg.shapes.Shape.area", "pkg/shapes.py:Shape.area"),
    ("Method", "pkg.shapes.Shape.describe", "pkg/shapes.py:Shape.describe"),
    ("TypeName", "shape:Round", "pkg/registry.py:register:shape:Round"),
}

EDGES = {
    # DEFINES: a module's top-level definitions.
    ("DEFINES", "app", "app.main"),
    ("DEFINES", "pkg.registry", "pkg.registry.CircleConfig"),
    ("DEFINES", "pkg.registry", "pkg.registry.Registry"),
    ("DEFINES", "pkg.shapes", "pkg.shapes.Circle"),
    ("DEFINES", "pkg.shapes", "pkg.shapes.Shape"),
    ("DEFINES", "pkg.shapes", "pkg.shapes.make_circle"),
    ("DEFINES", "pkg.util", "pkg.util.helper"),
    # CONTAINS: definitions nested in a class or function body, and package -> submodule.
    ("CONTAINS", "pkg", "pkg.registry"),
    ("CONTAINS", "pkg", "pkg.shapes"),
    ("CONTAINS", "pkg", "pkg.util"),
    ("CONTAINS", "pkg.registry.Registry", "pkg.registry.Registry.register"),
    ("CONTAINS", "pkg.shapes.Circle", "pkg.shapes.Circle.__init__"),
    ("CONTAINS", "pkg.shapes.Circle", "pkg.shapes.Circle.grow"),
    ("CONTAINS", "pkg.shapes.Circle", "pkg.shapes.Circle.radius"),
    ("CONTAINS", "pkg.shapes.Shape", "pkg.shapes.Shape.area"),
    ("CONTAINS", "pkg.shapes.Shape", "pkg.shapes.Shape.describe"),
    ("CONTAINS", "pkg.shapes.make_circle", "pkg.shapes.make_circle.inner"),
    # IMPORTS: module -> module (``from .shapes import Circle`` imports pkg.shapes).
    ("IMPORTS", "app", "pkg"),
    ("IMPORTS", "app", "pkg.shapes"),
    ("IMPORTS", "pkg", "pkg.shapes"),
    ("IMPORTS", "pkg", "pkg.util"),
    ("IMPORTS", "pkg.registry", "pkg.shapes"),
    ("IMPORTS", "pkg.shapes", "pkg.util"),
    ("INHERITS", "pkg.shapes.Circle", "pkg.shapes.Shape"),
    # CALLS, resolved through imports, aliases, self/super, re-exports and constructor types.
    ("CALLS", "app", "app.main"),
    ("CALLS", "app.main", "pkg.shapes.Shape"),  # pkg.Shape(): re-exported by pkg/__init__
    ("CALLS", "app.main", "pkg.shapes.Shape.describe"),  # shape.describe(): local type
    ("CALLS", "app.main", "pkg.shapes.make_circle"),
    ("CALLS", "app.main", "pkg.util.helper"),
    ("CALLS", "pkg.registry", "pkg.registry.Registry"),
    ("CALLS", "pkg.registry", "pkg.registry.Registry.register"),  # module-level constructor type
    ("CALLS", "pkg.shapes.Circle.grow", "pkg.shapes.Shape.describe"),  # self.describe() + super()
    ("CALLS", "pkg.shapes.Circle.grow", "pkg.util.helper"),  # assist(): an import alias
    ("CALLS", "pkg.shapes.Shape.describe", "pkg.shapes.Shape.area"),
    ("CALLS", "pkg.shapes.make_circle", "pkg.shapes.Circle"),
    ("CALLS", "pkg.shapes.make_circle", "pkg.shapes.Circle.grow"),
    ("CALLS", "pkg.shapes.make_circle.inner", "pkg.shapes.make_circle"),
    ("REGISTERS", "shape:Round", "pkg.registry.CircleConfig"),
    ("REGISTERS", "shape:Round", "pkg.shapes.Circle"),
}


def test_nodes_are_exactly_the_fixture_definitions(code: CodeGraph, repo: Path) -> None:
    report = code.sync(repo)
    rows = code.query("MATCH (n) RETURN labels(n)[0], n.qualname, n.key")["rows"]
    assert {tuple(row) for row in rows} == NODES
    assert len(rows) == len(NODES)
    assert report["nodes"] == len(NODES)


def test_edges_are_exactly_the_expected_ones(code: CodeGraph, repo: Path) -> None:
    report = code.sync(repo)
    assert edge_set(code) == EDGES
    assert report["edges"] == len(EDGES) + 1  # CONTAINS to both Circle.radius nodes


def test_node_properties(code: CodeGraph, repo: Path) -> None:
    code.sync(repo)
    rows = code.query("MATCH (n:Method {key: 'pkg/shapes.py:Circle.grow'}) RETURN properties(n)")["rows"]
    grow = rows[0][0]
    assert grow["name"] == "grow"
    assert grow["file"] == "pkg/shapes.py"
    assert (grow["line"], grow["end_line"]) == (32, 35)
    assert grow["signature"] == 'def grow(self, factor: float, *, twice: bool = False) -> "Circle"'
    assert grow["docstring"] == ""
    assert grow["decorators"] == []
    assert grow["unresolved_calls"] == ["super"]
    setter = code.query("MATCH (n {key: 'pkg/shapes.py:Circle.radius#2'}) RETURN n.decorators, n.line")["rows"]
    assert setter == [[["radius.setter"], 29]]
    circle = code.query("MATCH (n:Class {qualname: 'pkg.shapes.Circle'}) RETURN n.docstring, n.bases, n.signature")
    assert circle["rows"] == [["A round shape.", ["Shape"], "class Circle(Shape)"]]
    app = code.query("MATCH (n:Module {qualname: 'app'}) RETURN n.docstring, n.unresolved_imports, n.hash")["rows"][0]
    assert app[:2] == ["The application.", ["numpy"]] and len(app[2]) == 32
    main = code.query("MATCH (n:Function {qualname: 'app.main'}) RETURN n.unresolved_calls")["rows"]
    assert main == [[["np.zeros"]]]


def test_call_edges_count_their_sites(code: CodeGraph, repo: Path) -> None:
    code.sync(repo)
    rows = code.query(
        "MATCH (:Method {qualname: 'pkg.shapes.Circle.grow'})-[r:CALLS]->(:Method {qualname: 'pkg.shapes.Shape.describe'}) "
        "RETURN r.line, r.count, r.name"
    )["rows"]
    assert rows == [[34, 2, "self.describe"]]


def test_registration_links_type_name_to_class_and_config(code: CodeGraph, repo: Path) -> None:
    code.sync(repo)
    rows = code.query(
        "MATCH (t:TypeName)-[r:REGISTERS]->(c:Class) RETURN t.name, t.kind, t.target, t.docstring, r.role, c.qualname "
        "ORDER BY r.role"
    )["rows"]
    assert rows == [
        ["Round", "shape", "pkg.shapes:Circle", "A round shape.", "config", "pkg.registry.CircleConfig"],
        ["Round", "shape", "pkg.shapes:Circle", "A round shape.", "target", "pkg.shapes.Circle"],
    ]


def test_syntax_error_is_reported_and_skipped(code: CodeGraph, repo: Path) -> None:
    report = code.sync(repo)
    assert report["skipped"] == [{"file": "broken.py", "reason": "SyntaxError: invalid syntax (line 1)"}]
    assert report["files"] == 6  # ignored/skip.py is .gitignored
    assert code.query("MATCH (n) WHERE n.file = 'broken.py' RETURN n")["rows"] == []
    again = code.sync(repo)  # still reported while it stays broken
    assert again["skipped"] == report["skipped"] and again["parsed"] == 0
