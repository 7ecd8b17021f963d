"""The one bundle format: bundles the TS runtime wrote (the committed default bundle) pass the
shared schema and load here, bundles written here load in the TS runtime (test_train, test_peft),
fields a newer writer adds are tolerated, and broken bundles fail with the file and the problem."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import REPO
from tagllm_torch.bundle import BundleError, load_bundle, save_bundle, validate_meta

DEFAULT = REPO / "bundles" / "default"


def test_the_ts_default_bundle_passes_the_schema_and_loads(stories):
    bundle = load_bundle(DEFAULT, stories.fingerprint)
    assert bundle.meta["formatVersion"] == 3
    assert set(bundle.values) == {"<SMILES>", "<ESOL>", "<BBBP>", "<CTTox>", "<QED>"}
    assert bundle.heads["<QED>"].weight.shape == (1, 64)
    assert bundle.meta["tags"]["<BBBP>"]["task"] == "classification"


def test_save_then_load_is_exact(tmp_path):
    bundle = load_bundle(DEFAULT)
    save_bundle(tmp_path / "copy", bundle)
    again = load_bundle(tmp_path / "copy")
    assert again.meta == bundle.meta
    for name, value in bundle.values.items():
        assert again.values[name].tobytes() == value.tobytes()


def test_additive_fields_are_tolerated(tmp_path):
    folder = tmp_path / "newer"
    shutil.copytree(DEFAULT, folder)
    meta = json.loads((folder / "tagbundle.json").read_text())
    meta["evidence"] = {"kind": "future field"}
    meta["tags"]["<QED>"]["calibration"] = [1, 2, 3]
    (folder / "tagbundle.json").write_text(json.dumps(meta))
    assert load_bundle(folder).meta["evidence"] == {"kind": "future field"}


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(format="other"), "format"),
    (lambda m: m["baseModel"].update(embeddingSha256="xyz"), "embeddingSha256"),
    (lambda m: m["tags"]["<QED>"]["outputs"][0].update(targetStd=0), "targetStd"),
    (lambda m: m["tags"].update({"QED": {"kind": "domain", "description": ""}}), "QED"),
    (lambda m: m.update(formatVersion=4), "formatVersion"),
    (lambda m: m["tags"]["<BBBP>"].update(task="ranking"), "task"),
    (lambda m: m["tags"]["<QED>"]["outputs"][0]["approved"]["quantiles"].pop(), "quantiles"),
    (lambda m: m["tags"]["<ESOL>"]["domain"].update(sketch="maccs"), "sketch"),
])
def test_schema_names_what_is_wrong(change, message):
    meta = json.loads((DEFAULT / "tagbundle.json").read_text())
    change(meta)
    with pytest.raises(BundleError, match=message):
        validate_meta(meta, "x/tagbundle.json")


def test_tensors_that_disagree_with_the_metadata_are_refused(tmp_path):
    bundle = load_bundle(DEFAULT)
    bundle.values["<QED>"] = np.full_like(bundle.values["<QED>"], np.nan)
    with pytest.raises(BundleError, match="non-finite"):
        save_bundle(tmp_path / "bad", bundle)
    assert not (tmp_path / "bad").exists()


def test_a_bundle_for_another_model_is_refused(stories):
    from tagllm_torch.bundle import Fingerprint

    other = Fingerprint("llama", 64, 512, "0" * 64)
    with pytest.raises(BundleError, match="another model"):
        load_bundle(DEFAULT, other)
    assert load_bundle(DEFAULT, stories.fingerprint)
