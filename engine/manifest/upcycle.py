"""``trainer: {ref: trainer.upcycle, config: …}``: distil a pretrained teacher into a student.

One target holds the student (its ``system``) and its phases as runs, in order; each run's
``train.phase`` picks what it does and each run after the first starts from the one before
(``init_from: {run: previous}``), so the phases chain through the run store:

* ``blockwise`` — block by block, every parameter frozen except block i's, minimise
  ``loss`` (mse, l1 or cosine) between the student's and the teacher's block output
  (``distill_target: block``) or attention-sublayer output (``distill_target: attention``);
  the run's ``steps`` are split evenly over the blocks, and ``train.convergence_*`` (target,
  patience, max steps) apply per block;
* ``global`` — knowledge distillation on the logits (Hinton et al. 2015):
  ``alpha·τ²·KL(p_T^τ ‖ p_S^τ) + (1 − alpha)·CE(student, next token)``, optionally plus
  ``intermediate_weight`` × the mean block-output MSE of ``intermediate_blocks``; every
  parameter trainable (``train.freeze`` and ``train.param_groups`` apply).

``teacher`` names the teacher's weights like ``init_from`` does: a Hugging Face folder
(``hf``) or a run of this manifest (``run`` + ``target``; its target's system is the
teacher's architecture). With ``surgery: true`` the first run (it has no ``init_from``)
starts from the DBA surgery of the teacher (``engine/upcycle/surgery.py``); the student's
system must then be exactly the surgery's student, which validation checks.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from caramba.engine.manifest.init_from import InitFromConfig
from caramba.engine.model.config.base import StrictModel


class UpcycleConfig(StrictModel):
    """The teacher, the surgery switch and the distillation settings of every phase."""

    teacher: InitFromConfig = Field(description="the teacher's weights, as init_from names them: {hf: …} or {run: id, target: name}")
    surgery: bool = Field(default=True, description="the first run starts from the DBA surgery of the teacher")
    distill_target: Literal["block", "attention"] = Field(default="block", description="blockwise: match each block's "
                                                          "output, or its attention sublayer's output")
    loss: Literal["mse", "l1", "cosine"] = Field(default="mse", description="blockwise distance to the teacher")
    cache_teacher_outputs: bool = Field(default=True, description="blockwise: compute the teacher's activations once per "
                                        "batch and reuse them for every block (bounded by cache_batches)")
    cache_batches: int = Field(default=64, ge=1, description="most batches whose teacher activations are kept (the first ones seen)")
    temperature: float = Field(default=2.0, gt=0, description="global: softmax temperature τ of the KD term")
    alpha: float = Field(default=0.5, ge=0.0, le=1.0, description="global: weight of the KD term (1 − alpha: next-token CE)")
    intermediate_blocks: list[int] = Field(default_factory=list, description="global: blocks whose outputs are also matched (MSE)")
    intermediate_weight: float = Field(default=0.0, ge=0.0, description="global: weight of the intermediate-layer MSE")
    report_batches: int = Field(default=8, ge=1, description="held-out batches of the teacher-vs-student report of each phase")

    @model_validator(mode="after")
    def _coherent(self) -> "UpcycleConfig":
        if self.teacher.path is not None:
            raise ValueError("teacher.path gives weights without an architecture; use teacher.hf (a Hugging Face folder) "
                             "or teacher.run (+ target: the target whose system is the teacher)")
        if self.intermediate_blocks and self.intermediate_weight == 0:
            raise ValueError("intermediate_blocks is set but intermediate_weight is 0; set a weight > 0 or drop the blocks")
        if self.intermediate_weight > 0 and not self.intermediate_blocks:
            raise ValueError("intermediate_weight > 0 needs intermediate_blocks (the block indices to match)")
        return self
