"""Starting values of new tags and heads, as src/runtime/tags/init.ts and head.ts."""

from __future__ import annotations

import numpy as np
import torch


def mean_embedding_row(embedding: torch.Tensor) -> np.ndarray:
    """The mean embedding row, summed in float64."""
    return embedding.detach().to("cpu", torch.float64).mean(0).numpy()


def init_tag_value(embedding: torch.Tensor, p: int) -> np.ndarray:
    """p copies of the mean embedding row rescaled to the mean row norm: a typical token's size, like none of them."""
    if p < 1:
        raise ValueError(f"a tag needs p >= 1 vectors, got {p}")
    table = embedding.detach().to("cpu", torch.float64)
    mean = table.mean(0)
    mean_norm = float(mean.norm())
    if not mean_norm > 0:
        raise ValueError("the embedding rows average to the zero vector; cannot initialise a tag from them")
    scale = float(table.norm(dim=1).mean()) / mean_norm
    row = (mean * scale).to(torch.float32).numpy()
    return np.tile(row, (p, 1))


def init_head_weight(embedding: torch.Tensor, outputs: int) -> np.ndarray:
    """Every head row starts at the (unscaled) mean embedding row; the bias starts at zero."""
    return np.tile(mean_embedding_row(embedding).astype(np.float32), (outputs, 1))


def target_scale(values: np.ndarray) -> tuple[float, float]:
    """Mean and population std of the training targets; a constant column gets std 1."""
    mean = float(np.mean(values))
    std = float(np.sqrt(np.mean((np.asarray(values, np.float64) - mean) ** 2)))
    return mean, std if std > 0 else 1.0
