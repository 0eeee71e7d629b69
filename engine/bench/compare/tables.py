"""The comparison table: one row per arm, as CSV (``comparison_table.csv``) and LaTeX (``comparison.tex``).

Columns: the arm, its seeds (n), then each headline metric (``headline.py``) as
``mean ± sd`` over the seeds — rounded so the sd keeps two significant digits, mean to the
same decimals — with the best arm in **bold** (by the metric's direction) and a ``†`` when
the arm differs from the baseline at 95% (Welch's t-test, ``pairs.csv``); then, for each
perplexity, memory and decode-time metric, the ratio to the baseline written the way it
reads: the column ``KV / mha`` holds 0.25 for an arm whose cache takes a quarter of the
baseline's bytes, ``PPL / teacher`` 0.990 for an arm 1% below the teacher's perplexity.

The LaTeX is a booktabs ``table`` float (``\\usepackage{booktabs}``) whose caption says
what each held-out number was computed on (its coverage) and whose comment lines name
every run and manifest hash; more than :data:`ROWS_PER_TABLE` arms are split into
continued tables so nothing runs off the page.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from caramba.engine.bench.artifacts.latex import escape
from caramba.engine.bench.compare.analysis import Comparison
from caramba.engine.bench.compare.headline import LATENCY_POINT, POINT, display_unit, headline_metrics
from caramba.engine.bench.compare.metrics import base_of
from caramba.engine.store.atomic import write_text

ROWS_PER_TABLE = 20
DAGGER = "†"


def mean_sd(mean: float, sd: float | None, scale: float = 1.0) -> tuple[str, str]:
    """(mean, sd) as text, the sd to two significant digits and the mean to the same decimals."""
    mean, sd = mean * scale, None if sd is None else sd * scale
    if sd is None or sd == 0 or not math.isfinite(sd):
        return f"{mean:.4g}", ""
    decimals = min(max(0, 1 - math.floor(math.log10(abs(sd)))), 6)
    return f"{mean:.{decimals}f}", f"{sd:.{decimals}f}"


SHORT = {"train_loss": "train loss (nats)", "val_loss": "val loss (nats)", "nll": "NLL (nats)", "ppl": "PPL",
         "kv_bytes": "KV MiB", "tensor_bytes": "tensors MiB", "prefill_ms": "prefill ms", "ttft_ms": "TTFT ms",
         "decode_ms_per_token": "decode ms/tok", "tokens_per_s": "tok/s"}


RATIOS = {"ppl": ("PPL", 3), "kv_bytes": ("KV", 2), "tensor_bytes": ("tensors", 2), "decode_ms_per_token": ("decode", 2)}


def short_name(metric: str) -> str:
    """A column header: ``PPL``, ``val loss (nats)``, ``KV MiB @ 1,024 (fp16)``, ``decode ms/tok @ B=1``."""
    name = SHORT.get(base_of(metric), base_of(metric))
    point, latency = POINT.search(metric), LATENCY_POINT.search(metric)
    if point:
        return f"{name} @ {int(point['length']):,} ({point['cache']})"
    return f"{name} @ B={latency['batch']}" if latency else name


def _ratio_metrics(metrics: list[str]) -> list[str]:
    return [m for m in metrics if base_of(m) in RATIOS]


def rows(c: Comparison) -> tuple[list[str], list[dict[str, object]]]:
    """(column headers, one row per arm) of the table: text cells plus ``_bold``/``_marker`` flags."""
    metrics = headline_metrics(c)
    headers = ["arm", "n", *[short_name(m) for m in metrics]]
    ratios = _ratio_metrics(metrics)
    headers += [f"{RATIOS[base_of(m)][0]} / {c.baseline}" for m in ratios]
    best = {m: (min if c.better(m) == "minimize" else max)(a.summaries[m].mean for a in c.arms) for m in metrics}
    out = []
    for arm in c.arms:
        row: dict[str, object] = {"arm": arm.name, "n": max(s.n for s in arm.summaries.values())}
        for m, header in zip(metrics, headers[2:]):
            s = arm.summaries[m]
            _, scale = display_unit(m)
            mean, sd = mean_sd(s.mean, s.sd, scale)
            pair = c.pair(m, c.baseline, arm.name)
            marker = DAGGER if pair is not None and pair.difference.test == "welch" and pair.difference.significant else ""
            row[header] = f"{mean} ± {sd}" if sd else mean
            row[f"{header}_bold"] = s.mean == best[m] and len(c.arms) > 1
            row[f"{header}_marker"] = marker
        base = c.arm(c.baseline)
        for m, header in zip(ratios, headers[2 + len(metrics):]):
            row[header] = f"{arm.summaries[m].mean / base.summaries[m].mean:.{RATIOS[base_of(m)][1]}f}"
        out.append(row)
    return headers, out


def table_csv(c: Comparison) -> str:
    """The table as CSV: the displayed cells, a ``sig_vs_baseline`` column per metric instead of the dagger."""
    headers, body = rows(c)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    metric_headers = headers[2:2 + len(headline_metrics(c))]
    writer.writerow(headers + [f"{h}: differs from {c.baseline} at 95%" for h in metric_headers])
    for row in body:
        writer.writerow([row[h] for h in headers] + [bool(row[f"{h}_marker"]) for h in metric_headers])
    return buffer.getvalue()


def table_latex(c: Comparison) -> str:
    """The table as booktabs LaTeX, split every :data:`ROWS_PER_TABLE` arms (module docstring)."""
    headers, body = rows(c)
    n_metrics = len(headline_metrics(c))
    lines = [f"% caramba comparison table: {c.question or c.primary}"]
    lines += [f"% run {r}, manifest sha256 {d}" for r, d in c.provenance]
    caption = (f"{escape(c.question) + ' ' if c.question else ''}Mean $\\pm$ sd over seeds; best in bold; "
               f"$^\\dagger$ differs from {escape(c.baseline)} at 95\\% (Welch's t-test); ratios are arm / "
               f"{escape(c.baseline)}.")
    covered = [f"{short_name(m)}: {c.arm(c.baseline).coverage(m)}" for m in headline_metrics(c)
               if c.arm(c.baseline).coverage(m)]
    if c.protocol:  # the held-out tokens, said once, then which part of them each number used
        caption += " Held-out tokens: " + escape(c.protocol) + "."
    if covered:
        caption += " Computed on: " + escape("; ".join(covered)) + "."
    chunks = [body[i:i + ROWS_PER_TABLE] for i in range(0, len(body), ROWS_PER_TABLE)]
    for index, chunk in enumerate(chunks):
        cont = f" (continued, {index + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        wide = len(headers) > 6  # ratio columns: a size smaller so the table keeps to the text width
        lines += [r"\begin{table}[t]", r"\centering", r"\footnotesize" if wide else r"\small",
                  rf"\setlength{{\tabcolsep}}{{{3 if wide else 4}pt}}",
                  rf"\caption{{{caption}{cont}}}", rf"\label{{tab:compare-{_label(c)}{'-' + str(index + 1) if index else ''}}}",
                  r"\begin{tabular}{l" + "r" * (len(headers) - 1) + "}", r"\toprule",
                  " & ".join(escape(h) for h in headers) + r" \\", r"\midrule"]
        for row in chunk:
            cells = [escape(str(row["arm"])), str(row["n"])]
            for h in headers[2:2 + n_metrics]:
                text = escape(str(row[h]))
                if row[f"{h}_bold"]:
                    text = rf"\textbf{{{text}}}"
                if row[f"{h}_marker"]:
                    text += r"$^\dagger$"
                cells.append(text)
            cells += [escape(str(row[h])) for h in headers[2 + n_metrics:]]
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def _label(c: Comparison) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in c.baseline)


def write_tables(c: Comparison, out: Path) -> list[Path]:
    """Write ``comparison_table.csv`` and ``comparison.tex``."""
    return [write_text(out / "comparison_table.csv", table_csv(c)), write_text(out / "comparison.tex", table_latex(c))]
