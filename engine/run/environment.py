"""``environment.json``: what a run ran on — versions, device, capabilities, notes."""

from __future__ import annotations

import os
import platform
import socket
import sys
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

import caramba


def environment(device: torch.device, notes: list[str]) -> dict[str, Any]:
    """Versions, host, device and capability detection, plus notes (e.g. W&B unavailable)."""
    from caramba.engine.capabilities import detect

    info: dict[str, Any] = {
        "caramba": caramba.__version__, "engine_version": caramba.ENGINE_VERSION,
        "python": sys.version.split()[0], "platform": platform.platform(), "host": socket.gethostname(),
        "torch": torch.__version__, "numpy": np.__version__, "cuda": torch.version.cuda,
        "device": str(device), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "capabilities": asdict(detect()), "notes": notes,
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
    return info
