"""Structural causal models over a Markov equivalence class: one fitted model per DAG, answers as ranges."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from ._exceptions import GraphError, ParameterError
from ._graph import PDAG
from ._scm import SCM
from ._validation import check_in_range, check_random_state, check_sample_size

__all__ = ["SCMClass"]

logger = logging.getLogger(__name__)


class SCMClass:
    """Structural causal models fitted on every DAG of a Markov equivalence class.

    A CPDAG stands for several DAGs that fit observational data equally well but answer
    interventional questions differently (in one an undirected neighbour of the treatment is a
    confounder, in another a mediator). ``SCM.fit(cpdag, data, orientation="all")`` fits one
    model per DAG of the class; the queries here ask every model and return each answer, so
    that what the data leave open stays visible instead of being decided by an arbitrary
    orientation.

    Parameters
    ----------
    models : sequence of SCM
        The members, one per DAG, over the same nodes.
    pdag : PDAG, optional
        The graph whose class they stand for.

    Attributes
    ----------
    models : list of SCM
    graphs : list of networkx.DiGraph
        The DAG of each member, in the same order (member ``i`` is column ``dag_i`` of
        :meth:`interventional_mean` and level ``dag = i`` of :meth:`sample`).
    pdag : PDAG or None

    Examples
    --------
    ``x - y`` with data from ``x -> y``: the class holds ``x -> y`` and ``y -> x``, and only the
    first moves ``y`` when ``x`` is set.

    >>> import pandas as pd
    >>> from scm import SCM, PDAG
    >>> truth = SCM.from_linear(pd.DataFrame([[0, 2.0], [0, 0]], index=["x", "y"], columns=["x", "y"]))
    >>> data = truth.sample(5000, random_state=0)
    >>> models = SCM.fit(PDAG(["x", "y"], undirected=[("x", "y")]), data, orientation="all")
    >>> models
    SCMClass(2 DAGs over 2 nodes)
    >>> models.interventional_mean({"x": 1.0}).round(1)
       min  max  dag_0  dag_1
    x  1.0  1.0    1.0    1.0
    y  0.0  2.0    2.0    0.0
    >>> [sorted(g.edges) for g in models.graphs]
    [[('x', 'y')], [('y', 'x')]]
    """

    def __init__(self, models, *, pdag: PDAG | None = None):
        if isinstance(models, SCM) or isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
            raise ParameterError(f"models must be a sequence of SCMs; got {type(models).__name__}")
        models = list(models)
        if not models:
            raise ParameterError("an SCMClass needs at least one model")
        bad = [type(m).__name__ for m in models if not isinstance(m, SCM)]
        if bad:
            raise ParameterError(f"every member of an SCMClass must be an scm.SCM; got {bad[0]}")
        nodes = set(models[0].nodes)
        for i, m in enumerate(models[1:], 1):
            if set(m.nodes) != nodes:
                raise GraphError(f"model {i} has nodes {sorted(map(str, m.nodes))[:10]}, model 0 {sorted(map(str, nodes))[:10]}: "
                                 "the members of a class share their nodes")
        if pdag is not None and not isinstance(pdag, PDAG):
            raise ParameterError(f"pdag must be an scm.PDAG; got {type(pdag).__name__}")
        self._models = models
        self._pdag = pdag

    # ---------------------------------------------------------------- access
    @property
    def models(self) -> list:
        """The fitted models, one per DAG (a copy of the list)."""
        return list(self._models)

    @property
    def graphs(self) -> list:
        """The DAG of each model, in the members' order."""
        return [m.graph for m in self._models]

    @property
    def pdag(self) -> PDAG | None:
        """The graph whose class the members stand for (None if not given)."""
        return self._pdag

    @property
    def nodes(self) -> list:
        """The nodes, in the first member's order."""
        return self._models[0].nodes

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self):
        return iter(self._models)

    def __getitem__(self, i) -> SCM:
        return self._models[i]

    def __repr__(self) -> str:
        return f"SCMClass({len(self._models)} DAG{'s' if len(self._models) != 1 else ''} over {len(self.nodes)} nodes)"

    # --------------------------------------------------------------- queries
    def interventional_mean(self, interventions: Mapping | None = None, **kwargs) -> pd.DataFrame:
        """``E[X | do(interventions)]`` in every member, and its range over the class.

        Parameters
        ----------
        interventions : mapping node -> intervention, optional
            As in :meth:`SCM.do`.
        **kwargs
            Passed to each member's :meth:`SCM.interventional_mean`.

        Returns
        -------
        DataFrame
            One row per node; columns ``min`` and ``max`` (the range over the class), then
            ``dag_0``, ``dag_1``, ... (each member's answer, in the order of :attr:`graphs`).

        Raises
        ------
        ParameterError
            As :meth:`SCM.interventional_mean` (e.g. a member with non-linear mechanisms,
            which has no closed form: sample under :meth:`do` instead).
        """
        if kwargs.get("n_bootstrap", 0):
            raise ParameterError(
                "The 'n_bootstrap' parameter of SCMClass.interventional_mean is not taken: the class answers with the range "
                "of its members' means; for a member's bootstrap interval ask the member, e.g. "
                "models[0].interventional_mean(interventions, n_bootstrap=200)"
            )
        per = pd.concat({f"dag_{i}": m.interventional_mean(interventions, **kwargs) for i, m in enumerate(self._models)}, axis=1)
        return pd.concat([per.min(axis=1).rename("min"), per.max(axis=1).rename("max"), per], axis=1)

    def do(self, interventions: Mapping) -> SCMClass:
        """Every member under ``interventions`` (:meth:`SCM.do`); this class is left untouched."""
        return SCMClass([m.do(interventions) for m in self._models], pdag=self._pdag)

    def sample(self, n: int, random_state=None) -> pd.DataFrame:
        """``n`` rows from every member.

        Returns
        -------
        DataFrame
            The members' samples one after the other, indexed by ``(dag, row)``: member ``i``'s
            rows under ``dag = i``. Per-member summaries and their range, e.g.
            ``s.groupby(level="dag").mean().agg(["min", "max"])``.

        Examples
        --------
        >>> import pandas as pd
        >>> from scm import SCM, PDAG
        >>> truth = SCM.from_linear(pd.DataFrame([[0, 2.0], [0, 0]], index=["x", "y"], columns=["x", "y"]))
        >>> models = SCM.fit(PDAG(["x", "y"], undirected=[("x", "y")]), truth.sample(5000, random_state=0), orientation="all")
        >>> s = models.do({"x": 1.0}).sample(4000, random_state=1)
        >>> s.groupby(level="dag").mean().round(1)
               x    y
        dag
        0    1.0  2.0
        1    1.0  0.0
        """
        rng = check_random_state(random_state)
        frames = {i: m.sample(n, random_state=rng) for i, m in enumerate(self._models)}
        return pd.concat(frames, names=["dag", "row"])

    def counterfactual(self, observed, interventions: Mapping, *, n_samples: int = 1, random_state=None) -> pd.DataFrame:
        """The counterfactual of each observed unit in every member (:meth:`SCM.counterfactual`).

        Returns
        -------
        DataFrame
            The members' answers one after the other, with an outer index level ``dag``
            (member ``i`` under ``dag = i``) in front of ``observed``'s index. Their range per
            unit: ``cf.groupby(level=1).agg(["min", "max"])``.
        """
        # the size is checked here, once, rather than by the first member after the class has started
        check_in_range(n_samples, name="n_samples", low=1, inclusive="left", integer=True, owner="SCMClass.counterfactual")
        units = len(observed) if hasattr(observed, "__len__") else 1
        check_sample_size(max(units, 1) * n_samples, len(self.nodes), name="n_samples", owner="SCMClass.counterfactual")
        rng = check_random_state(random_state)
        frames = {i: m.counterfactual(observed, interventions, n_samples=n_samples, random_state=rng)
                  for i, m in enumerate(self._models)}
        return pd.concat(frames, names=["dag"])
