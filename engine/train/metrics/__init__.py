"""Training metrics: JSONL/Parquet log, live display, TensorBoard/W&B sinks, FLOPs and MFU."""

from caramba.engine.train.metrics.display import Display
from caramba.engine.train.metrics.flops import device_peak, flops_per_token
from caramba.engine.train.metrics.log import MetricsLog
from caramba.engine.train.metrics.sinks import Sinks

__all__ = ["Display", "MetricsLog", "Sinks", "device_peak", "flops_per_token"]
