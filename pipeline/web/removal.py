"""Deleting uploads (what they take counts against the user's quota: ``uploads.bytes_stored``).

A rep deletes their own upload; an admin any call. Two reps may share one analysis (the same bytes): a
rep's delete takes only their upload away, and the call with its recording, reports and judgements goes
when no upload of it is left — or at once when an admin deletes it. A call a worker is analysing waits.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.audio.asr_cache import AsrCache
from pipeline.report.files import FORMATS
from pipeline.store.database import Store
from pipeline.store.records import CallRow
from pipeline.web.accounts import User
from pipeline.web.config import WebConfig
from pipeline.web.errors import Refused


def can_delete(store: Store, user: User, row: CallRow) -> bool:
    if user.role == "admin":
        return True
    return store.db.execute("SELECT 1 FROM uploads WHERE call_id = ? AND user_id = ? AND status = 'accepted'",
                            (row.call_id, user.user_id)).fetchone() is not None


def delete(store: Store, user: User, row: CallRow, config: WebConfig) -> bool:
    """Remove the user's upload of ``row`` (an admin: the whole call). True when the call itself went."""
    if not can_delete(store, user, row):
        raise Refused(403, "only the rep who uploaded a call, or an admin, can delete it")
    if row.status == "processing":
        raise Refused(409, "this call is being analysed: delete it when it is done")
    with store.transaction() as db:
        others = db.execute("SELECT DISTINCT user_id FROM uploads WHERE call_id = ? AND status = 'accepted' AND user_id != ?",
                            (row.call_id, user.user_id)).fetchall()
        if others and user.role != "admin":
            db.execute("DELETE FROM uploads WHERE call_id = ? AND user_id = ?", (row.call_id, user.user_id))
            if row.rep == user.name:  # the call passes to the next uploader, without this rep's coaching notes
                heir = db.execute("SELECT name FROM users WHERE user_id = ?", (others[0][0],)).fetchone()
                db.execute("UPDATE calls SET rep = ? WHERE call_id = ?", (heir[0], row.call_id))
                db.execute("DELETE FROM feedback WHERE call_id = ?", (row.call_id,))
            return False
    gone = store.delete_call(row.call_id)
    if gone is None:
        raise Refused(409, "this call is being analysed: delete it when it is done")
    _remove_files(gone, config)
    return True


def _remove_files(row: CallRow, config: WebConfig) -> None:
    """The recording (only one the web app stored) and every report file of the call."""
    source = Path(row.source)
    if source.parent.resolve() == config.uploads_dir.resolve():
        source.unlink(missing_ok=True)
    if row.report_path:
        for fmt in FORMATS:
            Path(f"{row.report_path}.{fmt}").unlink(missing_ok=True)
    AsrCache(config.asr_cache_dir).forget(row.sha256)  # what Whisper wrote of it goes too
