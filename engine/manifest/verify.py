"""``runs[].verify``: the gates a run must pass after training (compare, fidelity, eval)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field

from caramba.engine.manifest.paths import TokenizerPath
from caramba.engine.model.config.base import StrictModel


class L1Thresholds(StrictModel):
    """Bounds on the L1 difference between teacher and student tensors."""

    max_mean_l1: float = Field(gt=0, description="largest allowed mean |teacher − student|")
    max_max_l1: float = Field(gt=0, description="largest allowed max |teacher − student|")


class CompareVerify(StrictModel):
    """Teacher vs student on the same batches: attention outputs and logits."""

    type: Literal["compare"] = "compare"
    batches: int = Field(default=5, ge=1, description="validation batches compared")
    fail_fast: bool = Field(default=True, description="stop at the first failed gate")
    attention: L1Thresholds | None = Field(default=None, description="bounds on attention-layer outputs")
    logits: L1Thresholds | None = Field(default=None, description="bounds on logits")


class FidelityVerify(StrictModel):
    """Loss-based gate. ΔNLL = student NLL − reference NLL on held-out batches; the
    reference is the teacher when the run has one, otherwise the untrained
    initialisation of the same model (so the gate asks: did training help at all?)."""

    type: Literal["fidelity"] = "fidelity"
    batches: int = Field(default=5, ge=1, description="batches evaluated")
    split: Literal["auto", "train", "val"] = Field(default="auto", description="auto: val when non-empty, else train")
    max_delta_nll: float | None = Field(default=None, description="largest allowed student − reference NLL")
    max_ppl_ratio: float | None = Field(default=None, gt=0, description="largest allowed student / reference perplexity")
    fail_fast: bool = Field(default=True, description="stop at the first failed gate")


class EvalTokenizer(StrictModel):
    """Tokenizer used to encode prompts and decode answers."""

    type: TokenizerPath = Field(default="byte", description="byte, tiktoken, gpt2, llama or a tokenizer.json path")


class EvalThresholds(StrictModel):
    """Accuracy gates of an eval."""

    min_student_accuracy: float | None = Field(default=None, ge=0.0, le=1.0, description="lowest accepted accuracy")
    max_accuracy_drop: float | None = Field(default=None, ge=0.0, le=1.0, description="largest teacher − student accuracy")


class EvalCase(StrictModel):
    """One behavioural case."""

    id: str = Field(min_length=1, description="case name")
    prompt: str | list[int] = Field(description="prompt text (tokenised) or token ids")
    answer: Any = Field(description="expected answer")
    kind: Literal["int_greedy", "choice_logprob", "exact_match"] = Field(description="how the answer is judged")
    choices: list[str] | list[list[int]] | None = Field(default=None, description="choice_logprob candidates")


class EvalVerify(StrictModel):
    """Behavioural cases scored by greedy decoding or choice log-probabilities."""

    type: Literal["eval"] = "eval"
    tokenizer: EvalTokenizer = Field(default_factory=EvalTokenizer)
    max_new_tokens: int = Field(default=16, ge=1, description="greedy tokens generated per case")
    thresholds: EvalThresholds = Field(default_factory=EvalThresholds)
    cases: list[EvalCase] = Field(min_length=1, description="the cases")
    fail_fast: bool = Field(default=True, description="stop at the first failed gate")


VerifyConfig = Annotated[Union[CompareVerify, FidelityVerify, EvalVerify], Field(discriminator="type")]
