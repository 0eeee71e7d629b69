"""Which target runs has one answer (``select_targets``): the CLI run, the dry run and the
MCP tools agree for a default entrypoint, a comparison, and an ambiguous manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from caramba.cli.app import app
from tests.tools.conftest import call, inprocess, tiny_manifest

pytestmark = pytest.mark.anyio


def two_targets(default: str | None = None, comparison: bool = False) -> str:
    """Targets `a` and `b` (the tiny transformer twice), with an optional default or comparison."""
    data = yaml.safe_load(tiny_manifest("pair", steps=3))
    first = data["targets"][0]
    data["targets"] = [{**first, "name": "a"}, {**first, "name": "b"}]
    data.pop("entrypoints", None)
    if default:
        data["entrypoints"] = {"default": default}
    if comparison:
        data["comparison"] = {"arms": ["a", "b"]}
    return yaml.safe_dump(data, sort_keys=False)


def cli_dry_run(workspace: Path, text: str) -> tuple[int, list[str]]:
    (workspace / "pair.yml").write_text(text)
    cwd = os.getcwd()
    os.chdir(workspace)
    try:
        result = CliRunner().invoke(app, ["run", "pair.yml", "--dry-run", "--format", "json"])
    finally:
        os.chdir(cwd)
    planned = [t["target"] for t in json.loads(result.stdout)["targets"]] if result.exit_code == 0 else []
    return result.exit_code, planned


async def test_default_entrypoint_is_the_one_answer(workspace: Path) -> None:
    text = two_targets(default="b")
    assert cli_dry_run(workspace, text) == (0, ["b"])
    async with inprocess(workspace) as client:
        plan = await call(client, "dry_run_manifest", manifest=text)
        assert [t["target"] for t in plan["targets"]] == ["b"]
        wrong = await client.call_tool("dry_run_manifest", {"manifest": text, "target": "nope"})
        assert wrong.is_error and "choose one of: a, b" in wrong.content[0].text


async def test_comparison_plans_every_arm_and_the_run_tool_asks_for_one(workspace: Path) -> None:
    text = two_targets(comparison=True)
    assert cli_dry_run(workspace, text) == (0, ["a", "b"])
    async with inprocess(workspace) as client:
        plan = await call(client, "dry_run_manifest", manifest=text)
        assert [t["target"] for t in plan["targets"]] == ["a", "b"]
        refused = await client.call_tool("run_manifest", {"manifest": text})
        assert refused.is_error and "pass one arm as the target" in refused.content[0].text


async def test_two_targets_without_a_default_are_refused_everywhere(workspace: Path) -> None:
    text = two_targets()
    code, _ = cli_dry_run(workspace, text)
    assert code == 2
    async with inprocess(workspace) as client:
        report = await call(client, "validate_manifest", manifest=text)
        assert not report["ok"] and report["errors"][0]["path"] == "targets" and "ambiguous" in report["errors"][0]["message"]
        refused = await client.call_tool("dry_run_manifest", {"manifest": text})
        assert refused.is_error and "ambiguous" in refused.content[0].text
