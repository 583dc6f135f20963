"""Simulators with ground truth: random DAGs, random SCMs, multi-environment,
nonstationary and time-series data.

Every generator takes ``random_state`` (None, an int or a numpy Generator), draws
all of its randomness from the one Generator made of it (so a seed fixes the
result), and returns its ground truth with the data.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from ._dataset import Dataset
from ._dsep import topological_order
from ._exceptions import ParameterError
from ._graph import as_dag
from ._lagged import LaggedGraph
from ._mechanisms import AdditiveNoise, Discrete, Linear, Mechanism, Shifted
from ._noise import Gaussian, Laplace, Noise, Uniform, as_noise, is_distribution
from ._scm import SCM
from ._validation import (
    check_bool,
    check_in_range,
    check_memory,
    check_nodes,
    check_option,
    check_random_state,
    check_sample_size,
)

__all__ = [
    "GRAPH_KINDS",
    "SCM_KINDS",
    "NOISE_KINDS",
    "CHANGES",
    "DRIFTS",
    "DRIFT_PARAMETERS",
    "RandomMLP",
    "RandomGPFunction",
    "random_dag",
    "random_scm",
    "simulate",
    "multi_environment",
    "nonstationary",
    "time_series",
    "VARProcess",
    "draw_lagged_structure",
    "draw_innovations",
    "simulate_var",
]

logger = logging.getLogger(__name__)

#: Random graph models of :func:`random_dag`.
GRAPH_KINDS = ("ER", "SF")
#: Mechanism families of :func:`random_scm`.
SCM_KINDS = ("linear", "mlp", "gp")
#: Noise families by name (``noise_scale`` is their standard deviation).
NOISE_KINDS = ("gaussian", "uniform", "laplace")
#: How mechanisms change across environments in :func:`multi_environment`.
CHANGES = ("shift", "mechanism", "noise", "mixed")
#: Shapes of the drift over time in :func:`nonstationary`.
DRIFTS = ("sine", "random_walk", "linear")
#: Which parameter of a mechanism drifts in :func:`nonstationary`.
DRIFT_PARAMETERS = ("intercept", "coefficient", "noise")

_ACTIVATIONS = ("tanh", "sigmoid")
_TS_FUNCTIONS = ("linear", "tanh", "sin", "relu")


# --------------------------------------------------------------------------- validation helpers
def _check_interval(value, *, name: str, owner: str, positive: bool = False) -> tuple[float, float]:
    """A number or a ``(low, high)`` pair with ``0 <= low <= high`` (``0 < low`` if positive)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        pair = tuple(value)
    else:
        raise ParameterError(f"The {name!r} parameter of {owner} must be a number or a (low, high) pair; got {value!r} instead.")
    ok = all(isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) for v in pair)
    lo_ok = ok and (pair[0] > 0 if positive else pair[0] >= 0)
    if not (ok and lo_ok and pair[0] <= pair[1]):
        bound = "0 < low <= high" if positive else "0 <= low <= high"
        raise ParameterError(f"The {name!r} parameter of {owner} must satisfy {bound} (finite); got {value!r} instead.")
    return float(pair[0]), float(pair[1])


def _check_prefix(prefix) -> str:
    if not isinstance(prefix, str):
        raise ParameterError(f"The 'prefix' parameter must be a str; got {prefix!r} instead.")
    return prefix


def _check_noise_spec(noise, owner: str):
    if isinstance(noise, str):
        return check_option(noise, NOISE_KINDS, name="noise", owner=owner)
    if is_distribution(noise):
        return as_noise(noise)
    raise ParameterError(
        f"The 'noise' parameter of {owner} must be one of {list(NOISE_KINDS)}, a scmkit noise or a frozen "
        f"scipy.stats distribution; got {noise!r} instead."
    )


def _make_noise(spec, std: float) -> Noise:
    """A noise of family ``spec`` with standard deviation ``std`` (a Noise instance is used as is)."""
    if isinstance(spec, Noise):
        return spec
    if spec == "gaussian":
        return Gaussian(std)
    if spec == "uniform":
        half = std * np.sqrt(3.0)
        return Uniform(-half, half)
    return Laplace(std / np.sqrt(2.0))


def _noise_std(noise: Noise) -> float:
    return float(np.sqrt(max(noise.var, 0.0)))


class _ScaledNoise(Noise):
    """``mean + factor * (base - mean)``: a noise with its spread scaled by ``factor``."""

    def __init__(self, base: Noise, factor: float):
        self.base, self.factor = base, float(factor)

    def sample(self, n, rng):
        m = self.base.mean
        return m + self.factor * (np.asarray(self.base.sample(n, rng), dtype=float) - m)

    @property
    def mean(self):
        return self.base.mean

    @property
    def var(self):
        return self.factor**2 * self.base.var


def _rescaled_noise(noise: Noise, factor: float) -> Noise:
    """The same family of noise with its standard deviation multiplied by ``factor``."""
    if isinstance(noise, Gaussian):
        return Gaussian(noise.std * factor, noise.loc)
    if isinstance(noise, Uniform):
        mid, half = noise.mean, 0.5 * (noise.high - noise.low) * factor
        return Uniform(mid - half, mid + half)
    if isinstance(noise, Laplace):
        return Laplace(noise.scale * factor, noise.loc)
    return _ScaledNoise(noise, factor)


def _random_signed(rng: np.random.Generator, size, low: float, high: float) -> np.ndarray:
    """Uniform magnitudes in ``[low, high]`` with random signs."""
    return rng.choice([-1.0, 1.0], size=size) * rng.uniform(low, high, size=size)


# --------------------------------------------------------------------------- random functions
def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class RandomMLP:
    """A one-hidden-layer network ``f(P) = act(P @ W1 + b1) @ w2``.

    It is a plain, picklable callable: ``f(P)`` maps an ``(n, k)`` array to
    ``(n,)``, so it can be evaluated on new points and used inside
    :class:`scm.AdditiveNoise`.

    Parameters
    ----------
    W1 : array of shape (k, hidden_units)
    b1 : array of shape (hidden_units,)
    w2 : array of shape (hidden_units,)
    activation : {"tanh", "sigmoid"}

    Examples
    --------
    >>> import numpy as np
    >>> f = RandomMLP.random(2, hidden_units=5, random_state=0)
    >>> f(np.zeros((3, 2))).shape
    (3,)
    """

    def __init__(self, W1, b1, w2, activation: str = "tanh"):
        self.W1 = np.asarray(W1, dtype=float)
        self.b1 = np.asarray(b1, dtype=float).ravel()
        self.w2 = np.asarray(w2, dtype=float).ravel()
        if self.W1.ndim != 2 or self.W1.shape[1] != self.b1.size or self.b1.size != self.w2.size:
            raise ParameterError(
                f"RandomMLP needs W1 of shape (k, h), b1 and w2 of shape (h,); got {self.W1.shape}, "
                f"{self.b1.shape}, {self.w2.shape}"
            )
        self.activation = check_option(activation, _ACTIVATIONS, name="activation", owner="RandomMLP")
        self.__name__ = f"mlp_{activation}"

    @classmethod
    def random(
        cls, n_inputs: int, *, hidden_units: int = 10, weight_range=(0.5, 2.0), activation: str | None = None, random_state=None
    ) -> RandomMLP:
        """Draw a network: weights uniform in ``±weight_range``, biases in ``[-2, 2]``.

        The output weights are then scaled by ``2 / sqrt(hidden_units)`` so that
        the output scale does not grow with the width (with the defaults of
        :func:`random_scm` the median ratio of signal to noise variance is about 1). ``activation=None`` picks tanh or
        sigmoid at random.
        """
        check_in_range(n_inputs, name="n_inputs", low=1, inclusive="left", integer=True, owner="RandomMLP.random")
        check_in_range(hidden_units, name="hidden_units", low=1, inclusive="left", integer=True, owner="RandomMLP.random")
        lo, hi = _check_interval(weight_range, name="weight_range", owner="RandomMLP.random")
        rng = check_random_state(random_state)
        if activation is None:
            activation = _ACTIVATIONS[int(rng.integers(len(_ACTIVATIONS)))]
        W1 = _random_signed(rng, (n_inputs, hidden_units), lo, hi)
        b1 = rng.uniform(-2.0, 2.0, size=hidden_units)
        w2 = _random_signed(rng, hidden_units, lo, hi) * 2.0 / np.sqrt(hidden_units)
        return cls(W1, b1, w2, activation)

    def __call__(self, P) -> np.ndarray:
        P = np.asarray(P, dtype=float)
        if P.ndim != 2 or P.shape[1] != self.W1.shape[0]:
            raise ParameterError(f"RandomMLP expects an (n, {self.W1.shape[0]}) array; got shape {P.shape}")
        Z = P @ self.W1 + self.b1
        H = np.tanh(Z) if self.activation == "tanh" else _sigmoid(Z)
        return H @ self.w2

    def __repr__(self) -> str:
        return f"RandomMLP(inputs={self.W1.shape[0]}, hidden_units={self.W1.shape[1]}, activation={self.activation!r})"


class RandomGPFunction:
    """A function drawn from a Gaussian process with an RBF kernel, by random Fourier features.

    ``f(x) = amplitude * sqrt(2 / D) * sum_d a_d cos(omega_d . x + b_d)`` with
    ``omega_d ~ N(0, I / lengthscale**2)``, ``b_d ~ U(0, 2 pi)`` and ``a_d ~ N(0, 1)``:
    over the draws, ``Cov(f(x), f(y))`` tends to
    ``amplitude**2 * exp(-|x - y|**2 / (2 lengthscale**2))`` as ``D`` grows. The
    function is vectorised and can be evaluated on new points.

    Parameters
    ----------
    omega : array of shape (k, D)
    phase : array of shape (D,)
    a : array of shape (D,)
    amplitude : float

    Examples
    --------
    >>> import numpy as np
    >>> f = RandomGPFunction.random(1, n_features=50, random_state=0)
    >>> f(np.linspace(-1, 1, 4)[:, None]).shape
    (4,)
    """

    def __init__(self, omega, phase, a, amplitude: float = 1.0):
        self.omega = np.asarray(omega, dtype=float)
        self.phase = np.asarray(phase, dtype=float).ravel()
        self.a = np.asarray(a, dtype=float).ravel()
        if self.omega.ndim != 2 or self.omega.shape[1] != self.phase.size or self.phase.size != self.a.size:
            raise ParameterError(
                f"RandomGPFunction needs omega of shape (k, D), phase and a of shape (D,); got {self.omega.shape}, "
                f"{self.phase.shape}, {self.a.shape}"
            )
        self.amplitude = float(amplitude)
        self.__name__ = "gp_rbf"

    @classmethod
    def random(
        cls, n_inputs: int, *, n_features: int = 100, lengthscale: float = 1.0, amplitude: float = 1.0, random_state=None
    ) -> RandomGPFunction:
        """Draw a function of ``n_inputs`` variables from GP(0, amplitude² RBF(lengthscale))."""
        owner = "RandomGPFunction.random"
        check_in_range(n_inputs, name="n_inputs", low=1, inclusive="left", integer=True, owner=owner)
        check_in_range(n_features, name="n_features", low=1, inclusive="left", integer=True, owner=owner)
        check_in_range(lengthscale, name="lengthscale", low=0, owner=owner)
        check_in_range(amplitude, name="amplitude", low=0, inclusive="left", owner=owner)
        rng = check_random_state(random_state)
        omega = rng.normal(0.0, 1.0 / lengthscale, size=(n_inputs, n_features))
        phase = rng.uniform(0.0, 2.0 * np.pi, size=n_features)
        a = rng.normal(size=n_features)
        return cls(omega, phase, a, amplitude)

    @property
    def lengthscale(self) -> float:
        """The RBF lengthscale the frequencies were drawn with (estimated from them)."""
        return float(1.0 / np.sqrt(np.mean(self.omega**2)))

    def __call__(self, P) -> np.ndarray:
        P = np.asarray(P, dtype=float)
        if P.ndim != 2 or P.shape[1] != self.omega.shape[0]:
            raise ParameterError(f"RandomGPFunction expects an (n, {self.omega.shape[0]}) array; got shape {P.shape}")
        D = self.a.size
        return self.amplitude * np.sqrt(2.0 / D) * (np.cos(P @ self.omega + self.phase) @ self.a)

    def __repr__(self) -> str:
        return f"RandomGPFunction(inputs={self.omega.shape[0]}, n_features={self.a.size}, amplitude={self.amplitude:.3g})"


# --------------------------------------------------------------------------- random DAGs
def _er_edges(n: int, expected_degree: float, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Edges between causal positions ``a < b``, each with probability ``deg / (n - 1)``."""
    if n < 2:
        return []
    p = expected_degree / (n - 1)
    a, b = np.triu_indices(n, k=1)
    keep = rng.random(a.size) < p
    return list(zip(a[keep].tolist(), b[keep].tolist()))


def _sf_edges(n: int, expected_degree: float, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Preferential attachment along the causal positions ``0..n-1``.

    ``round(expected_degree * n / 2)`` edges in all: node ``k`` gets ``m_k <= k``
    parents among the earlier nodes (as even as possible, the remainder spread at
    random), chosen with probability proportional to ``children + 1`` (Price's
    model, as igraph's Barabási generator): early nodes become hubs with many
    children.
    """
    if n < 2:
        return []
    n_edges = int(round(expected_degree * n / 2.0))
    caps = np.arange(n)
    level = 0
    while level < n - 1 and np.minimum(caps, level + 1).sum() <= n_edges:
        level += 1
    m = np.minimum(caps, level)
    rest = n_edges - int(m.sum())
    if rest > 0:
        eligible = np.nonzero(caps > level)[0]
        m[rng.choice(eligible, size=rest, replace=False)] += 1
    children = np.zeros(n)
    edges = []
    for k in range(1, n):
        if m[k] == 0:
            continue
        w = children[:k] + 1.0
        targets = rng.choice(k, size=int(m[k]), replace=False, p=w / w.sum())
        children[targets] += 1.0
        edges.extend((int(t), k) for t in targets)
    return edges


def random_dag(
    n_nodes: int, expected_degree: float | None = None, kind: str = "ER", *, prefix: str = "X", random_state=None
) -> nx.DiGraph:
    """A random DAG whose node order is not its causal order.

    A causal order is drawn as a random permutation of the nodes and edges point
    from earlier to later nodes in it. The graph's nodes are ``prefix + "0"``,
    ``prefix + "1"``, ... inserted in that name order, so the column order of
    sampled data says nothing about the causal order.

    Parameters
    ----------
    n_nodes : int
        Number of nodes (>= 1).
    expected_degree : float, optional
        Mean total degree (in + out) of a node, in ``[0, n_nodes - 1]``; the
        expected number of edges is ``expected_degree * n_nodes / 2``. Default
        ``min(2, n_nodes - 1)``.
    kind : {"ER", "SF"}
        ``"ER"`` (Erdős–Rényi): each pair of nodes is joined, along the causal
        order, with probability ``expected_degree / (n_nodes - 1)``.
        ``"SF"`` (scale-free): nodes arrive in the causal order and attach to
        earlier nodes with probability proportional to ``1 +`` their number of
        children (preferential attachment, Price's model); exactly
        ``round(expected_degree * n_nodes / 2)`` edges. Early nodes become hubs:
        causes with many children.
    prefix : str
        Node names are ``f"{prefix}{i}"``.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    networkx.DiGraph
        Acyclic; nodes in name order.

    Raises
    ------
    ParameterError
        If ``n_nodes < 1`` or its arrays do not fit in this machine's memory (``"ER"`` draws
        all ``n_nodes * (n_nodes - 1) / 2`` pairs), ``expected_degree`` is outside
        ``[0, n_nodes - 1]`` or ``kind`` is unknown (the message lists the allowed kinds).

    See Also
    --------
    random_scm : mechanisms and noises on a DAG.
    simulate : DAG, SCM and samples in one call.

    Examples
    --------
    >>> g = random_dag(5, expected_degree=2, random_state=0)
    >>> list(g.nodes)
    ['X0', 'X1', 'X2', 'X3', 'X4']
    >>> import networkx as nx
    >>> nx.is_directed_acyclic_graph(g)
    True
    >>> random_dag(4, kind="SF", random_state=1).number_of_edges()
    4
    """
    owner = "random_dag"
    check_in_range(n_nodes, name="n_nodes", low=1, inclusive="left", integer=True, owner=owner)
    expected_degree = _check_degree(expected_degree, n_nodes, owner)
    check_option(kind, GRAPH_KINDS, name="kind", owner=owner)
    if kind == "ER":  # every pair of causal positions is drawn
        n_pairs = n_nodes * (n_nodes - 1) // 2
        check_memory(n_pairs, name="n_nodes", owner=owner, what=f"{n_nodes} nodes ({n_pairs} candidate edges: ER draws every pair)",
                     hint="draw fewer nodes")
    else:
        check_memory(n_nodes, name="n_nodes", owner=owner, what=f"{n_nodes} nodes", hint="draw fewer nodes")
    _check_prefix(prefix)
    rng = check_random_state(random_state)
    order = rng.permutation(n_nodes)  # order[k]: the node at causal position k
    make = _er_edges if kind == "ER" else _sf_edges
    edges = sorted((int(order[a]), int(order[b])) for a, b in make(n_nodes, float(expected_degree), rng))
    names = [f"{prefix}{i}" for i in range(n_nodes)]
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((names[i], names[j]) for i, j in edges)
    return g


def _check_degree(expected_degree, n_nodes: int, owner: str) -> float:
    """The mean degree: ``min(2, n_nodes - 1)`` by default, else checked against ``[0, n_nodes - 1]``."""
    if expected_degree is None:
        return float(min(2, n_nodes - 1))
    check_in_range(expected_degree, name="expected_degree", owner=owner)  # a finite number
    if not 0 <= expected_degree <= n_nodes - 1:
        raise ParameterError(
            f"The 'expected_degree' parameter of {owner} must be in the range [0, {n_nodes - 1}] (0 to n_nodes - 1: "
            f"with n_nodes={n_nodes} a node has at most {n_nodes - 1} neighbour(s)); got {expected_degree!r} instead."
        )
    return float(expected_degree)


# --------------------------------------------------------------------------- random SCMs
def _random_function(kind: str, n_inputs: int, rng, weight_range, hidden_units, n_features, lengthscale):
    if kind == "mlp":
        return RandomMLP.random(n_inputs, hidden_units=hidden_units, weight_range=weight_range, random_state=rng)
    amplitude = float(rng.uniform(*weight_range))
    return RandomGPFunction.random(n_inputs, n_features=n_features, lengthscale=lengthscale, amplitude=amplitude, random_state=rng)


def _random_mechanism(kind: str, parents: list, rng, weight_range, hidden_units=10, n_features=100, lengthscale=1.0) -> Mechanism:
    if not parents:
        return Linear({})
    if kind == "linear":
        w = _random_signed(rng, len(parents), *weight_range)
        return Linear(dict(zip(parents, w.tolist())))
    f = _random_function(kind, len(parents), rng, weight_range, hidden_units, n_features, lengthscale)
    return AdditiveNoise(f, parents=parents)


def random_scm(
    dag,
    kind: str = "linear",
    noise="gaussian",
    noise_scale=(0.5, 1.0),
    weight_range=(0.5, 2.0),
    *,
    hidden_units: int = 10,
    n_features: int = 100,
    lengthscale: float = 1.0,
    random_state=None,
) -> SCM:
    """Random mechanisms and noises on a DAG.

    Parameters
    ----------
    dag : networkx.DiGraph or mapping node -> parents
        The causal DAG (the model keeps a reference to it).
    kind : {"linear", "mlp", "gp"}
        ``"linear"``: :class:`scm.Linear` with weights uniform in ``±weight_range``.
        ``"mlp"``: ``AdditiveNoise`` of a random one-hidden-layer tanh or sigmoid
        network of the parents (:class:`RandomMLP`; weights in ``±weight_range``).
        ``"gp"``: ``AdditiveNoise`` of a function drawn from a GP with an RBF
        kernel, realised by random Fourier features (:class:`RandomGPFunction`;
        amplitude uniform in ``weight_range``). Root nodes are ``Linear({})``:
        their value is their noise.
    noise : {"gaussian", "uniform", "laplace"} or a noise
        The noise family, with standard deviation drawn per node uniformly in
        ``noise_scale``; a scmkit noise (or frozen scipy distribution) is used as
        is for every node.
    noise_scale : float or (low, high)
        Noise standard deviation (or its range), > 0.
    weight_range : float or (low, high)
        Range of the magnitudes of weights (``0 <= low <= high``).
    hidden_units : int
        Width of the ``"mlp"`` networks.
    n_features : int
        Number of random Fourier features of the ``"gp"`` functions.
    lengthscale : float
        RBF lengthscale of the ``"gp"`` functions.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    SCM
        The kind shows in the mechanisms: ``Linear``, or ``AdditiveNoise`` whose
        ``f`` is a :class:`RandomMLP` or :class:`RandomGPFunction`.

    Examples
    --------
    >>> g = random_dag(4, 2, random_state=0)
    >>> model = random_scm(g, kind="mlp", random_state=0)
    >>> model.sample(5, random_state=0).shape
    (5, 4)
    >>> linear = random_scm(g, noise_scale=1.0, random_state=0)
    >>> sorted(set(type(m).__name__ for m in linear.mechanisms.values()))
    ['Linear']
    """
    owner = "random_scm"
    g = as_dag(dag, name="dag")
    check_option(kind, SCM_KINDS, name="kind", owner=owner)
    spec = _check_noise_spec(noise, owner)
    s_lo, s_hi = _check_interval(noise_scale, name="noise_scale", owner=owner, positive=True)
    wr = _check_interval(weight_range, name="weight_range", owner=owner)
    check_in_range(hidden_units, name="hidden_units", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(n_features, name="n_features", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(lengthscale, name="lengthscale", low=0, owner=owner)
    rng = check_random_state(random_state)
    pos = {n: i for i, n in enumerate(g.nodes)}
    mechanisms, noises = {}, {}
    for node in g.nodes:
        parents = sorted(g.predecessors(node), key=pos.__getitem__)
        mechanisms[node] = _random_mechanism(kind, parents, rng, wr, hidden_units, n_features, lengthscale)
        noises[node] = _make_noise(spec, float(rng.uniform(s_lo, s_hi)))
    return SCM(g, mechanisms, noises)


def simulate(
    n_nodes: int = 10,
    n_samples: int = 1000,
    expected_degree: float | None = None,
    graph_kind: str = "ER",
    scm_kind: str = "linear",
    noise="gaussian",
    noise_scale=(0.5, 1.0),
    weight_range=(0.5, 2.0),
    *,
    prefix: str = "X",
    random_state=None,
) -> Dataset:
    """Observational data from a random SCM on a random DAG, with both as ground truth.

    Parameters
    ----------
    n_nodes, expected_degree, graph_kind
        As ``n_nodes``, ``expected_degree`` (default ``min(2, n_nodes - 1)``) and ``kind``
        of :func:`random_dag`.
    n_samples : int
        Number of rows (>= 1).
    scm_kind, noise, noise_scale, weight_range
        As ``kind``, ``noise``, ``noise_scale`` and ``weight_range`` of :func:`random_scm`.
    prefix : str
        Node names are ``f"{prefix}{i}"``.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="observational"``; ``.graph`` the DAG, ``.scm`` the model,
        ``.metadata`` the simulation settings.

    Examples
    --------
    >>> ds = simulate(n_nodes=5, n_samples=200, random_state=0)
    >>> ds
    Dataset(name='simulated-linear-ER', kind='observational', rows=200, variables=['X0', 'X1', 'X2', 'X3', 'X4'])
    >>> sorted(ds.graph.edges) == sorted(ds.scm.graph.edges)
    True
    """
    owner = "simulate"
    check_in_range(n_nodes, name="n_nodes", low=1, inclusive="left", integer=True, owner=owner)
    expected_degree = _check_degree(expected_degree, n_nodes, owner)
    check_sample_size(n_samples, n_nodes, name="n_samples", owner=owner)
    check_option(graph_kind, GRAPH_KINDS, name="graph_kind", owner=owner)
    check_option(scm_kind, SCM_KINDS, name="scm_kind", owner=owner)
    rng = check_random_state(random_state)
    g = random_dag(n_nodes, expected_degree, graph_kind, prefix=prefix, random_state=rng)
    model = random_scm(g, scm_kind, noise, noise_scale, weight_range, random_state=rng)
    data = model.sample(n_samples, random_state=rng)
    metadata = {
        "generator": "simulate",
        "graph_kind": graph_kind,
        "scm_kind": scm_kind,
        "expected_degree": float(expected_degree),
        "noise": noise if isinstance(noise, str) else repr(noise),
        "noise_scale": noise_scale,
        "weight_range": weight_range,
    }
    return Dataset(data, graph=g, name=f"simulated-{scm_kind}-{graph_kind}", kind="observational", scm=model, metadata=metadata)


# --------------------------------------------------------------------------- changing mechanisms
def _base_model(dag_or_scm, scm_kind: str, weight_range, rng, owner: str) -> SCM:
    if isinstance(dag_or_scm, SCM):
        return dag_or_scm
    check_option(scm_kind, SCM_KINDS, name="scm_kind", owner=owner)
    return random_scm(as_dag(dag_or_scm, name="dag_or_scm"), kind=scm_kind, weight_range=weight_range, random_state=rng)


def _choose_nodes(changing, candidates: list, all_nodes, rng, owner: str, why: str = "") -> list:
    """The changing nodes, in the graph's order: None (20% of the candidates, at least 1), a count, or a list."""
    if changing is None:
        changing = max(1, int(round(0.2 * len(candidates)))) if candidates else 0
    if isinstance(changing, numbers.Integral) and not isinstance(changing, bool):
        check_in_range(changing, name="changing", low=0, high=len(candidates), inclusive="both", integer=True, owner=owner)
        picked = set(rng.choice(len(candidates), size=int(changing), replace=False).tolist()) if changing else set()
        chosen = {candidates[i] for i in picked}
    else:
        if isinstance(changing, str) or not isinstance(changing, (Sequence, set, frozenset)):
            raise ParameterError(f"The 'changing' parameter of {owner} must be None, an int or a list of nodes; got {changing!r} instead.")
        nodes = check_nodes(list(changing), all_nodes, what="changing node")
        bad = [n for n in nodes if n not in candidates]
        if bad:
            raise ParameterError(f"The 'changing' parameter of {owner} lists node(s) {bad} that cannot change{why}.")
        chosen = set(nodes)
    return [n for n in all_nodes if n in chosen]


def _unshift(mech: Mechanism) -> Mechanism:
    while isinstance(mech, Shifted):
        mech = mech.base
    return mech


def _is_additive(mech: Mechanism) -> bool:
    return isinstance(_unshift(mech), (Linear, AdditiveNoise))


def _redraw_mechanism(mech: Mechanism, parents: tuple, std: float, strength: float, weight_range, rng) -> Mechanism:
    """A fresh random mechanism of the same family with the same parents."""
    base = _unshift(mech)
    if not parents:
        intercept = getattr(base, "intercept", 0.0) + _random_signed(rng, 1, strength * std, 2 * strength * std)[0]
        return Linear({}, intercept=float(intercept))
    if isinstance(base, Linear):
        old = base.weights
        for _ in range(100):
            new = _random_signed(rng, old.size, *weight_range)
            if np.max(np.abs(new - old)) >= 0.5 * strength:
                break
        return Linear(dict(zip(parents, new.tolist())), intercept=base.intercept)
    f = getattr(base, "f", None)
    if isinstance(f, RandomGPFunction):
        new_f = RandomGPFunction.random(len(parents), n_features=f.a.size, lengthscale=f.lengthscale,
                                        amplitude=float(rng.uniform(*weight_range)), random_state=rng)
    elif isinstance(f, RandomMLP):
        new_f = RandomMLP.random(len(parents), hidden_units=f.W1.shape[1], weight_range=weight_range,
                                 activation=f.activation, random_state=rng)
    else:
        new_f = RandomMLP.random(len(parents), weight_range=weight_range, random_state=rng)
    return AdditiveNoise(new_f, parents=parents)


def _is_discrete(mech: Mechanism) -> bool:
    return isinstance(_unshift(mech), Discrete)


def _sample_sizes(n_samples, n_environments: int, n_columns: int, owner: str) -> list[int]:
    """The rows of each environment, checked: ints >= 1 whose ``n_columns`` columns fit in memory together."""
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        check_sample_size(n_samples, n_columns, name="n_samples", owner=owner)
        check_memory(float(n_environments) * n_samples * n_columns, name="n_environments", owner=owner,
                     what=f"{n_environments} environments of {n_samples} rows of {n_columns} columns",
                     hint="simulate fewer environments (or fewer rows per environment)")
        return [int(n_samples)] * n_environments
    if isinstance(n_samples, Sequence) and not isinstance(n_samples, str):
        sizes = list(n_samples)
        if len(sizes) != n_environments:
            raise ParameterError(
                f"The 'n_samples' parameter of {owner} lists {len(sizes)} sizes for {n_environments} environments."
            )
        for s in sizes:
            check_in_range(s, name="n_samples", low=1, inclusive="left", integer=True, owner=owner)
        return [int(s) for s in sizes]
    raise ParameterError(f"The 'n_samples' parameter of {owner} must be an int or a list of ints; got {n_samples!r} instead.")


def multi_environment(
    dag_or_scm,
    n_environments: int = 5,
    n_samples=1000,
    changing=None,
    change: str = "shift",
    strength: float = 1.0,
    *,
    scm_kind: str = "linear",
    weight_range=(0.5, 2.0),
    random_state=None,
) -> Dataset:
    """Data from several environments in which the mechanisms of some nodes change.

    Environment 0 follows the base model. In every other environment each
    changing node gets a change of its own, drawn afresh:

    - ``"shift"``: its mechanism plus ``delta`` (as ``model.do({node: shift(delta)})``),
      ``|delta|`` uniform in ``[strength, 2 strength]`` times the node's noise
      standard deviation, random sign; ``parameter`` is ``delta``.
    - ``"mechanism"``: a new random mechanism of the same family with the same
      parents (linear weights are redrawn until one moves by at least
      ``strength / 2``; an MLP or GP function is redrawn; a root node gets a new
      intercept as for ``"shift"``); ``parameter`` is NaN (the new mechanisms are
      in ``metadata["scms"]``).
    - ``"noise"``: the noise standard deviation multiplied (or divided, at
      random) by a factor uniform in ``[1 + strength / 2, 1 + strength]``;
      ``parameter`` is the new standard deviation.
    - ``"mixed"``: one of the three above at random, per environment and node.

    The graph is the same in all environments.

    Parameters
    ----------
    dag_or_scm : SCM, networkx.DiGraph or mapping node -> parents
        The base model, or a DAG on which ``random_scm(dag, scm_kind)`` draws one.
    n_environments : int
        Number of environments (>= 2).
    n_samples : int or list of int
        Rows per environment.
    changing : None, int or list of nodes
        The changing nodes: a list, a number of nodes chosen at random, or None
        (20% of the nodes, at least one). ``0`` gives data with no change.
    change : {"shift", "mechanism", "noise", "mixed"}
    strength : float
        Size of the changes (> 0), see above.
    scm_kind : {"linear", "mlp", "gp"}
        Family of the base model when a DAG is given.
    weight_range : float or (low, high)
        Weight magnitudes of drawn mechanisms (as in :func:`random_scm`).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="multi_environment"``; ``data`` has the node columns and an int
        ``"environment"`` column (``0..n_environments-1``); ``environment="environment"``;
        ``changed_nodes`` the changing nodes; ``scm`` the base model; ``metadata["scms"]``
        the model of each environment and ``metadata["changes"]`` a tidy DataFrame
        with columns ``environment, node, change, parameter`` (one row per changed
        node in each environment >= 1).

    Raises
    ------
    ParameterError
        Naming the parameter: ``n_environments < 2``, a size of ``n_samples`` below 1, or
        more rows in all than fit in this machine's memory (the size is given), an unknown
        ``change``, a ``strength`` not > 0, ...

    Examples
    --------
    >>> g = random_dag(4, 2, random_state=0)
    >>> ds = multi_environment(g, n_environments=3, n_samples=100, changing=["X1"], random_state=0)
    >>> ds.data["environment"].value_counts().sort_index().tolist()
    [100, 100, 100]
    >>> sorted(ds.changed_nodes), ds.metadata["changes"]["change"].tolist()
    (['X1'], ['shift', 'shift'])
    """
    owner = "multi_environment"
    check_in_range(n_environments, name="n_environments", low=2, inclusive="left", integer=True, owner=owner)
    check_option(change, CHANGES, name="change", owner=owner)
    check_in_range(strength, name="strength", low=0, owner=owner)
    wr = _check_interval(weight_range, name="weight_range", owner=owner)
    rng = check_random_state(random_state)
    base = _base_model(dag_or_scm, scm_kind, wr, rng, owner)
    nodes = base.nodes
    sizes = _sample_sizes(n_samples, n_environments, len(nodes) + 1, owner)
    check_sample_size(sum(sizes), len(nodes) + 1, name="n_samples", owner=owner)
    if "environment" in nodes:
        raise ParameterError(f"{owner} adds a column 'environment'; a node already has that name")
    candidates = [n for n in nodes if not _is_discrete(base.mechanisms[n])]
    chosen = _choose_nodes(changing, candidates, nodes, rng, owner, " (discrete nodes cannot change)")

    base_mechs, base_noise = base.mechanisms, base.noise
    models, rows = [base], []
    for env in range(1, n_environments):
        mechs, noise = dict(base_mechs), dict(base_noise)
        for node in chosen:
            how = change if change != "mixed" else str(rng.choice(CHANGES[:3]))
            std = _noise_std(base_noise[node]) or 1.0
            if how == "shift":
                delta = float(_random_signed(rng, 1, strength * std, 2 * strength * std)[0])
                mechs[node] = Shifted(base_mechs[node], delta)
                value = delta
            elif how == "mechanism":
                mechs[node] = _redraw_mechanism(base_mechs[node], base.parents(node), std, strength, wr, rng)
                value = np.nan
            else:
                factor = float(rng.uniform(1 + strength / 2, 1 + strength)) ** float(rng.choice([-1.0, 1.0]))
                noise[node] = _rescaled_noise(base_noise[node], factor)
                value = _noise_std(noise[node])
            rows.append((env, node, how, value))
        models.append(SCM(base.graph, mechs, noise))

    frames = []
    for env, (model, n) in enumerate(zip(models, sizes)):
        frame = model.sample(n, random_state=rng)
        frame["environment"] = np.full(n, env, dtype=np.int64)
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    changes = pd.DataFrame(rows, columns=["environment", "node", "change", "parameter"])
    changes = changes.astype({"environment": np.int64, "parameter": float})
    metadata = {
        "generator": owner,
        "scms": models,
        "changes": changes,
        "change": change,
        "strength": float(strength),
        "n_environments": int(n_environments),
    }
    return Dataset(
        data,
        graph=base.graph,
        name=f"multi_environment-{change}",
        kind="multi_environment",
        environment="environment",
        changed_nodes=frozenset(chosen),
        scm=base,
        metadata=metadata,
    )


def _drift_shape(drift: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth path in ``[-1, 1]`` over ``t = 0..n-1``."""
    s = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    if drift == "sine":
        cycles = rng.uniform(0.5, 2.0)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        return np.sin(2.0 * np.pi * cycles * s + phase)
    if drift == "linear":
        return float(rng.choice([-1.0, 1.0])) * (2.0 * s - 1.0)
    walk = np.cumsum(rng.standard_normal(n))
    from scipy.ndimage import gaussian_filter1d  # here, not with scm: import scm stays light

    smooth = gaussian_filter1d(walk, sigma=max(1.0, n / 20.0), mode="nearest")
    smooth = smooth - smooth.mean()
    top = np.max(np.abs(smooth))
    return smooth / top if top > 0 else np.zeros(n)


def nonstationary(
    dag_or_scm,
    n_samples: int = 1000,
    changing=None,
    drift: str = "sine",
    *,
    parameter: str = "intercept",
    strength: float = 1.0,
    scm_kind: str = "linear",
    weight_range=(0.5, 2.0),
    random_state=None,
) -> Dataset:
    """Data whose changing mechanisms drift smoothly with the time index ``t = 0..n-1``.

    Each changing node gets its own smooth path ``z(t)`` in ``[-1, 1]``
    (``drift``), which moves one parameter of its mechanism ``f`` (``parameter``):

    - ``"intercept"``: ``X = f(parents, noise) + delta(t)`` with
      ``delta(t) = A z(t)``, ``A`` uniform in ``[strength, 2 strength]`` times the
      node's noise standard deviation; the parameter is ``delta(t)``.
    - ``"coefficient"``: ``X = theta(t) g(parents) + noise`` where ``g`` is the
      noise-free part of the (additive) mechanism, ``theta(t) = 1 + A z(t)`` with
      ``A`` uniform in ``[strength / 4, strength / 2]``: every linear coefficient is
      ``theta(t)`` times its base value. Only nodes with parents can change; the
      parameter is ``theta(t)``.
    - ``"noise"``: the noise standard deviation is ``sigma(t) = sigma (1 + strength) ** z(t)``;
      the parameter is ``sigma(t)``.

    Parameters
    ----------
    dag_or_scm : SCM, networkx.DiGraph or mapping node -> parents
        The base model, or a DAG on which ``random_scm(dag, scm_kind)`` draws one.
    n_samples : int
        Number of time points (rows), >= 1.
    changing : None, int or list of nodes
        As in :func:`multi_environment`.
    drift : {"sine", "random_walk", "linear"}
        ``"sine"``: ``sin(2 pi c t / (n - 1) + phase)`` with ``0.5 <= c <= 2``
        cycles and a random phase; ``"random_walk"``: a Gaussian random walk
        smoothed by a Gaussian filter of width ``n / 20``, scaled to max ``|z| = 1``;
        ``"linear"``: a ramp from -1 to 1 or from 1 to -1.
    parameter : {"intercept", "coefficient", "noise"}
    strength : float
        Size of the drift (> 0).
    scm_kind, weight_range
        As in :func:`multi_environment`.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="nonstationary"``; ``data`` has the node columns and an int
        ``"time"`` column; ``environment="time"``; ``changed_nodes``; ``scm`` the
        base (drift-free) model; ``metadata["parameters"]`` a DataFrame indexed by
        ``time`` with the true parameter of each changing node (the driving force
        CD-NOD estimates), ``metadata["parameter"]`` and ``metadata["drift"]``.

    Examples
    --------
    >>> g = random_dag(3, 2, random_state=0)
    >>> ds = nonstationary(g, n_samples=50, changing=["X0"], random_state=0)
    >>> ds.data.columns.tolist()
    ['X0', 'X1', 'X2', 'time']
    >>> ds.metadata["parameters"].shape
    (50, 1)
    """
    owner = "nonstationary"
    check_in_range(n_samples, name="n_samples", low=1, inclusive="left", integer=True, owner=owner)
    check_option(drift, DRIFTS, name="drift", owner=owner)
    check_option(parameter, DRIFT_PARAMETERS, name="parameter", owner=owner)
    check_in_range(strength, name="strength", low=0, owner=owner)
    wr = _check_interval(weight_range, name="weight_range", owner=owner)
    rng = check_random_state(random_state)
    base = _base_model(dag_or_scm, scm_kind, wr, rng, owner)
    nodes = base.nodes
    check_sample_size(n_samples, len(nodes) + 1, name="n_samples", owner=owner)
    if "time" in nodes:
        raise ParameterError(f"{owner} adds a column 'time'; a node already has that name")
    mechs, noises = base.mechanisms, base.noise
    if parameter == "coefficient":
        candidates = [n for n in nodes if base.parents(n) and _is_additive(mechs[n])]
        why = " (parameter='coefficient' needs a node with parents and an additive-noise mechanism)"
    else:
        candidates = [n for n in nodes if not _is_discrete(mechs[n])]
        why = " (discrete nodes cannot drift)"
    chosen = _choose_nodes(changing, candidates, nodes, rng, owner, why)
    n = int(n_samples)

    series = {}
    for node in chosen:
        z = _drift_shape(drift, n, rng)
        std = _noise_std(noises[node])
        if parameter == "intercept":
            series[node] = float(rng.uniform(strength, 2 * strength)) * (std or 1.0) * z
        elif parameter == "coefficient":
            series[node] = 1.0 + float(rng.uniform(strength / 4, strength / 2)) * z
        else:
            if std == 0:
                raise ParameterError(f"node {node!r} has no noise (std 0); its noise scale cannot drift")
            series[node] = std * (1.0 + strength) ** z

    noise = {node: np.asarray(noises[node].sample(n, rng), dtype=float) for node in nodes}
    values = {}
    for node in topological_order(base.graph):
        pa = base.parents(node)
        P = np.column_stack([values[p] for p in pa]).astype(float) if pa else np.empty((n, 0))
        mech, u = mechs[node], noise[node]
        if node not in series:
            values[node] = mech(P, u)
        elif parameter == "intercept":
            values[node] = mech(P, u) + series[node]
        elif parameter == "coefficient":
            values[node] = series[node] * mech(P, np.zeros(n)) + u
        else:
            mu = noises[node].mean
            values[node] = mech(P, mu + series[node] / _noise_std(noises[node]) * (u - mu))
    data = pd.DataFrame({node: values[node] for node in nodes})
    data["time"] = np.arange(n, dtype=np.int64)
    params = pd.DataFrame({node: series[node] for node in chosen}, index=pd.RangeIndex(n, name="time"))
    metadata = {
        "generator": owner,
        "parameters": params,
        "parameter": parameter,
        "drift": drift,
        "strength": float(strength),
    }
    return Dataset(
        data,
        graph=base.graph,
        name=f"nonstationary-{parameter}-{drift}",
        kind="nonstationary",
        environment="time",
        changed_nodes=frozenset(chosen),
        scm=base,
        metadata=metadata,
    )


# --------------------------------------------------------------------------- time series
def _relu(x):
    return np.maximum(x, 0.0)


def _identity(x):
    return x


_TS_FUNCS = {"linear": _identity, "tanh": np.tanh, "sin": np.sin, "relu": _relu}


def _companion_radius(C: np.ndarray) -> float:
    """Spectral radius of the companion matrix of the reduced form of ``C[i, j, tau]``.

    ``x_t = C_0^T x_t + sum_tau C_tau^T x_{t - tau} + e_t`` has the reduced form
    ``x_t = sum_tau M_tau x_{t - tau} + (I - C_0^T)^{-1} e_t`` with
    ``M_tau = (I - C_0^T)^{-1} C_tau^T``.
    """
    N, _, L1 = C.shape
    L = L1 - 1
    inv = np.linalg.inv(np.eye(N) - C[:, :, 0].T)
    top = np.hstack([inv @ C[:, :, tau].T for tau in range(1, L + 1)])
    comp = np.zeros((N * L, N * L))
    comp[:N] = top
    if L > 1:
        comp[N:, : N * (L - 1)] = np.eye(N * (L - 1))
    return float(np.max(np.abs(np.linalg.eigvals(comp))))


def _draw_links(N: int, max_lag: int, contemporaneous: bool, n_links: int, cont_order, rng) -> list[tuple[int, int, int]]:
    """Distinct cross links (source, target, lag): a lag uniformly among the allowed ones, then a pair."""
    cands, weights = [], []
    lags = list(range(0 if contemporaneous else 1, max_lag + 1))
    rank = {int(node): k for k, node in enumerate(cont_order)}
    for tau in lags:
        pairs = [(i, j) for i in range(N) for j in range(N) if i != j and (tau > 0 or rank[i] < rank[j])]
        for i, j in pairs:
            cands.append((i, j, tau))
            weights.append(1.0 / len(pairs))
    if n_links == 0 or not cands:
        return []
    p = np.asarray(weights) / np.sum(weights)
    idx = rng.choice(len(cands), size=n_links, replace=False, p=p)
    return [cands[k] for k in sorted(idx.tolist())]


@dataclasses.dataclass(frozen=True, eq=False)
class VARProcess:
    """A vector autoregression with lagged and contemporaneous links: what :func:`time_series` simulates.

    ``X_j(t) = sum over links (i, j, tau, c, g) of c g(X_i(t - tau)) + e_j(t)``. Built by
    :func:`draw_lagged_structure` (the links), completed by :func:`draw_innovations`
    (the noises ``e_j``) and run by :func:`simulate_var`.

    Attributes
    ----------
    nodes : tuple of str
        The series, in column order.
    links : tuple of (source, target, lag, coefficient, function)
        Every link ``source(t - lag) -> target(t)`` with its coefficient and the name of
        its function ``g`` (one of ``"linear"``, ``"tanh"``, ``"sin"``, ``"relu"``);
        self-dependence links ``(i, i, 1, ...)`` included.
    max_lag : int
        The largest lag the process speaks about.
    contemporaneous_order : tuple of str
        A causal order of the series that every lag-0 link follows.
    spectral_radius : float
        Spectral radius of the companion matrix of the reduced form (of the absolute
        coefficients for nonlinear links): below 1, the process is stable.
    rescaled_by : float
        The factor the lagged coefficients were multiplied by to make it so (1: none).
    noise : tuple of Noise or None
        The innovation noise of each series (None until :func:`draw_innovations`).
    """

    nodes: tuple
    links: tuple
    max_lag: int
    contemporaneous_order: tuple
    spectral_radius: float
    rescaled_by: float = 1.0
    noise: tuple | None = None

    @property
    def coefficients(self) -> np.ndarray:
        """``C[i, j, tau]``, the coefficient of ``X_i(t - tau) -> X_j(t)`` (0: no link), shape ``(N, N, max_lag + 1)``."""
        pos = {n: k for k, n in enumerate(self.nodes)}
        C = np.zeros((len(self.nodes), len(self.nodes), self.max_lag + 1))
        for s, t, tau, coef, _ in self.links:
            C[pos[s], pos[t], tau] = coef
        return C

    @property
    def graph(self) -> LaggedGraph:
        """The true lagged graph: every link, lagged or contemporaneous, directed; ``tau_max = max_lag``."""
        return LaggedGraph(self.nodes, [(s, t, tau) for s, t, tau, *_ in self.links], tau_max=self.max_lag)

    def summary_graph(self) -> nx.DiGraph:
        """``i -> j`` iff ``X_i(t - tau) -> X_j(t)`` for some ``tau >= 0`` and ``i != j``; edge attribute ``lags``."""
        summary = nx.DiGraph()
        summary.add_nodes_from(self.nodes)
        for s, t, tau, _, _ in self.links:
            if s != t:
                if summary.has_edge(s, t):
                    summary[s][t]["lags"] = sorted(set(summary[s][t]["lags"]) | {int(tau)})
                else:
                    summary.add_edge(s, t, lags=[int(tau)])
        return summary

    def links_table(self) -> pd.DataFrame:
        """The links as a tidy table ``source, target, lag, coefficient, function``, by target, lag and source."""
        pos = {n: k for k, n in enumerate(self.nodes)}
        rows = sorted(self.links, key=lambda k: (pos[k[1]], k[2], pos[k[0]]))
        return pd.DataFrame(
            [(s, t, int(tau), float(c), f) for s, t, tau, c, f in rows], columns=["source", "target", "lag", "coefficient", "function"]
        )


def _check_structure_args(owner, n_series, max_lag, contemporaneous, nonlinear, n_links, coefficient_range, autocorrelation,
                          max_spectral_radius, prefix) -> tuple:
    """The arguments of the lagged structure, checked: ``(N, L, n_links, (c_lo, c_hi), auto or None)``."""
    check_in_range(n_series, name="n_series", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(max_lag, name="max_lag", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(max_spectral_radius, name="max_spectral_radius", low=0, high=1, owner=owner)
    for flag, name in ((contemporaneous, "contemporaneous"), (nonlinear, "nonlinear")):
        check_bool(flag, name=name, owner=owner)
    coefs = _check_interval(coefficient_range, name="coefficient_range", owner=owner)
    if autocorrelation is None or (isinstance(autocorrelation, numbers.Real) and autocorrelation == 0):
        auto = None
    else:
        auto = _check_interval(autocorrelation, name="autocorrelation", owner=owner)
    _check_prefix(prefix)
    N, L = int(n_series), int(max_lag)
    # the coefficients C (N, N, L + 1), the companion matrix (N L, N L) and the N (N - 1) L candidate links
    check_memory(float(N * L) ** 2 + float(N) * N * (L + 1) + float(N) * (N - 1) * L, name="n_series" if N >= L else "max_lag",
                 owner=owner, what=f"{N} series and max_lag={L} (a {N * L} x {N * L} companion matrix)",
                 hint="draw fewer series (or a smaller max_lag)")
    n_possible = N * (N - 1) * L + (N * (N - 1) // 2 if contemporaneous else 0)
    if n_links is None:
        n_links = min(N, n_possible)
    check_in_range(n_links, name="n_links", low=0, high=n_possible, inclusive="both", integer=True, owner=owner)
    return N, L, int(n_links), coefs, auto


def draw_lagged_structure(
    n_series: int = 5,
    max_lag: int = 2,
    contemporaneous: bool = True,
    nonlinear: bool = False,
    *,
    n_links: int | None = None,
    coefficient_range=(0.2, 0.6),
    autocorrelation=(0.3, 0.6),
    max_spectral_radius: float = 0.9,
    prefix: str = "X",
    random_state=None,
) -> VARProcess:
    """Draw the links of a stable vector autoregression (the first phase of :func:`time_series`).

    A random causal order of the series (lag-0 links follow it, so they are acyclic);
    each series' dependence on its own past (``autocorrelation``, lag 1); then
    ``n_links`` distinct cross links ``X_i(t - tau) -> X_j(t)`` (``i != j``), each
    drawn by choosing a lag uniformly among ``1..max_lag`` (and 0 when
    ``contemporaneous``) and then a pair uniformly, with a coefficient of random sign
    and magnitude in ``coefficient_range`` and, with ``nonlinear=True``, a function
    among tanh, sin and relu (autoregressive links stay linear). The coefficients are
    drawn with the links, in one random stream, so that a seed gives the links of
    earlier releases.

    Stability is checked on the companion matrix of the reduced form
    ``x_t = sum_tau (I - C_0^T)^{-1} C_tau^T x_{t-tau} + ...`` (for nonlinear links on the
    absolute coefficients, a sufficient condition since ``|g(x)| <= |x|``); if its
    spectral radius is not below ``max_spectral_radius``, every lagged coefficient is
    scaled down until it is.

    Parameters
    ----------
    n_series, max_lag, contemporaneous, nonlinear, n_links, coefficient_range, autocorrelation, max_spectral_radius, prefix
        As in :func:`time_series`.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    VARProcess
        Without noise (see :func:`draw_innovations`); ``.graph`` is the true
        :class:`scm.LaggedGraph`.

    Raises
    ------
    ParameterError
        Naming the parameter: ``n_series`` or ``max_lag`` below 1 or whose companion matrix
        does not fit in this machine's memory (the size is given), ``n_links`` beyond the
        possible links, a malformed range, ...

    Examples
    --------
    >>> from scm.simulate import draw_lagged_structure
    >>> process = draw_lagged_structure(3, max_lag=2, contemporaneous=False, random_state=0)
    >>> sorted(process.graph.parents("X0"))  # the truth, a LaggedGraph
    [('X0', 1), ('X1', 2), ('X2', 2)]
    >>> process.coefficients.shape, process.spectral_radius < 0.9
    ((3, 3, 3), True)
    """
    owner = "draw_lagged_structure"
    N, L, n_links, (c_lo, c_hi), auto = _check_structure_args(
        owner, n_series, max_lag, contemporaneous, nonlinear, n_links, coefficient_range, autocorrelation, max_spectral_radius, prefix
    )
    rng = check_random_state(random_state)
    cont_order = rng.permutation(N)
    links = []  # (source, target, lag, coefficient, function)
    if auto is not None:
        for i in range(N):
            links.append((i, i, 1, float(rng.uniform(*auto)), "linear"))
    for i, j, tau in _draw_links(N, L, bool(contemporaneous), n_links, cont_order, rng):
        coef = float(_random_signed(rng, 1, c_lo, c_hi)[0])
        func = str(rng.choice(_TS_FUNCTIONS[1:])) if nonlinear else "linear"
        links.append((i, j, tau, coef, func))

    C = np.zeros((N, N, L + 1))
    for i, j, tau, coef, _ in links:
        C[i, j, tau] = coef
    check = np.abs(C) if nonlinear else C
    radius = _companion_radius(check)
    factor = 1.0
    for _ in range(1000):
        if radius < max_spectral_radius:
            break
        step = min(0.95, 0.99 * max_spectral_radius / radius)
        factor *= step
        C[:, :, 1:] *= step
        check = np.abs(C) if nonlinear else C
        radius = _companion_radius(check)
    if factor != 1.0:
        logger.debug("time_series: lagged coefficients scaled by %.4g for stability", factor)
        links = [(i, j, tau, C[i, j, tau], f) for i, j, tau, _, f in links]
    names = [f"{prefix}{i}" for i in range(N)]
    return VARProcess(
        nodes=tuple(names),
        links=tuple((names[i], names[j], int(tau), c, f) for i, j, tau, c, f in links),
        max_lag=L,
        contemporaneous_order=tuple(names[k] for k in cont_order),
        spectral_radius=radius,
        rescaled_by=factor,
    )


def draw_innovations(process: VARProcess, noise="gaussian", noise_scale=(0.5, 1.0), *, random_state=None) -> VARProcess:
    """Draw the innovation noise of each series (the second phase of :func:`time_series`).

    Parameters
    ----------
    process : VARProcess
        From :func:`draw_lagged_structure`.
    noise, noise_scale
        As in :func:`random_scm`: a family (``"gaussian"``, ``"uniform"``,
        ``"laplace"``) whose standard deviation is drawn per series from
        ``noise_scale``, or one noise for every series.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    VARProcess
        ``process`` with ``noise`` set (a new object).

    Examples
    --------
    >>> from scm.simulate import draw_innovations, draw_lagged_structure
    >>> process = draw_innovations(draw_lagged_structure(2, 1, random_state=0), "laplace", 1.0, random_state=0)
    >>> [round(float(nz.var), 6) for nz in process.noise]  # noise_scale is the standard deviation
    [1.0, 1.0]
    """
    owner = "draw_innovations"
    if not isinstance(process, VARProcess):
        raise ParameterError(f"The 'process' parameter of {owner} must be a VARProcess; got {type(process).__name__} instead.")
    spec = _check_noise_spec(noise, owner)
    s_lo, s_hi = _check_interval(noise_scale, name="noise_scale", owner=owner, positive=True)
    rng = check_random_state(random_state)
    noises = tuple(_make_noise(spec, float(rng.uniform(s_lo, s_hi))) for _ in process.nodes)
    return dataclasses.replace(process, noise=noises)


def _run_var(process: VARProcess, innovations: np.ndarray, past: np.ndarray) -> np.ndarray:
    """Run ``process`` forward from ``past`` with the given innovations (no checks; the engine of :func:`simulate_var`).

    ``innovations`` is ``(T, N)``; ``past`` is ``(max_lag, N)``, its last row the most recent time point.
    Each step is computed from the past ones (lagged links) and then, in the contemporaneous order,
    from the present (lag-0 links). Returns the ``(T, N)`` new time points.
    """
    N, L = len(process.nodes), process.max_lag
    pos = {n: k for k, n in enumerate(process.nodes)}
    # Per function, a coefficient array: x_t[j] += sum_i sum_tau Cg[i, j, tau] g(x_{t - tau}[i]).
    funcs = sorted({f for *_, f in process.links})
    Cg = {f: np.zeros((N, N, L + 1)) for f in funcs}
    for s, t, tau, coef, f in process.links:
        Cg[f][pos[s], pos[t], tau] = coef
    lagged = [(_TS_FUNCS[f], Cg[f][:, :, 1:]) for f in funcs]
    contemp = [(_TS_FUNCS[f], Cg[f][:, :, 0]) for f in funcs if np.any(Cg[f][:, :, 0])]
    cont_targets = [pos[j] for j in process.contemporaneous_order if any(np.any(M[:, pos[j]]) for _, M in contemp)]

    E = np.asarray(innovations, dtype=float)
    T = E.shape[0]
    X = np.zeros((T + L, N))
    X[:L] = past
    for t in range(T):
        row = t + L
        past_rows = X[row - L : row][::-1]  # past_rows[tau - 1] = x_{t - tau}
        x = E[t].copy()
        for g, M in lagged:
            x += np.einsum("ti,ijt->j", g(past_rows), M)
        for j in cont_targets:
            for g, M in contemp:
                x[j] += g(x) @ M[:, j]
        X[row] = x
    return X[L:]


def simulate_var(process: VARProcess, n_timepoints: int = 1000, *, burn_in: int = 200, random_state=None) -> pd.DataFrame:
    """Run a vector autoregression forward in time (the last phase of :func:`time_series`).

    Starts from zeros, draws the innovations of ``burn_in + n_timepoints`` steps and
    computes each step from the past ones (lagged links) and then, in the
    contemporaneous order, from the present (lag-0 links). The first ``burn_in``
    steps are dropped.

    Parameters
    ----------
    process : VARProcess
        With its noise (:func:`draw_innovations`).
    n_timepoints : int
        Number of returned time points (>= 1).
    burn_in : int
        Steps simulated and discarded first (>= 0).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One column per series, rows in time order (index named ``"time"``).

    Raises
    ------
    ParameterError
        If the process has no noise yet.

    Examples
    --------
    >>> from scm.simulate import draw_innovations, draw_lagged_structure, simulate_var
    >>> process = draw_innovations(draw_lagged_structure(3, 2, random_state=0), random_state=0)
    >>> simulate_var(process, 400, random_state=0).shape
    (400, 3)
    """
    owner = "simulate_var"
    if not isinstance(process, VARProcess):
        raise ParameterError(f"The 'process' parameter of {owner} must be a VARProcess; got {type(process).__name__} instead.")
    if process.noise is None:
        raise ParameterError(f"{owner}: the process has no noise yet; draw it with draw_innovations first")
    check_in_range(n_timepoints, name="n_timepoints", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(burn_in, name="burn_in", low=0, inclusive="left", integer=True, owner=owner)
    check_sample_size(n_timepoints + burn_in, len(process.nodes), name="n_timepoints", owner=owner)
    rng = check_random_state(random_state)
    T = int(n_timepoints) + int(burn_in)
    E = np.column_stack([np.asarray(nz.sample(T, rng), dtype=float) for nz in process.noise])
    X = _run_var(process, E, np.zeros((process.max_lag, len(process.nodes))))
    X = X[int(burn_in):]
    if not np.isfinite(X).all():  # pragma: no cover - guarded by the stability check
        raise ParameterError(f"{owner}: the simulated process diverged; lower coefficient_range")
    return pd.DataFrame(X, columns=list(process.nodes), index=pd.RangeIndex(len(X), name="time"))


def time_series(
    n_series: int = 5,
    n_timepoints: int = 1000,
    max_lag: int = 2,
    contemporaneous: bool = True,
    nonlinear: bool = False,
    *,
    n_links: int | None = None,
    coefficient_range=(0.2, 0.6),
    autocorrelation=(0.3, 0.6),
    noise="gaussian",
    noise_scale=(0.5, 1.0),
    burn_in: int = 200,
    max_spectral_radius: float = 0.9,
    prefix: str = "X",
    random_state=None,
) -> Dataset:
    """A stable vector autoregression with lagged and contemporaneous links.

    ``X_j(t) = sum over links (i, j, tau) of c g(X_i(t - tau)) + e_j(t)``, where each
    series depends on its own past (``autocorrelation``, lag 1), ``n_links``
    distinct cross links ``X_i(t - tau) -> X_j(t)`` (``i != j``) are drawn by
    choosing a lag uniformly among ``1..max_lag`` (and 0 when ``contemporaneous``)
    and then a pair uniformly; lag-0 links follow a random causal order, so they
    are acyclic. ``g`` is the identity, or with ``nonlinear=True`` one of tanh,
    sin, relu per cross link (autoregressive links stay linear).

    Stability is checked on the companion matrix of the reduced form
    ``x_t = sum_tau (I - C_0^T)^{-1} C_tau^T x_{t-tau} + ...``; for nonlinear
    links on the absolute coefficients (a sufficient condition, since
    ``|g(x)| <= |x|``). If its spectral radius is not below
    ``max_spectral_radius``, all lagged coefficients are scaled down until it is
    (the returned coefficients are the final ones; ``metadata["rescaled_by"]``
    says by how much). The first ``burn_in`` steps are discarded.

    Three phases, each a function of :mod:`scm.simulate` with the same random
    stream: :func:`draw_lagged_structure` (the links and their coefficients),
    :func:`draw_innovations` (the noises) and :func:`simulate_var`.

    Parameters
    ----------
    n_series : int
        Number of series (>= 1).
    n_timepoints : int
        Number of returned time points (>= 1).
    max_lag : int
        Largest lag (>= 1).
    contemporaneous : bool
        Whether cross links may have lag 0.
    nonlinear : bool
        Whether cross links are nonlinear.
    n_links : int, optional
        Number of cross links (default ``n_series``, capped at the number possible).
    coefficient_range : float or (low, high)
        Magnitudes of the cross-link coefficients (random signs).
    autocorrelation : float, (low, high) or None
        Lag-1 self-dependence coefficient range (positive); None or 0 for none.
    noise, noise_scale
        Innovation noise, as in :func:`random_scm`.
    burn_in : int
        Steps simulated and discarded before the returned ones (>= 0).
    max_spectral_radius : float
        In (0, 1).
    prefix : str
        Series names are ``f"{prefix}{i}"``.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Dataset
        ``kind="time_series"``; ``data`` one column per series, rows in time order
        (index named ``"time"``); ``.graph`` the *summary graph*: ``i -> j`` iff
        ``X_i(t - tau) -> X_j(t)`` for some ``tau >= 0`` and ``i != j``, edge attribute
        ``lags`` (it may have cycles; self-dependence is not drawn). Full truth in
        ``metadata["lagged_graph"]`` (the :class:`scm.LaggedGraph` of every link,
        ``tau_max = max_lag``), ``metadata["links"]`` (tidy DataFrame ``source,
        target, lag, coefficient, function``), ``metadata["lag_array"]`` (int array
        ``(N, N, max_lag + 1)``, ``A[i, j, tau] = 1`` iff ``X_i(t - tau) -> X_j(t)``),
        ``metadata["coefficients"]`` (the same shape, the coefficients),
        ``metadata["process"]`` (the :class:`VARProcess`) and
        ``metadata["spectral_radius"]``.

    Examples
    --------
    >>> ds = time_series(n_series=3, n_timepoints=100, max_lag=2, random_state=0)
    >>> ds.data.shape, ds.metadata["lag_array"].shape
    ((100, 3), (3, 3, 3))
    >>> ds.metadata["spectral_radius"] < 0.9
    True
    >>> ds.metadata["lagged_graph"].tau_max, sorted(ds.metadata["lagged_graph"].parents("X0"))
    (2, [('X0', 1), ('X2', 1), ('X2', 2)])
    """
    owner = "time_series"
    check_in_range(n_timepoints, name="n_timepoints", low=1, inclusive="left", integer=True, owner=owner)
    check_in_range(burn_in, name="burn_in", low=0, inclusive="left", integer=True, owner=owner)
    _check_structure_args(
        owner, n_series, max_lag, contemporaneous, nonlinear, n_links, coefficient_range, autocorrelation, max_spectral_radius, prefix
    )
    _check_noise_spec(noise, owner)
    _check_interval(noise_scale, name="noise_scale", owner=owner, positive=True)
    rng = check_random_state(random_state)

    process = draw_lagged_structure(
        n_series, max_lag, contemporaneous, nonlinear, n_links=n_links, coefficient_range=coefficient_range,
        autocorrelation=autocorrelation, max_spectral_radius=max_spectral_radius, prefix=prefix, random_state=rng,
    )  # fmt: skip
    process = draw_innovations(process, noise, noise_scale, random_state=rng)
    data = simulate_var(process, n_timepoints, burn_in=burn_in, random_state=rng)

    C = process.coefficients
    truth = process.graph
    metadata = {
        "generator": owner,
        "links": process.links_table(),
        "lagged_graph": truth,
        "lag_array": (C != 0).astype(np.int64),
        "coefficients": C,
        "max_lag": process.max_lag,
        "contemporaneous_order": list(process.contemporaneous_order),
        "noise": dict(zip(process.nodes, process.noise)),
        "spectral_radius": process.spectral_radius,
        "rescaled_by": process.rescaled_by,
        "nonlinear": bool(nonlinear),
        "process": process,
    }
    return Dataset(
        data, graph=process.summary_graph(), name=f"time_series-{'nonlinear' if nonlinear else 'linear'}", kind="time_series",
        metadata=metadata,
    )  # fmt: skip
