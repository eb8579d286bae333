"""The sign-in throttle counts the connection's address: `X-Forwarded-For` is read only from a proxy named
with `--trust-proxy` (the real server, without its Whisper worker)."""

from __future__ import annotations

import re

import httpx

from pipeline.store import Store
from tests.web_helpers import Server, add_users

ATTEMPTS_PER_ADDRESS_AND_NAME = 10  # pipeline/web/throttle.py: failures per (address, name) in ten minutes


def _wrong_sign_ins(server: Server, count: int) -> list[int]:
    """``count`` wrong passwords for one name, each claiming another client address."""
    statuses = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(count):
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
            response = client.post("/signin", data={"name": "alice", "password": "wrong", "csrf_token": token, "next": "/"},
                                   headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
            statuses.append(response.status_code)
    return statuses


def test_a_forged_forwarded_for_does_not_escape_the_sign_in_throttle(tmp_path):
    db = tmp_path / "calls.db"
    with Store(db) as store:
        add_users(store)
    server = Server(db, tmp_path / "web", tmp_path / "server.log", "--no-worker").start()
    try:
        statuses = _wrong_sign_ins(server, ATTEMPTS_PER_ADDRESS_AND_NAME + 2)
    finally:
        server.stop()
    assert statuses[:ATTEMPTS_PER_ADDRESS_AND_NAME] == [401] * ATTEMPTS_PER_ADDRESS_AND_NAME
    assert statuses[ATTEMPTS_PER_ADDRESS_AND_NAME:] == [429, 429]  # one client however many addresses it claims


def test_behind_a_trusted_proxy_each_forwarded_client_is_throttled_apart(tmp_path):
    db = tmp_path / "calls.db"
    with Store(db) as store:
        add_users(store)
    server = Server(db, tmp_path / "web", tmp_path / "server.log", "--no-worker", "--trust-proxy", "127.0.0.1").start()
    try:
        statuses = _wrong_sign_ins(server, ATTEMPTS_PER_ADDRESS_AND_NAME + 2)
    finally:
        server.stop()
    assert statuses == [401] * (ATTEMPTS_PER_ADDRESS_AND_NAME + 2)  # twelve clients, one failure each
