"""The comparison harness: matching, cloning, seeds, errors, cache, executors (local, Dask, sharded)."""

import json
import pathlib
import textwrap

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from discovery import CDNOD, NOTEARS, PC, PCMCI, ICPGraph, compare
from discovery.evaluation import (
    RunResult,
    RunTask,
    TaskPlan,
    build_tasks,
    capability_of,
    register_algorithm,
    run_tasks,
    summarise,
    tabulate,
)
from discovery.evaluation._compare import CAPABILITIES, _with_context
from discovery.metrics import sid, sid_bounds
from discovery.timeseries import lagged_metrics
from scm import PDAG, LaggedGraph, ParameterError
from tests.devices import run_here, run_on_devices


@pytest.fixture(scope="module")
def small():
    return scm.simulate.simulate(n_nodes=4, n_samples=300, random_state=0)


@pytest.fixture(scope="module")
def envs():
    dag = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "D")])
    return scm.multi_environment(dag, n_environments=3, n_samples=200, changing=["B"], random_state=1)


@pytest.fixture(scope="module")
def series():
    return scm.simulate.time_series(n_series=3, n_timepoints=300, max_lag=1, contemporaneous=False, random_state=0)


def test_table_is_tidy_and_ordered(small):
    res = compare({"pc": PC(), "notears": NOTEARS()}, {"d1": small}, executor="sequential")
    assert list(res[["algorithm", "dataset", "seed"]].itertuples(index=False, name=None)) == [("pc", "d1", 0), ("notears", "d1", 0)]
    for col in ("shd", "sid", "skeleton_f1", "arrowhead_f1", "n_edges", "fit_seconds", "status", "error", "warnings", "cached"):
        assert col in res.columns
    assert (res["status"] == "ok").all() and (res["error"] == "").all() and (res["fit_seconds"] > 0).all()
    assert res["shd"].dtype == float and not res["cached"].any()
    graphs = res.attrs["graphs"]
    # PC's CPDAG gets the SID range of its class, NOTEARS' DAG a single SID
    pc, nt = res.iloc[0], res.iloc[1]
    pc_graph = graphs[("pc", "d1", 0)]
    assert np.isnan(pc["sid"]) and (pc["sid_lower"], pc["sid_upper"]) == tuple(map(float, sid_bounds(small.graph, pc_graph)))
    assert nt["sid"] == nt["sid_lower"] == nt["sid_upper"] == sid(small.graph, graphs[("notears", "d1", 0)])
    assert isinstance(graphs[("pc", "d1", 0)], PDAG) and set(graphs[("pc", "d1", 0)].nodes) == set(small.variables)
    assert res.attrs["truths"]["d1"] is small.graph
    # the attrs survive pandas operations (pandas deep-copies attrs; graphs are shared, not copied)
    assert res.drop(columns=["warnings"]).attrs["graphs"] is graphs


def test_estimators_are_cloned_not_fitted_in_place(small):
    pc = PC(alpha=0.01)
    compare({"pc": pc}, {"d": small}, executor="sequential")
    assert not hasattr(pc, "graph_")


def test_algorithms_go_to_the_datasets_they_fit(small, envs, series):
    algos = {"pc": PC(), "cdnod": CDNOD(ci_test="fisherz"), "icp": ICPGraph(), "pcmci": PCMCI(tau_max=1)}
    res = compare(algos, {"obs": small, "envs": envs, "ts": series}, executor="sequential")
    pairs = set(res[["algorithm", "dataset"]].itertuples(index=False, name=None))
    assert pairs == {("pc", "obs"), ("pc", "envs"), ("cdnod", "envs"), ("icp", "envs"), ("pcmci", "ts")}
    assert (res["status"] == "ok").all(), res[["algorithm", "dataset", "error"]]
    # CD-NOD's context node is scored against the truth extended by environment -> changed nodes
    cd = res.attrs["graphs"][("cdnod", "envs", 0)]
    assert "environment" in cd.nodes
    # its SID range is against that extended true DAG, not the CPDAG reference its SHD uses
    truth = _with_context(envs.graph, cd, envs.changed_nodes)
    row = res.set_index("algorithm").loc["cdnod"]
    assert (row["sid_lower"], row["sid_upper"]) == sid_bounds(truth, cd)
    assert isinstance(res.attrs["graphs"][("pcmci", "ts", 0)], LaggedGraph)
    assert res.set_index("algorithm").loc["pcmci", "shd"] == 0


def test_capability_registry():
    assert capability_of(PC()).fit == "plain" and capability_of(CDNOD()).fit == "context"
    assert capability_of(PCMCI).kinds == {"time_series"}

    class MyPC(PC):
        pass

    assert capability_of(MyPC()) is CAPABILITIES["PC"]
    with pytest.raises(ParameterError, match="kinds"):
        register_algorithm("X", kinds=["tabular"])
    with pytest.raises(ParameterError, match="'fit' parameter"):
        register_algorithm("X", kinds=["observational"], fit="magic")


def test_a_failing_run_is_recorded_not_raised(small):
    res = compare({"bad": PC(alpha=1.5), "good": PC()}, {"d": small}, executor="sequential")
    bad, good = res.iloc[0], res.iloc[1]
    assert bad["status"] == "error" and "alpha" in bad["error"] and "\n" not in bad["error"]
    assert np.isnan(bad["shd"]) and good["status"] == "ok"
    assert res.attrs["graphs"][("bad", "d", 0)] is None


def test_seeds_factories_and_random_state(small):
    seen = []

    def factory(seed):
        seen.append(seed)
        return NOTEARS(random_state=seed)

    def data(seed):
        return scm.simulate.simulate(n_nodes=4, n_samples=200, random_state=seed)

    res = compare({"nt": factory, "pc": PC()}, {"sim": data, "fixed": small}, seeds=[3, 4], executor="sequential")
    assert sorted(set(seen)) == [3, 4]
    assert list(res["seed"]) == [3, 3, 3, 3, 4, 4, 4, 4]
    sims = res[(res["dataset"] == "sim") & (res["algorithm"] == "pc")]
    g3, g4 = (res.attrs["graphs"][("pc", "sim", s)] for s in (3, 4))
    assert len(sims) == 2 and g3 != g4  # fresh data per seed
    summary = summarise(res, "shd")
    assert set(summary.columns) == {"dataset", "algorithm", "mean", "std", "n"} and (summary["n"] == 2).all()


def test_datasets_as_a_list_and_metric_selection(small):
    other = scm.simulate.simulate(n_nodes=3, n_samples=200, random_state=5)
    res = compare({"pc": PC()}, [small, other], metrics=["shd", "skeleton_f1"], executor="sequential")
    assert list(res["dataset"]) == [small.name, small.name + "-2"]
    bookkeeping = ("algorithm", "dataset", "seed", "fit_seconds", "status", "error", "warnings", "cached")
    assert [c for c in res.columns if c not in bookkeeping] == ["shd", "skeleton_f1"]
    res = compare({"pc": PC()}, {"d": small}, metrics={"edges": lambda truth, g: len(g.edges())}, executor="sequential")
    assert res["edges"].iloc[0] == res.attrs["graphs"][("pc", "d", 0)].edges().__len__()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"metrics": ["accuracy"]}, "unknown metric 'accuracy'"),
        ({"executor": "threads"}, "'executor' parameter"),
        ({"seeds": []}, "'seeds' parameter"),
        ({"n_jobs": 0}, "'n_jobs' parameter"),
        ({"only": {"ges": ["d"]}}, "unknown algorithm"),
    ],
)
def test_bad_arguments(small, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        compare({"pc": PC()}, {"d": small}, **kwargs)


def test_nothing_applies(series):
    with pytest.raises(ParameterError, match="no algorithm applies"):
        compare({"pc": PC()}, {"ts": series}, executor="sequential")


def test_cache_resumes_and_keys_on_params(small, tmp_path):
    algos = {"pc": PC(), "bad": PC(alpha=2.0)}
    first = compare(algos, {"d": small}, executor="sequential", cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert len(files) == 1 and files[0].startswith("pc__d__0__")  # errors are not cached
    again = compare(algos, {"d": small}, executor="sequential", cache_dir=tmp_path)
    assert list(again["cached"]) == [True, False]
    assert again.iloc[0]["shd"] == first.iloc[0]["shd"]
    assert again.attrs["graphs"][("pc", "d", 0)] == first.attrs["graphs"][("pc", "d", 0)]
    changed = compare({"pc": PC(alpha=0.2)}, {"d": small}, executor="sequential", cache_dir=tmp_path)
    assert not changed["cached"].any() and len(list(tmp_path.glob("*.json"))) == 2
    # a corrupt cache file is ignored and rewritten
    path = next(tmp_path.glob("pc__d__0__*.json"))
    path.write_text("{not json")
    redo = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path)
    assert not redo["cached"].any() and json.loads(path.read_text())["row"]["status"] == "ok"


def test_cache_file_edited_is_recomputed_not_trusted(small, tmp_path, caplog):
    first = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path)
    path = next(tmp_path.glob("pc__d__0__*.json"))
    record = json.loads(path.read_text())
    assert record["version"] == 3 and len(record["checksum"]) == 64
    record["row"]["shd"] = float(record["row"]["shd"]) + 7.0  # one number edited by hand
    path.write_text(json.dumps(record))
    with caplog.at_level("WARNING", logger="discovery"):
        again = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path)
    assert not again["cached"].any() and again.iloc[0]["shd"] == first.iloc[0]["shd"]
    assert any("fails its checksum" in r.getMessage() and path.name in r.getMessage() for r in caplog.records)
    third = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path)  # rewritten: a hit again
    assert third["cached"].all() and third.iloc[0]["shd"] == first.iloc[0]["shd"]


def test_cache_file_of_another_run_is_recomputed_not_trusted(small, tmp_path, caplog):
    ours = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path / "a")
    compare({"pc": PC(alpha=0.5, ci_test="kci")}, {"d": small}, executor="sequential", cache_dir=tmp_path / "b")
    mine, foreign = next((tmp_path / "a").glob("*.json")), next((tmp_path / "b").glob("*.json"))
    assert mine.name != foreign.name
    foreign.replace(mine)  # another run's intact file under this run's name
    with caplog.at_level("WARNING", logger="discovery"):
        again = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path / "a")
    assert not again["cached"].any()
    pd.testing.assert_frame_equal(again.drop(columns=["fit_seconds", "cached"]), ours.drop(columns=["fit_seconds", "cached"]))
    assert any("another run's result" in r.getMessage() for r in caplog.records)


def test_cache_files_without_a_checksum_are_recomputed(small, tmp_path, caplog):
    first = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path)
    path = next(tmp_path.glob("*.json"))
    record = json.loads(path.read_text())
    del record["checksum"]
    record["version"] = 2  # the format before the checksum, same key and file name
    path.write_text(json.dumps(record))
    with caplog.at_level("INFO", logger="discovery"):
        again = compare({"pc": PC()}, {"d": small}, executor="sequential", cache_dir=tmp_path)
    assert not again["cached"].any() and again.iloc[0]["shd"] == first.iloc[0]["shd"]
    assert any("no checksum" in r.getMessage() and r.levelname == "INFO" for r in caplog.records)
    assert json.loads(path.read_text())["version"] == 3  # rewritten in place


# The cache files and keys of these calls: those of the harness before compare was split into
# build_tasks / run_tasks / tabulate (commit 522f625), except PC's and CD-NOD's, whose key covers
# their parameters and so changed with their default conflict rule ("keep_existing" ->
# "bidirected", issue 26: a result cached under the old default is not reused). The cache format
# 3 (checksum) keeps the keys and names; format-2 files are recomputed once, in place.
EARLIER_CACHE = {
    "cdnod__envs__0__b3e10d903d7666b9.json": "b3e10d903d7666b9fbe44aa58227af1a6427bc0bfe1e61ef8ac5b0b063fe3430",
    "pc__d__0__d194c2c46921e9be.json": "d194c2c46921e9be4d90f1c53d0c1bbe3c49ba3b261d17d1c58d30ec04e05e50",
    "pc__envs__0__afb35f894178a2ad.json": "afb35f894178a2adf7b57b098c98c9b60ad62035e1aea17d9385efe8e2de1f76",
    "pcmci__ts__0__0cc9f24aa9102ffd.json": "0cc9f24aa9102ffd57a1377e5de9006ec9b54d9c2454ac9cbf5e9502dca159cf",
}
# the keys before the default changed: the same calls with conflict="keep_existing" still give them
KEEP_EXISTING_CACHE = {
    "cdnod__envs__0__c20d067d8c3f97cc.json": "c20d067d8c3f97cce56c28347d212536bdbdc3f2c3de09404b2ebbd81af90198",
    "pc__d__0__33d1f8b0d2c59b0f.json": "33d1f8b0d2c59b0f76dcc1760a530494529146da6cf0fb275ca9774ecb5a321e",
    "pc__envs__0__b35ef1f4f88c4cf6.json": "b35ef1f4f88c4cf67d8cbb65d1643005b95b4c31f133824a40ab491e5901521d",
}


def test_cache_keys_are_those_of_earlier_runs(small, envs, series, tmp_path):
    algos = {"pc": PC(), "pcmci": PCMCI(tau_max=1), "cdnod": CDNOD(ci_test="fisherz")}
    plan = build_tasks(algos, {"d": small, "ts": series, "envs": envs}, cache_dir=tmp_path)
    # the time series' truth is the LaggedGraph it carries; its digest is that of the graph rebuilt from lag_array
    assert plan.truths["ts"] is series.metadata["lagged_graph"]
    got = {pathlib.Path(t.cache_file).name: t.key for t in plan.tasks}
    assert got == EARLIER_CACHE
    res = compare(algos, {"d": small, "ts": series, "envs": envs}, executor="sequential", cache_dir=tmp_path)
    assert {p.name: json.loads(p.read_text())["key"] for p in tmp_path.glob("*.json")} == EARLIER_CACHE
    assert (res["status"] == "ok").all()
    old = {"pc": PC(conflict="keep_existing"), "cdnod": CDNOD(ci_test="fisherz", conflict="keep_existing")}
    plan = build_tasks(old, {"d": small, "envs": envs}, cache_dir=tmp_path)
    assert {pathlib.Path(t.cache_file).name: t.key for t in plan.tasks} == KEEP_EXISTING_CACHE


def test_build_tasks_plans_without_fitting(small, envs, tmp_path):
    pc = PC(alpha=0.01)
    plan = build_tasks({"pc": pc, "cdnod": CDNOD(ci_test="fisherz")}, {"obs": small, "envs": envs}, metrics=["shd"],
                       seeds=[0, 1], cache_dir=tmp_path, only={"pc": ["envs"]})
    assert isinstance(plan, TaskPlan) and all(isinstance(t, RunTask) for t in plan.tasks)
    assert [(t.algorithm, t.dataset, t.seed) for t in plan.tasks] == [
        ("pc", "envs", 0), ("cdnod", "envs", 0), ("pc", "envs", 1), ("cdnod", "envs", 1)]
    assert plan.skipped == (("pc", "obs"), ("cdnod", "obs")) and plan.columns == ["shd"]
    first = plan.tasks[0]
    assert first.estimator is not pc and first.estimator.get_params() == pc.get_params() and not hasattr(first.estimator, "graph_")
    assert first.truth is envs.graph and first.changed_nodes == envs.changed_nodes and first.environment == "environment"
    assert len({t.key for t in plan.tasks}) == 4 and all(t.cache_file.startswith(str(tmp_path)) for t in plan.tasks)
    assert not list(tmp_path.glob("*.json"))  # nothing run, nothing written
    assert plan.truths == {"obs": small.graph, "envs": envs.graph}
    assert build_tasks({"pc": pc}, {"obs": small}).tasks[0].key == ""  # no cache, no key
    with pytest.raises(ParameterError, match="no algorithm applies"):
        build_tasks({"pc": PC()}, {"obs": small}, only={"pc": ["other"]})


def test_run_tasks_reads_the_cache_and_runs_the_rest(small, tmp_path):
    plan = build_tasks({"pc": PC(), "bad": PC(alpha=2.0)}, {"d": small}, cache_dir=tmp_path)
    results = run_tasks(plan.tasks, "sequential")
    assert all(isinstance(r, RunResult) for r in results)
    ok, bad = results
    assert (ok.row["status"], ok.row["cached"], bad.row["status"]) == ("ok", False, "error")
    assert isinstance(ok.graph, PDAG) and bad.graph is None and "alpha" in bad.row["error"]
    again = run_tasks(plan.tasks, "sequential")
    assert [r.row["cached"] for r in again] == [True, False] and again[0].graph == ok.graph
    assert run_tasks(plan.tasks[1:], "sequential")[0].row["algorithm"] == "bad"  # any part of a plan
    with pytest.raises(ParameterError, match="'executor'"):
        run_tasks(plan.tasks, "threads")


def test_tabulate_gives_the_table_of_compare(small):
    algos, data = {"pc": PC(), "notears": NOTEARS(max_iter=20)}, {"d": small}
    plan = build_tasks(algos, data, seeds=[0, 1])
    table = tabulate(plan, run_tasks(plan.tasks, "sequential"))
    direct = compare(algos, data, seeds=[0, 1], executor="sequential")
    pd.testing.assert_frame_equal(table.drop(columns="fit_seconds"), direct.drop(columns="fit_seconds"))
    assert list(table.attrs["graphs"]) == list(direct.attrs["graphs"])
    assert all(table.attrs["graphs"][k] == direct.attrs["graphs"][k] for k in direct.attrs["graphs"])
    # every run failed: the same columns, NaN metrics
    failing = build_tasks({"bad": PC(alpha=2.0)}, data)
    empty = tabulate(failing, run_tasks(failing.tasks, "sequential"))
    assert list(empty.columns) == list(direct.columns) and empty["shd"].isna().all()
    with pytest.raises(ParameterError, match="one result per task"):
        tabulate(plan, [])


@pytest.mark.slow
def test_default_process_pool_matches_sequential(small):
    algos = {"pc": PC(), "pc01": PC(alpha=0.01)}
    seq = compare(algos, {"d": small}, executor="sequential")
    par = compare(algos, {"d": small}, n_jobs=2)  # spawn-context process pool
    cols = ["algorithm", "dataset", "seed", "shd", "skeleton_f1", "status"]
    pd.testing.assert_frame_equal(seq[cols], par[cols])
    assert par.attrs["graphs"][("pc", "d", 0)] == seq.attrs["graphs"][("pc", "d", 0)]


def test_dask_local_cluster(small, envs):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            res = compare({"pc": PC(), "cdnod": CDNOD(ci_test="fisherz")}, {"obs": small, "envs": envs},
                          executor=client.get_executor())
    seq = compare({"pc": PC(), "cdnod": CDNOD(ci_test="fisherz")}, {"obs": small, "envs": envs}, executor="sequential")
    assert (res["status"] == "ok").all(), res["error"]
    pd.testing.assert_frame_equal(res[["algorithm", "dataset", "shd"]], seq[["algorithm", "dataset", "shd"]])


SHARDED = textwrap.dedent(
    """
    import jax, scm
    from discovery import PC, compare
    ds = scm.simulate.simulate(n_nodes=6, n_samples=400, random_state=2)
    res = compare({"pc": PC(), "pc01": PC(alpha=0.01)}, {"d": ds}, executor="sequential")
    out = {"devices": len(jax.devices()), "shd": res["shd"].tolist(),
           "graphs": [g.to_json() for g in res.attrs["graphs"].values()]}
    """
)


@pytest.mark.slow
def test_same_comparison_sharded_over_four_devices():
    """The same compare call on a host with 4 (forced) devices: PC's batched CI tests are
    sharded over them, the results are those of one device (this process)."""
    four, one = run_on_devices(SHARDED), run_here(SHARDED)
    assert four["devices"] == 4 and one["devices"] == 1
    assert four["shd"] == one["shd"]
    assert [PDAG.from_json(g) for g in four["graphs"]] == [PDAG.from_json(g) for g in one["graphs"]]


def test_lagged_metrics():
    truth = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 1), ("Y", "Z", 0), ("Z", "Z", 1)])
    assert lagged_metrics(truth, truth)["shd"] == 0 and lagged_metrics(truth, truth)["skeleton_f1"] == 1
    est = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 2), ("Z", "Z", 1)], undirected=[("Y", "Z")])
    m = lagged_metrics(truth, est)
    # X->Y at lag 1 missing, at lag 2 extra, Y-Z unoriented: 3
    assert m["shd"] == 3 and m["skeleton_precision"] == pytest.approx(2 / 3) and m["arrowhead_recall"] == pytest.approx(1 / 3)
    with pytest.raises(scm.GraphError, match="different nodes"):
        lagged_metrics(truth, LaggedGraph(["X"]))


def test_icp_graph(envs):
    model = ICPGraph(alpha=0.05).fit(envs.data, environment="environment")
    assert "B" in model.rejected_  # B itself is shifted: recorded, not warned once per variable
    assert set(model.graph_.nodes) == {"A", "B", "C", "D"}
    assert set(model.graph_.edges) <= set(envs.graph.edges) | {("B", "C")}
    assert model.parents_["B"] <= {"A"}
    assert "ICPGraph(alpha=0.1)" == repr(ICPGraph(alpha=0.1))
    with pytest.raises(scm.DataError, match="environment column 'env'"):
        ICPGraph().fit(envs.data, environment="env")
