"""Start-up of the command line: what it imports, and JAX's persistent compilation cache.

No timings here (docs/benchmarks.md, "Start-up of the command line", has them): the tests
check the causes of a fast start, in fresh processes. ``scmkit compare --list`` and a
Fisher-z ``scmkit discover`` import neither JAX nor scikit-learn, and give the answers the
JAX kernels give; a command that compiles keeps its kernels in the cache, and a second
process loads them instead of compiling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from discovery.evaluation._compare import CAPABILITIES, capability_of
from discovery.evaluation._suite import DEFAULT_ALGORITHMS, default_algorithms
from scm import PDAG, simulate
from scmkit.cli import COMPILE_CACHE_SETTINGS, compile_cache_dir, compile_cache_environment, main

# Runs scmkit's main in a fresh interpreter, then reports which heavy modules it imported and the
# persistent-cache hits and misses JAX logged (its compiler's DEBUG records).
PROBE = textwrap.dedent(
    """
    import json, logging, sys

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    log = logging.getLogger("jax._src.compiler")
    log.setLevel(logging.DEBUG)
    log.addHandler(Keep())
    log.propagate = False
    from scmkit import main

    rc = main(sys.argv[1:])
    print(json.dumps({
        "rc": rc,
        "modules": [m for m in ("jax", "sklearn", "scipy.stats", "matplotlib") if m in sys.modules],
        "hits": sum("Persistent compilation cache hit" in m for m in records),
        "misses": sum("PERSISTENT COMPILATION CACHE MISS" in m for m in records),
    }), file=sys.stderr)
    """
)


def _probe(args, tmp_path, **env):
    environ = {**os.environ, **env}
    proc = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path, env=environ)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr
    report = json.loads(lines[-1])
    assert report["rc"] == 0, proc.stderr
    return report, proc.stdout


@pytest.fixture(scope="module")
def linear_csv(tmp_path_factory):
    """The start-up benchmark's data: linear Gaussian, 10 variables, 1000 rows."""
    ds = simulate.simulate(n_nodes=10, n_samples=1000, expected_degree=2, scm_kind="linear", random_state=0)
    path = tmp_path_factory.mktemp("startup") / "data.csv"
    ds.data.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------ what is imported
def test_compare_list_imports_neither_jax_nor_scikit_learn(tmp_path):
    report, out = _probe(["compare", "--list"], tmp_path)
    assert report["modules"] == [], report
    assert "pc-fisherz" in out and "timeseries-5" in out


def test_fisherz_discover_imports_no_jax_and_finds_the_kernels_graph(linear_csv, tmp_path, monkeypatch):
    """The whole PC search runs on the host path of Fisher-z; the graph is the one the JAX kernel gives."""
    report, _ = _probe(["discover", linear_csv, "--method", "pc", "-o", tmp_path / "g.json"], tmp_path)
    assert "jax" not in report["modules"] and "sklearn" not in report["modules"], report
    from discovery import PC
    from discovery.citest import _citest

    monkeypatch.setattr(_citest, "_FISHERZ_HOST_MAX", 0)  # every batch through the jitted kernel
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_MAX_COND", -1)
    monkeypatch.setattr(_citest, "_FISHERZ_HOST_CELLS", 0)
    kernel = PC(ci_test="fisherz").fit(pd.read_csv(linear_csv)).graph_
    cli = PDAG.from_dict(json.loads((tmp_path / "g.json").read_text()))
    assert len(cli.edges()) > 5
    assert cli == kernel


def test_the_listed_suite_is_the_suite():
    """--list shows DEFAULT_ALGORITHMS without building the estimators: it must be what default_algorithms builds."""
    built = default_algorithms()
    assert list(built) == list(DEFAULT_ALGORITHMS)
    for name, (cls, params) in DEFAULT_ALGORITHMS.items():
        est = built[name]
        assert type(est).__name__ == cls
        assert {k: est.get_params()[k] for k in params} == params
        assert capability_of(est) == CAPABILITIES[cls]


def test_compare_list_shows_each_algorithm_with_its_parameters(capsys):
    assert main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    assert "  vidpdag              VIDPDAG(max_iter=2000, patience=5)  [multi_environment, nonstationary, observational]" in out
    assert "PC(ci_test='kci')" in out and "only on mlp-er8" in out


# ------------------------------------------------------------------------------ the compilation cache
def test_compile_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compile_cache_dir() == tmp_path / "scmkit" / "jax"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # ignored, as the XDG specification says
    assert compile_cache_dir() == compile_cache_dir().home() / ".cache" / "scmkit" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert compile_cache_dir().parent.parent.name == ".cache"


def test_compile_cache_environment_options(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for value in ("", "0"):
        monkeypatch.setenv("SCMKIT_NO_COMPILE_CACHE", value)
        env = compile_cache_environment()
        assert env == {"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "scmkit" / "jax"), **COMPILE_CACHE_SETTINGS}
        assert compile_cache_environment(disabled=True) == {}
    monkeypatch.setenv("SCMKIT_NO_COMPILE_CACHE", "1")
    assert compile_cache_environment() == {}
    monkeypatch.setenv("SCMKIT_NO_COMPILE_CACHE", "0")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))  # the user's setting wins
    assert "JAX_COMPILATION_CACHE_DIR" not in compile_cache_environment()


def test_main_leaves_the_environment_as_it_found_it(monkeypatch, tmp_path):
    monkeypatch.setenv("SCMKIT_NO_COMPILE_CACHE", "0")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delitem(sys.modules, "jax", raising=False)  # as in a fresh process: main sets the variables
    before = dict(os.environ)
    assert main(["compare", "--list"]) == 0
    assert dict(os.environ) == before
    assert not (tmp_path / "scmkit").exists()  # --list compiles nothing


def _kci_csv(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=700)
    b = np.tanh(a) + 0.3 * rng.normal(size=700)
    c = b**2 + 0.3 * rng.normal(size=700)
    path = tmp_path / "kci.csv"
    pd.DataFrame({"a": a, "b": b, "c": c}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_a_second_process_loads_the_kci_kernels_from_the_cache(tmp_path):
    path = _kci_csv(tmp_path)
    args = ["discover", path, "--method", "pc", "--ci-test", "kci", "-o", tmp_path / "g.json"]
    xdg = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "SCMKIT_NO_COMPILE_CACHE": "0"}
    cold, _ = _probe(args, tmp_path, **xdg)
    entries = sorted((tmp_path / "xdg" / "scmkit" / "jax").iterdir())
    assert cold["hits"] == 0 and cold["misses"] >= 2 and len(entries) == cold["misses"], cold
    assert any("kci" in e.name for e in entries)
    first = (tmp_path / "g.json").read_text()
    warm, _ = _probe(args, tmp_path, **xdg)
    assert warm["misses"] == 0 and warm["hits"] == cold["misses"], warm  # nothing compiled
    assert (tmp_path / "g.json").read_text() == first
    off, _ = _probe(["--no-compile-cache", *args], tmp_path, XDG_CACHE_HOME=str(tmp_path / "off"), SCMKIT_NO_COMPILE_CACHE="0")
    assert off["hits"] == 0 and not (tmp_path / "off").exists()
    env_off, _ = _probe(args, tmp_path, XDG_CACHE_HOME=str(tmp_path / "off"), SCMKIT_NO_COMPILE_CACHE="1")
    assert env_off["hits"] == 0 and not (tmp_path / "off").exists()
