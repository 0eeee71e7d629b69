"""Every manifest field that names a file or folder has the workspace-path type.

The test walks every pydantic model the manifest schema can reach (the root, every
registered component/layer config, every union member) and finds the fields whose name
or description says they name a path. Each must carry a ``PathSpec`` (one of the types
of ``engine/manifest/paths.py``), so that ``resolve_paths`` resolves, confines and
checks it at validation; a new path field without the type fails here.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from pydantic import BaseModel

from caramba.engine.compiler import check
from caramba.engine.compiler.paths import field_spec
from caramba.engine.manifest import Manifest
from caramba.engine.registry import REGISTRY

NAME = re.compile(r"(^|_)(path|paths|file|files|dir|folder|ckpt|checkpoint|tokenizer|dataset|persona|personas)$")
DESCRIPTION = re.compile(r"\b(path|paths|folder|directory|file name)\b", re.IGNORECASE)
#: fields the words match that do not name a file or folder, and why
NOT_PATHS = {
    "InitFromConfig.checkpoint": "final | best: which checkpoint of a run, a choice",
    "EvalVerify.tokenizer": "a mapping; its `type` (EvalTokenizer.type) is the path field",
    "ProcessTarget.team": "persona names (NAME_PATTERN: no `/`, no `..`), looked up in personas/ only",
    "AttentionLayerConfig.rope": "'geo path' is DBA's geometric computation path",
    "AttentionLayerConfig.tie_qk": "'each path' is DBA's semantic/geometric computation path",
}


def models(annotation: Any, seen: set[type]) -> Iterator[type[BaseModel]]:
    """Every BaseModel class inside ``annotation`` (through unions, lists, dicts, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in seen:
            seen.add(annotation)
            yield annotation
            for info in annotation.model_fields.values():
                yield from models(info.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        yield from models(arg, seen)


def reachable() -> list[type[BaseModel]]:
    seen: set[type] = set()
    found = list(models(Manifest, seen))
    for kind in REGISTRY.kinds():
        for entry in REGISTRY.entries(kind):
            found += list(models(entry.config, seen))
    return found


def test_the_walk_reaches_the_schema() -> None:
    names = {m.__name__ for m in reachable()}
    assert {"Manifest", "TrainConfig", "TokenDatasetConfig", "PerplexityBenchmark", "AttentionLayerConfig"} <= names


def test_every_path_field_has_the_workspace_path_type() -> None:
    candidates, missing = [], []
    for model in reachable():
        for name, info in model.model_fields.items():
            if f"{model.__name__}.{name}" in NOT_PATHS:
                continue
            if NAME.search(name) or DESCRIPTION.search(info.description or ""):
                candidates.append(f"{model.__name__}.{name}")
                if field_spec(info) is None:
                    missing.append(f"{model.__name__}.{name}: {info.description}")
    assert not missing, "path fields without the workspace-path type (engine/manifest/paths.py):\n" + "\n".join(missing)
    for expected in ("TokenDatasetConfig.path", "PerplexityBenchmark.dataset", "Benchmark.models", "TrainConfig.teacher_ckpt",
                     "DataDefaults.tokenizer", "EvalTokenizer.type", "InitFromConfig.path", "InitFromConfig.hf"):
        assert expected in candidates, f"{expected} was not recognised as a path field"


def test_the_json_schema_marks_path_fields() -> None:
    from caramba.engine.schema_export import manifest_schema

    text = str(manifest_schema())
    assert text.count("workspace-path") >= 6


def test_the_run_uses_the_resolved_path(tmp_path: Path) -> None:
    """Validated in the workspace, a relative data path becomes the absolute file that was checked."""
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    np.save(ws / "sub" / "data.npy", np.zeros(5000, dtype=np.uint16))
    text = (Path(__file__).resolve().parents[2] / "presets" / "complete_example.yml").read_text()
    manifest = ws / "sub" / "m.yml"
    manifest.write_text(text)
    report = check(manifest, (), ws)
    assert report.ok, [e.render() for e in report.errors]
    target = report.compiled.manifest.targets[0]
    assert target.data.config.path == str((ws / "sub" / "data.npy").resolve())
    assert report.compiled.resolved["targets"][0]["data"]["config"]["path"] == "data.npy"  # the run id hashes what was written
