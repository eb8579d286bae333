import pytest

from pipeline.audio import whisper_models as models
from pipeline.errors import CallcoachError


def test_base_model_is_assembled_verified_and_atomic(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCOACH_MODELS_DIR", str(tmp_path))
    assert models.status("base").state == "not prepared"
    folder = models.prepare_base()
    assert (folder / "model.bin").stat().st_size == models.MODEL_SPECS["base"].size_bytes
    assert models.sha256_of(folder / "model.bin") == models.MODEL_SPECS["base"].sha256
    assert not list(folder.glob("model.bin.tmp*")), "no partial file may be left behind"
    assert models.status("base", deep=True).state == "ready"

    # A damaged model.bin is noticed (not silently loaded) and repaired by prepare.
    with open(folder / "model.bin", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0" * 16)
    assert models.status("base", deep=True).state == "corrupt"
    models.prepare_base()
    assert models.status("base", deep=True).state == "ready"


def test_unknown_model_name_fails_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(CallcoachError) as caught:
        models.resolve("large-v3")
    assert "not available offline" in str(caught.value) and "\n" not in str(caught.value)


def test_local_folder_must_hold_a_ctranslate2_model(tmp_path):
    with pytest.raises(CallcoachError, match="no model.bin"):
        models.resolve(str(tmp_path))
    (tmp_path / "model.bin").write_bytes(b"x")
    assert models.resolve(str(tmp_path)) == str(tmp_path)
