"""Predictions of a bundle's function tags in PyTorch, as `tagllm predict` computes them
(src/runtime/predict.ts): the tag's own template, the head on the mean readout, mapped back to
the target's units."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch

from .bundle import Bundle
from .expand import batch_inputs, expand_input
from .model import FrozenModel
from .objectives import readout
from .template import parse_template


def predict(model: FrozenModel, bundles: Sequence[Bundle], function_tag: str, inputs: Sequence[Mapping[str, str]]) -> np.ndarray:
    """One value per input, in the units tagbundle.json records for the tag's first output: a
    classification tag's (format 3, `task: "classification"`) head gives a logit, read as a probability."""
    values = {name: v for b in bundles for name, v in b.values.items()}
    owner = next(b for b in bundles if function_tag in b.heads)
    info = owner.meta["tags"][function_tag]
    template = parse_template(info["template"])
    tags = {t: torch.tensor(values[t], device=model.embedding.device) for t in template.tags}
    p = {t: int(v.shape[0]) for t, v in tags.items()}
    head = owner.heads[function_tag]
    out = []
    with torch.no_grad():
        for values_row in inputs:
            row = expand_input(template, values_row, model, p, function_tag)
            h = readout(model, batch_inputs([row], model.embedding, tags)).double().cpu().numpy()[0]
            out.append(float(head.weight.astype(np.float64)[0] @ h + head.bias[0]))
    scale = info["outputs"][0]
    values = np.array(out) * scale["targetStd"] + scale["targetMean"]
    return 1 / (1 + np.exp(-values)) if info.get("task") == "classification" else values
