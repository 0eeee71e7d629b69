"""Initialisation schemes: how a freshly built model's weights are drawn.

A system's config carries ``init: {scheme, std}`` (``config/init.py``); when absent, the
system's family recipe applies (a language model starts GPT-2-style). After the module
tree is built, :func:`initialise` redraws its weights under the scheme:

* ``gpt2`` (Radford et al., 2019; nanoGPT): every ``nn.Linear`` and ``nn.Embedding``
  weight and every learned position table ~ N(0, std); biases 0; the *residual outputs*
  (the projections that write into the residual stream) ~ N(0, std/√n_res), with n_res
  the number of residual branches (2·n_layers in a GPT-2 block stack);
* ``llama`` (Hugging Face ``LlamaPreTrainedModel._init_weights``): the same without the
  residual scaling (``initializer_range`` = std);
* ``torch``: PyTorch's module defaults, untouched (an ``nn.Embedding`` is N(0, 1)).

Which parameters are residual outputs is declared by the layers themselves
(``residual_outputs()``, see ``marks.py``), never guessed from names; parameters whose
initialisation is part of a layer's definition (zero-initialised gates and heads, LoRA
factors, Mamba's Δ projection) are declared by ``fixed_init_parameters()`` and kept.
Norm gains (1) and biases of norms (0) are already what every scheme wants.
"""

from caramba.engine.model.init.marks import embedding_parameters, fixed_init_parameters, residual_outputs
from caramba.engine.model.init.schemes import describe, initialise

__all__ = ["describe", "embedding_parameters", "fixed_init_parameters", "initialise", "residual_outputs"]
