"""Structural causal models: sampling, interventions, counterfactuals, closed forms."""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from ._bootstrap import (
    CounterfactualQuery,
    MeanQuery,
    QuantityQuery,
    answer_query,
    check_alpha,
    check_n_bootstrap,
    check_n_samples,
    require_fitted,
)
from ._dsep import topological_order
from ._exceptions import DataError, GraphChangedError, GraphError, NotInvertibleError, ParameterError, UnknownNodeError
from ._graph import as_dag
from ._mechanisms import Constant, Discrete, Functional, Linear, Mechanism, OutputShapeError, Shifted, shift
from ._noise import Gaussian, Noise, as_noise, is_distribution
from ._validation import (
    as_dataframe,
    check_bool,
    check_in_range,
    check_memory,
    check_nodes,
    check_numeric_frame,
    check_random_state,
    check_sample_size,
)

__all__ = ["SCM"]

logger = logging.getLogger(__name__)


class SCM:
    """A structural causal model: a DAG, one mechanism per node and independent noises.

    Parameters
    ----------
    graph : networkx.DiGraph or mapping node -> parents
        The causal DAG. The model keeps a reference to it and refuses to be used
        if its edges change afterwards (build a new model instead).
    mechanisms : mapping node -> Mechanism
        One mechanism per node (see :mod:`scm` mechanisms).
    noise : mapping node -> noise, optional
        Noise distributions (a scmkit noise, a frozen scipy distribution, or a number:
        the std of Gaussian noise). Missing nodes get the mechanism's default noise
        (Uniform(0, 1) for :class:`Discrete`) or a standard normal.

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import SCM, Linear
    >>> g = nx.DiGraph([("X", "Y")])
    >>> model = SCM(g, {"X": Linear(), "Y": Linear({"X": 2.0})})
    >>> model.sample(3, random_state=0).shape
    (3, 2)
    >>> float(model.interventional_mean({"X": 1.0})["Y"])
    2.0
    >>> obs = model.sample(1, random_state=1)
    >>> cf = model.counterfactual(obs, {"X": obs["X"].iloc[0] + 1})
    >>> round(float(cf["Y"].iloc[0] - obs["Y"].iloc[0]), 10)
    2.0
    """

    def __init__(self, graph, mechanisms: Mapping, noise: Mapping | None = None):
        self._graph = as_dag(graph)
        self._order = topological_order(self._graph)
        self._recipe = None  # set by SCM.fit: what to refit on resamples of the data (the bootstrap)
        missing = [n for n in self._graph.nodes if n not in mechanisms]
        if missing:
            raise UnknownNodeError(f"no mechanism given for node(s) {missing}")
        extra = [n for n in mechanisms if n not in self._graph]
        if extra:
            raise UnknownNodeError(f"mechanism(s) given for node(s) {extra} that are not in the graph")
        noise = dict(noise or {})
        check_nodes(list(noise), self._graph, what="noise node")
        self._parents: dict = {}
        self._mechanisms: dict = {}
        self._noise: dict = {}
        pos = {n: i for i, n in enumerate(self._graph.nodes)}
        for node in self._graph.nodes:
            mech = mechanisms[node]
            if not isinstance(mech, Mechanism):
                raise ParameterError(f"mechanism of node {node!r} must be a scmkit Mechanism; got {type(mech).__name__}")
            graph_parents = sorted(self._graph.predecessors(node), key=pos.__getitem__)
            if mech.parents is None:
                mech = mech.bind(graph_parents)
            elif set(mech.parents) != set(graph_parents) or len(mech.parents) != len(graph_parents):
                raise GraphError(
                    f"mechanism of node {node!r} expects parents {list(mech.parents)} but the graph gives {graph_parents}"
                )
            else:
                mech = mech.bind(mech.parents)
            self._mechanisms[node] = mech
            self._parents[node] = tuple(mech.parents)
            nz = noise.get(node, None)
            if nz is None:
                nz = mech.default_noise() or Gaussian(1.0)
            self._noise[node] = as_noise(nz, name=f"noise of node {node!r}")

    @classmethod
    def _like(cls, template: SCM, mechanisms: dict, noise: dict) -> SCM:
        """A model on ``template``'s graph with new mechanisms and noises, without validating again.

        For the bootstrap's refits: ``mechanisms`` must be bound to the parents in ``template``'s
        order (as :func:`fit_scm` binds them) and ``noise`` be scmkit noises, one per node.
        """
        model = cls.__new__(cls)
        model._graph, model._order, model._parents = template._graph, template._order, template._parents
        model._mechanisms, model._noise, model._recipe = dict(mechanisms), dict(noise), None
        return model

    # ---------------------------------------------------------------- access
    @property
    def graph(self) -> nx.DiGraph:
        """The causal DAG (the object given at construction)."""
        return self._graph

    @property
    def nodes(self) -> list:
        """Nodes in the graph's order."""
        return list(self._graph.nodes)

    @property
    def mechanisms(self) -> dict:
        """``{node: mechanism}`` (a copy of the mapping)."""
        return dict(self._mechanisms)

    @property
    def noise(self) -> dict:
        """``{node: noise distribution}`` (a copy of the mapping)."""
        return dict(self._noise)

    def parents(self, node) -> tuple:
        """The parents of ``node`` in the order its mechanism reads them."""
        check_nodes([node], self._graph)
        return self._parents[node]

    def __repr__(self) -> str:
        return f"SCM(nodes={len(self._order)}, edges={self._graph.number_of_edges()})"

    def _check_graph(self):
        """Refuse use after the graph was edited in place."""
        for node in self._order:
            if node not in self._graph or set(self._graph.predecessors(node)) != set(self._parents[node]):
                raise GraphChangedError(
                    f"the graph of this SCM changed after it was built (parents of {node!r} are now "
                    f"{sorted(map(str, self._graph.predecessors(node))) if node in self._graph else 'gone'}, "
                    f"were {list(self._parents[node])}); build or fit a new SCM"
                )
        if self._graph.number_of_nodes() != len(self._order):
            new = [n for n in self._graph.nodes if n not in self._parents]
            raise GraphChangedError(f"the graph of this SCM changed after it was built (new nodes {new}); build or fit a new SCM")

    # -------------------------------------------------------------- sampling
    def _propagate(self, noise: dict, n: int, fixed: Mapping | None = None) -> dict:
        """Compute every node in topological order from noises; ``fixed`` values are kept."""
        values: dict = {}
        fixed = fixed or {}
        for node in self._order:
            if node in fixed:
                values[node] = fixed[node]
                continue
            pa = self._parents[node]
            P = np.column_stack([values[p] for p in pa]).astype(float) if pa else np.empty((n, 0))
            try:
                # Overflow and NaN are not warned about here: _checked_output refuses them, naming the node.
                with np.errstate(over="ignore", invalid="ignore"):
                    out = self._mechanisms[node](P, noise[node])
            except OutputShapeError as exc:
                raise ParameterError(f"node {node!r}: {exc}") from None
            values[node] = self._checked_output(node, out, n)
        return values

    def _checked_output(self, node, out, n: int) -> np.ndarray:
        """A mechanism's output, checked: one finite value per row (else a ParameterError naming the node)."""
        mech = self._mechanisms[node]
        what = "the intervention function" if isinstance(mech, Functional) and getattr(mech, "_from_do", False) else (
            f"the mechanism ({type(mech).__name__})"
        )
        arr = np.asarray(out)
        if arr.shape != (n,):
            raise ParameterError(
                f"{what} of node {node!r} returned an array of shape {arr.shape}; expected ({n},): one value per row"
            )
        if arr.dtype.kind == "f" or arr.dtype.kind == "c":
            bad = ~np.isfinite(arr)
            if bad.any():
                kind = "NaN" if np.isnan(arr).any() else "inf"
                hint = (
                    " (values beyond the float64 range, about 1.8e308: the weights or noise scales on the way to it "
                    "are too large)"
                    if kind == "inf" else ""
                )
                raise ParameterError(
                    f"{what} of node {node!r} returned {kind} for {int(bad.sum())} of {n} rows "
                    f"(first at row {int(np.flatnonzero(bad)[0])}){hint}"
                )
        return arr

    def sample_noise(self, n: int, random_state=None) -> pd.DataFrame:
        """Draw ``n`` joint noise vectors (columns in node order)."""
        check_sample_size(n, len(self._order), owner="SCM.sample_noise")
        rng = check_random_state(random_state)
        return pd.DataFrame({node: self._noise[node].sample(n, rng) for node in self._graph.nodes})

    def sample(self, n: int, random_state=None) -> pd.DataFrame:
        """Draw ``n`` samples from the model, vectorised over samples.

        Parameters
        ----------
        n : int
            Number of rows (>= 1).
        random_state : None, int or numpy.random.Generator

        Returns
        -------
        pandas.DataFrame
            One column per node, in the graph's node order; discrete nodes hold
            integer state codes.

        Raises
        ------
        ParameterError
            ``n`` is not an int >= 1 or asks for more rows than fit in this machine's memory
            (the size is given); or a mechanism (or an intervention function) returns NaN,
            inf (values beyond the float64 range, e.g. from weights of 1e300 along a path) or
            the wrong number of values, naming the node.
        """
        self._check_graph()
        check_sample_size(n, len(self._order), owner="SCM.sample")
        rng = check_random_state(random_state)
        noise = {node: np.asarray(self._noise[node].sample(n, rng), dtype=float) for node in self._graph.nodes}
        values = self._propagate(noise, n)
        return pd.DataFrame({node: values[node] for node in self._graph.nodes})

    # ---------------------------------------------------------- interventions
    def do(self, interventions: Mapping) -> SCM:
        """A new model under interventions; this model is left untouched.

        Parameters
        ----------
        interventions : mapping node -> intervention
            - a number: hard intervention ``do(X = x)`` (incoming edges cut);
            - a distribution (scmkit noise or frozen scipy): ``X`` drawn independently
              from it (incoming edges cut);
            - ``scm.shift(delta)``: ``X``'s mechanism plus ``delta`` (edges kept);
            - a callable ``f(P)`` of the parents' ``(n, k)`` array: soft/functional
              intervention, ``X = f(parents)`` (edges kept, noise dropped); it must return
              one finite number per row (or a scalar), else sampling raises a
              :class:`ParameterError` naming the node;
            - a :class:`Mechanism`: replaces ``X``'s mechanism (edges kept).

        Returns
        -------
        SCM

        Examples
        --------
        >>> import networkx as nx
        >>> from scm import SCM, Linear, shift
        >>> m = SCM(nx.DiGraph([("X", "Y")]), {"X": Linear(), "Y": Linear({"X": 3.0})})
        >>> float(m.do({"X": shift(1.0)}).interventional_mean()["Y"])
        3.0
        >>> sorted(m.do({"Y": 0.0}).graph.edges), sorted(m.graph.edges)
        ([], [('X', 'Y')])
        """
        self._check_graph()
        if not isinstance(interventions, Mapping):
            raise ParameterError(f"interventions must be a mapping node -> value; got {type(interventions).__name__}")
        check_nodes(list(interventions), self._graph, what="intervened node")
        graph = self._graph.copy()
        mechanisms = dict(self._mechanisms)
        noise = dict(self._noise)
        for node, value in interventions.items():
            kind = _intervention_kind(value, node)
            if kind in ("hard", "random"):
                graph.remove_edges_from([(p, node) for p in list(graph.predecessors(node))])
            if kind == "hard":
                mechanisms[node] = Constant(float(value))
                noise[node] = Gaussian(0.0)
            elif kind == "random":
                mechanisms[node] = Linear()
                noise[node] = as_noise(value, name=f"intervention on {node!r}")
            elif kind == "shift":
                mechanisms[node] = Shifted(self._mechanisms[node], value.delta)
            elif kind == "function":
                f = value
                mechanisms[node] = Functional(lambda P, u, f=f: f(P), parents=self._parents[node])
                mechanisms[node]._from_do = True
                noise[node] = Gaussian(0.0)
            else:  # mechanism
                mechanisms[node] = value
                if value.default_noise() is not None:
                    noise[node] = value.default_noise()
        return SCM(graph, mechanisms, noise)

    # --------------------------------------------------------- counterfactual
    def _observed_values(self, observed, name: str = "observed") -> tuple[pd.DataFrame, np.ndarray]:
        """``observed`` as a DataFrame and its node columns as a float array (checked numeric and finite)."""
        obs = as_dataframe(observed, name=name)
        check_nodes(list(self._graph.nodes), obs.columns, what="node", where=f"the {name} data's columns")
        values = obs[list(self._graph.nodes)]
        bad = [c for c in values.columns if not pd.api.types.is_numeric_dtype(values[c])]
        if bad:
            raise DataError(f"{name} column(s) {bad} must be numeric")
        arr = values.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            col = values.columns[np.where(~np.isfinite(arr).all(axis=0))[0][0]]
            raise DataError(f"{name} column {col!r} holds NaN or inf")
        return obs, arr

    def _check_draws(self, n_samples, n_units: int, owner: str) -> int:
        """``n_samples`` draws per unit: an int >= 1 whose ``n_samples * n_units`` rows of the nodes fit in memory."""
        check_in_range(n_samples, name="n_samples", low=1, inclusive="left", integer=True, owner=owner)
        d = len(self._graph)
        check_memory(float(n_samples) * n_units * max(d, 1), name="n_samples", owner=owner,
                     what=f"{n_samples} draws of each of {n_units} units ({n_samples * n_units} rows of {d} columns)",
                     hint="ask for fewer draws (or pass fewer units at a time)")
        return int(n_samples)

    def abduct(self, observed, *, nodes=None, n_samples: int = 1, random_state=None) -> pd.DataFrame:
        """Abduction: the noise of each observed unit, recovered from its values.

        The first step of a counterfactual (:meth:`counterfactual` is
        ``abduct -> do -> predict``). For an invertible mechanism (linear, additive
        noise, post-nonlinear with an inverse, :class:`Functional` with an inverse)
        the noise is exact: ``mechanism.abduct(parents, value)``. A
        :class:`Discrete` mechanism only pins the noise to an interval (see
        :meth:`Discrete.noise_interval`); one draw of its uniform posterior is
        returned per unit and draw, so the answer is random.

        Parameters
        ----------
        observed : DataFrame
            One row per unit, one numeric column per node (other columns are ignored).
        nodes : iterable of nodes, optional
            The nodes whose noise to recover (default: all). Only their mechanisms
            need be invertible.
        n_samples : int
            Draws per unit (only discrete nodes make draws differ).
        random_state : None, int or numpy.random.Generator
            Draws the noise of discrete nodes.

        Returns
        -------
        DataFrame
            One column per node of ``nodes``, in the graph's node order. With
            ``n_samples == 1`` indexed like ``observed``; else ``n_samples`` blocks of
            the units one after the other, with a MultiIndex ``(unit, draw)``.

        Raises
        ------
        NotInvertibleError
            Naming the nodes whose noise cannot be recovered.
        ParameterError
            If ``n_samples`` is not an int >= 1 or asks for more rows than fit in this
            machine's memory (the size is given).

        See Also
        --------
        predict : the inverse step, noise to values.

        Examples
        --------
        >>> import networkx as nx
        >>> from scm import SCM, Linear
        >>> model = SCM(nx.DiGraph([("X", "Y")]), {"X": Linear(), "Y": Linear({"X": 2.0})})
        >>> obs = pd.DataFrame({"X": [1.0, 0.0], "Y": [2.5, -1.0]})
        >>> model.abduct(obs)
             X    Y
        0  1.0  0.5
        1  0.0 -1.0
        """
        self._check_graph()
        obs, arr = self._observed_values(observed)
        self._check_draws(n_samples, arr.shape[0], "SCM.abduct")
        wanted = set(self._graph.nodes) if nodes is None else set(check_nodes(nodes, self._graph, what="node to abduct"))
        order = [node for node in self._order if node in wanted]
        not_inv = [
            node for node in order
            if not self._mechanisms[node].invertible and not isinstance(self._mechanisms[node], Discrete)
        ]
        if not_inv:
            raise NotInvertibleError(
                f"cannot abduct the noise: the mechanism(s) of {not_inv} are not invertible in their noise "
                "(use linear, additive-noise, or post-nonlinear mechanisms with an inverse, or discrete tables)"
            )
        rng = check_random_state(random_state)
        n, reps = arr.shape[0], n_samples
        tile = {node: np.tile(arr[:, j], reps) for j, node in enumerate(self._graph.nodes)}
        noise = {}
        for node in order:
            mech = self._mechanisms[node]
            pa = self._parents[node]
            P = np.column_stack([tile[p] for p in pa]) if pa else np.empty((n * reps, 0))
            if isinstance(mech, Discrete):
                low, high = mech.noise_interval(P, tile[node])
                noise[node] = rng.uniform(low, high)
            else:
                noise[node] = mech.abduct(P, tile[node])
        if reps == 1:
            index = obs.index
        else:
            index = pd.MultiIndex.from_arrays(
                [np.tile(obs.index.to_numpy(), reps), np.repeat(np.arange(reps), n)], names=["unit", "draw"]
            )
        return pd.DataFrame({node: noise[node] for node in self._graph.nodes if node in wanted}, index=index)

    def predict(self, noise, *, fixed=None) -> pd.DataFrame:
        """Prediction: the values each row of noise produces, computed in topological order.

        The last step of a counterfactual (:meth:`counterfactual` is
        ``abduct -> do -> predict``): given the noise of each unit (from
        :meth:`abduct`, or drawn by :meth:`sample_noise`), every node is computed
        from its parents and its noise. ``predict(sample_noise(n, seed))`` is a
        sample of the model, and ``predict(abduct(observed))`` gives the observed
        rows back (up to rounding) when every mechanism is invertible.

        Parameters
        ----------
        noise : DataFrame
            One row per unit; one column per node that is not in ``fixed`` (other
            columns are ignored).
        fixed : DataFrame or mapping node -> array, optional
            Nodes kept at the given values (one per row of ``noise``) instead of
            computed; their descendants see these values.

        Returns
        -------
        DataFrame
            One column per node, in the graph's node order, indexed like ``noise``.

        Raises
        ------
        UnknownNodeError
            If ``noise`` lacks a column that is needed (named).
        DataError
            If a needed column of ``noise`` is not numeric or holds NaN or inf (named).

        See Also
        --------
        abduct : the inverse step, values to noise.

        Examples
        --------
        >>> import networkx as nx
        >>> from scm import SCM, Linear
        >>> model = SCM(nx.DiGraph([("X", "Y")]), {"X": Linear(), "Y": Linear({"X": 2.0})})
        >>> noise = pd.DataFrame({"X": [1.0, 0.0], "Y": [0.5, -1.0]})
        >>> model.predict(noise)
             X    Y
        0  1.0  2.5
        1  0.0 -1.0
        >>> model.do({"X": 0.0}).predict(noise)  # the counterfactual of these two units under do(X = 0)
             X    Y
        0  0.0  0.5
        1  0.0 -1.0
        """
        self._check_graph()
        frame = as_dataframe(noise, name="noise")
        fixed = {} if fixed is None else fixed
        if not isinstance(fixed, (Mapping, pd.DataFrame)):
            raise ParameterError(f"fixed must be a DataFrame or a mapping node -> values; got {type(fixed).__name__}")
        check_nodes(list(fixed.keys()), self._graph, what="fixed node")
        n = len(frame)
        kept = {}
        for node in fixed.keys():
            kept[node] = np.asarray(fixed[node], dtype=float)
            if kept[node].shape != (n,):
                raise DataError(f"fixed values of {node!r} have shape {kept[node].shape}; the noise has {n} rows")
        needed = [node for node in self._graph.nodes if node not in kept]
        check_nodes(needed, frame.columns, what="node", where="the noise's columns")
        checked = check_numeric_frame(frame[needed], name="noise", min_rows=0) if needed else frame[needed]
        values = self._propagate({node: checked[node].to_numpy(dtype=float) for node in needed}, n, fixed=kept)
        return pd.DataFrame({node: values[node] for node in self._graph.nodes}, index=frame.index)

    def counterfactual(self, observed, interventions: Mapping, *, n_samples: int = 1, random_state=None, n_bootstrap: int = 0,
                       alpha: float = 0.05, progress: bool = False, executor=None):
        """Counterfactuals by abduction, action and prediction.

        For each observed unit: recover its noise from the observed values
        (abduction, :meth:`abduct`), apply ``interventions`` (action, :meth:`do`) and
        recompute the affected nodes with the unit's own noise (prediction,
        :meth:`predict`). Nodes that are neither intervened on nor descendants of an
        intervened node keep their observed values, so their mechanisms need not be
        invertible.

        Invertible mechanisms (linear, additive noise, post-nonlinear with an inverse)
        give exact, deterministic answers. Discrete mechanisms give the posterior of
        their noise given the unit (uniform on the interval of noise values that
        produce the observed state, under the monotone coupling); the answer is then
        random and ``n_samples`` draws per unit are returned.

        Parameters
        ----------
        observed : DataFrame
            One row per unit, one column per node.
        interventions : mapping
            As in :meth:`do`.
        n_samples : int
            Draws per unit when discrete noise posteriors are involved.
        random_state : None, int or Generator
        n_bootstrap : int
            0 (the default): the counterfactuals of this model, as a DataFrame. For a model
            fitted by :meth:`fit`, ``n_bootstrap >= 2`` refits it on as many resamples of its
            data's rows and returns a :class:`QueryResult` with the counterfactual value of
            each unit and node (the mean over its ``n_samples`` draws), its bootstrap standard
            error and percentile interval: the uncertainty that comes from the fitted
            mechanisms (the unit's noise is abducted again by each refit).
        alpha : float
            1 - the interval's level.
        progress : bool
            A tqdm bar over the refits.
        executor : object with ``map``, optional
            Runs each refit as a task (e.g. a :class:`concurrent.futures.ProcessPoolExecutor`);
            linear refits are then not batched. The answers do not depend on it.

        Returns
        -------
        DataFrame or QueryResult
            Indexed like ``observed``; with ``n_samples > 1`` a MultiIndex
            ``(unit, draw)``. With ``n_bootstrap > 0``, a :class:`QueryResult` whose
            ``estimate`` (one row per unit) is this model's counterfactual averaged over draws.

        Raises
        ------
        NotInvertibleError
            Naming the nodes whose noise cannot be recovered.
        ParameterError
            If ``n_samples`` is not an int >= 1 or asks for more rows than fit in this
            machine's memory (the size is given); ``n_bootstrap`` that is 1, negative or not
            an int, or ``n_bootstrap > 0`` on a model that was not fitted to data.
        BootstrapError
            More than a tenth of the refits failed.

        Examples
        --------
        >>> import networkx as nx
        >>> from scm import SCM, Linear
        >>> model = SCM(nx.DiGraph([("X", "Y")]), {"X": Linear(), "Y": Linear({"X": 2.0})})
        >>> obs = pd.DataFrame({"X": [1.0, 0.0], "Y": [2.5, -1.0]})
        >>> model.counterfactual(obs, {"X": 0.0})
             X    Y
        0  0.0  0.5
        1  0.0 -1.0
        >>> noise = model.abduct(obs)  # the same, step by step
        >>> model.do({"X": 0.0}).predict(noise).equals(model.counterfactual(obs, {"X": 0.0}))
        True

        A fitted model's counterfactuals carry the uncertainty of its fit:

        >>> fitted = SCM.fit(model.graph, model.sample(200, random_state=0))
        >>> res = fitted.counterfactual(obs, {"X": 0.0}, n_bootstrap=100, random_state=0)
        >>> res.to_frame().round(2)  # unit 1 already had X = 0: its counterfactual is its observed Y, for any fit
             estimate  std_err  ci_low  ci_high  mc_std_err
        0 X      0.00     0.00    0.00     0.00         0.0
          Y      0.57     0.07    0.45     0.72         0.0
        1 X      0.00     0.00    0.00     0.00         0.0
          Y     -1.00     0.00   -1.00    -1.00         0.0
        """
        owner = "SCM.counterfactual"
        self._check_graph()
        obs = as_dataframe(observed, name="observed")
        check_nodes(list(self._graph.nodes), obs.columns, what="node", where="the observed data's columns")
        check_in_range(n_samples, name="n_samples", low=1, inclusive="left", integer=True, owner=owner)
        n_bootstrap = check_n_bootstrap(n_bootstrap, owner=owner)
        alpha = check_alpha(alpha, owner=owner)
        _check_run_options(progress, executor, owner)
        if n_bootstrap:
            require_fitted(self, owner=owner)
            obs, _ = self._observed_values(obs)
            query = CounterfactualQuery(obs, interventions, n_samples, self.nodes)
            return answer_query(self, query, n_bootstrap=n_bootstrap, alpha=alpha, random_state=random_state,
                                progress=progress, executor=executor, owner=owner)
        frame, _ = self._counterfactual_draws(obs, interventions, n_samples, check_random_state(random_state))
        if n_samples > 1:
            frame = frame.sort_index(level=["unit", "draw"], sort_remaining=False)
        return frame

    def _counterfactual_draws(self, observed, interventions, n_samples: int, rng) -> tuple[pd.DataFrame, bool]:
        """The counterfactual frame, ``n_samples`` blocks of the units one after the other, and whether it is random.

        Random: some recomputed node is discrete, so its noise is drawn from the unit's posterior.
        """
        if not isinstance(interventions, Mapping):
            raise ParameterError(f"interventions must be a mapping node -> value; got {type(interventions).__name__}")
        check_nodes(list(interventions), self._graph, what="intervened node")
        obs, arr = self._observed_values(observed)
        self._check_draws(n_samples, arr.shape[0], "SCM.counterfactual")
        kinds = {node: _intervention_kind(v, node) for node, v in interventions.items()}
        hard = {node for node, k in kinds.items() if k in ("hard", "random")}
        affected = set()
        for node in interventions:
            affected |= nx.descendants(self._graph, node)
        affected |= set(interventions)
        need_noise = [n_ for n_ in self._order if n_ in affected and n_ not in hard]
        not_inv = [
            node for node in need_noise
            if not self._mechanisms[node].invertible and not isinstance(self._mechanisms[node], Discrete)
        ]
        if not_inv:
            raise NotInvertibleError(
                f"cannot compute counterfactuals: the mechanism(s) of {not_inv} are not invertible in their noise "
                "(use linear, additive-noise, or post-nonlinear mechanisms with an inverse, or discrete tables)"
            )
        random = any(isinstance(self._mechanisms[node], Discrete) for node in need_noise)
        # 1. abduction: the noise of the nodes that are recomputed (the others keep their values)
        noise = self.abduct(obs, nodes=need_noise, n_samples=n_samples, random_state=rng)
        for node in self._graph.nodes:
            if node not in noise.columns:
                noise[node] = 0.0  # ignored: a fixed node, or an intervention that discards the noise
        # 2. action
        model = self.do(interventions)
        # 3. prediction, the unaffected nodes kept at their observed values
        fixed = {node: np.tile(arr[:, j], n_samples) for j, node in enumerate(self._graph.nodes) if node not in affected}
        return model.predict(noise, fixed=fixed), random

    # ------------------------------------------------------------ closed form
    def _linear_system(self):
        """Weights ``B`` (B[i, j]: effect of i on j), intercepts, noise means and variances."""
        nodes = list(self._graph.nodes)
        pos = {n: i for i, n in enumerate(nodes)}
        d = len(nodes)
        B = np.zeros((d, d))
        c = np.zeros(d)
        mu = np.zeros(d)
        var = np.zeros(d)
        for node in nodes:
            j = pos[node]
            mech = self._mechanisms[node]
            delta = 0.0
            while isinstance(mech, Shifted):
                delta += mech.delta
                mech = mech.base
            if isinstance(mech, Constant):
                c[j] = mech.value + delta
                continue
            if not isinstance(mech, Linear):
                raise ParameterError(
                    f"closed-form answers need linear mechanisms; node {node!r} has {type(mech).__name__} "
                    "(give n_samples=... to interventional_mean, or use sample(), for a Monte-Carlo answer)"
                )
            for p, w in zip(self._parents[node], mech.weights):
                B[pos[p], j] = w
            c[j] = mech.intercept + delta
            mu[j] = self._noise[node].mean
            var[j] = self._noise[node].var
        return nodes, B, c, mu, var

    def interventional_mean(self, interventions: Mapping | None = None, *, n_samples: int | None = None, n_bootstrap: int = 0,
                            alpha: float = 0.05, random_state=None, progress: bool = False, executor=None):
        """``E[X | do(interventions)]`` of every node: exact for linear SCMs, by simulation otherwise, with an interval for a fitted model.

        Without ``n_samples`` the mean is exact and needs linear mechanisms (any noise with a mean):
        ``X = B^T X + c + e`` gives ``E[X] = (I - B^T)^{-1} (c + E[e])``. With ``n_samples`` it is
        the mean of that many draws of the intervened model (any mechanisms).

        Parameters
        ----------
        interventions : mapping node -> intervention, optional
            As in :meth:`do` (none: the observational mean).
        n_samples : int, optional
            Monte-Carlo draws per answer (at least 2); None (the default) for the closed form.
        n_bootstrap : int
            0 (the default): the means of this model, a Series (as before this option existed).
            For a model fitted by :meth:`fit`, ``n_bootstrap >= 2`` refits it on as many
            resamples of its data's rows (nonparametric bootstrap) and returns a
            :class:`QueryResult`: the means of this model with their standard errors and
            percentile intervals. Linear fits are refitted in batches (closed-form least
            squares); others one at a time. With ``n_samples``, each refit answers with fresh
            draws, so ``std_err`` holds the Monte-Carlo error as well as the fit's (and the
            percentile interval, which that error widens without moving, is conservative when
            it is a large part: the note says so).
        alpha : float
            1 - the interval's level.
        random_state : None, int or Generator
            Seeds the resamples and the draws (one :class:`numpy.random.SeedSequence` per call:
            the same seed gives the same answer).
        progress : bool
            A tqdm bar over the refits.
        executor : object with ``map``, optional
            Runs each refit as a task (e.g. a :class:`concurrent.futures.ProcessPoolExecutor`);
            linear refits are then not batched. The answers do not depend on it.

        Returns
        -------
        Series or QueryResult
            A Series indexed by node when ``n_bootstrap == 0``; else a :class:`QueryResult`
            (``estimate``, ``std_err``, ``ci_low``, ``ci_high`` by node; ``to_frame()``).

        Raises
        ------
        ParameterError
            Non-linear mechanisms without ``n_samples``; ``n_bootstrap`` on a model that was not
            fitted, or without ``n_samples`` on a model whose refits may be non-linear
            (``mechanism="auto"``, a regressor, discrete nodes); bad ``n_bootstrap``, ``alpha``
            or ``n_samples``.
        BootstrapError
            More than a tenth of the refits failed (e.g. a parent constant in small resamples).

        Examples
        --------
        >>> import pandas as pd
        >>> W = pd.DataFrame([[0, 2.0], [0, 0]], index=["X", "Y"], columns=["X", "Y"])
        >>> truth = SCM.from_linear(W, intercepts={"X": 1.0})
        >>> truth.interventional_mean()
        X    1.0
        Y    2.0
        dtype: float64

        Fitted to data, the same question has an answer with an interval:

        >>> fitted = SCM.fit(truth.graph, truth.sample(500, random_state=0))
        >>> res = fitted.interventional_mean({"X": 3.0}, n_bootstrap=200, random_state=0)
        >>> res.to_frame().round(2)
           estimate  std_err  ci_low  ci_high  mc_std_err
        X      3.00      0.0    3.00     3.00         0.0
        Y      5.94      0.1    5.75     6.12         0.0
        """
        owner = "SCM.interventional_mean"
        n_bootstrap = check_n_bootstrap(n_bootstrap, owner=owner)
        alpha = check_alpha(alpha, owner=owner)
        _check_run_options(progress, executor, owner)
        if n_samples is not None:
            check_n_samples(n_samples, len(self._order), owner=owner)
        if n_bootstrap == 0 and n_samples is None:
            return self._closed_form_mean(interventions)
        if n_bootstrap and n_samples is None and not require_fitted(self, owner=owner).is_linear():
            raise ParameterError(
                f"The 'n_samples' parameter of {owner} is needed with n_bootstrap: this model's refits may have non-linear "
                f"mechanisms (it was fitted with mechanism={_spec_repr(self._recipe.mechanism)}"
                f"{' and discrete nodes' if self._recipe.states else ''}), which have no closed-form mean; give "
                "n_samples=... (e.g. 10000) for Monte-Carlo means"
            )
        query = MeanQuery(interventions, self.nodes, n_samples)
        res = answer_query(self, query, n_bootstrap=n_bootstrap, alpha=alpha, random_state=random_state, progress=progress,
                           executor=executor, owner=owner)
        return res if n_bootstrap else res.estimate

    def interventional_quantity(self, interventions: Mapping | None, fn, *, n_samples: int = 10_000, n_bootstrap: int = 0,
                                alpha: float = 0.05, random_state=None, progress: bool = False, executor=None):
        """Any quantity of the interventional distribution, by simulation, with its Monte-Carlo and fit errors.

        ``fn`` is applied to ``n_samples`` draws of the model under ``interventions``: e.g.
        ``P(Y > t | do(X = x))`` is ``lambda s: (s["Y"] > t).mean()`` and the quartiles of ``Y``
        are ``lambda s: s["Y"].quantile([0.25, 0.5, 0.75])``.

        - The Monte-Carlo error of the answer (``mc_std_err``) is estimated by batch means:
          ``fn`` on 20 equal batches of the draws (NaN when ``fn`` fails on a batch).
        - For a model fitted by :meth:`fit`, ``n_bootstrap >= 2`` refits it on resamples of its
          data's rows; each refit answers with ``n_samples`` fresh draws, so the spread of the
          replicates, hence ``std_err``, holds both the fit's error and the Monte-Carlo error
          (which widens the percentile interval without moving it: a conservative interval when
          it is a large part of ``std_err``, as the note says). A fitted model queried with
          ``n_bootstrap=0`` has no interval (NaN, with a note): its estimation error is unknown.
        - For a model that was given rather than fitted, the only error is Monte-Carlo: the
          interval is ``estimate -/+ z * mc_std_err``.

        Parameters
        ----------
        interventions : mapping node -> intervention or None
            As in :meth:`do`; None or ``{}`` for the observational distribution.
        fn : callable
            ``fn(sample) -> number, Series, mapping label -> number or 1-D array``, where
            ``sample`` is a DataFrame of draws (one column per node). It must return the same
            labels for every sample.
        n_samples : int
            Draws per answer (of the model and of each refit; at least 2).
        n_bootstrap : int
            0, or the number of refits (at least 2).
        alpha : float
            1 - the interval's level.
        random_state : None, int or Generator
        progress : bool
            A tqdm bar over the refits.
        executor : object with ``map``, optional
            Runs each refit as a task; with a process pool, ``fn`` must pickle.

        Returns
        -------
        QueryResult
            ``estimate`` and the rest indexed by ``fn``'s labels (``"value"`` for a number).

        Raises
        ------
        ParameterError
            ``fn`` not callable, or returning non-numeric, empty, 2-D or non-finite answers
            (named); bad ``n_samples``, ``n_bootstrap`` or ``alpha``; ``n_bootstrap`` on a model
            that was not fitted.
        BootstrapError
            More than a tenth of the refits failed.

        Examples
        --------
        >>> import networkx as nx
        >>> from scm import SCM, Linear
        >>> truth = SCM(nx.DiGraph([("X", "Y")]), {"X": Linear(), "Y": Linear({"X": 1.0})})
        >>> res = truth.interventional_quantity({"X": 1.0}, lambda s: (s["Y"] > 1.0).mean(), n_samples=20_000, random_state=0)
        >>> round(float(res.estimate["value"]), 2), res.interval  # P(Y > 1 | do(X = 1)) = 1/2
        (0.5, 'Monte-Carlo normal')
        >>> fitted = SCM.fit(truth.graph, truth.sample(300, random_state=1))
        >>> res = fitted.interventional_quantity({"X": 1.0}, lambda s: s["Y"].quantile([0.1, 0.9]), n_samples=2000,
        ...                                      n_bootstrap=100, random_state=0)
        >>> list(res.estimate.index), res.interval
        ([0.1, 0.9], 'percentile bootstrap')
        """
        owner = "SCM.interventional_quantity"
        if not callable(fn):
            raise ParameterError(f"The 'fn' parameter of {owner} must be a function of a sample (a DataFrame); got {fn!r}")
        check_n_samples(n_samples, len(self._order), owner=owner)
        n_bootstrap = check_n_bootstrap(n_bootstrap, owner=owner)
        alpha = check_alpha(alpha, owner=owner)
        _check_run_options(progress, executor, owner)
        if n_bootstrap:
            require_fitted(self, owner=owner)
        if interventions is not None and not isinstance(interventions, Mapping):
            raise ParameterError(f"interventions must be a mapping node -> value or None; got {type(interventions).__name__}")
        query = QuantityQuery(interventions, fn, n_samples, owner)
        return answer_query(self, query, n_bootstrap=n_bootstrap, alpha=alpha, random_state=random_state, progress=progress,
                            executor=executor, owner=owner)

    def _closed_form_mean(self, interventions: Mapping | None) -> pd.Series:
        """The exact interventional means of a linear SCM, by forward substitution."""
        model = self.do(interventions) if interventions else self
        model._check_graph()
        nodes, B, c, mu, _ = model._linear_system()
        # Forward substitution in causal order (I - B^T is triangular there): exact for any weights,
        # where a pivoted solve calls a matrix with weights of 1e300 "singular".
        pos = {n: i for i, n in enumerate(nodes)}
        mean = np.zeros(len(nodes))
        with np.errstate(over="ignore", invalid="ignore"):
            for node in model._order:
                j = pos[node]
                pa = [pos[p] for p in model._parents[node]]
                mean[j] = c[j] + mu[j] + (B[pa, j] @ mean[pa] if pa else 0.0)
                if not np.isfinite(mean[j]):
                    raise ParameterError(
                        f"the interventional mean of node {node!r} is beyond the float64 range (about 1.8e308): the "
                        "weights or intercepts on the way to it are too large"
                    )
        return pd.Series(mean, index=nodes)

    def interventional_cov(self, interventions: Mapping | None = None) -> pd.DataFrame:
        """Exact covariance of X under ``do(interventions)`` for a linear SCM."""
        model = self.do(interventions) if interventions else self
        model._check_graph()
        nodes, B, _, _, var = model._linear_system()
        # L[j, k]: the part of node j that is noise k, in j's units (total effect of k on j times k's std),
        # by forward substitution in causal order; the covariance is L L^T.
        pos = {n: i for i, n in enumerate(nodes)}
        d = len(nodes)
        L = np.zeros((d, d))
        std = np.sqrt(var)
        with np.errstate(over="ignore", invalid="ignore"):
            for node in model._order:
                j = pos[node]
                pa = [pos[p] for p in model._parents[node]]
                L[j] = B[pa, j] @ L[pa] if pa else 0.0
                L[j, j] += std[j]
                if not np.isfinite(L[j]).all():
                    raise ParameterError(
                        f"the spread of node {node!r} is beyond the float64 range (about 1.8e308): the weights or "
                        "noise scales on the way to it are too large"
                    )
            cov = L @ L.T
        if not np.isfinite(cov).all():
            j = int(np.flatnonzero(~np.isfinite(cov).all(axis=1))[0])
            raise ParameterError(
                f"the variance of node {nodes[j]!r} is beyond the float64 range (its standard deviation exceeds "
                "about 1.3e154); rescale the weights or noise scales"
            )
        return pd.DataFrame(cov, index=nodes, columns=nodes)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_linear(cls, weights, noise_std=1.0, intercepts=0.0, *, nodes=None) -> SCM:
        """A linear SCM with Gaussian noise from a weight matrix.

        Parameters
        ----------
        weights : DataFrame or square array
            ``W.loc[i, j]`` is the direct effect of ``i`` on ``j`` (0: no edge).
            An array takes names from ``nodes`` (default ``X0, X1, ...``).
        noise_std : float, sequence, mapping or Series
            Standard deviation of each node's Gaussian noise: one for all nodes, one per node
            (in the order of the weights), or per node by name (missing nodes: 1).
        intercepts : float, sequence, mapping or Series
            Likewise (missing nodes: 0).

        Raises
        ------
        ParameterError
            Weights that are not a square finite matrix or do not form a DAG, or a
            ``noise_std`` / ``intercepts`` of the wrong length or with a non-finite (or,
            for a std, negative) value, naming the parameter and the node.

        Examples
        --------
        >>> import numpy as np
        >>> m = SCM.from_linear(np.array([[0, 1.5], [0, 0]]), nodes=["A", "B"])
        >>> m.mechanisms["B"]
        Linear({'A': 1.5}, intercept=0)
        """
        if isinstance(weights, pd.DataFrame):
            if list(weights.index) != list(weights.columns):
                raise ParameterError("weights must have the same labels, in the same order, on rows and columns")
            names = list(weights.columns)
            try:
                W = weights.to_numpy(dtype=float)
            except (TypeError, ValueError):
                raise ParameterError("weights must hold numbers only") from None
        else:
            try:
                W = np.asarray(weights, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"weights must be a square matrix of numbers; got {weights!r}") from None
            if W.ndim != 2 or W.shape[0] != W.shape[1]:
                raise ParameterError(f"weights must be a square matrix; got shape {W.shape}")
            names = list(nodes) if nodes is not None else [f"X{i}" for i in range(W.shape[0])]
        if len(names) != W.shape[0]:
            raise ParameterError(f"{len(names)} node names for a {W.shape[0]}x{W.shape[0]} weight matrix")
        dup = sorted({str(n) for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError(f"node names must be unique; {dup} appear more than once")
        if not np.isfinite(W).all():
            raise ParameterError("weights must be finite")
        g = nx.DiGraph()
        g.add_nodes_from(names)
        ii, jj = np.nonzero(W)
        g.add_edges_from((names[i], names[j]) for i, j in zip(ii, jj))
        as_dag(g, name="the graph of weights")

        def per_node(value, what):
            default = 1.0 if what == "noise_std" else 0.0
            if isinstance(value, (pd.Series, Mapping)):
                unknown = [k for k in value.keys() if k not in names]
                if unknown:
                    raise UnknownNodeError(f"{what} given for unknown node(s) {unknown}")
                raw = {n: value.get(n, default) for n in names}
            elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
                raw = {n: value for n in names}
            elif isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
                seq = np.asarray(value, dtype=object).ravel()
                if seq.size != len(names):
                    raise ParameterError(
                        f"The {what!r} parameter of SCM.from_linear lists {seq.size} value(s) for {len(names)} nodes "
                        f"{names[:10]}; give one per node, a mapping node -> value, or one number for all"
                    )
                raw = dict(zip(names, seq.tolist()))
            else:
                raise ParameterError(
                    f"The {what!r} parameter of SCM.from_linear must be a number, a sequence of one number per node "
                    f"or a mapping node -> number; got {value!r}"
                )
            out = {}
            for n, v in raw.items():
                if not isinstance(v, numbers.Real) or isinstance(v, (bool, np.bool_)) or not np.isfinite(v) or (
                    what == "noise_std" and v < 0
                ):
                    need = "a finite number >= 0" if what == "noise_std" else "a finite number"
                    raise ParameterError(f"The {what!r} parameter of SCM.from_linear must give node {n!r} {need}; got {v!r}")
                out[n] = float(v)
            return out

        stds = per_node(noise_std, "noise_std")
        ints = per_node(intercepts, "intercepts")
        mechs = {}
        for j, n in enumerate(names):
            pa = [names[i] for i in np.nonzero(W[:, j])[0]]
            mechs[n] = Linear({p: W[names.index(p), j] for p in pa}, intercept=ints[n])
        return cls(g, mechs, {n: Gaussian(stds[n]) for n in names})

    @classmethod
    def fit(cls, graph, data, mechanism="linear", *, noise: str = "empirical", random_state=None, orientation: str = "refuse",
            limit: int = 100):
        """Learn the mechanisms and noises of an SCM on ``graph`` from ``data``.

        See :func:`scm.fit_scm` for the parameters. A CPDAG is refused unless
        ``orientation="all"`` (one model per DAG of its class, returned as an
        :class:`scm.SCMClass` whose queries answer with ranges) or ``"extension"`` (one
        arbitrary DAG of the class, with an :class:`scm.OrientationWarning`). The fitted model
        remembers how it was fitted, so its answers can get bootstrap intervals (``n_bootstrap=``
        of :meth:`interventional_mean`, :meth:`interventional_quantity` and :meth:`counterfactual`).
        """
        from ._fit import fit_scm

        return fit_scm(graph, data, mechanism=mechanism, noise=noise, random_state=random_state, orientation=orientation,
                       limit=limit)


def _intervention_kind(value, node) -> str:
    if isinstance(value, shift):
        return "shift"
    if isinstance(value, Mechanism):
        return "mechanism"
    if isinstance(value, Noise) or is_distribution(value):
        return "random"
    if isinstance(value, (bool, np.bool_)):
        return "hard"
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not np.isfinite(value):
            raise ParameterError(f"intervention on {node!r} must be finite; got {value!r}")
        return "hard"
    if callable(value):
        return "function"
    raise ParameterError(
        f"intervention on {node!r} must be a number, a distribution, scm.shift(delta), a function of the "
        f"parents or a Mechanism; got {value!r}"
    )


def _check_run_options(progress, executor, owner: str) -> None:
    """``progress`` a bool; ``executor`` None or an object with ``map``."""
    check_bool(progress, name="progress", owner=owner)
    if executor is not None and not callable(getattr(executor, "map", None)):
        raise ParameterError(
            f"The 'executor' parameter of {owner} must be None or an object with a map method (e.g. a "
            f"concurrent.futures.ThreadPoolExecutor); got {executor!r} instead."
        )


def _spec_repr(spec) -> str:
    if isinstance(spec, Mapping):
        return "{" + ", ".join(f"{k!r}: {_spec_repr(v)}" for k, v in spec.items()) + "}"
    return repr(spec) if isinstance(spec, str) else type(spec).__name__
