"""scm: graphs and structural causal models.

The core of scmkit: DAGs (plain :class:`networkx.DiGraph`) and partially directed
graphs (:class:`PDAG`), d-separation and Markov equivalence, structural causal
models with interventions and counterfactuals, simulators with ground truth and
real datasets. This package depends on no other part of scmkit.
"""

from . import datasets, simulate  # the modules: scm.simulate.simulate(...), scm.datasets.sachs(...)
from ._bootstrap import QueryResult
from ._cpdag import consistent_extension, cpdag, meek_rules, skeleton_pdag, v_structures
from ._dataset import Dataset
from ._dsep import ancestors, d_separated, descendants, markov_blanket, topological_order
from ._enumerate import dags_in_class
from ._exceptions import (
    BootstrapError,
    ConvergenceError,
    CycleError,
    DataError,
    GraphChangedError,
    GraphError,
    NotFittedError,
    NotInvertibleError,
    OrientationWarning,
    ParameterError,
    ScmkitError,
    UnknownNodeError,
)
from ._faults import FaultDataset
from ._fit import AUTO_CANDIDATES, ORIENTATIONS, check_fit_data, choose_mechanisms, fit_mechanism, fit_noise, fit_scm
from ._graph import EDGE_KINDS, PDAG, adjacency_to_dag, as_dag, check_dag, dag_to_adjacency
from ._grouped import grouped
from ._lagged import LAGGED_EDGE_KINDS, LaggedGraph
from ._mechanisms import (
    AdditiveNoise,
    Constant,
    Discrete,
    Functional,
    Linear,
    Mechanism,
    PostNonlinear,
    Shifted,
    shift,
)
from ._noise import Empirical, Gaussian, Laplace, Noise, ScipyNoise, Uniform, as_noise
from ._scm import SCM
from ._scmclass import SCMClass
from ._simulate import multi_environment, nonstationary, random_dag, random_scm, time_series
from ._urn import polya_urn

__all__ = [
    # graphs
    "EDGE_KINDS",
    "PDAG",
    "check_dag",
    "as_dag",
    "adjacency_to_dag",
    "dag_to_adjacency",
    "d_separated",
    "topological_order",
    "ancestors",
    "descendants",
    "markov_blanket",
    "cpdag",
    "v_structures",
    "skeleton_pdag",
    "meek_rules",
    "consistent_extension",
    "dags_in_class",
    "LaggedGraph",
    "LAGGED_EDGE_KINDS",
    # errors
    "ScmkitError",
    "DataError",
    "ParameterError",
    "UnknownNodeError",
    "GraphError",
    "CycleError",
    "NotInvertibleError",
    "GraphChangedError",
    "NotFittedError",
    "ConvergenceError",
    "BootstrapError",
    "OrientationWarning",
    # models
    "SCM",
    "SCMClass",
    "QueryResult",
    "fit_scm",
    "check_fit_data",
    "choose_mechanisms",
    "fit_mechanism",
    "fit_noise",
    "AUTO_CANDIDATES",
    "ORIENTATIONS",
    "Mechanism",
    "Linear",
    "AdditiveNoise",
    "PostNonlinear",
    "Discrete",
    "Functional",
    "Constant",
    "Shifted",
    "shift",
    "Noise",
    "Gaussian",
    "Uniform",
    "Laplace",
    "Empirical",
    "ScipyNoise",
    "as_noise",
    # data
    "Dataset",
    "FaultDataset",
    "simulate",
    "random_dag",
    "random_scm",
    "multi_environment",
    "nonstationary",
    "grouped",
    "polya_urn",
    "time_series",
    "datasets",
]
