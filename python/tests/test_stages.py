"""Stages 1 and 3 end to end: a domain tag trained by next-token likelihood, then a cross-stage
function tag on top of it with the domain tag frozen; the TS runtime composes both bundles and
predicts what the companion predicts."""

from __future__ import annotations

import json
import math

import numpy as np

from conftest import DATA, STORIES, companion, tagllm
from tagllm_torch.bundle import load_bundle
from tagllm_torch.job import load_job
from tagllm_torch.predict import predict


def test_domain_then_cross_stage(stories, stories_hf, tmp_path):
    esol = str(DATA / "molnet" / "esol.csv")
    tagllm("export-job", "--stage", "domain", "--tag", "<SMILES>", "--model", str(STORIES), "--data", esol, "--input-column", "smiles",
           "--limit", "24", "--p", "2", "--steps", "2", "--batch", "4", "--split", "0.2", "--out", str(tmp_path / "job1"))
    domain = companion("--job", str(tmp_path / "job1"), "--model", str(stories_hf), "--out", str(tmp_path / "smiles"))
    assert domain["stage"] == "domain" and math.isfinite(domain["test"]["nll"]) and math.isfinite(domain["baselines"]["untagged"]["nll"])
    smiles = load_bundle(tmp_path / "smiles", stories.fingerprint)
    assert list(smiles.meta["tags"]) == ["<SMILES>"] and smiles.meta["tags"]["<SMILES>"]["kind"] == "domain"

    tagllm("export-job", "--stage", "cross", "--tag", "<QED>", "--model", str(STORIES), "--data", esol, "--limit", "24", "--label", "qed",
           "--steps", "2", "--batch", "4", "--split", "0.2", "--tags", str(tmp_path / "smiles"), "--out", str(tmp_path / "job3"))
    assert json.loads((tmp_path / "job3" / "job.json").read_text())["trainable"] == ["<QED>"]
    cross = companion("--job", str(tmp_path / "job3"), "--model", str(stories_hf), "--out", str(tmp_path / "qed"))
    assert "ci" in cross["test"] and set(cross["baselines"]) == {"mean", "linear_probe_last", "linear_probe_mean"}
    qed = load_bundle(tmp_path / "qed", stories.fingerprint)
    assert list(qed.meta["tags"]) == ["<QED>"], "the frozen domain tag is not written again"

    job = load_job(tmp_path / "job3")
    inputs = [{"smiles": job.inputs[i][0]} for i in job.rows("test")]
    csv = tmp_path / "inputs.csv"
    csv.write_text("smiles\n" + "\n".join(r["smiles"] for r in inputs) + "\n")
    lines = [json.loads(l) for l in tagllm("predict", "--model", str(STORIES), "--tags", f"{tmp_path / 'smiles'},{tmp_path / 'qed'}", "--input", str(csv), "--json").splitlines() if l.strip()]
    ts = np.array([next(p["value"] for p in line["predictions"] if p["tag"] == "<QED>") for line in lines])
    ours = predict(stories, [smiles, qed], "<QED>", inputs)
    assert np.abs(ours - ts).max() <= 1e-4 * max(1.0, np.abs(ts).max())
