"""A one-shot method restored from a recorded run (its configuration and last checkpoint),
for work on the trained object after the run: Once-for-All's search under a new latency
budget and sub-network export (``naslab ofa search`` / ``naslab ofa export``)."""

from __future__ import annotations

from typing import Any

from naslab.errors import ConfigError, StorageError
from naslab.oneshot.base import OneShotMethod
from naslab.runner.storage import Storage

__all__ = ["restore_method"]

_DATA_KEYS = ("seed", "val_fraction", "test_fraction", "n_train", "n_val", "n_test",
              "channels", "image_size")


def restore_method(storage: Storage, exp_id: str, *, dataset_dir: str | None = None,
                   device: str = "cpu", **overrides: Any) -> tuple[OneShotMethod, dict[str, Any]]:
    """Method of one-shot run ``exp_id`` built from its recorded parameters (``overrides``
    replace some), set up on the run's dataset split and protocol, loaded with its last
    checkpoint. Returns (method, the run's config). The dataset is checked against the
    recorded fingerprint (a different file would silently change every number)."""
    from naslab import registry
    from naslab.data import load_dataset
    from naslab.nn.protocol import get_protocol
    from naslab.runner.oneshot import read_checkpoint
    from naslab.spaces.base import get_space

    info = storage.experiment(exp_id)
    if info.kind != "oneshot":
        raise ConfigError(f"experiment {exp_id!r} is a {info.kind!r} run, not a one-shot run")
    cfg = info.config
    state = read_checkpoint(storage, exp_id)
    if state is None:
        raise StorageError(f"one-shot run {exp_id!r} has no checkpoint yet (no epoch recorded); "
                           f"run it first")
    m = cfg.get("method") or {}
    params = {**(m.get("params") or {}), **overrides}
    method = registry.create("oneshot", str(m.get("method")), **params)
    d = cfg.get("dataset") or {}
    data = load_dataset(str(d.get("dataset")), data_dir=dataset_dir,
                        **{k: d[k] for k in _DATA_KEYS if d.get(k) is not None})
    if d.get("fingerprint") and data.fingerprint() != d["fingerprint"]:
        raise StorageError(f"the dataset {d.get('dataset')!r} loaded now differs from the one "
                           f"run {exp_id!r} trained on (fingerprint {data.fingerprint()} vs "
                           f"{d['fingerprint']})")
    proto = get_protocol(dict(cfg.get("protocol") or {}))
    method.setup(get_space(str(cfg.get("space"))), data, proto, seed=int(cfg.get("seed", 0)),
                 device=device)
    method.load_state_dict(state["method"])
    return method, cfg
