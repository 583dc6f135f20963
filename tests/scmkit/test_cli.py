"""The scmkit command line: compare, discover, and one-line errors."""

import json
import subprocess
import sys
import warnings

import pandas as pd
import pytest

from scm import PDAG, LaggedGraph, simulate
from scmkit import main


def test_compare_small_suite(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["compare", "--datasets", "linear-er10", "--algorithms", "pc-fisherz", "-o", str(out)]) == 0
    table = pd.read_csv(out / "results.csv")
    assert list(table["algorithm"]) == ["pc-fisherz"] and table["shd"].iloc[0] >= 0
    assert "<table" in (out / "index.html").read_text()
    assert "pc-fisherz" in capsys.readouterr().out


def test_compare_unknown_algorithm(tmp_path, capsys):
    assert main(["compare", "--algorithms", "magic", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "magic" in err and len(err.strip().splitlines()) == 1


def test_discover_writes_json(tmp_path):
    ds = simulate.simulate(n_nodes=5, n_samples=500, random_state=0)
    path = tmp_path / "data.csv"
    ds.data.to_csv(path, index=False)
    target = tmp_path / "graph.json"
    assert main(["discover", str(path), "--method", "pc", "-o", str(target)]) == 0
    graph = PDAG.from_json(target.read_text())
    assert set(graph.nodes) == set(ds.data.columns)
    assert set(json.loads(target.read_text())) == {"nodes", "edges"}


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n", "non-numeric"),
        ("a,b\n1,2\n,3\n4,5\n6,7\n8,9\n", "NaN"),
    ],
)
def test_discover_bad_input_is_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    assert main(["discover", str(path)]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "bad.csv" in lines[0]


@pytest.mark.slow
def test_bad_input_from_the_shell_has_no_traceback(tmp_path):
    """The same through a real interpreter: exit status 2, one line on stderr."""
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n,3\n4,5\n6,7\n8,9\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scmkit", "discover", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "NaN" in lines[0] and "bad.csv" in lines[0]


# --------------------------------------------------------------------------- help, list
@pytest.mark.parametrize("command", ["compare", "discover", "effect", "simulate"])
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"scmkit {command}" in out


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(c in out for c in ("compare", "discover", "effect", "simulate"))


def test_compare_list(capsys):
    assert main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("pc-fisherz", "cdnod-fisherz", "vidpdag", "pcmci-parcorr", "sachs", "sachs-regimes", "syntren-1", "timeseries-5"):
        assert name in out


@pytest.mark.slow
def test_compare_multi_environment_subset_with_cache(tmp_path, capsys):
    out, cache = tmp_path / "report", tmp_path / "cache"
    args = ["compare", "--datasets", "multi-env-er8", "--algorithms", "pc-fisherz", "icp",
            "-o", str(out), "--cache", str(cache), "--no-progress"]
    assert main(args) == 0
    table = pd.read_csv(out / "results.csv")
    assert list(table["algorithm"]) == ["pc-fisherz", "icp"] and (table["status"] == "ok").all()
    assert (out / "graphs-multi-env-er8.png").exists() and len(list(cache.glob("*.json"))) == 2
    assert main(args) == 0
    assert pd.read_csv(out / "results.csv")["cached"].all()
    assert "report:" in capsys.readouterr().out


def test_compare_inapplicable_choice_is_one_line(tmp_path, capsys):
    assert main(["compare", "--datasets", "timeseries-5", "--algorithms", "pc-fisherz", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no algorithm applies" in err[0]


# --------------------------------------------------------------------------- simulate, discover, effect
@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "--nodes", "5", "--samples", "400", "--seed", "1", "-o", str(d / "data.csv")]) == 0
    assert main(["simulate", "--nodes", "4", "--samples", "600", "--environments", "3", "-o", str(d / "envs.csv")]) == 0
    ts = simulate.time_series(n_series=3, n_timepoints=300, max_lag=1, random_state=0)
    ts.data.to_csv(d / "series.csv", index=False)
    return d


def test_simulate_writes_data_and_truth(simulated):
    data = pd.read_csv(simulated / "data.csv")
    truth = PDAG.from_json((simulated / "data.graph.json").read_text())
    assert data.shape == (400, 5) and set(truth.nodes) == set(data.columns) and truth.is_dag()
    envs = pd.read_csv(simulated / "envs.csv")
    assert "environment" in envs.columns and envs["environment"].nunique() == 3


@pytest.mark.parametrize(
    "method, extra, file",
    [
        ("pc", [], "data.csv"),
        ("notears", [], "data.csv"),
        ("cdnod", ["--context", "environment"], "envs.csv"),
        ("icp", ["--context", "environment", "--alpha", "0.01"], "envs.csv"),
        ("pcmci", ["--tau-max", "2"], "series.csv"),
        ("pcmciplus", [], "series.csv"),
    ],
)
def test_discover_methods_write_valid_json(simulated, tmp_path, method, extra, file):
    target = tmp_path / "graph.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ICP may reject the model for an intervened target
        assert main(["discover", str(simulated / file), "--method", method, *extra, "-o", str(target)]) == 0
    doc = json.loads(target.read_text())
    assert {"nodes", "edges"} <= set(doc)
    assert all({"source", "target", "kind"} <= set(e) for e in doc["edges"])
    if method.startswith("pcmci"):
        assert LaggedGraph.from_json(target.read_text()).nodes == ("X0", "X1", "X2")
    else:
        assert set(PDAG.from_json(target.read_text()).nodes) >= set(pd.read_csv(simulated / file).columns) - {"environment"}


def test_discover_dot_png_and_stdout(simulated, tmp_path, capsys):
    assert main(["discover", str(simulated / "data.csv"), "-o", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert main(["discover", str(simulated / "series.csv"), "--method", "pcmci", "-o", str(tmp_path / "s.dot")]) == 0
    assert 'label="1"' in (tmp_path / "s.dot").read_text()
    assert main(["discover", str(simulated / "data.csv"), "-o", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["discover", str(simulated / "data.csv")]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"nodes", "edges"}


def test_effect_prints_estimate_interval_and_explanation(simulated, capsys):
    truth = PDAG.from_json((simulated / "data.graph.json").read_text())
    x, y = next(iter(truth.directed_edges))
    args = ["effect", str(simulated / "data.csv"), "--graph", str(simulated / "data.graph.json"),
            "--treatment", x, "--outcome", y, "--estimator", "regression"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"effect of {x} on {y}:" in out and "95% confidence interval: [" in out and "method:" in out
    assert len(out.strip().splitlines()) >= 5  # the explanation follows


def test_effect_on_a_cpdag_that_does_not_identify_prints_the_possible_effects(tmp_path, capsys):
    from scm import SCM, cpdag

    w = pd.DataFrame([[0, 1.0, 0.5], [0, 0, 2.0], [0, 0, 0]], index=list("zxy"), columns=list("zxy"))
    truth = SCM.from_linear(w)
    truth.sample(500, random_state=0).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "cpdag.json").write_text(cpdag(truth.graph).to_json())
    args = ["effect", str(tmp_path / "data.csv"), "--graph", str(tmp_path / "cpdag.json"), "--treatment", "x", "--outcome", "y"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "effect of x on y: not identified by the graph; possible effects in [0, " in out
    assert "95% confidence intervals within: [" in out and "parents" in out and "method: IDA (optimal)" in out


def _one_line_error(capsys, argv, *needles, code=2):
    assert main(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("scmkit: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def _argparse_error(capsys, argv, *needles):
    """A bad option value is refused by argparse: exit status 2, the option named on the last line."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    for needle in needles:
        assert needle in last, last


@pytest.mark.parametrize(
    "content, needles",
    [
        ("", ["empty.csv", "empty"]),
        ("a,b\n", ["empty.csv", "no data rows"]),
        ('a,b\n1,"2\n', ["empty.csv", "cannot read as CSV"]),
        ("a,b\n1,2\n3,4\n", ["empty.csv", "only 2 rows"]),
        ("a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n", ["empty.csv", "non-numeric", "'b'"]),
    ],
)
def test_discover_bad_files(tmp_path, capsys, content, needles):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    _one_line_error(capsys, ["discover", str(path)], *needles)


def test_discover_binary_file_and_directory(tmp_path, capsys):
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(256)) * 4)
    _one_line_error(capsys, ["discover", str(path)], "blob.csv")
    _one_line_error(capsys, ["discover", str(tmp_path)], "is a directory")


def test_discover_bad_options(simulated, tmp_path, capsys):
    data = str(simulated / "envs.csv")
    _one_line_error(capsys, ["discover", data, "--method", "cdnod", "--context", "regime"], "envs.csv", "'regime' not in the file")
    _one_line_error(capsys, ["discover", data, "--method", "cdnod"], "needs --context")
    _one_line_error(capsys, ["discover", data, "-o", str(tmp_path / "g.svg")], "g.svg", ".json")
    _argparse_error(capsys, ["discover", data, "--alpha", "2"], "argument --alpha", "(0, 1)")


def test_effect_bad_inputs(simulated, tmp_path, capsys):
    data, graph = str(simulated / "data.csv"), str(simulated / "data.graph.json")
    _one_line_error(capsys, ["effect", data, "--graph", graph, "--treatment", "Q", "--outcome", "X1"], "data.csv", "'Q' not in the file")
    args = ["effect", data, "--graph", str(tmp_path / "none.json"), "--treatment", "X0", "--outcome", "X1"]
    _one_line_error(capsys, args, "none.json", "no such file")
    bad = tmp_path / "bad.json"
    bad.write_text('{"edges": []}')
    _one_line_error(capsys, ["effect", data, "--graph", str(bad), "--treatment", "X0", "--outcome", "X1"], "bad.json", "not a graph file")
    bad.write_text("not json")
    _one_line_error(capsys, ["effect", data, "--graph", str(bad), "--treatment", "X0", "--outcome", "X1"], "bad.json", "not a JSON file")


def test_simulate_bad_output(tmp_path, capsys):
    _one_line_error(capsys, ["simulate", "-o", str(tmp_path / "data.txt")], "data.txt", ".csv")
    _argparse_error(capsys, ["simulate", "--nodes", "0", "-o", str(tmp_path / "d.csv")], "argument --nodes", ">= 1")


@pytest.mark.slow
def test_output_closed_by_its_reader_is_not_an_error():
    """``scmkit compare --list | head -1``: the reader goes away first; exit 0, nothing on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scmkit", "compare", "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # before the interpreter has started: every write meets a closed pipe
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err == b""


# --------------------------------------------------------------------------- compare on the user's data
@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("user")
    simulate.simulate(n_nodes=5, n_samples=300, random_state=0).data.to_csv(d / "shop.csv", index=False)
    envs = simulate.multi_environment(simulate.random_dag(4, 2, random_state=1), n_environments=3, n_samples=100,
                                      changing=1, random_state=1)
    envs.data.rename(columns={"environment": "site"}).to_csv(d / "sites.csv", index=False)
    ts = simulate.time_series(n_series=3, n_timepoints=200, max_lag=1, random_state=0).data
    ts.assign(time=range(200)).to_csv(d / "series.csv", index=False)
    ts.assign(time=range(200)).sample(frac=1.0, random_state=0).to_csv(d / "shuffled.csv", index=False)
    return d


def test_compare_user_csv_writes_a_truth_free_report(user_files, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["compare", str(user_files / "shop.csv"), "--algorithms", "pc-fisherz", "notears-linear", "--bootstrap", "0",
                 "-o", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    table = pd.read_csv(out / "results.csv")
    assert list(table["algorithm"]) == ["pc-fisherz", "notears-linear"] and set(table["dataset"]) == {"shop"}
    assert (table["status"] == "ok").all() and table[["n_edges", "heldout_loglik", "mean_shd_to_others"]].notna().all().all()
    assert "shd" not in table.columns and "notes" in table.columns
    page = (out / "index.html").read_text()
    assert "No dataset has a known true graph" in page and "coloured against the truth" not in page
    assert (out / "graphs-shop.png").exists()
    assert "heldout_loglik" in captured.out and "report:" in captured.out
    # what it does after the runs, on stderr
    err = captured.err.strip().splitlines()
    assert any(line.startswith("scmkit: ") and "writing the report" in line and str(out) in line for line in err)
    assert any(line.startswith("scmkit: wrote ") for line in err)


@pytest.mark.slow
def test_compare_user_csv_with_context_and_time_index(user_files, tmp_path, capsys):
    out = tmp_path / "envs"
    assert main(["compare", str(user_files / "sites.csv"), "--context", "site", "--algorithms", "pc-fisherz", "icp",
                 "--bootstrap", "4", "-o", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert list(table["algorithm"]) == ["pc-fisherz", "icp"] and (table["status"] == "ok").all()
    assert table["stability"].between(0, 1).all()  # resamples stratified by site (discovery.bootstrap)
    # a time series: rows sorted by the time column, which is dropped; a shuffled file gives the same answer
    runs = []
    for name in ("series", "shuffled"):
        out = tmp_path / name
        assert main(["compare", str(user_files / f"{name}.csv"), "--time-index", "time", "--algorithms", "pcmci-parcorr",
                     "--bootstrap", "0", "-o", str(out), "--no-progress"]) == 0
        runs.append(pd.read_csv(out / "results.csv"))
    assert runs[0]["n_lagged"].iloc[0] > 0
    cols = ["n_edges", "n_lagged", "n_contemporaneous", "heldout_loglik"]
    pd.testing.assert_frame_equal(runs[0][cols], runs[1][cols])


@pytest.mark.parametrize(
    "make, args, message",
    [
        (None, [], "no such file"),
        ("a,b\n" + "".join(f"{i},x{i}\n" for i in range(12)), [], "non-numeric column(s) 'b'"),
        ("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(12)), ["--context", "site"], "--context column 'site' not in the file"),
        ("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(12)), ["--time-index", "t"], "--time-index column 't' not in the file"),
        ("a,b,t\n" + "".join(f"{i},{i % 3},{i // 2}\n" for i in range(12)), ["--time-index", "t"], "repeats the time"),
        ("a,b,t\n" + "".join(f"{i},{i % 3},day{i}\n" for i in range(12)), ["--time-index", "t"], "neither numbers nor dates"),
        ("a,b,s\n" + "".join(f"{i},{i % 3},1\n" for i in range(12)), ["--context", "s"], "single value"),
        ("a,b,s\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12)), ["--context", "s", "--time-index", "a"],
         "exclude each other"),
        ("a,b\n" + "".join(f"{i},7\n" for i in range(12)), [], "'b' are constant"),
        ("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(12)), ["--datasets", "sachs"], "--datasets selects from the bundled"),
    ],
)
def test_compare_user_csv_bad_input_is_one_named_line(tmp_path, capsys, make, args, message):
    path = tmp_path / "in.csv"
    if make is not None:
        path.write_text(make)
    assert main(["compare", str(path), *args, "-o", str(tmp_path / "out"), "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scmkit: error: ") and message in lines[0], lines


def test_compare_hints_at_a_data_file_after_algorithms(user_files, tmp_path, capsys):
    assert main(["compare", "--algorithms", "pc-fisherz", str(user_files / "shop.csv"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "looks like a data file: put data files before --algorithms" in err


def test_suite_options_for_data_files_are_refused_without_them(tmp_path, capsys):
    assert main(["compare", "--context", "site", "-o", str(tmp_path)]) == 2
    assert "--context applies to data files" in capsys.readouterr().err
