"""Public conformance suites: every registered component must pass them.

Third-party components can use them in their own tests::

    from naslab.testing import check_strategy
    check_strategy("my_strategy")
    check_strategy_quality("my_strategy", spec=QualitySpec(budgets=(100,), evidence="..."))
"""

from naslab.testing.executors import FaultyEstimator, check_executor
from naslab.testing.oneshot import check_oneshot
from naslab.testing.predictors import check_predictor
from naslab.testing.quality import QUALITY, QualitySpec, check_strategy_quality
from naslab.testing.spaces import check_space
from naslab.testing.strategies import SyntheticEstimator, check_strategy, run_trajectory

__all__ = ["QUALITY", "FaultyEstimator", "QualitySpec", "SyntheticEstimator", "check_executor",
           "check_oneshot", "check_predictor", "check_space", "check_strategy",
           "check_strategy_quality", "run_trajectory"]
