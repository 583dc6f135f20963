"""Shipped datasets: Sachs, SynTReN, bnlearn networks and the BIF reader."""

import gzip
import hashlib
import io
import json
import re
from importlib import resources

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from scm import DataError, Dataset, Discrete, ParameterError
from scm.datasets import (
    SACHS_GRAPH_SOURCES,
    SACHS_PROTEINS,
    bnlearn_dataset,
    list_bnlearn,
    load_bnlearn,
    load_sachs,
    load_syntren,
    read_bif,
    sachs_graph,
)
from scm.datasets._bif import parse_bif
from scm.datasets._loaders import _sachs_json_edges
from tests.conftest import NAMED_GRAPHS

DATA = resources.files("scm.datasets").joinpath("data")

# Golden checksums: of the decompressed content for files we gzipped ("gunzip"),
# of the shipped bytes otherwise ("raw"). They equal the sha256 of the originals.
GOLDEN = {
    "sachs/cmu_sachs.2005.continuous.txt.gz": ("gunzip", "a488589b0f021b2a261ff2c696a908c6823051b0d98693e0fa0e78bb12097063"),
    "sachs/cmu_sachs.2005.with_experiment_indicators.txt.gz": (
        "gunzip", "c1c4b12bdbb2c5411f7410fa65792a3191500e4b5276df2f7d1bf35a41a42c71"
    ),
    "sachs/cmu_sachs.2005.ground.truth.graph.txt": ("raw", "2406ec0f9cd34bcbcd33fb74282386232330a630dba68c0f2d01a0d985a652b9"),
    "sachs/sachs_ground_truth_graphs_by_source.json": ("raw", "cb60a625fd2d361775b6d1e065408cf0ef7f7f73f2b782aa7a898b5c026435aa"),
    "sachs_grandag/DAG1.npy": ("raw", "e9a978c0c6caf3c3524405c4aac62a9bf8e7d29e1c9e6b8b8d4d015ad5cf8fc6"),
    "sachs_grandag/sachs-header.npy": ("raw", "07cf80358c21f26549c9c37e1687e692150ee18df56f44241d5ec57f2f230fae"),
    "wine/winequality-red.continuous.txt.gz": ("gunzip", "3b4dc8fcf0ff171f3112a5f2c8532c811e624410ec8f2224ba4378cb2638557c"),
    "wine/winequality-white.continuous.txt.gz": ("gunzip", "e7eafbd4e008c9ffc9732b926dda82bbc13b6f080a9e187444bbff956afa289e"),
    "wine/wine.quality.knowledge.txt": ("raw", "c9dfa01d6e9b583cb2a804edc0c21e30e9175a622b492f9ac2788a928c94f290"),
    "syntren/grandag_syntren_p20.zip": ("raw", "ff866971370d6b6eb9648845d69eb81ec5ad9d3640cb33794f876552dc29fe51"),
    "bif/asia.bif.gz": ("raw", "7d5e7b8549834824c1b05f367eb7860fa3fca3adaf3649f0c7be6035af197197"),
    "bif/cancer.bif.gz": ("raw", "dcfafbaadabcd1b8c9ec531e16721a19fc06829e980a3967d6345496ea081818"),
    "bif/earthquake.bif.gz": ("raw", "77a41f1d509cea15eb7caf9dba932907837149e7145a2cc9d6c95c80849e62b0"),
    "bif/survey.bif.gz": ("raw", "676e1fe97efec18b31d1a0a3bcd9b7d52985129c60a78b69172c99e82902ef96"),
    "bif/sachs.bif.gz": ("raw", "ed1830fbde101ed50cce3c7a3c8cbf1d2f5225531cf35ff09fb3cec0af101bce"),
    "bif/child.bif.gz": ("raw", "2bc3236dcbdbf9c9f1bbdeb060aa93c0bdee389d23a549b7248b9d89ed8a980c"),
    "bif/insurance.bif.gz": ("raw", "92bcecd1b85387726af564bf1b50cd400ddbbea1b017303cc54d4654e50a8971"),
    "bif/alarm.bif.gz": ("raw", "f5860caa7137b5817e0c4f169cce0f1451ce6c246b96f5ce4fb4a8167993be29"),
    "bif/water.bif.gz": ("raw", "5d506713902c9ea625fae7cd84d0a6f9fad980d5cca926281adeecdd0c039db3"),
    "bif/hailfinder.bif.gz": ("raw", "efa122a88c4b550569ec821c7879bed9007f2b1e012e1ea52ea26069c7f26099"),
    "bif/hepar2.bif.gz": ("raw", "f98d4a65c496b79d76b15797e6a6cbeafaff32a17d66a844d8e5b9506d379fcd"),
    "bif/win95pts.bif.gz": ("raw", "a4987cf8c09d3aa034504b03ea3e5dc01c57ca20228e2bd79ec9a861c3aef684"),
    "bif/andes.bif.gz": ("raw", "dc9cd41e8658c4fd2b96305cc60392224032f02934d27e43123a61c2eab9dab7"),
    "bif_gaussian/ecoli70.json.gz": ("gunzip", "e3cfe98302c885deb4f13f012e9209b03ef803e718ba7ca666fb09324b2ad921"),
    "bif_gaussian/magic-niab.json.gz": ("gunzip", "1694a2ccae07a5cee0a1fa9e3131f3f2d552a79c825fddecfaa996624e629d6d"),
    "bif_gaussian/magic-irri.json.gz": ("gunzip", "d592e1ed92ae08d8f7152cc8cfc607089b1f19680b4df79377166bf7dd561338"),
    "bif_gaussian/arth150.json.gz": ("gunzip", "96e141aa767bb2556aea2eabb835603a286d951e95646f8ae0197d679acd551a"),
    "dowhy_microservice/rca_microservice_architecture_anomaly.csv": (
        "raw", "de5e1dee49189a127e84fcb0adecb57060d831440b95ea609d0d24284e3eab84"
    ),
}

# Node and edge counts from the data README (bnlearn repository).
BNLEARN_SIZES = {
    "asia": (8, 8), "cancer": (5, 4), "earthquake": (5, 4), "survey": (6, 6), "sachs": (11, 17),
    "child": (20, 25), "insurance": (27, 52), "alarm": (37, 46), "water": (32, 66),
    "hailfinder": (56, 66), "hepar2": (70, 123), "win95pts": (76, 112), "andes": (223, 338),
    "ecoli70": (46, 70), "magic-niab": (44, 66), "magic-irri": (64, 102), "arth150": (107, 150),
}  # fmt: skip

SACHS_BLOCKS = [
    ("cd3_cd28", 853, ()),
    ("cd3_cd28+icam2", 902, ()),
    ("cd3_cd28+aktinhib", 911, ("akt",)),
    ("cd3_cd28+g0076", 723, ("pkc",)),
    ("cd3_cd28+psitect", 810, ("pip2",)),
    ("cd3_cd28+u0126", 799, ("mek",)),
    ("cd3_cd28+ly", 848, ("pip3",)),
    ("pma", 913, ("pkc",)),
    ("b2camp", 707, ("pka",)),
]


def _walk(node, prefix=""):
    for child in node.iterdir():
        if child.is_dir():
            yield from _walk(child, f"{prefix}{child.name}/")
        else:
            yield f"{prefix}{child.name}", child


# ----------------------------------------------------------------- shipped files
def test_shipped_files_match_their_checksums_and_are_all_listed():
    shipped = dict(_walk(DATA))
    assert set(shipped) == set(GOLDEN)
    licences = resources.files("scm.datasets").joinpath("LICENSES.md").read_text(encoding="utf-8")
    for rel, entry in shipped.items():
        mode, digest = GOLDEN[rel]
        content = entry.read_bytes()
        if mode == "gunzip":
            content = gzip.decompress(content)
        assert hashlib.sha256(content).hexdigest() == digest, rel
        assert f"`data/{rel}`" in licences and digest in licences, rel


def test_shipped_size_stays_modest():
    total = sum(entry.read_bytes().__len__() for _, entry in _walk(DATA))
    assert total < 1_300_000


# ------------------------------------------------------------------------ Sachs
def test_sachs_observational_shape_columns_and_values():
    ds = load_sachs()
    assert isinstance(ds, Dataset) and ds.kind == "observational" and ds.environment is None
    assert ds.data.shape == (853, 11)
    assert list(ds.data.columns) == list(SACHS_PROTEINS)
    assert ds.data.dtypes.eq(float).all()
    # First row of the raw CMU file (raw intensities, not logs).
    np.testing.assert_allclose(ds.data.iloc[0].to_numpy()[:3], [26.4, 13.2, 8.82])
    assert ds.data.to_numpy().min() >= 1.0
    logged = load_sachs(log=True)
    np.testing.assert_allclose(logged.data.to_numpy(), np.log(ds.data.to_numpy()))
    assert "log" in logged.metadata["scale"] and "raw" in ds.metadata["scale"]


def test_sachs_interventional_regimes_blocks_and_targets():
    ds = load_sachs("interventional")
    assert ds.kind == "multi_environment" and ds.environment == "regime"
    assert ds.data.shape == (7466, 12)
    assert list(ds.data.columns) == list(SACHS_PROTEINS) + ["regime"]
    assert ds.variables == list(SACHS_PROTEINS)
    # Nine contiguous blocks in file order with the published row counts.
    runs = ds.data["regime"].ne(ds.data["regime"].shift()).cumsum()
    observed = [(g["regime"].iloc[0], len(g)) for _, g in ds.data.groupby(runs, sort=True)]
    assert observed == [(name, size) for name, size, _ in SACHS_BLOCKS]
    start = 0
    for name, size, targets in SACHS_BLOCKS:
        assert ds.metadata["blocks"][name] == (start, start + size)
        assert ds.metadata["targets"][name] == targets
        start += size
    assert ds.metadata["observational_regime"] == "cd3_cd28"
    assert ds.metadata["effects"]["pma"] == {"pma": "activation"}
    assert ds.metadata["effects"]["cd3_cd28+u0126"]["u0126"] == "inhibition"
    assert ds.changed_nodes == frozenset({"akt", "pkc", "pip2", "mek", "pip3", "pka"})
    # The observational dataset is exactly the cd3_cd28 block.
    obs = load_sachs()
    np.testing.assert_array_equal(ds.data.loc[ds.data["regime"] == "cd3_cd28", list(SACHS_PROTEINS)].to_numpy(), obs.data.to_numpy())


def test_sachs_data_is_a_fresh_copy():
    a = load_sachs()
    a.data.iloc[0, 0] = -1.0
    assert load_sachs().data.iloc[0, 0] == 26.4


def test_sachs_attached_graph_follows_the_graph_parameter():
    assert nx.utils.edges_equal(load_sachs().graph.edges, sachs_graph("bnlearn").edges)
    assert load_sachs("interventional", graph="cmu").graph.number_of_edges() == 20


@pytest.mark.parametrize("source, n_edges", sorted(SACHS_GRAPH_SOURCES.items()))
def test_sachs_graph_sources_parse_with_documented_edge_counts(source, n_edges):
    g = sachs_graph(source)
    assert g.number_of_edges() == n_edges
    assert list(g.nodes) == list(SACHS_PROTEINS)
    assert g.graph["source"] == source and g.graph["note"]
    assert nx.is_directed_acyclic_graph(g) == (source != "cdt")


def test_sachs_bnlearn_graph_equals_grandag_dag1():
    adj = np.load(io.BytesIO(DATA.joinpath("sachs_grandag", "DAG1.npy").read_bytes()))
    header = [str(h) for h in np.load(io.BytesIO(DATA.joinpath("sachs_grandag", "sachs-header.npy").read_bytes()))]
    assert header == ["Raf", "Mek", "Plcg", "PIP2", "PIP3", "Erk", "Akt", "PKA", "PKC", "P38", "Jnk"]
    assert adj.sum() == 17
    # Same node order as the data files, so the adjacency compares directly.
    g = sachs_graph("bnlearn")
    np.testing.assert_array_equal(scm.dag_to_adjacency(g, nodes=SACHS_PROTEINS), adj.astype(int))
    assert set(sachs_graph("grandag").edges) == set(g.edges)


@pytest.mark.parametrize("source", ["bnlearn", "grandag", "cmu"])
def test_compiled_json_agrees_with_the_original_files(source):
    assert set(_sachs_json_edges(source)) == set(sachs_graph(source).edges)


def test_sachs_graph_disagreements_are_kept():
    cdt = sachs_graph("cdt")
    assert sorted(nx.find_cycle(cdt)) == sorted([("plc", "pip2"), ("pip2", "pip3"), ("pip3", "plc")])
    sem = sachs_graph("semgraph")
    assert sem.graph["bidirected"] == [("pip2", "pip3")] and sem.has_edge("pip3", "pip2")
    common = set(sachs_graph("consensus13").edges)
    for source in ("bnlearn", "grandag", "cmu", "cdt", "semgraph"):
        assert common <= set(sachs_graph(source).edges)
    cmu, bn = set(sachs_graph("cmu").edges), set(sachs_graph("bnlearn").edges)
    assert cmu - bn == {("pip2", "pkc"), ("pip3", "akt"), ("pip3", "plc"), ("plc", "pkc")}
    assert bn - cmu == {("plc", "pip3")}


def test_sachs_bnlearn_network_has_the_same_graph_as_sachs_graph():
    model = load_bnlearn("sachs")
    rename = {"Plcg": "plc"}
    edges = {(rename.get(a, a.lower()), rename.get(b, b.lower())) for a, b in model.graph.edges}
    assert edges == set(sachs_graph("bnlearn").edges)


# ---------------------------------------------------------------------- SynTReN
@pytest.mark.parametrize("i", range(1, 11))
def test_syntren_shapes_graph_and_cpdag(i):
    ds = load_syntren(i)
    assert ds.data.shape == (500, 20) and ds.name == f"syntren{i}"
    assert list(ds.data.columns) == [f"G{j}" for j in range(20)]
    assert np.isfinite(ds.data.to_numpy()).all() and ds.data.to_numpy().min() >= 0
    assert 19 <= ds.graph.number_of_edges() <= 34
    assert nx.is_directed_acyclic_graph(ds.graph)
    # The shipped CPDAG is the CPDAG of the shipped DAG.
    assert scm.cpdag(ds.graph) == ds.metadata["cpdag"]


def test_syntren_edge_counts():
    assert [load_syntren(i).graph.number_of_edges() for i in range(1, 11)] == [24, 22, 26, 34, 23, 22, 20, 19, 23, 22]


# ---------------------------------------------------------------------- bnlearn
def test_list_bnlearn():
    assert list_bnlearn() == list_bnlearn("discrete") + list_bnlearn("gaussian")
    assert set(list_bnlearn()) == set(BNLEARN_SIZES)


@pytest.mark.parametrize("name", sorted(BNLEARN_SIZES))
def test_bnlearn_networks_load_with_published_sizes(name):
    model = load_bnlearn(name)
    assert isinstance(model, scm.SCM)
    assert (model.graph.number_of_nodes(), model.graph.number_of_edges()) == BNLEARN_SIZES[name]
    for node, mech in model.mechanisms.items():
        if name in list_bnlearn("discrete"):
            assert isinstance(mech, Discrete)
            assert mech.table.shape == tuple(model.mechanisms[p].cardinality for p in model.parents(node)) + (len(mech.states),)
            np.testing.assert_allclose(mech.table.sum(axis=-1), 1.0, atol=1e-12)
        else:
            assert isinstance(mech, scm.Linear)
    data = model.sample(50, random_state=0)
    assert data.shape == (50, BNLEARN_SIZES[name][0]) and np.isfinite(data.to_numpy(float)).all()


def test_bnlearn_asia_graph_is_the_named_asia_graph():
    assert set(load_bnlearn("asia").graph.edges) == set(NAMED_GRAPHS["asia"])


def test_bnlearn_raw_tables_sum_to_one_up_to_rounding():
    for name in list_bnlearn("discrete"):
        net = parse_bif(gzip.decompress(DATA.joinpath("bif", f"{name}.bif.gz").read_bytes()).decode())
        for var, table in net.tables.items():
            np.testing.assert_allclose(table.sum(axis=-1), 1.0, atol=1e-6, err_msg=f"{name}:{var}")


def test_asia_sampling_reproduces_known_marginals():
    n = 20_000
    ds = bnlearn_dataset("asia", n, random_state=12345)
    states = ds.metadata["states"]
    # Exact marginals of P(node = "yes") from the CPTs.
    exact = {"asia": 0.01, "smoke": 0.5, "tub": 0.01 * 0.05 + 0.99 * 0.01, "lung": 0.5 * 0.1 + 0.5 * 0.01, "bronc": 0.5 * 0.6 + 0.5 * 0.3}
    for node, p in exact.items():
        yes = states[node].index("yes")
        freq = float((ds.data[node] == yes).mean())
        assert abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / n), (node, freq, p)


def test_gaussian_network_sample_means_match_the_model():
    model = load_bnlearn("ecoli70")
    n = 20_000
    data = model.sample(n, random_state=7)
    mean = model.interventional_mean()
    sd = np.sqrt(np.diag(model.interventional_cov()))
    z = (data.mean() - mean).to_numpy() / (sd / np.sqrt(n))
    assert np.abs(z).max() < 4.5


def test_gaussian_network_parameters_are_the_published_ones():
    spec = json.loads(gzip.decompress(DATA.joinpath("bif_gaussian", "ecoli70.json.gz").read_bytes()))
    model = load_bnlearn("ecoli70")
    cpd = spec["cpds"]["aceB"]
    mech = model.mechanisms["aceB"]
    assert mech.coefficients == {"icdA": pytest.approx(1.0464)} and mech.intercept == pytest.approx(0.1324)
    assert model.noise["aceB"].std == pytest.approx(np.sqrt(cpd["variance"][0]))


def test_bnlearn_dataset_kinds_and_truth():
    ds = bnlearn_dataset("alarm", 100, random_state=0)
    assert ds.kind == "discrete" and ds.scm is not None and ds.data.shape == (100, 37)
    assert set(ds.graph.edges) == set(ds.scm.graph.edges) and ds.graph is not ds.scm.graph
    assert ds.metadata["states"]["HISTORY"] == ("TRUE", "FALSE")
    pd.testing.assert_frame_equal(ds.data, bnlearn_dataset("alarm", 100, random_state=0).data)
    g = bnlearn_dataset("magic-niab", 10, random_state=0)
    assert g.kind == "observational" and "states" not in g.metadata


# ---------------------------------------------------------------- BIF reader
TOY_ROWS = """
// a comment
network toy { property "made by hand" ; }
variable a { type discrete [ 2 ] { a0, a1 }; property "x" ; }
variable b { type discrete [ 3 ] { b0, b1, b2 }; }
variable c { type discrete [ 2 ] { c0, c1 }; }
probability ( a ) { table 0.3, 0.7; }
probability ( b ) { table 0.2, 0.3, 0.5; }
/* rows in any order,
   parents in header order */
probability ( c | b, a ) {
  (b2, a1) 0.6, 0.4;
  (b0, a0) 0.1, 0.9;
  (b0, a1) 0.2, 0.8;
  default 0.5, 0.5;
}
"""

# The same network with c's table in C order over (c, a, b).
TOY_TABLE = """
network toy { }
variable a { type discrete [ 2 ] { a0, a1 }; }
variable b { type discrete [ 3 ] { b0, b1, b2 }; }
variable c { type discrete [ 2 ] { c0, c1 }; }
probability ( a ) { table 0.3, 0.7; }
probability ( b ) { table 0.2, 0.3, 0.5; }
probability ( c | a, b ) { table 0.1, 0.5, 0.5, 0.2, 0.5, 0.6, 0.9, 0.5, 0.5, 0.8, 0.5, 0.4; }
"""


def test_bif_rows_follow_the_header_parent_order_and_defaults():
    net = parse_bif(TOY_ROWS)
    assert net.name == "toy" and net.parents["c"] == ("b", "a")
    t = net.tables["c"]
    assert t.shape == (3, 2, 2)
    np.testing.assert_allclose(t[2, 1], [0.6, 0.4])
    np.testing.assert_allclose(t[0, 1], [0.2, 0.8])
    np.testing.assert_allclose(t[1, 0], [0.5, 0.5])  # default
    assert not t.flags.writeable


def test_bif_table_form_equals_the_row_form():
    rows, table = parse_bif(TOY_ROWS).tables["c"], parse_bif(TOY_TABLE).tables["c"]
    np.testing.assert_allclose(np.transpose(table, (1, 0, 2)), rows)


def test_read_bif_gives_a_sampleable_scm(tmp_path):
    path = tmp_path / "toy.bif.gz"
    path.write_bytes(gzip.compress(TOY_ROWS.encode()))
    model = read_bif(path)
    assert model.parents("c") == ("b", "a") and model.mechanisms["b"].states == ("b0", "b1", "b2")
    assert model.sample(10, random_state=0).shape == (10, 3)
    assert read_bif(io.BytesIO(TOY_TABLE.encode())).parents("c") == ("a", "b")


BAD_BIF = {
    "undeclared": ("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a | z ) { table 0.5, 0.5; }", r"line 2.*'z'.*not declared"),
    "count": ("variable a { type discrete [ 3 ] { x, y }; }", r"declares 3 states but lists 2"),
    "values": ("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a ) { table 0.5; }", r"needs 2 values"),
    "state": (
        "variable a { type discrete [ 2 ] { x, y }; }\nvariable b { type discrete [ 2 ] { x, y }; }\n"
        "probability ( a ) { table 0.5, 0.5; }\nprobability ( b | a ) { (q) 0.5, 0.5; (y) 0.5, 0.5; }",
        r"line 4: 'q' is not a state of 'a'",
    ),
    "missing_row": (
        "variable a { type discrete [ 2 ] { x, y }; }\nvariable b { type discrete [ 2 ] { x, y }; }\n"
        "probability ( a ) { table 0.5, 0.5; }\nprobability ( b | a ) { (x) 0.5, 0.5; }",
        r"no row for the parent states \('y',\)",
    ),
    "no_block": ("variable a { type discrete [ 2 ] { x, y }; }", r"\['a'\] have no probability block"),
    "number": ("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a ) { table 0.5, abc; }", r"'abc' is not a probability"),
    "negative": ("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a ) { table -0.5, 1.5; }", r">= 0"),
    "keyword": ("varible a { }", r"line 1: expected 'network', 'variable' or 'probability'; got 'varible'"),
    "truncated": ("variable a { type discrete [ 2 ] { x, y };", r"ends early"),
    "type": ("variable a { type continuous; }", r"only 'discrete'"),
    "duplicate": (
        "variable a { type discrete [ 1 ] { x }; }\nvariable a { type discrete [ 1 ] { x }; }", r"line 2: variable 'a' is declared twice"
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BIF))
def test_bif_errors_name_line_and_variable(case):
    text, message = BAD_BIF[case]
    with pytest.raises(DataError, match=message):
        parse_bif(text)


def test_bif_rows_that_do_not_sum_to_one_are_refused():
    net = parse_bif("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a ) { table 0.5, 0.6; }")
    with pytest.raises(DataError, match=r"probabilities of 'a' given \{\} sum to 1.1"):
        net.to_scm()


def test_bif_cycle_is_refused():
    text = (
        "variable a { type discrete [ 2 ] { x, y }; }\nvariable b { type discrete [ 2 ] { x, y }; }\n"
        "probability ( a | b ) { (x) 0.5, 0.5; (y) 0.5, 0.5; }\nprobability ( b | a ) { (x) 0.5, 0.5; (y) 0.5, 0.5; }"
    )
    with pytest.raises(scm.CycleError):
        read_bif(io.BytesIO(text.encode()))


@pytest.mark.slow
def test_bif_cpts_equal_pgmpy():
    pgmpy_bif = pytest.importorskip("pgmpy.readwrite.BIF")
    for text in [gzip.decompress(DATA.joinpath("bif", f"{n}.bif.gz").read_bytes()).decode() for n in ("asia", "alarm")] + [TOY_TABLE]:
        ours = parse_bif(text)
        model = pgmpy_bif.BIFReader(string=text).get_model()
        assert set(model.nodes) == set(ours.variables)
        for cpd in model.get_cpds():
            var, evidence = cpd.variable, list(cpd.variables[1:])
            assert set(evidence) == set(ours.parents[var])
            for v in [var] + evidence:
                assert list(cpd.state_names[v]) == list(ours.states[v])
            # Ours: (parents in header order..., child); pgmpy: (child, evidence in its order).
            axes = [ours.parents[var].index(e) for e in evidence] + [len(evidence)]
            table = np.transpose(ours.tables[var], axes)
            np.testing.assert_allclose(table.reshape(-1, table.shape[-1]).T, cpd.get_values(), rtol=0, atol=1e-12)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: load_sachs("interventions"), r"'kind' parameter of load_sachs must be one of \['observational', 'interventional'\]"),
        (lambda: load_sachs(log="yes"), r"'log' parameter must be True or False"),
        (lambda: load_sachs(graph="tetrad"), r"'source' parameter of sachs_graph must be one of \['bnlearn', 'grandag', 'cmu'"),
        (lambda: sachs_graph("BNLEARN"), r"got 'BNLEARN'"),
        (lambda: load_syntren(0), r"'i' parameter must be in the range \[1, 10\]; got 0"),
        (lambda: load_syntren(11), r"\[1, 10\]"),
        (lambda: load_syntren(1.0), r"'i' parameter must be an int"),
        (lambda: load_syntren(True), r"must be an int"),
        (lambda: load_bnlearn("asai"), r"'name' parameter of load_bnlearn must be one of \['asia', 'cancer'.*'arth150'\]; got 'asai'"),
        (lambda: load_bnlearn(None), r"got None"),
        (lambda: list_bnlearn("continuous"), r"\['discrete', 'gaussian'\]"),
        (lambda: bnlearn_dataset("asia", 0), r"'n' parameter of bnlearn_dataset must be in the range \[1, inf\)"),
        (lambda: bnlearn_dataset("nope", 10), r"load_bnlearn must be one of"),
        (lambda: read_bif(42), r"expected a path or a file object"),
    ],
)
def test_bad_input_raises_clear_errors(call, message):
    with pytest.raises((ParameterError, DataError), match=message):
        call()


def test_parameter_errors_are_value_errors():
    with pytest.raises(ValueError):
        load_bnlearn("unknown")
    assert re.search("cd3_cd28", load_sachs.__doc__)


# ------------------------------------------------------------------------- wine
def test_wine_environments_columns_and_knowledge():
    from scm.datasets import WINE_MEASUREMENTS, load_wine

    ds = load_wine()
    data = ds.data
    assert list(data.columns) == [*WINE_MEASUREMENTS, "quality", "colour"]
    assert ds.metadata["rows"] == {"red": 1599, "white": 4898} and ds.environment == "colour" and ds.graph is None
    assert data.iloc[0, :12].tolist() == [7.4, 0.7, 0.0, 1.9, 0.076, 11.0, 34.0, 0.9978, 3.51, 0.56, 9.4, 5.0]  # first red row
    assert data.iloc[-1, :12].tolist() == [6.0, 0.21, 0.38, 0.8, 0.02, 22.0, 98.0, 0.9894, 3.26, 0.32, 11.8, 6.0]  # last white
    assert not data.isna().any().any() and data["quality"].between(3, 9).all()
    knowledge = ds.metadata["knowledge"]
    assert knowledge["tiers"] == (tuple(sorted(WINE_MEASUREMENTS, key=str.lower)), ("quality",))
    assert knowledge["required"] == (("alcohol", "quality"), ("total_sulfur_dioxide", "quality"))
    data.iloc[0, 0] = -1.0  # a fresh copy each call
    assert load_wine().data.iloc[0, 0] == 7.4

