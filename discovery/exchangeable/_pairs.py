"""Two-sample views of grouped data: pairs of rows of one group, their frames, their oracle graph.

Causal de Finetti's tests compare two rows of the same group ("sample (1)" and "sample (2)").
A *layer* takes one ordered pair of rows from each group, so its observations (one per group) are
i.i.d.; a CI test on a layer keeps its level. Several layers use more rows of each group; their
p-values are dependent and are combined by the Cauchy combination (valid under any dependence).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd

from scm._exceptions import DataError, ParameterError, UnknownNodeError
from scm._graph import as_dag
from scm._validation import as_dataframe, check_numeric_frame, check_option, check_random_state

__all__ = [
    "PAIRINGS",
    "MIN_LAYER_GROUPS",
    "split_groups",
    "pair_samples",
    "two_sample_names",
    "two_sample_frames",
    "two_sample_graph",
    "combine_pvalues",
]

#: How pairs of rows are formed within a group (see :func:`pair_samples`).
PAIRINGS = ("disjoint", "all", "first", "rest")
#: A layer after the first is used only when at least this many groups contribute a pair to it.
MIN_LAYER_GROUPS = 10
_MIN_GROUPS = 5


def split_groups(data, groups="group", *, owner: str = "CausalDeFinetti") -> tuple[pd.DataFrame, np.ndarray]:
    """The variables of ``data`` (numeric, finite) and the group code of every row.

    Parameters
    ----------
    data : pandas.DataFrame or array of shape (n_rows, n_columns)
    groups : str or array-like, default "group"
        The name of the column holding the group labels (removed from the variables), or the
        labels themselves (one per row).
    owner : str
        The caller, for the messages.

    Returns
    -------
    variables : pandas.DataFrame
        Float columns, one per variable, in the order of ``data``.
    codes : numpy.ndarray of int, shape (n_rows,)
        ``0 .. n_groups - 1``, in the order of the sorted labels.

    Raises
    ------
    UnknownNodeError
        ``groups`` names no column of ``data``.
    DataError
        Labels of the wrong length or with NaN, fewer than 5 groups (a constant column is one
        group), a group with a single row (its label is named), NaN or non-numeric variables,
        fewer than two variables.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"A": range(10), "B": range(10, 0, -1), "g": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]})
    >>> variables, codes = split_groups(frame, "g")
    >>> list(variables.columns), codes.tolist()
    (['A', 'B'], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    """
    frame = as_dataframe(data, name="data")
    if isinstance(groups, str):
        if groups not in frame.columns:
            raise UnknownNodeError(f"{owner}: the groups column {groups!r} is not a column of data (columns: {list(frame.columns)[:10]})")
        labels = frame[groups].to_numpy()
        frame = frame.drop(columns=[groups])
        what = f"the groups column {groups!r}"
    else:
        labels = np.asarray(groups)
        if labels.ndim != 1 or len(labels) != len(frame):
            raise DataError(f"{owner}: groups must hold one label per row of data ({len(frame)}); got shape {labels.shape}")
        what = "groups"
    if pd.isna(labels).any():
        raise DataError(f"{owner}: {what} holds NaN (first at row {int(np.flatnonzero(pd.isna(labels))[0])}); every row needs a group")
    uniques, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(uniques) < _MIN_GROUPS:
        constant = " (the column is constant)" if len(uniques) == 1 else ""
        raise DataError(
            f"{owner}: {what} has {len(uniques)} group(s){constant}; at least {_MIN_GROUPS} groups of 2 or more rows are needed"
        )
    single = uniques[counts < 2]
    if len(single):
        raise DataError(
            f"{owner}: group(s) {single[:10].tolist()} of {what} have a single row; every group needs at least 2 rows (drop those groups)"
        )
    variables = check_numeric_frame(frame, name="data", min_rows=1, allow_constant=False)
    if variables.shape[1] < 2:
        raise DataError(f"{owner} needs at least 2 variables besides the groups; got {list(variables.columns)}")
    return variables, codes.astype(np.int64)


def pair_samples(codes, *, pairing: str = "disjoint", random_state=0) -> list[np.ndarray]:
    """Layers of within-group pairs: each layer takes at most one ``(sample (1), sample (2))`` per group.

    Parameters
    ----------
    codes : array-like of int, shape (n_rows,)
        The group of every row (every group has at least 2 rows).
    pairing : {"disjoint", "all", "first", "rest"}, default "disjoint"
        ``"disjoint"``: each group's rows are shuffled (seeded) and cut into consecutive pairs;
        layer ``l`` holds the ``l``-th pair of every group that has one, so every row is used
        once (one row of an odd-sized group is left out). ``"all"``: every ordered pair of
        positions ``(a, b)``, ``a != b``, of the shuffled rows is a layer (``m (m - 1)`` layers
        for groups of ``m`` rows). ``"first"``: one layer, the first two rows of each group in
        data order (the reference implementation's use). ``"rest"``: layer ``a`` takes the
        ``a``-th (shuffled) row of each group as sample (1) and the sum of the group's other
        rows as sample (2) (valid for the sink tests only, see :class:`CausalDeFinetti`).
        Layers after the first are kept only if at least :data:`MIN_LAYER_GROUPS` groups
        contribute to them.
    random_state : None, int or numpy.random.Generator, default 0
        Seed of the shuffles.

    Returns
    -------
    list of numpy.ndarray of int, shape (n_groups_in_layer, 1 + k)
        Per group of the layer: the row of sample (1), then the rows whose sum is sample (2)
        (``k = 1`` for pairs; ``-1`` pads groups with fewer rows under ``"rest"``).

    Examples
    --------
    >>> layers = pair_samples([0, 0, 1, 1, 1, 1], pairing="first")
    >>> layers[0].tolist()
    [[0, 1], [2, 3]]
    >>> [len(layer) for layer in pair_samples([0, 0, 0, 0] * 10 + [1, 1], pairing="disjoint")]
    [2]
    >>> pair_samples([0, 0, 0, 1, 1, 1], pairing="rest", random_state=0)[0].shape
    (2, 3)
    """
    check_option(pairing, PAIRINGS, name="pairing", owner="pair_samples")
    codes = np.asarray(codes)
    rng = check_random_state(random_state)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    members = np.split(order, starts[1:])
    if pairing == "first":
        return [np.array([m[:2] for m in members], dtype=np.int64)]
    members = [rng.permutation(m) for m in members]
    largest = max(len(m) for m in members)
    layers = []
    if pairing == "rest":
        for a in range(largest):
            rows = [np.r_[m[a], np.delete(m, a), np.full(largest - len(m), -1)] for m in members if len(m) > a]
            if not layers or len(rows) >= MIN_LAYER_GROUPS:
                layers.append(np.array(rows, dtype=np.int64))
        return layers
    if pairing == "disjoint":
        positions = [(2 * i, 2 * i + 1) for i in range(largest // 2)]
    else:
        positions = list(itertools.permutations(range(largest), 2))
    for a, b in positions:
        layer = np.array([(m[a], m[b]) for m in members if len(m) > max(a, b)], dtype=np.int64).reshape(-1, 2)
        if not layers or len(layer) >= MIN_LAYER_GROUPS:
            layers.append(layer)
    return layers


def two_sample_names(nodes) -> list[str]:
    """Names of the two-sample variables: ``"<v>^(1)"`` for every node, then ``"<v>^(2)"``.

    Position ``j`` is node ``j`` in sample (1), position ``d + j`` the same node in sample (2).

    Examples
    --------
    >>> two_sample_names(["X", "Y"])
    ['X^(1)', 'Y^(1)', 'X^(2)', 'Y^(2)']
    """
    nodes = list(nodes)
    return [f"{v}^(1)" for v in nodes] + [f"{v}^(2)" for v in nodes]


def two_sample_frames(variables: pd.DataFrame, layers) -> list[pd.DataFrame]:
    """One frame per layer: a row per group, the variables of its sample (1) then of its sample (2).

    Parameters
    ----------
    variables : pandas.DataFrame
        The variables (no group column).
    layers : list of array of shape (n, 1 + k)
        From :func:`pair_samples`: sample (1) is the first row, sample (2) the sum of the
        others (``-1`` entries skipped; one other row: that row).

    Returns
    -------
    list of pandas.DataFrame
        Columns :func:`two_sample_names` of the variables.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"X": [1.0, 2.0, 3.0, 4.0]})
    >>> two_sample_frames(frame, [[[0, 1], [3, 2]]])[0]
       X^(1)  X^(2)
    0    1.0    2.0
    1    4.0    3.0
    """
    values = variables.to_numpy()
    names = two_sample_names(variables.columns)
    out = []
    for layer in layers:
        layer = np.asarray(layer, dtype=np.int64)
        rest = layer[:, 1:]
        if rest.shape[1] == 1:
            second = values[rest[:, 0]]
        else:  # the sum of the other rows: integer codes stay integers, for the discrete tests
            valid = rest >= 0
            second = np.einsum("gr,grv->gv", valid.astype(values.dtype), values[np.where(valid, rest, 0)])
        out.append(pd.DataFrame(np.hstack([values[layer[:, 0]], second]), columns=names))
    return out


def two_sample_graph(dag) -> nx.DiGraph:
    """The DAG of two rows of one group: each node's mechanism parameter is a latent parent of both.

    Nodes: :func:`two_sample_names` of the DAG's nodes (in that order: positions match the
    frames of :func:`two_sample_frames`), then ``"theta[<v>]"`` for every node. Edges:
    ``u^(s) -> v^(s)`` for every edge ``u -> v`` and ``s = 1, 2``; ``theta[v] -> v^(1)`` and
    ``theta[v] -> v^(2)``. A :class:`discovery.DSeparation` on it is the oracle of
    :class:`CausalDeFinetti`.

    Examples
    --------
    >>> g = two_sample_graph({"X": [], "Y": ["X"]})
    >>> list(g.nodes)[:4], sorted(g.predecessors("Y^(2)"))
    (['X^(1)', 'Y^(1)', 'X^(2)', 'Y^(2)'], ['X^(2)', 'theta[Y]'])
    """
    dag = as_dag(dag, name="dag")
    nodes = list(dag.nodes)
    graph = nx.DiGraph()
    graph.add_nodes_from(two_sample_names(nodes))
    graph.add_nodes_from(f"theta[{v}]" for v in nodes)
    for s in (1, 2):
        graph.add_edges_from((f"{u}^({s})", f"{v}^({s})") for u, v in dag.edges)
    for v in nodes:
        graph.add_edges_from([(f"theta[{v}]", f"{v}^(1)"), (f"theta[{v}]", f"{v}^(2)")])
    return graph


def combine_pvalues(pvalues) -> np.ndarray:
    """Cauchy combination of dependent p-values (Liu & Xie 2020), along the first axis.

    ``T = mean(tan((1/2 - p) pi))``, combined p-value ``1/2 - arctan(T) / pi``: valid (for small
    levels, asymptotically exact) whatever the dependence between the p-values, which is why
    the layers of one data set, which share groups, can be combined this way. One p-value is
    returned unchanged (up to clipping to ``[1e-15, 1 - 1e-15]``).

    Parameters
    ----------
    pvalues : array-like of shape (n_layers, ...) in [0, 1]

    Returns
    -------
    numpy.ndarray of shape (...)

    Examples
    --------
    >>> combine_pvalues([[0.2, 0.01], [0.2, 0.5]]).round(4).tolist()
    [0.2, 0.02]
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim == 0 or p.shape[0] == 0:
        raise ParameterError(f"combine_pvalues needs at least one p-value per query; got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):
        raise ParameterError("combine_pvalues: p-values must lie in [0, 1]")
    p = np.clip(p, 1e-15, 1 - 1e-15)
    if p.shape[0] == 1:
        return p[0]
    t = np.mean(np.tan((0.5 - p) * np.pi), axis=0)
    return 0.5 - np.arctan(t) / np.pi
