"""VI-DP-DAG: variational inference of a posterior over DAGs with DP-DAG.

VI-DP-DAG (Charpentier, Kibler and Günnemann, ICLR 2022) fits a :class:`DPDAG`
``q(A)`` and one neural mechanism per node by maximising the evidence lower bound

    ELBO = E_q(A)[ log p(X | A, mechanisms) ] - KL(q(E) || Bernoulli(prior_p))
           - KL(q(P) || Uniform)

with reparameterised (straight-through) samples of ``A``. Every sample, and the
returned graph, is a DAG by construction: no acyclicity penalty and no augmented
Lagrangian are needed.

The training loop is split in phases, each a function of this module:

* :func:`prepare_data` -- validate, transform, standardise, split and place the data;
* :func:`init_state` -- the initial parameters;
* :func:`make_train_chunk` -- the jitted training step, scanned over ``chunk_size`` steps;
* :func:`make_val_elbo` -- the jitted held-out ELBO used for early stopping;
* :func:`train_early_stopping` -- the loop over chunks, with the NaN check, early stopping
  and the progress bar;
* :func:`finalise_posterior` -- the fitted DP-DAG, its edge probabilities and its mode;
* :class:`VIDPDAG` -- the scikit-learn-style estimator that composes them.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=600)
>>> data = pd.DataFrame({"x": x, "y": np.sin(2 * x) + 0.2 * rng.normal(size=600)})
>>> model = VIDPDAG(max_iter=1500, random_state=0).fit(data)
>>> sorted(model.graph_.edges)
[('x', 'y')]
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import warnings
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import optax
import pandas as pd
from jax import lax

from scm._exceptions import ConvergenceError, DataError, NotFittedError, ParameterError
from scm._graph import adjacency_to_dag
from scm._validation import check_bool, check_in_range, check_numeric_frame, check_option, check_random_state

from .._base import Boolean, Interval, Options, ParamsMixin, RandomState, Satisfies, columns_seen_by_fit, is_layer_sizes
from .._jax import (
    check_key,
    fast_compile_options,
    jit,
    parallel_devices,
    replicate,
    replicated_sharding,
    row_sharding,
)
from .._utils import center_scale, progress_bar, standardize
from . import _kernels as K
from ._dpdag import DPDAG, RELAXATIONS

__all__ = [
    "VIDPDAG",
    "make_train_chunk",
    "make_val_elbo",
    "init_state",
    "transform_columns",
    "prepare_data",
    "train_early_stopping",
    "finalise_posterior",
    "PreparedData",
    "TrainResult",
    "TRANSFORMS",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- phases
@functools.partial(jit, static_argnames=("d", "hidden", "init_scale"))
def init_state(key, d: int, hidden: tuple, *, init_scale: float = 0.01) -> dict:
    """Initial parameters: ``{"graph": {"psi", "theta"}, "mech": MLP layers, "log_sigma": (d,)}``.

    Jitted (one small program per size) rather than run op by op: eagerly, each
    random draw and reshape of the initialisation is compiled on its own, which took
    far longer than the one jitted program (docs/benchmarks.md, "Design decisions:
    VI-DP-DAG's programs").
    """
    kg, km = jax.random.split(key)
    return {
        "graph": K.init_dpdag_params(kg, d, scale=init_scale),
        "mech": K.init_mlps(km, d, hidden),
        "log_sigma": jnp.zeros((d,), jnp.float32),
    }


@jax.jit
def _split3(key):
    return tuple(jax.random.split(key, 3))


def _optimizer(lr: float, lr_graph: float) -> optax.GradientTransformation:
    return optax.multi_transform(
        {"mech": optax.adam(lr), "graph": optax.adam(lr_graph)},
        {"graph": "graph", "mech": "mech", "log_sigma": "mech"},
    )


#: Orderings drawn per step for the score-function estimate of KL(q(P) || uniform).
N_PERM_KL_SAMPLES = 16


def _draw_noise(key, *, n_samples: int, d: int, n_uniform: int = 0) -> dict:
    """The random numbers of one step, from *one* flat uniform draw.

    ``{"gumbel": (n_samples, d), "logistic": (n_samples, d, d)}`` for the DAG samples,
    ``"perm_gumbel": (N_PERM_KL_SAMPLES, d)`` for the permutation KL and ``"uniform":
    (n_uniform,)`` (the minibatch indices). Each separate draw is one more random-bits
    program for XLA to compile (docs/benchmarks.md, "Design decisions: VI-DP-DAG's
    programs"), so they are drawn together and sliced.
    """
    n_perm = N_PERM_KL_SAMPLES * d
    gumbel, logistic, rest = K.dag_noise(key, n_samples, d, extra=n_perm + n_uniform)
    return {
        "gumbel": gumbel,
        "logistic": logistic,
        "perm_gumbel": K.gumbel_from_uniform(rest[:n_perm]).reshape(N_PERM_KL_SAMPLES, d),
        "uniform": rest[n_perm:],
    }


def _objective(params, xb, noise, hyper, *, relaxation: str, sinkhorn_iters: int):
    """(loss to minimise, per-row ELBO estimate) on a minibatch ``xb`` (B, d).

    ``noise`` comes from :func:`_draw_noise` (its number of DAG samples is the number
    of rows of ``noise["gumbel"]``).
    ``ELBO / n = E_q[log p(x | A)] (per row) - (KL(q(E) || p(E)) + KL(q(P) || p(P))) / n_train``.
    The loss is its negative with the two KL terms weighted by ``kl_weight`` and
    ``perm_weight`` (both 1 for the plain ELBO).
    """
    graph = params["graph"]

    def one(g, e):
        adj = K.dag_from_noise(graph, g, e, tau=hyper["tau"], relaxation=relaxation, hard=True, sinkhorn_iters=sinkhorn_iters)
        return K.gaussian_loglik(xb, K.mlp_forward(params["mech"], xb, adj), params["log_sigma"])

    ll = jnp.mean(jax.vmap(one)(noise["gumbel"], noise["logistic"]))
    kl_edges = K.bernoulli_kl(graph["theta"], hyper["prior_p"])
    # KL(q(P) || uniform) has no closed form: Monte Carlo value, score-function gradient
    # with a leave-one-out baseline (see K.permutation_kl_from_noise).
    kl_perm, kl_perm_surrogate = K.permutation_kl_from_noise(graph["psi"], noise["perm_gumbel"])
    n = hyper["n_train"]
    elbo = ll - (kl_edges + kl_perm) / n
    loss = -ll + (hyper["kl_weight"] * kl_edges + hyper["perm_weight"] * kl_perm_surrogate) / n
    return loss, elbo


@functools.lru_cache(maxsize=32)
def make_train_chunk(
    *, chunk_size: int, batch_size: int, lr: float, lr_graph: float, n_samples: int = 1,
    relaxation: str = "softsort", sinkhorn_iters: int = 20, devices: tuple = (),
):
    """The jitted training program: ``chunk_size`` Adam steps in one ``lax.scan``.

    Returns ``(init_opt, run_chunk)``: ``init_opt(params)`` (jitted) builds the optimiser
    state; ``run_chunk(params, opt_state, x_train, key, chunk_index, hyper) -> (params,
    opt_state, losses, elbos)`` with ``losses`` and ``elbos`` of shape (chunk_size,); the
    steps' keys derive from ``fold_in(key, chunk_index)``. ``hyper`` is a dict of
    scalar arrays (``tau, prior_p, kl_weight, perm_weight, n_train``), traced, so
    changing them does not recompile. Each step draws a minibatch of ``batch_size`` rows
    (uniformly, with replacement) and ``n_samples`` DAGs. Mechanisms and noise scales
    use Adam with ``lr``, the DP-DAG parameters Adam with ``lr_graph``
    (:func:`optax.multi_transform`). Cached: the same settings return the same
    compiled function. On CPU the chunk is compiled with
    :func:`discovery._jax.fast_compile_options`: it compiles faster and its steps run as
    fast (docs/benchmarks.md, "Design decisions: XLA's loop emitter on CPU").

    With more than one of ``devices`` (see :func:`discovery._jax.row_sharding`) each step is data
    parallel: the minibatch rows are split over the devices, the parameters are
    replicated, and XLA sums the gradients across devices.
    """
    opt = _optimizer(lr, lr_graph)
    objective = functools.partial(_objective, relaxation=relaxation, sinkhorn_iters=sinkhorn_iters)
    rows = row_sharding(devices)

    def step(carry, key, x_train, hyper):
        params, opt_state = carry
        n, d = x_train.shape
        noise = _draw_noise(key, n_samples=n_samples, d=d, n_uniform=batch_size)
        idx = jnp.minimum((noise["uniform"] * n).astype(jnp.int32), n - 1)  # rows drawn with replacement
        xb = x_train[idx] if rows is None else lax.with_sharding_constraint(x_train[idx], rows)
        (loss, elbo), grads = jax.value_and_grad(objective, has_aux=True)(params, xb, noise, hyper)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (loss, elbo)

    @functools.partial(jax.jit, compiler_options=fast_compile_options())  # see discovery._jax
    def run_chunk(params, opt_state, x_train, key, chunk_index, hyper):
        keys = jax.random.split(jax.random.fold_in(key, chunk_index), chunk_size)
        body = functools.partial(step, x_train=x_train, hyper=hyper)
        (params, opt_state), (losses, elbos) = lax.scan(body, (params, opt_state), keys)
        if rows is not None:  # parameters leave replicated, whatever layout XLA chose inside
            params, opt_state = lax.with_sharding_constraint((params, opt_state), replicated_sharding(devices))
        return params, opt_state, losses, elbos

    return jax.jit(opt.init), run_chunk


@functools.lru_cache(maxsize=32)
def make_val_elbo(*, n_samples: int = 8, relaxation: str = "softsort", sinkhorn_iters: int = 20, devices: tuple = ()):
    """Jitted per-row ELBO of held-out rows, averaged over ``n_samples`` DAG samples.

    ``val_elbo(params, x_val, key, hyper) -> scalar``; pass the same ``key`` every time
    (common random numbers) so that successive values differ only by the parameters.
    With more than one of ``devices`` the rows of ``x_val`` are split over them.
    """
    objective = functools.partial(_objective, relaxation=relaxation, sinkhorn_iters=sinkhorn_iters)
    rows = row_sharding(devices)

    @functools.partial(jax.jit, compiler_options=fast_compile_options())
    def val_elbo(params, x_val, key, hyper):
        noise = _draw_noise(key, n_samples=n_samples, d=x_val.shape[1])
        if rows is not None:
            x_val = lax.with_sharding_constraint(x_val, rows)
        return objective(params, x_val, noise, hyper)[1]

    return val_elbo


#: Rows per call of the held-out ELBO in :meth:`VIDPDAG.score`.
_SCORE_ROWS = 2000

#: Preprocessing options of :class:`VIDPDAG` (``transform``).
TRANSFORMS = ("auto", "log", "rank", "none")

#: ``transform="auto"`` log-transforms a strictly positive column whose sample skewness exceeds this.
AUTO_LOG_SKEWNESS = 2.0


def _skewness(x: np.ndarray) -> np.ndarray:
    z, _, _ = standardize(x, [str(j) for j in range(x.shape[1])], owner="VIDPDAG")  # moments without overflow
    return np.mean(z**3, axis=0)


def _check_float32_range(
    x: np.ndarray, names: list, limit: float = 1e18, hint: str = "use standardize=True or rescale it"
) -> None:
    """The model runs in float32: the squares of its (preprocessed) inputs must fit it."""
    big = np.abs(x).max(axis=0) > limit
    if big.any():
        j = int(np.flatnonzero(big)[0])
        raise DataError(
            f"VIDPDAG: column {names[j]!r} holds values up to {np.abs(x[:, j]).max():.3g} after preprocessing, "
            f"too large for float32 (limit {limit:.0e}); {hint}"
        )


def transform_columns(x: np.ndarray, names: list, transform: str) -> tuple[np.ndarray, list]:
    """Apply ``transform`` to the columns of ``x`` (n, d); return the new array and the transformed names.

    * ``"log"``: natural log of every column (all must be strictly positive);
    * ``"auto"``: natural log of the strictly positive columns with sample skewness above
      :data:`AUTO_LOG_SKEWNESS` whose log is less skewed (right-skewed positive
      measurements such as intensities or concentrations); the other columns unchanged;
    * ``"rank"``: normal scores ``Phi^-1((rank - 1/2) / n)`` of every column (the
      nonparanormal transform: invariant to any increasing transformation of a column);
    * ``"none"``: unchanged.

    Each is a strictly increasing map of each column, so it keeps the causal graph; it
    changes the functional form of the mechanisms and the noise, which the Gaussian
    likelihood of VI-DP-DAG (additive Gaussian noise of fixed scale) is sensitive to.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    names : list of str
        The column names (``"log"`` and ``"auto"`` rename the logged columns ``log(name)``).
    transform : {"none", "log", "auto", "rank"}

    Returns
    -------
    ndarray of shape (n, d), list of str

    Raises
    ------
    DataError
        Naming the column: a non-numeric column, NaN or inf (the check of :func:`prepare_data`,
        which calls this phase on data it has checked), ``x`` not 2-D or ``names`` not one per
        column, no row; ``"log"`` of a column with a value <= 0.
    ParameterError
        An unknown ``transform`` (the allowed values are listed).

    Examples
    --------
    >>> x = np.array([[1.0, -1.0], [np.e, 0.0], [np.e**2, 2.0]])
    >>> y, names = transform_columns(x, ["a", "b"], "rank")
    >>> y[:, 0].round(3).tolist(), names
    ([-0.967, 0.0, 0.967], ['a', 'b'])
    """
    check_option(transform, TRANSFORMS, name="transform", owner="transform_columns")
    frame = check_numeric_frame(x, name="x", columns=list(names))
    return _transform_columns(frame.to_numpy(dtype=np.float64), list(frame.columns), transform)


def _transform_columns(x: np.ndarray, names: list, transform: str) -> tuple[np.ndarray, list]:
    """:func:`transform_columns` on checked columns (finite floats, one name each)."""
    if transform == "none":
        return x, []
    if transform == "rank":
        from scipy.special import ndtri
        from scipy.stats import rankdata

        return ndtri((rankdata(x, axis=0) - 0.5) / x.shape[0]), list(names)
    positive = np.all(x > 0, axis=0)
    if transform == "log":
        if not positive.all():
            bad = [names[j] for j in np.flatnonzero(~positive)]
            raise DataError(f"transform='log' needs strictly positive columns; column(s) {bad} have values <= 0")
        return np.log(x), list(names)
    cols = np.flatnonzero(positive)
    if len(cols):
        logged = np.log(x[:, cols])
        skew_raw, skew_log = _skewness(x[:, cols]), _skewness(logged)
        cols = cols[(skew_raw > AUTO_LOG_SKEWNESS) & (np.abs(skew_log) < np.abs(skew_raw))]
    x = x.copy()
    x[:, cols] = np.log(x[:, cols])
    return x, [names[j] for j in cols]


# --------------------------------------------------------------------------- fit, in three phases
#: Held-out rows the validation ELBO of :func:`train_early_stopping` is estimated on, at most.
_VAL_ROWS = 2000


@dataclasses.dataclass(frozen=True)
class PreparedData:
    """The data of a VI-DP-DAG fit, preprocessed, split and placed (see :func:`prepare_data`).

    Attributes
    ----------
    x_train : jax.Array of shape (n_train, d), float32
        The training rows, preprocessed, on every device.
    x_val : jax.Array of shape (n_val_used, d), float32
        At most 2,000 of the held-out rows (none: early stopping is off).
    n_val : int
        How many rows were held out (before that cap).
    names : list of str
        The columns (node names).
    transformed_columns : list of str
        The columns ``transform`` changed.
    loc, scale : numpy.ndarray of shape (d,)
        The standardisation (zeros and ones without it), after ``transform``.
    key_init, key_train, key_val : jax.Array
        The PRNG keys of the initialisation, the training steps and the validation ELBO.
    """

    x_train: jax.Array
    x_val: jax.Array
    n_val: int
    names: list
    transformed_columns: list
    loc: np.ndarray
    scale: np.ndarray
    key_init: jax.Array
    key_train: jax.Array
    key_val: jax.Array


def prepare_data(
    data, *, transform: str = "auto", standardize: bool = True, validation_fraction: float = 0.2, random_state=None,
    devices: tuple | None = None,
) -> PreparedData:
    """Validate, transform, standardise and split the data of a VI-DP-DAG fit (its first phase).

    The columns are checked (numeric, finite, not constant, at least 2 columns and 10
    rows), transformed (:func:`transform_columns`), z-scored when ``standardize``,
    cast to float32, and a random ``validation_fraction`` of the rows is held out.
    ``random_state`` draws the split and then the fit's JAX key, which is split into
    the initialisation, training and validation keys. The arrays are placed whole on
    every one of ``devices`` (each training step splits its minibatch over them).

    Parameters
    ----------
    data : pandas.DataFrame or array of shape (n_samples, n_features)
    transform : {"auto", "log", "rank", "none"}
    standardize : bool
    validation_fraction : float
        In [0, 0.5).
    random_state : int, numpy Generator or None
    devices : tuple of jax.Device, optional
        Default: every device when there are several (:func:`jax.devices`), none for one.

    Returns
    -------
    PreparedData

    Raises
    ------
    DataError
        For NaN/inf, non-numeric or constant columns (named), too few rows or columns, or
        values too large for float32 without ``standardize``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({"x": rng.lognormal(sigma=1.5, size=100), "y": rng.normal(size=100)})
    >>> prep = prepare_data(data, random_state=0)
    >>> prep.x_train.shape, prep.x_val.shape, prep.transformed_columns
    ((80, 2), (20, 2), ['x'])
    """
    owner = "VIDPDAG"
    check_option(transform, TRANSFORMS, name="transform", owner=owner)
    check_bool(standardize, name="standardize", owner=owner)
    check_in_range(validation_fraction, name="validation_fraction", low=0, high=0.5, inclusive="left", owner=owner)
    frame = check_numeric_frame(data, name="data", min_rows=10, allow_constant=False)
    names = list(frame.columns)
    if len(names) < 2:
        raise DataError(f"VIDPDAG needs at least 2 columns (variables); data has {len(names)}")
    rng = check_random_state(random_state)
    x, transformed = _transform_columns(frame.to_numpy(dtype=np.float64), names, transform)  # checked above
    if standardize:
        loc, scale = center_scale(x, names, owner="VIDPDAG")
        x = (x - loc) / scale
    else:
        _check_float32_range(x, names)
        loc, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    x = x.astype(np.float32)
    n = x.shape[0]
    n_val = int(round(validation_fraction * n))
    if validation_fraction > 0 and n_val == 0:
        logger.warning("VIDPDAG: validation_fraction=%g of %d rows holds out no row; early stopping is off", validation_fraction, n)
    if n - n_val <= len(names):
        warnings.warn(
            f"VIDPDAG: {n - n_val} training rows for {len(names)} variables; a fit without its sparsity prior would "
            f"need at least d + 1 = {len(names) + 1} (with fewer, some variable is an exact linear function of the "
            "others): the posterior rests on the prior (prior_p, kl_weight)",
            UserWarning,
            stacklevel=3,
        )
    perm = rng.permutation(n)
    x_val, x_train = x[perm[:n_val]], x[perm[n_val:]]
    key = jax.random.key(int(rng.integers(2**31 - 1)))
    k_init, k_train, k_val = _split3(key)
    devices = parallel_devices() if devices is None else tuple(devices)
    xt, xv = replicate((jnp.asarray(x_train), jnp.asarray(x_val[:_VAL_ROWS])), devices)  # each step splits its minibatch
    return PreparedData(xt, xv, n_val, names, transformed, loc, scale, k_init, k_train, k_val)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train_early_stopping`.

    Attributes
    ----------
    params : dict
        The parameters of the best chunk (the last one without validation rows).
    best_step : int
        The step after which they were taken.
    n_iter : int
        Steps run.
    history : pandas.DataFrame
        Per chunk: ``step``, ``train_elbo`` and ``val_elbo`` (NaN without validation rows).
    """

    params: dict
    best_step: int
    n_iter: int
    history: pd.DataFrame


def train_early_stopping(
    run_chunk, val_elbo, params, opt_state, x_train, x_val, *, key, val_key, hyper, max_iter: int, chunk_size: int,
    patience: int = 20, progress: bool = False,
) -> TrainResult:
    """Train in chunks until the held-out ELBO stops improving (the second phase of a VI-DP-DAG fit).

    Each chunk is one call of ``run_chunk`` (``chunk_size`` steps, see
    :func:`make_train_chunk`); between chunks the losses are checked for NaN/inf, the
    held-out ELBO (:func:`make_val_elbo`, always with ``val_key``) is computed and a
    tqdm bar advances. Training stops after ``max_iter`` steps (rounded up to whole
    chunks) or ``patience`` chunks without a better held-out ELBO; the best chunk's
    parameters are returned. Without validation rows every chunk counts as the best
    (the last one is kept).

    Parameters
    ----------
    run_chunk, val_elbo : callable
        From :func:`make_train_chunk` and :func:`make_val_elbo`.
    params, opt_state
        Initial parameters (:func:`init_state`) and optimiser state (``init_opt(params)``).
    x_train, x_val : jax.Array
        Training and held-out rows (:class:`PreparedData`); ``x_val`` may have no row.
    key, val_key : jax.Array
        Keys of the training steps and of the validation ELBO.
    hyper : dict
        The traced hyperparameters of ``run_chunk`` (``tau, prior_p, kl_weight,
        perm_weight, n_train``).
    max_iter, chunk_size, patience : int
        ``chunk_size`` must be the one ``run_chunk`` was made with.
    progress : bool
        Show a tqdm bar over the steps.

    Returns
    -------
    TrainResult

    Raises
    ------
    ConvergenceError
        If the loss becomes NaN or inf (the message gives the step).
    ParameterError
        If a chunk is not ``chunk_size`` steps long.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500)
    >>> prep = prepare_data(pd.DataFrame({"x": x, "y": np.tanh(2 * x) + 0.2 * rng.normal(size=500)}), random_state=0)
    >>> init_opt, run_chunk = make_train_chunk(chunk_size=100, batch_size=128, lr=1e-3, lr_graph=3e-2)
    >>> params = init_state(prep.key_init, 2, (16, 16))
    >>> hyper = {"tau": jnp.float32(0.3), "prior_p": jnp.float32(1e-4), "kl_weight": jnp.float32(1.0),
    ...          "perm_weight": jnp.float32(1.0), "n_train": jnp.float32(prep.x_train.shape[0])}
    >>> result = train_early_stopping(run_chunk, make_val_elbo(), params, init_opt(params), prep.x_train, prep.x_val,
    ...                               key=prep.key_train, val_key=prep.key_val, hyper=hyper, max_iter=500, chunk_size=100)
    >>> result.n_iter, list(result.history.columns)
    (500, ['step', 'train_elbo', 'val_elbo'])
    """
    check_in_range(chunk_size, name="chunk_size", low=1, inclusive="left", integer=True, owner="train_early_stopping")
    check_in_range(max_iter, name="max_iter", low=1, inclusive="left", integer=True, owner="train_early_stopping")
    check_in_range(patience, name="patience", low=1, inclusive="left", integer=True, owner="train_early_stopping")
    chunk = int(chunk_size)
    has_val = x_val.shape[0] > 0
    n_chunks = -(-int(max_iter) // chunk)
    best = (-np.inf, params, 0)
    bad = 0
    rows = []
    bar = progress_bar(progress, total=n_chunks * chunk, desc="VI-DP-DAG", unit="step")
    step = 0
    try:
        for c in range(n_chunks):
            params, opt_state, losses, elbos = run_chunk(params, opt_state, x_train, key, c, hyper)
            losses = np.asarray(losses)
            if losses.shape != (chunk,):
                raise ParameterError(f"train_early_stopping: run_chunk ran {losses.shape[0]} steps, not chunk_size={chunk}")
            if not np.all(np.isfinite(losses)):
                first = step + int(np.argmax(~np.isfinite(losses))) + 1
                raise ConvergenceError(
                    f"VI-DP-DAG training diverged: the loss is NaN/inf at step {first}; lower 'lr' / 'lr_graph' "
                    "or standardise the data"
                )
            step += chunk
            train = float(np.mean(np.asarray(elbos)))
            val = float(val_elbo(params, x_val, val_key, hyper)) if has_val else train
            rows.append((step, train, val if has_val else np.nan))
            bar.update(chunk)
            bar.set_postfix(train_elbo=f"{train:.3f}", val_elbo=f"{val:.3f}")
            if not has_val:
                best = (val, params, step)
            elif val > best[0]:
                best, bad = (val, params, step), 0
            else:
                bad += 1
                if bad >= patience:
                    logger.info("VI-DP-DAG: early stop at step %d (best validation ELBO %.4f at step %d)", step, best[0], best[2])
                    break
    finally:
        bar.close()
    return TrainResult(best[1], best[2], step, pd.DataFrame(rows, columns=["step", "train_elbo", "val_elbo"]))


def finalise_posterior(params, names, *, permutation: str = "softsort", tau: float = 0.3, threshold: float = 0.5) -> tuple:
    """The fitted distribution over DAGs, its edge marginals and its mode (the last phase of a VI-DP-DAG fit).

    Parameters
    ----------
    params : dict
        Trained parameters (:attr:`TrainResult.params`); their ``"graph"`` entry holds the
        DP-DAG logits ``psi`` and ``theta``.
    names : list of str
        Node names, in column order.
    permutation : {"softsort", "sinkhorn"}
    tau : float
        The relaxation temperature the model was trained with.
    threshold : float
        Edges of the mode: ``i -> j`` with ``i`` before ``j`` in the most probable
        ordering and ``P(i -> j | ordering) > threshold``.

    Returns
    -------
    dpdag : DPDAG
    edge_probs : pandas.DataFrame
        ``P(i -> j)`` (rows: causes), indexed by ``names``.
    graph : networkx.DiGraph
        The mode, a DAG over ``names``.

    Examples
    --------
    >>> import jax
    >>> params = init_state(jax.random.key(0), 3, (4,))
    >>> dpdag, probs, graph = finalise_posterior(params, ["a", "b", "c"])
    >>> probs.shape, sorted(graph.nodes)
    ((3, 3), ['a', 'b', 'c'])
    """
    q = DPDAG.from_params(params["graph"]["psi"], params["graph"]["theta"], permutation=permutation, tau=float(tau))
    probs = np.asarray(q.edge_probs(), dtype=float)
    graph = adjacency_to_dag(np.asarray(q.mode(float(threshold))), nodes=list(names))
    return q, pd.DataFrame(probs, index=list(names), columns=list(names)), graph


# --------------------------------------------------------------------------- estimator
class VIDPDAG(ParamsMixin):
    """Variational DAG learning with DP-DAG (VI-DP-DAG) and neural mechanisms.

    Parameters
    ----------
    hidden : tuple of int, default (16, 16)
        Hidden layer sizes of each node's MLP (leaky-ReLU). The MLP of node ``j`` sees
        its sampled parents only (input masked by column ``j`` of ``A``). An empty tuple gives
        linear mechanisms (a linear-Gaussian model).
    permutation : {"softsort", "sinkhorn"}, default "softsort"
        Relaxation of the ordering sample (see :class:`DPDAG`).
    tau : float, default 0.3
        Temperature of the relaxations (> 0).
    prior_p : float, default 1e-4
        Prior edge probability of the Bernoulli prior in the KL term, in (0, 1). An
        edge with posterior probability near 1 costs about ``log(1 / prior_p)`` nats
        (9.2 at the default) of the ELBO, against its gain in log-likelihood summed
        over the training rows. The mechanisms are point estimates (maximum
        likelihood), so every extra parent improves the training fit a little; with
        the earlier default 0.1 (2.3 nats per edge) the ELBO kept 2 to 5 times too
        many edges on Sachs, SynTReN and simulated graphs (see ``docs/benchmarks.md``).
    kl_weight : float, default 1.0
        Weight of ``KL(q(E) || Bernoulli(prior_p))``; 1 is the ELBO, larger values
        sparsify more.
    perm_weight : float, default 1.0
        Weight of ``KL(q(P) || uniform orderings)`` (= ``log d! - entropy``); 1 is the
        ELBO, 0 switches the permutation regulariser off.
    lr : float, default 1e-3
        Adam learning rate of the mechanisms and noise scales.
    lr_graph : float, default 3e-2
        Adam learning rate of the DP-DAG logits ``psi`` and ``theta``. The gradient
        reaching the permutation logits is noisy (one ordering per step); at 3e-3
        they had barely separated after 20,000 steps and the fit stopped in an
        ordering of lower held-out ELBO than the consensus ordering.
    batch_size : int, default 128
        Rows per step (capped at the number of training rows).
    n_graph_samples : int, default 1
        DAG samples per step.
    max_iter : int, default 20000
        Maximum training steps (rounded up to whole chunks).
    chunk_size : int, default 250
        Steps per compiled ``lax.scan`` chunk; validation, early stopping, the NaN
        check and the progress bar act between chunks.
    validation_fraction : float, default 0.2
        Share of rows held out for the validation ELBO, in [0, 0.5); the ELBO is estimated
        on at most 2,000 of them. 0 disables early stopping (the last parameters are
        kept), and so does a fraction that rounds to no row (logged as a warning).
    patience : int, default 20
        Stop after this many chunks without a better validation ELBO; the best
        parameters are restored.
    threshold : float, default 0.5
        Edges of ``graph_``: ``i -> j`` with ``i`` before ``j`` in the most probable
        ordering and ``P(i -> j | ordering) > threshold``.
    transform : {"auto", "log", "rank", "none"}, default "auto"
        Column transformation applied before standardising (see Notes and
        :func:`transform_columns`): ``"auto"`` takes the natural log of the strictly
        positive, strongly right-skewed columns (sample skewness above 2, e.g. raw
        fluorescence intensities) and leaves the others unchanged; ``"log"`` logs every
        column; ``"rank"`` replaces every column by its normal scores; ``"none"``
        fits the data as given. The transformed columns are listed in
        ``transformed_columns_``.
    standardize : bool, default True
        Fit on z-scored columns (after ``transform``; see Notes).
    progress : bool, default False
        Show a tqdm bar over the chunks.
    random_state : int, numpy Generator or None, default None
        Seeds the validation split and the JAX key of the initialisation and training.

    Attributes
    ----------
    edge_probs_ : pandas.DataFrame
        Exact marginals ``P(i -> j)`` of the fitted DP-DAG (rows: causes).
    graph_ : networkx.DiGraph
        The mode: always a DAG.
    dpdag_ : DPDAG
        The fitted distribution over DAGs.
    history_ : pandas.DataFrame
        Per chunk: ``step``, ``train_elbo`` (mean minibatch estimate) and ``val_elbo``,
        both per row (log-likelihood per row minus the KL terms divided by the number of
        training rows).
    n_iter_ : int
        Training steps run.
    best_step_ : int
        The step whose parameters were kept.
    noise_scale_ : pandas.Series
        The learned noise standard deviation of each node (in the units of the data after
        ``transform``: log units for a log-transformed column).
    transformed_columns_ : list of str
        The columns that ``transform`` changed.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str

    Notes
    -----
    *ELBO.* With a uniform prior over orderings and independent ``Bernoulli(prior_p)``
    edges, ``KL(q || p) = KL(q(E) || p(E)) + KL(q(P) || p(P))``. The edge term is the
    closed-form Bernoulli KL summed over the ``d(d-1)`` logits (the reference code's
    ``KLDivLoss`` applied to logits is not a KL and rewards edges: not reproduced
    here). The permutation term has no closed form: it is estimated from
    16 extra orderings per step (cheap: no mechanism is evaluated) with a
    score-function gradient and a leave-one-out baseline
    (:func:`discovery.differentiable._kernels.permutation_kl`). Measured on Sachs, its gradient on
    ``psi`` is about 30 times smaller than the likelihood's, so it regularises
    without drowning the ordering signal. Both are divided by
    the number of training rows, so the loss is per row.

    *Scale and shape.* The Gaussian likelihood has a learned variance per node, so
    rescaling a column shifts the log-likelihood of every graph by the same constant:
    the model's preferences between graphs do not depend on the units.
    ``standardize=True`` only makes the optimisation well-conditioned (float32, fixed
    learning rates); raw and z-scored data then give the same result. The *shape* of
    a column matters, however: heavy right tails (a few cells 100 times brighter than
    the median, as in flow cytometry) violate the additive Gaussian noise model, the
    mechanisms then chase the outliers and the held-out likelihood is dominated by
    them. ``transform="auto"`` logs such columns; it can only recognise them while
    they are positive, so z-scoring heavy-tailed data *before* calling ``fit`` hides
    them (use ``transform="rank"`` there, which does not depend on the scale).

    *Computation.* Training runs in float32 in chunks of ``chunk_size`` steps, each a
    single call of a jitted ``lax.scan``; the compiled program is cached by its static
    settings, so fitting again with the same sizes does not recompile. The
    initialisation is jitted too (one program instead of one per random draw).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import networkx as nx
    >>> rng = np.random.default_rng(1)
    >>> a = rng.uniform(-2, 2, size=800)
    >>> b = np.tanh(2 * a) + 0.3 * rng.normal(size=800)
    >>> c = rng.normal(size=800)
    >>> model = VIDPDAG(max_iter=1000, random_state=0).fit(pd.DataFrame({"a": a, "b": b, "c": c}))
    >>> nx.is_directed_acyclic_graph(model.graph_)
    True
    >>> model.edge_probs_.shape, list(model.history_.columns)
    ((3, 3), ['step', 'train_elbo', 'val_elbo'])
    """

    _parameter_constraints = {
        "hidden": Satisfies(is_layer_sizes, "a tuple of positive ints"),
        "permutation": Options(RELAXATIONS),
        "tau": Interval(Real, 0, None),
        "prior_p": Interval(Real, 0, 1),
        "kl_weight": Interval(Real, 0, None, closed="left"),
        "perm_weight": Interval(Real, 0, None, closed="left"),
        "lr": Interval(Real, 0, None),
        "lr_graph": Interval(Real, 0, None),
        "batch_size": Interval(Integral, 1, None, closed="left"),
        "n_graph_samples": Interval(Integral, 1, None, closed="left"),
        "max_iter": Interval(Integral, 1, None, closed="left"),
        "chunk_size": Interval(Integral, 1, None, closed="left"),
        "validation_fraction": Interval(Real, 0, 0.5, closed="left"),
        "patience": Interval(Integral, 1, None, closed="left"),
        "threshold": Interval(Real, 0, 1, closed="left"),
        "transform": Options(TRANSFORMS),
        "standardize": Boolean(),
        "progress": Boolean(),
        "random_state": RandomState(),
    }

    def __init__(
        self,
        *,
        hidden: tuple = (16, 16),
        permutation: str = "softsort",
        tau: float = 0.3,
        prior_p: float = 1e-4,
        kl_weight: float = 1.0,
        perm_weight: float = 1.0,
        lr: float = 1e-3,
        lr_graph: float = 3e-2,
        batch_size: int = 128,
        n_graph_samples: int = 1,
        max_iter: int = 20_000,
        chunk_size: int = 250,
        validation_fraction: float = 0.2,
        patience: int = 20,
        threshold: float = 0.5,
        transform: str = "auto",
        standardize: bool = True,
        progress: bool = False,
        random_state=None,
    ):
        self.hidden = hidden
        self.permutation = permutation
        self.tau = tau
        self.prior_p = prior_p
        self.kl_weight = kl_weight
        self.perm_weight = perm_weight
        self.lr = lr
        self.lr_graph = lr_graph
        self.batch_size = batch_size
        self.n_graph_samples = n_graph_samples
        self.max_iter = max_iter
        self.chunk_size = chunk_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.threshold = threshold
        self.transform = transform
        self.standardize = standardize
        self.progress = progress
        self.random_state = random_state

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "graph_")

    def score(self, data, y=None) -> float:
        """Held-out ELBO per row of ``data``, in the units of ``data``: higher is better.

        The same estimate as the validation ELBO of ``history_`` (8 DAG samples, the same
        random numbers on every call, the KL terms divided by the number of training rows),
        plus the log-Jacobian of the fitted preprocessing, ``-sum_j log(scale_j)`` for the
        standardisation and ``-sum log x`` over the log-transformed columns. So it is a lower
        bound on the log-likelihood per row of ``data`` as given, comparable between fits
        with any ``standardize``, ``transform="none"``, ``"log"`` or ``"auto"`` and any other
        parameters: what :class:`sklearn.model_selection.GridSearchCV` needs to choose,
        say, ``prior_p`` or ``kl_weight`` by cross-validation instead of by a known graph.

        Parameters
        ----------
        data : pandas.DataFrame or array of shape (n_samples, n_features)
            A DataFrame must hold the columns seen by ``fit`` (others are ignored); an
            array must have them in that order.
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        float

        Raises
        ------
        ParameterError
            If the model was fitted with ``transform="rank"``: its normal scores are
            fitted to the training rows and have no density on new data.
        DataError
            If a log-transformed column has a value <= 0 (the column is named).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=400)
        >>> data = pd.DataFrame({"x": x, "y": np.tanh(2 * x) + 0.2 * rng.normal(size=400)})
        >>> model = VIDPDAG(max_iter=500, random_state=0).fit(data[:300])
        >>> model.score(data[300:]) > model.score(data[300:] * [1, 5])  # y's noise 5x wider
        True
        """
        if not hasattr(self, "_scoring"):
            raise NotFittedError("This VIDPDAG instance is not fitted yet; call 'fit' first.")
        if self.transform == "rank":
            raise ParameterError(
                "VIDPDAG.score is not defined for transform='rank': its normal scores are fitted to the "
                "training rows; compare models fitted with transform='none', 'log' or 'auto'"
            )
        names = list(self.feature_names_in_)
        x = columns_seen_by_fit(data, names, "VIDPDAG", name="data").to_numpy(dtype=np.float64, copy=True)
        logged = [names.index(c) for c in self.transformed_columns_]
        jacobian = np.zeros(x.shape[0])
        for j in logged:
            if not np.all(x[:, j] > 0):
                raise DataError(f"data column {names[j]!r} has values <= 0; the model log-transforms it")
            jacobian -= np.log(x[:, j])
            x[:, j] = np.log(x[:, j])
        sc = self._scoring
        z = (x - sc["loc"]) / sc["scale"]
        _check_float32_range(z, names, hint="the data are far outside the range the model was fitted on")
        z = z.astype(np.float32)
        devices = parallel_devices()
        val_elbo = make_val_elbo(relaxation=self.permutation, devices=devices)
        total = 0.0
        for lo in range(0, len(z), _SCORE_ROWS):  # blocks bound the (rows x samples x nodes) intermediates
            block = replicate(jnp.asarray(z[lo : lo + _SCORE_ROWS]), devices)  # beside the replicated parameters
            total += len(block) * float(val_elbo(self.params_, block, sc["key"], sc["hyper"]))
        return total / len(z) - float(np.sum(np.log(sc["scale"]))) + float(np.mean(jacobian))

    def sample_graphs(self, n: int = 1, *, key) -> list[nx.DiGraph]:
        """Draw ``n`` DAGs from the fitted posterior ``q(A)`` (:attr:`dpdag_`), with named nodes.

        Each draw samples an ordering and then the edges it allows, so every graph is a
        DAG; the share of draws holding ``i -> j`` estimates ``edge_probs_.loc[i, j]``.

        Parameters
        ----------
        n : int, default 1
            Number of graphs.
        key : jax.Array
            A JAX PRNG key (:func:`jax.random.key`).

        Returns
        -------
        list of networkx.DiGraph

        Examples
        --------
        >>> import jax, numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=300)
        >>> data = pd.DataFrame({"x": x, "y": np.tanh(2 * x) + 0.2 * rng.normal(size=300)})
        >>> model = VIDPDAG(max_iter=500, random_state=0).fit(data)
        >>> graphs = model.sample_graphs(200, key=jax.random.key(0))
        >>> len(graphs), sorted(graphs[0].nodes)
        (200, ['x', 'y'])
        """
        if not hasattr(self, "dpdag_"):
            raise NotFittedError("This VIDPDAG instance is not fitted yet; call 'fit' first.")
        check_in_range(n, name="n", low=1, inclusive="left", integer=True, owner="VIDPDAG.sample_graphs")
        check_key(key, owner="VIDPDAG.sample_graphs")
        adjacency = np.asarray(self.dpdag_.sample(key, int(n))) > 0.5  # straight-through values are 0/1 up to rounding
        return [adjacency_to_dag(a, nodes=list(self.feature_names_in_)) for a in adjacency]

    def fit(self, data, y=None) -> VIDPDAG:
        """Fit the variational posterior over DAGs and the mechanisms to ``data``.

        Three phases, each a function of :mod:`discovery.differentiable`:
        :func:`prepare_data` (validate, transform, standardise, split, place on the
        devices), :func:`train_early_stopping` (the jitted chunks of
        :func:`make_train_chunk` from :func:`init_state`, stopped on the held-out ELBO of
        :func:`make_val_elbo`) and :func:`finalise_posterior` (the DP-DAG, its edge
        probabilities and its mode).

        Parameters
        ----------
        data : pandas.DataFrame or array of shape (n_samples, n_features)
            At least 2 numeric, non-constant columns and 10 rows; column names become
            node names.
        y : ignored

        Returns
        -------
        VIDPDAG
            ``self``.

        Raises
        ------
        ParameterError
            For an invalid parameter (named, with the allowed values or range).
        DataError
            For NaN/inf, non-numeric or constant columns (named), or too few rows.
        ConvergenceError
            If the loss becomes NaN (the message gives the step).
        """
        self._validate_params()
        devices = parallel_devices()
        prep = prepare_data(data, transform=self.transform, standardize=self.standardize,
                            validation_fraction=self.validation_fraction, random_state=self.random_state, devices=devices)  # fmt: skip
        names, n_train = prep.names, prep.x_train.shape[0]
        d = len(names)
        chunk = int(self.chunk_size)
        init_opt, run_chunk = make_train_chunk(
            chunk_size=chunk, batch_size=min(int(self.batch_size), n_train), lr=float(self.lr),
            lr_graph=float(self.lr_graph), n_samples=int(self.n_graph_samples), relaxation=self.permutation,
            devices=devices,
        )
        val_elbo = make_val_elbo(relaxation=self.permutation, devices=devices)
        hyper = {
            "tau": jnp.float32(self.tau), "prior_p": jnp.float32(self.prior_p), "kl_weight": jnp.float32(self.kl_weight),
            "perm_weight": jnp.float32(self.perm_weight), "n_train": jnp.float32(n_train),
        }  # fmt: skip
        params = init_state(prep.key_init, d, tuple(int(h) for h in self.hidden))
        t0 = time.perf_counter()
        trained = train_early_stopping(
            run_chunk, val_elbo, params, init_opt(params), prep.x_train, prep.x_val, key=prep.key_train,
            val_key=prep.key_val, hyper=hyper, max_iter=int(self.max_iter), chunk_size=chunk, patience=int(self.patience),
            progress=self.progress,
        )  # fmt: skip
        logger.info(
            "VI-DP-DAG on %d variables, %d rows: %d steps in %.2f s", d, n_train + prep.n_val, trained.n_iter, time.perf_counter() - t0
        )
        q, probs, graph = finalise_posterior(trained.params, names, permutation=self.permutation, tau=self.tau,
                                             threshold=self.threshold)  # fmt: skip
        self.edge_probs_ = probs
        self.graph_ = graph
        self.dpdag_ = q
        self.history_ = trained.history
        self.n_iter_ = trained.n_iter
        self.best_step_ = trained.best_step
        self.noise_scale_ = pd.Series(np.exp(np.asarray(trained.params["log_sigma"], dtype=float)) * prep.scale, index=names)
        self.transformed_columns_ = prep.transformed_columns
        self.params_ = trained.params
        self._scoring = {"loc": prep.loc, "scale": prep.scale, "key": prep.key_val, "hyper": hyper}
        self.n_features_in_ = d
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self
