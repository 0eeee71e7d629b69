"""``collect_results(source, workspace)``: the :class:`ResultSet` of a paper, from the run store only.

1. the source becomes arms of runs (``source.py``; a session through ``session.py``);
2. the engine's comparison code analyses them — the same statistics, table and figures
   ``caramba compare`` writes (``caramba.engine.bench.compare``: ``analyse``,
   ``write_tables``, ``write_figures``), into ``out`` (default
   ``.caramba/paper/results/<hash of the run ids>``);
3. each run's folder gives its setup facts (``facts.py``) and each arm a note of how its
   target differs from the baseline's (``arm_notes.py``; a session's nodes bring their own);
4. every number becomes a :class:`~caramba.processes.paper_write.build.model.Quantity`
   and every pairwise test a :class:`~caramba.processes.paper_write.build.model.ComparisonClaim`
   (``quantities.py``), each with its run ids and manifest hashes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from caramba.engine.bench.compare import analyse
from caramba.engine.bench.compare.analysis import default_primary
from caramba.engine.bench.compare.figures import write_figures
from caramba.engine.bench.compare.tables import write_tables
from caramba.processes.paper_write.build.arm_notes import arm_notes
from caramba.processes.paper_write.build.facts import run_facts
from caramba.processes.paper_write.build.keys import slug
from caramba.processes.paper_write.build.model import FigureFile, ResultSet, TableFile
from caramba.processes.paper_write.build.quantities import quantities_of
from caramba.processes.paper_write.build.session import SessionSpec
from caramba.processes.paper_write.build.source import Source, resolve

#: Captions of the comparison's figures (no numbers: a figure's numbers are inside the figure).
CAPTIONS = {
    "curves": "Training and validation loss per arm against the optimiser step: the line is the mean over seeds, "
              "the band spans the lowest to the highest seed.",
    "final_metrics": "Final metrics per arm: every seed (dots) and the mean with its 95\\% confidence interval (bar).",
    "memory_vs_context": "Measured memory of the KV cache and of the model's tensors against the context length.",
}


def collect_results(source: Source | str | Path | list[str], workspace: Path, out: Path | None = None) -> ResultSet:
    """The results of ``source`` in the workspace's run store (module docstring); raises ``SourceError``."""
    workspace = Path(workspace)
    source = Source.of(source)
    resolved = resolve(source, workspace)
    arms = resolved.arms
    provenance = [(r.id, r.manifest_digest) for a in arms for r in a.runs]
    comparison = analyse(arms, resolved.spec, provenance)
    if comparison.primary not in comparison.metrics:  # e.g. a session goal named a metric the runs do not report
        spec = SessionSpec(comparison.question, default_primary(comparison.metrics), comparison.direction,
                           comparison.baseline)
        comparison = analyse(arms, spec, provenance)
    facts = [run_facts(r, a.name) for a in arms for r in a.runs]
    ordered = [next(a for a in arms if a.name == r.name) for r in comparison.arms]  # baseline first
    notes = resolved.notes or arm_notes(ordered)
    quantities, claims = quantities_of(comparison, facts)
    digest = hashlib.sha256("\n".join(r for r, _ in provenance).encode()).hexdigest()[:12]
    out = Path(out) if out is not None else workspace / ".caramba" / "paper" / "results" / digest
    run_ids = tuple(r for r, _ in provenance)
    hashes = tuple(sorted({d for _, d in provenance}))
    tables = []
    for path in write_tables(comparison, out):
        if path.suffix == ".tex":
            label = re.search(r"\\label\{([^}]*)\}", path.read_text(encoding="utf-8"))
            tables.append(TableFile(path, label.group(1) if label else f"tab:{slug(path.stem)}", run_ids, hashes,
                                    "per arm: mean ± sd of the headline metrics over seeds, best in bold, † significant "
                                    "against the baseline, ratios to the baseline"))
    figures = [FigureFile(p, f"fig:{slug(p.stem)}", CAPTIONS.get(p.stem, ""), run_ids, hashes)
               for p in write_figures(comparison, out) if p.suffix == ".pdf"]
    manifests = dict.fromkeys(hashes)
    for a in arms:
        for r in a.runs:
            path = resolved.manifest_files.get(r.manifest_digest) or Path(r.dir) / "manifest.yml"
            if manifests.get(r.manifest_digest) is None:
                manifests[r.manifest_digest] = (r.manifest_name, path)
    return ResultSet(quantities, claims, tables, figures, facts, source.kind, resolved.question or comparison.question,
                     comparison.primary, comparison.baseline, {a.name: tuple(a.run_ids) for a in comparison.arms},
                     notes, manifests, resolved.commands, comparison)  # type: ignore[arg-type]
