"""Recording file types: the suffixes callcoach treats as recordings and the MIME type a browser plays."""

from __future__ import annotations

AUDIO_MIME = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
    ".amr": "audio/amr",
    ".wma": "audio/x-ms-wma",
    ".3gp": "audio/3gpp",
}
# A file with one of these suffixes that does not decode is a broken recording (reported), not a stray file.
AUDIO_SUFFIXES = frozenset(AUDIO_MIME)
# PyAV container format names -> the suffix a stored upload gets (the decoder does not need it, people do).
CONTAINER_SUFFIXES = {
    "mp3": ".mp3", "wav": ".wav", "flac": ".flac", "ogg": ".ogg", "aac": ".aac", "amr": ".amr",
    "mov,mp4,m4a,3gp,3g2,mj2": ".m4a", "matroska,webm": ".webm", "asf": ".wma", "caf": ".caf", "aiff": ".aiff",
}


def mime_of(suffix: str) -> str:
    return AUDIO_MIME.get(suffix.lower(), "application/octet-stream")
