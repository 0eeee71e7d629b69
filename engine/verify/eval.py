"""``verify: {type: eval}``: behavioural cases, scored on the student (and the reference).

Case kinds:

* ``int_greedy`` — greedy-decode ``max_new_tokens``; the first integer in the decoded
  text must equal ``answer``;
* ``exact_match`` — the greedy continuation must begin with the answer: for text, the
  decoded text with leading whitespace removed starts with ``str(answer)``; for token-id
  answers (a list), the first generated ids equal it;
* ``choice_logprob`` — each choice's summed log-probability as a continuation of the
  prompt; the highest must be ``answer``.

Prompts are text (encoded with ``tokenizer.type``) or token ids. Decoding keeps the last
``block_size`` tokens as context. Gates: ``min_student_accuracy`` and
``max_accuracy_drop`` (reference accuracy − student accuracy; the reference is the
teacher or the initial weights, see ``context.py``).
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from caramba.engine.data.tokenizers import Tokenizer, load_tokenizer
from caramba.engine.manifest.verify import EvalCase, EvalVerify
from caramba.engine.model.context import ForwardContext
from caramba.engine.verify.context import VerifyContext
from caramba.engine.verify.gates import Gates

INTEGER = re.compile(r"-?\d+")


def _ids(value: str | list[int], tok: Tokenizer) -> list[int]:
    return list(value) if isinstance(value, list) else tok.encode(value)


def _logits(model: nn.Module, ids: list[int], ctx: VerifyContext) -> torch.Tensor:
    window = torch.tensor([ids[-ctx.block_size:]], device=ctx.device)
    with ctx.autocast():
        return model(window, ForwardContext())[0].float()  # (T, V)


def greedy(model: nn.Module, prompt: list[int], steps: int, ctx: VerifyContext) -> list[int]:
    """``steps`` greedy tokens after ``prompt`` (full recompute; cases are short)."""
    ids = list(prompt)
    for _ in range(steps):
        ids.append(int(_logits(model, ids, ctx)[-1].argmax()))
    return ids[len(prompt):]


def choice_logprob(model: nn.Module, prompt: list[int], choice: list[int], ctx: VerifyContext) -> float:
    """Summed log-probability of ``choice`` following ``prompt``."""
    ids = prompt + choice
    logp = torch.log_softmax(_logits(model, ids, ctx), dim=-1)
    offset = len(ids[-ctx.block_size:]) - len(choice)  # positions of the choice inside the window
    return float(sum(logp[offset + i - 1, token] for i, token in enumerate(choice)))


def score_case(model: nn.Module, case: EvalCase, config: EvalVerify, tok: Tokenizer, ctx: VerifyContext) -> dict[str, Any]:
    """Run one case; ``{"id", "kind", "passed", "output"}``."""
    prompt = _ids(case.prompt, tok)
    if case.kind == "choice_logprob":
        choices = [_ids(c, tok) for c in case.choices or []]
        scores = [choice_logprob(model, prompt, c, ctx) for c in choices]
        best = (case.choices or [])[max(range(len(scores)), key=scores.__getitem__)]
        return {"id": case.id, "kind": case.kind, "passed": best == case.answer, "output": best, "scores": scores}
    generated = greedy(model, prompt, config.max_new_tokens, ctx)
    text = tok.decode(generated)
    if case.kind == "int_greedy":
        match = INTEGER.search(text)
        passed = match is not None and int(match.group()) == int(case.answer)
    elif isinstance(case.answer, list):
        passed = generated[: len(case.answer)] == [int(a) for a in case.answer]
    else:
        passed = text.lstrip().startswith(str(case.answer))
    return {"id": case.id, "kind": case.kind, "passed": passed, "output": text, "ids": generated}


@torch.no_grad()
def verify_eval(config: EvalVerify, ctx: VerifyContext, gates: Gates) -> None:
    """Score every case on the student (and the reference when a drop gate asks) and apply the gates."""
    tok = load_tokenizer(config.tokenizer.type, ctx.base_dir)
    ctx.student.eval()
    student = [score_case(ctx.student, case, config, tok, ctx) for case in config.cases]
    accuracy = sum(r["passed"] for r in student) / len(student)
    gates.verdict.measurements.update(student_accuracy=accuracy, cases=student)
    gates.at_least("student_accuracy", accuracy, config.thresholds.min_student_accuracy)
    if config.thresholds.max_accuracy_drop is not None:
        reference = ctx.need_reference("eval max_accuracy_drop")
        reference.eval()
        ref = [score_case(reference, case, config, tok, ctx) for case in config.cases]
        ref_accuracy = sum(r["passed"] for r in ref) / len(ref)
        gates.verdict.measurements.update(reference=ctx.reference_kind, reference_accuracy=ref_accuracy, reference_cases=ref)
        gates.at_most("accuracy_drop", ref_accuracy - accuracy, config.thresholds.max_accuracy_drop)
