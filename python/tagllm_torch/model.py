"""A frozen Hugging Face causal LM and its tokenizer, read the way the TS runtime reads a
Hugging Face folder (src/runtime/model/hf/loadFolder.ts, specialTokens.ts,
src/runtime/tokenizer/tokenizer.ts): tokenizer.json through the `tokenizers` library with no
special tokens added, and BOS prepended once when tokenizer_config.json (or the
post-processor) says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, PreTrainedModel

from .bundle import Fingerprint, embedding_sha256


@dataclass
class FrozenModel:
    model: PreTrainedModel
    tokenizer: Tokenizer
    bos: Optional[int]
    add_bos: bool
    fingerprint: Fingerprint

    @property
    def embedding(self) -> torch.Tensor:
        """The input embedding table [vocab, hidden]."""
        return self.model.get_input_embeddings().weight

    def encode_text(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def hidden(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Hidden states after the final norm, [batch, seq, hidden]."""
        out = self.model.base_model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.model.get_output_embeddings()(hidden)


def shard_decoder_layers(frozen: FrozenModel) -> int:
    """FSDP (fully_shard) over each decoder layer, so each rank keeps 1/world of the layers'
    weights and gathers one layer at a time. The embedding table, final norm and LM head stay
    whole on every rank: tags are spliced into the embedding output, which needs the table."""
    from torch.distributed.fsdp import fully_shard

    layers = getattr(frozen.model.base_model, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        raise ValueError(f"{type(frozen.model).__name__} has no decoder layer list (base_model.layers) to shard")
    for layer in layers:
        fully_shard(layer)
    return len(layers)


def _token_content(v: Any) -> Optional[str]:
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and isinstance(v.get("content"), str):
        return v["content"]
    return None


def _post_processor_prepends(processor: Any, bos: int) -> bool:
    if not isinstance(processor, dict):
        return False
    if processor.get("type") == "Sequence":
        return any(_post_processor_prepends(q, bos) for q in processor.get("processors", []))
    single = processor.get("single")
    if processor.get("type") != "TemplateProcessing" or not isinstance(single, list) or not single:
        return False
    name = (single[0].get("SpecialToken") or {}).get("id")
    ids = ((processor.get("special_tokens") or {}).get(name) or {}).get("ids")
    return isinstance(ids, list) and bool(ids) and ids[0] == bos


def special_tokens(tokenizer_json: dict[str, Any], tokenizer_config: Optional[dict[str, Any]], config: dict[str, Any]) -> tuple[Optional[int], bool]:
    """(BOS id, whether BOS is prepended), by the rules of src/runtime/model/hf/specialTokens.ts."""
    ids: dict[str, int] = {}
    vocab = (tokenizer_json.get("model") or {}).get("vocab")
    if isinstance(vocab, dict):
        ids.update({k: v for k, v in vocab.items() if isinstance(v, int)})
    for added in tokenizer_json.get("added_tokens") or []:
        if isinstance(added.get("content"), str) and isinstance(added.get("id"), int):
            ids[added["content"]] = added["id"]
    configured = config.get("bos_token_id")
    configured = configured[0] if isinstance(configured, list) else configured
    bos = ids.get(_token_content((tokenizer_config or {}).get("bos_token")) or "")
    if bos is None and isinstance(configured, int) and configured >= 0:
        bos = configured
    declared = (tokenizer_config or {}).get("add_bos_token")
    add_bos = declared if isinstance(declared, bool) else bos is not None and _post_processor_prepends(tokenizer_json.get("post_processor"), bos)
    return bos, bool(add_bos and bos is not None)


def load_frozen_model(folder: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> FrozenModel:
    """A Hugging Face folder (config.json, weights, tokenizer.json) with every weight frozen."""
    folder = Path(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device)
    model.eval()
    model.requires_grad_(False)
    tokenizer_json = json.loads((folder / "tokenizer.json").read_text("utf-8"))
    config_path = folder / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text("utf-8")) if config_path.exists() else None
    config = json.loads((folder / "config.json").read_text("utf-8"))
    bos, add_bos = special_tokens(tokenizer_json, tokenizer_config, config)
    tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
    embedding = model.get_input_embeddings().weight
    fingerprint = Fingerprint(str(config.get("model_type")), int(embedding.shape[1]), int(embedding.shape[0]), embedding_sha256(embedding))
    return FrozenModel(model, tokenizer, bos, add_bos, fingerprint)
