"""Reading DCP folders without executing a pickle: caramba never unpickles (issue #13).

``torch.distributed.checkpoint`` stores two things with pickle: the folder's
``.metadata`` (dataclasses describing the shards) and non-tensor values of the state
dict (the optimizer's hyper-parameters). Its stock reader unpickles both without
restriction, so a crafted checkpoint could run code. Here:

* :class:`SafeReader` reads ``.metadata`` with an unpickler that builds only the
  classes DCP's metadata is made of (:data:`ALLOWED`) and torch's dtypes, layouts and
  sizes — the "restricting globals" pattern of the ``pickle`` documentation; anything
  else is a :class:`CorruptCheckpoint`, never executed;
* :class:`SafePlanner` checks every non-tensor value with ``torch.load(weights_only=True)``
  (tensors, containers, primitives only) before DCP's planner stores it.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import torch
from torch.distributed.checkpoint import FileSystemReader
from torch.distributed.checkpoint.default_planner import DefaultLoadPlanner
from torch.distributed.checkpoint.metadata import Metadata, StorageMeta

from caramba.engine.train.checkpoint.files import CorruptCheckpoint

_METADATA = "torch.distributed.checkpoint.metadata"
ALLOWED = {
    (_METADATA, name) for name in ("Metadata", "StorageMeta", "_MEM_FORMAT_ENCODING", "ChunkStorageMetadata",
                                   "BytesStorageMetadata", "TensorStorageMetadata", "TensorProperties", "MetadataIndex")
} | {("torch.distributed.checkpoint.filesystem", "_StorageInfo"), ("torch", "Size"),
     ("torch.serialization", "_get_layout"), ("pathlib", "PosixPath"), ("pathlib", "WindowsPath")}


class _MetadataUnpickler(pickle.Unpickler):
    """Builds DCP metadata classes and torch dtypes/layouts/memory formats only."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        if module == "torch" and isinstance(getattr(torch, name, None), (torch.dtype, torch.layout, torch.memory_format)):
            return getattr(torch, name)
        raise CorruptCheckpoint(f".metadata asks for {module}.{name}, which is not checkpoint metadata "
                                "(refused, nothing executed)")


class SafeReader(FileSystemReader):
    """DCP's file-system reader with :class:`_MetadataUnpickler` for ``.metadata``."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.folder = Path(path)

    def read_metadata(self, *args: Any, **kwargs: Any) -> Metadata:
        """The folder's metadata, refused when it holds anything but metadata classes."""
        with (self.folder / ".metadata").open("rb") as handle:
            metadata = _MetadataUnpickler(handle).load()
        if not isinstance(metadata, Metadata):
            raise CorruptCheckpoint(f"{self.folder}/.metadata is a {type(metadata).__name__}, not DCP metadata")
        if getattr(metadata, "storage_meta", None) is None:  # as DCP's own reader does
            metadata.storage_meta = StorageMeta()
        metadata.storage_meta.load_id = self.load_id
        return metadata


class SafePlanner(DefaultLoadPlanner):
    """DCP's load planner, with non-tensor values read through ``torch.load(weights_only=True)`` first."""

    def load_bytes(self, read_item: Any, value: io.BytesIO) -> None:
        """Refuse a value that is not plain data, then let DCP store it."""
        try:
            plain = torch.load(value, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
            raise CorruptCheckpoint(f"a DCP value ({read_item.dest_index.fqn}) is not plain data "
                                    f"(refused, nothing executed: {str(exc).splitlines()[0] if str(exc) else exc})") from None
        checked = io.BytesIO()
        torch.save(plain, checked)
        checked.seek(0)
        super().load_bytes(read_item, checked)


def safe_load(state: dict[str, Any], folder: Path, no_dist: bool) -> None:
    """``dcp.load`` of ``folder`` into ``state`` through :class:`SafeReader` and :class:`SafePlanner`.

    The metadata is checked here first, so a refusal is a :class:`CorruptCheckpoint` (DCP
    would wrap it in its own exception); any other DCP failure becomes one too."""
    import warnings

    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.api import CheckpointException

    SafeReader(folder).read_metadata()
    with warnings.catch_warnings():  # DCP warns that it loads in one process, which is the point then
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        try:
            dcp.load(state, storage_reader=SafeReader(folder), planner=SafePlanner(), no_dist=no_dist)
        except CheckpointException as exc:
            raise CorruptCheckpoint(f"{folder.parent.name}: DCP could not load it ({str(exc).splitlines()[0]})") from None
