"""Injected faults with ground truth: a window of normal operation, a window with a fault, the root cause.

The test bed of root-cause ranking (:func:`estimators.rank_root_causes`): :func:`inject_fault`
changes one node of a given model (an :class:`scm.SCM` for static data, a
:class:`scm.simulate.VARProcess` for time series) and samples both windows;
:func:`fault_dataset` draws the model first. Both return a :class:`FaultDataset`.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ._exceptions import DataError, ParameterError, UnknownNodeError
from ._lagged import LaggedGraph
from ._scm import SCM
from ._simulate import (
    SCM_KINDS,
    VARProcess,
    _companion_radius,
    _noise_std,
    _random_signed,
    _run_var,
    draw_innovations,
    draw_lagged_structure,
    multi_environment,
    random_dag,
    random_scm,
)
from ._validation import check_in_range, check_option, check_random_state, check_sample_size

__all__ = ["FaultDataset", "inject_fault", "fault_dataset", "FAULTS", "FAULT_DATA_KINDS"]

#: The kinds of injected fault: a shift of the root cause's noise (its mechanism plus a constant),
#: or a new mechanism (new weights on its parents; a new intercept for a node without parents).
FAULTS = ("shift", "mechanism")

#: What the windows hold: independent rows ("static") or a time series ("time_series").
FAULT_DATA_KINDS = ("static", "time_series")


@dataclass(frozen=True, repr=False)
class FaultDataset:
    """A window of normal operation, a window with a fault, and the true root cause.

    Parameters
    ----------
    normal, fault : pandas.DataFrame
        The two windows, with the same columns (one per variable).
    root_cause : hashable
        The variable whose mechanism changed (a column).
    graph : networkx.DiGraph or scm.LaggedGraph
        The true causal graph (a :class:`scm.LaggedGraph` for time series).
    target : hashable, optional
        A variable downstream of the root cause that a user would watch (the alerting
        metric); the root cause itself when it has no descendant.
    kind : {"static", "time_series"}
    fault_type : {"shift", "mechanism"} or None
        What changed; None for real data where it is not recorded.
    name : str
    metadata : dict
        Anything else: the models before and after the fault, the size of the change.

    Raises
    ------
    DataError
        If a window is not a DataFrame or the two windows do not have the same columns.
    UnknownNodeError
        If the root cause or the target is not a column.
    ParameterError
        If ``kind`` or ``fault_type`` is not one of the allowed values.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> w = pd.DataFrame({"A": [0.0, 1.0], "B": [1.0, 2.0]})
    >>> FaultDataset(w, w + 5, "A", nx.DiGraph([("A", "B")]), target="B")
    FaultDataset(name='fault', kind='static', root_cause='A', target='B', normal=2 rows, fault=2 rows)
    """

    normal: pd.DataFrame
    fault: pd.DataFrame
    root_cause: Hashable
    graph: Any = None
    target: Hashable | None = None
    kind: str = "static"
    fault_type: str | None = "shift"
    name: str = "fault"
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        for what in ("normal", "fault"):
            if not isinstance(getattr(self, what), pd.DataFrame):
                raise DataError(f"FaultDataset {what} must be a pandas DataFrame; got {type(getattr(self, what)).__name__}")
        if list(self.normal.columns) != list(self.fault.columns):
            raise DataError(
                f"FaultDataset windows have different columns: normal {list(self.normal.columns)[:10]}, "
                f"fault {list(self.fault.columns)[:10]}"
            )
        check_option(self.kind, FAULT_DATA_KINDS, name="kind", owner="FaultDataset")
        if self.fault_type is not None:
            check_option(self.fault_type, FAULTS, name="fault_type", owner="FaultDataset")
        for what in ("root_cause", "target"):
            value = getattr(self, what)
            if (what == "root_cause" or value is not None) and value not in self.normal.columns:
                raise UnknownNodeError(f"FaultDataset {what} {value!r} is not a column of the windows {list(self.normal.columns)[:10]}")

    @property
    def variables(self) -> list:
        """The variable columns."""
        return list(self.normal.columns)

    def __repr__(self) -> str:
        return (
            f"FaultDataset(name={self.name!r}, kind={self.kind!r}, root_cause={self.root_cause!r}, target={self.target!r}, "
            f"normal={len(self.normal)} rows, fault={len(self.fault)} rows)"
        )


# --------------------------------------------------------------------------- choosing the root cause and target
def _descendants(graph, node) -> set:
    """Variables reachable from ``node``: in the DAG, or through the links of a lagged graph (any lag)."""
    if isinstance(graph, LaggedGraph):
        graph = graph.summary_graph()
    return set(nx.descendants(graph, node)) - {node}


def _choose_root_and_target(graph, nodes: list, root_cause, target, rng, owner: str) -> tuple:
    """The root cause (given, or drawn among the nodes with a descendant) and the target (given, or a random descendant)."""
    if root_cause is None:
        with_desc = [n for n in nodes if _descendants(graph, n)]
        pool = with_desc or nodes
        root_cause = pool[int(rng.integers(len(pool)))]
    elif root_cause not in nodes:
        raise UnknownNodeError(f"The 'root_cause' parameter of {owner}: node {root_cause!r} is not in the model (nodes: {nodes[:10]})")
    if target is None:
        desc = [n for n in nodes if n in _descendants(graph, root_cause)]
        target = desc[int(rng.integers(len(desc)))] if desc else root_cause
    elif target not in nodes:
        raise UnknownNodeError(f"The 'target' parameter of {owner}: node {target!r} is not in the model (nodes: {nodes[:10]})")
    return root_cause, target


def _check_sizes(n_normal, n_fault, n_columns: int, owner: str) -> tuple[int, int]:
    check_in_range(n_normal, name="n_normal", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(n_fault, name="n_fault", low=1, inclusive="left", integer=True, owner=owner)
    check_sample_size(int(n_normal) + int(n_fault), n_columns, name="n_normal", owner=owner)
    return int(n_normal), int(n_fault)


# --------------------------------------------------------------------------- static faults
def _static_fault(model: SCM, root, target, fault, strength, n_normal, n_fault, rng, owner) -> FaultDataset:
    env = multi_environment(model, n_environments=2, n_samples=[n_normal, n_fault], changing=[root], change=fault,
                            strength=strength, random_state=rng)  # fmt: skip
    data = env.data
    cols = model.nodes
    normal = data.loc[data["environment"] == 0, cols].reset_index(drop=True)
    faulty = data.loc[data["environment"] == 1, cols].reset_index(drop=True)
    change = env.metadata["changes"].iloc[0]
    metadata = {
        "generator": owner,
        "scm_normal": model,
        "scm_fault": env.metadata["scms"][1],
        "parameter": float(change["parameter"]),
        "strength": float(strength),
    }
    return FaultDataset(normal, faulty, root, model.graph, target=target, kind="static", fault_type=fault,
                        name=f"fault-static-{fault}", metadata=metadata)  # fmt: skip


# --------------------------------------------------------------------------- time-series faults
def _redraw_incoming(process: VARProcess, root, strength: float, rng) -> tuple[VARProcess, float]:
    """``process`` with new coefficients on every link into ``root`` (kept stable); the intercept shift when there is none.

    Each coefficient of a link into ``root`` (its autoregression included) gets a new value of
    random sign whose distance to the old one is at least ``0.25 * strength`` times the old
    magnitude range; lagged coefficients are then scaled down until the process is stable again.
    Returns the new process and the intercept shift (0 when links were redrawn).
    """
    links = list(process.links)
    into = [k for k, (s, t, *_rest) in enumerate(links) if t == root]
    if not into:
        return process, np.nan
    for k in into:
        s, t, tau, coef, f = links[k]
        magnitude = max(abs(coef), 0.2)
        new = coef
        for _ in range(100):
            new = float(_random_signed(rng, 1, 0.5 * magnitude, 1.5 * magnitude)[0])
            if abs(new - coef) >= 0.25 * strength * magnitude:
                break
        links[k] = (s, t, tau, new, f)
    candidate = dataclasses.replace(process, links=tuple(links))
    pos = {n: i for i, n in enumerate(process.nodes)}
    C = candidate.coefficients
    for _ in range(1000):
        radius = _companion_radius(np.abs(C) if any(f != "linear" for *_r, f in links) else C)
        if radius < process.spectral_radius + 0.05 and radius < 0.98:
            break
        # Scale down only the links into the root cause: the rest of the process is unchanged.
        C[:, pos[root], 1:] *= 0.9
    links = [(s, t, tau, float(C[pos[s], pos[t], tau]) if t == root else c, f) for s, t, tau, c, f in links]
    return dataclasses.replace(candidate, links=tuple(links), spectral_radius=radius), 0.0


def _time_series_fault(process: VARProcess, root, target, fault, strength, n_normal, n_fault, burn_in, rng, owner) -> FaultDataset:
    nodes = list(process.nodes)
    j = nodes.index(root)
    T0 = n_normal + burn_in
    E0 = np.column_stack([np.asarray(nz.sample(T0, rng), dtype=float) for nz in process.noise])
    X0 = _run_var(process, E0, np.zeros((process.max_lag, len(nodes))))
    E1 = np.column_stack([np.asarray(nz.sample(n_fault, rng), dtype=float) for nz in process.noise])
    std = _noise_std(process.noise[j]) or 1.0
    after, delta = process, 0.0
    if fault == "mechanism":
        after, delta = _redraw_incoming(process, root, strength, rng)
    if fault == "shift" or np.isnan(delta):
        # A shift of the innovation; also the "mechanism" change of a series without incoming links (a new intercept).
        delta = float(_random_signed(rng, 1, strength * std, 2 * strength * std)[0])
        E1[:, j] += delta
    X1 = _run_var(after, E1, X0[-process.max_lag :])
    X0 = X0[burn_in:]
    if not (np.isfinite(X0).all() and np.isfinite(X1).all()):  # pragma: no cover - guarded by the stability checks
        raise ParameterError(f"{owner}: the simulated process diverged; lower the strength")
    normal = pd.DataFrame(X0, columns=nodes, index=pd.RangeIndex(n_normal, name="time"))
    faulty = pd.DataFrame(X1, columns=nodes, index=pd.RangeIndex(n_normal, n_normal + n_fault, name="time"))
    metadata = {
        "generator": owner,
        "process_normal": process,
        "process_fault": after,
        "parameter": delta,
        "strength": float(strength),
        "summary_graph": process.summary_graph(),
    }
    return FaultDataset(normal, faulty, root, process.graph, target=target, kind="time_series", fault_type=fault,
                        name=f"fault-time_series-{fault}", metadata=metadata)  # fmt: skip


# --------------------------------------------------------------------------- public entry points
def inject_fault(
    model,
    *,
    root_cause=None,
    fault: str = "shift",
    strength: float = 2.0,
    n_normal: int = 500,
    n_fault: int = 100,
    target=None,
    burn_in: int = 200,
    random_state=None,
) -> FaultDataset:
    """Sample a window of normal operation, then a window in which one node's mechanism has changed.

    - ``"shift"``: the root cause's noise is shifted by ``delta``, ``|delta|`` uniform in
      ``[strength, 2 strength]`` times its noise standard deviation, random sign (for an
      :class:`scm.SCM` as ``model.do({root: shift(delta)})``; for a time series, the
      innovations of the root series from the first faulty time point on).
    - ``"mechanism"``: the root cause gets a new mechanism on the same parents. For an SCM as
      in :func:`scm.simulate.multi_environment` (new weights, moved by at least
      ``strength / 2``; a new intercept for a node without parents); for a time series every
      coefficient of a link into the root series (its autoregression included) is redrawn,
      then scaled down until the process is stable again (a series without links into it
      gets a shifted intercept instead).

    Static windows are independent samples of the two models. A time series runs on: the
    fault window continues the normal one (after ``burn_in`` discarded steps), so the fault
    propagates through the lagged links from its first time point.

    Parameters
    ----------
    model : scm.SCM or scm.simulate.VARProcess
        The normal-operation model; a :class:`scm.simulate.VARProcess` must have its noise
        (:func:`scm.simulate.draw_innovations`).
    root_cause : node, optional
        The node that changes. Default: drawn at random among the nodes with a descendant.
    fault : {"shift", "mechanism"}
    strength : float
        Size of the change (> 0), see above.
    n_normal, n_fault : int
        Rows (time points) of the two windows (>= 1).
    target : node, optional
        The variable a user watches. Default: a random descendant of the root cause (the root
        cause itself when it has none).
    burn_in : int
        Time series only: steps simulated and discarded before the normal window.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    FaultDataset
        ``kind="static"`` (graph: the SCM's DAG) or ``"time_series"`` (graph: the process's
        :class:`scm.LaggedGraph`, time index continuing from ``normal`` to ``fault``);
        ``metadata`` holds the models before and after (``scm_normal`` / ``scm_fault`` or
        ``process_normal`` / ``process_fault``) and ``parameter``, the shift ``delta``
        (NaN for a changed SCM mechanism, 0 for redrawn time-series coefficients).

    Raises
    ------
    ParameterError
        Naming the parameter: a model that is neither an SCM nor a VARProcess with noise, an
        unknown ``fault``, a ``strength`` not > 0, window sizes below 1.
    UnknownNodeError
        If ``root_cause`` or ``target`` is not a node of the model.

    Examples
    --------
    >>> from scm.simulate import inject_fault, random_dag, random_scm
    >>> model = random_scm(random_dag(5, 2, random_state=0), random_state=0)
    >>> ds = inject_fault(model, root_cause="X1", n_normal=300, n_fault=50, random_state=0)
    >>> ds.root_cause, ds.normal.shape, ds.fault.shape
    ('X1', (300, 5), (50, 5))
    >>> bool(abs(ds.fault["X1"].mean() - ds.normal["X1"].mean()) > 1)
    True
    """
    owner = "inject_fault"
    check_option(fault, FAULTS, name="fault", owner=owner)
    check_in_range(strength, name="strength", low=0, owner=owner)
    rng = check_random_state(random_state)
    if isinstance(model, SCM):
        n_normal, n_fault = _check_sizes(n_normal, n_fault, len(model.nodes), owner)
        root, tgt = _choose_root_and_target(model.graph, model.nodes, root_cause, target, rng, owner)
        return _static_fault(model, root, tgt, fault, float(strength), n_normal, n_fault, rng, owner)
    if isinstance(model, VARProcess):
        if model.noise is None:
            raise ParameterError(f"The 'model' parameter of {owner}: the VARProcess has no noise yet; draw it with draw_innovations first")
        n_normal, n_fault = _check_sizes(n_normal, n_fault, len(model.nodes), owner)
        check_in_range(burn_in, name="burn_in", low=0, inclusive="left", integer=True, owner=owner)
        root, tgt = _choose_root_and_target(model.graph, list(model.nodes), root_cause, target, rng, owner)
        return _time_series_fault(model, root, tgt, fault, float(strength), n_normal, n_fault, int(burn_in), rng, owner)
    raise ParameterError(
        f"The 'model' parameter of {owner} must be an scm.SCM or an scm.simulate.VARProcess; got {type(model).__name__} instead."
    )


def fault_dataset(
    kind: str = "static",
    fault: str = "shift",
    *,
    n_nodes: int = 8,
    n_normal: int = 500,
    n_fault: int = 100,
    strength: float = 2.0,
    scm_kind: str = "linear",
    expected_degree: float = 2.0,
    max_lag: int = 2,
    random_state=None,
) -> FaultDataset:
    """Draw a random model and inject a fault into it: one test case of root-cause ranking.

    ``kind="static"``: an Erdős–Rényi DAG (:func:`scm.simulate.random_dag`) with random
    mechanisms (:func:`scm.simulate.random_scm`, ``scm_kind``). ``kind="time_series"``: a
    stable vector autoregression (:func:`scm.simulate.draw_lagged_structure` with
    ``n_nodes`` series, ``max_lag``, lag-0 links allowed, then
    :func:`scm.simulate.draw_innovations`). Then :func:`inject_fault` with a random root
    cause among the nodes with a descendant and a random descendant as the target.

    Parameters
    ----------
    kind : {"static", "time_series"}
    fault : {"shift", "mechanism"}
    n_nodes : int
        Number of variables (>= 2).
    n_normal, n_fault, strength
        As in :func:`inject_fault`.
    scm_kind : {"linear", "mlp", "gp"}
        Mechanisms of the static model.
    expected_degree : float
        Mean degree of the static DAG.
    max_lag : int
        Largest lag of the time series.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    FaultDataset

    Raises
    ------
    ParameterError
        Naming the parameter that is out of range or not an allowed option.

    Examples
    --------
    >>> from scm.simulate import fault_dataset
    >>> ds = fault_dataset("time_series", "mechanism", n_nodes=4, n_normal=200, n_fault=50, random_state=1)
    >>> ds.kind, ds.fault_type, ds.normal.shape, type(ds.graph).__name__
    ('time_series', 'mechanism', (200, 4), 'LaggedGraph')
    """
    owner = "fault_dataset"
    check_option(kind, FAULT_DATA_KINDS, name="kind", owner=owner)
    check_option(fault, FAULTS, name="fault", owner=owner)
    check_option(scm_kind, SCM_KINDS, name="scm_kind", owner=owner)
    check_in_range(n_nodes, name="n_nodes", low=2, inclusive="left", integer=True, owner=owner)
    rng = check_random_state(random_state)
    if kind == "static":
        if not isinstance(expected_degree, numbers.Real) or isinstance(expected_degree, bool):
            raise ParameterError(f"The 'expected_degree' parameter of {owner} must be a number; got {expected_degree!r} instead.")
        dag = random_dag(n_nodes, expected_degree, kind="ER", random_state=rng)
        model = random_scm(dag, kind=scm_kind, random_state=rng)
    else:
        model = draw_innovations(draw_lagged_structure(n_nodes, max_lag, True, random_state=rng), random_state=rng)
    return inject_fault(model, fault=fault, strength=strength, n_normal=n_normal, n_fault=n_fault, random_state=rng)
