"""Leaf layers (``nn.Module``s). Each takes flat constructor arguments (see ``build.py``)
and has the signature ``forward(x, ctx=None)`` (see ``context.py``)."""
