"""Multiply robust estimation of causal change attributions (Quintas-Martínez et al., ICML 2024).

The target's distribution is factored along a topological order of the target and its ancestors,
``P(X_1) P(X_2 | X_1) ... P(Y | X_1..X_K)``. A *change vector* ``C`` in ``{0, 1}^(K+1)`` picks each
factor from the old (0) or the new (1) data; ``theta(C)`` is the mean of ``h(Y)`` under that mix.
Consecutive factors from the same side merge into one block (their product is a conditional of the
same distribution), so a vector with ``G`` blocks needs ``G - 1`` nested regressions and density
ratios.

With blocks ending at ``b_1 < ... < b_G = K + 1`` from sides ``c_1..c_G``:

- nested regressions: ``gamma_G = h(Y)``; ``gamma_{g-1}(x_<b_{g-1}) = E^{c_g}[gamma_g | x_<b_{g-1}]``
  (least squares on the rows of side ``c_g``; linear in ``x`` for the mean, with the squares and
  pairwise products of ``x`` as well for the variance, whose second moments are quadratic in the
  parents even in a linear SCM: with linear features alone the estimate is biased);
- density ratios: ``R_b(x_<b) = P^1(x_<b) / P^0(x_<b)``, from a logistic classifier of the side on
  the first ``b`` variables (odds times ``n0 / n1``); the weight that turns side ``c_{g+1}``'s
  distribution of ``x_<b_g`` into the mix is ``alpha_g = prod_{j <= g, c_j = 1} (R_{b_j} /
  R_{b_{j-1}}) / R_{b_g}^{c_{g+1}}``, normalised to mean one;
- the multiply robust estimate: ``mean_{c_1}[gamma_1] + sum_g mean_{c_{g+1}}[alpha_g (gamma_{g+1} -
  gamma_g)]``, consistent when, block by block, either the regression or the weight is right.

Nuisances are fitted on ``n_folds - 1`` folds and evaluated on the held-out fold (cross-fitting);
the estimates of the folds are averaged. The classifiers depend only on the prefix length and are
fitted once per fold; the regressions are cached by the part of the change vector they depend on.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from scm import DataError

from ._shapley import shapley_values

__all__ = ["robust_change_attribution"]

_CROP = 1e-3  # classifier probabilities are kept in [_CROP, 1 - _CROP]


def _design(X: np.ndarray, quadratic: bool) -> np.ndarray:
    """``[1, X]``, and with ``quadratic`` the squares and pairwise products of the columns too."""
    cols = [np.ones(len(X)), X]
    if quadratic and X.shape[1]:
        i, j = np.triu_indices(X.shape[1])
        cols.append(X[:, i] * X[:, j])
    return np.column_stack(cols)


def _lstsq(X: np.ndarray, y: np.ndarray, quadratic: bool) -> np.ndarray:
    return np.linalg.lstsq(_design(X, quadratic), y, rcond=None)[0]


def _predict(coef: np.ndarray, X: np.ndarray, quadratic: bool) -> np.ndarray:
    return _design(X, quadratic) @ coef


class _Fold:
    """The nuisances of one fold: classifiers per prefix length, and cached nested regressions."""

    def __init__(self, X_tr, y_tr, T_tr, X_ev, y_ev, T_ev, h, quadratic: bool):
        from sklearn.linear_model import LogisticRegression

        self.quadratic = quadratic
        self.X_tr, self.T_tr, self.X_ev, self.T_ev = X_tr, T_tr, X_ev, T_ev
        self.h_tr, self.h_ev = h(y_tr), h(y_ev)
        K = X_tr.shape[1]
        n0, n1 = float(np.sum(T_tr == 0)), float(np.sum(T_tr == 1))
        self.logR = np.zeros((K + 1, len(X_ev)))  # log R_b on the evaluation rows, b = 0..K
        scale = X_tr.std(axis=0)
        scale[scale == 0] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for b in range(1, K + 1):
                clf = LogisticRegression(max_iter=1000)
                clf.fit(X_tr[:, :b] / scale[:b], T_tr)
                prob = np.clip(clf.predict_proba(X_ev[:, :b] / scale[:b])[:, 1], _CROP, 1 - _CROP)
                self.logR[b] = np.log(prob / (1 - prob)) + np.log(n0 / n1)
        self._reg: dict = {}

    def _gamma(self, start: int, sides: tuple, blocks: list):
        """Coefficients of ``gamma`` for the block structure that starts at variable ``start`` (cached)."""
        key = (start, sides)
        if key not in self._reg:
            # blocks: [(side, begin, end)] from the block after ``start`` on; the regression of the next
            # block's gamma (or h(Y)) on x_<start, fitted on the rows of the next block's side
            side, _, end = blocks[0]
            rows = self.T_tr == side
            if end == self.X_tr.shape[1] + 1:  # the next block holds Y
                target = self.h_tr[rows]
            else:
                nxt = self._gamma(end, sides[end - start :], blocks[1:])
                target = _predict(nxt, self.X_tr[rows][:, :end], self.quadratic)
            self._reg[key] = _lstsq(self.X_tr[rows][:, :start], target, self.quadratic)
        return self._reg[key]

    def theta(self, C: np.ndarray) -> float:
        K = self.X_ev.shape[1]
        # blocks of consecutive equal sides: (side, begin, end) over variables 0..K (K is Y)
        blocks, begin = [], 0
        for j in range(1, K + 2):
            if j == K + 1 or C[j] != C[begin]:
                blocks.append((int(C[begin]), begin, j))
                begin = j
        ev = [self.T_ev == side for side, _, _ in blocks]
        if len(blocks) == 1:
            return float(self.h_ev[ev[0]].mean())
        sides = tuple(int(c) for c in C)
        gammas = []  # gamma_g on all evaluation rows, g = 1..G-1 (a function of x_<end of block g)
        for g in range(len(blocks) - 1):
            end = blocks[g][2]
            coef = self._gamma(end, sides[end:], blocks[g + 1 :])
            gammas.append(_predict(coef, self.X_ev[:, :end], self.quadratic))
        theta = gammas[0][ev[0]].mean()
        log_alpha = np.zeros(len(self.X_ev))
        for g in range(len(blocks) - 1):
            side, b_lo, b_hi = blocks[g]
            if side == 1:
                log_alpha = log_alpha + self.logR[b_hi] - self.logR[b_lo]
            nxt_side = blocks[g + 1][0]
            w = np.exp(log_alpha - nxt_side * self.logR[b_hi])[ev[g + 1]]
            w = w / w.mean()
            nxt = self.h_ev[ev[g + 1]] if g == len(blocks) - 2 else gammas[g + 1][ev[g + 1]]
            theta += float(np.mean(w * (nxt - gammas[g][ev[g + 1]])))
        return float(theta)


def robust_change_attribution(
    old: pd.DataFrame, new: pd.DataFrame, players: list, *, measure: str, n_folds: int, shapley: str, n_permutations, rng, owner: str
):
    """Shapley values over the factors of the change in ``measure`` of the last player, and their sampling error."""
    from sklearn.model_selection import StratifiedKFold

    X = np.vstack([old[players[:-1]].to_numpy(dtype=float), new[players[:-1]].to_numpy(dtype=float)])
    y = np.concatenate([old[players[-1]].to_numpy(dtype=float), new[players[-1]].to_numpy(dtype=float)])
    T = np.concatenate([np.zeros(len(old), dtype=int), np.ones(len(new), dtype=int)])
    if min(len(old), len(new)) < 2 * n_folds:
        raise DataError(f"{owner}: method='robust' with n_folds={n_folds} needs at least {2 * n_folds} rows in each data set")
    seed = int(rng.integers(0, 2**31 - 1))
    folds = []
    for tr, ev in StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X, T):
        hs = [lambda v: v] if measure == "mean" else [lambda v: v, np.square]
        folds.append([_Fold(X[tr], y[tr], T[tr], X[ev], y[ev], T[ev], h, measure == "variance") for h in hs])
    p = len(players)

    def theta(C):
        per_fold = []
        for fs in folds:
            if measure == "mean":
                per_fold.append(fs[0].theta(C))
            else:
                m1, m2 = fs[0].theta(C), fs[1].theta(C)
                per_fold.append(m2 - m1 * m1)
        return float(np.mean(per_fold))

    base = theta(np.zeros(p, dtype=int))

    def value_fn(masks):
        return np.array([theta(m.astype(int)) - base for m in masks])

    est = shapley_values(value_fn, p, method=shapley, n_permutations=n_permutations, random_state=rng, owner=owner)
    return est.values, np.nan_to_num(est.std_err)
