"""Settings of one web server (built by `callcoach serve` from its options, or by tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.options import AnalyzeOptions

MIB = 1024 * 1024
SESSION_COOKIE = "cc_session"
SIGNIN_COOKIE = "cc_signin"  # double-submit CSRF token of the sign-in form


@dataclass(frozen=True)
class WebConfig:
    db: Path
    data_dir: Path  # uploads/ (recordings under server-chosen names) and reports/ live here
    max_upload_bytes: int = 200 * MIB  # a 2-hour call as 16 kHz stereo WAV is ~460 MB; as MP3 a tenth of that
    uploads_per_hour: int = 60  # per user, rejected attempts included
    storage_bytes_per_user: int = 5 * 1024 * MIB  # accepted uploads a user may keep; deleting frees space
    max_call_s: float = 3 * 3600.0  # longer recordings are refused at upload (measured from the audio packets)
    session_hours: float = 12.0  # a sign-in lasts one working day
    secure_cookies: bool = False  # True behind HTTPS; browsers drop Secure cookies on plain http://127.0.0.1
    start_worker: bool = True  # False: accept uploads but analyse nothing (security tests, a read-only replica)
    worker_poll_s: float = 1.0
    analyze: AnalyzeOptions = field(default_factory=AnalyzeOptions)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def incoming_dir(self) -> Path:
        return self.data_dir / "uploads" / ".incoming"  # partial uploads; never analysed

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def asr_cache_dir(self) -> Path:
        return self.data_dir / "asr-cache"  # what Whisper wrote of each upload (pipeline/audio/asr_cache.py)
