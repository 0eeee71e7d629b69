"""Upcycling a pretrained model into a new architecture (issue #18).

Today: :func:`surgery` — a Hugging Face Llama (GQA) teacher → a DBA student initialised
to preserve the teacher's attention (``surgery.py``, factorisation in ``factor.py``), with a
per-layer report of the attention-logit energy kept; :func:`write_surgery` writes it as a
folder (manifest.yml + model.safetensors + surgery.json) that ``caramba run`` starts from
(``caramba upcycle-surgery``); ``values.py`` narrows the value path the same way.
``trainer.py`` is ``trainer.upcycle``: the blockwise and global distillation phases
(``distill/``: losses, the teacher cache, the objectives), with the per-phase
teacher-vs-student report (``report.py``) and the dry run's costs (``plan.py``).
"""

from caramba.engine.upcycle.factor import FactoredAttention, factor_attention
from caramba.engine.upcycle.folder import write_surgery
from caramba.engine.upcycle.surgery import LayerReport, Surgery, SurgeryError, student_config, surgery
from caramba.engine.upcycle.values import FactoredValues, factor_values

__all__ = ["FactoredAttention", "FactoredValues", "LayerReport", "Surgery", "SurgeryError", "factor_attention", "factor_values",
           "student_config", "surgery", "write_surgery"]
