"""Errors of run execution that are the user's to fix (the CLI exits 2 with the message)."""

from __future__ import annotations


class RunInputError(Exception):
    """A run cannot start because of its inputs (missing data file, tokenizer, device …).

    The message says what is wrong and how to fix it; the run's status is ``failed`` with
    the same reason.
    """
