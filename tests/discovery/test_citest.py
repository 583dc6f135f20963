"""Tests of the conditional-independence tests (discovery.citest._citest, discovery.citest._kernels).

Reference values come from causal-learn (``causallearn.utils.cit.CIT``) with its
defaults; tolerances are stated per test.
"""

from __future__ import annotations

import pickle
import textwrap

import jax
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.citest import CI_TESTS, KCI, ChiSquare, CITest, DSeparation, FisherZ, GSquare, _citest, _kernels, make_ci_test
from scm import DataError, ParameterError, UnknownNodeError, d_separated
from tests.devices import run_here, run_on_devices

cit = pytest.importorskip("causallearn.utils.cit")


# --------------------------------------------------------------------------- #
# fixtures
# --------------------------------------------------------------------------- #
def nonlinear_data(n, seed, p=5):
    """A nonlinear chain X0 -> X1 -> X2 -> X3 and an independent X4."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, p))
    z[:, 1] += np.sin(2 * z[:, 0])
    z[:, 2] += 0.5 * z[:, 1] ** 2
    z[:, 3] += np.tanh(z[:, 2])
    return z


def linear_data(n, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 6))
    z[:, 1] += 0.8 * z[:, 0]
    z[:, 2] += 0.5 * z[:, 1] - 0.4 * z[:, 0]
    z[:, 4] += 0.7 * z[:, 2] + 0.3 * z[:, 3]
    return z


def discrete_data(n, seed):
    rng = np.random.default_rng(seed)
    d = np.column_stack([rng.integers(0, c, size=n) for c in (2, 3, 4, 2, 3)])
    d[:, 1] = (d[:, 0] + (rng.random(n) < 0.3)) % 3
    d[:, 2] = (d[:, 1] + d[:, 3] + (rng.random(n) < 0.3)) % 4
    return d


QUERIES = [
    (0, 1, []), (0, 3, []), (1, 4, []), (2, 4, []),
    (0, 2, [1]), (1, 3, [2]), (0, 4, [3]), (1, 4, [0]),
    (0, 3, [1, 2]), (2, 4, [0, 1]), (0, 4, [1, 3]),
]
QUERIES_3 = QUERIES + [(0, 4, [1, 2, 3]), (1, 4, [0, 2, 3])]


def reference(method, data, queries, **kwargs):
    test = cit.CIT(data, method, **kwargs)
    return np.array([test(x, y, s) for x, y, s in queries])


# --------------------------------------------------------------------------- #
# Fisher-z
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fisherz_matches_causallearn(seed):
    data = linear_data(150 + 50 * seed, seed)
    queries = QUERIES_3 + [(3, 5, [0, 1, 2, 4])]
    got = FisherZ(data).pvalues(queries)
    np.testing.assert_allclose(got, reference("fisherz", data, queries), rtol=0, atol=1e-10)


def test_fisherz_one_program_for_every_set_size_and_batch_size(monkeypatch):
    """|S| = 0..6 and batches of 33 to 3,000 queries reuse one compiled kernel (the host
    path turned off above 32 queries); a few queries are computed on the host and agree
    with the kernel to 1e-12; large |S| and batches larger than one call give the same
    p-values as small ones."""
    from discovery.citest import _citest

    monkeypatch.setattr(_citest, "_FISHERZ_HOST_MAX", 32)
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_MAX_COND", -1)
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_CELLS", 0)
    rng = np.random.default_rng(3)
    data = rng.normal(size=(300, 12)) @ rng.normal(size=(12, 12))
    test = FisherZ(data)
    test.pvalues([(i, j, []) for i in range(12) for j in range(i + 1, 12)])  # 66 queries: compile
    before = _kernels.TRACE_COUNTS["fisherz_batch"]
    queries = [(i % 12, (i + 1) % 12, [(i + 2 + m) % 12 for m in range(k)]) for i in range(40) for k in range(7)]
    many = [(i % 12, (i + 1 + i // 12) % 12, []) for i in range(3000)]
    many = [q for q in many if q[0] != q[1]]
    batched = test.pvalues(queries)
    test.pvalues(many)
    assert _kernels.TRACE_COUNTS["fisherz_batch"] == before
    host = np.array([FisherZ(data).pvalue(*q) for q in queries[:30]])  # single queries: the host path
    np.testing.assert_allclose(host, batched[:30], rtol=1e-10, atol=1e-12)
    assert _kernels.TRACE_COUNTS["fisherz_batch"] == before
    idx = np.array([[0, 1, 2, 3], [4, 5, 0, 1]])
    with jax.enable_x64(True):
        kernel = np.asarray(_kernels.fisherz_batch(test.correlation_, np.pad(idx, ((0, 0), (0, 4)), constant_values=-1)[None]))
    np.testing.assert_allclose(_citest._fisherz_host(test.correlation_, idx)[:, 0], kernel[0, :, 0], rtol=1e-12)
    big = (0, 1, list(range(2, 12)))  # |S| = 10: the K = 16 program
    assert test.pvalue(*big) == pytest.approx(float(reference("fisherz", data, [big])[0]), abs=1e-10)


@pytest.mark.parametrize("bucket", [8, 16])
def test_fisherz_host_path_equals_the_kernel(bucket, monkeypatch):
    """The numpy path (batches up to _FISHERZ_HOST_MAX queries) and the jitted kernel run one body of
    arithmetic: partial correlations and pivots agree to 1e-12 on every |S| of the bucket, on
    correlated data and on nearly collinear columns, and p-values through FisherZ agree to 1e-12."""
    from discovery.citest import _citest

    rng = np.random.default_rng(7)
    p = 14
    data = rng.normal(size=(400, p)) @ rng.normal(size=(p, p))
    data[:, -1] = data[:, 0] + 1e-6 * rng.normal(size=400)  # near collinearity: tiny pivots
    corr = np.corrcoef(data, rowvar=False)
    rows = []
    for _ in range(600):
        k = int(rng.integers(0, min(bucket, p) - 1))
        rows.append(np.concatenate([rng.choice(p, size=k + 2, replace=False), np.full(bucket - k - 2, -1)]))
    idx = np.array(rows, dtype=np.int64)
    host = _citest._fisherz_host(corr, idx)
    with jax.enable_x64(True):
        kernel = np.asarray(_kernels.fisherz_batch(corr, idx[None]))[0]
    assert host.shape == kernel.shape == (600, 2)
    # the same queries flagged for the rank check (on these FisherZ refuses the data); elsewhere
    # equal to 1e-12 (near-collinear queries amplify the last bit by their condition number)
    flagged = kernel[:, 1] <= 1e-10
    assert 0 < flagged.sum() < 600 and np.array_equal(host[:, 1] <= 1e-10, flagged)
    np.testing.assert_allclose(host[~flagged], kernel[~flagged], rtol=1e-12, atol=1e-12)
    # through the test: the same p-values whichever path a batch takes
    test = FisherZ(data[:, :-1])
    queries = [(int(r[0]), int(r[1]), [int(v) for v in r[2:] if v >= 0]) for r in idx if p - 1 not in r]
    on_host = test.pvalues(queries)
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_MAX", 0)
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_MAX_COND", -1)
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_CELLS", 0)
    on_kernel = test.pvalues(queries)
    np.testing.assert_allclose(on_host, on_kernel, rtol=1e-12, atol=1e-12)


def test_fisherz_statistic_and_known_answers():
    data = linear_data(400, 0)
    stat, p = FisherZ(data).test([(0, 3, []), (0, 1, [])])
    assert p[0] > 0.01 and p[1] < 1e-10
    assert stat[1] > stat[0] >= 0


@pytest.mark.parametrize(
    "make_bad, names",
    [
        (lambda d: np.column_stack([d, d[:, 0] + 2 * d[:, 1]]), ["X0", "X1", "X6"]),
        (lambda d: np.column_stack([d[:, :3], 3 * d[:, 0] - d[:, 2]]), ["X0", "X2", "X3"]),
    ],
)
def test_fisherz_collinear_columns_raise_dataerror(make_bad, names):
    data = make_bad(linear_data(100, 0))
    with pytest.raises(DataError, match="linearly dependent") as info:
        FisherZ(data)
    for name in names:
        assert repr(name) in str(info.value)


def test_fisherz_too_few_rows():
    data = np.random.default_rng(0).normal(size=(5, 4))
    test = FisherZ(data)
    assert np.isfinite(test.pvalue(0, 1, [2]))
    with pytest.raises(DataError, match="at least 6 rows"):
        test.pvalue(0, 1, [2, 3])


# --------------------------------------------------------------------------- #
# KCI, exact
# --------------------------------------------------------------------------- #
KCI_PARITY_ATOL = 1e-4


@pytest.mark.parametrize(
    "n, seed", [(120, 0), pytest.param(260, 1, marks=pytest.mark.slow), pytest.param(420, 2, marks=pytest.mark.slow)]
)
def test_kci_matches_causallearn(n, seed):
    """Gamma approximation, empirical widths; max |dp| measured about 5e-5."""
    data = nonlinear_data(n, seed)
    got = KCI(data).pvalues(QUERIES)
    ref = reference("kci", data, QUERIES)
    assert np.abs(got - ref).max() < KCI_PARITY_ATOL
    # both dependent and independent cases are covered
    assert ref.min() < 0.01 and ref.max() > 0.3


def test_kci_median_width_matches_causallearn_conditional():
    """causal-learn sets conditional median widths on standardised data, as we do."""
    data = nonlinear_data(200, 5)
    queries = [q for q in QUERIES if q[2]]
    got = KCI(data, width="median").pvalues(queries)
    ref = reference("kci", data, queries, est_width="median")
    assert np.abs(got - ref).max() < KCI_PARITY_ATOL


def test_kci_detects_nonlinear_dependence_and_screening():
    data = nonlinear_data(300, 7)
    p = KCI(data).pvalues([(0, 1, []), (0, 2, [1]), (1, 3, [2])])
    assert p[0] < 1e-3
    assert p[1] > 0.01 and p[2] > 0.01


@pytest.mark.slow
def test_kci_trace_moments_equal_eigen_moments():
    """The trace identities give causal-learn's uu^T mean and variance without truncation."""
    rng = np.random.default_rng(0)
    n = 60
    a, b = rng.normal(size=(n, 8)), rng.normal(size=(n, 5))
    kx, ky = a @ a.T, b @ b.T
    with jax.enable_x64(True):
        stat, mean, var = np.asarray(_kernels._cond_moments(kx, ky))
    wx, vx = np.linalg.eigh(kx)
    wy, vy = np.linalg.eigh(ky)
    ux = vx * np.sqrt(np.clip(wx, 0, None))
    uy = vy * np.sqrt(np.clip(wy, 0, None))
    uu = (ux[:, :, None] * uy[:, None, :]).reshape(n, -1)
    prod = uu.T @ uu
    np.testing.assert_allclose(mean, np.trace(prod), rtol=1e-10)
    np.testing.assert_allclose(var, 2 * np.trace(prod @ prod), rtol=1e-10)
    np.testing.assert_allclose(stat, np.sum(kx * ky), rtol=1e-12)


def test_kci_batch_equals_single_queries_and_order_invariance():
    data = pd.DataFrame(nonlinear_data(120, 3), columns=list("ABCDE"))
    test = KCI(data)
    queries = [("A", "B", []), ("C", "A", ["B"]), ("A", "D", ["C", "B"]), ("E", "A", ["D", "B"])]
    batch = test.pvalues(queries)
    single = [test.pvalue(*q) for q in queries]
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-12)
    # x/y order and S order do not matter; integer positions name the same columns
    assert test.pvalue("D", "A", ["B", "C"]) == pytest.approx(batch[2], abs=1e-12)
    assert test.pvalue(3, 0, [2, 1]) == pytest.approx(batch[2], abs=1e-12)


def test_second_call_does_not_recompile(monkeypatch):
    monkeypatch.setattr(_citest, "_KCI_HOST_MAX_ROWS", 0)  # the compiled kernels, not the numpy path of small n
    data = nonlinear_data(120, 4)
    test = KCI(data)
    queries = [(0, 2, [1]), (1, 3, [2]), (0, 3, [1, 2])]
    first = test.pvalues(queries)
    counts = dict(_kernels.TRACE_COUNTS)
    cache = _kernels.kci_cond_group._cache_size()
    again = KCI(nonlinear_data(120, 5)).pvalues([(1, 3, [0]), (2, 4, [1]), (0, 4, [2, 3])])
    assert dict(_kernels.TRACE_COUNTS) == counts
    assert _kernels.kci_cond_group._cache_size() == cache
    assert not np.allclose(first, again)
    fz = FisherZ(data)
    fz.pvalues(queries)
    counts = dict(_kernels.TRACE_COUNTS)
    fz.pvalues([(0, 4, [1]), (2, 3, [0])])
    assert dict(_kernels.TRACE_COUNTS) == counts


def test_kci_one_program_for_every_set_size_and_batch_size(monkeypatch):
    """Exact KCI compiles its X kernel once and its group program once per rank bucket.

    Discrete conditioning columns and ``y`` keep every factor's rank within the first bucket
    (32), so queries with ``|S| = 1, 2, 3`` and batches of 1 and 3 queries reuse one program
    of each kind; unconditional queries compile nothing.
    """
    monkeypatch.setattr(_citest, "_KCI_HOST_MAX_ROWS", 0)  # the compiled kernels, not the numpy path of small n
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, size=(80, 4)).astype(float)
    x = codes[:, :3] @ [0.5, -0.4, 0.3] + rng.normal(size=80)
    data = np.column_stack([x, codes])
    test = KCI(data)
    test.pvalues([(0, 1, [2])])
    counts = dict(_kernels.TRACE_COUNTS)
    test.pvalues([(0, 1, [2, 3]), (0, 1, [2, 3, 4]), (0, 3, [1]), (0, 4, [])])
    assert dict(_kernels.TRACE_COUNTS) == counts


def test_kci_pickles_after_use_and_gamma_tail_matches_scipy():
    """A used KCI pickles (its device copies are dropped); the gamma tail is scipy.stats' to rounding."""
    from scipy import stats

    from discovery.citest._citest import _gamma_sf

    data = nonlinear_data(60, 7)
    test = KCI(data)
    p = test.pvalues([(0, 1, [2]), (0, 3, [])])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(test)).pvalues([(0, 1, [2]), (0, 3, [])]), p)
    rng = np.random.default_rng(1)
    stat, mean, var = rng.gamma(2.0, size=(3, 50))
    np.testing.assert_allclose(_gamma_sf(stat, mean, var), stats.gamma.sf(stat, mean**2 / var, scale=var / mean), rtol=1e-13)
    # degenerate nulls (zero mean or variance, NaN) and a negative statistic: p-value 1, as before
    np.testing.assert_array_equal(_gamma_sf(np.array([1.0, 1.0, np.nan, -1.0]), np.array([0.0, 1.0, 1.0, 1.0]),
                                            np.array([1.0, 0.0, 1.0, 1.0])), [1.0, 1.0, 1.0, 1.0])


def test_kci_options_are_validated():
    data = nonlinear_data(50, 0)
    with pytest.raises(ParameterError, match=r"'width'.*\['empirical', 'median'\].*'silverman'"):
        KCI(data, width="silverman")
    with pytest.raises(ParameterError, match=r"\['exact', 'dense', 'nystrom', 'rff'\]"):
        KCI(data, approximation="svd")
    with pytest.raises(ParameterError, match="n_components"):
        KCI(data, approximation="rff", n_components=0)
    with pytest.raises(ParameterError, match="'tol'"):
        KCI(data, tol=0.0)


@pytest.mark.parametrize(
    "approximation, budget", [("exact", 120 * 32 * 8), pytest.param("dense", 10 * 120 * 120 * 8, marks=pytest.mark.slow)]
)
def test_kci_small_memory_budget_chunks_without_changing_results(approximation, budget):
    """A budget of one conditioning set's factor (or R_Z) per block: one kernel call per set."""
    data = nonlinear_data(120, 6)
    queries = [(0, 2, [1]), (1, 3, [2]), (0, 4, [3]), (1, 4, [0]), (0, 1, []), (2, 3, []), (0, 3, [1])]
    full = KCI(data, approximation=approximation).pvalues(queries)
    chunked = KCI(data, approximation=approximation, max_batch_bytes=budget).pvalues(queries)
    np.testing.assert_allclose(chunked, full, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- #
# KCI, exact from factors vs dense
# --------------------------------------------------------------------------- #
FAST_DENSE_ATOL = 1e-8  # measured max |dp| about 1.3e-9 (n = 300 - 1000, |S| <= 3, tol = 1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("width", ["empirical", "median"])
def test_kci_fast_exact_equals_dense(width):
    """The factor path (pivoted Cholesky + Woodbury) reproduces the dense n x n computation."""
    rng = np.random.default_rng(21)
    data = nonlinear_data(300, 21, p=6)
    data[:, 5] = rng.integers(0, 4, size=300)  # a discrete "context" column: a low-rank kernel
    queries = [(0, 1, []), (2, 5, []), (0, 2, [1]), (1, 3, [5]), (0, 4, [3]), (0, 3, [1, 2]), (2, 4, [0, 5]),
               (1, 5, [0, 2, 3])]
    fast = KCI(data, width=width)
    stat_f, p_f = fast.test(queries)
    stat_d, p_d = KCI(data, width=width, approximation="dense").test(queries)
    assert np.abs(p_f - p_d).max() < FAST_DENSE_ATOL
    np.testing.assert_allclose(stat_f, stat_d, rtol=1e-6)
    assert p_d.min() < 1e-3 and p_d.max() > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("width", ["empirical", "median"])
def test_kci_numpy_path_equals_compiled_kernels(width, monkeypatch):
    """Small ``n`` on a CPU runs the conditional tests with numpy: the same p-values as the compiled kernels."""
    data = nonlinear_data(150, 22, p=6)
    queries = [(0, 1, [2]), (0, 2, [1]), (1, 3, [0, 2]), (0, 4, [1, 2, 3]), (2, 5, [0, 1, 3, 4]), (3, 5, [1])]
    host = KCI(data, width=width).test(queries)
    monkeypatch.setattr(_citest, "_KCI_HOST_MAX_ROWS", 0)
    compiled = KCI(data, width=width).test(queries)
    np.testing.assert_allclose(host[0], compiled[0], rtol=1e-10)
    np.testing.assert_allclose(host[1], compiled[1], rtol=0, atol=1e-12)
    assert host[1].min() < 0.05 < host[1].max()


def test_kci_factor_cache_is_reused_across_calls():
    """Factors of variables and conditioning sets are computed once per KCI, across calls."""
    data = nonlinear_data(150, 8)
    test = KCI(data)
    first = test.pvalues([(0, 2, [1]), (0, 3, [1]), (2, 4, [0, 1])])
    misses = test.factor_cache_info_["misses"]
    second = test.pvalues([(2, 3, [1]), (0, 2, [1]), (3, 4, [0, 1])])
    # every factor (Y = X2, X3 at |S| = 1; Y = X4 at |S| = 2; Z = {1}, {0, 1}) comes from the cache
    assert test.factor_cache_info_["misses"] == misses
    test.pvalue(1, 4, [0])  # Y = X4 at |S| = 1 and Z = {0} are new
    assert test.factor_cache_info_["misses"] == misses + 2
    assert second[1] == first[0]
    np.testing.assert_allclose(second, KCI(data).pvalues([(2, 3, [1]), (0, 2, [1]), (3, 4, [0, 1])]), atol=1e-14)


@pytest.mark.parametrize("tol", [1e-6, 1e-13])
def test_pivoted_cholesky_and_woodbury(tol):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(200, 2))
    theta = 1.5
    k = np.exp(-0.5 * theta * ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1))
    h = np.eye(200) - 1.0 / 200
    kc = h @ k @ h
    lf = _kernels.pivoted_cholesky(a, theta, tol)
    resid = kc - lf @ lf.T
    assert lf.shape[1] < 200
    assert np.trace(resid) <= tol * 200 * (1 + 1e-6)
    assert np.linalg.eigvalsh(resid).min() > -1e-10  # the residual stays positive semi-definite
    np.testing.assert_allclose(lf.sum(axis=0), 0, atol=1e-10)  # centred
    eps = 1e-3
    b = _kernels.woodbury_factor(lf, eps)
    np.testing.assert_allclose(np.eye(200) - b @ b.T, eps * np.linalg.inv(lf @ lf.T + eps * np.eye(200)), atol=1e-9)


# --------------------------------------------------------------------------- #
# KCI, low rank
# --------------------------------------------------------------------------- #
# Measured at n = 1000 against exact KCI (see KCI's Notes): max |dp| below these.
LOWRANK_ATOL = {"nystrom": 0.03, "rff": 0.2}


@pytest.mark.parametrize("approximation", ["nystrom", pytest.param("rff", marks=pytest.mark.slow)])
def test_lowrank_accuracy(approximation, exact_1000):
    data, queries, exact = exact_1000
    approx = KCI(data, approximation=approximation).pvalues(queries)
    assert np.abs(approx - exact).max() < LOWRANK_ATOL[approximation]
    # same decisions at alpha = 0.01 on the clear-cut cases
    clear = (exact < 1e-4) | (exact > 0.1)
    assert clear.sum() >= 3
    assert np.array_equal((approx < 0.01)[clear], (exact < 0.01)[clear])


@pytest.fixture(scope="module")
def exact_1000():
    data = nonlinear_data(1000, 11)
    queries = [(0, 1, []), (2, 4, []), (0, 2, [1]), (1, 4, [0]), (2, 4, [0, 1])]
    return data, queries, KCI(data).pvalues(queries)


@pytest.mark.parametrize("approximation", ["nystrom", "rff"])
def test_lowrank_never_forms_n_by_n(approximation):
    """Trace the low-rank kernels at n = 20,000: no intermediate has two axes of size n."""
    n = 20_000
    test = KCI(nonlinear_data(n, 0)[:, :4], approximation=approximation)
    m = test.n_components
    shapes = []

    def collect(jaxpr):
        for eqn in jaxpr.eqns:
            shapes.extend(tuple(v.aval.shape) for v in eqn.outvars if hasattr(v.aval, "shape"))
            for p in eqn.params.values():
                for inner in p if isinstance(p, (list, tuple)) else [p]:
                    inner = getattr(inner, "jaxpr", inner)  # ClosedJaxpr -> Jaxpr
                    if hasattr(inner, "eqns"):
                        collect(inner)

    ox, oy, oz, ph = test._rff_draws(2)
    q = np.zeros((1, 2), dtype=np.int64)
    with jax.enable_x64(True):
        jaxpr = jax.make_jaxpr(
            lambda *a: _kernels.lowrank_cond_batch(*a, median=False, kind=approximation, block=1024, var_rank=24)
        )(test._data, np.array([[2, 3]]), 1.0, 1e-3, test._sub, test._landmarks, ox, oy, oz, ph, q, q + 1, q * 0, q == 0)
    collect(jaxpr.jaxpr)
    assert shapes, "nothing traced"
    assert any(n in s for s in shapes) and len(shapes) > 50  # the walk reached the per-query body
    assert all(sum(d == n for d in s) <= 1 for s in shapes), [s for s in shapes if sum(d == n for d in s) > 1]
    assert m <= 200


# --------------------------------------------------------------------------- #
# chi-square / G-square
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("cls, method", [(ChiSquare, "chisq"), (GSquare, "gsq")])
@pytest.mark.parametrize("n, seed", [(60, 0), pytest.param(500, 1, marks=pytest.mark.slow)])
def test_discrete_matches_causallearn(cls, method, n, seed):
    """n = 60 with |S| = 3 leaves empty strata, rows and columns (df corrections)."""
    data = discrete_data(n, seed)
    got = cls(data).pvalues(QUERIES_3)
    np.testing.assert_allclose(got, reference(method, data, QUERIES_3), rtol=0, atol=1e-8)


def test_discrete_recodes_values_and_rejects_non_integers():
    data = discrete_data(200, 2)
    shifted = data * 10 + 7  # other integer codes, same partition
    np.testing.assert_allclose(
        ChiSquare(shifted).pvalues(QUERIES), ChiSquare(data).pvalues(QUERIES), rtol=0, atol=1e-12
    )
    with pytest.raises(DataError, match="integer"):
        GSquare(data + 0.5 * (np.arange(5) == 2))


# --------------------------------------------------------------------------- #
# oracle
# --------------------------------------------------------------------------- #
ASIA = nx.DiGraph(
    [("asia", "tub"), ("smoke", "lung"), ("smoke", "bronc"), ("tub", "either"), ("lung", "either"),
     ("either", "xray"), ("either", "dysp"), ("bronc", "dysp")]
)


def test_dseparation_oracle_named_graphs():
    collider = DSeparation(nx.DiGraph([("A", "C"), ("B", "C")]))
    chain = DSeparation(nx.DiGraph([("A", "B"), ("B", "C")]))
    assert collider.n_samples is None and collider.variables == ["A", "C", "B"]
    np.testing.assert_array_equal(collider.pvalues([("A", "B", []), ("A", "B", ["C"])]), [1.0, 0.0])
    np.testing.assert_array_equal(chain.pvalues([("A", "C", []), ("A", "C", ["B"])]), [0.0, 1.0])
    oracle = make_ci_test("dsep", graph=ASIA)
    assert oracle.pvalue("tub", "smoke") == 1.0
    assert oracle.pvalue("tub", "smoke", ["dysp"]) == 0.0


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_dseparation_agrees_with_d_separated(data):
    nodes = list(ASIA.nodes)
    x, y = data.draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=2, unique=True))
    rest = [v for v in nodes if v not in (x, y)]
    s = data.draw(st.lists(st.sampled_from(rest), max_size=3, unique=True))
    assert DSeparation(ASIA).pvalue(x, y, s) == float(d_separated(ASIA, x, y, s))


# --------------------------------------------------------------------------- #
# factory, interface and bad input
# --------------------------------------------------------------------------- #
def test_make_ci_test():
    data = linear_data(50, 0)
    assert set(CI_TESTS) == {"fisherz", "kci", "chisq", "gsq", "dsep"}
    test = make_ci_test("kci", data, width="median")
    assert isinstance(test, KCI) and isinstance(test, CITest) and test.width == "median"
    assert make_ci_test(test) is test
    with pytest.raises(ParameterError, match=r"\['fisherz', 'kci', 'chisq', 'gsq', 'dsep'\].*'pearson'"):
        make_ci_test("pearson", data)
    with pytest.raises(ParameterError, match="graph"):
        make_ci_test("dsep", data)
    with pytest.raises(ParameterError, match="needs data"):
        make_ci_test("fisherz")


@pytest.mark.parametrize("cls", [FisherZ, KCI, ChiSquare, GSquare])
def test_bad_data_raises_dataerror_naming_column(cls):
    good = pd.DataFrame(discrete_data(60, 0).astype(float), columns=list("ABCDE"))
    nan = good.copy()
    nan.loc[3, "C"] = np.nan
    with pytest.raises(DataError, match="'C'"):
        cls(nan)
    text = good.copy()
    text["C"] = text["C"].astype(str)
    with pytest.raises(DataError, match="'C'"):
        cls(text)
    const = good.copy()
    const["D"] = 1.0
    with pytest.raises(DataError, match="'D'.*constant"):
        cls(const)
    dup = good.copy()
    dup["F"] = dup["B"]
    with pytest.raises(DataError, match="'B' and 'F' hold identical data"):
        cls(dup)


@pytest.mark.parametrize("test", [FisherZ(linear_data(30, 0)), DSeparation(nx.DiGraph([("X0", "X1"), ("X1", "X2")]))])
def test_bad_queries(test):
    with pytest.raises(UnknownNodeError, match="'Q'"):
        test.pvalue("X0", "Q")
    with pytest.raises(UnknownNodeError):
        test.pvalue("X0", "X1", [99])
    with pytest.raises(ParameterError, match="differ"):
        test.pvalue("X0", "X0")
    with pytest.raises(ParameterError, match="'X1' is both tested and in the conditioning set"):
        test.pvalue("X0", "X1", ["X1"])
    with pytest.raises(ParameterError, match="repeats"):
        test.pvalue("X0", "X1", ["X2", "X2"])
    assert test.pvalues([]).shape == (0,)


# --------------------------------------------------------------------------- #
# sharding across devices
# --------------------------------------------------------------------------- #
SHARD_COMPUTE = textwrap.dedent(
    """
    import numpy as np, jax
    from discovery.citest import FisherZ, KCI, ChiSquare
    rng = np.random.default_rng(0)
    d = rng.normal(size=(80, 5))
    d[:, 1] += np.sin(d[:, 0]); d[:, 2] += d[:, 1] ** 2
    qs = [(i, j, [k]) for i in range(5) for j in range(i + 1, 5) for k in range(5) if k not in (i, j)][:13]
    qs += [(0, 1, []), (2, 3, []), (0, 4, [1, 2])]
    out = {
        "devices": len(jax.devices()),
        "fisherz": FisherZ(d).pvalues(qs).tolist(),
        "kci": KCI(d).pvalues(qs).tolist(),
        "chisq": ChiSquare((d > 0).astype(int)).pvalues(qs).tolist(),
    }
    """
)


@pytest.mark.slow
def test_sharded_batches_match_single_device():
    """Batches sharded over 4 (forced host) devices give the single-device p-values."""
    multi, single = run_on_devices(SHARD_COMPUTE), run_here(SHARD_COMPUTE)
    assert single["devices"] == 1 and multi["devices"] == 4
    for key in ("fisherz", "kci", "chisq"):
        np.testing.assert_allclose(multi[key], single[key], rtol=0, atol=1e-10, err_msg=key)
