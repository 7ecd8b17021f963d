"""The training run of a job: src/runtime/train/stages.ts and trainer.ts on PyTorch.

Same as the TS trainer: examples drawn in seeded epoch order (Mulberry32), micro-batches
accumulated to the effective batch, AdamW (PyTorch's, the rule the TS AdamW copies) on the
cosine schedule with warm-up, the head at its own rate, the head warm-started by ridge on the
tagged readouts, early stopping that keeps the best validated parameters (step 0 included),
checkpoints every N steps that resume exactly, and the same JSON report.

Distributed: launched by torchrun or `accelerate launch` (both set RANK / WORLD_SIZE), every
rank draws the same effective batch and takes a contiguous share of it; the trainable
gradients (tags, head) are summed across ranks, so W ranks at batch B take exactly the steps
one process takes at batch B. That all-reduce is what DDP does for these parameters; the
frozen decoder has no gradients, so each rank holds a copy of it, or with --fsdp a shard of
its layers (model.shard_decoder_layers).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.distributed as dist
from safetensors.numpy import load_file, save_file

from .bundle import Bundle, BundleError, Head, load_bundle, make_bundle, save_bundle
from .expand import Expanded, batch_inputs, expand_input
from .init import init_head_weight, init_tag_value, target_scale
from .job import Job
from .metrics import regression_metrics
from .model import FrozenModel
from .objectives import autocast, next_token_nll, readout, regression_loss
from .ridge import fit_validated
from .rng import SeededRng
from .template import Tag, fill_template

MAX_ROWS_WHILE_TRAINING = 2048
CHECKPOINT_STATE = "trainer.json"
CHECKPOINT_TENSORS = "state.safetensors"
CHECKPOINT_BUNDLE = "bundle"


def cosine_with_warmup(step: int, total: int, peak: float, warmup_fraction: float) -> float:
    """src/runtime/train/schedule.ts: (step+1)/warmup ramp, then cosine to zero."""
    warmup = max(1, math.ceil(warmup_fraction * total))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * peak * (1 + math.cos(math.pi * progress))


def sample_rows(rows: list[int], seed: int) -> list[int]:
    """At most MAX_ROWS_WHILE_TRAINING rows, a seeded sample in row order (stages.ts sampleRows)."""
    if len(rows) <= MAX_ROWS_WHILE_TRAINING:
        return list(rows)
    order = SeededRng((seed ^ 0x7A11) & 0xFFFFFFFF).permutation(len(rows))[:MAX_ROWS_WHILE_TRAINING]
    return [rows[k] for k in sorted(order)]


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def share(self, items: list[int]) -> list[int]:
        """This rank's contiguous share: ranks in order cover `items` in order."""
        base, extra = divmod(len(items), self.size)
        start = self.rank * base + min(self.rank, extra)
        return items[start : start + base + (1 if self.rank < extra else 0)]

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.size > 1:
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()


def world_from_env() -> World:
    """RANK / WORLD_SIZE as torchrun and accelerate set them; gloo on CPU, nccl on CUDA."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return World(int(os.environ.get("RANK", "0")), size)


@dataclass
class Options:
    out: Optional[Path] = None
    resume: bool = False
    bf16: bool = False
    baselines: bool = True
    on_message: Callable[[str], None] = lambda text: None


@dataclass
class TagState:
    """The run's tags (trainable ones are leaf tensors with gradients) and the head."""

    values: dict[str, torch.Tensor]
    loaded: set[str]
    weight: Optional[torch.Tensor] = None
    bias: Optional[torch.Tensor] = None
    scale: Optional[tuple[float, float]] = None
    head_from_bundle: bool = False

    def parameters(self, job: Job) -> dict[str, torch.Tensor]:
        """Trainable parameters by their TS names (tag.<X>, head.<X>.weight, head.<X>.bias)."""
        params = {f"tag.{t}": self.values[t] for t in job.trainable}
        if self.weight is not None and job.function_tag is not None:
            params[f"head.{job.function_tag}.weight"] = self.weight
            params[f"head.{job.function_tag}.bias"] = self.bias  # type: ignore[assignment]
        return params


def set_up_tags(job: Job, model: FrozenModel, device: torch.device) -> TagState:
    bundles = [load_bundle(b, model.fingerprint) for b in job.start_bundles]
    values: dict[str, torch.Tensor] = {}
    loaded: set[str] = set()
    state = TagState(values, loaded)
    for tag in job.template.tags:
        held = next((b for b in bundles if tag in b.values), None)
        if held is not None:
            value = held.values[tag]
            loaded.add(tag)
            head = held.heads.get(tag)
            if tag == job.function_tag and head is not None:
                out = held.meta["tags"][tag]["outputs"][0]
                state.weight, state.bias = torch.tensor(head.weight, device=device), torch.tensor(head.bias, device=device)
                state.scale = (out["targetMean"], out["targetStd"])
                state.head_from_bundle = True
        else:
            value = init_tag_value(model.embedding, job.p)
        values[tag] = torch.tensor(np.array(value, np.float32), device=device, requires_grad=tag in job.trainable)
    return state


class Examples:
    """Every row expanded once (tokenization is the slow part), on demand."""

    def __init__(self, job: Job, model: FrozenModel, tags: dict[str, torch.Tensor], expand: Optional[Callable[[int], Expanded]] = None) -> None:
        self.job, self.model, self.tags = job, model, tags
        p = {t: int(v.shape[0]) for t, v in tags.items()}
        read_tag = job.function_tag if job.stage != "domain" else None
        self.expand = expand or (lambda i: expand_input(job.template, dict(zip(job.slots, job.inputs[i])), model, p, read_tag))
        self._cache: dict[int, Expanded] = {}

    def row(self, i: int) -> Expanded:
        if i not in self._cache:
            self._cache[i] = self.expand(i)
        return self._cache[i]

    def batch(self, indices: list[int]):
        return batch_inputs([self.row(i) for i in indices], self.model.embedding, self.tags)

    def length_sorted(self, indices: list[int], size: int) -> list[list[int]]:
        ordered = sorted(indices, key=lambda i: self.row(i).length)
        return [ordered[k : k + size] for k in range(0, len(ordered), size)]


def readouts(ex: Examples, indices: list[int], size: int, bf16: bool) -> np.ndarray:
    """[len(indices), hidden]: each row's readout, in the order of `indices`."""
    out = np.zeros((len(indices), ex.model.embedding.shape[1]))
    where = {i: k for k, i in enumerate(indices)}
    with torch.no_grad():
        for rows in ex.length_sorted(indices, size):
            h = readout(ex.model, ex.batch(rows), bf16).double().cpu().numpy()
            for r, i in enumerate(rows):
                out[where[i]] = h[r]
    return out


def run_job(job: Job, model: FrozenModel, world: World, options: Options) -> dict[str, Any]:
    started = time.time()
    say = options.on_message if world.main else (lambda text: None)
    device = model.embedding.device
    differs = job.base_model.differences(model.fingerprint)
    if differs:
        raise BundleError(f"the job was exported for another model ({'; '.join(differs)})", job.folder)
    train, valid, test = job.rows("train"), job.rows("valid"), job.rows("test")
    if not train or not test:
        raise ValueError(f"{job.folder}: the split leaves {len(train)} training and {len(test)} test rows")
    tags = set_up_tags(job, model, device)
    ex = Examples(job, model, tags.values)
    regression = job.stage != "domain"
    targets = None
    if regression:
        assert job.labels is not None
        if tags.scale is None:
            tags.scale = target_scale(job.labels[train])
        targets = (job.labels - tags.scale[0]) / tags.scale[1]
        if tags.weight is None:
            tags.weight = torch.tensor(init_head_weight(model.embedding, 1), device=device)
            tags.bias = torch.zeros(1, device=device)
        tags.weight.requires_grad_(True)
        tags.bias.requires_grad_(True)  # type: ignore[union-attr]
    valid_sample = sample_rows(valid, job.seed)
    if regression and not tags.head_from_bundle and not options.resume:
        say("fitting the head to the tagged hidden states (ridge warm start)")
        rows = sample_rows(train, job.seed)
        check = valid_sample if valid else rows
        fit = fit_validated(readouts(ex, rows, job.eval_batch, options.bf16), targets[rows], readouts(ex, check, job.eval_batch, options.bf16), targets[check])  # type: ignore[index]
        w, b = fit.as_linear()
        with torch.no_grad():
            tags.weight[0] = torch.tensor(w, dtype=torch.float32)  # type: ignore[index]
            tags.bias[0] = b  # type: ignore[index]

    params = tags.parameters(job)

    def micro_loss(indices: list[int]) -> torch.Tensor:
        batch = ex.batch(indices)
        if regression:
            t = torch.tensor(targets[indices], dtype=torch.float32, device=device).unsqueeze(1)  # type: ignore[index]
            return regression_loss(model, batch, t, tags.weight, tags.bias, options.bf16)  # type: ignore[arg-type]
        return next_token_nll(model, batch, options.bf16)[0]

    def validation_loss() -> Optional[float]:
        if not valid_sample:
            return None
        mine = world.share(valid_sample)
        total = torch.zeros(2, dtype=torch.float64)
        with torch.no_grad():
            for rows in ex.length_sorted(mine, job.eval_batch):
                batch = ex.batch(rows)
                if regression:
                    pred = readout(model, batch, options.bf16) @ tags.weight.T + tags.bias  # type: ignore[union-attr]
                    t = torch.tensor(targets[rows], dtype=torch.float32, device=device)  # type: ignore[index]
                    total += torch.tensor([float(((pred[:, 0] - t) ** 2).sum()), len(rows)], dtype=torch.float64)
                else:
                    loss, count = next_token_nll(model, batch, options.bf16)
                    total += torch.tensor([float(loss) * count, count], dtype=torch.float64)
        world.sum(total)
        return float(total[0] / total[1]) if total[1] > 0 else math.nan

    result = TrainLoop(job, params, world, options, micro_loss, validation_loss, n_train=len(train), bundle=lambda: to_bundle(job, model, tags, None)).run() if job.steps > 0 else None

    report: dict[str, Any] = {
        "task": f"domain {job.domains[0]}" if not regression else f"{job.function_tag} {job.label}",
        "stage": job.stage, "n_train": len(train), "n_valid": len(valid), "n_test": len(test), "n_skipped": job.n_skipped,
    }
    say("evaluating on the test split")
    test_metrics: dict[str, Any]
    baselines: dict[str, Any] = {}
    if world.main:
        if regression:
            assert job.labels is not None and tags.scale is not None
            h = readouts(ex, test, job.eval_batch, options.bf16)
            pred = (h @ tags.weight.detach().double().cpu().numpy().T + tags.bias.detach().double().cpu().numpy())[:, 0]  # type: ignore[union-attr]
            test_metrics = regression_metrics(job.labels[test], pred * tags.scale[1] + tags.scale[0], job.stage == "cross")
            if options.baselines:
                baselines = regression_baselines(job, model, train, valid, test, options.bf16)
        else:
            test_metrics = {"nll": nll_of(ex, test, job.eval_batch, options.bf16)}
            if options.baselines:
                baselines = {"untagged": {"nll": nll_of(untagged_examples(job, model), test, job.eval_batch, options.bf16)}}
        if options.out is not None:
            save_bundle(options.out, to_bundle(job, model, tags, {k: v for k, v in test_metrics.items() if v is not None}))
    world.barrier()
    if not world.main:
        return {}
    report.update({
        "test": test_metrics, "baselines": baselines,
        "steps": result.steps if result else 0, "stopped_by": result.stopped_by if result else "steps",
        "best_step": result.best_step if result else 0,
        "valid_loss_start": result.start_validation_loss if result else None,
        "valid_loss_best": result.best_validation_loss if result else None,
        "provider": f"torch-{device.type}" + (f"-x{world.size}" if world.size > 1 else ""),
        **({"out": str(options.out)} if options.out is not None else {}),
        "wall_s": time.time() - started,
    })
    return report


def nll_of(ex: Examples, rows: list[int], size: int, bf16: bool) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for batch_rows in ex.length_sorted(rows, size):
            loss, n = next_token_nll(ex.model, ex.batch(batch_rows), bf16)
            total += float(loss) * n
            count += n
    return total / count if count else math.nan


def regression_baselines(job: Job, model: FrozenModel, train: list[int], valid: list[int], test: list[int], bf16: bool) -> dict[str, Any]:
    """The training-set mean and the untagged linear probes (last token, mean over tokens) of baselines.ts."""
    assert job.labels is not None
    y = job.labels
    with_ci = job.stage == "cross"
    out = {"mean": regression_metrics(y[test], np.full(len(test), y[train].mean()), with_ci)}
    last, mean = untagged_features(job, model, bf16)
    check = valid if valid else train
    for name, feats in (("linear_probe_last", last), ("linear_probe_mean", mean)):
        fit = fit_validated(feats[train], y[train], feats[check], y[check])
        out[name] = regression_metrics(y[test], fit.predict(feats[test]), with_ci)
    return out


def untagged_examples(job: Job, model: FrozenModel) -> Examples:
    """The inputs with no tags (the baselines' view): BOS when the model wants it, then the
    template's text runs joined by spaces (stage domain: the input alone), as stages.ts builds them."""
    bos = [model.bos] if model.add_bos and model.bos is not None else []

    def plain(i: int) -> Expanded:
        if job.stage == "domain":
            text = job.inputs[i][0]
        else:
            text = " ".join(p.text for p in fill_template(job.template, dict(zip(job.slots, job.inputs[i]))) if not isinstance(p, Tag))
        return Expanded(tuple(bos + model.encode_text(text)), (), None)

    return Examples(job, model, {}, plain)


def untagged_features(job: Job, model: FrozenModel, bf16: bool) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states of the untagged inputs: last token and mean over tokens."""
    ex = untagged_examples(job, model)
    n = len(job.inputs)
    last, mean = np.zeros((n, model.embedding.shape[1])), np.zeros((n, model.embedding.shape[1]))
    with torch.no_grad(), autocast(model.embedding.device, bf16):
        for rows in ex.length_sorted(list(range(n)), job.eval_batch):
            batch = ex.batch(rows)
            h = model.hidden(batch.inputs_embeds, batch.attention_mask).double().cpu().numpy()
            for r, i in enumerate(rows):
                length = ex.row(i).length
                last[i], mean[i] = h[r, length - 1], h[r, :length].mean(0)
    return last, mean


def to_bundle(job: Job, model: FrozenModel, tags: TagState, metrics: Optional[dict[str, float]]) -> Bundle:
    """The tags this run trained or made (tags loaded from a start bundle and kept frozen are not written again)."""
    entries = []
    training = {"stage": job.stage, "data": job.data_name, "label": job.label, "n_train": len(job.rows("train")), "seed": job.seed, "lr": job.lr, "trainer": "tagllm-torch"}
    for name in job.template.tags:
        if name not in job.trainable and name in tags.loaded:
            continue
        value = tags.values[name].detach().cpu().numpy()
        if job.stage == "domain" or name != job.function_tag:
            entries.append({"name": name, "kind": "domain", "description": f"{name[1:-1]} domain", "value": value, "training": training})
            continue
        assert tags.scale is not None and tags.weight is not None and tags.bias is not None
        entries.append({
            "name": name, "kind": "function", "description": job.description, "template": job.template.text, "value": value,
            "head": Head(tags.weight.detach().cpu().numpy(), tags.bias.detach().cpu().numpy()),
            "outputs": [{"name": job.label, "units": job.units, "targetMean": tags.scale[0], "targetStd": tags.scale[1]}],
            "training": training, "metrics": metrics,
        })
    return make_bundle(model.fingerprint, entries)


@dataclass
class TrainResult:
    steps: int
    stopped_by: str
    best_step: int
    best_validation_loss: Optional[float]
    start_validation_loss: Optional[float]
    history: list[dict[str, Any]] = field(default_factory=list)


class TrainLoop:
    """trainer.ts trainParameters; checkpoints hold the same files and keys (trainer.json, state.safetensors, bundle/)."""

    def __init__(self, job: Job, params: dict[str, torch.Tensor], world: World, options: Options,
                 micro_loss: Callable[[list[int]], torch.Tensor], validation_loss: Callable[[], Optional[float]],
                 n_train: int, bundle: Callable[[], Bundle]) -> None:
        self.job, self.params, self.world, self.options = job, params, world, options
        self.micro_loss, self.validation_loss, self.n_train, self.bundle = micro_loss, validation_loss, n_train, bundle
        head_scale = job.head_lr / job.lr
        groups = [{"params": [p], "name": k, "scale": head_scale if k.startswith("head.") else 1.0} for k, p in params.items()]
        self.optimizer = torch.optim.AdamW(groups, lr=job.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=job.weight_decay)
        self.rng = SeededRng(job.seed)
        self.order: list[int] = []
        self.cursor = 0
        self.step = 0
        self.best_step = 0
        self.best_val: Optional[float] = None
        self.start_val: Optional[float] = None
        self.evals_without_improvement = 0
        self.examples_seen = 0
        self.history: list[dict[str, Any]] = []
        self.best = self.snapshot()
        self.checkpoint_dir = Path(f"{options.out.resolve()}.checkpoint") if options.out is not None else None

    def snapshot(self) -> dict[str, np.ndarray]:
        return {k: p.detach().cpu().numpy().copy() for k, p in self.params.items()}

    def next_indices(self, n: int) -> list[int]:
        out = []
        while len(out) < n:
            if self.cursor >= len(self.order):
                self.order = self.rng.permutation(self.n_train)
                self.cursor = 0
            out.append(self.order[self.cursor])
            self.cursor += 1
        return out

    def run(self) -> TrainResult:
        job, say = self.job, (self.options.on_message if self.world.main else (lambda t: None))
        if self.options.resume:
            self.load_checkpoint()
        if self.step == 0 and self.best_val is None and job.eval_every > 0:
            self.best_val = self.start_val = self.validation_loss()
        stopped_by = "steps"
        started, seen_at_start = time.time(), self.examples_seen
        while self.step < job.steps:
            batch = self.next_indices(min(job.batch_size, max(1, self.n_train)))
            self.optimizer.zero_grad(set_to_none=True)
            loss_sum = torch.zeros(1, dtype=torch.float64)
            mine = self.world.share(batch)
            for k in range(0, len(mine), job.micro_batch):
                micro = mine[k : k + job.micro_batch]
                loss = self.micro_loss(micro)
                # each micro-batch's mean loss, weighted by its share of the effective batch: the batch mean's gradient
                (loss * (len(micro) / len(batch))).backward()
                loss_sum += float(loss.detach()) * len(micro)
            if self.world.size > 1:
                for p in self.params.values():
                    if p.grad is None:
                        p.grad = torch.zeros_like(p)
                    self.world.sum(p.grad)
                self.world.sum(loss_sum)
            lr = cosine_with_warmup(self.step, job.steps, job.lr, job.warmup_fraction)
            for group in self.optimizer.param_groups:
                group["lr"] = lr * group["scale"]
            self.optimizer.step()
            self.step += 1
            self.examples_seen += len(batch)
            entry: dict[str, Any] = {"step": self.step, "loss": float(loss_sum) / len(batch)}
            if (job.eval_every > 0 and self.step % job.eval_every == 0) or self.step == job.steps:
                val = self.validation_loss()
                if val is not None:
                    entry["validationLoss"] = val
                    if self.best_val is None or val < self.best_val:
                        self.best_val, self.best_step, self.best = val, self.step, self.snapshot()
                        self.evals_without_improvement = 0
                    else:
                        self.evals_without_improvement += 1
            self.history.append(entry)
            rate = (self.examples_seen - seen_at_start) / max(1e-9, time.time() - started)
            say(f"step {self.step}/{job.steps}  loss {entry['loss']:.4f}  lr {lr:.2e}  {rate:.1f} examples/s"
                + (f"  valid {entry['validationLoss']:.4f}" if "validationLoss" in entry else ""))
            if self.evals_without_improvement >= job.patience:
                stopped_by = "early-stopping"
                break
            if job.checkpoint_every > 0 and self.step % job.checkpoint_every == 0 and self.step < job.steps:
                self.save_checkpoint(None)
        if self.best_val is not None:
            with torch.no_grad():
                for k, p in self.params.items():
                    p.copy_(torch.from_numpy(self.best[k]))
        else:
            self.best_step = self.step
        self.save_checkpoint(stopped_by)
        return TrainResult(self.step, stopped_by, self.best_step, self.best_val, self.start_val, self.history)

    def save_checkpoint(self, finished: Optional[str]) -> None:
        if self.checkpoint_dir is None or not self.world.main:
            self.world.barrier()
            return
        tensors = {f"param.{k}": v.reshape(-1) for k, v in self.snapshot().items()}
        tensors.update({f"best.{k}": v.reshape(-1) for k, v in self.best.items()})
        adam_step = 0
        for group in self.optimizer.param_groups:
            st = self.optimizer.state.get(group["params"][0])
            if st:
                tensors[f"adam.m.{group['name']}"] = st["exp_avg"].detach().cpu().numpy().reshape(-1).copy()
                tensors[f"adam.v.{group['name']}"] = st["exp_avg_sq"].detach().cpu().numpy().reshape(-1).copy()
                adam_step = int(st["step"])
        state = {
            "step": self.step, "rngState": self.rng.state, "order": self.order, "cursor": self.cursor, "bestStep": self.best_step,
            "bestValidationLoss": self.best_val, "startValidationLoss": self.start_val,
            "evalsWithoutImprovement": self.evals_without_improvement, "history": self.history,
            "examplesSeen": self.examples_seen, "finished": finished, "adamStep": adam_step,
        }
        target = self.checkpoint_dir
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        save_file({k: np.ascontiguousarray(v, np.float32) for k, v in tensors.items()}, str(tmp / CHECKPOINT_TENSORS))
        save_bundle(tmp / CHECKPOINT_BUNDLE, self.bundle())
        (tmp / CHECKPOINT_STATE).write_text(json.dumps(state) + "\n", "utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
        self.world.barrier()

    def load_checkpoint(self) -> None:
        if self.checkpoint_dir is None:
            raise ValueError("--resume needs --out (the checkpoint is OUT.checkpoint)")
        try:
            state = json.loads((self.checkpoint_dir / CHECKPOINT_STATE).read_text("utf-8"))
            tensors = load_file(str(self.checkpoint_dir / CHECKPOINT_TENSORS))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{self.checkpoint_dir}: cannot read the training checkpoint ({err})") from None
        with torch.no_grad():
            for k, p in self.params.items():
                saved = tensors.get(f"param.{k}")
                if saved is None or saved.size != p.numel():
                    raise ValueError(f"{self.checkpoint_dir}: this checkpoint is from another run: parameter {k} needs {p.numel()} values")
                p.copy_(torch.from_numpy(saved).reshape(p.shape))
        self.best = {k: tensors.get(f"best.{k}", tensors[f"param.{k}"]).reshape(tuple(p.shape)).copy() for k, p in self.params.items()}
        # the TS trainer's Adam step is its trainer step (one update per step)
        adam_step = int(state.get("adamStep", state["step"]))
        for group in self.optimizer.param_groups:
            name, p = group["name"], group["params"][0]
            if f"adam.m.{name}" in tensors:
                self.optimizer.state[p] = {
                    "step": torch.tensor(float(adam_step)),
                    "exp_avg": torch.from_numpy(tensors[f"adam.m.{name}"].copy()).reshape(p.shape).to(p.device),
                    "exp_avg_sq": torch.from_numpy(tensors[f"adam.v.{name}"].copy()).reshape(p.shape).to(p.device),
                }
        self.step, self.cursor, self.order = state["step"], state["cursor"], list(state["order"])
        self.rng.state = state["rngState"]
        self.best_step, self.best_val = state["bestStep"], state["bestValidationLoss"]
        self.start_val = state.get("startValidationLoss")
        self.evals_without_improvement, self.history = state["evalsWithoutImprovement"], state["history"]
        self.examples_seen = state["examplesSeen"]
        print(f"resuming at step {self.step}", file=sys.stderr)
