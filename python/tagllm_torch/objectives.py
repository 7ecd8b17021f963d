"""The two losses of src/runtime/train/lossGraphs.ts on a PyTorch model: regression through a
linear head read over the function tag's vectors (mean over them), and next-token NLL after
the domain tag. Each returns a differentiable scalar; gradients reach the tags through
``inputs_embeds`` and the head directly."""

from __future__ import annotations

import contextlib

import torch

from .expand import Batch, next_token_targets, read_weights
from .model import FrozenModel


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast of the frozen model's matmuls; tags, head and losses stay float32."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def readout(model: FrozenModel, batch: Batch, bf16: bool = False) -> torch.Tensor:
    """[batch, hidden]: the mean of the final hidden states over each row's read tag."""
    with autocast(batch.inputs_embeds.device, bf16):
        hidden = model.hidden(batch.inputs_embeds, batch.attention_mask)
    return torch.bmm(read_weights(batch).unsqueeze(1), hidden.float()).squeeze(1)


def regression_loss(model: FrozenModel, batch: Batch, targets: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, bf16: bool = False) -> torch.Tensor:
    """Mean over the batch of (h W^T + b - target)^2, standardized units."""
    prediction = readout(model, batch, bf16) @ weight.T + bias
    return ((prediction - targets.reshape(prediction.shape)) ** 2).mean()


def next_token_nll(model: FrozenModel, batch: Batch, bf16: bool = False) -> tuple[torch.Tensor, int]:
    """Mean NLL over the target tokens, and their count."""
    targets = next_token_targets(batch)
    with autocast(batch.inputs_embeds.device, bf16):
        hidden = model.hidden(batch.inputs_embeds, batch.attention_mask)
        logits = model.logits(hidden)
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    weights = (targets >= 0).to(log_probs.dtype)
    picked = log_probs.gather(2, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    count = int(weights.sum().item())
    return -(picked * weights).sum() / weights.sum(), count
