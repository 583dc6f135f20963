"""The microservice-latency example of DoWhy-GCM: its call graph, its latency process, its published outlier.

DoWhy's root-cause notebook ("Finding the Root Cause of Elevated Latencies in a Microservice
Architecture", py-why/dowhy, MIT licence) simulates the latencies of an online shop of eleven
services: each service's observed latency is its own (intrinsic) latency plus the latencies of
the services it calls, summed for sequential calls and maximised for parallel ones; the caching
service calls the product database on a cache miss (half of the requests). Its appendix gives
the process; :func:`microservice_scm` is that process as an :class:`scm.SCM`, written from the
appendix's description. The notebook's outlier (one request whose website latency is
anomalous, caused by a slow caching service) is shipped unmodified
(``data/dowhy_microservice/``, see ``LICENSES.md``); :func:`microservice_faults` injects a
delay into one service at a time, the test bed of root-cause ranking on this system.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from .._exceptions import ParameterError
from .._faults import FaultDataset
from .._mechanisms import AdditiveNoise, Functional, shift
from .._noise import Noise, ScipyNoise
from .._scm import SCM
from .._validation import check_in_range, check_memory, check_random_state, check_sample_size

__all__ = ["MICROSERVICE_EDGES", "MICROSERVICES", "microservice_graph", "microservice_scm", "load_microservice_anomaly",
           "microservice_faults"]  # fmt: skip

#: The services, roots first (the column order of the notebook's data).
MICROSERVICES = (
    "Product DB", "Customer DB", "Order DB", "Shipping Cost Service", "Caching Service", "Product Service",
    "Auth Service", "Order Service", "API", "www", "Website",
)  # fmt: skip

#: ``callee -> caller``: a caller's latency includes its callees' (the notebook's causal graph).
MICROSERVICE_EDGES = (
    ("www", "Website"), ("Auth Service", "www"), ("API", "www"), ("Customer DB", "Auth Service"), ("Customer DB", "API"),
    ("Product Service", "API"), ("Auth Service", "API"), ("Order Service", "API"), ("Shipping Cost Service", "Product Service"),
    ("Caching Service", "Product Service"), ("Product DB", "Caching Service"), ("Customer DB", "Product Service"),
    ("Order DB", "Order Service"),
)  # fmt: skip

# The intrinsic latency of each service (seconds): scipy's truncexpon(b, scale=0.2) or halfnorm(loc, scale).
_INTRINSIC = {
    "Website": ("truncexpon", 3.0, 0.2), "www": ("truncexpon", 2.0, 0.2), "API": ("halfnorm", 0.5, 0.2),
    "Auth Service": ("halfnorm", 0.1, 0.2), "Product Service": ("halfnorm", 0.1, 0.2), "Order Service": ("halfnorm", 0.5, 0.2),
    "Shipping Cost Service": ("halfnorm", 0.1, 0.2), "Caching Service": ("halfnorm", 0.1, 0.1), "Order DB": ("truncexpon", 5.0, 0.2),
    "Customer DB": ("truncexpon", 6.0, 0.2), "Product DB": ("truncexpon", 10.0, 0.2),
}  # fmt: skip


def _intrinsic(node):
    family, a, scale = _INTRINSIC[node]
    from scipy import stats  # here, not at import: scm.datasets stays light for `scmkit compare --list`

    return stats.truncexpon(b=a, scale=scale) if family == "truncexpon" else stats.halfnorm(loc=a, scale=scale)


class _CacheNoise(Noise):
    """The caching service's noise: its intrinsic latency, negative on a cache miss (probability 1/2).

    One number carries both the hit / miss draw (its sign) and the intrinsic latency (its
    magnitude, which is at least 0.1 s), so the model keeps one noise per node.
    """

    def __init__(self):
        self.dist = _intrinsic("Caching Service")

    def sample(self, n, rng):
        latency = np.asarray(self.dist.rvs(size=n, random_state=rng), dtype=float)
        miss = rng.random(n) < 0.5
        return np.where(miss, -latency, latency)

    @property
    def mean(self):
        return 0.0

    @property
    def var(self):
        return float(self.dist.var() + self.dist.mean() ** 2)


def _cache(P, u):
    return np.where(u < 0, P[:, 0], 0.0) + np.abs(u)


def _product_service(P):
    return P.max(axis=1)


def _total(P):
    return P.sum(axis=1)


def microservice_graph() -> nx.DiGraph:
    """The call graph of DoWhy's microservice example as a causal DAG (``callee -> caller``).

    Examples
    --------
    >>> g = microservice_graph()
    >>> g.number_of_nodes(), g.number_of_edges(), sorted(g.predecessors("www"))
    (11, 13, ['API', 'Auth Service'])
    """
    g = nx.DiGraph()
    g.add_nodes_from(MICROSERVICES)
    g.add_edges_from(MICROSERVICE_EDGES)
    return g


def microservice_scm() -> SCM:
    """The latency process of DoWhy's microservice example as an :class:`scm.SCM`.

    Databases and the shipping-cost service have only their intrinsic latency; the caching
    service adds the product database's latency on a miss; the product service waits for the
    slowest of its three parallel calls (a maximum); every other service adds the latencies of
    the services it calls in sequence to its own. Intrinsic latencies are truncated
    exponential or half-normal (seconds), as in the notebook's appendix.

    Returns
    -------
    scm.SCM
        Additive-noise mechanisms (invertible) everywhere but the caching service.

    Examples
    --------
    >>> model = microservice_scm()
    >>> data = model.sample(2000, random_state=0)
    >>> bool((data["Website"] >= data["www"]).all()), round(float(data["Website"].mean()), 1)
    (True, 3.6)
    """
    g = microservice_graph()
    mechanisms, noise = {}, {}
    for node in MICROSERVICES:
        parents = [p for p in MICROSERVICES if g.has_edge(p, node)]
        if node == "Caching Service":
            mechanisms[node] = Functional(_cache, parents=parents)
            noise[node] = _CacheNoise()
            continue
        f = _product_service if node == "Product Service" else _total
        mechanisms[node] = AdditiveNoise(f, parents=parents) if parents else AdditiveNoise(lambda P: np.zeros(P.shape[0]), parents=[])
        noise[node] = ScipyNoise(_intrinsic(node))
    return SCM(g, mechanisms, noise)


def load_microservice_anomaly() -> pd.DataFrame:
    """The outlier of DoWhy's microservice notebook: one request with an anomalous website latency.

    Its root cause, per the notebook, is the caching service, whose intrinsic latency was
    raised by 2 s for this request. The file is shipped unmodified (MIT licence, see
    ``LICENSES.md``).

    Returns
    -------
    pandas.DataFrame
        One row, one column per service (:data:`MICROSERVICES`).

    Examples
    --------
    >>> row = load_microservice_anomaly()
    >>> row.shape, round(float(row["Caching Service"].iloc[0]), 2)
    ((1, 11), 2.13)
    """
    from ._loaders import _open

    with _open("dowhy_microservice", "rca_microservice_architecture_anomaly.csv") as fh:
        return pd.read_csv(fh)


def microservice_faults(
    n_cases: int = 100, *, n_normal: int = 1000, n_fault: int = 10, delay=(1.0, 3.0), target: str = "Website", random_state=None
) -> list[FaultDataset]:
    """Root-cause cases on DoWhy's microservice example: one service at a time gets slower.

    Each case draws a service uniformly among the ancestors of ``target``, a delay uniform in
    ``delay`` (seconds) added to its intrinsic latency (as the notebook's outlier adds 2 s to
    the caching service), and samples ``n_normal`` requests of normal operation and
    ``n_fault`` requests with the delay from :func:`microservice_scm`.

    Parameters
    ----------
    n_cases : int
        Number of cases (>= 1).
    n_normal, n_fault : int
        Requests in the normal and faulty windows (>= 1).
    delay : (low, high)
        Range of the added latency, in seconds (0 < low <= high).
    target : str
        The service whose latency alerts (default the website); root causes are drawn among its ancestors.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    list of FaultDataset
        ``kind="static"``, ``fault_type="shift"``; ``metadata["delay"]`` the delay in seconds.

    Raises
    ------
    ParameterError
        Naming the parameter out of range (or asking for more cases than fit in memory), or a
        target with no ancestor.

    Examples
    --------
    >>> cases = microservice_faults(3, n_normal=200, random_state=0)
    >>> [c.target for c in cases], cases[0].fault.shape
    (['Website', 'Website', 'Website'], (10, 11))
    """
    owner = "microservice_faults"
    check_in_range(n_cases, name="n_cases", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(n_normal, name="n_normal", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(n_fault, name="n_fault", low=1, inclusive="left", integer=True, owner=owner)
    check_sample_size(int(n_normal) + int(n_fault), len(MICROSERVICES), name="n_normal", owner=owner)
    check_memory(float(n_cases) * (int(n_normal) + int(n_fault)) * len(MICROSERVICES), name="n_cases", owner=owner, copies=1,
                 what=f"{n_cases} cases of {int(n_normal) + int(n_fault)} rows", hint="draw fewer cases at a time")  # fmt: skip
    try:
        low, high = (float(v) for v in delay)
    except (TypeError, ValueError):
        raise ParameterError(f"The 'delay' parameter of {owner} must be a pair (low, high) of seconds; got {delay!r} instead.") from None
    if not (0 < low <= high < np.inf):
        raise ParameterError(f"The 'delay' parameter of {owner} must satisfy 0 < low <= high; got {delay!r} instead.")
    model = microservice_scm()
    if target not in MICROSERVICES:
        raise ParameterError(f"The 'target' parameter of {owner} must be one of {list(MICROSERVICES)}; got {target!r} instead.")
    candidates = [n for n in MICROSERVICES if n in nx.ancestors(model.graph, target)]
    if not candidates:
        raise ParameterError(f"The 'target' parameter of {owner}: {target!r} has no ancestors, so no service upstream can be slowed.")
    rng = check_random_state(random_state)
    cases = []
    for k in range(int(n_cases)):
        root = candidates[int(rng.integers(len(candidates)))]
        seconds = float(rng.uniform(low, high))
        normal = model.sample(int(n_normal), random_state=rng)
        faulty = model.do({root: shift(seconds)}).sample(int(n_fault), random_state=rng)
        cases.append(FaultDataset(normal, faulty, root, model.graph, target=target, kind="static", fault_type="shift",
                                  name=f"microservice-{k}", metadata={"delay": seconds, "generator": owner}))  # fmt: skip
    return cases
