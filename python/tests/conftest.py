"""Shared fixtures: the stories260K model (the shared offline GGUF, exported once to a Hugging
Face folder by `tagllm export-hf`), and helpers that run the TS CLI and the TS reference script
through tsx, so the tests need no build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("TAGLLM_DATA_DIR", REPO.parent / "shared" / "data"))
STORIES = DATA / "models" / "stories260K.gguf"
ENV = {**os.environ, "TAGLLM_DEVICE": "cpu"}


def node(script: str, *args: str, stdin: str | None = None) -> str:
    """Runs a TS file through tsx; returns stdout, failing the test with stderr on a non-zero exit."""
    done = subprocess.run(["node", "--import", "tsx", script, *args], cwd=REPO, input=stdin, capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        pytest.fail(f"{script} {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def tagllm(*args: str) -> str:
    return node("src/cli/main.ts", *args)


def ts_reference(request: dict[str, Any]) -> dict[str, Any]:
    return json.loads(node("python/tests/ts/reference.ts", stdin=json.dumps(request)).strip().splitlines()[-1])


def companion(*args: str, nproc: int = 1) -> dict[str, Any]:
    """Runs `tagllm_torch train` (under torchrun when nproc > 1); returns the JSON report."""
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)] if nproc > 1 else [sys.executable]
    done = subprocess.run([*launch, "-m", "tagllm_torch", "train", *args], capture_output=True, text=True, env={**ENV, "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        pytest.fail(f"tagllm_torch train exited {done.returncode}:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def stories_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not STORIES.exists():
        pytest.fail(f"no {STORIES}; set TAGLLM_DATA_DIR to the shared offline data")
    out = tmp_path_factory.mktemp("models") / "stories260K-hf"
    tagllm("export-hf", "--model", str(STORIES), "--out", str(out))
    return out


@pytest.fixture(scope="session")
def stories(stories_hf: Path):
    from tagllm_torch.model import load_frozen_model

    return load_frozen_model(stories_hf)


@pytest.fixture(scope="session")
def qed_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small stage-2 job: QED of 40 ESOL molecules, p = 2, batch 8 of micro-batches of 4."""
    out = tmp_path_factory.mktemp("jobs") / "qed"
    tagllm("export-job", "--stage", "function", "--tag", "<QED>", "--model", str(STORIES), "--data", str(DATA / "molnet" / "esol.csv"),
           "--limit", "40", "--label", "qed", "--p", "2", "--steps", "3", "--batch", "8", "--lr", "0.01", "--split", "0.2", "--out", str(out))
    micro = json.loads((out / "job.json").read_text())
    micro["microBatch"] = 4
    (out / "job.json").write_text(json.dumps(micro))
    return out
