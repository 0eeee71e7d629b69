"""The code-graph CLI: codegraph-sync and the codegraph query commands, in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from caramba.cli.codegraph import register


@pytest.fixture
def cli(repo: Path, db_file: Path):  # noqa: ANN201 - returns a small runner function
    """Run ``caramba`` code-graph commands against the fixture graph; returns (code, output)."""
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str, graph: str = "fixture") -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--db", str(db_file), "--graph", graph])
        return result.exit_code, result.output

    code, output = run("codegraph-sync", str(repo))
    assert code == 0, output
    return run


def test_sync_prints_a_summary_with_skipped_files(cli, repo: Path) -> None:  # noqa: ANN001
    code, output = cli("codegraph-sync", str(repo), graph="other")
    assert code == 0, output
    assert "full (first sync of this graph)" in output and "broken.py: SyntaxError" in output
    code, output = cli("codegraph-sync", "--format", "json", str(repo), graph="other")
    report = json.loads(output)
    assert report["parsed"] == 0 and not report["full"] and report["files"] == 6
    code, output = cli("codegraph-sync", str(repo / "missing"))
    assert code == 2 and "not a directory" in output


def test_query_json_is_columns_and_rows(cli) -> None:  # noqa: ANN001
    code, output = cli("codegraph", "query", "MATCH (m:Module) RETURN m.qualname ORDER BY m.qualname", "--format", "json")
    assert code == 0, output
    assert json.loads(output) == {"columns": ["m.qualname"],
                                  "rows": [["app"], ["pkg"], ["pkg.registry"], ["pkg.shapes"], ["pkg.util"]]}


def test_query_parameters_and_table(cli) -> None:  # noqa: ANN001
    code, output = cli("codegraph", "query", "MATCH (f {name: $name}) RETURN f.qualname", "--param", 'name="helper"')
    assert code == 0, output
    assert "pkg.util.helper" in output and "1 rows" in output


def test_write_query_is_refused_with_exit_2(cli) -> None:  # noqa: ANN001
    code, output = cli("codegraph", "query", "CREATE (n:Module {qualname: 'x'})")
    assert code == 2
    assert "read-only" in output and "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("codegraph", "callers", "pkg.nothing"), "no symbol with qualified name 'pkg.nothing'"),
        (("codegraph", "query", "MATCH (n) RETURN n", "--param", "broken"), "is not NAME=JSON"),
        (("codegraph", "find", "x", "--format", "yaml"), "yaml"),
        (("codegraph", "callers", "app.main", "--depth", "0"), "depth"),
    ],
)
def test_bad_input_exits_2_with_a_message(cli, args: tuple[str, ...], message: str) -> None:  # noqa: ANN001
    code, output = cli(*args)
    assert code == 2 and message in output and "Traceback" not in output


def test_missing_graph_is_explained(cli) -> None:  # noqa: ANN001
    code, output = cli("codegraph", "find", "helper", graph="nowhere")
    assert code == 2 and "does not exist" in output


def test_symbol_commands_in_json(cli) -> None:  # noqa: ANN001
    code, output = cli("codegraph", "find", "helper", "--format", "json")
    assert json.loads(output)["symbols"][0]["qualname"] == "pkg.util.helper"
    code, output = cli("codegraph", "callers", "pkg.util.helper", "--depth", "2", "--format", "json")
    assert {item["qualname"] for item in json.loads(output)["callers"]} == {
        "app.main", "pkg.shapes.Circle.grow", "app", "pkg.shapes.make_circle"}
    code, output = cli("codegraph", "callees", "app.main", "--format", "json")
    assert len(json.loads(output)["callees"]) == 4
    code, output = cli("codegraph", "neighbours", "pkg.util", "--format", "json")
    assert {item["type"] for item in json.loads(output)["neighbours"]} == {"CONTAINS", "DEFINES", "IMPORTS"}
    code, output = cli("codegraph", "path", "app", "pkg.util.helper", "--format", "json")
    assert json.loads(output)["hops"] == 2
    code, output = cli("codegraph", "impact", "pkg.util.helper", "--format", "json")
    assert "pkg.shapes.make_circle" in {item["qualname"] for item in json.loads(output)["dependents"]}
    for command in ("find", "callers", "neighbours", "impact"):
        code, output = cli("codegraph", command, "pkg.util.helper")
        assert code == 0 and "qualname" in output and "pkg/" in output, (command, output)
