"""Every option of every predictor changes its predictions (execution options do not).

``PREDICTOR_OPTIONS`` holds one alternative per constructor parameter of every registered
predictor; a new predictor or parameter without an entry fails ``test_every_option_matters``.
Options that need zero-cost scores (each built network costs a fraction of a second) are
checked on a smaller training set in the slow test; the GPU device option, on a machine
without CUDA, must be refused clearly instead.
"""

from __future__ import annotations

from typing import Any

import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.testing.options import Option, check_predictor_options

ZC = ("params",)  # the cheapest proxy: a parameter count of the built network
#: zero-cost options of the encoded predictors (the encoding must include the features)
_ZC_OPTS = {"zc_proxies": Option(ZC, extra={"encoding": "path+zc"}),
            "zc_params": Option({"C": 8}, base={"zc_proxies": ZC, "encoding": "path+zc"})}
_TREES = {"n_estimators": Option(20), "learning_rate": Option(0.2), "num_leaves": Option(4),
          "min_child_samples": Option(10), "subsample": Option(0.5), "colsample": Option(0.4),
          "encoding": Option("onehot"), "seed": Option(1), **_ZC_OPTS,
          # trees split on ranks: a parameter count at another width ranks the archs alike
          # (a monotone change of one feature), so the width's effect shows on synflow
          "zc_params": Option({"C": 8}, base={"zc_proxies": ("synflow",),
                                              "encoding": "path+zc"})}

#: predictor -> (parameters of both runs, {option: alternative})
PREDICTOR_OPTIONS: dict[str, tuple[dict[str, Any], dict[str, Option]]] = {
    "gcn": ({"epochs": 15}, {
        "graph": Option("raw"), "hidden": Option(32), "layers": Option(2), "pool": Option("mean"),
        "aggregation": Option("sum"), "loss": Option("mse"), "epochs": Option(8),
        "batch_size": Option(16), "lr": Option(1e-2), "weight_decay": Option(0.5),
        "dropout": Option(0.5), "ensemble": Option(2), "seed": Option(1),
        "zc_proxies": Option(ZC), "zc_params": Option({"C": 8}, base={"zc_proxies": ZC}),
        "num_threads": Option(2, same=True), "device": Option("cuda", same=True)}),
    "bananas": ({"epochs": 20, "ensemble": 2}, {
        "ensemble": Option(3), "layers": Option(4), "width": Option(10), "epochs": Option(10),
        "batch_size": Option(8), "lr": Option(0.05), "loss": Option("mse"),
        "encoding": Option("path+onehot"), "seed": Option(1),
        "num_threads": Option(2, same=True), **_ZC_OPTS}),
    "gp": ({}, {"kernel": Option("rbf"), "encoding": Option("onehot"),
                "zc_proxies": Option(ZC, extra={"encoding": "path+onehot+zc"}),
                "zc_params": Option({"C": 8}, base={"zc_proxies": ZC,
                                                    "encoding": "path+onehot+zc"})}),
    "rf": ({"n_estimators": 30}, {
        "n_estimators": Option(10), "max_features": Option(0.3), "min_samples_leaf": Option(4),
        "encoding": Option("onehot"), "seed": Option(1), **_ZC_OPTS}),
    "lgb": ({"n_estimators": 60}, dict(_TREES)),
    "xgb": ({"n_estimators": 60}, dict(_TREES)),
    "zc": ({"proxy": "params"}, {"proxy": Option("flops"), "proxy_params": Option({"C": 8})}),
}
#: options that build networks for zero-cost scores (the slow test)
NEEDS_ZC = {"zc_proxies", "zc_params", "proxy", "proxy_params"}


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def test_the_table_covers_the_registry() -> None:
    assert sorted(PREDICTOR_OPTIONS) == sorted(registry.names("predictor"))


@pytest.mark.parametrize("name", [n for n in registry.names("predictor") if n != "zc"])
def test_every_option_matters(name: str) -> None:
    assert name in PREDICTOR_OPTIONS, f"add predictor {name!r} to PREDICTOR_OPTIONS"
    params, options = PREDICTOR_OPTIONS[name]
    skip = NEEDS_ZC | (set() if _cuda() else {"device"})
    check_predictor_options(name, options, params=params, only=set(options) - skip)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, (_, o) in PREDICTOR_OPTIONS.items()
                                  if NEEDS_ZC & set(o)])
def test_zero_cost_options_matter(name: str) -> None:
    params, options = PREDICTOR_OPTIONS[name]
    check_predictor_options(name, options, params=params, only=NEEDS_ZC & set(options),
                            n_train=16, n_test=8)


def test_gcn_device_without_cuda_is_refused_clearly() -> None:
    """Where there is no GPU, the device option's behaviour is to refuse (on a GPU machine
    test_every_option_matters[gcn] checks that cuda predicts as the CPU does)."""
    if _cuda():
        return
    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    sp = get_space(DEFAULT_SPACE)
    archs = [sp.from_index(i) for i in (0, 1, 2)]
    with pytest.raises(ConfigError, match="device 'cuda' requested but torch sees no CUDA"):
        registry.create("predictor", "gcn", device="cuda").fit(archs, [1.0, 2.0, 3.0])
    with pytest.raises(ConfigError, match="device must be 'cpu' or 'cuda'"):
        registry.create("predictor", "gcn", device="tpu").fit(archs, [1.0, 2.0, 3.0])


def test_a_missing_or_ignored_option_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="no Option for kernel"):
        check_predictor_options("gp", {"encoding": Option("onehot")})
    options = {**PREDICTOR_OPTIONS["rf"][1], "n_estimators": Option(30)}  # the base value
    with pytest.raises(AssertionError, match="n_estimators=30 gave the same predictions as 30"):
        check_predictor_options("rf", options, params={"n_estimators": 30},
                                only={"n_estimators"})
    with pytest.raises(AssertionError, match="seed=1 changed the predictions, but it is "
                                             "declared an execution option"):
        check_predictor_options("rf", {**options, "seed": Option(1, same=True)},
                                only={"seed"})
