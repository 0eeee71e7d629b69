"""A generated fixture repository with known structure, and graph dumps to compare.

``write_fixture`` writes a small package that exercises every kind of node and edge:
re-exports in a package ``__init__``, aliased imports, ``self``/``super()`` calls,
inherited methods, a local constructor type, a module-level constructor type, a nested
function, a property with a setter (a repeated name), a registry call, an unresolved
builtin and external call, a syntax error, and a ``.gitignore``d file.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

FILES: dict[str, str] = {
    ".gitignore": "ignored/\n",
    "ignored/skip.py": "def never():\n    pass\n",
    "pkg/__init__.py": '''
        """The shapes package."""
        from .shapes import Circle, Shape
        from . import util
        ''',
    "pkg/shapes.py": '''
        """Shapes and their areas."""
        import math

        from pkg.util import helper as assist


        class Shape:
            """A shape with an area."""

            def area(self) -> float:
                """Return the area."""
                return 0.0

            def describe(self) -> str:
                return f"area {self.area()}"


        class Circle(Shape):
            """A round shape."""

            def __init__(self, radius: float = 1.0) -> None:
                self._radius = radius

            @property
            def radius(self) -> float:
                return self._radius

            @radius.setter
            def radius(self, value: float) -> None:
                self._radius = value

            def grow(self, factor: float, *, twice: bool = False) -> "Circle":
                assist(self)
                self.describe()
                return super().describe()


        def make_circle(radius):
            """Build a circle and grow it."""
            circle = Circle(radius)
            circle.grow(2)

            def inner():
                return make_circle(1)

            return inner
        ''',
    "pkg/util.py": '''
        def helper(value):
            """Help with a value."""
            return len(value)
        ''',
    "pkg/registry.py": '''
        """The registry of shapes."""
        from pkg.shapes import Circle


        class CircleConfig:
            """Configuration of a circle."""


        class Registry:
            def register(self, kind, name, config, target, summary=""):
                return None


        REGISTRY = Registry()
        REGISTRY.register("shape", "Round", CircleConfig, "pkg.shapes:Circle", "A round shape.")
        ''',
    "app.py": '''
        """The application."""
        import numpy as np

        import pkg
        from pkg.shapes import make_circle


        def main():
            shape = pkg.Shape()
            shape.describe()
            make_circle(2)
            np.zeros(3)
            pkg.util.helper([1])


        if __name__ == "__main__":
            main()
        ''',
    "broken.py": "def oops(:\n    pass\n",
}


def write(root: Path, path: str, text: str) -> None:
    """Write ``text`` (dedented) to ``root/path``."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(text).lstrip("\n"))


def write_fixture(root: Path) -> Path:
    """Write the fixture repository under ``root`` and return ``root``."""
    for path, text in FILES.items():
        write(root, path, text)
    return root


def dump(code: Any) -> tuple[set[str], set[str]]:
    """Return every node and edge of a graph, with all properties, as JSON strings.

    Nodes are identified by label and properties; edges by type, endpoint keys and
    properties; internal ids are left out, so two graphs built differently compare.
    """
    limit = 1_000_000
    nodes = code.query("MATCH (n) RETURN labels(n), properties(n)", limit=limit)["rows"]
    edges = code.query(
        "MATCH (a)-[r]->(b) RETURN type(r), a.key, b.key, properties(r)", limit=limit
    )["rows"]
    return ({json.dumps(row, sort_keys=True) for row in nodes}, {json.dumps(row, sort_keys=True) for row in edges})


def edge_set(code: Any) -> set[tuple[str, str, str]]:
    """Return ``(type, source qualname, target qualname)`` for every edge."""
    rows = code.query("MATCH (a)-[r]->(b) RETURN type(r), a.qualname, b.qualname", limit=100_000)["rows"]
    return {tuple(row) for row in rows}


def node_set(code: Any) -> set[tuple[str, str]]:
    """Return ``(label, qualname)`` for every node."""
    rows = code.query("MATCH (n) RETURN labels(n)[0], n.qualname", limit=100_000)["rows"]
    return {tuple(row) for row in rows}
