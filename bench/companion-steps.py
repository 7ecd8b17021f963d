"""Steps per second of the PyTorch companion (python/tagllm_torch) on this CPU, one process and
two under torchrun (gloo), on the same exported job: stage 2 (<QED> on ESOL molecules,
stories260K, p = 10), effective batch 16 in micro-batches of 8, so two processes each take one
micro-batch per step. The configurations (CONFIGS) alternate, so load changes hit all of them; the rate is the
training loop's own (its last progress line: examples/s over the steps, start-up excluded),
divided by the batch. Prints a Markdown table of medians.

    python bench/companion-steps.py [--repeats 2] [--steps 12] [--rows 120]

Needs `npm run build` (dist/cli.js) and TAGLLM_DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TAGLLM_DATA_DIR", REPO.parent / "shared" / "data"))
BATCH = 16
# (processes, OMP threads per process): one process with one thread is the fair peer of two
# single-threaded ranks on two cores; one process with both cores is what a plain run gets.
CONFIGS = [(1, 1), (2, 1), (1, 2)]


def cli(*args: str) -> None:
    subprocess.run(["node", str(REPO / "dist" / "cli.js"), *args], check=True, capture_output=True)


def run(job: Path, model: Path, nproc: int, threads: int) -> float:
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)] if nproc > 1 else [sys.executable]
    done = subprocess.run([*launch, "-m", "tagllm_torch", "train", "--job", str(job), "--model", str(model), "--no-baselines"],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)}, check=True)
    rates = re.findall(r"step \d+/\d+ .* ([\d.]+) examples/s", done.stderr)
    return float(rates[-1]) / BATCH


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-two-threads", action="store_true", help="leave out one process with two threads (slow on a loaded machine)")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rows", type=int, default=120, help="ESOL rows in the job (the ridge warm start reads them all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model, job = Path(tmp) / "hf", Path(tmp) / "job"
        cli("export-hf", "--model", str(DATA / "models" / "stories260K.gguf"), "--out", str(model))
        cli("export-job", "--stage", "function", "--tag", "<QED>", "--model", str(DATA / "models" / "stories260K.gguf"),
            "--data", str(DATA / "molnet" / "esol.csv"), "--limit", str(args.rows), "--label", "qed", "--steps", str(args.steps),
            "--batch", str(BATCH), "--out", str(job))
        config = json.loads((job / "job.json").read_text())
        config.update(microBatch=BATCH // 2, evalEvery=0)
        (job / "job.json").write_text(json.dumps(config))
        configs = [c for c in CONFIGS if not (args.skip_two_threads and c == (1, 2))]
        rates: dict[tuple[int, int], list[float]] = {config: [] for config in configs}
        for _ in range(args.repeats):
            for nproc, threads in configs:
                rates[(nproc, threads)].append(run(job, model, nproc, threads))
    print(f"| processes | torch threads each | steps/s (median of {args.repeats}) | runs | examples/s |")
    print("| --- | --- | --- | --- | --- |")
    for (nproc, threads), r in rates.items():
        print(f"| {nproc} | {threads} | {statistics.median(r):.2f} | {', '.join(f'{x:.2f}' for x in r)} | {statistics.median(r) * BATCH:.1f} |")


if __name__ == "__main__":
    main()
