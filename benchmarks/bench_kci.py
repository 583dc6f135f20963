"""Exact KCI at n = 1000: scmkit vs causal-learn, seconds per test.

Both run with ``OPENBLAS_NUM_THREADS=1`` (set before numpy is imported): numpy's
BLAS on 2 threads is much slower for these matrix sizes. scmkit is timed twice
for each ``|S|``: the first call includes JIT compilation, the second (same shapes,
other queries) does not.

Run: ``python benchmarks/bench_kci.py [n] [queries_per_level]``.
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causallearn.utils.cit import CIT  # noqa: E402

from discovery.citest import KCI  # noqa: E402


def main(n: int = 1000, per_level: int = 4) -> None:
    rng = np.random.default_rng(0)
    p = 8
    data = rng.normal(size=(n, p))
    data[:, 1] += np.sin(2 * data[:, 0])
    data[:, 2] += 0.5 * data[:, 1] ** 2
    pairs = [(i, j) for i in range(p) for j in range(i + 1, p)]
    print(f"exact KCI, n = {n}, {per_level} tests per batch, OPENBLAS_NUM_THREADS=1")
    print(f"{'|S|':>3} {'causal-learn':>13} {'scmkit+jit':>11} {'scmkit':>9} {'ratio':>7} {'max|dp|':>9}")
    for k in (0, 1, 2):
        def batch(offset):
            out = []
            for i, j in pairs[offset:]:
                s = [v for v in range(p) if v not in (i, j)][offset % 3 : offset % 3 + k]
                out.append((i, j, s))
                if len(out) == per_level:
                    return out
        first, second = batch(0), batch(per_level)
        test = KCI(data)
        t0 = time.perf_counter()
        test.pvalues(first)
        t_jit = (time.perf_counter() - t0) / per_level
        t0 = time.perf_counter()
        mine = test.pvalues(second)
        t_run = (time.perf_counter() - t0) / per_level
        cl = CIT(data, "kci")
        t0 = time.perf_counter()
        ref = np.array([cl(x, y, s) for x, y, s in second])
        t_cl = (time.perf_counter() - t0) / per_level
        print(f"{k:>3} {t_cl:>12.3f}s {t_jit:>10.3f}s {t_run:>8.3f}s {t_cl / t_run:>6.1f}x {np.abs(mine - ref).max():>9.1e}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
