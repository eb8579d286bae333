"""Receiving a recording from a browser: size limit while streaming, content sniffing, a server-chosen
file name, and a row in the store's queue.

The client's file name is only ever a label (shown back to the user, HTML-escaped by the templates); the
file on disk is ``uploads/<sha256><suffix>``, where the suffix comes from the container PyAV found, so
nothing the client sends becomes part of a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.audio.formats import CONTAINER_SUFFIXES
from pipeline.fingerprint import fingerprints
from pipeline.identity import call_id_of_sha256
from pipeline.store.database import Store
from pipeline.store.records import DiscoveredCall
from pipeline.web.accounts import User
from pipeline.web.config import MIB, WebConfig
from pipeline.web.sniff import NotAudio, sniff

MAX_LABEL_CHARS = 120


class UploadRejected(Exception):
    """An upload refused with an HTTP status (413, 415, 400, 429) and a one-line reason for the user."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Received:
    path: Path  # the temporary file (in the incoming folder)
    size: int
    sha256: str


@dataclass(frozen=True)
class Accepted:
    call_id: str
    label: str
    status: str  # the call's state after this upload: queued, done, ...
    duplicate: bool  # the same recording was uploaded before


MAX_CUSTOMER_CHARS = 100


def customer_of(header: str | None) -> str | None:
    """The customer field of an upload (the X-Customer header, URL-encoded): trimmed, control characters
    dropped, at most MAX_CUSTOMER_CHARS; None when empty."""
    text = "".join(ch for ch in (header or "") if ch.isprintable()).strip()
    return text[:MAX_CUSTOMER_CHARS] or None


def label_of(filename: str | None) -> str:
    """What the user called the file, made safe to store and show: last path component only, no control
    characters, bounded length. Never used as a path."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    return name[:MAX_LABEL_CHARS] or "recording"


def uploads_in_last_hour(store: Store, user: User, now: float | None = None) -> int:
    now = time.time() if now is None else now
    row = store.db.execute(
        "SELECT COUNT(*) FROM uploads WHERE user_id = ? AND uploaded_at > ?", (user.user_id, now - 3600)
    ).fetchone()
    return int(row[0])


def check_rate(store: Store, user: User, config: WebConfig) -> None:
    if uploads_in_last_hour(store, user) >= config.uploads_per_hour:
        raise UploadRejected(429, f"too many uploads: at most {config.uploads_per_hour} per hour; try again later")


def bytes_stored(store: Store, user: User) -> int:
    """What the user's accepted uploads take, each recording once (one shared with another rep counts for both)."""
    row = store.db.execute(
        "SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(u.size) AS size FROM uploads u JOIN calls c USING (call_id) "
        "WHERE u.user_id = ? AND u.status = 'accepted' GROUP BY u.call_id)", (user.user_id,)).fetchone()
    return int(row[0])


def check_quota(store: Store, user: User, size: int, config: WebConfig) -> None:
    if bytes_stored(store, user) + size > config.storage_bytes_per_user:
        raise UploadRejected(413, f"storage quota reached ({config.storage_bytes_per_user // MIB} MB): delete older uploads first")


def check_declared_size(content_length: str | None, config: WebConfig) -> None:
    """Refuse before reading a byte when the client announces a body over the limit."""
    if content_length is None:
        return
    try:
        declared = int(content_length)
    except ValueError as error:
        raise UploadRejected(400, "invalid Content-Length") from error
    if declared > config.max_upload_bytes:
        raise UploadRejected(413, f"file too large: the limit is {config.max_upload_bytes // (1024 * 1024)} MB")


async def receive(chunks: AsyncIterator[bytes], config: WebConfig) -> Received:
    """Stream a request body into a temporary file, hashing it; stop and delete it as soon as it passes
    the size limit (a client may lie about, or omit, Content-Length)."""
    config.incoming_dir.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=config.incoming_dir, prefix="upload-", suffix=".part", delete=False)
    path = Path(handle.name)
    digest = hashlib.sha256()
    size = 0
    try:
        with handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > config.max_upload_bytes:
                    raise UploadRejected(413, f"file too large: the limit is {config.max_upload_bytes // (1024 * 1024)} MB")
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise UploadRejected(400, "empty file")
    return Received(path, size, digest.hexdigest())


def sniff_audio(path: Path, config: WebConfig) -> tuple[str, float]:
    """``(suffix, duration_s)`` of a recording PyAV can decode, by content (the name is ignored), measured
    in a child process. Raises UploadRejected: 415 for anything else (a renamed text file, an image, a
    video without sound), 413 for a recording longer than the server's limit."""
    try:
        found = sniff(path, config.max_call_s)
    except NotAudio as error:
        raise UploadRejected(415, str(error)) from error
    if found.over_limit:  # demuxing stopped at the limit: how much more there was is not known
        raise UploadRejected(413, f"recording too long: more than {config.max_call_s / 60:.0f} minutes of audio, "
                                  "the server's limit")
    return CONTAINER_SUFFIXES.get(found.format_name, ".audio"), found.duration_s


def record_rejection(store: Store, user: User, label: str, size: int | None, reason: str) -> None:
    """Rejected attempts count towards the rate limit and stay visible for the admin."""
    with store.transaction() as db:
        db.execute(
            "INSERT INTO uploads (user_id, call_id, filename, size, status, reason, uploaded_at) "
            "VALUES (?, NULL, ?, ?, 'rejected', ?, ?)",
            (user.user_id, label, size, reason, time.time()),
        )


def accept(store: Store, user: User, received: Received, label: str, config: WebConfig,
           customer: str | None = None) -> Accepted:
    """Keep a received recording under its content hash and queue it for analysis (unless the same
    recording is already in the store), in the uploader's name; ``customer`` is who the rep says the call
    was with (it names the call's customer when the call is the uploader's own)."""
    try:
        check_quota(store, user, received.size, config)
        suffix, duration_s = sniff_audio(received.path, config)
    except UploadRejected:
        received.path.unlink(missing_ok=True)
        raise
    config.uploads_dir.mkdir(parents=True, exist_ok=True)
    stored = config.uploads_dir / f"{received.sha256}{suffix}"
    if stored.exists():
        received.path.unlink()
    else:
        os.chmod(received.path, 0o640)
        os.replace(received.path, stored)  # same folder tree: atomic, never a half-written recording
    call_id = call_id_of_sha256(received.sha256)
    existing = store.call(call_id)
    analysis = fingerprints(config.analyze)
    # A recording that failed under this very analysis fails again: uploading it once more must not cost
    # the worker another run. A failure recorded under another analysis (a new version or model) is retried;
    # a crash records none, and is not.
    failed_again = existing is not None and existing.status == "failed" and existing.fingerprint in (None, analysis.get("audio"))
    if existing is None or (existing.status == "failed" and not failed_again):
        call = DiscoveredCall(
            call_id=call_id,
            sha256=received.sha256,
            source=str(stored),
            kind="audio",
            rep=user.name if existing is None else existing.rep,
            call_date=date.today().isoformat() if existing is None else existing.call_date,
            duration_s=duration_s,
            report_path=str(config.reports_dir / call_id),
        )
        store.enqueue([call], analysis, retry_failed=True)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO uploads (user_id, call_id, filename, size, status, reason, uploaded_at, customer) "
            "VALUES (?, ?, ?, ?, 'accepted', NULL, ?, ?)",
            (user.user_id, call_id, label, received.size, time.time(), customer),
        )
    row = store.call(call_id)
    if customer and row is not None and row.rep == user.name:
        store.name_customer(call_id, customer)
    return Accepted(call_id, label, row.status if row else "queued", existing is not None)
