"""The scmkit command line: compare, discover, and one-line errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from discovery._cli import main
from scm import PDAG, simulate


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
def test_discover_bad_input_is_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    proc = subprocess.run(
        [sys.executable, "-m", "discovery._cli", "discover", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0] and "bad.csv" in lines[0]
