"""A seeded manifest fuzzer: mutations of the complete example through `caramba validate`.

Every case is a mutation of the complete-example preset (deleted and misspelled keys,
swapped types, extreme numbers, wrong enum values, unicode, truncation, hostile --set
overrides), validated in-process through the real CLI command in a workspace holding a
valid `data.npy`. Each must end with exit 0 or 2, no traceback, within 5 s, and every
error of an invalid case names its field path (the document for a syntax error) and
its line (an override names `--set`). The seed fixes the cases, so a failure replays.
"""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from caramba.cli.app import app

BASE_TEXT = (Path(__file__).resolve().parents[2] / "presets" / "complete_example.yml").read_text()
BASE = yaml.safe_load(BASE_TEXT)
CASES = 320
SEED = 20261128
EXTREMES: list[Any] = [0, -1, -(2**63), 2**63, 2**64 + 1, 10**18, -(10**30), 1e308, -1e-320, float("inf"), float("-inf"),
                       float("nan"), 1.0e30, 10**200, True, 0.5]
WORDS = ["", " ", "x", "cuda:99", "float128", "student", "../../etc/passwd", "~/data.npy", "/dev/zero", "${undefined}",
         "$${literal}", "${d_model}", "python:os:system", "hf://nobody/nothing", "null", "yes", "0x10", "1_000", ".nan"]
UNICODE = ["数据.npy", "ü", "\u202etxt.yml", "e\u0301", "\u200b", "😀" * 50, "Ω" * 3000, "\ufeff", "𝔡_model", "\u0085"]


def paths(node: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in the data (mapping keys and list indices)."""
    found = [where]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*where, index))
    return found


def get(node: Any, where: tuple[Any, ...]) -> Any:
    for part in where:
        node = node[part]
    return node


def mutate(rng: random.Random) -> tuple[str, str | bytes, list[str]]:
    """One (kind, manifest text or bytes, --set overrides) case."""
    data = copy.deepcopy(BASE)
    kind = rng.choice(["delete", "misspell", "swap type", "extreme", "enum", "unicode key", "unicode value", "truncate",
                       "insert char", "set", "set nested", "several"])
    sets: list[str] = []
    for _ in range(rng.randint(2, 5) if kind == "several" else 1):
        step = rng.choice(["delete", "misspell", "swap type", "extreme", "enum", "unicode value"]) if kind == "several" else kind
        where = rng.choice([p for p in paths(data) if p])
        parent, last = get(data, where[:-1]), where[-1]
        value = parent[last]
        if step == "delete":
            del parent[last]
        elif step == "misspell" and isinstance(last, str) and last:
            i = rng.randrange(len(last))
            typo = rng.choice([last[:i] + last[i + 1:], last[:i] + rng.choice("xyz_") + last[i:], last.upper(), last + "s"])
            parent[typo] = parent.pop(last)
        elif step == "swap type":
            parent[last] = rng.choice([[], {}, "text", 7, 2.5, True, None, [value], {"value": value}])
        elif step == "extreme":
            numbers = [p for p in paths(data) if isinstance(get(data, p), (int, float)) and not isinstance(get(data, p), bool)]
            spot = rng.choice(numbers)
            get(data, spot[:-1])[spot[-1]] = rng.choice(EXTREMES)
        elif step == "enum":
            texts = [p for p in paths(data) if p and isinstance(get(data, p), str)]
            spot = rng.choice(texts)
            get(data, spot[:-1])[spot[-1]] = rng.choice(WORDS + [get(data, spot)[::-1], get(data, spot) + "x"])
        elif step == "unicode value":
            parent[last] = rng.choice(UNICODE)
        elif step == "unicode key" and isinstance(parent, dict):
            parent[rng.choice(UNICODE)] = parent.pop(last)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if kind == "truncate":
        text = BASE_TEXT[: rng.randrange(1, len(BASE_TEXT))]
    elif kind == "insert char":
        at = rng.randrange(len(BASE_TEXT))
        text = BASE_TEXT[:at] + rng.choice(["\t", "\x00", ":", "- ", "{", "]", "&a", "*a", "!!python/object:os.system", "ÿ",
                                            "'", '"', "\n  ", "%YAML 1.2\n", "<<: {}\n"]) + BASE_TEXT[at:]
    elif kind == "set":
        where = rng.choice([p for p in paths(BASE) if p])
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
        sets = [f"{key}={rng.choice(['', 'abc', '-1', '1e400', '9' * 5000, '[1, [2, {a: b}]]', '{x: *y}', '!!binary AAA', str(2**70), 'null'])}"]
        text = BASE_TEXT
    elif kind == "set nested":
        depth = rng.choice([10, 99, 150, 3000])
        sets = [rng.choice(["vars.d_model=", "targets[0].runs=", "x.y[0].z="]) + "[" * depth + "]" * depth]
        text = BASE_TEXT
    return kind, text, sets


def cases() -> list[tuple[str, str | bytes, list[str]]]:
    rng = random.Random(SEED)
    return [mutate(rng) for _ in range(CASES)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    np.save(root / "data.npy", np.random.default_rng(0).integers(0, 256, size=20_000).astype(np.uint16))
    return root


def test_the_fuzz_cases_never_crash(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    runner = CliRunner()
    manifest = workspace / "m.yml"
    outcomes: dict[int, int] = {0: 0, 2: 0}
    slowest = 0.0
    for index, (kind, text, sets) in enumerate(cases()):
        label = f"case {index} ({kind}, sets={[s[:60] for s in sets]})"
        manifest.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        start = time.perf_counter()
        result = runner.invoke(app, ["validate", str(manifest), "--format", "json", *[a for s in sets for a in ("--set", s)]])
        elapsed = time.perf_counter() - start
        slowest = max(slowest, elapsed)
        assert result.exception is None or isinstance(result.exception, SystemExit), f"{label}: {result.exception!r}"
        assert "Traceback" not in result.output, label
        assert result.exit_code in (0, 2), f"{label}: exit {result.exit_code}"
        assert elapsed < 5, f"{label}: {elapsed:.1f} s"
        outcomes[result.exit_code] += 1
        report = json.loads(result.stdout)
        assert report["ok"] == (result.exit_code == 0), label
        for error in report["errors"]:
            assert error["message"] and error["hint"], f"{label}: {error}"
            if error["file"] != "--set":
                assert error["line"] is not None, f"{label}: no line in {error}"
                assert error["path"] or error["stage"] == "syntax", f"{label}: no field path in {error}"
    assert outcomes[2] >= CASES // 2, outcomes  # most mutations break the manifest
    assert outcomes[0] >= 1, outcomes  # and some are harmless (the fuzzer is not rejecting everything)
