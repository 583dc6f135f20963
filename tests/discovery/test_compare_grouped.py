"""Grouped (exchangeable) datasets in the comparison harness and the default suite."""

import networkx as nx
import pandas as pd
import pytest

import scm
from discovery import CDNOD, NOTEARS, PC, CausalDeFinetti, ICPGraph, bootstrap, compare
from discovery.evaluation import capability_of, register_algorithm
from discovery.evaluation._compare import CAPABILITIES, fit_as
from discovery.evaluation._suite import DEFAULT_ALGORITHMS, DEFAULT_DATASETS, default_datasets, run_default_suite
from scmkit.cli import main


@pytest.fixture(scope="module")
def groups():
    g = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "D")])
    return scm.simulate.grouped(g, n_groups=60, group_size=3, kind="linear", random_state=0)


class _Records:
    """Records how the harness calls fit."""

    def __init__(self):
        self.calls = []

    def get_params(self, deep=True):
        return {}

    def fit(self, data, **kwargs):
        self.calls.append((list(data.columns), kwargs))
        nodes = [c for c in data.columns if c != kwargs.get("groups")]
        self.graph_ = nx.DiGraph()
        self.graph_.add_nodes_from(nodes)
        return self


def test_capabilities_for_grouped_data():
    assert capability_of(CausalDeFinetti).fit == "groups" and capability_of(CausalDeFinetti).kinds == {"grouped"}
    assert capability_of(CDNOD).fit == "context" and "grouped" in capability_of(CDNOD).kinds
    for cls in (PC, NOTEARS):
        assert "grouped" in capability_of(cls).kinds and capability_of(cls).fit == "plain"
    assert "grouped" not in capability_of(ICPGraph).kinds  # every mechanism changes: nothing is invariant
    est = fit_as(
        register_algorithm("_Records", kinds=["grouped"], fit="groups"),
        _Records(),
        scm.simulate.grouped(nx.DiGraph([("A", "B")]), n_groups=3, group_size=2, random_state=0).data,
        "group",
    )
    assert est.calls == [(["A", "B", "group"], {"groups": "group"})]
    del CAPABILITIES["_Records"]


def test_compare_on_a_grouped_dataset(groups):
    algos = {
        "pc": PC(),
        "cdnod": CDNOD(ci_test="fisherz", context_kind="categorical"),
        "icp": ICPGraph(),
        "cdf": CausalDeFinetti(ci_test="fisherz"),
    }
    res = compare(algos, {"groups": groups}, executor="sequential")
    assert set(res["algorithm"]) == {"pc", "cdnod", "cdf"}  # ICP does not apply
    assert (res["status"] == "ok").all(), res[["algorithm", "error"]]
    assert res["shd"].notna().all() and (res["shd"] >= 0).all()
    # CD-NOD's group node is scored against the truth with the group pointing at every node
    assert res.attrs["changed_nodes"]["groups"] == frozenset("ABCD")
    assert "group" in res.attrs["graphs"][("cdnod", "groups", 0)].nodes
    assert "group" not in res.attrs["graphs"][("pc", "groups", 0)].nodes  # pooled: the column dropped


def test_bootstrap_of_causal_de_finetti(groups):
    res = bootstrap(CausalDeFinetti(ci_test="fisherz"), groups, n_resamples=3, random_state=0)
    assert res.n_resamples == 3 and not res.failures and res.resampling == "groups"


def test_default_suite_has_a_grouped_dataset(capsys):
    assert DEFAULT_ALGORITHMS["causaldf-fisherz"] == ("CausalDeFinetti", {"ci_test": "fisherz"})
    assert "grouped-er6" in DEFAULT_DATASETS
    ds = DEFAULT_DATASETS["grouped-er6"][0](0)
    assert ds.kind == "grouped" and ds.environment == "group" and ds.data.shape == (800, 7)
    assert main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    assert "grouped-er6" in out and "causaldf-fisherz" in out


@pytest.mark.slow
def test_default_suite_runs_on_the_grouped_dataset(tmp_path):
    res = run_default_suite(datasets=["grouped-er6"], output=tmp_path, executor="sequential")
    assert set(res["algorithm"]) == {"pc-fisherz", "cdnod-fisherz", "notears-linear", "causaldf-fisherz"}
    assert (res["status"] == "ok").all()
    assert (tmp_path / "index.html").exists()
    assert len(default_datasets(0)) == len(DEFAULT_DATASETS)


@pytest.mark.slow
def test_cli_compare_on_a_grouped_csv(tmp_path, capsys):
    ds = scm.simulate.grouped(nx.DiGraph([("A", "B"), ("B", "C")]), n_groups=40, group_size=3, random_state=1)
    path = tmp_path / "visits.csv"
    ds.data.assign(group="p" + ds.data["group"].astype(str)).to_csv(path, index=False)  # string ids
    out = tmp_path / "report"
    args = ["compare", str(path), "--groups", "group", "--algorithms", "pc-fisherz", "causaldf-fisherz", "--bootstrap", "2",
            "-o", str(out), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "causaldf-fisherz" in printed and "pc-fisherz" in printed
    table = pd.read_csv(out / "results.csv")
    assert (table["status"] == "ok").all(), table[["algorithm", "error"]]
    assert table["stability"].between(0, 1).all()
    for bad, message in [
        (["--groups", "nope"], "'nope'"),
        (["--groups", "group", "--context", "group"], "exclude each other"),
    ]:
        assert main(["compare", str(path), *bad, "-o", str(out)]) == 2
        assert message in capsys.readouterr().err
    assert main(["compare", "--groups", "group", "-o", str(out)]) == 2
    assert "applies to data files" in capsys.readouterr().err
