"""A call's identity: the SHA-256 of its file's content; ``call_id`` is its first 16 hex digits.

The same recording under another name is the same call (the batch, the web uploads and the report
all use these functions)."""

from __future__ import annotations

import hashlib
from pathlib import Path

CALL_ID_HEX_DIGITS = 16
_CHUNK_BYTES = 4 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def call_id_of_sha256(sha256_hex: str) -> str:
    return sha256_hex[:CALL_ID_HEX_DIGITS]


def call_id_of_file(path: Path) -> str:
    return call_id_of_sha256(sha256_of(path))


def call_id_of_name(name: str) -> str:
    """For a call that is not a file (an inline transcript): the hash of its name."""
    return call_id_of_sha256(hashlib.sha256(name.encode()).hexdigest())
