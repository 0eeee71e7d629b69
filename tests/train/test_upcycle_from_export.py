"""``presets/upcycle_dba_gpu.yml`` shrunk to seconds: teacher → Hugging Face export → upcycle → comparison.

One ``caramba run upcycle_dba_gpu`` on Python's own stdlib sources (bytes) trains a tiny GQA
teacher, whose run writes ``teacher_hf/`` (``export_hf``); the DBA student's phases start from
``teacher: {hf: teacher_hf}``; both scratch arms train (the student's own steps, and the
teacher's plus the student's); the comparison over teacher, ``student/global``, ``scratch_equal``
and ``scratch`` is written. Checked against references outside the code under
test:

* the exported folder is a real Hugging Face Llama: ``transformers``' own ``LlamaForCausalLM``
  loaded from it gives the caramba teacher's logits;
* the student's surgery came from that folder, at half the teacher's KV cache;
* the comparison table's ratios to the teacher equal the ones recomputed here from each run's
  own benchmark CSVs (perplexity: exp of the NLL difference; KV bytes; decode ms/token);
* the scratch arms trained for the student's steps (blockwise + global) and for the teacher's plus
  the student's, and ``benchmarks/upcycle_preset.py``'s chain table reports both at those steps with
  the comparison's perplexity ratios;
* the phases' losses are reported as the distillation objective, not as next-token loss;
* a second ``caramba run`` redoes nothing and leaves the export alone.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import torch

from tests.bench.comparisons import invoke
from tests.train.gpt_reference import stdlib_bytes

LATENCY = "{type: latency, prompt_lengths: [8], generation_lengths: [4], batch_sizes: [1], warmup_runs: 0, timed_runs: 1}"
MEMORY = "{type: memory, sequence_lengths: [64, 256], quantization_modes: [fp16], measure_peak: false}"
SETS = ["vars.d_model=32", "vars.n_heads=4", "vars.n_kv_heads=2", "vars.d_ff=64", "vars.n_layers=2", "vars.block_size=32",
        "vars.batch_size=4", "vars.teacher_steps=40", "vars.blockwise_steps=8", "vars.global_steps=8", "vars.scratch_equal_steps=16", "vars.scratch_steps=56",
        "vars.sem_dim=8", "vars.geo_dim=16", "vars.v_dim=8", "vars.report_batches=2", "vars.device=cpu", "vars.amp=false",
        "defaults.logging.eval_iters=2", "targets[1].runs[1].verify.max_ppl_ratio=10",
        *(f"targets[{t}].benchmarks[{b}].config={c}" for t in range(4) for b, c in ((1, LATENCY), (2, MEMORY)))]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _own(run: Path, kind: str, column: str, **where: str) -> float:
    """The run's own model's value in its benchmark CSV (rows of ``model: student`` matching ``where``)."""
    rows = [r for r in _csv(run / "artifacts" / f"{kind}.csv") if r["model"] == "student"
            and all(r[k] == v for k, v in where.items())]
    assert len(rows) == 1, rows
    return float(rows[0][column])


def test_a_teacher_exported_to_hugging_face_is_upcycled_and_compared(tmp_path: Path) -> None:
    np.save(tmp_path / "data.npy", stdlib_bytes(300_000))
    (tmp_path / "caramba.yml").write_text("memory: {record_runs: false}\n")
    args = [x for s in SETS for x in ("--set", s)]
    output = invoke(tmp_path, "run", "upcycle_dba_gpu", *args)
    assert "comparison: running arms teacher, student, scratch_equal, scratch" in output
    runs = {d.name.rsplit("-", 1)[0]: d for d in (tmp_path / ".caramba" / "runs").iterdir()}
    assert set(runs) == {"teacher-pretrain", "student-blockwise", "student-global", "scratch_equal-train", "scratch-train"}

    folder = tmp_path / "teacher_hf"
    assert json.loads((folder / "caramba_export.json").read_text())["run_id"] == runs["teacher-pretrain"].name
    from transformers import LlamaForCausalLM

    from caramba.engine.infer.load import load_run

    reference = LlamaForCausalLM.from_pretrained(folder).eval()
    teacher = load_run(tmp_path, runs["teacher-pretrain"].name).model.eval()
    ids = torch.from_numpy(stdlib_bytes(2 * 32).astype(np.int64)).view(2, 32)
    with torch.no_grad():
        assert torch.allclose(teacher(ids), reference(ids).logits, atol=1e-4)

    surgery = json.loads((runs["student-blockwise"] / "artifacts" / "surgery.json").read_text())
    assert surgery["teacher"] == f"Hugging Face checkpoint {folder}" and surgery["kv_ratio"] == 0.5

    table = {r["arm"]: r for r in _csv(tmp_path / ".caramba" / "compare" / "upcycle_dba_gpu" / "comparison_table.csv")}
    assert list(table) == ["teacher", "student/global", "scratch_equal", "scratch"]
    base = runs["teacher-pretrain"]
    for arm, run in (("student/global", runs["student-global"]), ("scratch_equal", runs["scratch_equal-train"]),
                     ("scratch", runs["scratch-train"])):
        nll = _own(run, "perplexity", "nll") - _own(base, "perplexity", "nll")
        assert table[arm]["PPL / teacher"] == f"{math.exp(nll):.3f}"
        kv = _own(run, "memory", "kv_bytes", seq_len="256") / _own(base, "memory", "kv_bytes", seq_len="256")
        assert kv == 0.5 and table[arm]["KV / teacher"] == "0.50"
        decode = _own(run, "latency", "decode_ms_per_token") / _own(base, "latency", "decode_ms_per_token")
        assert table[arm]["decode / teacher"] == f"{decode:.2f}"
    assert table["teacher"]["PPL / teacher"] == "1.000"
    from benchmarks.upcycle_preset import chain_table, run_dirs

    header, chain, _ = chain_table(run_dirs(tmp_path))
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in chain}
    for name, arm, steps in (("DBA from scratch, the student's tokens", "scratch_equal", 8 + 8),
                             ("DBA from scratch, all tokens (teacher's counted)", "scratch", 40 + 8 + 8)):
        assert rows[name]["training steps"] == str(steps) and rows[name]["ppl / teacher"] == table[arm]["PPL / teacher"]
    # the phases' losses are the distillation objective: named so, never mixed with the arms' next-token CE
    metrics = {(r["arm"], r["metric"]) for r in _csv(tmp_path / ".caramba" / "compare" / "upcycle_dba_gpu" / "arms.csv")}
    assert ("student/global", "distill_val_loss") in metrics and ("student/global", "val_loss") not in metrics
    assert ("scratch", "val_loss") in metrics
    from caramba.engine.bench.runner import training_metrics

    assert {r.get("objective") for r in training_metrics(runs["student-blockwise"])} == {"distillation"}
    assert {r.get("objective") for r in training_metrics(runs["teacher-pretrain"])} == {None}

    exported = (folder / "model.safetensors").stat().st_mtime_ns
    again = invoke(tmp_path, "run", "upcycle_dba_gpu", *args)
    assert "(Hugging Face format" not in again and "run student-" not in again and "run teacher-" not in again
    assert (folder / "model.safetensors").stat().st_mtime_ns == exported
