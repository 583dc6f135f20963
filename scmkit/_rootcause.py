"""Learn a time-series graph, then rank root causes: the step that needs both discovery and estimators.

:func:`estimators.rank_root_causes` takes the graph as an argument (estimators do not import
discovery); :func:`learn_and_rank` learns it first with :class:`discovery.PCMCIPlus` on the
normal window, as a user without a known graph would.
"""

from __future__ import annotations

import logging

__all__ = ["learn_and_rank", "CONTEMPORANEOUS"]

logger = logging.getLogger(__name__)

#: What :func:`learn_and_rank` does with contemporaneous edges PCMCI+ could not orient.
CONTEMPORANEOUS = ("drop", "keep")


def _without_unoriented(graph):
    """``graph`` (a :class:`scm.LaggedGraph`) without its undirected and conflicting contemporaneous edges."""
    from scm import LaggedGraph

    directed = [*graph.lagged_links, *((s, t, 0) for s, t in graph.directed_contemporaneous)]
    return LaggedGraph(graph.nodes, directed=directed, tau_max=graph.tau_max)


def learn_and_rank(normal, fault, *, tau_max: int = 2, pcmci_options=None, contemporaneous: str = "drop", **rank_options):
    """Learn the time-series graph on the normal window with PCMCI+, then rank the root causes of the fault.

    Parameters
    ----------
    normal, fault : pandas.DataFrame
        The two windows of a multivariate time series (rows in time order, the same columns).
    tau_max : int
        The largest lag of :class:`discovery.PCMCIPlus`.
    pcmci_options : dict, optional
        Other parameters of :class:`discovery.PCMCIPlus` (``alpha``, ``ci_test``, ...).
    contemporaneous : {"drop", "keep"}
        Contemporaneous edges PCMCI+ left undirected or conflicting: dropped (so that the
        attribution methods, which fit an SCM, get a DAG; logged), or kept (``"rcd"`` conditions
        on them, ``"random_walk"`` walks them both ways; the attribution methods refuse them).
    **rank_options
        Passed to :func:`estimators.rank_root_causes` (``method``, ``target``, ``n_bootstrap``, ...).

    Returns
    -------
    pandas.DataFrame
        The ranking of :func:`estimators.rank_root_causes`; ``attrs["graph"]`` is the graph used.

    Examples
    --------
    >>> from scm.simulate import fault_dataset
    >>> case = fault_dataset("time_series", "shift", n_nodes=4, n_normal=300, n_fault=60, strength=3.0, random_state=2)
    >>> table = learn_and_rank(case.normal, case.fault, tau_max=2, method="attribution", random_state=0)  # doctest: +SKIP
    >>> table.index[0] == case.root_cause, type(table.attrs["graph"]).__name__  # doctest: +SKIP
    (True, 'LaggedGraph')

    (Skipped in the doctests, where compiling PCMCI+'s kernels would cost seconds; the same call
    runs in ``tests/scmkit/test_rootcause.py``.)
    """
    from discovery import PCMCIPlus
    from estimators import rank_root_causes
    from scm._validation import check_option

    check_option(contemporaneous, CONTEMPORANEOUS, name="contemporaneous", owner="learn_and_rank")
    graph = PCMCIPlus(tau_max=tau_max, **(pcmci_options or {})).fit(normal).graph_
    unoriented = graph.undirected_contemporaneous | graph.conflicting_edges
    if contemporaneous == "drop" and unoriented:
        logger.info("learn_and_rank: dropping %d contemporaneous edge(s) PCMCI+ could not orient: %s", len(unoriented),
                    sorted(tuple(sorted(map(str, e))) for e in unoriented))  # fmt: skip
        graph = _without_unoriented(graph)
    table = rank_root_causes(normal, fault, graph, **rank_options)
    table.attrs["graph"] = graph
    return table
