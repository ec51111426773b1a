"""One-shot NAS methods (registry kind ``oneshot``): methods that train something once -- a
weight-sharing supernet, architecture parameters, a hypernetwork, or for the ``random``
baseline a series of small stand-alone networks -- epoch by epoch, and derive architectures
from it. :class:`~naslab.oneshot.base.OneShotMethod` is the interface;
:class:`naslab.runner.oneshot.OneShotRun` drives a method (storage, checkpoints, resume, cost
ledger, final scoring).

Modules of this package are discovered by the registry: none imports torch at module level.
"""

from __future__ import annotations

from naslab.oneshot.base import (
    STATE_FORMAT,
    OneShotMethod,
    dump_state,
    load_state,
    resolve_device,
)

__all__ = ["OneShotMethod", "STATE_FORMAT", "dump_state", "load_state", "resolve_device"]
