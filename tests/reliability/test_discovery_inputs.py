"""Regressions of issue 26 in ``discovery`` and the ``scmkit`` command line: one test per reproducer.

Each test is a case that gave a silent wrong answer or an unhelpful error before the
reliability pass (numpy / scipy / scikit-learn messages, ``IndexError``,
``FileExistsError``, exit status 1 without naming the option) and now gives the right
answer or an scmkit error naming the parameter, column or node. The property test over
random scales is ``test_scale_discovery.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import scm
from discovery import CDNOD, ICP, IRM, NOTEARS, PC, PCMCI, VIDPDAG, AnchorRegression, ICPGraph, NonlinearICP, compare
from discovery.citest import KCI, FisherZ
from discovery.evaluation import write_report
from scm import ConvergenceError, DataError, ParameterError
from scmkit.cli import main


# --------------------------------------------------------------------------- data
def _chain(n=200, seed=0):
    """A -> B -> C (A and C independent given B), Gaussian, unit-ish scales."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = a + rng.normal(size=n)
    c = b + rng.normal(size=n)
    return pd.DataFrame({"A": a, "B": b, "C": c})


def _environments(n_per=100, seed=0):
    """x1 shifted by the environment causes y; x2 is a child of y; y's coefficient on x1 is 1.5."""
    rng = np.random.default_rng(seed)
    env = np.repeat([0, 1, 2], n_per)
    n = len(env)
    x1 = rng.normal(size=n) + env
    y = 1.5 * x1 + rng.normal(size=n)
    x2 = y + rng.normal(size=n) + 3.0 * (env == 2)
    return pd.DataFrame({"x1": x1, "x2": x2}), y, env


# --------------------------------------------------------------------------- extreme column scales
def test_kci_pvalue_is_the_same_when_the_conditioning_column_is_scaled_by_1e300():
    x = _chain()
    plain = KCI(x).pvalue("A", "C", ("B",))
    scaled = KCI(x.assign(B=x.B * 1e300)).pvalue("A", "C", ("B",))  # was 4e-14: B's std overflowed, B became 0
    assert plain > 0.05
    assert scaled == pytest.approx(plain, rel=1e-8)


def test_pc_and_cdnod_with_kci_find_the_chain_when_a_column_is_scaled_by_1e300():
    x = _chain()
    context = pd.Series(np.repeat([0, 1], 100), name="E")
    for est, extra in ((PC(ci_test="kci"), {}), (CDNOD(ci_test="kci", independent_changes=False), {"context": context})):
        plain = est.fit(x, **extra).graph_
        scaled = est.fit(x.assign(B=x.B * 1e300), **extra).graph_  # was A - C
        assert plain.undirected_edges == scaled.undirected_edges and plain.directed_edges == scaled.directed_edges
        assert not plain.adjacent("A", "C")


@pytest.mark.parametrize("factor", [1e300, 1e200, 1e-300])
def test_fisherz_on_huge_or_tiny_values_gives_the_unscaled_pvalue(factor):
    x = _chain()
    plain = FisherZ(x).pvalue("A", "C", ("B",))
    assert FisherZ(x.assign(B=x.B * factor)).pvalue("A", "C", ("B",)) == pytest.approx(plain, rel=1e-10)  # was LinAlgError


def test_anchor_regression_keeps_the_other_coefficients_when_a_column_is_scaled_by_1e15():
    x, y, env = _environments()
    plain = AnchorRegression().fit(x, y, anchors=env).coef_
    scaled = AnchorRegression().fit(x.assign(x1=x.x1 * 1e15), y, anchors=env).coef_  # was ~1e-30 for x2
    np.testing.assert_allclose(scaled, plain / np.array([1e15, 1.0]), rtol=1e-9)


def test_irm_maps_the_coefficient_of_a_column_scaled_by_1e300_back():
    x, y, env = _environments()
    plain = IRM(n_steps=300).fit(x, y, environment=env).coef_
    scaled = IRM(n_steps=300).fit(x.assign(x1=x.x1 * 1e300), y, environment=env).coef_  # x1's coefficient was exactly 0
    np.testing.assert_allclose(scaled, plain / np.array([1e300, 1.0]), rtol=1e-7)


@pytest.mark.parametrize("column, factor", [("x1", 1e300), ("x1", 1e-150)])
def test_icp_with_a_scaled_predictor_is_not_called_collinear(column, factor):
    x, y, env = _environments()
    plain = ICP().fit(x, y, env)
    scaled = ICP().fit(x.assign(**{column: x[column] * factor}), y, env)  # was "the predictors are collinear"
    assert scaled.parents_ == plain.parents_ == frozenset({"x1"})
    np.testing.assert_allclose(scaled.conf_intervals_.loc["x1"], plain.conf_intervals_.loc["x1"] / factor, rtol=1e-8)


def test_icp_with_the_target_scaled_by_1e200_finds_the_parent():
    x, y, env = _environments()
    assert ICP().fit(x, y * 1e200, env).parents_ == frozenset({"x1"})  # was the empty set (the Gram matrix overflowed)


def test_icp_refuses_coefficients_that_do_not_fit_in_float64():
    x, y, env = _environments()
    with pytest.raises(DataError, match="'x1' coefficient does not fit in float64"):
        ICP().fit(x.assign(x1=x.x1 * 1e-300), y * 1e300, env)


def test_cdnod_with_kci_refuses_near_collinear_columns_as_fisherz_does():
    rng = np.random.default_rng(0)
    context = np.repeat([0, 1], 100)
    a, b = rng.normal(size=200) + context, rng.normal(size=200)
    x = pd.DataFrame({"A": a, "B": b, "D": a + b + 1e-9 * rng.normal(size=200)})
    with pytest.raises(DataError, match=r"columns \['A', 'B', 'D'\] is singular"):
        CDNOD(ci_test="fisherz").fit(x, context=context)
    with pytest.raises(DataError, match=r"columns \['A', 'B', 'D'\] is singular"):  # was an edge A -> D
        CDNOD(ci_test="kci").fit(x, context=context)


# --------------------------------------------------------------------------- underdetermined fits
def test_anchor_regression_refuses_three_rows_for_three_covariates():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3, 3)), columns=["a", "b", "c"])
    with pytest.raises(DataError, match=r"at least p \+ 2 = 5 rows for 3 predictors"):  # interpolated
        AnchorRegression().fit(x, rng.normal(size=3), anchors=[0, 1, 1])


def test_notears_with_fewer_rows_than_variables_refuses_or_warns():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3, 4)), columns=list("abcd"))
    with pytest.raises(DataError, match=r"3 rows for 4 variables.*at least d \+ 1 = 5"):
        NOTEARS(lambda1=0.0).fit(x)
    # a penalty does not make 3 rows enough (it returned edges, then edges with a warning): n <= d needs 10 rows
    with pytest.raises(DataError, match=r"3 rows for 4 variables.*\(lambda1=0.1\).*give at least 5 rows"):
        NOTEARS().fit(x)
    wide = pd.DataFrame(rng.normal(size=(10, 12)), columns=[f"v{i}" for i in range(12)])
    with pytest.warns(UserWarning, match=r"10 rows for 12 variables.*rests on the penalty \(lambda1=0.1\)"):
        NOTEARS(max_iter=3).fit(wide)
    with pytest.raises(DataError, match=r"9 rows for 12 variables.*give at least 10 rows"):
        NOTEARS().fit(wide.iloc[:9])


def test_irm_refuses_an_interpolating_fit():
    x = pd.DataFrame({"x": [0.0, 1.0]})
    with pytest.raises(DataError, match=r"at least 3 are needed"):
        IRM(n_steps=5).fit(x, [0.0, 2.0], environment=[0, 1])
    with pytest.warns(UserWarning, match="rest on the ridge penalty l2=0.1"):
        IRM(n_steps=5, l2=0.1).fit(x, [0.0, 2.0], environment=[0, 1])


@pytest.mark.slow
def test_vidpdag_warns_when_the_training_rows_do_not_exceed_the_variables():
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(12, 12)), columns=[f"v{i}" for i in range(12)])
    with pytest.warns(UserWarning, match=r"VIDPDAG: 10 training rows for 12 variables"):
        VIDPDAG(max_iter=20, chunk_size=10).fit(x)


def test_kci_with_more_variables_than_rows_names_the_rows_a_conditioning_set_needs():
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 8)), columns=list("abcdefgh"))
    with pytest.raises(DataError, match=r"KCI with \|S\| = 4 needs at least 7 rows.*max_cond_size <= 3"):
        KCI(x).pvalue("a", "b", ["c", "d", "e", "f"])
    with pytest.raises(DataError, match=r"Fisher-z with \|S\| = 4 needs at least 8 rows.*max_cond_size <= 2"):
        FisherZ(x).pvalue("a", "b", ["c", "d", "e", "f"])


# --------------------------------------------------------------------------- divergence
def test_irm_divergence_is_a_convergence_error_naming_the_step():
    x, y, env = _environments()
    with pytest.raises(ConvergenceError, match=r"diverged.*at step \d+ of 300.*lower 'learning_rate' \(got 1e\+06\)"):
        IRM(learning_rate=1e6, n_steps=200).fit(x, y, environment=env)  # returned coefficients of -2e4 and a loss of 1e19


# --------------------------------------------------------------------------- misread shapes and names
def test_pcmci_refuses_a_list_of_rows():
    rows = list(np.random.default_rng(0).normal(size=(200, 3)))
    with pytest.raises(DataError, match=r"list of 200 one-dimensional items.*np.asarray\(data\)"):
        PCMCI().fit(rows)  # read as 200 single-variable series
    with pytest.raises(DataError, match="one-dimensional items"):
        PCMCI().fit([r.tolist() for r in rows])


def test_pcmci_reads_a_list_of_numbers_as_one_series():
    values = np.random.default_rng(0).normal(size=200)
    assert PCMCI().fit(list(values)).graph_.nodes == PCMCI().fit(values).graph_.nodes == ("X0",)


def test_anchor_regression_takes_a_list_of_labels_when_x_has_a_column_named_a():
    x, y, env = _environments()
    x = x.rename(columns={"x1": "A"})
    model = AnchorRegression().fit(x, y, anchors=list(env))  # was "anchor(s) ['A'] are also columns of X"
    np.testing.assert_allclose(model.coef_, AnchorRegression().fit(x, y, anchors=env).coef_)


def test_cli_discover_refuses_duplicate_column_names(tmp_path, capsys):
    path = tmp_path / "dup.csv"
    rows = np.random.default_rng(0).normal(size=(50, 3))
    path.write_text("a,b,a\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    assert main(["discover", str(path)]) == 2  # was exit 0 with a node 'a.1'
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"scmkit: error: {path}: duplicate column name 'a' (columns 1 and 3); rename one of them"]


@pytest.mark.parametrize(
    "argv, option",
    [
        (["discover", "DATA", "--method", "notears", "--seed", "-5"], "--seed"),
        (["discover", "DATA", "--alpha", "1.5"], "--alpha"),
        (["discover", "DATA", "--alpha", "nan"], "--alpha"),
        (["discover", "DATA", "--method", "pcmci", "--tau-max", "-1"], "--tau-max"),
        (["simulate", "--nodes", "0", "-o", "OUT"], "--nodes"),
        (["simulate", "--samples", "-3", "-o", "OUT"], "--samples"),
        (["simulate", "--degree", "-1", "-o", "OUT"], "--degree"),
        (["simulate", "--environments", "0", "-o", "OUT"], "--environments"),
        (["simulate", "--seed", "x", "-o", "OUT"], "--seed"),
        (["compare", "--jobs", "0"], "--jobs"),
        (["compare", "--seeds", "0", "-1"], "--seeds"),
        (["effect", "DATA", "--graph", "G", "--treatment", "a", "--outcome", "b", "--alpha", "0"], "--alpha"),
    ],
)
def test_cli_numeric_options_are_refused_by_name(tmp_path, capsys, argv, option):
    data = tmp_path / "data.csv"
    pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)), columns=list("abc")).to_csv(data, index=False)
    argv = [str(data) if a == "DATA" else str(tmp_path / "out.csv") if a == "OUT" else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert f"argument {option}: must be" in capsys.readouterr().err.strip().splitlines()[-1]


def test_cli_simulate_names_a_degree_above_nodes_minus_one(tmp_path, capsys):
    assert main(["simulate", "--nodes", "3", "--degree", "5", "-o", str(tmp_path / "d.csv")]) == 2
    assert "--degree 5 is more than --nodes - 1 = 2" in capsys.readouterr().err


# --------------------------------------------------------------------------- unhelpful errors
@pytest.mark.slow
def test_nonlinear_icp_with_values_beyond_float32_gives_the_unscaled_answer():
    x, y, env = _environments()
    plain = NonlinearICP(cv=3).fit(x, y, env)
    scaled = NonlinearICP(cv=3).fit(x.assign(x1=x.x1 * 1e300), y, env)  # was scikit-learn's float32 ValueError
    assert scaled.parents_ == plain.parents_
    assert scaled.set_pvalues_ == pytest.approx(plain.set_pvalues_, rel=1e-6)


def test_nonlinear_icp_refuses_out_of_bag_residuals_of_rows_never_left_out():
    from sklearn.ensemble import RandomForestRegressor

    x, y, env = _environments(n_per=15)
    rf = RandomForestRegressor(n_estimators=2, oob_score=True, random_state=0)
    with pytest.raises(DataError, match="without an out-of-bag prediction"):  # scikit-learn predicted 0 there
        NonlinearICP(regressor=rf).fit(x, y, env)


@pytest.mark.parametrize("cls", [IRM, ICP, NonlinearICP])
def test_one_row_fit_names_the_rows_needed(cls):
    x, y, env = _environments()
    with pytest.raises(DataError, match=r"so at least \d+ rows; X has 1"):  # was "X columns are constant"
        if cls is IRM:  # keyword only (by position: a FutureWarning)
            cls().fit(x.iloc[:1], y[:1], environment=env[:1])
        else:
            cls().fit(x.iloc[:1], y[:1], env[:1])


def test_cdnod_on_an_empty_frame_names_the_rows():
    with pytest.raises(DataError, match="data has 0 rows; CD-NOD needs at least 5"):  # was IndexError
        CDNOD().fit(pd.DataFrame({"a": [], "b": [], "C": []}))


@pytest.mark.parametrize(
    "data, match",
    [
        (pd.DataFrame(index=range(50)), "data has no columns"),
        (np.empty((0, 10, 2)), "holds no series"),
        (pd.DataFrame(columns=["a", "b"]), "T=0 time points"),
    ],
)
def test_pcmci_on_empty_data_names_what_is_missing(data, match):
    with pytest.raises(DataError, match=match):  # IndexError, or "non-numeric column(s) 'a' (object)"
        PCMCI().fit(data)


def _results():
    return pd.DataFrame({"algorithm": ["pc"], "dataset": ["d"], "seed": [0], "shd": [1.0], "status": ["ok"], "error": [""]})


def test_write_report_refuses_an_empty_table(tmp_path):
    with pytest.raises(ParameterError, match="results has no rows"):  # was IndexError
        write_report(_results().iloc[:0], tmp_path / "report")


def test_write_report_into_a_file_names_the_directory(tmp_path):
    blocker = tmp_path / "report"
    blocker.write_text("x")
    with pytest.raises(ParameterError, match="'directory' parameter of write_report must be a directory"):  # FileExistsError
        write_report(_results(), blocker)


def test_compare_with_cache_dir_a_file_names_cache_dir(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("x")
    ds = scm.simulate.simulate(n_nodes=3, n_samples=100, random_state=0)
    with pytest.raises(ParameterError, match="'cache_dir' parameter of compare must be a directory"):  # FileExistsError
        compare({"pc": PC()}, {"d": ds}, cache_dir=blocker / "sub")


def test_cli_compare_with_output_a_file_fails_before_running(tmp_path, capsys):
    blocker = tmp_path / "report"
    blocker.write_text("x")
    argv = ["compare", "--algorithms", "pc-fisherz", "--datasets", "sachs", "-o", str(blocker)]
    assert main(argv) == 2  # was a FileExistsError after every run
    assert capsys.readouterr().err.strip() == f"scmkit: error: -o/--output {blocker}: not a directory (a file is in the way)"


def test_anchor_regression_refuses_a_constant_anchor_and_a_constant_column():
    x, y, env = _environments()
    with pytest.raises(DataError, match=r"anchors column\(s\) \['A'\] are constant"):  # fell back to OLS
        AnchorRegression().fit(x, y, anchors=np.zeros(len(y)))
    with pytest.raises(DataError, match=r"X column\(s\) \['x2'\] are constant"):  # "collinear (rank 1 < 2)"
        AnchorRegression().fit(x.assign(x2=1.0), y, anchors=env)


def test_anchor_regression_names_anchors_that_are_the_target():
    x, y, env = _environments()
    with pytest.raises(DataError, match="the anchors name the target y 'e'"):  # "['e'] are not columns of X"
        AnchorRegression().fit(x.assign(e=env), "e", anchors="e")


def test_icpgraph_names_the_data_not_the_first_target():
    x, y, env = _environments()
    data = x.assign(y=y, environment=env)
    data.loc[3, "x1"] = np.nan
    with pytest.raises(DataError, match="^data column 'x1' holds NaN"):  # was "y column 'x1' holds NaN"
        ICPGraph().fit(data)


def test_messages_print_numpy_labels_as_plain_values():
    x, y, env = _environments()
    with pytest.raises(DataError, match=r"single environment 2;"):  # was np.int64(2)
        AnchorRegression().fit(x.iloc[-5:], y[-5:], anchors=env[-5:])
    with pytest.raises(DataError, match=r"single value \(0\.0\)"):  # was np.float64(0.0)
        CDNOD().fit(x, context=np.zeros(len(y)))


@pytest.mark.slow
def test_cli_discover_duplicate_header_in_a_subprocess(tmp_path):
    """The console entry point as a user runs it: one line on stderr, exit status 2."""
    path = tmp_path / "dup.csv"
    path.write_text("x,y,x\n" + "\n".join(f"{i},{i * 2 % 7},{i % 3}" for i in range(20)) + "\n")
    proc = subprocess.run([sys.executable, "-m", "scmkit", "discover", str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("duplicate column name 'x' (columns 1 and 3); rename one of them")
    assert proc.stdout == ""


def test_lagged_metrics_names_a_graph_that_is_not_lagged():
    import networkx as nx

    from discovery.timeseries import lagged_metrics

    with pytest.raises(scm.GraphError, match="est is a DiGraph"):  # was "the lagged graphs have different nodes"
        lagged_metrics(scm.LaggedGraph(["a", "b"], [("a", "b", 1)]), nx.DiGraph([("a", "b")]))


def test_nonlinear_icp_names_more_folds_than_rows():
    x, y, env = _environments(n_per=3)
    with pytest.raises(DataError, match="cv=10-fold cross-fitting needs at least 10 rows; X has 9"):  # scikit-learn's n_splits error
        NonlinearICP(cv=10).fit(x[["x1"]], y, env)
