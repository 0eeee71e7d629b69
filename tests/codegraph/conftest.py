"""Fixtures of the code-graph tests: a fixture repository and an open code graph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caramba.codegraph.api import CodeGraph

from .helpers import write_fixture


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the fixture repository (not a git repository)."""
    return write_fixture(tmp_path / "repo")


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """A database file path in a temporary workspace."""
    return tmp_path / "ws" / ".caramba" / "codegraph.db"


@pytest.fixture
def code(db_file: Path) -> Iterator[CodeGraph]:
    """A code graph named ``fixture`` in a fresh embedded database."""
    graph = CodeGraph(db=db_file, graph="fixture")
    yield graph
    graph.close()
