"""PEFT interchange: `tagllm export-peft` then `tagllm import-peft` gives back the bundle's tags
and heads bit for bit; transformers with the exported TrainableTokens adapter, fed the runtime's token ids with the tag
tokens where the tag vectors stood, gives the TS runtime's hidden states at the tag positions;
an adapter without tagllm's side files (tags trained with PEFT) imports as domain tags."""

from __future__ import annotations

import json
import shutil

import numpy as np
import torch
from peft import PeftModel
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

from conftest import STORIES, tagllm, ts_reference
from tagllm_torch.bundle import load_bundle
from test_parity import TEMPLATE, random_bundle


def test_export_then_import_returns_the_bundle_bit_for_bit(stories, tmp_path):
    bundle, path = random_bundle(stories, tmp_path)
    tagllm("export-peft", "--model", str(STORIES), "--tags", str(path), "--out", str(tmp_path / "adapter"))
    tagllm("import-peft", "--model", str(STORIES), "--adapter", str(tmp_path / "adapter"), "--out", str(tmp_path / "back"))
    back = load_bundle(tmp_path / "back", stories.fingerprint)
    assert back.meta == bundle.meta
    for name, value in bundle.values.items():
        assert back.values[name].tobytes() == value.tobytes(), name
    assert back.heads["<QED>"].weight.tobytes() == bundle.heads["<QED>"].weight.tobytes()
    assert back.heads["<QED>"].bias.tobytes() == bundle.heads["<QED>"].bias.tobytes()

    # without tagllm.json and the heads: the tags of a PEFT-trained adapter, as domain tags
    bare = tmp_path / "bare"
    shutil.copytree(tmp_path / "adapter", bare)
    (bare / "tagllm.json").unlink()
    (bare / "tagllm_heads.safetensors").unlink()
    tagllm("import-peft", "--model", str(STORIES), "--adapter", str(bare), "--out", str(tmp_path / "bare-bundle"))
    imported = load_bundle(tmp_path / "bare-bundle")
    assert set(imported.values) == {"<SMILES>", "<QED>"} and not imported.heads
    assert all(t["kind"] == "domain" for t in imported.meta["tags"].values())
    for name, value in bundle.values.items():
        assert imported.values[name].tobytes() == value.tobytes(), name


def test_transformers_with_the_adapter_gives_the_runtime_hidden_states(stories, stories_hf, tmp_path):
    bundle, path = random_bundle(stories, tmp_path)
    out = json.loads(tagllm("export-peft", "--model", str(STORIES), "--tags", str(path), "--out", str(tmp_path / "adapter")).splitlines()[-1])
    tokenizer = Tokenizer.from_file(str(tmp_path / "adapter" / "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(stories_hf, dtype=torch.float32)
    model.resize_token_embeddings(tokenizer.get_vocab_size(with_added_tokens=True), mean_resizing=False)
    peft_model = PeftModel.from_pretrained(model, tmp_path / "adapter")
    molecules = ["CCO", "c1ccccc1O"]
    ts = ts_reference({"kind": "hidden", "model": str(STORIES), "bundles": [str(path)], "template": TEMPLATE, "inputs": [{"smiles": s} for s in molecules]})
    ts_hidden = np.array(ts["hidden"]).reshape(len(molecules), ts["seqLength"], 64)
    vocab = tokenizer.get_vocab()
    for b, row in enumerate(ts["rows"]):
        # the runtime's expansion with each tag vector's position holding that vector's token
        ids = list(row["tokenIds"])
        for span in row["tagSpans"]:
            for k, token in enumerate(out["tokens"][span["tag"]]):
                ids[span["start"] + k] = vocab[token]
        positions = [span["start"] + k for span in row["tagSpans"] for k in range(span["length"])]
        assert len(positions) == 6 and min(ids) >= 0
        with torch.no_grad():
            hidden = peft_model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states[-1][0].numpy()
        np.testing.assert_allclose(hidden[positions], ts_hidden[b, positions], rtol=0, atol=1e-4)
        np.testing.assert_allclose(hidden, ts_hidden[b, : len(ids)], rtol=0, atol=1e-4)
