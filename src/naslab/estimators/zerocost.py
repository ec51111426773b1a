"""Zero-cost proxies as estimators: score an untrained network in one forward/backward pass.

``ZeroCostEstimator(proxy="synflow")`` (registered as estimator ``zerocost``) builds the
architecture's network with freshly initialised weights (the evaluation ``seed`` drives the
initialisation) and returns the proxy as metric ``score`` (and under the proxy's own name);
larger = predicted better. Each proxy is also registered under kind ``proxy`` (``synflow``,
``snip``, ``grad_norm``, ``grasp``, ``fisher``, ``jacob_cov``, ``nwot``, ``params``,
``flops``) as the same estimator with that proxy fixed. The math is in
:mod:`naslab.nn.zerocost` (torch is imported only when a score is computed).

Data-free proxies (``synflow``, ``params``, ``flops``) need only the input shape: the
CIFAR-10 network (3x32x32 inputs, 10 classes) unless a dataset is named, then that dataset's
shape and classes. Data-dependent proxies need ``dataset=`` (any :mod:`naslab.data` source) and
use one batch of ``batch_size`` training images drawn with ``data_seed`` -- the same batch for
every architecture. On NB201 the benchmark's accuracies were measured on CIFAR / ImageNet16
data that naslab does not have, so data-dependent proxies computed on e.g. digits are scored
against a ground truth from other data (docs/benchmarks.md reports how they fare).

Cost: ``wall_s`` = ``simulated_s`` = the wall time of the evaluation (network built and scored).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naslab.errors import ConfigError, check_int, did_you_mean
from naslab.estimators.base import Cost, Estimator, Evaluation
from naslab.nn.networks import build_network, check_network_space
from naslab.registry import register
from naslab.spaces.base import Architecture, SearchSpace

if TYPE_CHECKING:
    import numpy as np
    from torch import nn

#: proxies that need only the input shape
DATA_FREE = ("synflow", "params", "flops")
#: proxies computed from one batch of labelled images
DATA_DEPENDENT = ("snip", "grad_norm", "grasp", "fisher", "jacob_cov", "nwot")
PROXY_NAMES = DATA_FREE + DATA_DEPENDENT


@register("estimator", "zerocost", aliases=("zero_cost", "zc"))
class ZeroCostEstimator(Estimator):
    """Zero-cost proxy of an untrained network (synflow, snip, grad_norm, grasp, fisher, ...).

    Parameters
    ----------
    proxy: one of ``synflow, params, flops`` (data-free) or ``snip, grad_norm, grasp, fisher,
        jacob_cov, nwot`` (data-dependent).
    dataset: a :mod:`naslab.data` dataset (``digits`` ...); required by data-dependent proxies;
        for data-free ones it sets the input shape and class count (default: CIFAR-10's).
    batch_size: images in the batch of data-dependent proxies (64, as Abdelfattah et al.).
    data_seed: seed of the dataset split and of the batch drawn from its training split.
    data_dir, channels, image_size: passed to :func:`naslab.data.load_dataset`.
    input_shape, num_classes: the network's input (C, H, W) and classes without a dataset
        (default CIFAR-10's (3, 32, 32) and 10; NB201's ImageNet16-120 network: (3, 16, 16),
        120).
    C, N: network width and cells per stage (NB201: 16 and 5).
    device: ``cpu`` or ``cuda``.
    num_threads: torch intra-op threads during an evaluation on CPU (default 1, as the training
        estimator: these one-batch computations gain little from more, and an oversubscribed
        multi-threaded torch can be many times slower; None = torch's default). Restored after
        each evaluation.
    """

    fidelities = None
    max_fidelity = None
    default_proxy: str | None = None

    def __init__(self, proxy: str | None = None, *, dataset: str | None = None,
                 batch_size: int = 64, data_seed: int = 0, data_dir: str | None = None,
                 channels: int | None = None, image_size: int | None = None,
                 input_shape: tuple[int, int, int] | list[int] | None = None,
                 num_classes: int | None = None, C: int = 16, N: int = 5, device: str = "cpu",
                 num_threads: int | None = 1) -> None:
        fixed = self.default_proxy
        if proxy is None:
            proxy = fixed or "synflow"
        if not isinstance(proxy, str) or proxy not in PROXY_NAMES:
            raise ConfigError(f"unknown zero-cost proxy {proxy!r}"
                              f"{did_you_mean(str(proxy), PROXY_NAMES)}; proxies: "
                              f"{', '.join(PROXY_NAMES)}")
        if fixed is not None and proxy != fixed:
            raise ConfigError(f"proxy {fixed!r} cannot compute proxy {proxy!r}; use "
                              f"estimator 'zerocost' with proxy={proxy!r}")
        self.proxy = proxy
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        if self.batch_size < 2 and proxy in DATA_DEPENDENT:
            raise ConfigError(f"batch_size must be >= 2 for proxy {proxy!r}, got {batch_size!r}")
        self.data_seed = check_int("data_seed", data_seed, minimum=0)
        self.C = check_int("C", C, minimum=1)
        self.N = check_int("N", N, minimum=0)
        self.channels = None if channels is None else check_int("channels", channels, minimum=1)
        self.image_size = None if image_size is None else check_int("image_size", image_size, minimum=1)
        if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda"):
            raise ConfigError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}")
        self.device = device
        self.num_threads = None if num_threads is None else check_int("num_threads", num_threads, minimum=1)
        self.data_dir = None if data_dir in (None, "") else str(data_dir)
        if dataset is None:
            if proxy in DATA_DEPENDENT:
                raise ConfigError(
                    f"proxy {proxy!r} needs data: name a dataset (dataset='digits', or --dataset "
                    f"on the command line); data-free proxies: {', '.join(DATA_FREE)}")
            if channels is not None or image_size is not None:
                raise ConfigError("channels / image_size reshape a dataset; without a dataset "
                                  "set the network's input with input_shape=(C, H, W)")
            self.dataset = None
        else:
            if input_shape is not None or num_classes is not None:
                raise ConfigError(f"input_shape / num_classes come from dataset {dataset!r}; "
                                  f"reshape it with channels= / image_size= instead")
            from naslab import registry

            self.dataset = getattr(registry.get("dataset", dataset), "registry_name", dataset)
        self._shape: tuple[int, int, int] = (3, 32, 32)
        if input_shape is not None:
            if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3:
                raise ConfigError(f"input_shape must be (channels, height, width), got "
                                  f"{input_shape!r}")
            c, h, w = (check_int("input_shape", v, minimum=1) for v in input_shape)
            self._shape = (c, h, w)
            if self._shape[1] % 4 or self._shape[2] % 4:
                raise ConfigError(f"input_shape height and width must be multiples of 4 (two "
                                  f"stride-2 reductions), got {tuple(input_shape)!r}")
        self._classes = 10 if num_classes is None else check_int("num_classes", num_classes, minimum=1)
        self._data: Any = None
        self._batch: tuple[np.ndarray, np.ndarray] | None = None

    # data is loaded lazily, in whichever process evaluates, and never pickled --------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = state["_batch"] = None
        return state

    @property
    def data(self) -> Any:
        """The :class:`~naslab.data.ImageDataset` (None for data-free proxies without one)."""
        if self._data is None and self.dataset is not None:
            from naslab.data import load_dataset

            self._data = load_dataset(self.dataset, data_dir=self.data_dir, seed=self.data_seed,
                                      channels=self.channels, image_size=self.image_size)
        return self._data

    @property
    def input_shape(self) -> tuple[int, int, int]:
        d = self.data
        if d is None:
            return self._shape
        c, h, w = (int(v) for v in d.input_shape)
        return (c, h, w)

    @property
    def num_classes(self) -> int:
        d = self.data
        return self._classes if d is None else int(d.num_classes)

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The (images, labels) batch of data-dependent proxies: the same for every arch."""
        if self._batch is None:
            import numpy as np

            d = self.data
            n = len(d.y_train)
            if self.batch_size > n:
                raise ConfigError(f"batch_size {self.batch_size} exceeds the {n} training images "
                                  f"of dataset {self.dataset!r}")
            rng = np.random.default_rng(np.random.SeedSequence([self.data_seed, 0xBA7C4]))
            idx = np.sort(rng.choice(n, self.batch_size, replace=False))
            self._batch = (np.ascontiguousarray(d.x_train[idx]), np.asarray(d.y_train[idx]))
        return self._batch

    def check_space(self, space: SearchSpace) -> None:
        """Any space with a network builder (:func:`naslab.nn.network_spaces`)."""
        check_network_space(space.name, user="a zero-cost proxy")

    def build(self, arch: Architecture, seed: int = 0) -> nn.Module:
        """The network of ``arch`` (its space's builder) with weights drawn from a
        ``torch.Generator`` seeded ``seed``, on ``device`` (torch's global RNG is not used)."""
        import torch

        check_network_space(arch.space, user="a zero-cost proxy")
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(seed))
        net = build_network(arch, generator=gen, C=self.C, N=self.N,
                            num_classes=self.num_classes, in_channels=self.input_shape[0])
        return net.to(self.device)

    def score(self, arch: Architecture, seed: int = 0) -> float:
        """The proxy's value for ``arch`` (weights initialised from ``seed``)."""
        from naslab.nn import zerocost as zc

        net = self.build(arch, seed)
        fn = zc.PROXIES[self.proxy]
        if self.proxy in DATA_FREE:
            return float(fn(net, self.input_shape, inplace=True))
        import torch

        x, y = self.batch()
        return float(fn(net, torch.from_numpy(x).to(self.device),
                        torch.from_numpy(y).to(self.device), inplace=True))

    def evaluate(self, arch: Architecture, *, fidelity: float | None = None,
                 seed: int = 0) -> Evaluation:
        if fidelity is not None:
            raise ConfigError(f"zero-cost proxies have no fidelity (training budget); got "
                              f"fidelity={fidelity!r}")
        t0 = time.perf_counter()
        if self.num_threads is None:
            s = self.score(arch, seed)
        else:
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(self.num_threads)
            try:
                s = self.score(arch, seed)
            finally:
                torch.set_num_threads(before)
        wall = time.perf_counter() - t0
        return Evaluation({"score": s, self.proxy: s}, Cost(wall, wall), None,
                          {"proxy": self.proxy, "seed": seed})

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"estimator": "zerocost", "proxy": self.proxy, "C": self.C,
                             "N": self.N, "input_shape": list(self.input_shape),
                             "num_classes": self.num_classes}
        if self.dataset is not None:
            d.update({"dataset": self.dataset, "data": self.data.describe(),
                      "data_seed": self.data_seed})
            if self.proxy in DATA_DEPENDENT:
                d["batch_size"] = self.batch_size
        return d

    def score_archs(self, archs: Sequence[Architecture], *, seed: int, space: SearchSpace,
                    cache_dir: str | Path | None = None) -> np.ndarray:
        """Scores (float64, one per arch) of ``archs`` of ``space``: each network initialised
        from ``derive_seed(seed, space.index(arch))``, as :func:`score_archs` does, so a score
        does not depend on which archs are scored with it. ``cache_dir``: None = no cache,
        else the JSON-lines file :func:`cache_file` names there (read back, then extended).
        What the zero-cost features of the predictors call (through the ``proxy`` registry)."""
        path = None if cache_dir is None else cache_file(cache_dir, self, space=space.name,
                                                         seed=seed)
        scores, _ = score_archs(self, [space.index(a) for a in archs], seed=seed, space=space,
                                cache=path)
        return scores

    def __repr__(self) -> str:
        ds = "" if self.dataset is None else f", dataset={self.dataset!r}"
        return f"ZeroCostEstimator({self.proxy!r}{ds})"


def _proxy(name: str, doc: str) -> type[ZeroCostEstimator]:
    cls = type(f"Proxy_{name}", (ZeroCostEstimator,), {
        "default_proxy": name, "__doc__": doc, "__module__": __name__,
        "__qualname__": f"Proxy_{name}"})
    globals()[cls.__name__] = cls  # picklable by name
    return register("proxy", name)(cls)


_DOCS = {
    "synflow": "SynFlow (Tanaka et al. 2020): data-free path norm of |weights|, float64, no BN.",
    "snip": "SNIP (Lee et al. 2019): sum |w * dL/dw| on one batch.",
    "grad_norm": "Gradient norm: sum over layers of ||dL/dW|| on one batch.",
    "grasp": "GraSP (Wang et al. 2020): sum -w * (Hessian x gradient) on one batch.",
    "fisher": "Fisher (Turner et al. 2020): channel saliency of activations on one batch.",
    "jacob_cov": "Jacobian covariance (Mellor et al. 2021 v1) of the input gradients of one batch.",
    "nwot": "NASWOT (Mellor et al. 2021): log-det of the ReLU activation-pattern kernel.",
    "params": "Parameter count of the network, in millions.",
    "flops": "FLOPs of one forward pass (NB201 convention), in millions.",
}
for _name in PROXY_NAMES:
    _proxy(_name, _DOCS[_name])


# --- scoring many architectures (the `naslab proxies` command and benchmarks) --------------

def arch_seed(seed: int, index: int) -> int:
    """Initialisation seed of the arch with space index ``index`` in a run seeded ``seed``: an
    arch's score does not depend on which other archs are scored with it."""
    from naslab.seeding import derive_seed

    return derive_seed(int(seed), int(index))


def score_archs(est: ZeroCostEstimator, indices: Any, *, seed: int = 0,
                space: SearchSpace | None = None, cache: str | Path | None = None,
                on_score: Callable[[int, int], None] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Scores and wall seconds (two float arrays) of the archs with space ``indices``
    (``space`` default: :data:`naslab.spaces.DEFAULT_SPACE`).

    ``cache``: a JSON-lines file that keeps every score as it is computed (a first line
    identifies the proxy configuration and seed); scores already in it are read back instead of
    recomputed, so an interrupted run resumes. A file made with another configuration is an
    error. ``on_score(i, n_done)`` is called after each arch.
    """
    import json
    import math

    import numpy as np

    from naslab.spaces import DEFAULT_SPACE
    from naslab.spaces.base import get_space

    sp = space if space is not None else get_space(DEFAULT_SPACE)
    est.check_space(sp)
    idx = [int(i) for i in indices]
    header = {"naslab_proxy_scores": 1, "space": sp.name, "seed": int(seed),
              "estimator": est.describe()}
    done: dict[int, tuple[float, float]] = {}
    fh = None
    if cache is not None:
        path = Path(cache)
        if path.exists() and path.stat().st_size > 0:
            with path.open() as f:
                lines = f.read().splitlines()
            try:
                first = json.loads(lines[0])
            except (json.JSONDecodeError, IndexError):
                first = None
            if first != json.loads(json.dumps(header)):
                raise ConfigError(f"score cache {path} holds scores of another configuration "
                                  f"({first}); use another file")
            for line in lines[1:]:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by an interrupted write
                s = r["score"]
                done[int(r["index"])] = (-math.inf if s == "-inf" else float(s), float(r["wall_s"]))
            fh = path.open("a")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = path.open("w")
            fh.write(json.dumps(header) + "\n")
            fh.flush()
    scores = np.empty(len(idx))
    walls = np.empty(len(idx))
    try:
        for k, i in enumerate(idx):
            if i in done:
                scores[k], walls[k] = done[i]
            else:
                ev = est.evaluate(sp.from_index(i), seed=arch_seed(seed, i))
                s, w = float(ev.metrics["score"]), float(ev.cost.wall_s)
                scores[k], walls[k] = s, w
                done[i] = (s, w)
                if fh is not None:
                    fh.write(json.dumps({"index": i, "score": "-inf" if s == -math.inf else s,
                                         "wall_s": w}) + "\n")
                    fh.flush()
            if on_score is not None:
                on_score(i, k + 1)
    finally:
        if fh is not None:
            fh.close()
    return scores, walls


def cache_file(directory: str | Path, est: ZeroCostEstimator, *, space: str | None = None,
               seed: int = 0) -> str:
    """The score-cache file of ``est``'s configuration in ``directory`` (see :func:`score_archs`;
    ``space`` default: :data:`naslab.spaces.DEFAULT_SPACE`)."""
    import hashlib
    import json

    if space is None:
        from naslab.spaces import DEFAULT_SPACE

        space = DEFAULT_SPACE

    key = hashlib.blake2b(json.dumps([space, int(seed), est.describe()], sort_keys=True).encode(),
                          digest_size=6).hexdigest()
    return str(Path(directory) / f"{est.proxy}-{space}-s{int(seed)}-{key}.jsonl")
