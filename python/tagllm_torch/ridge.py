"""Ridge regression on a standardized design, as src/runtime/train/ridge.ts: columns centred and
scaled by their training mean and std, the target centred, λ chosen on validation MSE. Used for
the head's warm start and the linear-probe baselines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

DEFAULT_LAMBDAS: tuple[float, ...] = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


@dataclass(frozen=True)
class Ridge:
    lam: float
    mean: np.ndarray
    inv_std: np.ndarray
    weights: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + ((np.asarray(x, np.float64) - self.mean) * self.inv_std) @ self.weights

    def as_linear(self) -> tuple[np.ndarray, float]:
        """The same model as weights and intercept on the raw features."""
        w = self.weights * self.inv_std
        return w, float(self.intercept - w @ self.mean)


def fit_path(x: np.ndarray, y: np.ndarray, lambdas: Sequence[float]) -> list[Ridge]:
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    n, d = x.shape
    mean = x.mean(0)
    std = np.sqrt(((x - mean) ** 2).mean(0))
    inv_std = np.where(std > 1e-12, 1 / np.where(std > 1e-12, std, 1), 0.0)
    xs = (x - mean) * inv_std
    y_mean = float(y.mean())
    yc = y - y_mean
    dual = d > n
    gram = xs @ xs.T if dual else xs.T @ xs
    rhs = yc if dual else xs.T @ yc
    out = []
    for lam in lambdas:
        z = np.linalg.solve(gram + lam * np.eye(gram.shape[0]), rhs)
        out.append(Ridge(lam, mean, inv_std, xs.T @ z if dual else z, y_mean))
    return out


def fit_validated(train_x: np.ndarray, train_y: np.ndarray, valid_x: np.ndarray, valid_y: np.ndarray, lambdas: Sequence[float] = DEFAULT_LAMBDAS) -> Ridge:
    best, best_mse = None, np.inf
    for model in fit_path(train_x, train_y, lambdas):
        mse = float(np.mean((model.predict(valid_x) - np.asarray(valid_y)) ** 2))
        if mse < best_mse:
            best, best_mse = model, mse
    assert best is not None
    return best
