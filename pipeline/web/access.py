"""Who may see which call. Coaches and admins see every call; a rep sees a call when it is theirs by
the store (``calls.rep`` is their user name: their batch archive folder, or their upload) or when they
uploaded that very recording.

Two reps who upload the same bytes share one analysis (Whisper runs once), but not each other's upload: a
rep who is not the call's owner sees it under their own file name and name, without the coaches' notes
on the owner's call (``owns``)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.store.database import Store
from pipeline.store.records import CallRow
from pipeline.web.accounts import User

CALL_ID = re.compile(r"^[0-9a-f]{16}$")


def uploaded_by(store: Store, user: User) -> set[str]:
    rows = store.db.execute("SELECT DISTINCT call_id FROM uploads WHERE user_id = ? AND status = 'accepted'", (user.user_id,))
    return {row[0] for row in rows}


def can_see(store: Store, user: User, row: CallRow) -> bool:
    if user.is_coach or row.rep == user.name:
        return True
    return store.db.execute(
        "SELECT 1 FROM uploads WHERE call_id = ? AND user_id = ? AND status = 'accepted'", (row.call_id, user.user_id)
    ).fetchone() is not None


def own_calls(store: Store, user: User) -> list[CallRow]:
    """A user's own calls (theirs by rep name, or uploaded by them), newest first. For a rep these are all
    the calls they may open; coaches open every call (``can_see``)."""
    mine = uploaded_by(store, user)
    rows = [row for row in store.calls() if row.rep == user.name or row.call_id in mine]
    return sorted(rows, key=lambda r: (r.call_date or "", r.updated_at), reverse=True)


def owns(user: User, row: CallRow) -> bool:
    """The call is the user's own (coaches review every call): its notes and its rep name are theirs."""
    return user.is_coach or row.rep == user.name


def display_names(store: Store, viewer: User | None = None) -> dict[str, str]:
    """call_id -> what to call it on a page: the uploader's file name, else the archive file's name. A rep
    sees their own uploads' names, never another rep's name for the same recording."""
    names = {}
    query = "SELECT call_id, filename FROM uploads WHERE status = 'accepted' AND call_id IS NOT NULL"
    params: tuple = ()
    if viewer is not None and not viewer.is_coach:
        query, params = query + " AND user_id = ?", (viewer.user_id,)
    for call_id, filename in store.db.execute(query + " ORDER BY uploaded_at DESC", params):
        names[call_id] = filename  # oldest upload wins (written last)
    return names


def name_of(row: CallRow, names: dict[str, str]) -> str:
    return names.get(row.call_id) or Path(row.source).name
