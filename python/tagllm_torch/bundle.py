"""Tag bundles on disk, as src/runtime/tags/bundle.ts and bundleFiles.ts read and write them.

A bundle is a folder: ``tagbundle.json`` (validated against tagbundle.schema.json, the one
schema both implementations test against; docs/bundle-format.md) and ``tags.safetensors``
(``tag.<X>`` [p, H], ``head.<X>.weight`` [k, H], ``head.<X>.bias`` [k], float32). Unknown JSON
fields are kept as read and ignored, so bundles from newer writers that only add fields load.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Optional

import jsonschema
import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from . import __version__

FORMAT = "tagllm.tagbundle"
# What this package writes: its bundles hold none of version 3's fields (evidence, applicability
# domain, approved-drug percentiles, classification tasks), so they are version 2. It reads 1 to 3
# (the schema's formatVersion enum) and ignores fields it does not know.
FORMAT_VERSION = 2
META_FILE = "tagbundle.json"
TAGS_FILE = "tags.safetensors"
_TENSOR_KEY = re.compile(r"^(tag|head)\.(<[^>]*>)(\.weight|\.bias)?$")


class BundleError(ValueError):
    """A bundle that cannot be read or written; the message names the file and the problem."""

    def __init__(self, message: str, path: str | os.PathLike[str]) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)


def schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("tagbundle.schema.json").read_text("utf-8"))


def validate_meta(meta: Mapping[str, Any], where: str | os.PathLike[str]) -> None:
    """Checks tagbundle.json's content against the shared schema."""
    try:
        jsonschema.validate(meta, schema())
    except jsonschema.ValidationError as err:
        at = "/".join(str(p) for p in err.absolute_path) or "(root)"
        raise BundleError(f"tagbundle.json {at}: {err.message}", where) from None


@dataclass(frozen=True)
class Fingerprint:
    architecture: str
    hidden_size: int
    vocab_size: int
    embedding_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"architecture": self.architecture, "hiddenSize": self.hidden_size, "vocabSize": self.vocab_size, "embeddingSha256": self.embedding_sha256}

    @staticmethod
    def from_json(j: Mapping[str, Any]) -> "Fingerprint":
        return Fingerprint(j["architecture"], j["hiddenSize"], j["vocabSize"], j["embeddingSha256"])

    def differences(self, model: "Fingerprint") -> list[str]:
        out = []
        if self.architecture != model.architecture:
            out.append(f"architecture {self.architecture} vs {model.architecture}")
        if self.hidden_size != model.hidden_size:
            out.append(f"hidden size {self.hidden_size} vs {model.hidden_size}")
        if self.vocab_size != model.vocab_size:
            out.append(f"vocab size {self.vocab_size} vs {model.vocab_size}")
        if self.embedding_sha256 != model.embedding_sha256:
            out.append(f"embedding sha256 {self.embedding_sha256[:12]}… vs {model.embedding_sha256[:12]}…")
        return out


def embedding_sha256(embedding: torch.Tensor) -> str:
    """sha256 of the embedding table as little-endian float32 bytes (src/runtime/tags/fingerprint.ts)."""
    array = embedding.detach().to("cpu", torch.float32).contiguous().numpy()
    return hashlib.sha256(array.astype("<f4", copy=False).tobytes()).hexdigest()


@dataclass
class Head:
    weight: np.ndarray  # [outputs, hidden] float32, torch.nn.Linear's layout
    bias: np.ndarray  # [outputs]


@dataclass
class Bundle:
    meta: dict[str, Any]
    values: dict[str, np.ndarray]  # tag name -> [p, hidden] float32
    heads: dict[str, Head] = field(default_factory=dict)

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint.from_json(self.meta["baseModel"])


def make_bundle(base_model: Fingerprint, entries: list[dict[str, Any]]) -> Bundle:
    """entries: {name, kind, description, value, [template, head, outputs, training, metrics]}."""
    if not entries:
        raise ValueError("a tag bundle needs at least one tag")
    tags: dict[str, Any] = {}
    values: dict[str, np.ndarray] = {}
    heads: dict[str, Head] = {}
    for entry in entries:
        entry = dict(entry)
        name = entry.pop("name")
        if name in tags:
            raise ValueError(f"tag {name} appears twice")
        values[name] = np.asarray(entry.pop("value"), dtype=np.float32)
        head = entry.pop("head", None)
        if head is not None:
            heads[name] = Head(np.asarray(head.weight, np.float32), np.asarray(head.bias, np.float32))
        tags[name] = {k: v for k, v in entry.items() if v is not None}
    first = next(iter(values.values()))
    meta = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "libraryVersion": f"tagllm-torch {__version__}",
        "createdAt": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "p": int(first.shape[0]),
        "hiddenSize": base_model.hidden_size,
        "baseModel": base_model.to_json(),
        "tags": tags,
    }
    bundle = Bundle(meta, values, heads)
    check_bundle(bundle, "(new bundle)")
    return bundle


def check_bundle(bundle: Bundle, where: str | os.PathLike[str]) -> None:
    """The checks of bundle.ts checkTagBundle: metadata and tensors agree, every number is finite."""
    meta = bundle.meta
    validate_meta(meta, where)
    p, hidden = meta["p"], meta["hiddenSize"]
    for name, info in meta["tags"].items():
        value = bundle.values.get(name)
        if value is None:
            raise BundleError(f"tag {name} has no tensor tag.{name}", where)
        if tuple(value.shape) != (p, hidden):
            raise BundleError(f"tag.{name} has shape {list(value.shape)}, the bundle says [{p}, {hidden}]", where)
        _check_finite(value, f"tag.{name}", where)
        head = bundle.heads.get(name)
        if info["kind"] == "domain":
            if head is not None or "outputs" in info:
                raise BundleError(f"domain tag {name} has a head; only function tags read out through heads", where)
            continue
        if "template" in info:
            from .template import parse_template

            if parse_template(info["template"]).last_tag != name:
                raise BundleError(f'function tag {name} must be the last tag of its template "{info["template"]}"', where)
        outputs = info.get("outputs")
        if head is None and outputs is None:
            continue
        if head is None:
            raise BundleError(f"function tag {name} lists outputs but has no head.{name}.weight", where)
        if outputs is None:
            raise BundleError(f"head.{name} has no outputs in tagbundle.json", where)
        if tuple(head.weight.shape) != (len(outputs), hidden) or tuple(head.bias.shape) != (len(outputs),):
            raise BundleError(f"head.{name}.weight has shape {list(head.weight.shape)}, expected [{len(outputs)}, {hidden}]", where)
        _check_finite(head.weight, f"head.{name}.weight", where)
        _check_finite(head.bias, f"head.{name}.bias", where)
    for name in list(bundle.values) + list(bundle.heads):
        if name not in meta["tags"]:
            raise BundleError(f"tensor of {name} is not described in tagbundle.json", where)
    if meta["formatVersion"] == 1 and any("outputs" in t for t in meta["tags"].values()):
        raise BundleError("format version 1 heads read only the last tag vector; retrain them with this version", where)


def _check_finite(a: np.ndarray, name: str, where: str | os.PathLike[str]) -> None:
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise BundleError(f"{name} holds a non-finite value ({a.reshape(-1)[bad[0]]}) at index {bad[0]}", where)


def load_bundle(path: str | os.PathLike[str], model: Optional[Fingerprint] = None) -> Bundle:
    """Reads a bundle folder (or the folder of its tagbundle.json); with `model`, refuses a bundle made for another model."""
    folder = Path(path)
    if folder.is_file():
        folder = folder.parent
    meta_path = folder / META_FILE
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except OSError as err:
        raise BundleError(f"not a tag bundle: cannot read {META_FILE} ({err.strerror})", folder) from None
    except json.JSONDecodeError as err:
        raise BundleError(f"not valid JSON ({err})", meta_path) from None
    validate_meta(meta, meta_path)
    if model is not None:
        differs = Fingerprint.from_json(meta["baseModel"]).differences(model)
        if differs:
            raise BundleError(f"tag bundle was made for another model (bundle vs loaded model: {'; '.join(differs)})", folder)
    tensors_path = folder / TAGS_FILE
    if not tensors_path.exists():
        raise BundleError(f"incomplete tag bundle: {TAGS_FILE} is missing", folder)
    values: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for key, tensor in load_file(str(tensors_path)).items():
        match = _TENSOR_KEY.match(key)
        if not match:
            raise BundleError(f'unexpected tensor "{key}" (a bundle holds tag.<X>, head.<X>.weight and head.<X>.bias)', tensors_path)
        kind, name, part = match.groups()
        if tensor.dtype != np.float32:
            raise BundleError(f"{key} is {tensor.dtype}, bundles hold float32", tensors_path)
        if kind == "tag" and part is None:
            values[name] = tensor
        elif kind == "head" and part == ".weight":
            weights[name] = tensor
        elif kind == "head" and part == ".bias":
            biases[name] = tensor
        else:
            raise BundleError(f'unexpected tensor "{key}"', tensors_path)
    heads = {}
    for name in set(weights) | set(biases):
        if name not in weights or name not in biases:
            raise BundleError(f"head.{name} needs both .weight and .bias", tensors_path)
        heads[name] = Head(weights[name], biases[name])
    bundle = Bundle(meta, values, heads)
    check_bundle(bundle, folder)
    return bundle


def save_bundle(path: str | os.PathLike[str], bundle: Bundle) -> None:
    """Writes the folder under a temporary name beside `path` and renames it into place, replacing any bundle there."""
    target = Path(path).resolve()
    check_bundle(bundle, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tensors: dict[str, np.ndarray] = {f"tag.{n}": np.ascontiguousarray(v, np.float32) for n, v in bundle.values.items()}
        for n, h in bundle.heads.items():
            tensors[f"head.{n}.weight"] = np.ascontiguousarray(h.weight, np.float32)
            tensors[f"head.{n}.bias"] = np.ascontiguousarray(h.bias, np.float32)
        save_file(tensors, str(tmp / TAGS_FILE), metadata={"format": FORMAT})
        with open(tmp / META_FILE, "w", encoding="utf-8") as f:
            f.write(json.dumps(bundle.meta, indent=2, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            old.rmdir()
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
