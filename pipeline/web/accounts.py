"""Users, passwords (argon2id) and server-side sign-in sessions, in the store's v3 tables.

A session is a random token in an HttpOnly cookie; the store keeps only its SHA-256, so a copy of the
database does not let anyone sign in. Each session carries its own CSRF token (see ``pipeline.web.app``).
Signing out deletes the row: the cookie is worthless afterwards.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.errors import CallcoachError
from pipeline.store.database import Store

Role = Literal["rep", "coach", "admin"]
ROLES: tuple[Role, ...] = ("rep", "coach", "admin")
MIN_PASSWORD_LENGTH = 8
# A user name is also the rep name the batch reads from archive folders: keep it folder-safe and short.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps sign-in time the same for unknown names.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role
    disabled: bool
    ui_language: str | None = None  # "zh" / "en"; None: as the browser asks

    @property
    def is_coach(self) -> bool:
        return self.role in ("coach", "admin")

    @property
    def can_upload(self) -> bool:
        return self.role in ("rep", "admin")


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: float


def _user(row) -> User:
    return User(row["user_id"], row["name"], row["role"], bool(row["disabled"]), row["ui_language"])


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise CallcoachError(f"user name {name!r}: use 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CallcoachError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    return password


def add_user(store: Store, name: str, role: str, password: str) -> User:
    check_name(name)
    check_password(password)
    if role not in ROLES:
        raise CallcoachError(f"role {role!r}: choose rep, coach or admin")
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise CallcoachError(f"user {name} exists already (callcoach users passwd {name} to change the password)")
        db.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, role, _hasher.hash(password), time.time()),
        )
    user = get_user(store, name)
    assert user is not None
    return user


def get_user(store: Store, name: str) -> User | None:
    row = store.db.execute("SELECT user_id, name, role, disabled, ui_language FROM users WHERE name = ?", (name,)).fetchone()
    return _user(row) if row else None


def list_users(store: Store) -> list[User]:
    return [_user(row) for row in store.db.execute("SELECT user_id, name, role, disabled, ui_language FROM users ORDER BY name")]


def set_password(store: Store, name: str, password: str) -> None:
    check_password(password)
    with store.transaction() as db:
        row = db.execute("SELECT user_id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise CallcoachError(f"no user {name}")
        db.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", (_hasher.hash(password), row[0]))
        db.execute("DELETE FROM web_sessions WHERE user_id = ?", (row[0],))  # signed out everywhere


def set_ui_language(store: Store, user: User, language: str | None) -> None:
    """The user's interface language ("zh", "en"), or None to follow the browser."""
    if language not in (None, "zh", "en"):
        raise CallcoachError(f"unknown interface language {language!r}")
    with store.transaction() as db:
        db.execute("UPDATE users SET ui_language = ? WHERE user_id = ?", (language, user.user_id))


def change_password(store: Store, user: User, current: str, new: str) -> None:
    """A user changing their own password: the current one must be right; every session of theirs ends."""
    if authenticate(store, user.name, current) is None:
        raise CallcoachError("the current password is wrong")
    set_password(store, user.name, new)


def set_disabled(store: Store, name: str, disabled: bool) -> None:
    with store.transaction() as db:
        row = db.execute("SELECT user_id FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise CallcoachError(f"no user {name}")
        db.execute("UPDATE users SET disabled = ? WHERE user_id = ?", (int(disabled), row[0]))
        if disabled:
            db.execute("DELETE FROM web_sessions WHERE user_id = ?", (row[0],))


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user whose name and password these are (and who is not disabled), else None."""
    row = store.db.execute(
        "SELECT user_id, name, role, disabled, ui_language, password_hash FROM users WHERE name = ?", (name,)
    ).fetchone()
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row["disabled"]:
        return None
    if _hasher.check_needs_rehash(stored):  # argon2 parameters were raised since this hash was made
        with store.transaction() as db:
            db.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", (_hasher.hash(password), row["user_id"]))
    return _user(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: Store, user: User, hours: float) -> str:
    """A new session for ``user``; returns the token for the cookie (the store keeps only its hash)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with store.transaction() as db:
        db.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now,))
        db.execute(
            "INSERT INTO web_sessions (token_sha256, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_digest(token), user.user_id, secrets.token_urlsafe(32), now, now + hours * 3600),
        )
    return token


def session_of(store: Store, token: str | None) -> Session | None:
    """The live session of a cookie token (not expired, user not disabled), else None."""
    if not token or len(token) > 200:
        return None
    row = store.db.execute(
        "SELECT u.user_id, u.name, u.role, u.disabled, u.ui_language, s.csrf_token, s.expires_at FROM web_sessions s "
        "JOIN users u USING (user_id) WHERE s.token_sha256 = ?",
        (_digest(token),),
    ).fetchone()
    if row is None or row["expires_at"] < time.time() or row["disabled"]:
        return None
    return Session(_user(row), row["csrf_token"], row["expires_at"])


def close_session(store: Store, token: str | None) -> None:
    if token:
        with store.transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE token_sha256 = ?", (_digest(token),))
