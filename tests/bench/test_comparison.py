"""Arms × seeds: a real 2-arm × 3-seed comparison, checked against statistics computed here.

The reference numbers are computed in this file from the runs' own files (``metrics.jsonl``,
``perplexity.csv``, ``memory.csv``) with hand formulas and a tabulated Student t quantile
(per-arm 95% CI) and scipy's ``ttest_ind(equal_var=False)`` (Welch's test and its CI).
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
from scipy import stats
from typer.testing import CliRunner

from caramba.cli.app import app
from tests.bench.comparisons import invoke

T_975_DF2 = 4.302652729911275  # Student t, 97.5% quantile, 2 degrees of freedom (statistical tables)
KV_POINT = "memory.kv_bytes@fp16,B=1,L=1024"


def seeds_of(root: Path, arm: str) -> list[Path]:
    return sorted((root / ".caramba" / "runs").glob(f"{arm}-train-s*"))


def reference_values(run_dir: Path) -> dict[str, float]:
    """What each run measured, read straight from its files."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    with (run_dir / "artifacts" / "perplexity.csv").open() as handle:
        ppl = next(csv.DictReader(handle))
    with (run_dir / "artifacts" / "memory.csv").open() as handle:
        kv = next(r for r in csv.DictReader(handle) if r["seq_len"] == "1024")
    return {"val_loss": [r["val_loss"] for r in rows if r.get("kind") == "eval"][-1], "perplexity.ppl": float(ppl["ppl"]),
            "perplexity.nll": float(ppl["nll"]), KV_POINT: float(kv["kv_bytes"])}


def test_two_arm_three_seed_statistics_match_an_independent_computation(two_arms: Path) -> None:
    report = json.loads((two_arms / ".caramba" / "compare" / "cmp" / "comparison.json").read_text())
    assert report["primary"] == "perplexity.ppl" and report["baseline"] == "mha" and "Welch" in report["test"]
    values = {arm: [reference_values(d) for d in seeds_of(two_arms, arm)] for arm in ("mha", "gqa")}
    arms = {a["name"]: a for a in report["arms"]}
    for arm, runs in values.items():
        assert len(runs) == 3 and sorted(arms[arm]["runs"]) == [d.name for d in seeds_of(two_arms, arm)]
        for metric in ("val_loss", "perplexity.ppl", "perplexity.nll"):
            x = [r[metric] for r in runs]
            mean = sum(x) / 3
            sd = math.sqrt(sum((v - mean) ** 2 for v in x) / 2)
            got = arms[arm]["metrics"][metric]
            assert got["n"] == 3
            assert got["mean"] == pytest.approx(mean, rel=1e-12)
            assert got["sd"] == pytest.approx(sd, rel=1e-9)
            assert got["ci_low"] == pytest.approx(mean - T_975_DF2 * sd / math.sqrt(3), rel=1e-9)
            assert got["ci_high"] == pytest.approx(mean + T_975_DF2 * sd / math.sqrt(3), rel=1e-9)
        # one evaluation protocol: the benchmark (block 32, no cap) scores all of the split's windows, every seed
        assert re.fullmatch(r"all \d+ windows", arms[arm]["metrics"]["perplexity.ppl"]["coverage"])
    assert report["heldout"].startswith("validation split of ") and "windows of 32 tokens" in report["heldout"]
    for metric in ("val_loss", "perplexity.ppl"):
        a, b = ([r[metric] for r in values[arm]] for arm in ("mha", "gqa"))
        ref = stats.ttest_ind(b, a, equal_var=False)
        ci = ref.confidence_interval(0.95)
        pair = next(p for p in report["pairs"] if p["metric"] == metric)
        assert (pair["a"], pair["b"]) == ("mha", "gqa")
        assert pair["diff"] == pytest.approx(sum(b) / 3 - sum(a) / 3, rel=1e-12)
        assert pair["t"] == pytest.approx(ref.statistic, rel=1e-9)
        assert pair["df"] == pytest.approx(ref.df, rel=1e-9)
        assert pair["p"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert (pair["ci_low"], pair["ci_high"]) == (pytest.approx(ci.low, rel=1e-9), pytest.approx(ci.high, rel=1e-9))
        assert pair["verdict"] == ("significant at 95%" if ref.pvalue < 0.05 else "not significant at 95%")
    kv = next(p for p in report["pairs"] if p["metric"] == KV_POINT)
    # hand formula: K and V, 1024 tokens, fp16 (2 bytes); MHA 2 heads × 16, GQA 1 KV head × 8
    assert values["mha"][0][KV_POINT] == 2 * 1024 * 2 * 16 * 2 and values["gqa"][0][KV_POINT] == 2 * 1024 * 1 * 8 * 2
    assert kv["ratio"] == pytest.approx(0.25) and kv["test"] == "exact" and kv["verdict"] == "exact (no seed variance)"


def test_compare_by_manifest_or_run_ids_gives_the_same_statistics(two_arms: Path) -> None:
    text = invoke(two_arms, "compare", "cmp.yml", "--out", "by_manifest")
    assert "mha: " in text and "gqa: " in text and "n = 3" in text and "gqa − mha" in text
    assert "significant at 95%" in text and "artifacts →" in text
    ids = [d.name for arm in ("gqa", "mha") for d in seeds_of(two_arms, arm)]
    by_ids = json.loads(invoke(two_arms, "compare", *ids, "--out", "by_ids", "--format", "json"))
    by_manifest = json.loads((two_arms / "by_manifest" / "comparison.json").read_text())
    assert {a["name"] for a in by_ids["arms"]} == {"mha", "gqa"}
    for arm in by_manifest["arms"]:
        other = next(a for a in by_ids["arms"] if a["name"] == arm["name"])
        assert other["metrics"]["perplexity.ppl"] == arm["metrics"]["perplexity.ppl"]
    with (two_arms / "by_manifest" / "arms.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["arm"], r["n"]) for r in rows if r["metric"] == "perplexity.ppl"} == {("mha", "3"), ("gqa", "3")}


def test_one_arm_or_unknown_runs_are_refused_clearly(two_arms: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(two_arms)
    ids = [d.name for d in seeds_of(two_arms, "mha")]
    result = CliRunner().invoke(app, ["compare", *ids])
    assert result.exit_code == 2 and "all seeds of one arm" in result.output and "Traceback" not in result.output


def test_a_comparison_naming_unknown_arms_or_metrics_fails_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.bench.comparisons import comparison_manifest

    text = comparison_manifest(["mha", "gqa"], [1])
    monkeypatch.chdir(tmp_path)
    bad = {"arms": text.replace('arms: ["mha", "gqa"]', 'arms: ["mha", "gqq"]'),
           "metric": text.replace("primary: perplexity.ppl", "primary: perplexity.latency_ms"),
           "bench": text.replace("primary: perplexity.ppl", "primary: speed.tokens_per_s")}
    expected = {"arms": ("comparison.arms[1]", "not an experiment target"), "metric": ("comparison.primary", "reports no"),
                "bench": ("comparison.primary", "has no benchmark 'speed'")}
    for key, manifest in bad.items():
        (tmp_path / f"{key}.yml").write_text(manifest)
        result = CliRunner().invoke(app, ["validate", f"{key}.yml", "--format", "json"])
        assert result.exit_code == 2, result.output
        errors = json.loads(result.output)["errors"]
        path, message = expected[key]
        assert any(e["path"] == path and message in e["message"] and e["line"] for e in errors), errors


@pytest.mark.anyio
async def test_mcp_compare_runs_reports_arms_and_welch_tests(two_arms: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp import Client

    from caramba.tools.server import build_server

    monkeypatch.chdir(two_arms)
    ids = [d.name for arm in ("mha", "gqa") for d in seeds_of(two_arms, arm)]
    async with Client(build_server(two_arms, watchdog=False)) as client:
        result = await client.call_tool("compare_runs", {"run_ids": ids})
    statistics = result.structured_content["statistics"]
    report = json.loads((two_arms / ".caramba" / "compare" / "cmp" / "comparison.json").read_text())
    assert [a["name"] for a in statistics["arms"]] == ["mha", "gqa"]
    mcp_pair, cli_pair = (next(p for p in r["pairs"] if p["metric"] == "perplexity.ppl") for r in (statistics, report))
    assert mcp_pair == cli_pair
