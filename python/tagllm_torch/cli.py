"""`tagllm-torch train --job DIR --model HF_FOLDER --out BUNDLE`: runs an exported job on PyTorch.

Launch with `python -m tagllm_torch`, `torchrun --nproc_per_node N -m tagllm_torch ...` or
`accelerate launch -m tagllm_torch ...`. Progress goes to stderr; rank 0 prints the JSON
report as the last stdout line (and writes it to --report when given).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch

from .bundle import BundleError
from .job import JobError, load_job
from .model import load_frozen_model, shard_decoder_layers
from .train import Options, run_job, world_from_env


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="tagllm-torch", description="Train Tag-LLM tags of an exported job with PyTorch.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="run a job folder written by `tagllm export-job`")
    train.add_argument("--job", required=True, help="the job folder (job.json, data.csv)")
    train.add_argument("--model", required=True, help="the base model as a Hugging Face folder (tagllm export-hf makes one from a GGUF)")
    train.add_argument("--out", help="the tag bundle to write; checkpoints go to OUT.checkpoint")
    train.add_argument("--resume", action="store_true", help="continue from OUT.checkpoint")
    train.add_argument("--bf16", action="store_true", help="run the frozen model under bf16 autocast (tags, head and losses stay float32)")
    train.add_argument("--fsdp", action="store_true", help="shard the frozen decoder layers across the ranks (FSDP), for models one device cannot hold")
    train.add_argument("--device", default="auto", help="auto (cuda:LOCAL_RANK when CUDA is there), cpu or cuda")
    train.add_argument("--report", help="also write the JSON report to this file")
    train.add_argument("--no-baselines", action="store_true", help="skip the mean and linear-probe baselines")
    args = parser.parse_args(argv)
    try:
        world = world_from_env()
        device = pick_device(args.device)
        job = load_job(args.job)
        model = load_frozen_model(args.model, device)
        if args.fsdp and world.size > 1:
            shard_decoder_layers(model)
        options = Options(out=Path(args.out) if args.out else None, resume=args.resume, bf16=args.bf16,
                          baselines=not args.no_baselines, on_message=lambda t: print(t, file=sys.stderr, flush=True))
        report = run_job(job, model, world, options)
    except (BundleError, JobError, ValueError, OSError) as err:
        print(f"tagllm-torch: {err}", file=sys.stderr)
        return 1
    if world.main:
        line = json.dumps(report)
        if args.report:
            Path(args.report).write_text(line + "\n", "utf-8")
        print(line, flush=True)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 0


def pick_device(name: str) -> torch.device:
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device(name)


if __name__ == "__main__":
    sys.exit(main())
