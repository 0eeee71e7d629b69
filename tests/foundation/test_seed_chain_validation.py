"""Seed lists on chained runs at validation (``engine/compiler/seeds.py``'s rule).

A run that starts from a seeded run (``init_from: {run: previous}`` or its id) needs each
of its seeds in the source's list, and a one-seed run cannot start from a seeded one; both
are refused by ``caramba validate`` (exit 2) at the field, with its line and the fix. Naming
one seed's run (``a-s1``) is accepted and lowers to exactly that run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.compiler import compile_manifest
from tests.train.manifests import tiny


def chain(second: dict[str, Any]) -> str:
    """A target ``t`` with run ``a`` (seeds 0, 1) then run ``b`` (its fields: ``second``)."""
    manifest = yaml.safe_load(tiny(steps=2))
    [run] = manifest["targets"][0]["runs"]
    manifest["targets"][0]["runs"] = [{**run, "id": "a", "seed": [0, 1]}, {**run, "id": "b", **second}]
    return yaml.safe_dump(manifest, sort_keys=False)


def validate(tmp_path: Path, text: str) -> tuple[int, list[dict[str, Any]]]:
    (tmp_path / "m.yml").write_text(text)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "m.yml"), "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)["errors"]


def line_of(text: str, needle: str, after: str) -> int:
    """1-based line of the first ``needle`` after ``after``."""
    start = text.index(after)
    return text[: text.index(needle, start)].count("\n") + 1


def test_one_seed_run_after_a_seeded_run_is_refused(tmp_path: Path) -> None:
    text = chain({"seed": 0, "init_from": {"run": "previous"}})
    code, errors = validate(tmp_path, text)
    assert code == 2
    [error] = errors
    assert error["path"] == "targets[0].runs[1].init_from"
    assert error["line"] == line_of(text, "init_from:", "id: b")
    assert "one seed" in error["message"] and "[0, 1]" in error["message"]
    assert "seed: [0, 1]" in error["hint"] and "a-s0" in error["hint"]


def test_seeds_missing_from_the_previous_run_are_refused(tmp_path: Path) -> None:
    text = chain({"seed": [0, 2], "init_from": {"run": "previous"}})
    code, errors = validate(tmp_path, text)
    assert code == 2
    [error] = errors
    assert error["path"] == "targets[0].runs[1].seed"
    assert error["line"] == line_of(text, "seed:", "id: b")
    assert "[2]" in error["message"] and "add [2] to the seed list of 'a'" in error["hint"]
    code, errors = validate(tmp_path, chain({"seed": [2], "init_from": {"run": "a"}}))  # by name: the same rule
    assert code == 2 and errors[0]["path"] == "targets[0].runs[1].seed"


def test_one_seeds_run_named_explicitly_is_accepted() -> None:
    compiled = compile_manifest(chain({"seed": 5, "init_from": {"run": "a-s1"}}))
    runs = {r.id: r for r in compiled.manifest.targets[0].runs}
    assert runs["b"].init_from.run == "a-s1"
    compiled = compile_manifest(chain({"seed": [1], "init_from": {"run": "previous"}}))
    assert compiled.manifest.targets[0].runs[2].init_from.run == "a-s1"
