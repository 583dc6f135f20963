"""Exact KCI: scmkit vs causal-learn, seconds per test.

Both run in this one process with ``OPENBLAS_NUM_THREADS=1`` (set before numpy is
imported): numpy's BLAS on 2 threads is much slower for these matrix sizes.

For each ``n`` and ``|S|`` a batch of ``per_level`` queries ``(x, y, S)`` (distinct
pairs, so distinct ``(x, S)``) is timed:

* ``scmkit+jit``: the first call on a fresh ``KCI`` (JIT compilation of the batch
  kernel for these shapes, the pivoted-Cholesky factors and the tests);
* ``scmkit``: the same batch on another fresh ``KCI`` (factors recomputed, the
  compiled program reused);
* ``dense``: ``KCI(approximation="dense")``, the former n x n path (compiled);
* ``causal-learn``: ``CIT(data, "kci")`` on the same queries.

``max|dp|`` columns: the largest p-value difference of scmkit to causal-learn and
to the dense path.

``compiles``: the XLA programs the first call compiled (``jax.monitoring``'s
backend-compile events): unconditional tests compile nothing, and the conditional ones
reuse one X-kernel program for every ``|S|`` and one group program per rank bucket.

Run: ``python benchmarks/bench_kci.py [--n 1000 2000] [--per-level 4]``; ``--quick``:
``n = 500``.
"""

from __future__ import annotations

import os

from _common import add_repo_to_path, machine_description, pin_blas_threads

pin_blas_threads("1", ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))  # before numpy is imported
add_repo_to_path()

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from causallearn.utils.cit import CIT  # noqa: E402

from discovery.citest import KCI  # noqa: E402


def make_data(n: int, p: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, p))
    data[:, 1] += np.sin(2 * data[:, 0])
    data[:, 2] += 0.5 * data[:, 1] ** 2
    data[:, 3] += np.tanh(data[:, 2])
    return data


def queries(p: int, k: int, count: int) -> list:
    pairs = [(i, j) for i in range(p) for j in range(i + 1, p)]
    out = []
    for t, (i, j) in enumerate(pairs):
        rest = [v for v in range(p) if v not in (i, j)]
        out.append((i, j, rest[t % 3 : t % 3 + k]))
        if len(out) == count:
            break
    return out


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 2000])
    parser.add_argument("--per-level", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="n = 500 only")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = [500]
    import jax
    import jax.monitoring

    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, duration, **_: compiles.append(duration) if event == "/jax/core/compile/backend_compile_duration" else None
    )
    jax.numpy.zeros(1).block_until_ready()  # backend start-up, not compilation
    print(f"exact KCI, {args.per_level} tests per batch, OPENBLAS_NUM_THREADS=1; load average {os.getloadavg()}")
    info = machine_description(("jax",))
    print(f"python {info['python']}, numpy {info['numpy']}, jax {info['jax']}, nproc {info['nproc']}")
    header = (f"{'n':>5} {'|S|':>3} {'causal-learn':>13} {'scmkit+jit':>11} {'scmkit':>9} {'dense':>9} "
              f"{'ratio+jit':>9} {'ratio':>7} {'max|dp| cl':>10} {'max|dp| dense':>13} {'compiles':>8} {'load':>5}")
    print(header)
    for n in args.n:
        data = make_data(n)
        for k in (0, 1, 2):
            batch = queries(data.shape[1], k, args.per_level)
            m = len(batch)
            before = len(compiles)
            t_jit, _ = timed(lambda: KCI(data).pvalues(batch))
            n_compiles = len(compiles) - before
            t_run, mine = timed(lambda: KCI(data).pvalues(batch))
            dense_test = KCI(data, approximation="dense")
            dense_test.pvalues(batch)  # compile
            t_dense, dense = timed(lambda: KCI(data, approximation="dense").pvalues(batch))
            cl = CIT(data, "kci")
            t_cl, ref = timed(lambda: np.array([cl(x, y, s) for x, y, s in batch]))
            print(
                f"{n:>5} {k:>3} {t_cl / m:>12.3f}s {t_jit / m:>10.3f}s {t_run / m:>8.4f}s {t_dense / m:>8.3f}s "
                f"{t_cl / t_jit:>8.1f}x {t_cl / t_run:>6.1f}x {np.abs(mine - ref).max():>10.1e} "
                f"{np.abs(mine - dense).max():>13.1e} {n_compiles:>8} {os.getloadavg()[0]:>5.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
