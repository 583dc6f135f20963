"""Simulated data with ground truth.

Every generator takes ``random_state`` (None, an int or a numpy Generator) and is
deterministic given it; each returns its ground truth with the data.

Random graphs and models
------------------------
:func:`random_dag` draws an Erdős–Rényi (``"ER"``) or scale-free (``"SF"``) DAG
with a given mean degree. Its nodes are named ``X0, X1, ...`` in an order that is
*not* the causal order, so an algorithm cannot read the answer off the columns:

>>> import networkx as nx
>>> from scm.simulate import random_dag, random_scm
>>> g = random_dag(6, expected_degree=2, kind="ER", random_state=0)
>>> nx.is_directed_acyclic_graph(g), g.number_of_nodes()
(True, 6)

:func:`random_scm` puts random mechanisms on a DAG: linear, random MLPs, or
functions drawn from a Gaussian process (random Fourier features), with Gaussian,
uniform or Laplace noise. The result is an ordinary :class:`scm.SCM`:

>>> model = random_scm(g, kind="linear", random_state=0)
>>> data = model.sample(2000, random_state=1)
>>> bool(abs(data.cov() - model.interventional_cov()).to_numpy().max() < 0.5)
True

:func:`simulate` does both and samples, returning a :class:`scm.Dataset` that
carries the DAG and the model:

>>> from scm.simulate import simulate
>>> ds = simulate(n_nodes=5, n_samples=300, scm_kind="mlp", random_state=0)
>>> ds.kind, ds.data.shape, ds.scm is not None
('observational', (300, 5), True)

Changing mechanisms
-------------------
:func:`multi_environment` samples several environments in which some mechanisms
change (shift, new mechanism, new noise scale); the truth is in
``changed_nodes`` and ``metadata["changes"]``:

>>> from scm.simulate import multi_environment
>>> env = multi_environment(g, n_environments=3, n_samples=200, changing=1, random_state=0)
>>> env.environment, len(env.changed_nodes), env.data["environment"].nunique()
('environment', 1, 3)

:func:`nonstationary` lets mechanisms drift smoothly with time and returns the
true drifting parameter (``metadata["parameters"]``, indexed by time):

>>> from scm.simulate import nonstationary
>>> drift = nonstationary(g, n_samples=500, changing=2, drift="sine", random_state=0)
>>> drift.environment, drift.metadata["parameters"].shape
('time', (500, 2))

Grouped (exchangeable) data
---------------------------
:func:`grouped` draws, for every group, its own mechanism parameters (independently
per node, from priors) and then i.i.d. rows given them: the independent-causal-mechanism
process of Causal de Finetti. The truth per group is ``metadata["parameters"]``:

>>> from scm.simulate import grouped
>>> gr = grouped(g, n_groups=50, group_size=4, kind="linear", random_state=0)
>>> gr.kind, gr.environment, gr.data["group"].nunique(), gr.metadata["parameters"].shape[0]
('grouped', 'group', 50, 50)

:func:`polya_urn` is the discrete example of Do-Finetti (Guo et al., 2024): one Pólya
urn per node and parent configuration in every group; ``do`` sets a value without drawing,
so the intervened node's urn does not learn from it. Its interventional answers are known
in closed form (``metadata["urns"]`` holds the initial urns, the Beta prior):

>>> from scm.simulate import polya_urn
>>> urn = polya_urn(n_groups=100, group_size=3, balls=(2, 1), random_state=0)
>>> urn.kind, urn.data.shape, urn.metadata["urns"]["Y"].to_dict("list")
('grouped', (300, 3), {'X': [0, 1], 'a': [2.0, 2.0], 'b': [1.0, 1.0]})

Time series
-----------
:func:`time_series` simulates a stable vector autoregression with lagged and
contemporaneous links; the truth is ``metadata["lagged_graph"]`` (a
:class:`scm.LaggedGraph`), ``metadata["links"]`` lists the links with their
coefficients and ``metadata["lag_array"][i, j, tau] == 1`` iff ``X_i(t - tau) -> X_j(t)``:

>>> from scm.simulate import time_series
>>> ts = time_series(n_series=3, n_timepoints=500, max_lag=2, random_state=0)
>>> list(ts.metadata["links"].columns)
['source', 'target', 'lag', 'coefficient', 'function']
>>> bool((ts.metadata["lagged_graph"].to_array() == ts.metadata["lag_array"]).all())
True

It runs three phases, each a function here, on one random stream:
:func:`draw_lagged_structure` (the links, their coefficients and a stable
:class:`VARProcess`), :func:`draw_innovations` (the noise of each series) and
:func:`simulate_var`:

>>> import numpy as np
>>> from scm.simulate import draw_innovations, draw_lagged_structure, simulate_var
>>> rng = np.random.default_rng(0)
>>> process = draw_innovations(draw_lagged_structure(3, max_lag=2, random_state=rng), random_state=rng)
>>> simulate_var(process, 500, random_state=rng).equals(ts.data)
True

Injected faults
---------------
:func:`inject_fault` samples a window of normal operation from a model (an SCM or a
:class:`VARProcess`) and a window in which one node's mechanism changed (a shifted noise or a
new mechanism), returning a :class:`FaultDataset` with the true root cause and a target
downstream of it; :func:`fault_dataset` draws the model too. They are the test bed of
:func:`estimators.rank_root_causes`:

>>> from scm.simulate import fault_dataset
>>> case = fault_dataset("static", "shift", n_nodes=6, random_state=0)
>>> case.normal.shape, case.fault.shape, case.root_cause in case.variables
((500, 6), (100, 6), True)
"""

from ._faults import FAULT_DATA_KINDS, FAULTS, FaultDataset, fault_dataset, inject_fault
from ._grouped import GROUPED_KINDS, grouped
from ._simulate import (
    CHANGES,
    DRIFT_PARAMETERS,
    DRIFTS,
    GRAPH_KINDS,
    NOISE_KINDS,
    SCM_KINDS,
    RandomGPFunction,
    RandomMLP,
    VARProcess,
    draw_innovations,
    draw_lagged_structure,
    multi_environment,
    nonstationary,
    random_dag,
    random_scm,
    simulate,
    simulate_var,
    time_series,
)
from ._urn import polya_urn

__all__ = [
    "random_dag",
    "random_scm",
    "simulate",
    "multi_environment",
    "nonstationary",
    "time_series",
    "grouped",
    "polya_urn",
    "inject_fault",
    "fault_dataset",
    "FaultDataset",
    "FAULTS",
    "FAULT_DATA_KINDS",
    "VARProcess",
    "draw_lagged_structure",
    "draw_innovations",
    "simulate_var",
    "RandomMLP",
    "RandomGPFunction",
    "GRAPH_KINDS",
    "SCM_KINDS",
    "NOISE_KINDS",
    "CHANGES",
    "DRIFTS",
    "DRIFT_PARAMETERS",
    "GROUPED_KINDS",
]
