"""Tokenizers: the embedded byte-level default, local ``tokenizer.json`` files, tiktoken.

``load_tokenizer(spec)`` is the single entry point (``defaults.data.tokenizer``,
``verify.tokenizer.type`` and ``caramba data prepare --tokenizer`` all name one). Nothing
is ever downloaded: a tokenizer whose files are not on this machine is a clear error
that says where to put them.
"""

from caramba.engine.data.tokenizers.byte import ByteTokenizer
from caramba.engine.data.tokenizers.load import Tokenizer, TokenizerUnavailable, load_tokenizer

__all__ = ["ByteTokenizer", "Tokenizer", "TokenizerUnavailable", "load_tokenizer"]
