"""Tagged inputs, as src/runtime/tags/expand.ts builds them: BOS (when the model wants it),
each text run's token ids, and each tag's p vectors spliced into ``inputs_embeds`` where its
placeholder stood. Rows of a batch are right-padded with zero vectors, so every real position
keeps its place (and rotary position) and, under the causal mask, sees no padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import torch

from .model import FrozenModel
from .template import Tag, Template, fill_template


@dataclass(frozen=True)
class TagSpan:
    tag: str
    start: int
    length: int


@dataclass(frozen=True)
class Expanded:
    """One input: token ids (-1 where a tag vector stands), its tag spans and where a head reads."""

    token_ids: tuple[int, ...]
    tag_spans: tuple[TagSpan, ...]
    read_span: Optional[TagSpan]

    @property
    def length(self) -> int:
        return len(self.token_ids)


def expand_input(template: Template, values: Mapping[str, str], model: FrozenModel, p: Mapping[str, int], read_tag: Optional[str]) -> Expanded:
    """`p` gives each tag's vector count; `read_tag` (a function tag) is read at its last occurrence."""
    ids: list[int] = [model.bos] if model.add_bos and model.bos is not None else []
    spans: list[TagSpan] = []
    for piece in fill_template(template, values):
        if isinstance(piece, Tag):
            spans.append(TagSpan(piece.tag, len(ids), p[piece.tag]))
            ids.extend([-1] * p[piece.tag])
        else:
            ids.extend(model.encode_text(piece.text))
    read = None
    if read_tag is not None:
        read = next((s for s in reversed(spans) if s.tag == read_tag), None)
        if read is None:
            raise ValueError(f'template "{template.text}" has no {read_tag} to read from')
    return Expanded(tuple(ids), tuple(spans), read)


@dataclass
class Batch:
    rows: list[Expanded]
    inputs_embeds: torch.Tensor  # [batch, seq, hidden]
    attention_mask: torch.Tensor  # [batch, seq] int64
    token_ids: torch.Tensor  # [batch, seq] int64, -1 at tag vectors and padding


def batch_inputs(rows: Sequence[Expanded], embedding: torch.Tensor, tags: Mapping[str, torch.Tensor]) -> Batch:
    """Rows padded on the right; gradients flow from inputs_embeds into the tag tensors."""
    seq = max(r.length for r in rows)
    device, dtype = embedding.device, embedding.dtype
    token_ids = torch.full((len(rows), seq), -1, dtype=torch.long, device=device)
    mask = torch.zeros((len(rows), seq), dtype=torch.long, device=device)
    for b, row in enumerate(rows):
        token_ids[b, : row.length] = torch.tensor(row.token_ids, dtype=torch.long, device=device)
        mask[b, : row.length] = 1
    embeds = embedding[token_ids.clamp(min=0)] * (token_ids >= 0).unsqueeze(-1).to(dtype)
    pieces = []
    for b, row in enumerate(rows):
        parts = []
        at = 0
        for span in row.tag_spans:
            parts.append(embeds[b, at : span.start])
            parts.append(tags[span.tag].to(dtype))
            at = span.start + span.length
        parts.append(embeds[b, at:])
        pieces.append(torch.cat(parts, 0))
    return Batch(list(rows), torch.stack(pieces, 0), mask, token_ids)


def read_weights(batch: Batch) -> torch.Tensor:
    """[batch, seq]: 1/p over each row's read span (src/runtime/tags/readout.ts, the mean over the tag's vectors)."""
    w = torch.zeros(batch.token_ids.shape, dtype=batch.inputs_embeds.dtype, device=batch.inputs_embeds.device)
    for b, row in enumerate(batch.rows):
        assert row.read_span is not None
        w[b, row.read_span.start : row.read_span.start + row.read_span.length] = 1.0 / row.read_span.length
    return w


def next_token_targets(batch: Batch) -> torch.Tensor:
    """At position s the id at s+1, for every text token after the row's last tag vector; -1 elsewhere (objectives.ts)."""
    targets = torch.full(batch.token_ids.shape, -1, dtype=torch.long)
    for b, row in enumerate(batch.rows):
        last = max((s.start + s.length - 1 for s in row.tag_spans), default=0)
        for s in range(last, row.length - 1):
            if row.token_ids[s + 1] >= 0:
                targets[b, s] = row.token_ids[s + 1]
    return targets.to(batch.token_ids.device)
