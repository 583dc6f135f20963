"""The causal Pólya urn: binary exchangeable (grouped) data with known interventional answers.

Guo, Zhang, Mohan, Huszár and Schölkopf (NeurIPS 2024, "Do Finetti") illustrate interventions on
exchangeable data with a causal Pólya urn. Every node ``v`` of a DAG of binary variables has one
urn per configuration of its parents, starting with ``a`` balls of colour 1 and ``b`` of colour 0.
A row is drawn node by node in causal order: ``v`` draws a ball from the urn of its parents'
configuration in this row, takes its colour as its value, and puts the ball back together with
another of the same colour. Each group runs its own urns; its rows are exchangeable, and by de
Finetti the same as i.i.d. Bernoulli rows given per-group probabilities ``theta ~ Beta(a, b)``,
one per urn, drawn independently (an ICM process).

An intervention ``do(v = x)`` in a row sets ``v`` without drawing: ``v``'s urn is left as it
was, while the children's urns still draw and learn under the set value. So observing
``v = 1`` makes a later ``v = 1`` more likely (``(a + 1) / (a + b + 1)``), setting it does not
(``a / (a + b)``): the truncated factorisation of exchangeable data.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from ._dataset import Dataset
from ._exceptions import ParameterError
from ._graph import as_dag
from ._validation import check_in_range, check_memory, check_nodes, check_random_state, check_sample_size

__all__ = ["polya_urn"]


def _balls(balls, nodes, parents) -> dict:
    """Node -> array (configs, 2) of the initial (colour-1, colour-0) ball counts of each urn."""

    def pair(value, where):
        try:
            a, b = (float(x) for x in value)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"The 'balls' parameter of polya_urn must give (ones, zeros) pairs; {where} is {value!r}") from exc
        if not (np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0):
            raise ParameterError(f"The 'balls' parameter of polya_urn must give positive ball counts; {where} is {value!r}")
        return a, b

    out = {}
    per_node = isinstance(balls, Mapping)
    if per_node:
        check_nodes(list(balls), nodes, what="node of balls", where="the graph")
    for v in nodes:
        n_cfg = 1 << len(parents[v])
        value = balls.get(v, (1.0, 1.0)) if per_node else balls
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 2:  # one pair per parent configuration
            if arr.shape != (n_cfg, 2):
                raise ParameterError(
                    f"The 'balls' parameter of polya_urn: node {v!r} needs {n_cfg} (ones, zeros) pairs; got shape {arr.shape}"
                )
            out[v] = np.array([pair(row, f"balls[{v!r}][{i}]") for i, row in enumerate(arr)])
        else:
            out[v] = np.tile(pair(value, f"balls[{v!r}]" if per_node else "it"), (n_cfg, 1))
    return out


def polya_urn(
    graph=None,
    *,
    n_groups: int = 200,
    group_size: int = 5,
    balls=(1.0, 1.0),
    do=None,
    do_rows=None,
    random_state=None,
) -> Dataset:
    """Grouped binary data from the causal Pólya urn of Guo et al. (2024).

    Parameters
    ----------
    graph : networkx.DiGraph, mapping node -> parents, or None
        A DAG over binary variables; None: ``X -> Y`` (the paper's example).
    n_groups : int, default 200
        Groups, each with its own urns.
    group_size : int, default 5
        Rows drawn per group, in order (row ``k`` of a group sees the urns after rows ``0..k-1``).
    balls : (float, float) or mapping, default (1, 1)
        Initial ``(ones, zeros)`` ball counts of every urn, or node -> a pair, or node -> one
        pair per parent configuration (configuration ``c``: bit ``k`` is the value of the
        ``k``-th parent in topological order, as in ``metadata["prior"]``). Any positive
        reals (a generalised urn).
    do : mapping node -> 0 or 1, optional
        Interventions: in the rows ``do_rows`` these nodes are set, not drawn, and their urns are
        not reinforced.
    do_rows : int, list of int or None
        The row positions within each group that are intervened on; None: every row.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="grouped"``, ``environment="group"``; ``data`` the 0/1 node columns and the int
        ``"group"`` column (rows of a group together, in drawing order); ``graph`` the DAG;
        in the layout of :func:`grouped`, ``metadata["prior"]`` the Beta prior of every urn's
        share of colour 1 (the initial urn; one row per ``(node, parameter)``, the parameter
        ``theta`` or ``theta[X=1,Z=0]`` for an urn of a parent configuration) and
        ``metadata["parameters"]`` each group's final shares (after ``group_size`` draws; the
        de Finetti parameter is their limit); ``metadata["urns"]`` the same prior as node ->
        DataFrame (a column per parent, then ``a``, ``b``; the format of
        :attr:`estimators.ExchangeableModel.prior_`); ``metadata["intervened"]`` a boolean
        DataFrame (rows x nodes) of the entries set by ``do``; ``metadata["kind"] = "binary"``.

    Examples
    --------
    Setting ``X`` in the first row leaves its urn alone; observing it does not:

    >>> from scm.simulate import polya_urn
    >>> ds = polya_urn(n_groups=20000, group_size=2, do={"X": 1}, do_rows=0, random_state=0)
    >>> x = ds.data["X"].to_numpy().reshape(-1, 2)
    >>> bool(abs(x[:, 1].mean() - 1 / 2) < 0.02)  # a / (a + b)
    True
    >>> obs = polya_urn(n_groups=20000, group_size=2, random_state=0).data["X"].to_numpy().reshape(-1, 2)
    >>> bool(abs(obs[obs[:, 0] == 1, 1].mean() - 2 / 3) < 0.02)  # (a + 1) / (a + b + 1)
    True
    """
    if graph is None:
        graph = nx.DiGraph([("X", "Y")])
    dag = as_dag(graph, name="the graph of polya_urn")
    nodes = list(nx.topological_sort(dag))
    parents = {v: sorted(dag.predecessors(v), key=nodes.index) for v in nodes}
    n_groups = check_in_range(n_groups, name="n_groups", low=1, inclusive="left", owner="polya_urn", integer=True)
    group_size = check_in_range(group_size, name="group_size", low=1, inclusive="left", owner="polya_urn", integer=True)
    check_sample_size(int(n_groups) * int(group_size), len(nodes) + 1, name="n_groups", owner="polya_urn")
    check_memory(
        float(n_groups) * sum(2 << len(parents[v]) for v in nodes), name="n_groups", what=f"{n_groups} groups of urns", owner="polya_urn"
    )
    urns0 = _balls(balls, nodes, parents)
    do = {} if do is None else dict(do)
    check_nodes(list(do), nodes, what="node of do", where="the graph")
    for v, x in do.items():
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or x not in (0, 1):
            raise ParameterError(f"The 'do' parameter of polya_urn sets binary nodes to 0 or 1; do[{v!r}] is {x!r}")
    if do_rows is None:
        rows_set = set(range(group_size))
    else:
        rows = [do_rows] if isinstance(do_rows, numbers.Integral) else list(do_rows)
        for r in rows:
            check_in_range(r, name="do_rows", low=0, high=group_size - 1, inclusive="both", owner="polya_urn", integer=True)
        rows_set = set(int(r) for r in rows)
    rng = check_random_state(random_state)

    # counts[v]: (groups, configs, 2) balls of colour 1 and colour 0 in each group's urns
    counts = {v: np.broadcast_to(urns0[v], (n_groups, *urns0[v].shape)).copy() for v in nodes}
    values = np.zeros((n_groups, group_size, len(nodes)), dtype=int)
    set_mask = np.zeros((n_groups, group_size, len(nodes)), dtype=bool)
    g_idx = np.arange(n_groups)
    for r in range(group_size):
        for j, v in enumerate(nodes):
            pidx = [nodes.index(p) for p in parents[v]]
            cfg = values[:, r, pidx] @ (1 << np.arange(len(pidx))) if pidx else np.zeros(n_groups, dtype=int)
            if v in do and r in rows_set:
                values[:, r, j] = int(do[v])
                set_mask[:, r, j] = True
                continue
            urn = counts[v][g_idx, cfg]
            draw = (rng.random(n_groups) * urn.sum(1) < urn[:, 0]).astype(int)
            values[:, r, j] = draw
            counts[v][g_idx, cfg, 1 - draw] += 1.0

    data = pd.DataFrame(values.reshape(-1, len(nodes)), columns=nodes)
    data["group"] = np.repeat(np.arange(n_groups), group_size)
    intervened = pd.DataFrame(set_mask.reshape(-1, len(nodes)), columns=nodes)
    urns = {
        v: pd.DataFrame(
            [
                {**{p: (c >> i) & 1 for i, p in enumerate(parents[v])}, "a": urns0[v][c, 0], "b": urns0[v][c, 1]}
                for c in range(len(urns0[v]))
            ],
            columns=[*parents[v], "a", "b"],
        )
        for v in nodes
    }
    # the layout of scm.simulate.grouped: one (node, parameter) column / row per urn
    names = {v: [_urn_name(parents[v], c) for c in range(len(urns0[v]))] for v in nodes}
    prior = pd.DataFrame(
        [(v, names[v][c], "beta", urns0[v][c, 0], urns0[v][c, 1]) for v in nodes for c in range(len(urns0[v]))],
        columns=["node", "parameter", "distribution", "a", "b"],
    ).set_index(["node", "parameter"])
    shares = pd.DataFrame(
        np.column_stack([counts[v][:, c, 0] / counts[v][:, c].sum(-1) for v in nodes for c in range(len(urns0[v]))]),
        columns=pd.MultiIndex.from_tuples([(v, n) for v in nodes for n in names[v]], names=["node", "parameter"]),
        index=pd.RangeIndex(n_groups, name="group"),
    )
    metadata = {
        "generator": "polya_urn",
        "kind": "binary",
        "prior": prior,
        "urns": urns,
        "parameters": shares,
        "intervened": intervened,
        "do": do,
        "do_rows": sorted(rows_set) if do else [],
        "group_sizes": np.full(n_groups, group_size),
    }
    return Dataset(data, dag, name="polya_urn", kind="grouped", environment="group", changed_nodes=frozenset(nodes), metadata=metadata)


def _urn_name(parents, c) -> str:
    """``theta`` for a root's urn, ``theta[X=1,Z=0]`` for the urn of one parent configuration."""
    if not parents:
        return "theta"
    return "theta[" + ",".join(f"{p}={(c >> i) & 1}" for i, p in enumerate(parents)) + "]"
