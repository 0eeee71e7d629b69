"""One notion of a workspace path: the type of every manifest field that names a file or folder.

A path field is declared with one of the types below (``InputFile``, ``InputDir``,
``InputPath``, ``RunFolder``, ``OutputDir``); the type carries a :class:`PathSpec` that the compiler's
``resolve_paths`` (``engine/compiler/paths.py``) reads. That one function resolves every
such field once, at validation:

* relative to the manifest's folder (caramba's own presets and manifest text: relative
  to the workspace, as the README says); absolute paths stay absolute;
* symlinks are followed; ``~`` is **not** expanded (it is an ordinary folder name);
* the result must lie inside the workspace or one of ``data_roots`` in ``caramba.yml``;
* inputs must exist (a file, a folder, or either, per the type).

The run then uses the resolved absolute path it was validated with. Some fields also
accept plain words that are not paths (``PathSpec.words``: ``byte`` for a tokenizer,
``student`` for a benchmark model) or remote references (``PathSpec.remote``:
``hf://org/name``). ``RunFolder`` names an output folder inside the run directory: it
must be relative and may not climb out (``..``). ``OutputDir`` names a folder a run writes
into the workspace (``runs[].export_hf``): resolved and confined like an input, but it need
not exist yet; an input naming the same folder is then satisfied by that run (the
``files`` check and the run order see to it).

A test enumerates every schema field whose name or description says it names a path
and fails when the field lacks one of these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import WithJsonSchema

Kind = Literal["file", "dir", "any", "run_folder", "output"]


@dataclass(frozen=True)
class PathSpec:
    """How a path field resolves.

    Attributes:
        kind: ``file``, ``dir`` or ``any`` (an input that must exist as such), or
            ``run_folder`` (an output folder relative to the run directory), or
            ``output`` (a workspace folder a run writes; need not exist yet).
        words: values that are names, not paths (e.g. ``byte``, ``student``).
        remote: prefixes of remote references left to their loader (e.g. ``hf://``).
        hint: how to make a missing input (``{name}``: the file name asked for).
    """

    kind: Kind
    words: tuple[str, ...] = ()
    remote: tuple[str, ...] = ()
    hint: str = ""

    def is_path(self, value: str) -> bool:
        """True when ``value`` names a local path (not a word, not a remote reference)."""
        if value in self.words:
            return False
        return not (self.remote and value.startswith(self.remote))


def _schema(spec: PathSpec) -> WithJsonSchema:
    words = f"; or one of: {', '.join(spec.words)}" if spec.words else ""
    remote = f"; or {' '.join(r + '…' for r in spec.remote)}" if spec.remote else ""
    what = "an output folder inside the run directory" if spec.kind == "run_folder" else \
        "a workspace folder the run writes, relative to the manifest's folder" if spec.kind == "output" else \
        f"a workspace path ({spec.kind}), relative to the manifest's folder"
    return WithJsonSchema({"type": "string", "minLength": 1, "format": "workspace-path", "x-caramba-path": spec.kind,
                           "description": what + words + remote})


def path_type(spec: PathSpec) -> object:
    """``Annotated[str, spec]``: a text field resolved as a workspace path."""
    return Annotated[str, spec, _schema(spec)]


InputFile = path_type(PathSpec("file"))
TokenFilePath = path_type(PathSpec("file", hint="make it from local text: caramba data prepare TEXT_OR_FOLDER --out {name}"))
InputDir = path_type(PathSpec("dir"))
InputPath = path_type(PathSpec("any"))
RunFolder = path_type(PathSpec("run_folder"))
OutputDir = path_type(PathSpec("output"))
TOKENIZER_WORDS = ("byte", "tiktoken", "gpt2", "llama")
TokenizerPath = path_type(PathSpec("any", words=TOKENIZER_WORDS))
CheckpointPath = path_type(PathSpec("dir", remote=("hf://",)))
BenchmarkModel = path_type(PathSpec("any", words=("student", "teacher")))
