"""The Ray executor lives in :mod:`naslab.runner.executors.ray`; this name stays importable."""

from naslab.runner.executors.ray import RayExecutor, import_ray

__all__ = ["RayExecutor", "import_ray"]
