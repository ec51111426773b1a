"""Stand-alone networks written to and read from a file: the architecture, its builder's
options and the weights (imports torch). What ``naslab ofa export`` writes; loading runs no
code from the file (``torch.load(weights_only=True)``) and rebuilds the module with
:func:`naslab.nn.build_network`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from torch import nn

from naslab.errors import ConfigError, DataError

__all__ = ["save_network", "load_network", "EXPORT_FORMAT"]

EXPORT_FORMAT = "naslab-network"


def save_network(net: nn.Module, arch: Any, options: dict[str, Any], path: str | Path, *,
                 meta: dict[str, Any] | None = None) -> Path:
    """Write ``net`` (the network of ``arch`` built with builder ``options``) to ``path``."""
    p = Path(path)
    blob = {"format": EXPORT_FORMAT, "version": 1, "arch": arch.to_json(),
            "arch_text": str(arch), "options": dict(options), "meta": dict(meta or {}),
            "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()}}
    buf = io.BytesIO()
    torch.save(blob, buf)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(buf.getvalue())
    except OSError as exc:
        raise ConfigError(f"cannot write the network to {str(p)!r}: {exc}") from None
    return p


def load_network(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """The module written by :func:`save_network` (eval mode) and the file's contents less the
    weights (arch, options, meta)."""
    from naslab.nn.networks import build_network
    from naslab.spaces.base import Architecture

    p = Path(path)
    try:
        blob = torch.load(io.BytesIO(p.read_bytes()), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"network file {str(p)!r} does not exist") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise DataError(f"{str(p)!r} is not a naslab network file: {exc}") from None
    if not isinstance(blob, dict) or blob.get("format") != EXPORT_FORMAT:
        raise DataError(f"{str(p)!r} is not a naslab network file (format {EXPORT_FORMAT!r})")
    arch = Architecture.from_json(blob["arch"])
    net = build_network(arch, generator=torch.Generator().manual_seed(0), **blob["options"])
    net.load_state_dict(blob["state_dict"], strict=True)
    return net.eval(), {k: v for k, v in blob.items() if k != "state_dict"}
