"""``Dataset``: data together with its ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._exceptions import DataError, UnknownNodeError
from ._validation import check_option

__all__ = ["Dataset"]

#: What sort of data a Dataset holds (the comparison harness matches algorithms to it).
DATASET_KINDS = ("observational", "multi_environment", "nonstationary", "time_series", "discrete", "grouped")


@dataclass(frozen=True, repr=False)
class Dataset:
    """Data with the ground truth that generated it (real or simulated).

    Parameters
    ----------
    data : pandas.DataFrame
        One column per variable (plus, for multi-environment data, the
        ``environment`` column; for nonstationary data the ``time`` column; for
        grouped data the ``group`` column).
    graph : networkx.DiGraph, scm.PDAG or None
        The true causal graph over the variables (None when unknown).
    name : str
    kind : {"observational", "multi_environment", "nonstationary", "time_series", "discrete", "grouped"}
        What sort of data this is; the comparison harness matches algorithms to it.
    environment : str or None
        Name of the column holding the environment / regime / time index.
    changed_nodes : frozenset
        Variables whose mechanisms change across environments or over time.
    scm : SCM or None
        The generating model, when simulated.
    metadata : dict
        Anything else (provenance, lagged truth, parameters of the simulation).

    Raises
    ------
    DataError
        If ``data`` is not a DataFrame.
    ParameterError
        If ``kind`` is not one of the kinds above.
    UnknownNodeError
        If ``environment`` is not a column, or a node of ``graph`` is not a variable column.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> ds = Dataset(pd.DataFrame({"A": [0.0, 1.0]}), nx.DiGraph(), name="toy")
    >>> ds
    Dataset(name='toy', kind='observational', rows=2, variables=['A'])
    """

    data: pd.DataFrame
    graph: Any = None
    name: str = "dataset"
    kind: str = "observational"
    environment: str | None = None
    changed_nodes: frozenset = frozenset()
    scm: Any = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.data, pd.DataFrame):
            raise DataError(f"Dataset data must be a pandas DataFrame; got {type(self.data).__name__}")
        check_option(self.kind, DATASET_KINDS, name="kind", owner="Dataset")
        if self.environment is not None and self.environment not in self.data.columns:
            raise UnknownNodeError(f"Dataset environment column {self.environment!r} is not a column of the data")
        nodes = getattr(self.graph, "nodes", None)
        if nodes is not None:
            missing = [n for n in nodes if n not in self.data.columns or n == self.environment]
            if missing:
                raise UnknownNodeError(
                    f"Dataset graph node(s) {missing[:10]} are not variable columns of the data "
                    f"(columns: {list(self.data.columns)[:10]})"
                )

    @property
    def variables(self) -> list:
        """The variable columns (every column except the environment column)."""
        return [c for c in self.data.columns if c != self.environment]

    @property
    def X(self) -> pd.DataFrame:
        """The data without the environment column."""
        return self.data[self.variables]

    def __repr__(self) -> str:
        vs = self.variables
        shown = vs if len(vs) <= 12 else vs[:12] + ["..."]
        env = f", environment={self.environment!r}" if self.environment else ""
        return f"Dataset(name={self.name!r}, kind={self.kind!r}, rows={len(self.data)}, variables={shown}{env})"
