"""``setup.tex``: the experimental setup and the limits of the evidence, generated from the record.

Nothing here is written by a model. It states, per arm, what the runs' folders say
(:mod:`~caramba.processes.paper_write.build.facts`): the seeds, the trained parameters,
steps, batch, block, learning rate and training tokens; the data file and tokenizer;
what each held-out number was computed on (the comparison's coverage); the devices and
software versions from every run's ``environment.json``. Numbers that exist as
quantities are written as ``\\res{…}`` so they read exactly as elsewhere in the paper.

The closing paragraph, *Scope of the evidence*, lists the limits a reader must know:
the number of seeds, the scale (parameters, tokens), the data, the hardware, and which
comparisons the record does not separate from zero.
"""

from __future__ import annotations

import re

from caramba.engine.bench.artifacts.latex import escape
from caramba.engine.bench.compare.headline import display_name
from caramba.processes.paper_write.build.keys import slug
from caramba.processes.paper_write.build.model import ResultSet, RunFacts


def _res(results: ResultSet, key: str, fallback: str) -> str:
    return rf"\res{{{key}}}" if key in results.quantities else escape(fallback)


def _breakable(text: str) -> str:
    """Let long dotted manifest paths break after a dot (never inside a decimal number); → as math."""
    return re.sub(r"\.(?=[A-Za-z])|(?<=[A-Za-z])\.", r".\\allowbreak{}", text).replace("→", r"$\to$")


def _distinct(values: list[object]) -> str:
    seen = list(dict.fromkeys(str(v) for v in values if v not in (None, "")))
    return ", ".join(seen) if seen else "not recorded"


def _arm_rows(results: ResultSet) -> list[str]:
    rows = []
    for arm, run_ids in results.arms.items():
        facts = [f for f in results.runs if f.run_id in run_ids]
        a = slug(arm)
        seeds = ", ".join(str(f.seed) for f in facts if f.seed is not None) or "not recorded"
        cells = [escape(arm), escape(seeds), _res(results, f"{a}-params", "varies"), _res(results, f"{a}-steps", "varies"),
                 _res(results, f"{a}-batch-size", "varies"), _res(results, f"{a}-block-size", "varies"),
                 _res(results, f"{a}-lr", "varies"), _res(results, f"{a}-train-tokens", "varies")]
        rows.append(" & ".join(cells) + r" \\")
    return rows


def _environment(facts: list[RunFacts]) -> list[str]:
    env = [f.environment for f in facts]
    caps = [e.get("capabilities", {}) for e in env]
    items = [("device", _distinct([c.get("device_name") or e.get("device") for c, e in zip(caps, env)])),
             ("CPU cores", _distinct([e.get("cpu_count") for e in env])),
             ("Python", _distinct([e.get("python") for e in env])), ("PyTorch", _distinct([e.get("torch") for e in env])),
             ("NumPy", _distinct([e.get("numpy") for e in env])), ("CUDA (build)", _distinct([e.get("cuda") for e in env])),
             ("caramba", _distinct([e.get("caramba") for e in env])),
             ("engine version", _distinct([e.get("engine_version") for e in env])),
             ("host", _distinct([e.get("host") for e in env]))]
    return ["; ".join(rf"{escape(k)} \texttt{{{escape(v)}}}" for k, v in items) + "."]


def _coverage(results: ResultSet) -> list[str]:
    c = results.comparison
    if c is None:
        return []
    base = c.arm(c.baseline)
    out = []
    for m in dict.fromkeys([c.primary, "val_loss"]):
        cover = base.coverage(m)
        if cover:
            out.append(rf"\item {escape(display_name(m))}: {escape(cover)} (per seed)")
    return out


def _per_arm(results: ResultSet, suffix: str) -> str:
    """``\\res{params}`` when every arm agrees, else ``\\res{mha-params} (mha), …``."""
    if suffix in results.quantities:
        return rf"\res{{{suffix}}}"
    parts = [rf"\res{{{slug(arm)}-{suffix}}} ({escape(arm)})" for arm in results.arms
             if f"{slug(arm)}-{suffix}" in results.quantities]
    return ", ".join(parts) if parts else "a varying number of"


def _scope(results: ResultSet) -> str:
    facts = results.runs
    seeds = _res(results, "n-seeds", "a varying number of")
    text = (rf"Each arm was trained with {seeds} seeds; the intervals are 95\% intervals over those seeds and say "
            rf"nothing about other data or scales. The models are small ({_per_arm(results, 'params')} trained "
            rf"parameters), trained for {_per_arm(results, 'steps')} steps ({_per_arm(results, 'train-tokens')} "
            rf"training tokens) on \texttt{{{escape(_distinct([f.data for f in facts]))}}}. Every run ran on "
            rf"{escape(_distinct([f.environment.get('device') for f in facts]))}.")
    open_claims = [c for c in results.comparisons.values() if c.ci_includes_zero]
    if open_claims:
        names = ", ".join(f"{escape(display_name(c.metric))} ({escape(c.arms[1])} vs {escape(c.arms[0])})"
                          for c in open_claims)
        text += rf" The record does not separate these differences from zero (their 95\% CI includes 0): {names}."
    return text


def setup_tex(results: ResultSet) -> str:
    """The text of ``setup.tex`` (module docstring)."""
    facts = results.runs
    lines = ["% Generated by caramba from the run store (status.json, manifest.yml, environment.json): do not edit.",
             r"\section{Experimental setup}", r"\label{sec:setup}",
             (rf"\textbf{{Question.}} {escape(results.question)}" if results.question else ""),
             rf"We compare {_res(results, 'n-arms', str(len(results.arms)))} arms over {_res(results, 'n-runs', '')} runs "
             rf"(baseline: \texttt{{{escape(results.baseline)}}}; primary metric: {escape(display_name(results.primary))}).",
             r"\begin{itemize}"]
    lines += [rf"\item \texttt{{{escape(arm)}}}: {_breakable(escape(note))}" for arm, note in results.arm_notes.items()]
    lines += [rf"\item data: \texttt{{{escape(_distinct([f.data for f in facts]))}}}, tokenizer "
              rf"\texttt{{{escape(_distinct([f.tokenizer for f in facts]))}}}"] + _coverage(results)
    lines += [r"\end{itemize}", "", r"\begin{table}[h]", r"\centering", r"\small",
              r"\caption{Training setup per arm, from each run's resolved manifest and checkpoint.}",
              r"\label{tab:setup}", r"\begin{tabular}{llrrrrrr}", r"\toprule",
              r"arm & seeds & parameters & steps & batch & block & lr & tokens \\", r"\midrule", *_arm_rows(results),
              r"\bottomrule", r"\end{tabular}", r"\end{table}", "",
              r"\paragraph{Hardware and software (from each run's environment.json).}", *_environment(facts), "", r"\paragraph{Scope of the evidence.}", _scope(results), ""]
    return "\n".join(line for line in lines if line is not None) + "\n"
