"""``presets/upcycle_dba_gpu.yml`` end to end through ``caramba``'s own commands, with the chain's table.

In a fresh workspace (``--workspace``, default a temporary folder):

1. Python's own stdlib sources (every ``.py`` outside ``site-packages`` and test folders, in
   sorted order) concatenated into ``stdlib.txt`` and tokenised by ``caramba data prepare``
   (bytes, vocabulary 256);
2. ``caramba run upcycle_dba_gpu`` (plus any ``--set``): the teacher, its Hugging Face export
   (``export_hf``), the student's surgery → blockwise → global phases from ``teacher: {hf: …}``,
   the two from-scratch arms, every benchmark and the comparison;
3. into ``--out``: the comparison folder (tables CSV + LaTeX, figures PNG + PDF), each run's
   artifacts (no checkpoints), and ``upcycle_chain.csv`` / ``.md``: per model (teacher, the
   student after surgery, blockwise and global, and DBA from scratch at both readings of
   "equal tokens") its training steps, the held-out NLL and perplexity relative to the
   teacher, KL(teacher‖·) and top-1 agreement (the phases' ``upcycle_report.json``; the
   scratch arms' perplexity from their benchmarks on the same held-out windows), the KV
   ratio, decode ms/token at batch 1, and the teacher-cache hits.

The two scratch arms (the preset's header says the same): ``scratch_equal`` trains for the
student's own steps (blockwise + global: the teacher is a given pretrained model, the usual
upcycling comparison), ``scratch`` for the teacher's steps plus the student's (the teacher's
tokens counted). Every step is ``batch_size × block_size`` tokens in all three, so steps
count tokens.

    python -m benchmarks.upcycle_preset --out results/             # GPU size (one H200: docs/measurements.md)
    python -m benchmarks.upcycle_preset --out r/ --set vars.device=cpu ...   # a tiny CPU check (tests use it)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

SKIP = {".safetensors", ".pt", ".bin"}


def stdlib_text(out: Path) -> int:
    """Concatenate the stdlib's ``.py`` sources into ``out``; its size in bytes."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts and not any(
        part.startswith("test") for part in p.relative_to(root).parts))
    with out.open("wb") as handle:
        for path in files:
            handle.write(path.read_bytes())
    return out.stat().st_size


def caramba(workspace: Path, *args: str) -> None:
    """``caramba ARGS`` in ``workspace`` (this interpreter), streaming its output; raises on failure."""
    subprocess.run([sys.executable, "-m", "caramba", *args], cwd=workspace, check=True)


def run_dirs(workspace: Path) -> dict[str, Path]:
    """``teacher-pretrain`` → its run directory, for every run in the store."""
    return {"-".join(d.name.split("-")[:-1]): d for d in (workspace / ".caramba" / "runs").iterdir() if d.is_dir()}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def steps(run: Path) -> int:
    """The step a run ended at (its ``status.json``)."""
    return int(json.loads((run / "status.json").read_text())["step"])


def chain_table(runs: dict[str, Path]) -> tuple[list[str], list[list[str]], str]:
    """(header, rows, note) of the chain: teacher, surgery, blockwise, global, scratch at the student's and at all tokens."""
    art = {name: d / "artifacts" for name, d in runs.items()}
    n = {name: steps(d) for name, d in runs.items()}
    student = n["student-blockwise"] + n["student-global"]
    blockwise = json.loads((art["student-blockwise"] / "upcycle_report.json").read_text())
    global_ = json.loads((art["student-global"] / "upcycle_report.json").read_text())
    surgery = json.loads((art["student-blockwise"] / "surgery.json").read_text())
    ppl = {k: {r["model"]: float(r["nll"]) for r in _rows(art[k] / "perplexity.csv")} for k in art}
    decode = {k: {r["model"]: float(r["decode_ms_per_token"]) for r in _rows(art[k] / "latency.csv") if r["batch"] == "1"}
              for k in art}
    t_nll = ppl["teacher-pretrain"]["student"]
    kv = surgery["kv_ratio"]

    def phase(report: dict) -> list:
        return [report["student_nll"], report["teacher_nll"], report["kl"], report["top1_agreement"], kv]

    def scratch(name: str, reading: str) -> list:
        run = f"{name}-train"
        return [f"DBA from scratch, {reading}", "benchmark", n[run], ppl[run]["student"], t_nll, None, None, kv,
                decode[run]["student"]]

    rows = [["teacher (GQA)", "benchmark", n["teacher-pretrain"], t_nll, t_nll, 0.0, 1.0, 1.0, decode["teacher-pretrain"]["student"]],
            ["DBA after surgery", "phase report", 0, *phase(blockwise["before"]), None],
            ["DBA after blockwise", "phase report", n["student-blockwise"], *phase(blockwise["after"]),
             decode["student-blockwise"]["student"]],
            ["DBA after global KD", "phase report", student, *phase(global_["after"]), decode["student-global"]["student"]],
            ["DBA after global KD", "benchmark", student, ppl["student-global"]["student"], ppl["student-global"]["teacher"],
             None, None, kv, decode["student-global"]["student"]],
            scratch("scratch_equal", "the student's tokens"),
            scratch("scratch", "all tokens (teacher's counted)")]
    header = ["model", "measured by", "training steps", "held-out NLL (nats/byte)", "ppl", "ppl / teacher",
              "KL(teacher‖·)", "top-1 agreement", "KV ratio", "decode ms/token (B=1)"]
    fmt = lambda v, spec: "—" if v is None else format(v, spec)  # noqa: E731
    table = [[name, source, str(k), f"{nll:.4f}", f"{math.exp(nll):.3f}", f"{math.exp(nll - teacher):.3f}", fmt(kl, ".4f"),
              fmt(agree, ".3f"), f"{ratio:.3f}", fmt(ms, ".3f")]
             for name, source, k, nll, teacher, kl, agree, ratio, ms in rows]
    cache = blockwise["teacher_cache"]
    note = (f"training steps: the student's are its phases' (blockwise {n['student-blockwise']} + global "
            f"{n['student-global']} = {student}); scratch at the student's tokens trained {n['scratch_equal-train']} steps "
            f"(the teacher given), scratch at all tokens {n['scratch-train']} (teacher {n['teacher-pretrain']} + the "
            f"student's {student}); phase report: {blockwise['after'].get('tokens', '?')} held-out tokens (the trainer's "
            f"report_batches), teacher "
            f"and student on the same batches; benchmark: the perplexity benchmark's held-out windows, the same for every "
            f"run (ppl / teacher against the teacher on them); surgery kept "
            f"{', '.join(f'{layer['kept']:.3f}' for layer in surgery['layers'])} of the attention-logit energy per layer; "
            f"teacher cache: {cache.get('hits')} hits, {cache.get('misses')} misses, {cache.get('capacity_batches')} batches "
            f"kept ({cache.get('held_bytes', 0) / 2**20:.1f} MiB)")
    return header, table, note


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the tables, figures and run artifacts")
    p.add_argument("--workspace", type=Path, default=None, help="workspace to run in (default: a new temporary folder)")
    p.add_argument("--set", dest="sets", action="append", default=[], help="override a preset field (caramba run --set)")
    a = p.parse_args()
    workspace = a.workspace or Path(tempfile.mkdtemp(prefix="upcycle_preset_"))
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "caramba.yml").write_text("memory: {record_runs: false}\n")  # no knowledge memory on a bare machine
    print(f"stdlib sources: {stdlib_text(workspace / 'stdlib.txt'):,} bytes", flush=True)
    caramba(workspace, "data", "prepare", "stdlib.txt", "--out", "data.npy")
    start = time.perf_counter()
    caramba(workspace, "run", "upcycle_dba_gpu", *(x for s in a.sets for x in ("--set", s)))
    wall = time.perf_counter() - start
    a.out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(workspace / ".caramba" / "compare" / "upcycle_dba_gpu", a.out / "compare", dirs_exist_ok=True)
    runs = run_dirs(workspace)
    for name, folder in runs.items():
        for f in (folder / "artifacts").rglob("*"):
            if f.is_file() and f.suffix not in SKIP:
                (a.out / "runs" / name / f.relative_to(folder / "artifacts")).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, a.out / "runs" / name / f.relative_to(folder / "artifacts"))
        shutil.copy2(folder / "metrics.jsonl", a.out / "runs" / name / "metrics.jsonl")
    header, table, note = chain_table(runs)
    with (a.out / "upcycle_chain.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *table])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in table]
    text = "\n".join(lines) + f"\n\n{note}\n`caramba run upcycle_dba_gpu` took {wall:.1f} s\n"
    (a.out / "upcycle_chain.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
