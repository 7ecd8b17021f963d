"""Regression metrics with the keys `tagllm train` prints (src/runtime/train/metrics.ts)."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    da, db = a - a.mean(), b - b.mean()
    return float((da * db).sum() / math.sqrt((da * da).sum() * (db * db).sum()))


def _average_ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and v[order[end]] == v[order[start]]:
            end += 1
        ranks[order[start:end]] = (start + 1 + end) / 2
        start = end
    return ranks


def concordance_index(y: np.ndarray, pred: np.ndarray) -> float:
    """Over pairs with different labels, the share ordered alike by the predictions (ties one half)."""
    dy = np.sign(y[:, None] - y[None, :])
    dp = np.sign(pred[:, None] - pred[None, :])
    pairs = dy > 0
    total = int(pairs.sum())
    if total == 0:
        return math.nan
    return float(((dp[pairs] > 0).sum() + 0.5 * (dp[pairs] == 0).sum()) / total)


def regression_metrics(y: Sequence[float], pred: Sequence[float], with_ci: bool = False) -> dict[str, Optional[float]]:
    """JSON has no NaN: an undefined correlation is None, as in the TS report."""
    y_a, p_a = np.asarray(y, np.float64), np.asarray(pred, np.float64)
    mse = float(np.mean((y_a - p_a) ** 2))
    out = {"mse": mse, "rmse": math.sqrt(mse), "mae": float(np.mean(np.abs(y_a - p_a))), "pearson": _pearson(y_a, p_a), "spearman": _pearson(_average_ranks(y_a), _average_ranks(p_a))}
    if with_ci:
        out["ci"] = concordance_index(y_a, p_a)
    return {k: (v if math.isfinite(v) else None) for k, v in out.items()}
