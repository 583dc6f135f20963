"""ICP as a graph learner: invariant causal prediction with every variable as the target."""

from __future__ import annotations

import logging
import warnings

import networkx as nx
import pandas as pd

from scm._exceptions import DataError
from scm._validation import check_numeric_frame

from ._icp import ICP, ICPParams

__all__ = ["ICPGraph"]

logger = logging.getLogger(__name__)


class ICPGraph(ICPParams):
    """Invariant causal prediction run for every node: a graph of ICP parents.

    :class:`discovery.ICP` answers a per-target question (which predictors are
    causal parents of ``y``). ``ICPGraph`` asks it of each variable in turn and
    draws ``p -> y`` for every accepted parent ``p``; it is conservative (ICP's
    parents are a subset of the true parents with probability ``1 - alpha``), so
    expect high precision and low recall. Used by :func:`compare` and
    ``scmkit discover --method icp``.

    Parameters
    ----------
    alpha : float, default 0.05
    test : {"approximate", "exact"}, default "approximate"
    max_set_size : int, optional
        As in :class:`discovery.ICP`.

    Attributes
    ----------
    graph_ : networkx.DiGraph
        ``p -> y`` for every ICP parent ``p`` of ``y`` (may contain cycles in theory;
        not in the population limit).
    parents_ : dict
        node -> frozenset of its ICP parents.
    models_ : dict
        node -> the fitted :class:`discovery.ICP`.
    rejected_ : list
        Targets for which ICP rejected every set (no parents drawn); expected for
        variables whose own mechanism changes across environments.

    Examples
    --------
    >>> import scm
    >>> ds = scm.multi_environment(scm.random_dag(4, 1.5, random_state=1), n_environments=3,
    ...                            n_samples=200, changing=2, random_state=1)
    >>> model = ICPGraph().fit(ds.data, environment="environment")
    >>> sorted(model.graph_.nodes) == sorted(ds.variables)
    True
    """

    def fit(self, data, environment="environment") -> ICPGraph:
        """Run ICP with each variable of ``data`` as the target.

        Parameters
        ----------
        data : pandas.DataFrame
            The variables and the environment column.
        environment : str
            Name of the environment column.

        Returns
        -------
        ICPGraph
            ``self``.
        """
        self._validate_params()
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"ICPGraph needs a DataFrame with an environment column; got {type(data).__name__}")
        if environment not in data.columns:
            raise DataError(f"the environment column {environment!r} is not in the data (columns: {list(data.columns)[:10]})")
        variables = [c for c in data.columns if c != environment]
        if len(variables) < 2:
            raise DataError(f"ICPGraph needs at least 2 variables besides the environment column {environment!r}; got {variables}")
        # checked once here, so that an error names the data, not the 'y' or 'X' of the first ICP that meets it
        check_numeric_frame(data[variables], name="data", allow_constant=False)
        graph = nx.DiGraph()
        graph.add_nodes_from(variables)
        self.parents_, self.models_ = {}, {}
        self.rejected_ = []
        for target in variables:
            model = ICP(alpha=self.alpha, test=self.test, max_set_size=self.max_set_size)
            # A rejected model is expected for targets whose own mechanism changes across
            # environments: record it instead of warning once per variable.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="ICP rejected every candidate set", category=UserWarning)
                model.fit(data, y=target, environment=environment)
            if model.model_rejected_:
                self.rejected_.append(target)
                logger.info("ICPGraph: ICP rejected every set for target %r (its mechanism may change)", target)
            self.models_[target] = model
            self.parents_[target] = frozenset(model.parents_)
            graph.add_edges_from((p, target) for p in model.parents_)
        self.graph_ = graph
        return self
