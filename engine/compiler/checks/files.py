"""Files: what the run will open exists and holds what the manifest says, checked before it starts.

Runs after ``resolve_paths`` (every path field resolved, confined, present). Here:

* a token file has a readable header, is long enough for one training window after the
  validation split, and its vocabulary bound is found (``engine/data/token_bounds.py``)
  for the ``data`` check;
* a teacher or ``init_from.hf`` checkpoint folder holds a Hugging Face ``config.json``;
  ``trainer.upcycle``'s Hugging Face teacher matches its student (``checks/upcycle.py``);
  a folder a run of the manifest writes (``export_hf``, ``checks/exports.py``) need not
  exist yet: the exporting target's model stands for its config;
* an ``eval`` gate's tokenizer can be loaded without a download (``llama`` needs a file,
  ``tiktoken`` needs its local cache).
"""

from __future__ import annotations

from pathlib import Path

from caramba.engine.compiler.checks import Issue
from caramba.engine.compiler.checks.batch_spec import consumed
from caramba.engine.compiler.checks.exports import check_exports, exporter_of
from caramba.engine.compiler.checks.upcycle import hf_teacher_issues, pair_issues
from caramba.engine.data.token_bounds import TokenFileError, describe, scan
from caramba.engine.manifest import Manifest
from caramba.engine.manifest.targets import ExperimentTarget

FieldPath = tuple[object, ...]


def check_files(manifest: Manifest, resolved: dict[FieldPath, Path], cache_dir: Path | None) -> tuple[dict[int, int], list[Issue]]:
    """``(token bounds per target index, issues)`` for every experiment target."""
    bounds: dict[int, int] = {}
    issues: list[Issue] = []
    val_frac = manifest.defaults.data.val_frac
    for t_index, target in enumerate(manifest.targets):
        if not isinstance(target, ExperimentTarget):
            continue
        base = ("targets", t_index)
        data_at = (*base, "data", "config", "path")
        if target.data.ref == "dataset.tokens" and data_at in resolved:
            issues += _tokens(target, data_at, resolved[data_at], val_frac, cache_dir, bounds, t_index)
        teacher_at = (*base, "trainer", "config", "teacher", "hf")
        if target.trainer.ref == "trainer.upcycle" and teacher_at in resolved:
            exporter = exporter_of(manifest, resolved, resolved[teacher_at])
            if exporter is not None:  # written by a run of this manifest: its model is the teacher
                issues += pair_issues(base, target, exporter.system.config.model.model_dump(mode="json", exclude_none=True),
                                      teacher_at)
            else:
                issues += hf_teacher_issues(target, base, resolved[teacher_at])
        for r_index, run in enumerate(target.runs):
            for at in ((*base, "runs", r_index, "train", "teacher_ckpt"), (*base, "runs", r_index, "init_from", "hf")):
                if at in resolved and exporter_of(manifest, resolved, resolved[at]) is not None:
                    continue
                if at in resolved and not (resolved[at] / "config.json").is_file():
                    issues.append(Issue(at, f"{resolved[at]} is not a Hugging Face checkpoint folder (no config.json)",
                                        "give a folder holding config.json and *.safetensors (e.g. from `caramba export-hf`)"))
            verify = run.verify
            if verify is not None and verify.type == "eval":
                problem = tokenizer_problem(verify.tokenizer.type)
                if problem:
                    issues.append(Issue((*base, "runs", r_index, "verify", "tokenizer", "type"), problem,
                                        "use tokenizer type: byte, or the path of a local tokenizer.json"))
    issues += check_exports(manifest, resolved)
    return bounds, issues


def _tokens(target: ExperimentTarget, at: FieldPath, path: Path, val_frac: float, cache_dir: Path | None,
            bounds: dict[int, int], t_index: int) -> list[Issue]:
    try:
        token_file = describe(path, target.data.config.dtype)
    except (TokenFileError, OSError) as exc:
        return [Issue(at, f"{path}: {exc}", "prepare the file with `caramba data prepare TEXT --out FILE.npy`")]
    issues: list[Issue] = []
    train_tokens = token_file.count - int(token_file.count * val_frac)
    longest = max(run.train.block_size for run in target.runs)
    if train_tokens <= longest:
        issues.append(Issue(at, f"{path} holds {token_file.count} tokens; after the validation split ({val_frac:g}) "
                            f"{train_tokens} remain, fewer than one training window of {longest + 1}",
                            "use a larger token file, a smaller block_size or a smaller defaults.data.val_frac"))
    wanted = consumed(target.system.ref, target.system.config)
    vocab = wanted[0].vocab if wanted is not None else None
    if vocab is not None and token_file.type_bound > vocab:
        try:
            bounds[t_index] = scan(token_file, cache_dir)
        except (OSError, ValueError) as exc:
            issues.append(Issue(at, f"{path}: cannot read the token ids ({exc})", "check the file (caramba data prepare writes valid ones)"))
    return issues


def tokenizer_problem(spec: str) -> str | None:
    """Why the tokenizer ``spec`` cannot be loaded offline (None: it can). Paths are checked
    by ``resolve_paths``; this covers the named tokenizers."""
    if spec == "llama":
        return "tokenizer 'llama' needs the model's tokenizer.json; name its path instead"
    if spec in ("tiktoken", "gpt2"):
        import importlib.util

        if importlib.util.find_spec("tiktoken") is None:
            return f"tokenizer {spec!r} needs the tiktoken package (pip install tiktoken)"
        from caramba.engine.data.tokenizers.load import tiktoken_cached

        if not tiktoken_cached():
            return f"tokenizer {spec!r}: tiktoken's GPT-2 files are not in its local cache and caramba never downloads"
    return None
