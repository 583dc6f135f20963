"""Grouped (exchangeable) data: an independent-causal-mechanism (ICM) generative process.

Each group (environment, subject, batch) draws its own mechanism parameters from
priors, independently per node; its rows are then i.i.d. given those parameters.
Rows of one group are exchangeable but not independent, and the parameters of a
node's mechanism are a latent parent shared by every row of the group. This is
the setting of Guo et al. (2023), "Causal de Finetti".
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from ._dataset import Dataset
from ._dsep import topological_order
from ._exceptions import ParameterError
from ._graph import as_dag
from ._validation import check_in_range, check_option, check_random_state, check_sample_size

__all__ = ["GROUPED_KINDS", "grouped"]

#: Mechanism families of :func:`grouped`.
GROUPED_KINDS = ("linear", "nonlinear", "binary")


def _group_sizes(group_size, n_groups: int, owner: str) -> np.ndarray:
    """Rows per group: one int >= 2 for all groups or one per group."""
    if isinstance(group_size, numbers.Integral) and not isinstance(group_size, bool):
        check_in_range(group_size, name="group_size", low=2, inclusive="left", integer=True, owner=owner)
        return np.full(n_groups, int(group_size), dtype=np.int64)
    if isinstance(group_size, (Sequence, np.ndarray)) and not isinstance(group_size, str):
        sizes = list(group_size)
        ok = all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 2 for s in sizes)
        if len(sizes) != n_groups or not ok:
            raise ParameterError(
                f"The 'group_size' parameter of {owner} must be an int >= 2 or {n_groups} ints >= 2 (one per group); "
                f"got {group_size!r} instead."
            )
        return np.asarray(sizes, dtype=np.int64)
    raise ParameterError(f"The 'group_size' parameter of {owner} must be an int >= 2 or a list of them; got {group_size!r} instead.")


def _signed(rng: np.random.Generator, size, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, size) * rng.choice([-1.0, 1.0], size)


def _draw_linear(dag: nx.DiGraph, order: list, group: np.ndarray, n_groups: int, rng) -> tuple[dict, dict, list]:
    """Linear-Gaussian mechanisms with a random intercept, random slopes and a random noise scale per group.

    Node hyper-parameters (one draw per node): intercept spread ``tau ~ U(0.5, 2)``,
    typical noise scale ``s ~ U(0.3, 1)`` and, per edge, a mean slope ``w ~ +-U(0.5, 2)``.
    Per group: intercept ``N(0, tau^2)``, slope ``N(w, (0.5 w)^2)``, noise scale
    ``s * exp(N(0, 0.5^2))``. Varying slopes and noise scales (not only intercepts) keep
    the cross-sample tests faithful.
    """
    values, params, prior = {}, {}, []
    n = len(group)
    for node in order:
        parents = sorted(dag.predecessors(node), key=str)
        tau, s = float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.3, 1.0))
        intercept = rng.normal(0.0, tau, n_groups)
        scale = s * np.exp(rng.normal(0.0, 0.5, n_groups))
        x = intercept[group] + scale[group] * rng.standard_normal(n)
        params[(node, "intercept")] = intercept
        params[(node, "scale")] = scale
        prior += [(node, "intercept", "normal", 0.0, tau), (node, "scale", "lognormal", float(np.log(s)), 0.5)]
        for p in parents:
            w = float(_signed(rng, None, 0.5, 2.0))
            slope = rng.normal(w, 0.5 * abs(w), n_groups)
            x = x + slope[group] * values[p]
            params[(node, p)] = slope
            prior.append((node, p, "normal", w, 0.5 * abs(w)))
        values[node] = x
    return values, params, prior


def _draw_nonlinear(dag: nx.DiGraph, order: list, group: np.ndarray, n_groups: int, rng) -> tuple[dict, dict, list]:
    """Laplace noise around a group location, linear plus (in half of the groups) squared parent terms.

    Per group and node: location ``m ~ U(-1, 1)`` and a coin ``q ~ Bernoulli(1/2)``;
    ``X = sum_p w_p P + q sum_p v_p P^2 + E`` with ``E ~ Laplace(m, 1)``, weights
    ``w ~ +-U(0.5, 2)`` and ``v ~ +-U(0.5, 1)`` fixed per edge. Parents enter standardised
    (pooled mean and standard deviation, a fixed affine map per node) so deep graphs stay bounded.
    """
    values, params, prior = {}, {}, []
    for node in order:
        parents = sorted(dag.predecessors(node), key=str)
        location = rng.uniform(-1.0, 1.0, n_groups)
        squared = (rng.random(n_groups) < 0.5).astype(float)
        x = rng.laplace(location[group], 1.0)
        params[(node, "location")] = location
        prior.append((node, "location", "uniform", -1.0, 1.0))
        if parents:
            params[(node, "squared")] = squared
            prior.append((node, "squared", "bernoulli", 0.5, np.nan))
        for p in parents:
            z = values[p]
            z = (z - z.mean()) / (z.std() or 1.0)
            w, v = float(_signed(rng, None, 0.5, 2.0)), float(_signed(rng, None, 0.5, 1.0))
            x = x + w * z + squared[group] * v * z**2
            prior += [(node, p, "fixed", w, np.nan), (node, f"{p}^2", "fixed", v, np.nan)]
        values[node] = x
    return values, params, prior


def _draw_binary(dag: nx.DiGraph, order: list, group: np.ndarray, n_groups: int, rng) -> tuple[dict, dict, list]:
    """``X = B XOR prod(parents)`` with ``B ~ Bernoulli(theta)``, ``theta ~ Beta(1, 3)`` per node and group."""
    values, params, prior = {}, {}, []
    for node in order:
        parents = list(dag.predecessors(node))
        theta = rng.beta(1.0, 3.0, n_groups)
        b = (rng.random(len(group)) < theta[group]).astype(np.int64)
        if parents:
            prod = np.prod(np.column_stack([values[p] for p in parents]), axis=1)
            b = np.bitwise_xor(b, prod)
        values[node] = b
        params[(node, "theta")] = theta
        prior.append((node, "theta", "beta", 1.0, 3.0))
    return values, params, prior


_DRAWERS = {"linear": _draw_linear, "nonlinear": _draw_nonlinear, "binary": _draw_binary}


def grouped(
    graph=None,
    *,
    n_nodes: int = 5,
    expected_degree: float = 2,
    n_groups: int = 200,
    group_size=2,
    kind: str = "linear",
    random_state=None,
) -> Dataset:
    """Grouped data from an ICM generative process: every group draws its own mechanisms.

    For each group ``g`` and node ``j`` the parameters ``theta_jg`` of ``j``'s mechanism
    are drawn from a prior, independently across nodes and groups; the group's rows are
    then i.i.d. given ``theta_g``. Rows of one group are exchangeable, not independent:
    ``theta_jg`` is a latent parent of ``X_j`` in every row of group ``g``, which is what
    :class:`discovery.CausalDeFinetti` exploits to orient every edge.

    - ``"linear"``: linear-Gaussian with a random intercept, random slopes and a random
      noise scale per group (intercept ``N(0, tau_j^2)``, slope ``N(w, (w / 2)^2)`` around
      an edge's mean slope ``w ~ +-U(0.5, 2)``, noise scale ``s_j exp(N(0, 1/4))``).
    - ``"nonlinear"``: Laplace noise around a group location ``U(-1, 1)``; the parents
      enter linearly and, in half of the groups (a coin per node and group), also squared
      (the generator of the paper's continuous experiments, per node).
    - ``"binary"``: ``X_j = B_j XOR prod(parents)`` with ``B_j ~ Bernoulli(theta_jg)``
      and ``theta_jg ~ Beta(1, 3)`` (the paper's binary experiments).

    Parameters
    ----------
    graph : networkx.DiGraph, mapping node -> parents or None
        The true DAG; None draws an Erdős–Rényi one with :func:`random_dag`.
    n_nodes, expected_degree
        Size and mean degree of the drawn DAG (ignored when ``graph`` is given).
    n_groups : int
        Number of groups (>= 2).
    group_size : int or list of int
        Rows per group (>= 2 each), one number or one per group.
    kind : {"linear", "nonlinear", "binary"}
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="grouped"``, ``environment="group"``; ``data`` has the node columns (float,
        or int for ``"binary"``) and an int ``"group"`` column (``0..n_groups-1``), rows
        sorted by group; ``graph`` the true DAG; ``scm`` None; ``metadata["parameters"]``
        the per-group mechanism parameters (a DataFrame indexed by ``group`` with
        ``(node, parameter)`` columns: ``intercept``, ``scale`` and one slope per parent
        for linear; ``location`` and ``squared`` for nonlinear; ``theta`` for binary),
        ``metadata["prior"]`` the priors they were drawn from (one row per
        ``(node, parameter)``: ``distribution``, ``a``, ``b``), ``metadata["kind"]``.

    Raises
    ------
    ParameterError
        Naming the parameter: ``n_groups < 2``, a group size below 2, an unknown ``kind``,
        a node called ``"group"``, more rows than fit in memory.

    Examples
    --------
    >>> from scm.simulate import grouped
    >>> ds = grouped(n_nodes=3, n_groups=4, group_size=3, kind="binary", random_state=0)
    >>> ds.kind, ds.environment, ds.data.shape
    ('grouped', 'group', (12, 4))
    >>> ds.data["group"].value_counts().tolist()
    [3, 3, 3, 3]
    >>> ds.metadata["parameters"].shape
    (4, 3)
    """
    owner = "grouped"
    check_option(kind, GROUPED_KINDS, name="kind", owner=owner)
    check_in_range(n_groups, name="n_groups", low=2, inclusive="left", integer=True, owner=owner)
    rng = check_random_state(random_state)
    if graph is None:
        from ._simulate import random_dag  # here: _simulate imports this module's names for scm.simulate

        check_in_range(n_nodes, name="n_nodes", low=1, inclusive="left", integer=True, owner=owner)
        dag = random_dag(int(n_nodes), expected_degree, random_state=rng)
    else:
        dag = as_dag(graph, name="graph")
    if "group" in dag.nodes:
        raise ParameterError(f"{owner} adds a column 'group'; a node of the graph already has that name")
    if isinstance(group_size, numbers.Integral) and not isinstance(group_size, bool) and group_size >= 2:
        check_sample_size(int(n_groups) * int(group_size), dag.number_of_nodes() + 1, name="n_groups * group_size", owner=owner)
    sizes = _group_sizes(group_size, int(n_groups), owner)
    check_sample_size(int(sizes.sum()), dag.number_of_nodes() + 1, name="n_groups * group_size", owner=owner)
    group = np.repeat(np.arange(int(n_groups), dtype=np.int64), sizes)
    order = topological_order(dag)
    values, params, prior = _DRAWERS[kind](dag, order, group, int(n_groups), rng)
    data = pd.DataFrame({node: values[node] for node in dag.nodes})
    data["group"] = group
    rank = {node: i for i, node in enumerate(dag.nodes)}
    params = dict(sorted(params.items(), key=lambda item: rank[item[0][0]]))  # stable: a node's parameters stay in order
    prior = sorted(prior, key=lambda row: rank[row[0]])
    columns = pd.MultiIndex.from_tuples(list(params), names=["node", "parameter"])
    parameters = pd.DataFrame(np.column_stack(list(params.values())), columns=columns, index=pd.RangeIndex(int(n_groups), name="group"))
    prior_frame = pd.DataFrame(prior, columns=["node", "parameter", "distribution", "a", "b"]).set_index(["node", "parameter"])
    metadata = {"generator": owner, "kind": kind, "parameters": parameters, "prior": prior_frame, "group_sizes": sizes}
    return Dataset(data, graph=dag, name=f"grouped-{kind}", kind="grouped", environment="group", scm=None, metadata=metadata)
