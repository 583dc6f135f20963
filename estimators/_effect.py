"""One call for a causal effect: identification, estimator choice and an explanation."""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scm import SCM, DataError, ParameterError, QueryResult, UnknownNodeError
from scm._bootstrap import Query, answer_query, check_n_bootstrap, require_fitted
from scm._scale import safe_std
from scm._validation import as_dataframe, check_in_range, check_nodes, check_numeric_frame, check_option, check_random_state

from ._adjustment import NotIdentifiableError, _Graph, adjustment_set
from ._estimators import AIPW, IPW, MIN_ROWS, DoubleML, RegressionAdjustment, _EffectEstimator, _treatment_kind
from ._id import identify
from ._ida import EffectRange, IDAResult, _is_cpdag, ida

__all__ = ["effect", "EffectResult"]

logger = logging.getLogger(__name__)

_ESTIMATORS = ("auto", "regression", "ipw", "aipw", "doubleml")


@dataclass
class EffectResult:
    """The answer of :func:`effect`.

    Attributes
    ----------
    estimate : float
        The ATE (binary treatment), the slope of the dose-response (continuous
        treatment), or ``E[outcome | do(treatment = value)]`` on an SCM (the
        contrast with ``baseline`` when given). NaN when the effect is not identified
        (``identified`` is False): there is no one number to report.
    std_err : float
        NaN when not identified, and when not available: on an SCM fitted to data without
        ``n_bootstrap`` (the explanation says so).
    conf_int : (float, float)
        When not identified: the envelope of the possible effects' intervals, which covers
        the true effect with at least the intervals' confidence if the true DAG is in the
        class.
    method : str
        Short name of the route taken.
    explanation : str
        Why this identification and this estimator, in words.
    adjustment_set : list or None
    estimand : str or None
        The identifying formula.
    estimator : fitted estimator or None
    dose_response : DataFrame or None
    identified : bool
        False when the graph (a CPDAG that is not amenable) leaves the effect open: the
        answer is then the set of possible effects in ``possible_effects``.
    possible_effects : IDAResult or None
        When not identified: the possible effects, one per parent set of the treatment that
        the class allows (:func:`estimators.ida`, ``method="optimal"``), each with its
        standard error, interval and adjustment set.
    range : EffectRange
        The smallest and largest possible effect and the envelope of their intervals (a
        property): from ``possible_effects`` when not identified, else the estimate twice
        and ``conf_int``.
    uncertainty : scm.QueryResult or None
        SCM queries: the answer behind ``estimate`` with its uncertainty (the bootstrap
        replicates and failed refits with ``n_bootstrap``, the Monte-Carlo error, a note).
    """

    estimate: float
    std_err: float
    conf_int: tuple
    method: str
    explanation: str
    adjustment_set: list | None = None
    estimand: str | None = None
    estimator: object = None
    dose_response: pd.DataFrame | None = field(default=None, repr=False)
    identified: bool = True
    possible_effects: IDAResult | None = field(default=None, repr=False)
    uncertainty: QueryResult | None = field(default=None, repr=False)

    @property
    def range(self) -> EffectRange:
        """Smallest and largest possible effect and the envelope of their intervals."""
        if self.possible_effects is not None:
            return self.possible_effects.range
        lo, hi = self.conf_int
        return EffectRange(float(self.estimate), float(self.estimate), float(lo), float(hi))

    def __repr__(self) -> str:
        lo, hi = self.conf_int
        if not self.identified:
            r = self.range
            k = len(self.possible_effects.table) if self.possible_effects is not None else 0
            return (
                f"EffectResult(not identified: {k} possible effects in [{r.low:.4g}, {r.high:.4g}], "
                f"conf_int=({lo:.4g}, {hi:.4g}), method={self.method!r})"
            )
        return (
            f"EffectResult(estimate={self.estimate:.4g}, std_err={self.std_err:.3g}, "
            f"conf_int=({lo:.4g}, {hi:.4g}), method={self.method!r})"
        )


def effect(
    data,
    graph=None,
    treatment=None,
    outcome=None,
    *,
    value=None,
    baseline=None,
    estimator="auto",
    outcome_model=None,
    treatment_model=None,
    latent=None,
    n_samples: int = 100_000,
    alpha: float = 0.05,
    random_state=None,
    n_bootstrap: int = 0,
) -> EffectResult:
    """Estimate the causal effect of ``treatment`` on ``outcome``, explaining each choice.

    With data and a graph: find an adjustment set by the generalised adjustment
    criterion (the O-set when it is observed, else a minimal observed set); if
    there is none, identify by the ID algorithm and, for discrete data, plug the
    data into the formula. Binary treatments get :class:`AIPW` (doubly robust),
    continuous ones :class:`DoubleML` (partially linear: a slope) unless
    ``estimator`` says otherwise.

    With a CPDAG that does not identify the effect (not amenable: an undirected edge at
    the treatment lies on a possibly causal path), there is no one effect to estimate: the
    result carries the possible effects over the class instead (:func:`estimators.ida`,
    ``method="optimal"``, linear regressions), ``identified=False``, ``estimate`` NaN,
    ``range`` and ``conf_int`` their range and the envelope of their intervals.

    With a fitted :class:`scm.SCM` instead of data: ``E[outcome | do(treatment =
    value)]`` in closed form (linear models) or by simulation, with a bootstrap interval
    over refits of the model (``n_bootstrap``).

    Parameters
    ----------
    data : pandas.DataFrame or scm.SCM
    graph : networkx.DiGraph or scm.PDAG
        DAG, CPDAG or ADMG; nodes absent from the data are treated as unobserved.
        Not used with an SCM (it has its own graph).
    treatment, outcome : str
    value : float or sequence of float
        SCM only: the intervention value(s).
    baseline : float, optional
        SCM only: also intervene at ``baseline`` and report the difference.
    estimator : {"auto", "regression", "ipw", "aipw", "doubleml"} or an estimator
        The estimator for adjustment (an unfitted instance is used as given).
    outcome_model, treatment_model : scikit-learn estimators, optional
        Nuisance learners passed to the chosen estimator.
    latent : collection of nodes, optional
        With a DAG: unobserved nodes (also inferred from missing columns).
    n_samples : int
        SCM only: Monte-Carlo sample size when no closed form exists.
    alpha : float
        1 - confidence level.
    random_state : None, int or Generator
    n_bootstrap : int
        SCM only: refits of a model fitted by ``SCM.fit`` on resamples of its data (0: none).
        The standard error is the replicates' standard deviation and the interval their
        percentiles (see :meth:`scm.SCM.interventional_mean`). A fitted model queried without
        them has ``std_err`` and ``conf_int`` NaN: its estimation error is unknown (a model
        built by hand answers exactly, or with Monte-Carlo error only).

    Returns
    -------
    EffectResult

    Raises
    ------
    NotIdentifiableError
        If the effect is not identifiable (its ``hedge`` shows why), or, in a CPDAG that
        does not identify it, when some node is not observed (IDA needs them all).
    UnknownNodeError, DataError, ParameterError
        Naming the culprit.

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import SCM
    >>> import pandas as pd
    >>> model = SCM.from_linear(pd.DataFrame([[0, 1, 1], [0, 0, 2], [0, 0, 0]],
    ...                         index=list("zxy"), columns=list("zxy"), dtype=float))
    >>> res = effect(model, treatment="x", outcome="y", value=1.0, baseline=0.0)
    >>> res.estimate, res.method
    (2.0, 'closed form')
    >>> data = model.sample(2000, random_state=0)
    >>> res = effect(data, model.graph, "x", "y", random_state=0)
    >>> res.adjustment_set, res.method
    (['z'], 'adjustment: DoubleML')
    >>> print(res.explanation.splitlines()[1])
    Identification: back-door adjustment for ['z'] (the O-set, Henckel et al. 2022: the valid set with the smallest asymptotic variance).
    """
    check_in_range(alpha, name="alpha", low=0, high=1, owner="effect")
    if isinstance(data, SCM):
        if graph is not None and not isinstance(graph, (str,)):
            raise ParameterError("an SCM carries its own graph; call effect(model, treatment=..., outcome=..., value=...)")
        if graph is not None and treatment is None:  # effect(model, "x", "y") positional use
            treatment, outcome = graph, treatment
        return _effect_scm(data, treatment, outcome, value, baseline, n_samples, alpha, random_state, n_bootstrap)
    if graph is None:
        raise ParameterError("effect(data, graph, treatment, outcome) needs a causal graph (or pass a fitted scm.SCM)")
    if value is not None or baseline is not None:
        raise ParameterError("'value' and 'baseline' are for SCM queries; with data the ATE or dose-response is estimated")
    if not (isinstance(n_bootstrap, numbers.Integral) and n_bootstrap == 0):
        raise ParameterError(
            f"The 'n_bootstrap' parameter of effect is for a fitted scm.SCM (got {n_bootstrap!r} with data); with data, give "
            "an estimator instance with bootstrap=..., e.g. estimator=DoubleML(bootstrap=200)"
        )
    frame = as_dataframe(data, name="data")
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if name is None:
            raise ParameterError(f"give the {role} column")
        if name not in frame.columns:
            raise UnknownNodeError(f"{role} {name!r} is not a column of data (columns: {list(frame.columns)[:10]})")
    g = _Graph.from_input(graph)
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if name not in g.pa:
            raise UnknownNodeError(f"{role} {name!r} is not a node of the graph")
    latent = check_nodes(latent, list(g.nodes), what="latent node", where="the graph")
    hidden_roles = [f"{role} {name!r}" for role, name in (("treatment", treatment), ("outcome", outcome)) if name in latent]
    if hidden_roles:
        raise ParameterError(f"the {' and the '.join(hidden_roles)} cannot be latent: they must be observed columns of the data")
    unobserved = [v for v in g.nodes if v not in frame.columns or v in latent]
    kind_g = {"dag": "a DAG", "cpdag": "a CPDAG", "admg": "an ADMG (bidirected edges: latent confounders)"}[g.kind]
    lines = [f"Graph: {kind_g} with {len(g.nodes)} nodes" + (f"; unobserved (not in the data): {unobserved}" if unobserved else "") + "."]
    source = graph
    try:
        try:
            if g.kind == "admg":
                raise NotIdentifiableError("no O-set on ADMGs")
            z = adjustment_set(source, treatment, outcome, kind="optimal", exclude=unobserved)
            why = "the O-set, Henckel et al. 2022: the valid set with the smallest asymptotic variance"
        except NotIdentifiableError as exc:
            if "not identifiable by adjustment in this CPDAG" in str(exc):
                raise
            z = adjustment_set(source, treatment, outcome, kind="minimal", exclude=unobserved)
            why = "a minimal valid set of observed nodes (generalised adjustment criterion)"
    except NotIdentifiableError as exc:
        if g.kind == "cpdag" and "not identifiable by adjustment in this CPDAG" in str(exc):
            return _effect_ida(frame, graph, treatment, outcome, unobserved, lines, exc, estimator, outcome_model,
                               treatment_model, alpha)
        if g.kind == "cpdag":
            raise
        lines.append(f"Identification: no valid adjustment set ({exc}); trying the ID algorithm.")
        return _effect_id(frame, graph, latent, unobserved, treatment, outcome, lines, alpha, random_state)
    pos = {v: i for i, v in enumerate(g.nodes)}
    z = sorted(z, key=pos.__getitem__)
    lines.append(f"Identification: back-door adjustment for {z} ({why}).")
    # the treatment decides the estimator: checked as the estimators check their columns (numeric, finite, rows)
    T = check_numeric_frame(frame[[treatment]], name="data", min_rows=MIN_ROWS)[treatment].to_numpy()
    tkind = _treatment_kind(T, treatment)
    est, reason = _choose(estimator, tkind, outcome_model, treatment_model, alpha, random_state)
    lines.append(f"Estimator: {type(est).__name__}: {reason}")
    est.fit(frame, treatment, outcome, adjustment=z)
    if est.positivity_ is not None and isinstance(est.positivity_, dict):
        p = est.positivity_
        lines.append(
            f"Positivity: estimated propensities in [{p['min_propensity']:.3g}, {p['max_propensity']:.3g}]; "
            f"{p['n_extreme']} units outside [{p['threshold']}, {1 - p['threshold']}]."
        )
    lines.append(f"Inference: {est.inference_}.")
    return EffectResult(
        estimate=est.effect_,
        std_err=est.std_err_,
        conf_int=est.conf_int_,
        method=f"adjustment: {type(est).__name__}",
        explanation="\n".join(lines),
        adjustment_set=z,
        estimand=_adjustment_formula(treatment, outcome, z),
        estimator=est,
        dose_response=est.dose_response_,
    )


def _effect_ida(frame, graph, treatment, outcome, unobserved, lines, exc, estimator, outcome_model, treatment_model, alpha):
    """A CPDAG that leaves the effect open: the possible effects over the class (optimal IDA)."""
    if not isinstance(estimator, _EffectEstimator):
        check_option(estimator, _ESTIMATORS, name="estimator", owner="effect")
    if isinstance(estimator, _EffectEstimator) or estimator not in ("auto", "regression") or outcome_model is not None or (
        treatment_model is not None
    ):
        raise ParameterError(
            f"the effect of {treatment!r} on {outcome!r} is not identified in this CPDAG, so effect() reports the possible "
            "effects over its class (IDA), which are linear regressions: leave estimator='auto' (or 'regression') and the "
            "outcome/treatment models unset"
        )
    lines.append(f"Identification: not identified ({exc}).")
    if unobserved:
        raise NotIdentifiableError("\n".join(lines + [
            f"IDA would give the possible effects over the class, but it needs every node observed; {unobserved} are not "
            "columns of the data."
        ]))
    method = "optimal" if _is_cpdag(graph) else "global"
    if method == "global":
        lines.append(
            "The graph is a PDAG but not a CPDAG (e.g. it carries background knowledge, or Meek's rules orient more of "
            "it): its DAGs are enumerated (global IDA), one row per DAG."
        )
    res = ida(graph, frame, treatment, outcome, method=method, alpha=alpha)
    if res.identified:
        row = res.table.iloc[0]
        lines.append(
            f"Estimation: every DAG it represents gives {treatment!r} the parents {list(row['parents'])}, so the effect is "
            f"identified after all: the linear regression of {outcome!r} on {treatment!r} and {list(row['adjustment'])}"
            + (f" ({row['note']})." if row["note"] else ".")
        )
        return EffectResult(
            estimate=float(row["effect"]),
            std_err=float(row["std_err"]),
            conf_int=(float(row["ci_low"]), float(row["ci_high"])),
            method="IDA (global): identified",
            explanation="\n".join(lines),
            adjustment_set=list(row["adjustment"]),
            possible_effects=res,
        )
    r = res.range
    lines.append(
        (f"Estimation: IDA (optimal; Maathuis et al. 2009, Witte et al. 2020): one linear regression per parent set of "
         f"{treatment!r} that the class allows, adjusting for the O-set of the DAGs with those parents. "
         if method == "optimal" else
         f"Estimation: IDA (global; Maathuis et al. 2009): one linear regression per DAG, adjusting for the parents of "
         f"{treatment!r} there. ")
        + f"{len(res.table)} "
        f"possible effects in [{r.low:.4g}, {r.high:.4g}] (their {100 * (1 - alpha):g}% intervals within "
        f"[{r.ci_low:.4g}, {r.ci_high:.4g}]); the true effect is one of them, not their average, so estimate and std_err "
        "are NaN and the table is in possible_effects."
    )
    return EffectResult(
        estimate=float("nan"),
        std_err=float("nan"),
        conf_int=(r.ci_low, r.ci_high),
        method=f"IDA ({method}): not identified, possible effects",
        explanation="\n".join(lines),
        identified=False,
        possible_effects=res,
    )


def _adjustment_formula(t, y, z) -> str:
    if not z:
        return f"P({y} | {t})"
    zs = ", ".join(map(str, z))
    return f"Σ_{{{zs}}} P({y} | {t}, {zs}) P({zs})"


def _choose(estimator, tkind, outcome_model, treatment_model, alpha, random_state):
    if isinstance(estimator, _EffectEstimator):
        if outcome_model is not None or treatment_model is not None:
            raise ParameterError("give the learners to the estimator instance, not to effect()")
        return estimator, "given by the caller."
    check_option(estimator, _ESTIMATORS, name="estimator", owner="effect")
    kw = {"alpha": alpha, "random_state": random_state}
    if estimator == "auto":
        estimator = "aipw" if tkind == "binary" else "doubleml"
        reason = (
            "binary treatment, so the doubly robust AIPW estimator (consistent if either the outcome or the "
            "propensity model is right; cross-fitted, 5 folds)."
            if tkind == "binary"
            else "continuous treatment, so double ML in the partially linear model (a cross-fitted slope with "
            "an influence-function interval; the linear dose-response is in dose_response)."
        )
    else:
        reason = "chosen by the caller."
    if estimator == "regression":
        return RegressionAdjustment(outcome_model=outcome_model, **kw), reason
    if estimator == "ipw":
        return IPW(treatment_model=treatment_model, **kw), reason
    if estimator == "aipw":
        return AIPW(outcome_model=outcome_model, treatment_model=treatment_model, **kw), reason
    return DoubleML(outcome_model=outcome_model, treatment_model=treatment_model, **kw), reason


def _effect_id(frame, graph, latent, unobserved, treatment, outcome, lines, alpha, random_state):
    hidden = list(unobserved)
    try:
        if hidden and not hasattr(graph, "directed_edges"):
            est = identify(graph, treatment, outcome, latent=hidden)
        else:
            if hidden:
                raise ParameterError(
                    f"nodes {hidden} of the ADMG are not in the data; an ADMG should hold observed nodes only "
                    "(latent confounders are its bidirected edges)"
                )
            est = identify(graph, treatment, outcome)
    except NotIdentifiableError as exc:
        raise NotIdentifiableError("\n".join(lines + [f"Not identifiable: {exc}"]), hedge=exc.hedge) from None
    lines.append(f"Identification: ID algorithm (Shpitser and Pearl 2006): P({outcome} | do({treatment})) = {est}.")
    cols = est.variables
    sub = frame[cols]
    discrete = all(
        pd.api.types.is_numeric_dtype(sub[c]) and np.isfinite(sub[c].to_numpy(float)).all()
        and np.array_equal(np.rint(sub[c].to_numpy(float)), sub[c].to_numpy(float)) and sub[c].min() >= 0 and sub[c].max() < 50
        for c in cols
    )
    if not discrete:
        raise NotIdentifiableError(
            "\n".join(lines + [
                "Estimation: the effect is identified by the formula above, but plugging data into it needs discrete "
                f"variables coded 0..k-1; columns {cols} are not all discrete. Discretise them, or estimate the "
                "formula's pieces with a model of your own."
            ])
        )
    T = frame[treatment].to_numpy(float)
    if set(np.unique(T).tolist()) != {0.0, 1.0}:
        raise DataError(f"plug-in estimation reports the contrast do({treatment}=1) - do({treatment}=0); code {treatment!r} as 0/1")
    rng = check_random_state(random_state)

    def contrast(df):
        p = est.evaluate(df)
        y = p.index.get_level_values(outcome).to_numpy(float)
        t = p.index.get_level_values(treatment).to_numpy()
        m1 = float(np.sum(p.to_numpy()[t == 1] * y[t == 1]))
        m0 = float(np.sum(p.to_numpy()[t == 0] * y[t == 0]))
        return m1 - m0

    value = contrast(sub)
    n = len(sub)
    boots = np.array([contrast(sub.iloc[rng.integers(0, n, n)]) for _ in range(200)])
    se = float(safe_std(boots, ddof=1))
    lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
    lines.append(
        f"Estimator: plug-in of the empirical distribution into the formula (discrete data), "
        f"E[{outcome} | do({treatment}=1)] - E[{outcome} | do({treatment}=0)]; 200 bootstrap replicates for the interval."
    )
    return EffectResult(value, se, (float(lo), float(hi)), "ID: plug-in", "\n".join(lines), None, str(est), est)


def _effect_scm(model, treatment, outcome, value, baseline, n_samples, alpha, random_state, n_bootstrap=0):
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if name is None:
            raise ParameterError(f"give {role}=...")
        if name not in model.graph:
            raise UnknownNodeError(f"{role} {name!r} is not a node of the SCM (nodes: {model.nodes[:10]})")
    if value is None:
        raise ParameterError("give value=... (the intervention value, or a sequence of values)")
    if isinstance(value, numbers.Real):
        values = [value]
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParameterError(f"value must be a number or a non-empty sequence of numbers; got {value!r}")
    else:
        values = list(value)
    if not values:
        raise ParameterError("value must be a number or a non-empty sequence of numbers; got an empty sequence")
    for v in values + ([baseline] if baseline is not None else []):
        if not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise ParameterError(f"intervention values must be finite numbers; got {v!r}")
    check_in_range(n_samples, name="n_samples", low=2, inclusive="left", integer=True, owner="effect")
    n_bootstrap = check_n_bootstrap(n_bootstrap, owner="effect")
    recipe = require_fitted(model, owner="effect") if n_bootstrap else None
    values = [float(v) for v in values]
    baseline = float(baseline) if baseline is not None else None
    try:
        for v in values[:1]:
            model._closed_form_mean({treatment: v})
        closed = recipe is None or recipe.is_linear()  # refits of an "auto" or regressor fit may be non-linear
    except ParameterError:
        closed = False
    query = _SCMEffectQuery(treatment, outcome, values, baseline, None if closed else n_samples)
    res = answer_query(model, query, n_bootstrap=n_bootstrap, alpha=alpha, random_state=random_state, owner="effect")
    if closed:
        method, how = "closed form", "the SCM is linear, so E[Y | do(X = x)] = ((I - B^T)^-1 (c + E[e]))_Y exactly"
    else:
        method = "simulation"
        how = (f"the SCM has non-linear mechanisms{' (or its refits may)' if recipe is not None else ''}, so {n_samples} "
               "samples of the intervened model (common random numbers across values)")
    est, ses = res.estimate.to_numpy(), res.std_err.to_numpy()
    lo, hi = res.ci_low.to_numpy(), res.ci_high.to_numpy()
    what = f"E[{outcome} | do({treatment} = x)]" + (f" - E[{outcome} | do({treatment} = {baseline})]" if baseline is not None else "")
    explanation = f"Query on a fitted SCM: {what}.\nMethod: {method}: {how}.\nUncertainty: {res.note}."
    if not closed and res.interval != "Monte-Carlo normal":
        explanation += f"\nMonte-Carlo std. error of the estimate alone: {float(res.mc_std_err.iloc[0]):.3g}."
    if res.n_failed:
        explanation += f"\n{res.n_failed} of {n_bootstrap} refits failed and are left out: {res.failures}."
    curve = None
    if len(values) > 1:
        curve = pd.DataFrame({treatment: values, "estimate": est, "std_err": ses, "lower": lo, "upper": hi})
    return EffectResult(float(est[0]), float(ses[0]), (float(lo[0]), float(hi[0])), method, explanation, dose_response=curve,
                        uncertainty=res)


class _SCMEffectQuery(Query):
    """``E[outcome | do(treatment = v)]`` for each value (minus the baseline's), closed form or by simulation."""

    def __init__(self, treatment, outcome, values: list, baseline, n_samples: int | None):
        self.treatment, self.outcome, self.values, self.baseline, self.n_samples = treatment, outcome, values, baseline, n_samples
        self.labels = pd.Index(values, name=treatment)
        self.exact = n_samples is None
        self.method = "closed form" if self.exact else f"simulation ({n_samples} draws)"

    def __call__(self, model, rng):
        return self.point(model, rng)[0]

    def point(self, model, rng):
        if self.exact:
            mean = [float(model._closed_form_mean({self.treatment: v})[self.outcome]) for v in self.values]
            base = float(model._closed_form_mean({self.treatment: self.baseline})[self.outcome]) if self.baseline is not None else 0.0
            return np.array(mean) - base, np.zeros(len(mean))
        seed = int(rng.integers(2**31 - 1))  # common random numbers across values

        def draws(v):
            return model.do({self.treatment: v}).sample(self.n_samples, random_state=seed)[self.outcome].to_numpy(float)

        ys = [draws(v) for v in self.values]
        if self.baseline is not None:
            b = draws(self.baseline)
            ys = [y - b for y in ys]
        est = np.array([y.mean() for y in ys])
        return est, np.array([float(safe_std(y, ddof=1)) / np.sqrt(self.n_samples) for y in ys])
