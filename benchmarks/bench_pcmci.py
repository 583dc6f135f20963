"""PCMCI with partial correlation: scmkit against tigramite on identical data.

Usage::

    python benchmarks/bench_pcmci.py                 # N = 20 and N = 50, tau_max = 5, T = 2000
    python benchmarks/bench_pcmci.py --sizes 20      # only N = 20
    python benchmarks/bench_pcmci.py --accuracy      # precision / recall table of docs/time_series.md
    python benchmarks/bench_pcmci.py --sizes 100 --tau-max 3   # the N = 100 row (tigramite: minutes)
    python benchmarks/bench_pcmci.py --quick         # N = 10, tau_max = 3, T = 500 (seconds)

Both libraries run with ``OPENBLAS_NUM_THREADS=1`` (set below, before numpy is imported;
numpy's BLAS on 2 threads is much slower for these small matrices). Each measurement is
one fresh ``fit`` / ``run_pcmci`` in a fresh subprocess, so scmkit's time includes JAX start-up
and compilation. The script checks that both find the same links and reports the largest
difference of the p-value and statistic matrices. It prints a Markdown table (this is a
script, not library code).
"""

from __future__ import annotations

import os

from _common import add_repo_to_path, pin_blas_threads

pin_blas_threads("1", ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"))  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = str(add_repo_to_path())  # for the children too, through PYTHONPATH


def _data(n_series: int, tau_max: int, n_timepoints: int, seed: int):
    import scm

    ds = scm.simulate.time_series(
        n_series=n_series, n_timepoints=n_timepoints, max_lag=tau_max, contemporaneous=False,
        n_links=n_series, random_state=seed,
    )
    return ds


def _run(which: str, n_series: int, tau_max: int, n_timepoints: int, seed: int, out: str) -> None:
    """Child process: time one fit and save the matrices."""
    import numpy as np

    ds = _data(n_series, tau_max, n_timepoints, seed)
    values, names = ds.data.to_numpy(), list(ds.data.columns)
    start = time.perf_counter()
    if which == "scmkit":
        from discovery import PCMCI

        model = PCMCI(tau_max=tau_max, pc_alpha=0.2, alpha=0.05).fit(ds.data)
        p, v = model.p_matrix_, model.val_matrix_
    else:
        from tigramite import data_processing as pp
        from tigramite.independence_tests.parcorr import ParCorr
        from tigramite.pcmci import PCMCI as TPCMCI

        res = TPCMCI(pp.DataFrame(values, var_names=names), cond_ind_test=ParCorr()).run_pcmci(
            tau_min=1, tau_max=tau_max, pc_alpha=0.2, alpha_level=0.05
        )
        p, v = res["p_matrix"], res["val_matrix"]
    seconds = time.perf_counter() - start
    np.savez(out, p=p, v=v, seconds=seconds)


def _measure(which, n, tau_max, T, seed, tmp):
    out = os.path.join(tmp, f"{which}_{n}.npz")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, __file__, "--child", which, "--n", str(n), "--tau-max", str(tau_max), "--T", str(T),
           "--seed", str(seed), "--out", out]
    wall = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - wall
    import numpy as np

    d = np.load(out)
    return float(d["seconds"]), wall, d["p"], d["v"]


def accuracy(seeds: int = 10) -> str:
    """Precision and recall of PCMCI / PCMCI+ on simulated linear VAR processes (Markdown table).

    Truth: ``scm.simulate.time_series`` with ``max_lag=3``, ``n_links=N`` cross links plus
    lag-1 autodependence of every series. PCMCI runs on processes without contemporaneous
    links (``tau_max=3, pc_alpha=0.2, alpha=0.05``), PCMCI+ on processes with them
    (``tau_max=3, alpha=0.01``; contemporaneous adjacencies scored ignoring orientation);
    "PCMCI fdr=bh" keeps a link when its Benjamini-Hochberg q-value is at most 0.05.
    """
    import numpy as np

    from discovery import PCMCI, PCMCIPlus

    def pr(est, true):
        tp = len(est & true)
        return (tp / len(est) if est else 1.0), (tp / len(true) if true else 1.0)

    lines = [
        "| method | N | T | lagged precision | lagged recall | contemp. adjacency precision | contemp. adjacency recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in ("PCMCI", "PCMCI fdr=bh", "PCMCI+"):
        for n in (5, 10):
            for T in (200, 500, 1000):
                lp, lr, cp, cr = [], [], [], []
                for seed in range(seeds):
                    ds = scm_time_series(n, T, contemporaneous=method == "PCMCI+", seed=seed)
                    links = ds.metadata["links"]
                    true_lag = {(r.source, r.target, r.lag) for r in links.itertuples() if r.lag > 0}
                    true_con = {frozenset((r.source, r.target)) for r in links.itertuples() if r.lag == 0}
                    if method.startswith("PCMCI "):
                        g = PCMCI(tau_max=3, pc_alpha=0.2, alpha=0.05, fdr="bh").fit(ds.data).graph_
                    elif method == "PCMCI":
                        g = PCMCI(tau_max=3, pc_alpha=0.2, alpha=0.05).fit(ds.data).graph_
                    else:
                        g = PCMCIPlus(tau_max=3, alpha=0.01).fit(ds.data).graph_
                    p, r = pr(set(g.lagged_links), true_lag)
                    lp.append(p)
                    lr.append(r)
                    if method == "PCMCI+":
                        est_con = {frozenset(e) for e in g.contemporaneous_edges} | set(g.conflicting_edges)
                        p, r = pr(est_con, true_con)
                        cp.append(p)
                        cr.append(r)
                fmt = lambda v: f"{np.mean(v):.2f} +/- {np.std(v):.2f}" if v else "-"  # noqa: E731
                lines.append(f"| {method} | {n} | {T} | {fmt(lp)} | {fmt(lr)} | {fmt(cp)} | {fmt(cr)} |")
    return "\n".join(lines) + "\n"


def scm_time_series(n, T, *, contemporaneous, seed):
    import scm

    return scm.simulate.time_series(
        n_series=n, n_timepoints=T, max_lag=3, contemporaneous=contemporaneous, n_links=n, random_state=seed
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--tau-max", type=int, default=5)
    parser.add_argument("--T", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", choices=["scmkit", "tigramite"])
    parser.add_argument("--n", type=int)
    parser.add_argument("--out")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--accuracy", action="store_true", help="print the precision / recall table instead")
    parser.add_argument("--quick", action="store_true", help="N = 10, tau_max = 3, T = 500")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.tau_max, args.T = [10], 3, 500
    if args.accuracy:
        sys.stdout.write(accuracy())
        return
    if args.child:
        _run(args.child, args.n, args.tau_max, args.T, args.seed, args.out)
        return
    import tempfile

    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            t_s, t_t = [], []
            load = [os.getloadavg()[0]]
            for _ in range(args.repeats):
                s_fit, s_wall, ps, vs = _measure("scmkit", n, args.tau_max, args.T, args.seed, tmp)
                g_fit, g_wall, pt, vt = _measure("tigramite", n, args.tau_max, args.T, args.seed, tmp)
                t_s.append(s_fit)
                t_t.append(g_fit)
                load.append(os.getloadavg()[0])
            same = bool(np.array_equal(ps[:, :, 1:] <= 0.05, pt[:, :, 1:] <= 0.05))
            n_links = int((ps[:, :, 1:] <= 0.05).sum())
            rows.append({
                "N": n, "tau_max": args.tau_max, "T": args.T,
                "scmkit_s": min(t_s), "tigramite_s": min(t_t), "speedup": min(t_t) / min(t_s),
                "same_links": same, "n_links": n_links,
                "max_dp": float(np.max(np.abs(ps - pt))), "max_dval": float(np.max(np.abs(vs - vt))),
                "load_average": load,
            })
    lines = [
        "| N | tau_max | T | scmkit (s, incl. JIT) | tigramite (s) | speed-up | same links | links | max abs diff p / val | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['N']} | {r['tau_max']} | {r['T']} | {r['scmkit_s']:.2f} | {r['tigramite_s']:.2f} | "
            f"{r['speedup']:.1f}x | {'yes' if r['same_links'] else 'NO'} | {r['n_links']} | "
            f"{r['max_dp']:.1e} / {r['max_dval']:.1e} | {min(r['load_average']):.1f}-{max(r['load_average']):.1f} |"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
