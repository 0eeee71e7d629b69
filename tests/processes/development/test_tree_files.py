"""tree.md, report.md and the picture, written from hand-built trees; every report number traced to the tree."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from PIL import Image
from scipy import stats

from caramba.processes.development.tree.markdown import write_tree_md
from caramba.processes.development.tree.picture import write_picture
from caramba.processes.development.tree.report import report_numbers, unexplained_numbers, write_report
from caramba.processes.development.tree.tree import TreeError
from tests.processes.development.test_tree_search import welch_reference
from tests.processes.development.trees import large, small, write_manifests

COSTS = {"personas": {"architect": {"usd": 0.0123, "tokens": 12000}, "research_lead": {"usd": 0.004, "tokens": 3100}},
         "compute": {"steps": 12900, "gpu_hours": 0.039}}


def test_report_numbers_all_come_from_the_tree(tmp_path: Path) -> None:
    tree = large()
    write_manifests(tree, tmp_path)
    text = write_report(tree, tmp_path, COSTS, stopped="reached the maximum of 4 iterations").read_text()
    assert unexplained_numbers(text, tree, COSTS) == []
    assert unexplained_numbers(text + "\nthe loss fell by 0.4242", tree, COSTS) == ["0.4242"]  # the check can fail
    numbers = report_numbers(tree, COSTS)
    root, best = [3.10, 3.05, 3.15], [2.50 - 0.02, 2.52 - 0.02, 2.49 - 0.02]  # the values n0 and n16 ran with
    diff, low, high, p = welch_reference(root, best)
    assert numbers["n0.val_loss.mean"] == pytest.approx(statistics.mean(root))
    half = stats.t.ppf(0.975, 2) * statistics.stdev(best) / 3 ** 0.5
    assert numbers["n16.val_loss.half"] == pytest.approx(half)
    assert numbers["n0>n16.improvement"] == pytest.approx(-diff) and numbers["n0>n16.p"] == pytest.approx(p)
    evidence = text.split("## Evidence against the starting point")[1].split("##")[0]
    assert (f"improvement {-diff:.4g} (95% CI {-high:.4g} to {-low:.4g}, Welch p = {p:.4g}; significant at 95%)"
            in evidence)
    assert "`n16` 2.483 (runs `n16-s0`, `n16-s1`, `n16-s2`)" in evidence  # every number followed by its runs
    assert "- `model.layers.0.n_heads: 4 -> 8`" in text and "- `train.batch_size: 8 -> 48`" in text
    assert "pruned: “pilot loss diverged" in text and "invalid: “n_heads 5 does not divide d_model 32”" in text
    assert "Experiments: 19 proposed, 1 rejected at validation, 1 over budget, 1 pruned at pilot, 12 run in full, " \
           "1 failed." in text
    assert text.count("does depth matter more than width?") == 1  # each open question once, with its nodes


def test_report_without_the_best_manifest_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(TreeError, match=r"nodes/0.yml: the manifest of node n0 is missing"):
        write_report(small(), tmp_path, COSTS)


def test_tree_md_lists_every_node_with_its_evidence(tmp_path: Path) -> None:
    tree = small()
    text = write_tree_md(tree, tmp_path / "tree.md").read_text()
    assert text.count("\n| n") == 5 and "- **n0** `starting manifest`" in text
    assert "  - **n1** ★ `model.layers.0.n_heads: 4 -> 8` — done — val_loss 2.81 ± " in text
    assert "(fixes n2)" in text and "pruned: “pilot loss diverged: 3.4 -> nan at step 40”" in text
    assert unexplained_numbers(text.split("## Nodes")[0], tree, {}) == []


@pytest.mark.parametrize("build", [small, large])
def test_picture_is_written_without_overlapping_labels(tmp_path: Path, build) -> None:
    tree = build()
    png, pdf = write_picture(tree, tmp_path / "tree")
    assert png.suffix == ".png" and pdf.read_bytes().startswith(b"%PDF")
    image = Image.open(png)
    assert json.loads(image.text["caramba:overlaps"]) == []
    data = json.loads(image.text["caramba:data"])
    assert set(data) == set(tree.nodes) and data[tree.best().id]["mean"] == tree.best().metrics["val_loss"].mean
    places = {tuple(d["place"]) for d in data.values()}
    assert len(places) == len(tree.nodes)  # no two nodes share a place
    assert image.size[0] > 40 * len({p[0] for p in places})  # wide enough: about 1.25 inches a column
