"""Training runs of an exported job: a bundle trained in PyTorch predicts the same values
through `tagllm predict` (<= 1e-4); two processes under torchrun (gloo, CPU), with or without
FSDP, reach the same tags as one process taking the same effective batch of twice their share;
a resumed run ends where an uninterrupted one does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from conftest import ENV, STORIES, companion, tagllm
from tagllm_torch.bundle import load_bundle
from tagllm_torch.init import init_tag_value
from tagllm_torch.job import load_job
from tagllm_torch.predict import predict


def test_bundle_trained_in_pytorch_predicts_the_same_through_tagllm(stories, stories_hf, qed_job, tmp_path):
    out = tmp_path / "qed"
    report = companion("--job", str(qed_job), "--model", str(stories_hf), "--out", str(out), "--no-baselines")
    assert report["stage"] == "function" and report["steps"] >= 1 and report["n_test"] == 8
    assert set(report["test"]) == {"mse", "rmse", "mae", "pearson", "spearman"}
    bundle = load_bundle(out, stories.fingerprint)
    assert bundle.meta["tags"]["<QED>"]["training"]["trainer"] == "tagllm-torch"
    job = load_job(qed_job)
    inputs = [{"smiles": job.inputs[i][0]} for i in job.rows("test")]
    csv = tmp_path / "inputs.csv"
    csv.write_text("smiles\n" + "\n".join(r["smiles"] for r in inputs) + "\n")
    lines = [json.loads(l) for l in tagllm("predict", "--model", str(STORIES), "--tags", str(out), "--input", str(csv), "--json").splitlines() if l.strip()]
    ts = np.array([next(p["value"] for p in line["predictions"] if p["tag"] == "<QED>") for line in lines])
    ours = predict(stories, [bundle], "<QED>", inputs)
    assert len(ts) == len(inputs)
    assert np.abs(ours - ts).max() <= 1e-4 * max(1.0, np.abs(ts).max())
    # the metrics of the report are those of these predictions
    y = job.labels[job.rows("test")]
    assert abs(report["test"]["mae"] - np.abs(ours - y).mean()) <= 1e-4


def variant(job: Path, folder: Path, **changes) -> Path:
    """A copy of `job` with job.json fields changed. evalEvery = 0 validates only at the end, so the
    final parameters are kept (never the untrained step 0) and comparisons are not of initial values."""
    shutil.copytree(job, folder)
    config = json.loads((folder / "job.json").read_text())
    config.update(changes)
    (folder / "job.json").write_text(json.dumps(config))
    return folder


def test_two_process_ddp_reaches_the_tags_of_one_process(stories, stories_hf, qed_job, tmp_path):
    """The job's effective batch is 8 in micro-batches of 4: one process takes both, each of two ranks one;
    with and without FSDP sharding of the frozen decoder."""
    job = variant(qed_job, tmp_path / "job", evalEvery=0)
    one = companion("--job", str(job), "--model", str(stories_hf), "--out", str(tmp_path / "one"), "--no-baselines")
    two = companion("--job", str(job), "--model", str(stories_hf), "--out", str(tmp_path / "two"), "--no-baselines", nproc=2)
    assert two["provider"].endswith("-x2") and one["steps"] == two["steps"] == 3 and one["best_step"] == two["best_step"] == 3
    a, b = load_bundle(tmp_path / "one"), load_bundle(tmp_path / "two")
    start = init_tag_value(stories.embedding, 2)
    for name in a.values:
        assert np.allclose(a.values[name], b.values[name], rtol=0, atol=1e-5), name
        assert np.abs(a.values[name] - start).max() > 1e-3, f"{name} did not train"
    assert np.allclose(a.heads["<QED>"].weight, b.heads["<QED>"].weight, rtol=0, atol=1e-5)
    # the same with the frozen decoder layers sharded across the two ranks (FSDP)
    companion("--job", str(job), "--model", str(stories_hf), "--out", str(tmp_path / "fsdp"), "--no-baselines", "--fsdp", nproc=2)
    c = load_bundle(tmp_path / "fsdp")
    for name in a.values:
        assert np.allclose(a.values[name], c.values[name], rtol=0, atol=1e-5), name


def test_resume_ends_where_an_uninterrupted_run_ends(stories_hf, qed_job, tmp_path):
    job = variant(qed_job, tmp_path / "job", steps=6, evalEvery=0, checkpointEvery=2)
    args = ["--job", str(job), "--model", str(stories_hf), "--no-baselines"]
    companion(*args, "--out", str(tmp_path / "whole"))

    # the same run killed once it has written a mid-run checkpoint, then resumed
    cut = tmp_path / "cut"
    run = subprocess.Popen([sys.executable, "-m", "tagllm_torch", "train", *args, "--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**ENV, "OMP_NUM_THREADS": "1"})
    state_file = tmp_path / "cut.checkpoint" / "trainer.json"
    deadline = time.time() + 600
    while not state_file.exists() and run.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    run.kill()
    run.wait()
    state = json.loads(state_file.read_text())
    assert state["finished"] is None and 0 < state["step"] < 6
    resumed = companion(*args, "--out", str(cut), "--resume")
    assert resumed["steps"] == 6
    a, b = load_bundle(tmp_path / "whole"), load_bundle(cut)
    for name in a.values:
        assert np.array_equal(a.values[name], b.values[name]), name
    assert np.array_equal(a.heads["<QED>"].weight, b.heads["<QED>"].weight)
