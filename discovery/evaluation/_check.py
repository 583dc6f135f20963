"""Checking a graph, and a model fitted on it, against data (issue 27).

Users bring a graph (drawn by hand or learned) and want to know whether the data contradict it.

- :func:`check_graph`: the conditional independences the graph implies
  (:func:`implied_independences`: the local Markov property, or one minimal separation per
  non-adjacent pair), tested on the data in one batched call of a CI test of
  :mod:`discovery.citest` through a :class:`~discovery.constraint.CIRunner`; counted raw and
  after a multiple-testing correction; and compared with a permutation baseline, as DoWhy's
  graph falsification does (``dowhy.gcm.falsify.falsify_graph``, Eulig et al. 2023): the same
  structure with its nodes relabelled at random, is the given graph better than those? Returns
  a :class:`GraphCheck` whose ``verdict`` says what the data do and do not show.
- :func:`check_mechanisms`: per node of a fitted :class:`scm.SCM` (or a graph and a
  mechanism spec), the held-out R^2 and log-likelihood of its mechanism refitted K times with
  :func:`scm.fit_mechanism` / :func:`scm.fit_noise`, and a test of the independence of the
  held-out residuals from the parents. Returns a :class:`MechanismCheck`.

Both results render as an HTML fragment for :func:`discovery.evaluation.write_report`
(``checks=``).

Examples
--------
>>> import networkx as nx
>>> from scm import SCM
>>> truth = SCM.from_linear([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]], nodes=["A", "B", "C"])
>>> data = truth.sample(500, random_state=0)
>>> res = check_graph(truth.graph, data, random_state=0)
>>> res.table[["x", "y", "cond", "violated"]]
   x  y  cond  violated
0  C  A  (B,)     False
>>> res.contradicted
False
>>> check_graph(nx.DiGraph([("A", "C"), ("C", "B")]), data).n_violated  # B's parent is not C alone
1
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import logging
import math
from collections import Counter
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from scm import (
    PDAG,
    SCM,
    AdditiveNoise,
    Discrete,
    Linear,
    as_dag,
    check_fit_data,
    choose_mechanisms,
    fit_mechanism,
    fit_noise,
)
from scm._cpdag import _extension
from scm._exceptions import GraphError, ParameterError
from scm._validation import as_dataframe, check_in_range, check_nodes, check_option, check_random_state

from .._utils import adjust_pvalues, center_scale
from ..citest import make_ci_test, resolve_ci_test
from ..constraint import CIRunner

__all__ = [
    "check_graph",
    "check_mechanisms",
    "implied_independences",
    "GraphCheck",
    "MechanismCheck",
    "IMPLIED",
    "checks_html",
]

logger = logging.getLogger(__name__)

#: What ``implied=`` may name: the statements tested by :func:`check_graph`.
IMPLIED = ("local_markov", "pairwise_minimal")
_CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
#: At most this many permutations (the baseline holds one row of test keys per permutation).
_MAX_PERMUTATIONS = 100_000
_RESIDUAL_TESTS = ("kci", "fisherz")


# --------------------------------------------------------------------------- #
# the graph: a DAG, or a DAG of the class of a CPDAG
# --------------------------------------------------------------------------- #
def _dag_of(graph, owner: str) -> nx.DiGraph:
    """The DAG whose implied independences are checked: the graph itself, or a consistent extension of a CPDAG."""
    if isinstance(graph, PDAG):
        if graph.bidirected_edges:
            pairs = sorted(tuple(sorted(map(str, e))) for e in graph.bidirected_edges)[:5]
            raise GraphError(
                f"{owner} checks DAGs and CPDAGs; the graph has bidirected edges {pairs} (latent confounders), whose "
                "implied independences follow m-separation in an ADMG, not the local Markov property of a DAG. "
                "Remove them, or replace each by an explicit latent node and drop that node from the check"
            )
        if graph.undirected_edges:
            # every DAG of the class implies the same independences: any one of them serves (no OrientationWarning)
            return _extension(graph)[0]
        return graph.to_networkx()
    return as_dag(graph)


def implied_independences(graph, *, implied: str = "local_markov") -> pd.DataFrame:
    """The conditional independences ``x _||_ y | S`` that a DAG implies, as pairwise statements.

    Parameters
    ----------
    graph : networkx.DiGraph, scm.PDAG or mapping node -> parents
        A DAG, or a CPDAG (a PDAG without bidirected edges; its statements are those of one
        consistent extension: every DAG of the class implies the same independences).
    implied : {"local_markov", "pairwise_minimal"}
        ``"local_markov"``: each node ``x`` is independent of each non-descendant ``y`` that is
        not a parent, given its parents ``pa(x)`` (the parental triples of DoWhy's
        ``validate_lmc`` with ``include_unconditional=True``: a root node gives unconditional
        statements). One row per ``(x, y)``, so ``x _||_ y | S`` appears twice when ``x`` and
        ``y`` have the same parents ``S`` (tested once). Together they imply every
        d-separation of the graph. ``"pairwise_minimal"``: one statement per non-adjacent pair,
        ``x`` before ``y`` in the graph's node order, given a minimal d-separator
        (:func:`networkx.find_minimal_d_separator`; no proper subset separates them).

    Returns
    -------
    pandas.DataFrame
        Columns ``x``, ``y`` and ``cond`` (a tuple, in the graph's node order), in the
        graph's node order of ``x``.

    Raises
    ------
    scm.GraphError, scm.CycleError
        A graph with bidirected edges, a cycle, or that is no graph.

    Examples
    --------
    >>> import networkx as nx
    >>> implied_independences(nx.DiGraph([("A", "B"), ("B", "C"), ("D", "C")]))
       x  y    cond
    0  A  D      ()
    1  B  D    (A,)
    2  C  A  (B, D)
    3  D  A      ()
    4  D  B      ()
    >>> implied_independences(nx.DiGraph([("A", "B"), ("B", "C"), ("D", "C")]), implied="pairwise_minimal")
       x  y  cond
    0  A  C  (B,)
    1  A  D    ()
    2  B  D    ()
    """
    check_option(implied, IMPLIED, name="implied", owner="implied_independences")
    dag = _dag_of(graph, "implied_independences")
    return pd.DataFrame(_statements(dag, implied), columns=["x", "y", "cond"], dtype=object)


def _statements(dag: nx.DiGraph, implied: str) -> list[tuple]:
    """``(x, y, cond)`` of every implied statement, labels in the graph's node order."""
    pos = {n: i for i, n in enumerate(dag.nodes)}
    rows = []
    if implied == "local_markov":
        for x in dag.nodes:
            parents = tuple(sorted(dag.predecessors(x), key=pos.__getitem__))
            excluded = nx.descendants(dag, x) | set(parents) | {x}
            rows.extend((x, y, parents) for y in dag.nodes if y not in excluded)
        return rows
    for x, y in itertools.combinations(dag.nodes, 2):
        if dag.has_edge(x, y) or dag.has_edge(y, x):
            continue
        sep = nx.find_minimal_d_separator(dag, x, y)
        rows.append((x, y, tuple(sorted(sep, key=pos.__getitem__))))
    return rows


# --------------------------------------------------------------------------- #
# check_graph
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, repr=False)
class GraphCheck:
    """The result of :func:`check_graph`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per implied statement: ``x``, ``y``, ``cond`` (tuple), ``statistic``,
        ``pvalue``, ``pvalue_adjusted`` (by ``correction``, over the distinct tests),
        ``violated`` (``pvalue <= alpha``) and ``violated_adjusted``
        (``pvalue_adjusted <= alpha``).
    verdict : str
        What the data show, in words (see :func:`check_graph`).
    contradicted : bool
        Whether some implied independence is rejected after the correction.
    n_implied, n_tests : int
        Statements (rows) and distinct tests run for them.
    n_violated, n_violated_adjusted : int
        Rows rejected at ``alpha``, raw and after the correction.
    permutation_violations : numpy.ndarray
        The fraction of its statements that each permuted graph violates (raw, at ``alpha``).
    permutation_pvalue : float
        The share of permuted graphs that do at least as well as the given one (see Notes of
        :func:`check_graph`); NaN without permutations or statements.
    fraction_as_good : float
        That share without the ``+1`` of a sampled baseline: DoWhy's LMC p-value.
    same_class_fraction : float
        The share of permuted graphs in the Markov equivalence class of the given one (they
        imply the same independences): DoWhy's p-value of the informativeness test.
    informative : bool
        ``same_class_fraction <= alpha``: few relabellings imply the same independences, so
        the baseline can tell the graph from random ones.
    n_permutations : int
    exhaustive : bool
        Whether every permutation of the nodes was used (``n! <= n_permutations``).
    alpha : float
    correction, implied, ci_test : str
    dag : networkx.DiGraph
        The DAG whose statements were tested (a consistent extension for a CPDAG).
    """

    table: pd.DataFrame
    verdict: str
    contradicted: bool
    n_implied: int
    n_tests: int
    n_violated: int
    n_violated_adjusted: int
    permutation_violations: np.ndarray
    permutation_pvalue: float
    fraction_as_good: float
    same_class_fraction: float
    informative: bool
    n_permutations: int
    exhaustive: bool
    alpha: float
    correction: str
    implied: str
    ci_test: str
    dag: nx.DiGraph

    @property
    def fraction_violated(self) -> float:
        """``n_violated / n_implied`` (NaN without statements)."""
        return self.n_violated / self.n_implied if self.n_implied else float("nan")

    def __repr__(self) -> str:
        return (f"GraphCheck(n_implied={self.n_implied}, n_violated={self.n_violated}, "
                f"n_violated_adjusted={self.n_violated_adjusted}, permutation_pvalue={self.permutation_pvalue:.3g}, "
                f"contradicted={self.contradicted})")

    def __str__(self) -> str:
        return self.verdict

    def _repr_html_(self) -> str:
        return _graph_check_html("check_graph", self)


def check_graph(
    graph,
    data=None,
    *,
    ci_test="fisherz",
    ci_test_kwargs: dict | None = None,
    alpha: float = 0.05,
    implied: str = "local_markov",
    correction: str = "holm",
    n_permutations: int = 100,
    random_state=None,
) -> GraphCheck:
    """Do the data contradict the conditional independences a graph implies?

    Three phases: the implied statements (:func:`implied_independences`); their tests on the
    data, every distinct ``(x, y, S)`` in one batched call of the CI test through a
    :class:`~discovery.constraint.CIRunner`; and the permutation baseline of DoWhy's
    ``falsify_graph``: the graph's nodes relabelled at random (same structure, other
    variables), the relabelled statements tested through the same runner (its cache runs a
    statement shared by several graphs once, the new ones in one more batched call), and the
    share of relabelled graphs that violate no larger fraction of their statements.

    Parameters
    ----------
    graph : networkx.DiGraph, scm.PDAG or mapping node -> parents
        A DAG, or a CPDAG (one consistent extension is checked: every DAG of the class implies
        the same independences). Bidirected edges are refused. Every node must be a column of
        ``data``; other columns are ignored.
    data : pandas.DataFrame, optional
        Observations. Optional when ``ci_test`` is an instance (e.g. the
        :class:`~discovery.citest.DSeparation` oracle), which tests on its own data; ``data``
        given with an instance is only checked to hold the graph's nodes.
    ci_test : str or CITest, default "fisherz"
        A name of :data:`discovery.CI_TESTS` (built on the graph's columns of ``data``) or an
        instance whose variables include the graph's nodes.
    ci_test_kwargs : dict, optional
        Options of a named test (e.g. ``{"approximation": "nystrom"}`` for ``"kci"``).
    alpha : float, default 0.05
        Level of every decision: a test rejects at ``p <= alpha`` (as DoWhy), the correction
        controls its rate at ``alpha``, the graph beats random relabellings when
        ``permutation_pvalue <= alpha`` and is informative when ``same_class_fraction <= alpha``.
    implied : {"local_markov", "pairwise_minimal"}
        Which statements (:func:`implied_independences`); the default is DoWhy's.
    correction : {"holm", "bh"}
        The multiple-testing correction of ``violated_adjusted`` and of the verdict. ``"holm"``
        (default) controls the family-wise error rate: "the data contradict the graph" is then
        wrong with probability at most ``alpha`` when every implied independence holds (and the
        test is calibrated). ``"bh"`` (Benjamini-Hochberg) controls the false discovery rate
        among the rejected statements instead. The raw count is always reported.
    n_permutations : int, default 100
        Size of the permutation baseline; 0 skips it. When ``n! <= n_permutations`` every
        permutation of the ``n`` nodes is used once (exhaustive, as DoWhy). The baseline runs
        up to ``n_permutations * n_implied`` further tests (fewer where relabelled statements
        coincide): cheap with Fisher-z, minutes with KCI on large data, where fewer permutations
        (DoWhy's default is ``1 / alpha``) or ``ci_test_kwargs={"approximation": "nystrom"}`` help.
    random_state : None, int or numpy.random.Generator
        Draws the sampled permutations.

    Returns
    -------
    GraphCheck

    Raises
    ------
    scm.ParameterError
        A bad option, level or count, or no data for a named test.
    scm.UnknownNodeError
        A node of the graph that is not a column of ``data`` (or a variable of the test).
    scm.DataError
        Data the test refuses (NaN, constant, non-numeric or linearly dependent columns, too
        few rows), naming the column.
    scm.GraphError, scm.CycleError
        A graph with bidirected edges or a cycle.

    Notes
    -----
    **The verdict.** "The data contradict the graph" when some implied independence is rejected
    after the correction; otherwise "the data do not contradict the graph", which is weaker than
    "the graph is right": the graphs of its Markov equivalence class imply the same statements,
    and a test of low power rejects little. Then the baseline: the share of random
    relabellings that do as well, and whether the graph is informative at all (DoWhy's second
    test: if many relabellings fall in its equivalence class, the baseline cannot tell them
    apart).

    **The permutation p-value** follows DoWhy's definition, the share of permuted graphs whose
    fraction of violated statements (raw, at ``alpha``) is at most the given graph's: small
    when the graph fits better than random graphs of the same structure. With every
    permutation enumerated (the identity among them) it is DoWhy's value exactly; with sampled
    permutations it is ``(1 + k) / (1 + n)`` (``k`` of ``n`` do as well; Phipson and Smyth
    2010), never 0, and ``fraction_as_good`` holds DoWhy's ``k / n``. The permuted graphs'
    statements are the given graph's statements relabelled.

    **Informativeness.** DoWhy counts, for each permuted graph, its statements that are not
    d-separations of the given graph (``validate_tpa``) and reports the share with none. A
    permuted graph has none exactly when it lies in the given graph's Markov equivalence class
    (it has as many edges, so implying no independence the graph lacks makes them
    equivalent); that is computed here by comparing skeletons and v-structures.

    Examples
    --------
    >>> import networkx as nx
    >>> from discovery import DSeparation
    >>> truth = nx.DiGraph([("A", "B"), ("B", "C"), ("D", "C")])
    >>> oracle = DSeparation(truth)
    >>> check_graph(truth, ci_test=oracle).n_violated
    0
    >>> wrong = check_graph(nx.DiGraph([("A", "B"), ("C", "B"), ("D", "C")]), ci_test=oracle, random_state=0)
    >>> wrong.table[["x", "y", "cond", "pvalue", "violated"]]
       x  y    cond  pvalue  violated
    0  A  C      ()     0.0      True
    1  A  D      ()     1.0     False
    2  B  D  (A, C)     0.0      True
    3  C  A    (D,)     0.0      True
    4  D  A      ()     1.0     False
    >>> wrong.exhaustive, wrong.n_permutations  # 4! = 24 <= 100: every relabelling once
    (True, 24)
    >>> print(wrong.verdict)  # doctest: +NORMALIZE_WHITESPACE
    The data contradict the graph at alpha=0.05: 3 of its 5 implied independences are rejected after Holm's
    correction (3 with raw p-values <= 0.05). Graphs with the same structure and their nodes relabelled do as well
    in 12 of 24 permutations (p=0.5): the data do not single this graph out among them.
    """
    owner = "check_graph"
    check_in_range(alpha, name="alpha", low=0, high=1, owner=owner)
    check_option(implied, IMPLIED, name="implied", owner=owner)
    check_option(correction, tuple(_CORRECTIONS), name="correction", owner=owner)
    check_in_range(n_permutations, name="n_permutations", low=0, high=_MAX_PERMUTATIONS, inclusive="both", integer=True,
                   owner=owner)
    rng = check_random_state(random_state)
    dag = _dag_of(graph, owner)
    runner = _runner_for(dag, data, ci_test, ci_test_kwargs, owner)
    statements = _statements(dag, implied)
    table, keys = _test_statements(runner, statements, alpha, correction)
    n_violated = int(table["violated"].sum())
    n_adjusted = int(table["violated_adjusted"].sum())
    baseline = _permutation_baseline(runner, dag, keys, table["pvalue"].to_numpy(), alpha, n_permutations, rng)
    test_name = getattr(runner.ci_test, "name", type(runner.ci_test).__name__)
    logger.info("check_graph: %d statements, %d distinct tests, %d violated (%d after %s); %d permutations",
                len(table), runner.n_tests, n_violated, n_adjusted, correction, baseline["n"])
    verdict = _graph_verdict(len(table), n_violated, n_adjusted, alpha, correction, baseline)
    return GraphCheck(
        table=table, verdict=verdict, contradicted=n_adjusted > 0, n_implied=len(table), n_tests=len(set(keys)),
        n_violated=n_violated, n_violated_adjusted=n_adjusted, permutation_violations=baseline["fractions"],
        permutation_pvalue=baseline["pvalue"], fraction_as_good=baseline["as_good"],
        same_class_fraction=baseline["same_class"], informative=bool(baseline["same_class"] <= alpha),
        n_permutations=baseline["n"], exhaustive=baseline["exhaustive"], alpha=float(alpha), correction=correction,
        implied=implied, ci_test=str(test_name), dag=dag,
    )


def _runner_for(dag: nx.DiGraph, data, ci_test, ci_test_kwargs, owner: str) -> CIRunner:
    """A runner over the CI test: built on the graph's columns of ``data``, or the instance given."""
    nodes = list(dag.nodes)
    if isinstance(ci_test, str) or data is not None:
        if data is None:
            raise ParameterError(f"{owner} needs data for the {ci_test!r} test (or a CI test instance as 'ci_test').")
        frame = as_dataframe(data, name="data")
        check_nodes(nodes, frame.columns, what="graph node", where="the data's columns")
        if isinstance(ci_test, str):
            test = resolve_ci_test(ci_test, ci_test_kwargs, frame[nodes], owner=owner)
            return CIRunner.from_ci_test(test)
    test = resolve_ci_test(ci_test, ci_test_kwargs, None, owner=owner)
    check_nodes(nodes, list(test.variables), what="graph node", where="the variables of the CI test")
    return CIRunner.from_ci_test(test)


def _test_statements(runner: CIRunner, statements: list, alpha: float, correction: str) -> tuple[pd.DataFrame, list]:
    """Test every statement (one batched call for the new keys); the tidy table and the keys, row by row."""
    ix = runner.index
    keys = [runner.key(ix[x], ix[y], [ix[s] for s in cond]) for x, y, cond in statements]
    runner.run(keys)
    results = np.array([runner.result(k) for k in keys], dtype=float).reshape(len(keys), 2)
    distinct = list(dict.fromkeys(keys))
    adjusted = dict(zip(distinct, adjust_pvalues([runner.pvalue(k) for k in distinct], correction)))
    table = pd.DataFrame(statements, columns=["x", "y", "cond"], dtype=object)
    table["statistic"] = results[:, 0]
    table["pvalue"] = results[:, 1]
    table["pvalue_adjusted"] = np.array([adjusted[k] for k in keys], dtype=float)
    table["violated"] = table["pvalue"] <= alpha
    table["violated_adjusted"] = table["pvalue_adjusted"] <= alpha
    return table, keys


def _permutations(d: int, n_permutations: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """``(P, d)`` index permutations: all of them when ``d! <= n_permutations``, else ``n_permutations`` draws."""
    if n_permutations == 0:
        return np.empty((0, d), dtype=np.int64), False
    if d <= 12 and math.factorial(d) <= n_permutations:
        return np.array(list(itertools.permutations(range(d))), dtype=np.int64).reshape(-1, d), True
    return np.array([rng.permutation(d) for _ in range(n_permutations)], dtype=np.int64).reshape(-1, d), False


def _class_signature(edges, n_nodes: int, perm=None) -> tuple[frozenset, frozenset]:
    """Skeleton and v-structures of a DAG given by index edges, relabelled by ``perm``: equal iff Markov equivalent."""
    lab = np.arange(n_nodes) if perm is None else perm
    parents: dict[int, set] = {}
    skeleton = set()
    for a, b in edges:
        parents.setdefault(int(lab[b]), set()).add(int(lab[a]))
        skeleton.add(frozenset((int(lab[a]), int(lab[b]))))
    colliders = {
        (frozenset((a, b)), c)
        for c, pa in parents.items()
        for a, b in itertools.combinations(sorted(pa), 2)
        if frozenset((a, b)) not in skeleton
    }
    return frozenset(skeleton), frozenset(colliders)


def _permutation_baseline(runner, dag, keys, pvalues, alpha, n_permutations, rng) -> dict:
    """Violated fractions of the relabelled graphs, the permutation p-value and the same-class share."""
    nodes = list(dag.nodes)
    d = len(nodes)
    perms, exhaustive = _permutations(d, n_permutations, rng)
    n = perms.shape[0]
    out = {"fractions": np.empty(0), "pvalue": float("nan"), "as_good": float("nan"), "n_as_good": 0, "same_class": float("nan"),
           "n": n, "exhaustive": exhaustive}
    if n == 0:
        return out
    # statements as indices of the graph's nodes, relabelled through each permutation to the runner's indices
    pos = {v: i for i, v in enumerate(nodes)}
    to_runner = np.array([runner.index[v] for v in nodes], dtype=np.int64)
    from_runner = {int(r): i for i, r in enumerate(to_runner)}
    local = [(from_runner[k[0]], from_runner[k[1]], tuple(from_runner[s] for s in k[2])) for k in keys]
    permuted = [[runner.key(to_runner[p[x]], to_runner[p[y]], [to_runner[p[s]] for s in cond]) for x, y, cond in local]
                for p in perms]
    if local:
        runner.run(itertools.chain.from_iterable(permuted))
        counts = np.array([sum(runner.pvalue(k) <= alpha for k in row) for row in permuted], dtype=float)
        given = float(np.sum(np.asarray(pvalues) <= alpha))
        as_good = int(np.sum(counts <= given))
        out["fractions"] = counts / len(local)
        out["n_as_good"] = as_good
        out["as_good"] = as_good / n
        out["pvalue"] = as_good / n if exhaustive else (1 + as_good) / (1 + n)
    edges = [(pos[a], pos[b]) for a, b in dag.edges]
    signature = _class_signature(edges, d)
    out["same_class"] = float(np.mean([_class_signature(edges, d, p) == signature for p in perms]))
    return out


def _graph_verdict(m: int, n_raw: int, n_adjusted: int, alpha: float, correction: str, baseline: dict) -> str:
    """The plain-words summary of :func:`check_graph`: what is rejected, and how random relabellings compare."""
    if m == 0:
        return ("The graph implies no conditional independence among its nodes (every pair is adjacent), so the data "
                "cannot contradict it by independence tests; that says nothing about whether it is right.")
    name = f"{_CORRECTIONS[correction]}'s" if correction == "holm" else _CORRECTIONS[correction]
    if n_adjusted == 0:
        parts = [f"The data do not contradict the graph at alpha={alpha:g}: none of its {m} implied independences is "
                 f"rejected after {name} correction ({n_raw} raw p-value{'s' if n_raw != 1 else ''} <= {alpha:g}; "
                 f"about {alpha * m:.1f} expected by chance if all hold)."]
    else:
        parts = [f"The data contradict the graph at alpha={alpha:g}: {n_adjusted} of its {m} implied independences "
                 f"{'are' if n_adjusted != 1 else 'is'} rejected after {name} correction ({n_raw} with raw p-values "
                 f"<= {alpha:g})."]
    n = baseline["n"]
    if n == 0:
        parts.append("No permutation baseline was run (n_permutations=0).")
    else:
        p = baseline["pvalue"]
        tail = ("the graph fits the data better than such random graphs" if p <= alpha
                else "the data do not single this graph out among them")
        which = "" if baseline["exhaustive"] else "random "
        parts.append(f"Graphs with the same structure and their nodes relabelled do as well in {baseline['n_as_good']} of "
                     f"{n} {which}permutations (p={p:.2g}): {tail}.")
        if baseline["same_class"] > alpha:
            parts.append(f"The comparison is weak for this graph: {baseline['same_class']:.0%} of the relabelled graphs "
                         "imply the same independences (its Markov equivalence class), so no independence test can tell "
                         "them apart.")
    if n_adjusted == 0:
        parts.append("Not contradicting is not confirming: the other graphs of its Markov equivalence class imply the "
                     "same independences, and tests of low power reject little.")
    return " ".join(parts)


# --------------------------------------------------------------------------- #
# check_mechanisms
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True, repr=False)
class MechanismCheck:
    """The result of :func:`check_mechanisms`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per node, in the graph's order: ``node``, ``parents`` (tuple), ``mechanism``
        (the kind fitted in the folds), ``r2`` and ``r2_status``, ``loglik``,
        ``residual_pvalue``, ``residual_dependent`` and ``residual_status`` (see
        :func:`check_mechanisms`).
    verdict : str
        The nodes whose residuals depend on their parents, in words.
    n_folds : int
    residual_test : str
    alpha : float
    """

    table: pd.DataFrame
    verdict: str
    n_folds: int
    residual_test: str
    alpha: float

    def __repr__(self) -> str:
        flagged = self.table.loc[self.table["residual_dependent"].fillna(False).astype(bool), "node"].tolist()
        return f"MechanismCheck(nodes={len(self.table)}, residual_dependent={flagged})"

    def __str__(self) -> str:
        return self.verdict

    def _repr_html_(self) -> str:
        return _mechanism_check_html("check_mechanisms", self)


def check_mechanisms(
    model,
    data,
    *,
    mechanism=None,
    n_folds: int = 5,
    residual_test: str = "kci",
    alpha: float = 0.05,
    random_state=None,
) -> MechanismCheck:
    """How well does each node's mechanism fit held-out data, and are its residuals independent of its parents?

    The rows are split into ``n_folds`` folds; on each training part the kind of mechanism of
    every node is chosen (:func:`scm.choose_mechanisms`) and fitted (:func:`scm.fit_mechanism`,
    with a Gaussian noise from :func:`scm.fit_noise`), and the held-out rows are predicted.
    From the out-of-fold predictions and residuals of all rows:

    - **held-out R^2** ``1 - sum (y - y_hat)^2 / sum (y - mean y)^2`` of the continuous nodes
      with parents. A root node's mechanism is its mean: R^2 is *not applicable* (status
      ``"not applicable: root node"``), as for a discrete node; it is *undefined* for a constant
      column (``"undefined: constant column"``);
    - **held-out log-likelihood**: the mean, over the rows, of the log-density of each held-out
      residual under the Gaussian noise fitted on its training part (nats per row; it depends
      on the units of the column), or of the log-probability of each held-out state under the
      fitted table with add-one smoothing of the training counts (so that a state unseen in a
      configuration costs ``log(1 / (count + k))`` instead of minus infinity);
    - **residual independence**: the held-out residuals against each parent.
      ``residual_test="kci"`` runs the kernel test :class:`~discovery.citest.KCI` of ``r`` against
      each parent (any dependence); ``"fisherz"`` runs Fisher-z tests of ``r`` and ``r^2``
      against each parent ``p`` and ``p^2`` (linear and quadratic dependence, and a variance
      that changes with the parent), z-scored first. A node's p-value is the Bonferroni
      minimum over its tests (valid under any dependence between them);
      ``residual_dependent`` is ``p <= alpha``. Pairwise tests do not detect every joint
      dependence on several parents.

    A mechanism that misses part of the relation (a linear fit of a nonlinear one) leaves
    residuals that depend on the parents; the tests of different nodes are not corrected for
    their number.

    Parameters
    ----------
    model : scm.SCM, networkx.DiGraph, scm.PDAG or mapping node -> parents
        A fitted SCM (its graph, and the kind of each node's mechanism: ``fitted_mechanisms_``
        of :meth:`scm.SCM.fit`, or read off :class:`scm.Linear` and regressor-backed
        :class:`scm.AdditiveNoise` mechanisms), or a DAG with ``mechanism``.
    data : pandas.DataFrame
        Observations, as :func:`scm.check_fit_data` accepts them (discrete columns included).
    mechanism : str, regressor or mapping, optional
        What to fit, as in :func:`scm.fit_scm` (``"linear"``, ``"auto"``, ``"quadratic"``,
        ``"spline"``, a scikit-learn regressor, or a mapping per node); overrides the model's.
        Default: the model's kinds, or ``"linear"`` for a graph.
    n_folds : int, default 5
        At least 2 and at most the number of rows.
    residual_test : {"kci", "fisherz"}
    alpha : float, default 0.05
        Level of ``residual_dependent``.
    random_state : None, int or numpy.random.Generator
        The folds (and ``"auto"``'s held-out choice inside each).

    Returns
    -------
    MechanismCheck

    Raises
    ------
    scm.ParameterError
        A bad option or count, or a model mechanism that cannot be refitted (pass ``mechanism``).
    scm.DataError, scm.UnknownNodeError, scm.CycleError
        As :func:`scm.fit_scm`, naming the column or node.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scm import SCM
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> data = pd.DataFrame({"X": x, "Y": 2 * x + rng.normal(size=400), "Z": x**2 + 0.3 * rng.normal(size=400)})
    >>> res = check_mechanisms(SCM.fit({"X": [], "Y": ["X"], "Z": ["X"]}, data), data, random_state=0)
    >>> res.table[["node", "r2", "r2_status", "residual_dependent"]].round(2)
      node    r2                  r2_status  residual_dependent
    0    X   NaN  not applicable: root node                <NA>
    1    Y  0.81                         ok               False
    2    Z -0.03                         ok                True
    """
    owner = "check_mechanisms"
    check_option(residual_test, _RESIDUAL_TESTS, name="residual_test", owner=owner)
    check_in_range(alpha, name="alpha", low=0, high=1, owner=owner)
    check_in_range(n_folds, name="n_folds", low=2, inclusive="left", integer=True, owner=owner)
    rng = check_random_state(random_state)
    if isinstance(model, SCM):
        graph = model.graph
        spec = _specs_of(model) if mechanism is None else mechanism
    else:
        graph, spec = model, ("linear" if mechanism is None else mechanism)
    dag, encoded, states = check_fit_data(graph, data)
    n = len(encoded)
    if n_folds > n:
        raise ParameterError(f"The 'n_folds' parameter of {owner} must be at most the number of rows ({n}); got {n_folds} instead.")
    folds = np.array_split(rng.permutation(n), n_folds)
    oof = _out_of_fold(dag, encoded, states, spec, folds, rng)
    rows = [_node_row(dag, encoded, states, node, oof[node], residual_test, alpha) for node in dag.nodes]
    table = pd.DataFrame(rows)
    table["residual_dependent"] = table["residual_dependent"].astype("boolean")
    verdict = _mechanism_verdict(table, alpha, residual_test)
    logger.info("check_mechanisms: %d nodes, %d folds; residuals dependent at %s: %s", len(table), n_folds, alpha,
                table.loc[table["residual_dependent"].fillna(False).astype(bool), "node"].tolist())
    return MechanismCheck(table=table, verdict=verdict, n_folds=int(n_folds), residual_test=residual_test, alpha=float(alpha))


def _specs_of(model: SCM) -> dict:
    """What to refit at each node of an SCM: the kind it was fitted with, or one read off its mechanism."""
    fitted = getattr(model, "fitted_mechanisms_", {}) or {}
    specs = {}
    for node, mech in model.mechanisms.items():
        kind = fitted.get(node)
        if kind in ("linear", "quadratic", "spline") or isinstance(mech, Linear):
            specs[node] = kind if kind in ("quadratic", "spline") else "linear"
        elif isinstance(mech, Discrete):
            continue  # discrete columns get a table whatever is asked
        elif isinstance(mech, AdditiveNoise) and hasattr(mech.f, "fit") and hasattr(mech.f, "predict"):
            specs[node] = mech.f  # cloned, unfitted, by fit_mechanism
        else:
            raise ParameterError(
                f"check_mechanisms cannot refit the mechanism of node {node!r} ({type(mech).__name__}): pass "
                "mechanism= ('linear', 'auto', 'quadratic', 'spline', a scikit-learn regressor, or a mapping node -> one of them)"
            )
    return specs


def _out_of_fold(dag, encoded, states, spec, folds, rng) -> dict:
    """Per node: the kinds fitted in the folds, out-of-fold predictions (or probabilities) and log-likelihoods."""
    from threadpoolctl import threadpool_limits

    n = len(encoded)
    pos = {v: i for i, v in enumerate(dag.nodes)}
    parents_of = {v: sorted(dag.predecessors(v), key=pos.__getitem__) for v in dag.nodes}  # the order fit_mechanism reads
    out = {v: {"kinds": [], "pred": np.full(n, np.nan), "loglik": np.full(n, np.nan)} for v in dag.nodes}
    # one BLAS thread, as fit_scm: the per-node problems are small (docs/benchmarks.md, "Design decisions")
    with threadpool_limits(limits=1, user_api="blas"):
        for test in folds:
            train = np.setdiff1d(np.arange(n), test)
            tr, te = encoded.iloc[train], encoded.iloc[test]
            choice = choose_mechanisms(dag, tr, spec, states=states, random_state=rng)
            for node in dag.nodes:
                mech = fit_mechanism(dag, tr, node, choice[node], states=states)
                kind = choice[node] if isinstance(choice[node], str) else type(choice[node]).__name__
                out[node]["kinds"].append(kind)
                parents = parents_of[node]
                p_te = _columns(te, parents)
                if node in states:
                    out[node]["loglik"][test] = _discrete_loglik(mech, _columns(tr, parents), p_te, te[node].to_numpy(dtype=np.int64))
                    continue
                noise = fit_noise(dag, tr, node, mech, "gaussian")
                with np.errstate(over="ignore", invalid="ignore"):
                    pred = np.asarray(mech.mean(p_te), dtype=float)
                out[node]["pred"][test] = pred
                out[node]["loglik"][test] = _gaussian_loglik(te[node].to_numpy(dtype=float) - pred, noise.mean, noise.std)
    return out


def _columns(frame: pd.DataFrame, names: list) -> np.ndarray:
    return np.column_stack([frame[c].to_numpy(dtype=float) for c in names]) if names else np.empty((len(frame), 0))


def _gaussian_loglik(resid: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Log-density of residuals under N(mean, std^2); -inf for residuals off a zero-variance fit."""
    if std <= 0:
        return np.where(resid == mean, np.inf, -np.inf)
    z = (resid - mean) / std
    return -0.5 * np.log(2 * np.pi) - np.log(std) - 0.5 * z * z


def _discrete_loglik(mech: Discrete, p_train: np.ndarray, p_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """Log-probabilities of held-out states under the fitted table, smoothed by adding one to each training count."""
    k = mech.cardinality
    cards = mech.table.shape[:-1]
    if cards:
        codes_tr = np.ravel_multi_index(p_train.astype(np.int64).T, cards)
        codes_te = np.ravel_multi_index(p_test.astype(np.int64).T, cards)
        counts = np.bincount(codes_tr, minlength=int(np.prod(cards)))[codes_te]
    else:
        counts = np.full(len(y_test), p_train.shape[0])
    prob = mech.probabilities(p_test)[np.arange(len(y_test)), y_test]
    return np.log((prob * counts + 1.0) / (counts + k))


def _node_row(dag, encoded, states, node, fit: dict, residual_test: str, alpha: float) -> dict:
    """The row of one node: R^2, log-likelihood and the residual test, each with its status."""
    pos = {v: i for i, v in enumerate(dag.nodes)}
    parents = tuple(sorted(dag.predecessors(node), key=pos.__getitem__))
    kinds = Counter(fit["kinds"])
    kind = next(iter(kinds)) if len(kinds) == 1 else ", ".join(f"{k} ({c}/{len(fit['kinds'])})" for k, c in kinds.items())
    row = {"node": node, "parents": parents, "mechanism": kind, "r2": np.nan, "r2_status": "ok",
           "loglik": float(np.mean(fit["loglik"])), "residual_pvalue": np.nan, "residual_dependent": pd.NA,
           "residual_status": "ok"}
    if node in states:
        row.update(r2_status="not applicable: discrete node", residual_status="not applicable: discrete node")
        return row
    if not parents:
        row.update(r2_status="not applicable: root node", residual_status="not applicable: root node")
        return row
    y = encoded[node].to_numpy(dtype=float)
    resid = y - fit["pred"]
    if np.ptp(y) == 0:
        row["r2_status"] = "undefined: constant column"
    else:
        loc, scale = center_scale(y[:, None], [node], owner="check_mechanisms")
        with np.errstate(over="ignore"):
            row["r2"] = float(1.0 - np.sum((resid / scale[0]) ** 2) / np.sum(((y - loc[0]) / scale[0]) ** 2))
    if np.ptp(resid) == 0:
        row["residual_status"] = "undefined: residuals are constant (an exact fit)"
        return row
    pvalue = _residual_pvalue(resid, _columns(encoded, list(parents)), residual_test, node)
    row.update(residual_pvalue=pvalue, residual_dependent=bool(pvalue <= alpha))
    return row


def _residual_pvalue(resid: np.ndarray, parents: np.ndarray, residual_test: str, node) -> float:
    """Bonferroni minimum of the tests of the residuals against each parent (one batched call)."""
    r = _zscores(resid, f"residuals of {node!r}")
    columns = {"r": r}
    pairs = []
    for j in range(parents.shape[1]):
        p = _zscores(parents[:, j], f"parent {j}")
        columns[f"p{j}"] = p
        if residual_test == "kci":
            pairs.append(("r", f"p{j}"))
            continue
        pairs.append(("r", f"p{j}"))
        if "r^2" not in columns:
            columns["r^2"] = r**2
        pairs.append(("r^2", f"p{j}"))
        if np.unique(parents[:, j]).size > 2:  # the square of a two-valued column is a linear function of it
            columns[f"p{j}^2"] = p**2
            pairs += [("r", f"p{j}^2"), ("r^2", f"p{j}^2")]
    frame = pd.DataFrame(columns)
    runner = CIRunner.from_ci_test(make_ci_test(residual_test, frame))
    ix = runner.index
    keys = [runner.key(ix[a], ix[b], ()) for a, b in pairs]
    runner.run(keys)
    return float(min(1.0, len(keys) * min(runner.pvalue(k) for k in keys)))


def _zscores(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` (one column) as z-scores, computed without overflow."""
    loc, scale = center_scale(x[:, None], [name], owner="check_mechanisms")
    return (x - loc[0]) / (scale[0] if scale[0] > 0 else 1.0)


def _mechanism_verdict(table: pd.DataFrame, alpha: float, residual_test: str) -> str:
    tested = table[table["residual_status"] == "ok"]
    scored = table[table["r2_status"] == "ok"]
    parts = []
    if len(scored):
        lo, hi = scored.loc[scored["r2"].idxmin()], scored.loc[scored["r2"].idxmax()]
        parts.append(f"Held-out R^2 of the {len(scored)} continuous node(s) with parents: from {lo['r2']:.2f} ({lo['node']}) "
                     f"to {hi['r2']:.2f} ({hi['node']}).")
    if not len(tested):
        parts.append("No node has parents and continuous residuals to test.")
        return " ".join(parts)
    flagged = tested[tested["residual_dependent"].astype(bool)]
    if len(flagged):
        names = ", ".join(f"{r.node} (p={r.residual_pvalue:.2g})" for r in flagged.itertuples())
        parts.append(f"The residuals depend on the parents at alpha={alpha:g} ({residual_test}) for {len(flagged)} of "
                     f"{len(tested)} node(s): {names}; their mechanisms miss part of the relation (a nonlinearity, an "
                     "interaction, a noise that changes with the parents) or the graph misses a parent's effect.")
    else:
        parts.append(f"No dependence of the residuals on the parents is detected at alpha={alpha:g} ({residual_test}) for "
                     f"the {len(tested)} node(s) tested; a test of low power detects little, so this does not show that "
                     "the mechanisms are right.")
    return " ".join(parts)


# --------------------------------------------------------------------------- #
# HTML fragments for write_report
# --------------------------------------------------------------------------- #
def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "&ndash;"
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}"
    if isinstance(value, tuple):
        return html.escape(", ".join(map(str, value))) or "&empty;"
    return html.escape(str(value))


def _table_html(frame: pd.DataFrame, highlight: pd.Series | None = None, limit: int = 200) -> str:
    head = "".join(f"<th class='text'>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for i, (_, row) in enumerate(frame.head(limit).iterrows()):
        style = " style='background:#ffebee'" if highlight is not None and bool(highlight.iloc[i]) else ""
        rows.append(f"<tr{style}>" + "".join(f"<td class='text'>{_cell(v)}</td>" for v in row) + "</tr>")
    more = f"<p class='note'>{len(frame) - limit} more rows not shown.</p>" if len(frame) > limit else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def _graph_check_html(title: str, res: GraphCheck) -> str:
    order = res.table.sort_values(["violated_adjusted", "pvalue"], ascending=[False, True], kind="stable")
    facts = (f"{res.n_implied} implied statements ({res.implied}), {res.n_tests} distinct tests ({res.ci_test}); "
             f"{res.n_violated} rejected at alpha={res.alpha:g}, {res.n_violated_adjusted} after {res.correction}; "
             f"{res.n_permutations} permutations{' (all)' if res.exhaustive else ''}, p={res.permutation_pvalue:.3g}; "
             f"same class: {res.same_class_fraction:.0%}.")
    return (f"<h3>{html.escape(str(title))}: graph against the data</h3><p>{html.escape(res.verdict)}</p>"
            f"<p class='note'>{html.escape(facts)}</p>" + _table_html(order, order["violated_adjusted"]))


def _mechanism_check_html(title: str, res: MechanismCheck) -> str:
    return (f"<h3>{html.escape(str(title))}: mechanisms against held-out data</h3><p>{html.escape(res.verdict)}</p>"
            f"<p class='note'>{res.n_folds}-fold cross-fitting; residual test {html.escape(res.residual_test)} at "
            f"alpha={res.alpha:g}.</p>" + _table_html(res.table, res.table["residual_dependent"].fillna(False)))


def checks_html(checks) -> str:
    """The report section of check results: a heading and one fragment per result.

    Parameters
    ----------
    checks : mapping title -> result, or sequence of results
        Results of :func:`check_graph` and :func:`check_mechanisms`.

    Returns
    -------
    str
        HTML (no document around it).

    Examples
    --------
    >>> import networkx as nx
    >>> from discovery import DSeparation
    >>> g = nx.DiGraph([("A", "B"), ("B", "C")])
    >>> checks_html({"chain": check_graph(g, ci_test=DSeparation(g))})[:40]
    '<h2>Checks against the data</h2><h3>chai'
    """
    if isinstance(checks, (GraphCheck, MechanismCheck)):
        checks = [checks]
    if isinstance(checks, Mapping):
        items = list(checks.items())
    elif isinstance(checks, (list, tuple)):
        items = [(type(c).__name__, c) for c in checks]
    else:
        raise ParameterError(
            "The 'checks' parameter of write_report must be a result of check_graph or check_mechanisms, a list of them "
            f"or a mapping title -> result; got {type(checks).__name__}."
        )
    parts = ["<h2>Checks against the data</h2>"]
    for title, res in items:
        if isinstance(res, GraphCheck):
            parts.append(_graph_check_html(title, res))
        elif isinstance(res, MechanismCheck):
            parts.append(_mechanism_check_html(title, res))
        else:
            raise ParameterError(
                f"The 'checks' parameter of write_report must hold results of check_graph or check_mechanisms; got "
                f"{type(res).__name__} for {title!r}."
            )
    return "".join(parts)

