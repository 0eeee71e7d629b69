"""LaTeX tables with booktabs (``\\toprule``/``\\midrule``/``\\bottomrule``), ready to ``\\input``.

Each file is a complete ``table`` float (caption, label) whose first lines are comments
naming the run(s) and manifest hash(es) it came from. The including document needs
``\\usepackage{booktabs}``. Every text cell is escaped, so model names such as
``student_2`` or paths compile as written.
"""

from __future__ import annotations

import re
from pathlib import Path

from caramba.engine.bench.artifacts.tables import Row, TableSpec, cell
from caramba.engine.store.atomic import write_text

SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$",
           "—": "---", "×": r"$\times$"}
PATTERN = re.compile("|".join(re.escape(k) for k in SPECIAL))


def escape(text: str) -> str:
    """Escape LaTeX's special characters (and map ± — × to their LaTeX forms)."""
    return PATTERN.sub(lambda m: SPECIAL[m.group(0)], text)


ROWS_PER_TABLE = 25
WIDE = 70  # characters of a row beyond which the table is set in \scriptsize


def latex_table(spec: TableSpec, rows: list[Row], provenance: list[tuple[str, str]], label: str) -> str:
    """The ``table`` float(s) of ``rows`` (columns of ``spec``); ``provenance``: (run id, digest) pairs.

    More than :data:`ROWS_PER_TABLE` rows are split into continued tables; a table whose
    rows are wider than :data:`WIDE` characters is set smaller, so it stays on the page.
    """
    numeric = [all(isinstance(r.get(c.key), (int, float)) for r in rows) and bool(rows) for c in spec.columns]
    align = "".join("r" if n else "l" for n in numeric)
    lines = [f"% caramba benchmark table: {spec.name}"]
    lines += [f"% run {run_id}, manifest sha256 {digest}" for run_id, digest in provenance]
    ids = sorted({r for r, _ in provenance})
    runs = f"run {escape(ids[0])}" if len(ids) == 1 else f"{len(ids)} runs"
    width = sum(max([len(c.header)] + [len(cell(r, c)) for r in rows]) + 2 for c in spec.columns)
    size = r"\scriptsize" if width > WIDE else r"\small"
    chunks = [rows[i:i + ROWS_PER_TABLE] for i in range(0, len(rows), ROWS_PER_TABLE)] or [[]]
    for index, chunk in enumerate(chunks):
        cont = f", continued {index + 1}/{len(chunks)}" if len(chunks) > 1 else ""
        lines += [
            r"\begin{table}[t]", r"\centering", size, r"\setlength{\tabcolsep}{4pt}",
            rf"\caption{{{escape(spec.title)} ({runs}{cont})}}",
            rf"\label{{tab:{_label(label)}{'-' + str(index + 1) if index else ''}}}",
            rf"\begin{{tabular}}{{{align}}}", r"\toprule",
            " & ".join(escape(c.header) for c in spec.columns) + r" \\", r"\midrule",
        ]
        lines += [" & ".join(escape(cell(r, c)) for c in spec.columns) + r" \\" for r in chunk]
        lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9:.-]+", "-", text)


def write_latex(path: Path, spec: TableSpec, rows: list[Row], provenance: list[tuple[str, str]], label: str) -> Path:
    """Write the table to ``path`` atomically."""
    return write_text(path, latex_table(spec, rows, provenance, label))
