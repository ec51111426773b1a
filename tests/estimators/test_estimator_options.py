"""The common estimator options (--benchmark, --dataset, --data-dir, --val) are routed by the
estimator constructor's signature; one the chosen estimator does not take is an error naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from naslab.benchmarks import DEFAULT_BENCHMARK
from naslab.errors import ConfigError
from naslab.estimators import make_estimator
from naslab.estimators.factory import estimator_parameters

NASLAB = [sys.executable, "-m", "naslab"]


def test_options_reach_the_estimators_that_take_them(data_dir: Path) -> None:
    est = make_estimator("tabular", benchmark=DEFAULT_BENCHMARK, val="mean",
                         data_dir=str(data_dir), dataset=None)
    assert est.describe()["val"] == "mean"
    # params win over the common options; None means "not given"
    est = make_estimator("tabular", {"val": "run"}, val="mean", data_dir=str(data_dir))
    assert est.describe()["val"] == "run"
    # offered options go only where they are taken (a comparison's data_dir)
    assert "data_dir" not in estimator_parameters("composite")
    assert "dataset" in estimator_parameters("train") and "benchmark" not in estimator_parameters("train")


@pytest.mark.parametrize("name, given, named", [
    ("tabular", {"dataset": "digits"}, "--dataset 'digits' is not an option of estimator 'tabular'"),
    ("train", {"benchmark": DEFAULT_BENCHMARK}, "--benchmark"),
    ("train", {"val": "mean"}, "--val 'mean' is not an option of estimator 'train'"),
    ("composite", {"data_dir": "/tmp"}, "--data-dir '/tmp' is not an option of estimator 'composite'"),
])
def test_an_option_the_estimator_does_not_take_is_an_error(name: str, given: dict, named: str) -> None:
    from naslab.cli.main import ESTIMATOR_OPTION_FLAGS

    with pytest.raises(ConfigError, match="it takes") as err:
        make_estimator(name, labels=ESTIMATOR_OPTION_FLAGS, **given)
    assert named in str(err.value)
    if name == "tabular":  # the hint says how to choose the data
        assert "choose the data with --benchmark" in str(err.value)


@pytest.mark.parametrize("args, flag", [
    (["--estimator", "tabular", "--dataset", "digits"], "--dataset 'digits'"),
    (["--estimator", "train", "--benchmark", DEFAULT_BENCHMARK], "--benchmark"),
    (["--estimator", "train", "--val", "mean"], "--val 'mean'"),
])
def test_search_exits_2_naming_the_option(tmp_path: Path, args: list[str], flag: str) -> None:
    p = subprocess.run([*NASLAB, "search", *args, "--budget", "2", "--no-progress"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert flag in p.stderr and "is not an option of estimator" in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "naslab.db").exists()
