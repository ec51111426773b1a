"""Search-space conformance suite.

``check_space(name)`` runs every check below on the registered space ``name`` (no data files
needed)::

    from naslab.testing import check_space
    check_space("my_space")

What it checks, on architectures sampled with a fixed seed:

* the declared structure is consistent: decision names unique, ``graph_spec`` edges point at
  declared decisions whose options are among its ops;
* sampling is seeded and gives valid archs of this space (``validate`` returns them);
* ``mutate`` and ``neighbors`` stay in the space and differ from the input; neighbours are
  distinct and come in a fixed order;
* ``canonical`` returns a valid arch and is idempotent; where ``has_canonical`` it is invariant
  under the space's isomorphisms (for a cell ``graph_spec``: changing the op of an edge whose
  output can never reach the cell output - with ops on nodes, the op of a node on no
  input->output path; plus whatever ``isomorphs`` yields), else it is the identity;
* ``parse(format(a)) == a`` and ``str(a) == format(a)``; a JSON round trip gives ``a`` back;
* ``from_decision_indices(decision_indices(a)) == a``, out-of-range indices are refused;
* every encoding of :meth:`~naslab.spaces.base.SearchSpace.encodings` has one fixed shape and
  finite values; the base ``onehot`` / ``index`` widths follow the decisions; ``graph`` has
  one node label per node and is a DAG in topological order;
* finite spaces: ``index`` / ``from_index`` round trip, and enumeration starts at index 0;
* bad notation (a corrupted option name, the empty string, a non-string) and invalid
  architectures raise :class:`~naslab.errors.InvalidArchitectureError`, the message naming the
  bad part.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from naslab.errors import InvalidArchitectureError, NaslabError
from naslab.spaces.base import EDGE_PRESENCE, Architecture, SearchSpace, get_space

#: the token :func:`check_space` writes into a notation in place of an option name
BOGUS = "zz_bogus_option"


def check_space(name: str, *, n: int = 40, seed: int = 0,
                isomorphs: Callable[[Architecture], Iterable[Architecture]] | None = None) -> None:
    """Run the conformance checks on registered space ``name``; raises AssertionError.

    ``n``: archs sampled per check. ``isomorphs(arch)``: optional, archs that the space holds
    isomorphic to ``arch`` (their canonical forms must equal ``arch``'s).
    """
    space = get_space(name)
    assert isinstance(space, SearchSpace), f"{name}: get_space did not return a SearchSpace"
    assert space.name, f"{name}: the space has no name"
    assert get_space(space.name) is not None, f"{name}: space.name {space.name!r} is not registered"
    _check_declared(space)
    archs = _check_sampling(space, n, seed)
    _check_moves(space, archs, seed)
    _check_canonical(space, archs, isomorphs)
    _check_notation(space, archs)
    _check_decisions(space, archs)
    _check_encodings(space, archs)
    _check_finite(space, archs)
    _check_bad_input(space, archs)


def _check_declared(space: SearchSpace) -> None:
    names = [d.name for d in space.decisions]
    assert len(set(names)) == len(names), f"{space.name}: decision names repeat: {names}"
    spec = space.graph_spec
    if spec is None:
        return
    assert space.decisions, f"{space.name}: a graph_spec needs declared decisions"
    for e, d in enumerate(spec.edge_decisions):
        assert 0 <= d < len(space.decisions), (
            f"{space.name}: graph_spec edge {e} names decision {d}, the space has "
            f"{len(space.decisions)}")
        if spec.ops_on_nodes:
            assert space.decisions[d].options == EDGE_PRESENCE, (
                f"{space.name}: edge decision {names[d]!r} of a cell with ops on nodes must "
                f"have the options {EDGE_PRESENCE} (absent, present)")
            continue
        extra = set(space.decisions[d].options) - set(spec.ops)
        assert not extra, f"{space.name}: decision {names[d]!r} has options {extra} not in graph_spec.ops"
    for k, d in enumerate(spec.node_decisions):
        assert 0 <= d < len(space.decisions), (
            f"{space.name}: graph_spec node {k + 1} names decision {d}, the space has "
            f"{len(space.decisions)}")
        extra = set(space.decisions[d].options) - set(spec.ops)
        assert not extra, f"{space.name}: decision {names[d]!r} has options {extra} not in graph_spec.ops"
    assert space.graph_labels() == ("input", "output", *spec.ops), (
        f"{space.name}: graph_labels() must be ('input', 'output', *graph_spec.ops)")


def _check_sampling(space: SearchSpace, n: int, seed: int) -> list[Architecture]:
    archs = [space.sample(np.random.default_rng([seed, i])) for i in range(n)]
    again = [space.sample(np.random.default_rng([seed, i])) for i in range(n)]
    assert archs == again, f"{space.name}: sample() with equal seeds gave different archs"
    for a in archs:
        assert isinstance(a, Architecture), f"{space.name}: sample() returned {type(a).__name__}"
        assert a.space == space.name, f"{space.name}: sampled arch names space {a.space!r}"
        hash(a)
        assert space.validate(a) == a, f"{space.name}: validate() changed sampled arch {a}"
    assert len(set(archs)) > 1 or _size(space) == 1, f"{space.name}: {n} samples were all equal"
    return archs


def _check_moves(space: SearchSpace, archs: list[Architecture], seed: int) -> None:
    rng = np.random.default_rng(seed)
    for a in archs:
        state = rng.bit_generator.state
        b = space.mutate(a, rng)
        rng2 = np.random.default_rng()
        rng2.bit_generator.state = state
        assert space.mutate(a, rng2) == b, f"{space.name}: mutate() is not determined by the rng"
        assert space.validate(b) == b, f"{space.name}: mutate({a}) left the space"
        assert b != a, f"{space.name}: mutate({a}) returned its input"
    for a in archs[: max(3, len(archs) // 4)]:
        nb = list(space.neighbors(a))
        assert nb, f"{space.name}: {a} has no neighbours"
        assert nb == list(space.neighbors(a)), f"{space.name}: neighbors() order is not fixed"
        assert len(set(nb)) == len(nb), f"{space.name}: neighbors({a}) repeats an arch"
        for b in nb:
            assert b != a, f"{space.name}: neighbors({a}) contains the arch itself"
            assert space.validate(b) == b, f"{space.name}: neighbour {b} of {a} is invalid"


def _dead_node_variants(space: SearchSpace, a: Architecture) -> Iterable[Architecture]:
    """Ops on nodes: archs that differ from ``a`` only in the op of an interior node that lies
    on no input->output path of the cell (isomorphic to ``a``: the node computes nothing that
    reaches the output, and pruning removes it)."""
    spec = space.graph_spec
    assert spec is not None
    idx = list(space.decision_indices(a))
    n = spec.n_nodes
    on = [(s, t) for (s, t), d in zip(spec.edges, spec.edge_decisions) if idx[d]]
    fwd = [v == 0 for v in range(n)]
    for s, t in sorted(on, key=lambda st: st[1]):
        fwd[t] = fwd[t] or fwd[s]
    bwd = [v == n - 1 for v in range(n)]
    for s, t in sorted(on, key=lambda st: -st[0]):
        bwd[s] = bwd[s] or bwd[t]
    for k, d in enumerate(spec.node_decisions):
        if not (fwd[k + 1] and bwd[k + 1]):
            for o in range(space.decisions[d].size):
                if o != idx[d]:
                    b = idx[:d] + [o] + idx[d + 1:]
                    yield space.from_decision_indices(b)


def _dead_edge_variants(space: SearchSpace, a: Architecture) -> Iterable[Architecture]:
    """Archs that differ from ``a`` only in the op of an edge whose output can never reach the
    cell output (its target node reaches the output only through zero ops, or not at all):
    isomorphic to ``a`` under the cell semantics of a GraphSpec (a node sums its inputs).
    Ops on nodes: :func:`_dead_node_variants`."""
    spec = space.graph_spec
    assert spec is not None
    if spec.ops_on_nodes:
        yield from _dead_node_variants(space, a)
        return
    idx = list(space.decision_indices(a))
    live = [False] * spec.n_nodes
    live[-1] = True
    for e in sorted(range(len(spec.edges)), key=lambda k: -spec.edges[k][0]):
        src, dst = spec.edges[e]
        d = spec.edge_decisions[e]
        if live[dst] and space.decisions[d].options[idx[d]] not in spec.zero_ops:
            live[src] = True
    for e, (_, dst) in enumerate(spec.edges):
        if not live[dst]:
            d = spec.edge_decisions[e]
            for o in range(space.decisions[d].size):
                if o != idx[d]:
                    yield space.from_decision_indices(idx[:d] + [o] + idx[d + 1:])


def _check_canonical(space: SearchSpace, archs: list[Architecture],
                     isomorphs: Callable[[Architecture], Iterable[Architecture]] | None) -> None:
    for a in archs:
        c = space.canonical(a)
        assert space.validate(c) == c, f"{space.name}: canonical({a}) is not in the space"
        assert space.canonical(c) == c, f"{space.name}: canonical is not idempotent on {a}"
        if not space.has_canonical:
            assert c == a, f"{space.name}: has_canonical is false but canonical({a}) != {a}"
            continue
        variants: list[Architecture] = []
        if space.graph_spec is not None and space.decisions:
            variants.extend(_dead_edge_variants(space, a))
        if isomorphs is not None:
            variants.extend(isomorphs(a))
        for b in variants:
            assert space.canonical(b) == c, (
                f"{space.name}: isomorphic archs {a} and {b} have different canonical forms")
    if (space.has_canonical and space.graph_spec is not None and space.decisions
            and not space.graph_spec.ops_on_nodes):
        # the samples may hold no dead edge: the all-zero cell has one on every edge
        zero = [next((i for i, o in enumerate(d.options) if o in space.graph_spec.zero_ops), -1)
                for d in space.decisions]
        if min(zero) >= 0:
            z = space.from_decision_indices(zero)
            for b in _dead_edge_variants(space, z):
                assert space.canonical(b) == space.canonical(z), (
                    f"{space.name}: isomorphic archs {z} and {b} have different canonical forms")


def _check_notation(space: SearchSpace, archs: list[Architecture]) -> None:
    for a in archs:
        text = space.format(a)
        assert isinstance(text, str) and text, f"{space.name}: format() must return a string"
        assert str(a) == text, f"{space.name}: str(arch) is not format(arch)"
        assert space.parse(text) == a, f"{space.name}: parse(format(a)) != a for {text!r}"
        data = json.loads(json.dumps(a.to_json()))
        assert Architecture.from_json(data) == a, f"{space.name}: JSON round trip changed {a}"


def _check_decisions(space: SearchSpace, archs: list[Architecture]) -> None:
    if not space.decisions:
        return
    sizes = [d.size for d in space.decisions]
    for a in archs:
        idx = space.decision_indices(a)
        assert len(idx) == len(sizes), (
            f"{space.name}: decision_indices({a}) has {len(idx)} entries, {len(sizes)} decisions")
        assert all(isinstance(i, (int, np.integer)) and 0 <= i < s for i, s in zip(idx, sizes)), (
            f"{space.name}: decision_indices({a}) = {idx} out of range (sizes {sizes})")
        assert space.from_decision_indices(idx) == a, (
            f"{space.name}: from_decision_indices(decision_indices(a)) != a for {a}")
    bad = list(space.decision_indices(archs[0]))
    bad[0] = sizes[0]
    _expect_invalid(space, lambda: space.from_decision_indices(bad), space.decisions[0].name,
                    f"from_decision_indices({bad})")
    _expect_invalid(space, lambda: space.from_decision_indices(bad[:-1] if len(bad) > 1 else []),
                    "", "from_decision_indices with too few indices")


def _check_encodings(space: SearchSpace, archs: list[Architecture]) -> None:
    kinds = space.encodings()
    assert kinds, f"{space.name}: encodings() lists nothing"
    for kind in kinds:
        shapes = set()
        for a in archs:
            v = space.encode(a, kind)
            assert isinstance(v, np.ndarray), f"{space.name}: encode(a, {kind!r}) is not an array"
            assert np.isfinite(v).all(), f"{space.name}: encode(a, {kind!r}) is not finite"
            shapes.add(v.shape)
        assert len(shapes) == 1, f"{space.name}: encoding {kind!r} has varying shapes {shapes}"
    if space.decisions:
        width = sum(d.size for d in space.decisions)
        if "onehot" in kinds:
            oh = space.encode(archs[0], "onehot")
            assert oh.shape == (width,) and oh.sum() == len(space.decisions), (
                f"{space.name}: onehot must have one 1 per decision over {width} columns")
        if "index" in kinds:
            assert list(space.encode(archs[0], "index")) == list(space.decision_indices(archs[0])), (
                f"{space.name}: the index encoding is not the decision indices")
    if space.graph_spec is not None:
        labels = space.graph_labels()
        for a in archs:
            adj, feats = space.graph(a)
            m = adj.shape[0]
            assert adj.shape == (m, m) and feats.shape == (m, len(labels)), (
                f"{space.name}: graph() shapes {adj.shape}, {feats.shape}")
            assert np.array_equal(np.triu(adj, 1), adj), (
                f"{space.name}: graph() adjacency is not a DAG in topological order")
            assert (feats.sum(axis=1) == 1).all(), f"{space.name}: graph() node features not one-hot"
            assert feats[0, 0] == 1 and feats[-1, 1] == 1, (
                f"{space.name}: graph() node 0 must be the input, the last node the output")
    try:
        space.encode(archs[0], "no_such_encoding")
    except InvalidArchitectureError:
        pass
    else:
        raise AssertionError(f"{space.name}: an unknown encoding kind was accepted")


def _size(space: SearchSpace) -> int | None:
    try:
        return len(space)
    except TypeError:
        return None


def _check_finite(space: SearchSpace, archs: list[Architecture]) -> None:
    size = _size(space)
    if size is None:
        return
    assert size > 0, f"{space.name}: len() is {size}"
    for a in archs:
        i = space.index(a)
        assert 0 <= i < size, f"{space.name}: index({a}) = {i} is outside 0..{size - 1}"
        assert space.from_index(i) == a, f"{space.name}: from_index(index(a)) != a for {a}"
    it = space.enumerate()
    for k in range(min(5, size)):
        assert space.index(next(it)) == k, f"{space.name}: enumerate() does not follow index order"
    _expect_invalid(space, lambda: space.from_index(size), str(size), f"from_index({size})")


def _check_bad_input(space: SearchSpace, archs: list[Architecture]) -> None:
    # a corrupted option name: the message must quote the bad token
    options = sorted({o for d in space.decisions for o in d.options}, key=len, reverse=True)
    for a in archs[:5]:
        text = space.format(a)
        hit = next((o for o in options if o in text), None)
        if hit is not None:
            bad = text.replace(hit, BOGUS, 1)
            _expect_invalid(space, lambda: space.parse(bad), BOGUS, f"parse({bad!r})")
    _expect_invalid(space, lambda: space.parse(""), "", "parse('')")
    not_text: Any = 42
    _expect_invalid(space, lambda: space.parse(not_text), "", "parse(42)")
    other = Architecture(space.name + "_other", archs[0].choices)
    _expect_invalid(space, lambda: space.validate(other), space.name + "_other",
                    "validate() of an arch of another space")


def _expect_invalid(space: SearchSpace, fn: Callable[[], Any], fragment: str, what: str) -> None:
    try:
        fn()
    except InvalidArchitectureError as exc:
        assert fragment in str(exc), (
            f"{space.name}: {what} raised {exc!r}, whose message does not name {fragment!r}")
    except NaslabError as exc:  # pragma: no cover - the wrong error class
        raise AssertionError(f"{space.name}: {what} raised {type(exc).__name__}, expected "
                             f"InvalidArchitectureError") from exc
    else:
        raise AssertionError(f"{space.name}: {what} was accepted")
