"""One training step in PyTorch against the TS trainer on stories260K: the same loss and the
same gradients of every tag and of the head (relative error <= 1e-5), for the regression loss
of stages 2-3 and the next-token loss of stage 1; and the same seeded example order."""

from __future__ import annotations

import numpy as np
import torch

from conftest import STORIES, ts_reference
from tagllm_torch.bundle import Head, make_bundle, save_bundle
from tagllm_torch.expand import batch_inputs, expand_input
from tagllm_torch.init import init_head_weight, init_tag_value
from tagllm_torch.objectives import next_token_nll, regression_loss
from tagllm_torch.rng import SeededRng
from tagllm_torch.template import parse_template

TEMPLATE = "Input: The SMILES of the molecule is <SMILES> {smiles}. Output: the quantitative estimate of druglikeness score is <QED>"
MOLECULES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "N#Cc1ccccc1"]


def relative_error(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def random_bundle(stories, tmp_path, p: int = 3):
    """<SMILES> and <QED> moved off their initial values (so every gradient is non-trivial), with a head."""
    g = np.random.default_rng(7)
    smiles = init_tag_value(stories.embedding, p) + 0.3 * g.standard_normal((p, 64)).astype(np.float32)
    qed = init_tag_value(stories.embedding, p) + 0.3 * g.standard_normal((p, 64)).astype(np.float32)
    head = Head(init_head_weight(stories.embedding, 1) + 0.1 * g.standard_normal((1, 64)).astype(np.float32), np.array([0.2], np.float32))
    bundle = make_bundle(stories.fingerprint, [
        {"name": "<SMILES>", "kind": "domain", "description": "SMILES domain", "value": smiles},
        {"name": "<QED>", "kind": "function", "description": "qed", "template": TEMPLATE, "value": qed, "head": head,
         "outputs": [{"name": "qed", "units": "", "targetMean": 0.5, "targetStd": 0.2}]},
    ])
    save_bundle(tmp_path / "bundle", bundle)
    return bundle, tmp_path / "bundle"


def test_regression_step_matches_ts(stories, tmp_path):
    bundle, path = random_bundle(stories, tmp_path)
    targets = [0.3, -1.2, 0.8, 0.1]
    tags = {n: torch.tensor(v, requires_grad=True) for n, v in bundle.values.items()}
    weight = torch.tensor(bundle.heads["<QED>"].weight, requires_grad=True)
    bias = torch.tensor(bundle.heads["<QED>"].bias, requires_grad=True)
    template = parse_template(TEMPLATE)
    rows = [expand_input(template, {"smiles": s}, stories, {t: 3 for t in tags}, "<QED>") for s in MOLECULES]
    loss = regression_loss(stories, batch_inputs(rows, stories.embedding, tags), torch.tensor(targets).unsqueeze(1), weight, bias)
    loss.backward()

    ts = ts_reference({"kind": "regression", "model": str(STORIES), "bundles": [str(path)], "template": TEMPLATE,
                       "inputs": [{"smiles": s} for s in MOLECULES], "targets": targets, "readTag": "<QED>", "trainable": ["<SMILES>", "<QED>"]})
    assert relative_error(loss.item(), ts["loss"]) <= 1e-5
    for name in ("<SMILES>", "<QED>"):
        assert relative_error(tags[name].grad.numpy().reshape(-1), ts["tags"][name]) <= 1e-5, name
    assert relative_error(weight.grad.numpy().reshape(-1), ts["headWeight"]) <= 1e-5
    assert relative_error(bias.grad.numpy(), ts["headBias"]) <= 1e-5
    # not a vacuous match: the gradients are there
    assert np.abs(tags["<SMILES>"].grad.numpy()).max() > 1e-4


def test_next_token_step_matches_ts(stories, tmp_path):
    bundle, path = random_bundle(stories, tmp_path)
    smiles = torch.tensor(bundle.values["<SMILES>"], requires_grad=True)
    template = parse_template("<SMILES> {text}")
    rows = [expand_input(template, {"text": s}, stories, {"<SMILES>": 3}, None) for s in MOLECULES]
    loss, _ = next_token_nll(stories, batch_inputs(rows, stories.embedding, {"<SMILES>": smiles}))
    loss.backward()
    ts = ts_reference({"kind": "next_token", "model": str(STORIES), "bundles": [str(path)], "template": "<SMILES> {text}",
                       "inputs": [{"text": s} for s in MOLECULES], "readTag": "<SMILES>", "trainable": ["<SMILES>"]})
    assert relative_error(loss.item(), ts["loss"]) <= 1e-5
    assert relative_error(smiles.grad.numpy().reshape(-1), ts["tags"]["<SMILES>"]) <= 1e-5


def test_seeded_order_matches_ts():
    ts = ts_reference({"kind": "permutations", "seed": 12345, "sizes": [50, 7, 1000]})
    r = SeededRng(12345)
    assert [r.permutation(n) for n in (50, 7, 1000)] == ts["permutations"]
    assert r.state == ts["state"]


def test_bf16_autocast_step_is_close_to_float32(stories, tmp_path):
    """--bf16 runs the frozen model's matmuls in bf16: the loss and gradients stay near float32's
    (bf16 keeps 8 bits of mantissa), and the tags and their gradients stay float32."""
    bundle, _ = random_bundle(stories, tmp_path)
    template = parse_template(TEMPLATE)
    rows = [expand_input(template, {"smiles": s}, stories, {"<SMILES>": 3, "<QED>": 3}, "<QED>") for s in MOLECULES]
    targets = torch.tensor([[0.3], [-1.2], [0.8], [0.1]])
    results = []
    for bf16 in (False, True):
        tags = {n: torch.tensor(v, requires_grad=True) for n, v in bundle.values.items()}
        weight = torch.tensor(bundle.heads["<QED>"].weight)
        loss = regression_loss(stories, batch_inputs(rows, stories.embedding, tags), targets, weight, torch.tensor(bundle.heads["<QED>"].bias), bf16=bf16)
        loss.backward()
        assert loss.dtype == torch.float32 and tags["<SMILES>"].grad.dtype == torch.float32
        results.append((loss.item(), tags["<SMILES>"].grad.numpy().copy()))
    (loss32, grad32), (loss16, grad16) = results
    assert loss16 != loss32, "autocast changed nothing: the bf16 path did not run"
    assert relative_error(loss16, loss32) <= 5e-2
    assert relative_error(grad16, grad32) <= 1e-1
