"""Discovery for the nightly batch: every call under an archive folder, content-sniffed (a recording is
whatever PyAV opens; a transcript is a JSON object with turns), identified by the SHA-256 of its content
(cached by path, size and mtime in the store), with its rep and date read from the path."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

import av

from pipeline.audio.formats import AUDIO_SUFFIXES
from pipeline.errors import CallcoachError
from pipeline.identity import call_id_of_sha256, sha256_of
from pipeline.store.database import Store
from pipeline.store.records import DiscoveredCall, FileInfo

_MAX_JSON_BYTES = 50_000_000
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)|(?<!\d)(\d{4})(\d{2})(\d{2})(?:\d{6})?(?!\d)")


@dataclass
class Discovery:
    files_seen: int = 0
    calls: list[DiscoveredCall] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (relative path, relative path of the first copy)
    not_calls: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why)


def sniff(path: Path) -> tuple[Literal["audio", "transcript", "other"], float | None, str | None]:
    """What a file is, by content: ``(kind, duration_s, why-not)``. Transcripts are JSON objects with
    ``turns``; recordings are anything PyAV opens with an audio stream; a file named like a recording
    that does not open is kept as a (broken) recording so that it is reported, not silently skipped."""
    size = path.stat().st_size
    if size == 0:
        return ("audio", None, None) if path.suffix.lower() in AUDIO_SUFFIXES else ("other", None, "empty file")
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _sniff_json(path, size)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if container.streams.audio:
                duration = container.duration / 1_000_000 if container.duration else None
                return "audio", duration, None
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError):
        pass
    if path.suffix.lower() in AUDIO_SUFFIXES:
        return "audio", None, None
    return "other", None, "not a recording or a transcript"


def _sniff_json(path: Path, size: int) -> tuple[Literal["transcript", "other"], None, str | None]:
    if size > _MAX_JSON_BYTES:
        return "other", None, "JSON too large for a transcript"
    try:
        data = json.loads(path.read_text("utf-8-sig"))
    except (ValueError, OSError):
        return "other", None, "not valid JSON"
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        return "other", None, "JSON without turns"
    if "pipeline_version" in data and "meeting" in data:
        return "other", None, "a callcoach report"
    if path.suffix.lower() != ".json":
        return "other", None, "transcript not named *.json"
    return "transcript", None, None


def call_date_of(relative: PurePosixPath, mtime_s: float) -> str:
    """YYYY-MM-DD from the file name (YYYY-MM-DD or YYYYMMDD[hhmmss]), else from its folders, else the mtime."""
    for part in [relative.name, *reversed(relative.parent.parts)]:
        for match in _DATE_IN_NAME.finditer(part):
            numbers = [int(g) for g in match.groups() if g is not None]
            try:
                return date(*numbers).isoformat()
            except ValueError:
                continue
    return datetime.fromtimestamp(mtime_s).date().isoformat()


def rep_of(relative: PurePosixPath, pattern: re.Pattern[str] | None) -> str | None:
    """The rep: the first folder under the archive (``archive/<rep>/...``), or the ``rep`` group of
    ``pattern`` searched in the relative path. None for a file directly in the archive or no match."""
    if pattern is not None:
        match = pattern.search(relative.as_posix())
        return (match.group("rep") or None) if match else None
    return relative.parts[0] if len(relative.parts) > 1 else None


def customer_of(relative: PurePosixPath, pattern: re.Pattern[str] | None) -> str | None:
    """The customer: the ``customer`` group of ``pattern`` searched in the relative path (recorder apps name
    files ``13812345678_20261201_1030.m4a``); None without a pattern or a match (the call's words decide)."""
    match = pattern.search(relative.as_posix()) if pattern is not None else None
    return (match.group("customer") or None) if match else None


def compile_path_pattern(text: str | None, group: str, option: str, example: str) -> re.Pattern[str] | None:
    """A --rep-pattern / --customer-pattern: a regular expression with the named group ``group``."""
    if text is None:
        return None
    try:
        pattern = re.compile(text)
    except re.error as error:
        raise CallcoachError(f"{option} is not a valid regular expression: {error}") from error
    if group not in pattern.groupindex:
        raise CallcoachError(f"{option} needs a named group '{group}', e.g. '{example}'")
    return pattern


def compile_rep_pattern(text: str | None) -> re.Pattern[str] | None:
    return compile_path_pattern(text, "rep", "--rep-pattern", "^(?P<rep>[^/]+)/")


def compile_customer_pattern(text: str | None) -> re.Pattern[str] | None:
    return compile_path_pattern(text, "customer", "--customer-pattern", r"(?P<customer>1[3-9]\d{9})_")


def _walk(archive: Path, exclude: set[Path]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(archive):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() not in exclude)
        for name in sorted(files):
            if not name.startswith(".") and (here / name).resolve() not in exclude:
                yield here / name


def discover(archive: Path, store: Store, out: Path, rep_pattern: re.Pattern[str] | None = None,
             customer_pattern: re.Pattern[str] | None = None) -> Discovery:
    """Every call under ``archive``: content-sniffed, hashed (cached by path/size/mtime in the store),
    one entry per distinct content. The report folder ``out`` and the store's own files are not searched."""
    archive = archive.resolve()
    out = out.resolve()
    excluded = {out, *(Path(f"{store.path}{suffix}").resolve() for suffix in ("", "-wal", "-shm", "-journal"))}
    found = Discovery()
    first_copy: dict[str, str] = {}
    fresh: list[FileInfo] = []
    for path in _walk(archive, excluded):
        try:
            stat = path.stat()
        except OSError:
            continue  # vanished or a dangling link
        if not path.is_file():
            continue
        found.files_seen += 1
        relative = PurePosixPath(path.relative_to(archive).as_posix())
        info = store.cached_file(str(path), stat.st_size, stat.st_mtime_ns)
        if info is None:
            try:
                kind, duration_s, detail = sniff(path)
                digest = sha256_of(path)
            except OSError as error:
                found.not_calls.append((str(relative), f"cannot read ({error.strerror or error})"))
                continue
            info = FileInfo(str(path), stat.st_size, stat.st_mtime_ns, digest, kind, duration_s, detail)
            fresh.append(info)
        if info.kind == "other":
            found.not_calls.append((str(relative), info.detail or "not a call"))
            continue
        if info.sha256 in first_copy:
            found.duplicates.append((str(relative), first_copy[info.sha256]))
            continue
        first_copy[info.sha256] = str(relative)
        found.calls.append(
            DiscoveredCall(
                call_id=call_id_of_sha256(info.sha256),  # the id the report carries
                sha256=info.sha256,
                source=str(path),
                kind=info.kind,
                rep=rep_of(relative, rep_pattern),
                call_date=call_date_of(relative, stat.st_mtime),
                duration_s=info.duration_s,
                report_path=str(out / relative.parent / relative.stem),
                customer=customer_of(relative, customer_pattern),
            )
        )
    if fresh:
        store.remember_files(fresh)
    return found
