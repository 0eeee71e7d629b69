"""One evaluation protocol (engine/data/heldout.py): every held-out number of a run comes from the same windows.

On real text (Python's own ``json`` and ``inspect`` sources as bytes), a run whose
``eval_iters × batch_size`` and fidelity ``batches × batch_size`` equal the protocol's
window count W must report the same NLL three times, through three code paths: the
trainer's final ``val_loss`` (objective on dataset batches), the fidelity gate's
``student_nll``, and the perplexity benchmark's ``nll`` (its own window plan). A fourth,
independent value is computed here from the saved weights with plain
``torch.nn.functional.cross_entropy`` over windows this test lays out itself.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.data.tokens import TokenDataset

BLOCK, BATCH, VAL_FRAC, N = 16, 2, 0.1, 10_000


def text_tokens() -> np.ndarray:
    return np.frombuffer((Path(json.__file__).read_bytes() + Path(inspect.__file__).read_bytes())[:N],
                         dtype=np.uint8).astype(np.uint16)


def test_validation_windows_are_the_protocol_for_every_seed(tmp_path: Path) -> None:
    tokens = text_tokens()
    np.save(tmp_path / "t.npy", tokens)
    a = TokenDataset("t.npy", BLOCK, seed=1, val_frac=VAL_FRAC, base_dir=tmp_path)
    b = TokenDataset("t.npy", BLOCK, seed=2, val_frac=VAL_FRAC, base_dir=tmp_path)
    lo = N - int(N * VAL_FRAC)
    windows = (N - lo - 1) // BLOCK  # full windows of BLOCK inputs + 1 target in the split
    assert (a.heldout.lo, a.heldout.windows, a.heldout.tokens) == (lo, windows, windows * BLOCK)
    drawn = []
    for index in range(math.ceil(windows / BATCH)):
        batch = a.batch("val", index, BATCH)
        assert torch.equal(batch["inputs"], b.batch("val", index, BATCH)["inputs"])  # the seed does not matter
        assert torch.equal(batch["targets"][:, :-1], batch["inputs"][:, 1:])
        drawn += [tuple(row.tolist()) + (int(t[-1]),) for row, t in zip(batch["inputs"], batch["targets"])]
    protocol = [tuple(int(v) for v in tokens[s:s + BLOCK + 1]) for s in range(lo, lo + windows * BLOCK, BLOCK)]
    assert sorted(drawn[:windows]) == sorted(protocol)  # each of the W windows once in the first W draws
    assert a.heldout.share(windows) == f"all {windows} windows" and "(50.0%)" in a.heldout.share(windows // 2)


MANIFEST = """
version: 2
name: protocol
defaults: {{data: {{val_frac: {val_frac}}}, logging: {{instrument: plain, eval_iters: {iters}, eval_every: 0}}}}
targets:
  - type: experiment
    name: lm
    task: task.language_modeling
    data: {{ref: dataset.tokens, config: {{path: text.npy, block_size: {block}}}}}
    system:
      ref: system.language_model
      config:
        model:
          type: TransformerModel
          embedder: {{type: token, vocab_size: 256, d_model: 32}}
          topology:
            type: StackedTopology
            layers:
              - type: ResidualTopology
                layers: [{{type: RMSNormLayer, d_model: 32}}, {{type: AttentionLayer, d_model: 32, n_heads: 2, mode: standard}}]
              - {{type: RMSNormLayer, d_model: 32}}
              - {{type: LinearLayer, d_in: 32, d_out: 256}}
    objective: objective.next_token_ce
    trainer: trainer.standard
    runs:
      - id: train
        seed: 0
        steps: 6
        verify: {{type: fidelity, batches: {iters}, max_delta_nll: 10.0}}
        train: {{batch_size: {batch}, block_size: {block}, lr: 0.003, device: cpu, dtype: float32}}
    benchmarks:
      - {{id: perplexity, config: {{type: perplexity, block_size: {block}, batch_size: 16}}}}
"""


@pytest.mark.slow
def test_every_held_out_number_is_the_same_on_the_whole_protocol(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    np.save(tmp_path / "text.npy", text_tokens())
    windows = (N - (N - int(N * VAL_FRAC)) - 1) // BLOCK
    assert windows % BATCH == 0
    (tmp_path / "m.yml").write_text(MANIFEST.format(val_frac=VAL_FRAC, iters=windows // BATCH, block=BLOCK, batch=BATCH))
    (tmp_path / "caramba.yml").write_text("memory: {record_runs: false}\n")
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["run", "m.yml"])
    finally:
        os.chdir(before)
    assert result.exit_code == 0, result.output
    run = next((tmp_path / ".caramba" / "runs").iterdir())
    val_loss = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()
                if json.loads(line).get("kind") == "eval"][-1]["val_loss"]
    fidelity = json.loads((run / "artifacts" / "verify.json").read_text())["measurements"]
    perplexity = next(r for r in (run / "artifacts" / "perplexity.csv").read_text().splitlines()[1:])
    header = (run / "artifacts" / "perplexity.csv").read_text().splitlines()[0].split(",")
    ppl_row = dict(zip(header, perplexity.split(",")))
    # an independent reference: the final weights, windows laid out here, plain cross-entropy in float64
    from caramba.engine.infer.load import load_run
    from caramba.engine.model.context import ForwardContext

    model = load_run(tmp_path, run.name).model.eval()
    tokens = torch.from_numpy(text_tokens().astype(np.int64))
    lo = N - int(N * VAL_FRAC)
    total = 0.0
    with torch.no_grad():
        for w in range(windows):
            x = tokens[lo + w * BLOCK: lo + w * BLOCK + BLOCK + 1]
            logits = model(x[None, :-1], ForwardContext())[0].double()
            total += float(torch.nn.functional.cross_entropy(logits, x[1:], reduction="sum"))
    reference = total / (windows * BLOCK)
    assert int(ppl_row["tokens"]) == windows * BLOCK
    for name, value in (("val_loss", val_loss), ("fidelity student_nll", fidelity["student_nll"]),
                        ("perplexity nll", float(ppl_row["nll"]))):
        assert value == pytest.approx(reference, rel=2e-5), name
    assert fidelity["heldout"] == f"all {windows} windows"
    printed = " ".join(result.output.split())  # rich wraps long lines at the terminal's width
    assert printed.count("held-out tokens: validation split of ") == 1  # the protocol, said once
    assert (f"text.npy (tokens {N - int(N * VAL_FRAC):,} to {N:,}): {windows} windows of {BLOCK} tokens, "
            f"{windows * BLOCK} targets in all") in printed
    assert f"val_loss {val_loss:.4g} (trainer estimate: all {windows} windows = {windows * BLOCK:,} tokens)" in printed
    assert f"perplexity {math.exp(float(ppl_row['nll'])):.4g} (all {windows} windows)" in printed
