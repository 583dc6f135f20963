"""Regressions of issue 26 in scm and estimators: one test per reproducer, each failing before its fix.

Silent wrong answers (extreme scales, underdetermined fits, invented effects, misread inputs) must
become right answers or named scmkit errors; unhelpful errors must name the parameter, column or
node and say what was expected. The scale property over random ``k`` is in ``test_scale_scm.py``.
"""

import json
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor

import estimators
import scm
from estimators import AIPW, IPW, DoubleML, RegressionAdjustment
from scm import SCM, DataError, GraphError, ParameterError, UnknownNodeError

TRIANGLE = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C")])
CONFOUNDED = nx.DiGraph([("z", "x"), ("z", "y"), ("x", "y")])


@pytest.fixture(scope="module")
def abc():
    """A -> B -> C, A -> C, linear with unit noise, 500 rows."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    b = 2 * a + rng.normal(size=500)
    return pd.DataFrame({"A": a, "B": b, "C": b - a + rng.normal(size=500)})


@pytest.fixture(scope="module")
def binary():
    """A binary treatment x confounded by z; the ATE on y is 2."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=500)
    x = (0.5 * z + rng.normal(size=500) > 0).astype(float)
    return pd.DataFrame({"x": x, "y": 2 * x + z + rng.normal(size=500), "z": z})


def _coefficients(model):
    return {n: dict(m.coefficients, intercept=m.intercept) for n, m in model.mechanisms.items()}


# ------------------------------------------------------------------ extreme scales


@pytest.mark.parametrize("column", ["A", "B"])
@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_scm_fit_keeps_the_coefficients_of_a_column_scaled_by_1e300(abc, column, factor):
    """Was: the coefficients of B (on A, into C) came out as exactly 0 when B was scaled by 1e300."""
    plain = _coefficients(SCM.fit(TRIANGLE, abc))
    scaled = _coefficients(SCM.fit(TRIANGLE, abc.assign(**{column: abc[column] * factor})))
    for node, coefs in plain.items():
        for name, value in coefs.items():
            expect = value
            if node == column:
                expect = expect * factor  # the node's own intercept and weights are in its units
            if name == column:
                expect = expect / factor  # a weight on the scaled parent shrinks by the factor
            assert scaled[node][name] == pytest.approx(expect, rel=1e-9), (node, name)


def test_scm_fit_gaussian_noise_of_a_column_scaled_by_1e300(abc):
    """Was: ParameterError "Gaussian std must be a finite number >= 0; got inf" (the residuals' std overflowed)."""
    plain = SCM.fit(TRIANGLE, abc, noise="gaussian").noise["B"]
    scaled = SCM.fit(TRIANGLE, abc.assign(B=abc.B * 1e300), noise="gaussian").noise["B"]
    assert scaled.std == pytest.approx(plain.std * 1e300, rel=1e-9)


def test_scm_fit_auto_on_a_column_scaled_by_1e300(abc):
    """Was: sklearn's "Input X contains NaN" from the quadratic candidate's StandardScaler."""
    plain = SCM.fit(TRIANGLE, abc, "auto", random_state=0)
    scaled = SCM.fit(TRIANGLE, abc.assign(B=abc.B * 1e300), "auto", random_state=0)
    assert scaled.fitted_mechanisms_ == plain.fitted_mechanisms_


def test_scm_fit_spline_on_a_column_scaled_by_1e300(abc):
    """Was: the spline and quadratic mechanisms refused (NaN from their scaler) a column scaled by 1e300."""
    plain = SCM.fit(TRIANGLE, abc, "spline").sample(50, random_state=3)
    scaled = SCM.fit(TRIANGLE, abc.assign(B=abc.B * 1e300), "spline").sample(50, random_state=3)
    np.testing.assert_allclose(scaled.B, plain.B * 1e300, rtol=1e-6)
    np.testing.assert_allclose(scaled.C, plain.C, rtol=1e-6, atol=1e-9)


def test_from_linear_with_weights_of_1e300_refuses_to_sample_inf():
    """Was: samples of X2 = 1e300 * X1 = 1e600 * X0 came out as +-inf."""
    model = SCM.from_linear([[0, 1e300, 0], [0, 0, 1e300], [0, 0, 0]])
    with pytest.raises(ParameterError, match=r"node 'X2'.*inf.*float64 range"):
        model.sample(5, random_state=0)
    with pytest.raises(ParameterError, match=r"node 'X2'"):
        model.interventional_cov()


def test_interventional_mean_with_weights_of_1e300():
    """Was: numpy's LinAlgError "Singular matrix" for (I - B^T) with weights of 1e300."""
    model = SCM.from_linear([[0, 1e300, 0], [0, 0, 1e-300], [0, 0, 0]], intercepts=[1.0, 0.0, 0.0])
    mean = model.interventional_mean()
    assert mean.tolist() == pytest.approx([1.0, 1e300, 1.0], rel=1e-12)
    assert model.interventional_mean({"X0": 2.0})["X2"] == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("estimator", [RegressionAdjustment, IPW, AIPW, DoubleML])
@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_effect_estimators_interval_with_the_outcome_scaled_by_1e300(binary, estimator, factor):
    """Was: an interval of (-inf, inf) for Y * 1e300 (and of zero width for Y * 1e-300)."""
    plain = estimator(random_state=0).fit(binary, "x", "y", adjustment=["z"])
    scaled = estimator(random_state=0).fit(binary.assign(y=binary.y * factor), "x", "y", adjustment=["z"])
    assert scaled.effect_ == pytest.approx(plain.effect_ * factor, rel=1e-9)
    assert scaled.std_err_ == pytest.approx(plain.std_err_ * factor, rel=1e-9)
    assert np.allclose(scaled.conf_int_, np.array(plain.conf_int_) * factor, rtol=1e-9, atol=0)


def test_effect_interval_with_the_outcome_scaled_by_1e300(binary):
    """Was: EffectResult(estimate=2.1e+300, std_err=inf, conf_int=(-inf, inf))."""
    plain = estimators.effect(binary, CONFOUNDED, "x", "y", random_state=0)
    scaled = estimators.effect(binary.assign(y=binary.y * 1e300), CONFOUNDED, "x", "y", random_state=0)
    assert scaled.estimate == pytest.approx(plain.estimate * 1e300, rel=1e-9)
    assert np.allclose(scaled.conf_int, np.array(plain.conf_int) * 1e300, rtol=1e-9, atol=0)


@pytest.mark.parametrize("estimator", [RegressionAdjustment, IPW, AIPW, DoubleML])
def test_effect_estimators_with_an_adjustment_column_scaled_by_1e300(binary, estimator):
    """Was: DataError "adjustment column 'z' is collinear with []" (its standard deviation overflowed)."""
    plain = estimator(random_state=0).fit(binary, "x", "y", adjustment=["z"])
    scaled = estimator(random_state=0).fit(binary.assign(z=binary.z * 1e300), "x", "y", adjustment=["z"])
    assert scaled.effect_ == pytest.approx(plain.effect_, rel=1e-9)
    assert scaled.std_err_ == pytest.approx(plain.std_err_, rel=1e-9)


@pytest.mark.parametrize("estimator", [RegressionAdjustment, IPW, AIPW, DoubleML])
def test_effect_estimators_with_the_outcome_near_the_float64_limit(binary, estimator):
    """Sums of many weighted outcomes of 1e307 overflowed; now the answer rescales like any other."""
    plain = estimator(random_state=0).fit(binary, "x", "y", adjustment=["z"])
    factor = 1e307 / binary.y.abs().max()
    big = estimator(random_state=0).fit(binary.assign(y=binary.y * factor), "x", "y", adjustment=["z"])
    assert big.effect_ == pytest.approx(plain.effect_ * factor, rel=1e-9)
    assert big.std_err_ == pytest.approx(plain.std_err_ * factor, rel=1e-9)


def test_unrepresentable_effects_are_refused(abc):
    """A slope of 1e-600 (outcome 1e-300, treatment 1e300) is not 0: a named error, in SCM.fit and the estimators."""
    with pytest.raises(DataError, match=r"node 'B': the coefficient\(s\) of \['A'\] exceed the float64 range"):
        SCM.fit(nx.DiGraph([("A", "B")]), abc.assign(A=abc.A * 1e300, B=abc.B * 1e-300))
    with pytest.raises(DataError, match=r"the effect of 'A' on 'C'.*beyond the float64 range"):
        DoubleML(random_state=0).fit(abc.assign(A=abc.A * 1e300, C=abc.C * 1e-300), "A", "C", adjustment=[])


def test_regression_adjustment_with_an_adjustment_column_scaled_by_1e_minus_150():
    """Was: sklearn's least squares dropped the tiny column as rank deficient, so the effect was confounded."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=400)
    x = z + rng.normal(size=400)
    df = pd.DataFrame({"x": x, "y": 0.5 * x + 3 * z + rng.normal(size=400), "z": z})
    plain = RegressionAdjustment().fit(df, "x", "y", adjustment=["z"])
    for learner in (None, LinearRegression()):
        tiny = RegressionAdjustment(outcome_model=learner).fit(df.assign(z=df.z * 1e-150, y=df.y * 1e150), "x", "y", adjustment=["z"])
        assert tiny.effect_ == pytest.approx(plain.effect_ * 1e150, rel=1e-9)


# ------------------------------------------------------------------ underdetermined fits


def test_scm_fit_on_two_rows_refuses_with_the_rows_needed(abc):
    """Was: a fit whose noise std was 1e-16 (two rows interpolated exactly)."""
    with pytest.raises(DataError, match=r"node 'B' has 1 parent\(s\) \['A'\]: fitting it needs at least 3 rows.*data has 2"):
        SCM.fit(TRIANGLE, abc.iloc[:2])
    with pytest.raises(DataError, match=r"node 'C' has 2 parent\(s\).*at least 4 rows.*data has 3"):
        SCM.fit(TRIANGLE, abc.iloc[:3])
    assert SCM.fit(TRIANGLE, abc.iloc[:4]).noise["C"].var > 0


def test_scm_fit_of_a_flexible_model_on_few_rows_warns(abc):
    """The nearly unregularised spline model and a user's regressor warn instead of refusing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SCM.fit(TRIANGLE, abc.iloc[:6], "spline")
        SCM.fit(TRIANGLE, abc.iloc[:3], KNeighborsRegressor(2))
    messages = [str(w.message) for w in caught]
    assert any("node 'C': the spline model has 16 features for 6 rows" in m for m in messages)
    assert any("node 'C' has 2 parent(s) ['A', 'B']: fitting it needs at least 4 rows" in m for m in messages)


# ------------------------------------------------------------------ invented effects


def test_scm_fit_refuses_a_constant_parent(abc):
    """Was: a non-zero coefficient of the constant root A, so do(A=100) moved its child."""
    with pytest.raises(DataError, match=r"parent 'A' of node 'B' is constant in the data.*not identified"):
        SCM.fit(TRIANGLE, abc.assign(A=1.0))
    with pytest.raises(DataError, match=r"parent 'A' of node 'B' is constant"):
        SCM.fit(TRIANGLE, abc.assign(A=1.0), "auto", random_state=0)


def test_scm_fit_refuses_collinear_parents(abc):
    """Was: least squares split the effect of B = 2 A between A and B (the minimum-norm solution)."""
    with pytest.raises(DataError, match=r"parents \['A', 'B'\] of node 'C' are linear combinations"):
        SCM.fit(TRIANGLE, abc.assign(B=2 * abc.A))


# ------------------------------------------------------------------ misread inputs


def test_effect_refuses_an_unknown_latent_node(binary):
    """Was: latent=["NOPE"] ignored, the effect estimated as if nothing were latent."""
    with pytest.raises(UnknownNodeError, match=r"unknown latent node\(s\) \['NOPE'\]"):
        estimators.effect(binary, CONFOUNDED, "x", "y", latent=["NOPE"])
    with pytest.raises(ParameterError, match="treatment 'x' cannot be latent"):
        estimators.effect(binary, CONFOUNDED, "x", "y", latent=["x"])


def test_do_function_returning_nan_is_named(abc):
    """Was: samples of B (and C) full of NaN."""
    model = SCM.fit(TRIANGLE, abc)
    with pytest.raises(ParameterError, match=r"intervention function of node 'B' returned NaN for 3 of 3 rows"):
        model.do({"B": lambda P: np.full(P.shape[0], np.nan)}).sample(3, random_state=0)


@pytest.mark.parametrize("output", [lambda P: np.ones((P.shape[0], 2)), lambda P: np.ones(7), lambda P: np.array(["a"] * P.shape[0])])
def test_do_function_of_the_wrong_shape_is_named(abc, output):
    """Was: numpy's "input operand has more dimensions than allowed by the axis remapping"."""
    model = SCM.fit(TRIANGLE, abc)
    with pytest.raises(ParameterError, match=r"node 'B': the intervention function returned .*expected \(3,\)"):
        model.do({"B": output}).sample(3, random_state=0)


# ------------------------------------------------------------------ unhelpful errors


def test_from_linear_with_a_one_element_noise_std_list():
    """Was: TypeError "float() argument must be a string or a real number, not 'list'"."""
    with pytest.raises(ParameterError, match=r"'noise_std' parameter of SCM.from_linear lists 1 value\(s\) for 2 nodes"):
        SCM.from_linear([[0, 1], [0, 0]], noise_std=[1.0])
    model = SCM.from_linear([[0, 1], [0, 0]], noise_std=[1.0, 2.0], intercepts=[0.5, 0.0])
    assert model.noise["X1"].std == 2.0 and model.mechanisms["X0"].intercept == 0.5


def test_sample_with_random_state_minus_one():
    """Was: numpy's "expected non-negative integer"."""
    with pytest.raises(ParameterError, match=r"random_state must be a non-negative int.*got -1"):
        SCM.from_linear([[0, 1], [0, 0]]).sample(3, random_state=-1)


def test_sample_of_10_to_the_12_rows_is_refused_with_the_number():
    """Was: numpy's MemoryError "Unable to allocate 7.28 TiB"."""
    with pytest.raises(ParameterError, match=r"'n' parameter of SCM.sample asks for 1000000000000 rows of 2 columns.*memory"):
        SCM.from_linear([[0, 1], [0, 0]]).sample(10**12, random_state=0)


def test_pdag_from_adjacency_with_nan():
    """Was: "cannot convert float NaN to integer"."""
    with pytest.raises(GraphError, match=r"adjacency entry \['X0', 'X1'\] is nan; entries must be integer codes"):
        scm.PDAG.from_adjacency(np.array([[0, np.nan], [0, 0]]))


@pytest.mark.parametrize("cls", [scm.PDAG, scm.LaggedGraph])
def test_graph_from_json_with_malformed_text(cls):
    """Was: the raw json.JSONDecodeError."""
    with pytest.raises(GraphError, match=r"not valid JSON: Expecting property name.*line 1, column 2"):
        cls.from_json("{not json")
    assert json.loads(scm.PDAG.from_edges([("A", "B")]).to_json())  # the round trip still works


def test_simulate_with_one_node():
    """Was: ParameterError blaming expected_degree, which the user had not set."""
    ds = scm.simulate.simulate(n_nodes=1, n_samples=5, random_state=0)
    assert ds.data.shape == (5, 1)
    with pytest.raises(ParameterError, match=r"'expected_degree' parameter of simulate must be in the range \[0, 1\].*n_nodes=2"):
        scm.simulate.simulate(n_nodes=2, expected_degree=3)


def test_ipw_with_more_folds_than_units(binary):
    """Was: sklearn's "Cannot have number of splits n_splits=1000 greater than the number of samples"."""
    with pytest.raises(ParameterError, match=r"'n_folds' parameter of IPW is 1000.*treated.*n_folds <= \d+"):
        IPW(n_folds=1000).fit(binary, "x", "y", adjustment=["z"])


def test_regression_adjustment_of_a_randomised_binary_treatment(binary):
    """Was: numpy's LinAlgError "Singular matrix" with adjustment=[] (found on the way)."""
    est = RegressionAdjustment().fit(binary, "x", "y", adjustment=[])
    assert np.isfinite(est.std_err_) and est.conf_int_[0] < est.effect_ < est.conf_int_[1]


def test_regression_adjustment_with_a_one_unit_arm(binary):
    """Was: numpy's LinAlgError "Singular matrix" (found on the way)."""
    one = binary.assign(x=np.r_[1.0, np.zeros(len(binary) - 1)])
    with pytest.raises(DataError, match=r"the treated arm has 1 unit\(s\).*at least 3"):
        RegressionAdjustment().fit(one, "x", "y", adjustment=["z"])


def test_dose_response_grid_of_one_value():
    """Was: an effect of NaN with numpy's "invalid value encountered in divide" (found on the way)."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"t": rng.normal(size=100), "y": rng.normal(size=100)})
    with pytest.raises(ParameterError, match="at least 2 distinct treatment values"):
        RegressionAdjustment(grid=[0.5]).fit(df, "t", "y", adjustment=[])


def test_effect_on_an_scm_with_an_empty_value_list():
    """Was: IndexError "list index out of range" (found on the way)."""
    with pytest.raises(ParameterError, match="non-empty sequence"):
        estimators.effect(SCM.from_linear([[0, 1], [0, 0]]), treatment="X0", outcome="X1", value=[])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: scm.Gaussian("x"), "Gaussian std must be a finite number"),
        (lambda: scm.Gaussian(1.0, mean=np.nan), "'mean' parameter of Gaussian"),
        (lambda: scm.Uniform("a", 1), "Uniform needs finite low < high"),
        (lambda: scm.Laplace(1.0, mean="m"), "'mean' parameter of Laplace"),
        (lambda: scm.Linear({"A": "x"}), "weights must be numbers"),
        (lambda: scm.Linear({"A": 1.0}, intercept="x"), "'intercept' parameter of Linear"),
        (lambda: scm.shift("x"), "'delta' parameter of shift"),
        (lambda: scm.Constant("x"), "'value' parameter of Constant"),
        (lambda: scm.Discrete("abc"), "'table' parameter of Discrete"),
        (lambda: SCM.from_linear([["a", "b"], [0, 0]]), "weights must be a square matrix of numbers"),
        (lambda: SCM.from_linear([[0, 1], [0, 0]], nodes=["A", "A"]), r"node names must be unique; \['A'\]"),
    ],
)
def test_scm_constructors_with_non_numeric_parameters(call, match):
    """Were: numpy's "ufunc 'isfinite' not supported" / "could not convert string to float" (found on the way)."""
    with pytest.raises(ParameterError, match=match):
        call()


def test_empirical_noise_of_strings():
    """Was: "could not convert string to float" (found on the way)."""
    with pytest.raises(DataError, match="Empirical noise needs numbers"):
        scm.Empirical(["a", "b"])


def test_fits_on_ordinary_data_are_unchanged(abc, binary):
    """The fixes above leave ordinary answers alone (to rounding): the closed forms of the docs hold."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = SCM.fit(TRIANGLE, abc)
        assert fitted.mechanisms["B"].coefficients["A"] == pytest.approx(2.004895958517159, rel=1e-12)
        est = RegressionAdjustment().fit(binary, "x", "y", adjustment=["z"])
        ols = LinearRegression().fit(binary[["x", "z"]][binary.x == 1][["z"]], binary.y[binary.x == 1])
        assert est.potential_outcome_means_[1] == pytest.approx(float(ols.predict(binary[["z"]]).mean()), rel=1e-12)


def test_adjacency_to_dag_with_nan():
    """Was: NaN read as "nonzero", so a silent edge X0 -> X1 (found on the way)."""
    with pytest.raises(GraphError, match=r"adjacency entry \['X0', 'X1'\] is nan; entries must be finite numbers"):
        scm.adjacency_to_dag([[0, np.nan], [0, 0]])


def test_dags_in_class_of_a_digraph():
    """Was: AttributeError "'DiGraph' object has no attribute 'bidirected_edges'" (found on the way)."""
    with pytest.raises(GraphError, match=r"dags_in_class expects a PDAG.*got DiGraph.*scm.cpdag"):
        scm.dags_in_class(nx.DiGraph([("A", "B")]))


def test_pdag_from_edges_of_a_string():
    """Was: ValueError "not enough values to unpack" (found on the way)."""
    with pytest.raises(GraphError, match="edges must be a list of"):
        scm.PDAG.from_edges("AB")
    with pytest.raises(GraphError, match=r"each edge must be an \(a, b\) or \(a, b, kind\) tuple; got 'AB'"):
        scm.PDAG.from_edges(["AB"])


def test_dataset_of_a_string_or_a_mismatched_graph():
    """Were: AttributeError "'str' object has no attribute 'columns'", and a graph over absent columns accepted (found on the way)."""
    with pytest.raises(DataError, match="Dataset data must be a pandas DataFrame; got str"):
        scm.Dataset("x")
    with pytest.raises(UnknownNodeError, match=r"Dataset graph node\(s\) \['Z', 'Q'\] are not variable columns"):
        scm.Dataset(pd.DataFrame({"A": [1.0]}), graph=nx.DiGraph([("Z", "Q")]))
    with pytest.raises(ParameterError, match="'kind' parameter of Dataset must be one of"):
        scm.Dataset(pd.DataFrame({"A": [1.0]}), kind="obs")
