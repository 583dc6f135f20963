"""The bundled default comparison behind ``scmkit compare``.

Every algorithm that applies runs on the real Sachs data (observational and the
nine-condition interventional set), one SynTReN dataset and simulated data with
known truth (linear and nonlinear graphs, several environments, grouped
exchangeable data, a multivariate time series); each result is scored against the truth and a report is written
(``results.csv``, ``index.html`` and figures). Settings are chosen so that the
whole suite, JAX compilation included, takes a few minutes on two cores:
Fisher-z tests for PC and CD-NOD, kernel CI (KCI) only on the small nonlinear
dataset, linear NOTEARS, VI-DP-DAG with a small iteration budget and ParCorr for
PCMCI / PCMCI+.

``scmkit compare DATA.csv`` runs the same algorithms (kernel PC aside) on the user's
data, which has no known truth: the table then holds the truth-free columns of
:func:`discovery.compare` (edges, stability, agreement, held-out log-likelihood).
"""

from __future__ import annotations

import logging
import pathlib

import pandas as pd

__all__ = ["DEFAULT_ALGORITHMS", "default_datasets", "default_algorithms", "default_restrictions", "run_default_suite",
           "user_data_algorithms", "run_on_data", "NOT_ON_USER_DATA"]

logger = logging.getLogger(__name__)


def _sachs():
    from scm import datasets

    return datasets.load_sachs("observational")


def _sachs_regimes():
    from scm import datasets

    return datasets.load_sachs("interventional")


def _syntren():
    from scm import datasets

    return datasets.load_syntren(1)


def _linear(seed):
    from scm import simulate

    return simulate.simulate(n_nodes=10, n_samples=1000, expected_degree=2, scm_kind="linear", random_state=seed)


def _mlp(seed):
    from scm import simulate

    return simulate.simulate(n_nodes=8, n_samples=400, expected_degree=2, scm_kind="mlp", random_state=seed)


def _multi_env(seed):
    from scm import simulate

    return simulate.multi_environment(
        simulate.random_dag(8, 2, random_state=seed), n_environments=4, n_samples=300, changing=3, random_state=seed
    )


def _grouped(seed):
    from scm import simulate

    return simulate.grouped(n_nodes=6, expected_degree=2, n_groups=200, group_size=4, kind="linear", random_state=seed)


def _time_series(seed):
    from scm import simulate

    return simulate.time_series(n_series=5, n_timepoints=500, max_lag=2, contemporaneous=True, random_state=seed)


#: name -> (factory seed -> Dataset, description); real datasets ignore the seed.
DEFAULT_DATASETS = {
    "sachs": (lambda seed: _sachs(), "Sachs et al. (2005), 853 cells under CD3/CD28 stimulation, 11 proteins, bnlearn consensus graph"),
    "sachs-regimes": (lambda seed: _sachs_regimes(), "Sachs et al. (2005), all 7466 cells of the nine conditions, regime as environment"),
    "syntren-1": (lambda seed: _syntren(), "SynTReN dataset 1 of GraN-DAG: 500 samples of 20 genes"),
    "linear-er10": (_linear, "linear Gaussian SCM on an Erdős–Rényi DAG, 10 nodes, 1000 samples"),
    "mlp-er8": (_mlp, "nonlinear (random MLP) SCM on an Erdős–Rényi DAG, 8 nodes, 400 samples"),
    "multi-env-er8": (_multi_env, "4 environments x 300 samples, 3 nodes with shifted mechanisms, 8 nodes"),
    "grouped-er6": (_grouped, "linear ICM (exchangeable) data, 200 groups x 4 rows, every group its own mechanisms, 6 nodes"),
    "timeseries-5": (_time_series, "vector autoregression, 5 series, 500 time points, lags up to 2 and contemporaneous links"),
}


def default_datasets(seed: int = 0) -> dict:
    """name -> ``scm.Dataset`` of the default suite for one seed.

    Examples
    --------
    >>> sorted(DEFAULT_DATASETS)  # default_datasets(seed) builds each of these
    ['grouped-er6', 'linear-er10', 'mlp-er8', 'multi-env-er8', 'sachs', 'sachs-regimes', 'syntren-1', 'timeseries-5']
    """
    return {name: factory(seed) for name, (factory, _) in DEFAULT_DATASETS.items()}


#: name -> (the estimator's class, a name exported by :mod:`discovery`; its parameters): what
#: :func:`default_algorithms` builds. Data, so that ``scmkit compare --list`` shows the suite
#: without importing the estimators (NOTEARS and VI-DP-DAG import JAX at import).
DEFAULT_ALGORITHMS = {
    "pc-fisherz": ("PC", {"ci_test": "fisherz"}),
    "pc-kci": ("PC", {"ci_test": "kci"}),
    "cdnod-fisherz": ("CDNOD", {"ci_test": "fisherz"}),
    "notears-linear": ("NOTEARS", {"model": "linear"}),
    "vidpdag": ("VIDPDAG", {"max_iter": 2000, "patience": 5}),
    "icp": ("ICPGraph", {"max_set_size": 3}),
    "causaldf-fisherz": ("CausalDeFinetti", {"ci_test": "fisherz"}),
    "pcmci-parcorr": ("PCMCI", {"tau_max": 2}),
    "pcmciplus-parcorr": ("PCMCIPlus", {"tau_max": 2}),
}


def default_algorithms() -> dict:
    """name -> unfitted estimator of the default suite (settings sized for a fast run).

    Built from :data:`DEFAULT_ALGORITHMS`.

    Examples
    --------
    >>> default_algorithms()["vidpdag"]
    VIDPDAG(max_iter=2000, patience=5)
    """
    import importlib

    package = importlib.import_module("..", __package__)  # discovery, through its lazy map of names
    return {name: getattr(package, cls)(**params) for name, (cls, params) in DEFAULT_ALGORITHMS.items()}


def default_restrictions() -> dict:
    """algorithm -> the only datasets it runs on in the default suite (beyond its capabilities)."""
    return {"pc-kci": ["mlp-er8"]}


#: Algorithms of the suite that user data gets only when asked for by name, and why.
NOT_ON_USER_DATA = {"pc-kci": "kernel CI tests cost O(n^2) memory and O(n^3) time in the rows; ask for it by name on small data"}


def user_data_algorithms(names=None) -> dict:
    """name -> unfitted estimator for data without a truth: ``names`` of :func:`default_algorithms`,
    or all of them but :data:`NOT_ON_USER_DATA`.

    Examples
    --------
    >>> sorted(user_data_algorithms())[:3]
    ['causaldf-fisherz', 'cdnod-fisherz', 'icp']
    """
    algos = default_algorithms()
    _check_names(names, algos, "algorithm")
    return {k: v for k, v in algos.items() if (k in names if names else k not in NOT_ON_USER_DATA)}


def _check_names(requested, known, what):
    from scm._exceptions import ParameterError

    unknown = [x for x in (requested or []) if x not in known]
    if unknown:
        raise ParameterError(f"unknown {what}(s) {unknown}; known: {list(known)}")


def run_default_suite(algorithms=None, datasets=None, seeds=(0,), output="scmkit-report", *, executor=None,
                      n_jobs=None, cache_dir=None, progress=False, n_bootstrap=0) -> pd.DataFrame:
    """Run the default comparison and write the report; returns the tidy results table.

    Parameters
    ----------
    algorithms, datasets : list of str, optional
        Subsets of :func:`default_algorithms` and :data:`DEFAULT_DATASETS` (default: all).
    seeds : iterable of int
    output : str or path
        Report directory.
    executor, n_jobs, cache_dir, progress, n_bootstrap
        As in :func:`discovery.compare`.

    Returns
    -------
    DataFrame
        The results table of :func:`discovery.compare`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     results = run_default_suite(["pc-fisherz"], ["linear-er10"], output=out, executor="sequential")
    >>> results[["algorithm", "dataset", "shd", "status"]]
        algorithm      dataset  shd status
    0  pc-fisherz  linear-er10  0.0     ok
    """
    from .._utils import ensure_directory
    from ._compare import compare

    algos = default_algorithms()
    _check_names(algorithms, algos, "algorithm")
    _check_names(datasets, DEFAULT_DATASETS, "dataset")
    chosen_algos = {k: v for k, v in algos.items() if not algorithms or k in algorithms}
    chosen_data = {k: f for k, (f, _) in DEFAULT_DATASETS.items() if not datasets or k in datasets}
    only = {k: v for k, v in default_restrictions().items() if k in chosen_algos}
    ensure_directory(output, name="output", owner="run_default_suite", create=False)  # before the runs, not after them
    table = compare(chosen_algos, chosen_data, seeds=seeds, executor=executor, n_jobs=n_jobs, cache_dir=cache_dir,
                    progress=progress, only=only, n_bootstrap=n_bootstrap)
    _write(table, output, "scmkit compare: the default suite")
    return table


def _write(table: pd.DataFrame, output, title: str) -> None:
    from ._report import write_report

    n_err = int((table["status"] != "ok").sum())
    logger.info("%d runs finished (%d failed); writing the report (tables, plots, graphs) to %s", len(table), n_err, output)
    page = write_report(table, pathlib.Path(output), title=title)
    logger.info("wrote %s and %s", page, page.parent / "results.csv")


def run_on_data(datasets, algorithms=None, seeds=(0,), output="scmkit-report", *, executor=None, n_jobs=None,
                cache_dir=None, progress=False, n_bootstrap=20, cv_folds=5) -> pd.DataFrame:
    """The suite's algorithms on data without a known truth, and the report (what ``scmkit compare DATA.csv`` runs).

    Parameters
    ----------
    datasets : mapping name -> scm.Dataset or DataFrame
        As in :func:`discovery.compare`.
    algorithms : list of str, optional
        Names of :func:`default_algorithms` (default: :func:`user_data_algorithms`).
    seeds, output, executor, n_jobs, cache_dir, progress
        As in :func:`run_default_suite`.
    n_bootstrap, cv_folds
        As in :func:`discovery.compare` (20 resamples by default).

    Returns
    -------
    DataFrame
        The results table of :func:`discovery.compare`.
    """
    from .._utils import ensure_directory
    from ._compare import compare

    algos = user_data_algorithms(algorithms)
    ensure_directory(output, name="output", owner="run_on_data", create=False)
    table = compare(algos, datasets, seeds=seeds, executor=executor, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress,
                    n_bootstrap=n_bootstrap, cv_folds=cv_folds)
    _write(table, output, "scmkit compare: " + ", ".join(map(str, dict(datasets))))
    return table
