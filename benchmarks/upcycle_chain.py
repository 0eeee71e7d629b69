"""The whole upcycling chain of the ``upcycle_dba`` preset, at a chosen size, with one table.

In a fresh workspace: Python's stdlib sources as bytes (``data.npy``), then ``caramba``'s own
runs of the preset (``--set`` for the sizes): the GQA teacher, the DBA student's blockwise and
global phases (surgery first), and the from-scratch DBA arm trained for as many steps as the
teacher and the two student phases together (equal tokens). Prints, per model, the held-out
next-token NLL (nats/byte) and perplexity, KL(teacher ‖ model) and top-1 agreement with the
teacher (the phases' ``upcycle_report.json``; the scratch arm measured here the same way, on
the same batches), the KV values cached per token and layer and their ratio to the teacher's,
and the wall time of each run. Writes ``upcycle_chain.csv`` and ``.md`` into ``--out``.

    python benchmarks/upcycle_chain.py --device cuda --d 256 --layers 4 --heads 8 --kv-heads 2 \\
        --sem-dim 32 --geo-dim 128 --v-dim 96 --teacher-steps 1500 --blockwise-steps 400 --global-steps 400
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.upcycle_energy import stdlib_bytes
from caramba.engine.compiler import compile_manifest
from caramba.engine.compiler.extends import PRESETS_DIR
from caramba.engine.run import execute


def _sets(a: argparse.Namespace) -> list[str]:
    hd, geo_head = a.d // a.heads, a.geo_dim // a.heads
    amp = [f"targets[{t}].runs[{r}].train.use_amp=true" for t, r in ((0, 0), (1, 0), (1, 1), (2, 0))] if a.device == "cuda" else []
    batch = [f"targets[{t}].runs[{r}].train.batch_size={a.batch}" for t, r in ((0, 0), (1, 0), (1, 1), (2, 0))]
    return [f"vars.d_model={a.d}", f"vars.n_layers={a.layers}", f"vars.n_heads={a.heads}", f"vars.n_kv_heads={a.kv_heads}",
            f"vars.d_ff={a.d * 3}", f"vars.block_size={a.block}", f"vars.teacher_steps={a.teacher_steps}",
            f"vars.blockwise_steps={a.blockwise_steps}", f"vars.global_steps={a.global_steps}", f"vars.sem_dim={a.sem_dim}",
            f"vars.geo_dim={a.geo_dim}", f"vars.v_dim={a.v_dim}", f"vars.student_rope_base={10000.0 ** (geo_head / hd)}",
            f"vars.device={a.device}", "defaults.logging.eval_iters=8", f"targets[1].trainer.config.report_batches={a.report_batches}",
            f"targets[2].runs[0].steps={a.teacher_steps + a.blockwise_steps + a.global_steps}", *amp, *batch]


def _scratch_report(workspace: Path, compiled, record, teacher_id: str, device: torch.device, a: argparse.Namespace) -> dict:
    from caramba.engine.infer.load import load_run
    from caramba.engine.run import build
    from caramba.engine.upcycle.report import fidelity

    student, teacher = load_run(workspace, record.id, device).model, load_run(workspace, teacher_id, device).model
    target = compiled.manifest.target("scratch")
    dataset = build.build_dataset(target, target.runs[0], compiled.manifest.defaults, workspace)
    return fidelity(student, teacher, dataset, a.report_batches, a.batch, device)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("d", 256), ("layers", 4), ("heads", 8), ("kv-heads", 2), ("block", 256), ("batch", 32),
                          ("teacher-steps", 1500), ("blockwise-steps", 400), ("global-steps", 400), ("sem-dim", 32),
                          ("geo-dim", 128), ("v-dim", 96), ("bytes", 8_000_000), ("report-batches", 32)):
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=Path("."))
    a = p.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="upcycle_chain_"))
    np.save(workspace / "data.npy", stdlib_bytes(a.bytes).astype(np.uint16))
    compiled = compile_manifest(PRESETS_DIR / "upcycle_dba.yml", _sets(a), workspace)
    device = torch.device(a.device)
    records, seconds = {}, {}
    for target in ("teacher", "student", "scratch"):
        start = time.perf_counter()
        for record in execute(compiled, target, workspace):
            assert record.status == "succeeded", (record.id, record.reasons)
            records[record.id.rsplit("-", 1)[0]] = record
        seconds[target] = time.perf_counter() - start
    blockwise = json.loads((Path(records["student-blockwise"].dir) / "artifacts" / "upcycle_report.json").read_text())
    global_ = json.loads((Path(records["student-global"].dir) / "artifacts" / "upcycle_report.json").read_text())
    surgery = json.loads((Path(records["student-blockwise"].dir) / "artifacts" / "surgery.json").read_text())
    scratch = _scratch_report(workspace, compiled, records["scratch-train"], records["teacher-pretrain"].id, device, a)
    hd = a.d // a.heads
    teacher_kv, student_kv = 2 * a.kv_heads * hd, (a.sem_dim + a.geo_dim + a.v_dim) * a.kv_heads // a.heads
    t_nll = blockwise["before"]["teacher_nll"]
    rows = [("teacher (GQA)", t_nll, 0.0, 1.0, teacher_kv, a.teacher_steps, seconds["teacher"]),
            ("DBA after surgery", blockwise["before"]["student_nll"], blockwise["before"]["kl"], blockwise["before"]["top1_agreement"],
             student_kv, 0, 0.0),
            ("DBA after blockwise", blockwise["after"]["student_nll"], blockwise["after"]["kl"], blockwise["after"]["top1_agreement"],
             student_kv, a.blockwise_steps, None),
            ("DBA after global KD", global_["after"]["student_nll"], global_["after"]["kl"], global_["after"]["top1_agreement"],
             student_kv, a.global_steps, seconds["student"]),
            ("DBA from scratch", scratch["student_nll"], scratch["kl"], scratch["top1_agreement"], student_kv,
             a.teacher_steps + a.blockwise_steps + a.global_steps, seconds["scratch"])]
    header = ["model", "held-out NLL", "ppl", "ppl / teacher", "KL(teacher‖·)", "top-1 agree", "KV values/token/layer",
              "KV ratio", "steps", "wall s"]
    table = [[name, f"{nll:.4f}", f"{np.exp(nll):.3f}", f"{np.exp(nll - t_nll):.3f}", f"{kl:.4f}", f"{agree:.3f}", str(kv),
              f"{kv / teacher_kv:.3f}", str(steps), "" if wall is None else f"{wall:.1f}"]
             for name, nll, kl, agree, kv, steps, wall in rows]
    a.out.mkdir(parents=True, exist_ok=True)
    with (a.out / "upcycle_chain.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *table])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in table]
    note = (f"held-out: {scratch['tokens']:,} tokens ({a.report_batches} val batches of {a.batch}×{a.block}); surgery kept "
            f"{', '.join(f'{layer['kept']:.3f}' for layer in surgery['layers'])} of the attention-logit energy per layer; "
            f"teacher cache {blockwise['teacher_cache']}")
    (a.out / "upcycle_chain.md").write_text("\n".join(lines) + "\n\n" + note + "\n")
    print("\n".join(lines))
    print(note)


if __name__ == "__main__":
    main()
