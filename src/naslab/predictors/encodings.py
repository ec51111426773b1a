"""Architecture encodings that predictors read (no torch).

Flat encodings (one row per architecture, ``encode(space, archs, kind)``):

``onehot``
    The space's own one-hot of the decision vector (NB201: 6 edges x 5 ops = 30).
``adjacency``
    The op-on-node graph that a GNN reads, flattened: directed adjacency + node one-hot
    (NB201: 8x8 + 8x7 = 120; see :meth:`SearchSpace.graph`).
``path``
    Path encoding (White et al., BANANAS): for every sequence of operations, how many
    input->output paths of the cell carry exactly that sequence. It is computed on the
    *reduced* graph (below): a path through a zero op (``none``) does not exist and an identity
    op (``skip_connect``) adds no operation to a path. This makes it invariant under the space's isomorphism (tested on
    all 15,625 NB201 archs: archs with equal NB201 unique-string keys get equal encodings).
    NB201: sequences of length 0..3 over (conv1x1, conv3x3, avg_pool) = 1 + 3 + 9 + 27 = 40.
    ``path_binary`` is the 0/1 indicator version (BANANAS itself uses indicators).
``reduced``
    The reduced graph flattened (adjacency + node one-hot), padded to the full node count.
``zc``
    Zero-cost proxy scores (registry kind ``proxy``, e.g. ``synflow``), computed on the
    untrained network; see :class:`ZeroCostFeatures`. Needs the proxies' torch code.

Kinds combine with ``+`` (``"path+onehot"``): the row is the concatenation.

Graphs for GNNs: :func:`graph_batch` returns stacked ``(adjacency, node features, node mask)``
of the ``raw`` op-on-node graph (Wen et al.'s input) or the ``reduced`` graph: nodes of the
space's zero ops removed, nodes of its identity ops contracted (their predecessors joined to
their successors; parallel routes merged by a contraction become an edge multiplicity), and
nodes that lie on no input->output path removed. Node features of the reduced graph are
one-hot over ``[input, output, *compute ops]``.

Graph encodings work for every space that declares a :class:`~naslab.spaces.base.GraphSpec`
(``space.graph_spec``): the op-on-node graph is ``space.graph(arch)`` (nodes in topological
order, node 0 the input, the last node the output) with node labels ``space.graph_labels()``;
which ops are zero / identity comes from ``graph_spec.zero_ops`` / ``identity_ops``.
Encodings are memoised per space and kind (bounded), since strategies encode the same
candidates many times.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from naslab.errors import ConfigError, did_you_mean
from naslab.spaces.base import Architecture, SearchSpace, get_space

FLAT_KINDS = ("onehot", "adjacency", "path", "path_binary", "reduced", "zc")
GRAPH_KINDS = ("raw", "reduced")

_MEMO_LIMIT = 200_000
#: the zc feature of a proxy score of -inf (after the signed log1p transform)
NEG_INF_FEATURE = -100.0
_memo: dict[tuple[str, str], dict[Any, np.ndarray]] = {}
_graph_memo: dict[tuple[str, str], dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}


# ------------------------------------------------------------------------------------------
# graph structure of a space
# ------------------------------------------------------------------------------------------


class GraphEncoding:
    """What graph encodings of a space are made of, derived from its declared ``graph_spec``:
    node labels, compute ops, path vocabulary, and the reduced graph / path counts of an arch."""

    def __init__(self, space: SearchSpace) -> None:
        decl = space.graph_spec
        if decl is None:
            raise ConfigError(
                f"search space {space.name!r} declares no cell graph (graph_spec is None); "
                f"graph-based encodings (adjacency, path, reduced, GNN predictors) need one. "
                f"Use encoding 'onehot' for this space")
        self.space = space
        self.decl = decl
        self.labels: tuple[str, ...] = tuple(space.graph_labels())
        self.zero_ops = frozenset(decl.zero_ops)
        self.identity_ops = frozenset(decl.identity_ops)
        self.compute_ops: tuple[str, ...] = decl.compute_ops
        probe = space.sample(np.random.default_rng(0))
        adj, feats = space.graph(probe)
        if feats.shape[1] != len(self.labels):
            raise ConfigError(
                f"space {space.name!r}: graph() node features have {feats.shape[1]} columns, "
                f"expected {len(self.labels)} (one-hot over {', '.join(self.labels)})")
        self.n_nodes = int(adj.shape[0])
        # longest input->output path, in op nodes (NB201: 3)
        self.max_path_ops = decl.max_path_ops()
        self.paths: dict[tuple[int, ...], int] = {}
        k = len(self.compute_ops)
        for length in range(self.max_path_ops + 1):
            for seq in itertools.product(range(k), repeat=length):
                self.paths[seq] = len(self.paths)
        self.n_reduced_features = 2 + k

    def reduce(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reduced graph of ``arch``: (adjacency n x n, features n x (2+k), mask n).

        Contracting a skip node joins each predecessor to each successor; parallel routes that
        this merges are kept as edge multiplicities (``adj[u, v]`` = number of routes), so that
        path counts and sums of node states stay what the cell computes.
        """
        adj, feats = self.space.graph(arch)
        a = (np.asarray(adj) > 0).astype(np.float64)
        lab = [self.labels[int(i)] for i in np.argmax(feats, axis=1)]
        n = self.n_nodes
        alive = np.ones(n, dtype=bool)
        for v in range(n):  # topological order: contracting v only adds edges between others
            if lab[v] in self.zero_ops:
                a[v, :] = 0.0
                a[:, v] = 0.0
                alive[v] = False
            elif lab[v] in self.identity_ops:
                a += np.outer(a[:, v], a[v, :])
                a[v, :] = 0.0
                a[:, v] = 0.0
                alive[v] = False
        fwd = np.zeros(n, dtype=bool)
        fwd[0] = True
        for v in range(n):
            if fwd[v]:
                fwd |= a[v] > 0
        bwd = np.zeros(n, dtype=bool)
        bwd[n - 1] = True
        for v in range(n - 1, -1, -1):
            if (a[v][bwd] > 0).any():
                bwd[v] = True
        alive &= fwd & bwd
        alive[0] = alive[n - 1] = True
        a *= np.outer(alive, alive)
        out = np.zeros((n, self.n_reduced_features), dtype=np.float32)
        out[0, 0] = out[n - 1, 1] = 1.0
        for v in range(1, n - 1):
            if alive[v]:
                out[v, 2 + self.compute_ops.index(lab[v])] = 1.0
        return a.astype(np.float32), out, alive.astype(np.float32)

    def path_counts(self, arch: Architecture) -> np.ndarray:
        """How many input->output paths of the cell carry each op sequence (identity ops add
        no op, paths through a zero op do not exist)."""
        a, feats, alive = self.reduce(arch)
        n = self.n_nodes
        op = np.argmax(feats[:, 2:], axis=1)
        seqs: list[dict[tuple[int, ...], float]] = [{} for _ in range(n)]
        seqs[0] = {(): 1.0}
        for v in range(1, n):
            if not alive[v]:
                continue
            own = () if v == n - 1 else (int(op[v]),)
            acc = seqs[v]
            for u in np.flatnonzero(a[:, v]):
                mult = float(a[u, v])
                for s, c in seqs[u].items():
                    acc[s + own] = acc.get(s + own, 0.0) + c * mult
        vec = np.zeros(len(self.paths), dtype=np.float32)
        for s, c in seqs[n - 1].items():
            vec[self.paths[s]] += c
        return vec


_specs: dict[str, GraphEncoding] = {}


def graph_encoding(space: SearchSpace) -> GraphEncoding:
    """The (cached) :class:`GraphEncoding` of ``space``; ConfigError if it declares no graph."""
    spec = _specs.get(space.name)
    if spec is None or spec.space is not space:
        spec = GraphEncoding(space)
        _specs[space.name] = spec
    return spec


#: the name of :func:`graph_encoding` before spaces declared their graph (``SearchSpace.graph_spec``)
graph_spec = graph_encoding


# ------------------------------------------------------------------------------------------
# flat encodings
# ------------------------------------------------------------------------------------------


def _row_fn(space: SearchSpace, kind: str) -> Callable[[Architecture], np.ndarray]:
    if kind == "onehot":
        if "onehot" not in space.encodings():
            raise ConfigError(f"space {space.name!r} has no one-hot encoding")
        return lambda a: np.asarray(space.encode(a, "onehot"), dtype=np.float32).ravel()
    if kind == "adjacency":
        if "adjacency" in space.encodings():
            return lambda a: np.asarray(space.encode(a, "adjacency"), dtype=np.float32).ravel()
        graph_encoding(space)  # raises the clear error

        def adjacency(a: Architecture) -> np.ndarray:
            adj, feats = space.graph(a)
            return np.concatenate([np.ravel(adj), np.ravel(feats)]).astype(np.float32)
        return adjacency
    spec = graph_encoding(space)
    if kind == "path":
        return spec.path_counts
    if kind == "path_binary":
        return lambda a: (spec.path_counts(a) > 0).astype(np.float32)
    if kind == "reduced":
        def reduced(a: Architecture) -> np.ndarray:
            adj, feats, _ = spec.reduce(a)
            return np.concatenate([adj.ravel(), feats.ravel()])
        return reduced
    raise AssertionError(kind)  # pragma: no cover


def parse_kind(kind: str) -> list[str]:
    """``"path+onehot"`` -> ``["path", "onehot"]``, validating every part."""
    if not isinstance(kind, str) or not kind.strip():
        raise ConfigError(f"encoding must be a non-empty string such as 'path' or 'path+onehot', "
                          f"got {kind!r}")
    parts = [p.strip() for p in kind.split("+")]
    for p in parts:
        if p not in FLAT_KINDS:
            raise ConfigError(f"unknown encoding {p!r}{did_you_mean(p, FLAT_KINDS)}; encodings: "
                              f"{', '.join(FLAT_KINDS)} (combine with '+')")
    if len(set(parts)) != len(parts):
        raise ConfigError(f"encoding {kind!r} names a part twice")
    return parts


def encode(space: SearchSpace | str, archs: Sequence[Architecture], kind: str = "onehot", *,
           zc: ZeroCostFeatures | None = None) -> np.ndarray:
    """Encode ``archs`` as a float32 matrix (one row per architecture).

    ``kind`` is one of :data:`FLAT_KINDS` or a ``+``-combination. The ``zc`` part needs a
    :class:`ZeroCostFeatures` (``zc=``) that says which proxies to compute.
    """
    sp = get_space(space) if isinstance(space, str) else space
    parts = parse_kind(kind)
    blocks = []
    for p in parts:
        if p == "zc":
            if zc is None:
                raise ConfigError("encoding 'zc' needs zero-cost proxies: pass zc_proxies=(...) "
                                  "to the predictor (e.g. zc_proxies=('synflow',))")
            blocks.append(zc.features(archs))
            continue
        memo = _memo.setdefault((sp.name, p), {})
        fn: Callable[[Architecture], np.ndarray] | None = None
        rows = []
        for a in archs:
            r = memo.get(a.choices)
            if r is None:
                if a.space != sp.name:
                    raise ConfigError(f"architecture of space {a.space!r} given to an encoding "
                                      f"of space {sp.name!r}")
                if fn is None:
                    fn = _row_fn(sp, p)
                r = fn(a)
                r.setflags(write=False)
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()
                memo[a.choices] = r
            rows.append(r)
        if not rows:
            width = len(_row_fn(sp, p)(sp.sample(np.random.default_rng(0))))
            blocks.append(np.zeros((0, width), dtype=np.float32))
        else:
            blocks.append(np.stack(rows))
    return np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]


def graph_batch(space: SearchSpace | str, archs: Sequence[Architecture],
                kind: str = "reduced") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stacked graphs ``(adjacency [n,N,N], node features [n,N,F], node mask [n,N])``.

    ``kind="raw"``: the space's op-on-node graph (all nodes present, mask all ones);
    ``kind="reduced"``: none removed, skips contracted, dead nodes masked out.
    """
    sp = get_space(space) if isinstance(space, str) else space
    if kind not in GRAPH_KINDS:
        raise ConfigError(f"graph kind must be one of {', '.join(GRAPH_KINDS)}, got {kind!r}"
                          f"{did_you_mean(str(kind), GRAPH_KINDS)}")
    spec = graph_encoding(sp)
    memo = _graph_memo.setdefault((sp.name, kind), {})
    adjs, feats, masks = [], [], []
    for a in archs:
        g = memo.get(a.choices)
        if g is None:
            if kind == "raw":
                adj, f = sp.graph(a)
                g = (np.asarray(adj, dtype=np.float32), np.asarray(f, dtype=np.float32),
                     np.ones(spec.n_nodes, dtype=np.float32))
            else:
                g = spec.reduce(a)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[a.choices] = g
        adjs.append(g[0])
        feats.append(g[1])
        masks.append(g[2])
    if not archs:
        width = len(spec.labels) if kind == "raw" else spec.n_reduced_features
        n = spec.n_nodes
        return (np.zeros((0, n, n), np.float32), np.zeros((0, n, width), np.float32),
                np.zeros((0, n), np.float32))
    return np.stack(adjs), np.stack(feats), np.stack(masks)


def encoding_size(space: SearchSpace | str, kind: str) -> int:
    """Width of the flat encoding ``kind`` (without ``zc`` parts)."""
    sp = get_space(space) if isinstance(space, str) else space
    parts = [p for p in parse_kind(kind) if p != "zc"]
    probe = sp.sample(np.random.default_rng(0))
    return sum(len(_row_fn(sp, p)(probe)) for p in parts)


# ------------------------------------------------------------------------------------------
# zero-cost proxy features
# ------------------------------------------------------------------------------------------


_zc_memo: dict[tuple[str, str, int, Any], float] = {}


class ZeroCostFeatures:
    """Zero-cost proxy scores as encoding columns, from the registry's ``proxy`` components.

    ``proxies``: registered proxy names (``synflow``, ``params``, ``jacob_cov`` ...).
    ``params``: keyword arguments of every proxy (e.g. ``{"dataset": "digits"}`` for
    data-dependent ones), plus two keys of this class: ``seed`` (weight initialisation of the
    scored networks, default 0: a proxy score is a fixed property of the architecture, not
    re-drawn with the predictor's seed) and ``cache`` (a directory, or ``True`` for
    ``<naslab cache dir>/zerocost``: scores are read from / appended to the JSON-lines score
    cache that ``naslab proxies --cache`` and ``benchmarks/zerocost.py`` write).
    Scores are memoised per process. Heavy-tailed scores (synflow spans dozens of orders of
    magnitude) enter as ``sign(s) * log1p(|s|)``; ``-inf`` (an output that ignores the input)
    becomes :data:`NEG_INF_FEATURE`.
    """

    def __init__(self, proxies: Sequence[str], params: dict[str, Any] | None = None) -> None:
        if isinstance(proxies, str) or not proxies:
            raise ConfigError(f"zc_proxies must be a non-empty list of proxy names, got {proxies!r}")
        from naslab import registry

        self.proxies = tuple(proxies)
        params = dict(params or {})
        self.seed = int(params.pop("seed", 0))
        cache = params.pop("cache", None)
        if cache is True:
            from naslab.benchmarks.datadir import cache_dir

            cache = str(cache_dir() / "zerocost")
        self.cache = None if cache in (None, False, "") else str(cache)
        self.params = params
        # the proxies come from the registry (kind "proxy"): no import of the estimators here
        self._est = {p: registry.create("proxy", p, **self.params) for p in self.proxies}

    def raw(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Raw proxy scores, shape (n, number of proxies)."""
        import json

        out = np.empty((len(archs), len(self.proxies)), dtype=np.float64)
        for j, p in enumerate(self.proxies):
            est = self._est[p]
            tag = json.dumps(est.describe(), sort_keys=True, default=str)
            missing = [a for a in dict.fromkeys(archs) if (p, tag, self.seed, a.choices) not in _zc_memo]
            if missing:
                # one code path with or without a cache, so that the scores are the same: each
                # network is initialised from (seed, arch index) as benchmarks/zerocost.py does
                sp = get_space(missing[0].space)
                scores = _score_archs(est, missing, seed=self.seed, space=sp,
                                      cache_dir=self.cache)
                for a, v in zip(missing, scores):
                    _zc_memo[(p, tag, self.seed, a.choices)] = float(v)
            for i, a in enumerate(archs):
                out[i, j] = _zc_memo[(p, tag, self.seed, a.choices)]
        return out

    def features(self, archs: Sequence[Architecture]) -> np.ndarray:
        s = self.raw(archs)
        if np.isnan(s).any() or (s == np.inf).any():
            j = int(np.argmax((np.isnan(s) | (s == np.inf)).any(axis=0)))
            raise ConfigError(f"zero-cost proxy {self.proxies[j]!r} returned NaN or +inf; it "
                              f"cannot be used as a feature")
        finite = np.isfinite(s)
        t = np.sign(s) * np.log1p(np.abs(np.where(finite, s, 0.0)))
        t[~finite] = NEG_INF_FEATURE  # -inf: below every finite score, the same in fit and predict
        return t.astype(np.float32)


def _score_archs(est: Any, archs: Sequence[Architecture], *, seed: int, space: SearchSpace,
                 cache_dir: str | None) -> np.ndarray:
    """Scores of ``archs`` by proxy estimator ``est`` (a registered ``proxy`` component, found
    through the registry: predictors never import the estimators package)."""
    return np.asarray(est.score_archs(list(archs), seed=seed, space=space, cache_dir=cache_dir),
                      dtype=np.float64)
