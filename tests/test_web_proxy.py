"""The sign-in throttle counts the connection's address: `X-Forwarded-For` is read only from a proxy named
with `--trust-proxy` (the real server, without its Whisper worker)."""

from __future__ import annotations

import re

import httpx
import pytest

from pipeline.store import Store
from pipeline.web.throttle import FAILURES_PER_ADDRESS_AND_NAME
from tests.web_helpers import Server, add_users

ATTEMPTS = FAILURES_PER_ADDRESS_AND_NAME + 2


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


@pytest.mark.parametrize("serve_options, expected", [
    # a forged header does not escape the throttle: one client however many addresses it claims
    ((), [401] * FAILURES_PER_ADDRESS_AND_NAME + [429, 429]),
    # behind a trusted proxy each forwarded client is throttled apart: twelve clients, one failure each
    (("--trust-proxy", "127.0.0.1"), [401] * ATTEMPTS),
], ids=["no-proxy-trusted", "behind-a-trusted-proxy"])
def test_forwarded_for_is_read_only_from_a_trusted_proxy(tmp_path, serve_options, expected):
    db = tmp_path / "calls.db"
    with Store(db) as store:
        add_users(store)
    server = Server(db, tmp_path / "web", tmp_path / "server.log", "--no-worker", *serve_options).start()
    try:
        statuses = _wrong_sign_ins(server, ATTEMPTS)
    finally:
        server.stop()
    assert statuses == expected
