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
