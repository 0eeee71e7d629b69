"""The facts the writer is given, as one Markdown text built from the record only.

* the macros: every ``\\res{key}`` with the value it prints, its unit, meaning and how many
  runs stand behind it; every ``\\cmp{key}`` with its arms, metric, what it prints (the
  difference and its 95 % CI) and whether the interval excludes zero (only those may carry
  a comparative claim);
* the tables and figures written beside ``results.tex`` (what to ``\\input``/include);
* the arms: the baseline's model from its resolved manifest (the run store's copy) and
  the diff of every other arm against it (:func:`manifest_diff`), with the code-graph
  entries of the classes that differ (found by the process through ``find_symbol``);
* the user's notes and the citation keys of the bibliography.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

BIB_KEY = re.compile(r"@\s*\w+\s*\{\s*([^,\s]+)\s*,")


def writer_context(results: Any, workspace: Path, notes: str, bib: Path | None,
                   code: list[dict[str, Any]]) -> str:
    """The writer's facts (see the module docstring)."""
    parts = ["# What the paper reports (the only numbers it may show)", "", _macros(results), "",
             _comparisons(results), "", _artifacts(results), "", "# The arms", "", arms_text(results, workspace), ""]
    if code:
        parts += ["# The code that implements them (code graph)", "",
                  *(f"- `{c.get('qualname', c.get('name'))}` ({c.get('file', '?')}:{c.get('line', '?')}): "
                    f"{(c.get('doc') or '').strip().splitlines()[0] if c.get('doc') else ''}" for c in code), ""]
    if notes.strip():
        parts += ["# Notes from the researcher", "", notes.strip(), ""]
    keys = bib_keys(bib) if bib else []
    parts += ["# Citation keys (\\cite only these)", "", ", ".join(keys) if keys else "(no bibliography given: cite nothing)"]
    return "\n".join(parts)


def bib_keys(bib: Path) -> list[str]:
    """The entry keys of a BibTeX file, in file order."""
    return BIB_KEY.findall(bib.read_text(encoding="utf-8"))


def _macros(results: Any) -> str:
    rows = ["## Quantities: write \\res{key}", "", "| key | prints | unit | meaning | runs |", "|---|---|---|---|---|"]
    for key, q in results.quantities.items():
        rows.append(f"| {key} | ${q.latex}$ | {q.unit or ''} | {q.description or q.kind} | {len(q.run_ids)} |")
    return "\n".join(rows)


def _comparisons(results: Any) -> str:
    rows = ["## Comparisons: write \\cmp{key} (B - A, with its 95% CI)", "",
            "| key | A (baseline) → B | metric | prints | CI excludes zero |", "|---|---|---|---|---|"]
    for key, c in results.comparisons.items():
        verdict = "yes: a comparative claim may rest on it" if not c.ci_includes_zero else \
            "NO: say the difference is not resolved"
        rows.append(f"| {key} | {' → '.join(c.arms)} | {c.metric} | ${c.latex}$ | {verdict} |")
    return "\n".join(rows)


def _artifacts(results: Any) -> str:
    lines = ["## Tables and figures (placed after the results for you; cite them by label with \\ref)", ""]
    lines += [f"- Table~\\ref{{{t.label}}}: {t.description}" for t in results.tables]
    lines += [f"- Figure~\\ref{{{f.label}}}: {f.caption}" for f in results.figures]
    return "\n".join(lines)


def run_targets(results: Any, workspace: Path) -> dict[str, dict[str, Any]]:
    """Each arm's resolved target, baseline first (from its first run's stored manifest)."""
    arms: dict[str, dict[str, Any]] = {}
    order = sorted(results.arms, key=lambda name: name != results.baseline)
    for name in order:
        folder = workspace / ".caramba" / "runs" / results.arms[name][0]
        if (folder / "manifest.yml").is_file():
            manifest = yaml.safe_load((folder / "manifest.yml").read_text())
            target = json.loads((folder / "status.json").read_text())["target"]
            arms[name] = next(t for t in manifest["targets"] if t["name"] == target)
    return arms


def manifest_diff(base: Any, other: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf where ``other`` differs from ``base``: (dotted path, base value, other value)."""
    if isinstance(base, dict) and isinstance(other, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in [*base, *(k for k in other if k not in base)]:
            out += manifest_diff(base.get(key), other.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(base, list) and isinstance(other, list) and len(base) == len(other):
        return [d for i, (b, o) in enumerate(zip(base, other)) for d in manifest_diff(b, o, f"{path}[{i}]")]
    return [] if base == other else [(path, base, other)]


def differing_types(base: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """The ``type`` names of the manifest blocks where two arms differ (the classes to look up)."""
    found: list[str] = []
    for path, _, _ in manifest_diff(base, other):
        node: Any = base
        kind = None
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", path)[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node.get(part, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict) and isinstance(node.get("type"), str):
                kind = node["type"]
        if kind and kind not in found:
            found.append(kind)
    return found


def arms_text(results: Any, workspace: Path) -> str:
    """The baseline's model (YAML) and every other arm's diff against it."""
    arms = run_targets(results, workspace)
    if not arms:
        return "(the runs' manifests are not in the store)"
    (base_name, base), *others = arms.items()
    model = base.get("system", {}).get("config", {}).get("model", base.get("system"))
    lines = [f"Baseline `{base_name}` (model, from its resolved manifest):", "```yaml",
             yaml.safe_dump(model, sort_keys=False).strip(), "```"]
    for name, target in others:
        diff = [d for d in manifest_diff(base, target) if d[0] != "name"]
        lines += [f"Arm `{name}` differs from `{base_name}` in:"]
        lines += [f"- `{p}`: {b!r} → {o!r}" for p, b, o in diff] or ["- nothing but its name"]
    return "\n".join(lines)
