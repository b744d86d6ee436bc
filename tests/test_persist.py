import pickle

import joblib
import pytest

from classify.errors import ModelFileError
from classify import persist
from classify.persist import load_model, read_payload, save_model, write_payload


def test_missing_model(tmp_path):
    with pytest.raises(ModelFileError, match="no model at .*classify train"):
        load_model(tmp_path / "nope.joblib")


def test_folder_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(tmp_path)


def test_not_a_model(tmp_path):
    path = tmp_path / "text.joblib"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match="not a classify model"):
        load_model(path, trust=True)
    joblib.dump({"some": "dict"}, path)
    with pytest.raises(ModelFileError, match="not a classify model"):
        load_model(path, trust=True)


def test_truncated_model(tiny_model):
    data = tiny_model.read_bytes()
    tiny_model.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="does not match its SHA-256 record"):
        load_model(tiny_model)
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(tiny_model, trust=True)


def test_newer_format_is_refused(tiny_model):
    payload = read_payload(tiny_model)
    payload["format_version"] = 99
    with open(tiny_model, "wb") as handle:
        write_payload(payload, handle)
    with pytest.raises(ModelFileError, match="format 99, newer"):
        load_model(tiny_model, trust=True)


def test_other_sklearn_version_warns(tiny_model, caplog):
    payload = read_payload(tiny_model)
    payload["provenance"]["versions"]["scikit-learn"] = "0.1.0"
    with open(tiny_model, "wb") as handle:
        write_payload(payload, handle)
    with caplog.at_level("WARNING", logger="classify"):
        load_model(tiny_model, trust=True)
    assert "scikit-learn 0.1.0" in caplog.text and "retrain" in caplog.text


def test_failed_write_keeps_previous_model(tiny_model, monkeypatch):
    before = tiny_model.read_bytes()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persist, "write_payload", boom)
    model, provenance = load_model(tiny_model)
    with pytest.raises(ModelFileError, match="No space left.*previous model is untouched"):
        save_model(model, provenance, tiny_model)
    assert tiny_model.read_bytes() == before
    assert sorted(p.name for p in tiny_model.parent.iterdir()) == ["tiny.joblib", "tiny.joblib.sha256"]
    load_model(tiny_model)  # and it still verifies


def test_interrupted_write_keeps_previous_model(tiny_model, monkeypatch):
    before = tiny_model.read_bytes()
    model, provenance = load_model(tiny_model)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(persist, "write_payload", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, provenance, tiny_model)
    assert tiny_model.read_bytes() == before


def test_models_written_by_joblib_still_load(tiny_model):
    """classify 0.1 wrote models with joblib.dump: they load (and verify) as before."""
    payload = read_payload(tiny_model)
    joblib.dump(payload, tiny_model, compress=3)
    assert tiny_model.read_bytes()[:1] != persist.MAGIC[:1]
    model, provenance = load_model(tiny_model, trust=True)
    assert provenance == payload["provenance"] and list(model.tasks_) == ["topics", "sentiment"]


def test_pickle_of_wrong_thing(tmp_path):
    path = tmp_path / "list.joblib"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ModelFileError, match="not a classify model"):
        load_model(path, trust=True)
