"""Shared by the web app tests: a store with users, signing in, calls with finished reports, a real
server process on a free port."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pipeline.store import DiscoveredCall, Owner, Store
from pipeline.transcript import transcript_from_dict
from pipeline.web import accounts

PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-22", "carol": "carol-secret-3", "root": "root-secret-44"}
ROLES = {"alice": "rep", "bob": "rep", "carol": "coach", "root": "admin"}
ROOT = Path(__file__).resolve().parent.parent

CONCRETE_PUSH = {
    "language": "en",
    "turns": [
        {"speaker": "rep", "text": "Hi Mr. Hadley, this is Tom from Brennan Compressors. Is now a good time?", "start": 0.5, "end": 4.0},
        {"speaker": "customer", "text": "Sure, I have a few minutes.", "start": 4.5, "end": 6.0},
        {"speaker": "rep", "text": "Could I visit your plant on Thursday at ten to look at the compressors?", "start": 6.5, "end": 10.0},
        {"speaker": "customer", "text": "Thursday at ten works. See you then.", "start": 10.5, "end": 12.5},
    ],
}


def add_users(store: Store) -> None:
    for name, role in ROLES.items():
        accounts.add_user(store, name, role, PASSWORDS[name])


def add_done_call(store: Store, analyzer, transcript: dict, rep: str, reports_dir: Path, *, source: str,
                  uploader: str | None = None, label: str | None = None, call_date: str = "2026-11-20") -> str:
    """A finished call in the store, analysed from a transcript (the text path of the real pipeline)."""
    report = analyzer.analyze_transcript(transcript_from_dict(transcript), source=source)
    call_id = report.call_id
    call = DiscoveredCall(call_id, hashlib.sha256(source.encode()).hexdigest(), source, "transcript", rep, call_date, None,
                          str(reports_dir / call_id))
    store.enqueue([call], {"transcript": report.analysis_fingerprint})
    owner = Owner.current()
    assert store.claim(call_id, owner)
    assert store.mark_done(call_id, owner, report, None, "json")
    if uploader is not None:
        user = accounts.get_user(store, uploader)
        assert user is not None
        with store.transaction() as db:
            db.execute(
                "INSERT INTO uploads (user_id, call_id, filename, size, status, uploaded_at) VALUES (?, ?, ?, 1, 'accepted', ?)",
                (user.user_id, call_id, label or "call.mp3", time.time()),
            )
    return call_id


def sign_in(client, name: str, password: str | None = None):
    """Sign a TestClient or httpx.Client in; returns the page's CSRF token."""
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/signin", data={"name": name, "password": password or PASSWORDS[name], "csrf_token": token, "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client)


def csrf_of(client) -> str:
    page = client.get("/", follow_redirects=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`callcoach serve` in a subprocess (the real thing: uvicorn, the worker process, real Whisper)."""

    def __init__(self, db: Path, data: Path, log: Path, *extra: str):
        self.db, self.data, self.log_path, self.extra = db, data, log, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60) -> Server:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "serve", "--port", str(self.port), "--db", str(self.db),
             "--data", str(self.data), "--verbose", *self.extra],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/signin", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not come up:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown at all (the worker dies with it, by PR_SET_PDEATHSIG)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.log.close()


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
