"""Synthetic tasks for architecture research that need no download (Zoology, MAD).

Each is a registered dataset with a seed and a difficulty (``engine/data/config.py``):
``dataset.mqar``, ``dataset.copying``, ``dataset.selective_copying``,
``dataset.induction_heads``. All emit ``inputs``/``targets`` for next-token training with
unscored targets set to -100.
"""

from caramba.engine.data.synthetic.copying import CopyingTask, SelectiveCopyingTask
from caramba.engine.data.synthetic.induction import InductionHeadsTask
from caramba.engine.data.synthetic.recall import MQARTask

__all__ = ["CopyingTask", "InductionHeadsTask", "MQARTask", "SelectiveCopyingTask"]
