"""``caramba generate``: text or token ids from a run's checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from caramba.cli.common import console, fail, print_json

KIND_HELP = "KV-cache kind: fp16, bf16, fp32, q8, q4, or none (recompute the prefix each step)"


def generate(
    run_id: Annotated[str, typer.Argument(help="run id (or a unique prefix) from `caramba runs list`")],
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="prompt text (encoded with the run's tokenizer)")] = None,
    ids: Annotated[str | None, typer.Option("--ids", help="prompt as comma-separated token ids, e.g. 72,101,108")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", "-n", min=1, help="tokens to generate")] = 64,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 = greedy")] = 0.0,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="keep the k most likely tokens")] = None,
    top_p: Annotated[float | None, typer.Option("--top-p", help="nucleus: smallest set with this total probability")] = None,
    cache: Annotated[str, typer.Option("--cache", help=KIND_HELP)] = "fp16",
    block_size: Annotated[int | None, typer.Option("--block-size", min=2, help="q8/q4 block size (default: the largest "
                                                   "of 32, 16, 8, 4, 2 that divides every head width)")] = None,
    residual_window: Annotated[int, typer.Option("--residual-window", min=0, help="recent tokens kept exact (q8/q4)")] = 0,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:1 …")] = "cpu",
    capture: Annotated[bool, typer.Option("--capture/--no-capture", help="on CUDA, replay the decode step from a "
                                          "CUDA graph over a static cache (--no-capture: eager steps)")] = True,
    format_: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Continue a prompt with a trained run's newest good checkpoint."""
    if (prompt is None) == (ids is None):
        fail("give exactly one of --prompt TEXT or --ids 1,2,3", "e.g. caramba generate RUN_ID --prompt 'Hello'")
    import torch

    from caramba.engine.data.tokenizers import TokenizerUnavailable, load_tokenizer
    from caramba.engine.infer import CachePolicy, Sampling
    from caramba.engine.infer import generation as run_generation
    from caramba.engine.infer.load import NoCheckpoint, load_run
    from caramba.engine.store.runs import UnknownRun

    try:
        sampling = Sampling(temperature, top_k, top_p)
        loaded = load_run(Path.cwd(), run_id, device)
        block = block_size if block_size is not None else default_block(loaded.target)
        policy = None if cache == "none" else CachePolicy(cache, block, residual_window)
        tokenizer = load_tokenizer(loaded.tokenizer, Path.cwd()) if prompt is not None else None
    except (ValueError, UnknownRun, NoCheckpoint, TokenizerUnavailable) as exc:
        fail(str(exc))
    if ids is not None:
        try:
            prompt_ids = [int(t) for t in ids.split(",") if t.strip()]
        except ValueError:
            fail(f"--ids must be comma-separated integers, got {ids!r}")
    else:
        prompt_ids = tokenizer.encode(prompt)  # type: ignore[union-attr, arg-type]
    vocab = getattr(loaded.model, "vocab_size", None)
    if not prompt_ids or (vocab is not None and max(prompt_ids) >= vocab):
        fail(f"the prompt must be 1+ token ids below the model's vocabulary ({vocab}), got {prompt_ids[:8]}…")
    try:
        result = run_generation(loaded.model, torch.tensor([prompt_ids], device=device), max_new_tokens, sampling,
                                policy, seed, capture=capture)
    except ValueError as exc:  # a cache the model's shapes refuse (e.g. a block size that cuts a head)
        fail(str(exc), "e.g. --block-size 16, or --cache fp16")
    new = result.ids[0, len(prompt_ids):].tolist()
    text = tokenizer.decode(new) if tokenizer is not None else None
    if format_ == "json":
        print_json({"run_id": loaded.run_id, "step": loaded.step, "prompt_ids": prompt_ids, "ids": new, "text": text,
                    "cache": policy.describe() if policy else "none", "throughput": result.throughput.row()})
        return
    console.print(f"[dim]run {loaded.run_id} · checkpoint step {loaded.step} · cache {policy.describe() if policy else 'none'}[/]")
    console.print(text if text is not None else ",".join(map(str, new)), markup=False, highlight=False)
    console.print(f"[dim]{result.throughput.line()}[/]", markup=True, highlight=False)


def default_block(target: object) -> int:
    """The largest of 32, 16, 8, 4, 2 that divides every cached head width of ``target``'s model (32 when
    the model declares none), so ``--cache q8`` works on any model without a ``--block-size``."""
    from caramba.engine.compiler.checks.fit import head_widths

    model = getattr(getattr(getattr(target, "system", None), "config", None), "model", None)
    widths = {w for group in (head_widths(model) if model is not None else {}).values() for w in group}
    return next((b for b in (32, 16, 8, 4, 2) if all(w % b == 0 for w in widths)), 2)


def register(app: typer.Typer) -> None:
    """Add ``generate`` to the ``caramba`` command."""
    app.command()(generate)
