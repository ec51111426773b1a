"""A synthetic latency LUT of the MobileNet block space for tests (no measurement)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from naslab.nn.latency_parts import latency_model
from naslab.nn.lut import LatencyLUT, current_fingerprint

SPACE = "mobilenet"


def synthetic_lut(path: Path, *, image_size: int = 8, device: dict[str, Any] | None = None,
                  **protocol: Any) -> Path:
    """A LUT file for this machine whose block latencies grow with kernel and expansion
    (k * k * e / 27 ms) and whose skeleton takes 1 ms per kernel: no measurement."""
    import naslab

    opts = {"C": 4, "in_channels": 1, "num_classes": 10, **protocol}
    model = latency_model(SPACE, image_size=image_size, **opts)
    entries = {}
    for key, kern in model.kernels().items():
        op = kern.info.get("op")
        ms = 1.0 if op is None else int(op[1]) ** 2 * int(op[3]) / 27
        entries[key] = {"ms": ms, "ci_ms": [ms, ms], "iqr_rel": 0.0, "cv": 0.0, "n": 1,
                        "info": dict(kern.info)}
    lut = LatencyLUT(space=SPACE, protocol=dict(model.protocol), batch=1, threads=1,
                     backend="torch", entries=entries, fixed_keys=model.fixed_kernels(),
                     fingerprint=device or current_fingerprint(threads=1, backend="torch"),
                     naslab_version=naslab.__version__, created="test")
    lut.save(path)
    return path
