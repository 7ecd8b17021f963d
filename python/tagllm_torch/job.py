"""A training job as `tagllm export-job` writes it (docs/python-companion.md): job.json (the
stage, template, tags, schedule, all defaults resolved by the TS side) and data.csv (one column
per template slot, `label` for stages function and cross, and `split` = train / valid / test
as the TS split assigned it, in the TS row order, so seeded draws pick the same rows)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .bundle import Fingerprint
from .template import Template, parse_template

JOB_FORMAT = "tagllm.trainjob"
JOB_FORMAT_VERSION = 1
JOB_FILE = "job.json"


class JobError(ValueError):
    def __init__(self, message: str, path: Path) -> None:
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Job:
    folder: Path
    raw: dict[str, Any]
    stage: str
    template: Template
    slots: list[str]
    domains: list[str]
    function_tag: Optional[str]
    label: Optional[str]
    description: str
    units: str
    trainable: list[str]
    p: int
    lr: float
    head_lr: float
    steps: int
    batch_size: int
    micro_batch: int
    eval_batch: int
    seed: int
    eval_every: int
    patience: int
    checkpoint_every: int
    warmup_fraction: float
    weight_decay: float
    start_bundles: list[Path]
    base_model: Fingerprint
    data_name: str
    n_skipped: int
    inputs: list[list[str]]
    labels: Optional[np.ndarray]
    split: list[str]

    def rows(self, name: str) -> list[int]:
        return [i for i, s in enumerate(self.split) if s == name]


def load_job(folder: str | Path) -> Job:
    folder = Path(folder)
    path = folder / JOB_FILE
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise JobError(f"cannot read the job ({err})", path) from None
    if raw.get("format") != JOB_FORMAT or raw.get("formatVersion") != JOB_FORMAT_VERSION:
        raise JobError(f'not a version-{JOB_FORMAT_VERSION} training job (format {raw.get("format")!r}, version {raw.get("formatVersion")!r})', path)
    try:
        slots = list(raw["slots"])
        data_path = folder / raw["data"]
        with open(data_path, newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        inputs = [[row[s] for s in slots] for row in table]
        labels = np.array([float(row["label"]) for row in table]) if raw["stage"] != "domain" else None
        split = [row["split"] for row in table]
        return Job(
            folder=folder, raw=raw, stage=raw["stage"], template=parse_template(raw["template"]), slots=slots,
            domains=list(raw["domains"]), function_tag=raw.get("functionTag"), label=raw.get("label"),
            description=raw.get("description", ""), units=raw.get("units", ""), trainable=list(raw["trainable"]),
            p=int(raw["p"]), lr=float(raw["lr"]), head_lr=float(raw["headLr"]), steps=int(raw["steps"]),
            batch_size=int(raw["batchSize"]), micro_batch=int(raw["microBatch"]), eval_batch=int(raw["evalBatch"]),
            seed=int(raw["seed"]), eval_every=int(raw["evalEvery"]), patience=int(raw["patience"]),
            checkpoint_every=int(raw["checkpointEvery"]), warmup_fraction=float(raw["warmupFraction"]),
            weight_decay=float(raw.get("weightDecay", 0)), start_bundles=[folder / b for b in raw.get("startBundles", [])],
            base_model=Fingerprint.from_json(raw["baseModel"]), data_name=raw.get("dataName", raw["data"]),
            n_skipped=int(raw.get("nSkipped", 0)), inputs=inputs, labels=labels, split=split,
        )
    except (KeyError, ValueError, TypeError) as err:
        raise JobError(f"malformed job or data ({type(err).__name__}: {err})", path) from None
