"""Hypothesis strategies shared by the tests."""

import networkx as nx
import numpy as np
from hypothesis import strategies as st


@st.composite
def random_dags(draw, min_nodes=1, max_nodes=8):
    """A DAG whose node order is a random permutation of a topological order."""
    n = draw(st.integers(min_nodes, max_nodes))
    names = [f"V{i}" for i in range(n)]
    order = draw(st.permutations(names))
    pairs = [(order[i], order[j]) for i in range(n) for j in range(i + 1, n)]
    mask = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from(p for p, m in zip(pairs, mask) if m)
    return g


def random_weights(dag, seed):
    """Linear weights in +-[0.5, 1.5] on the edges of ``dag`` as a dict (parent, child) -> w."""
    rng = np.random.default_rng(seed)
    return {e: float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)) for e in dag.edges}
