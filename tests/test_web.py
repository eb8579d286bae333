"""The web app's security and limits, through FastAPI's TestClient (no worker process: nothing is
analysed here; tests/test_web_server.py and tests/test_web_e2e.py run the real server)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.store import Store
from pipeline.web.app import create_app
from pipeline.web.config import WebConfig
from pipeline.web.queue import next_task
from tests.conftest import SAMPLES
from tests.web_helpers import CONCRETE_PUSH, PASSWORDS, add_done_call, add_users, csrf_of, sign_in

SAMPLE = SAMPLES / "en_video_call.mp3"


@pytest.fixture(scope="module")
def text_analyzer():
    from pipeline.analyze import Analyzer

    return Analyzer()  # transcripts only here: Whisper never loads


@pytest.fixture
def web(tmp_path, text_analyzer):
    """A store with users alice and bob (reps), carol (coach), root (admin); one done call of alice's,
    uploaded by her, whose transcript and file name try to inject markup."""
    db = tmp_path / "calls.db"
    with Store(db) as store:
        add_users(store)
        hostile = {**CONCRETE_PUSH, "turns": [*CONCRETE_PUSH["turns"],
                                              {"speaker": "customer", "text": '<script>alert("pwned")</script> bye', "start": 13.0, "end": 14.0}]}
        call_id = add_done_call(store, text_analyzer, hostile, "alice", tmp_path / "web" / "reports", source="alice-1.json",
                                uploader="alice", label='<img src=x onerror=alert(1)>.mp3')
    config = WebConfig(db=db, data_dir=tmp_path / "web", start_worker=False, max_upload_bytes=400_000, uploads_per_hour=5)
    return {"config": config, "call_id": call_id, "db": db, "tmp": tmp_path}


def client_for(web, **overrides) -> TestClient:
    config = web["config"] if not overrides else WebConfig(**{**web["config"].__dict__, **overrides})
    return TestClient(create_app(config))


def test_every_page_but_sign_in_needs_a_session(web):
    call = web["call_id"]
    with client_for(web) as client:
        for path in ["/", "/calls", "/dashboard", "/team", f"/calls/{call}", f"/calls/{call}/report",
                     f"/calls/{call}/audio", "/feedback.jsonl"]:
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/signin?next="), path
        assert client.get("/api/calls").status_code == 401
        assert client.post("/uploads", content=b"x", headers={"X-CSRF-Token": "x"}).status_code == 401
        assert client.get("/signin").status_code == 200
        # after signing in, the page asked for first is where the browser lands
        response = client.get(f"/calls/{call}", follow_redirects=False)
        target = response.headers["location"].split("next=")[1]
        page = client.get("/signin?next=" + target)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        next_value = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
        response = client.post("/signin", data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token,
                                                "next": next_value}, follow_redirects=False)
        assert response.headers["location"] == f"/calls/{call}"


def test_sign_in_cookie_flags_wrong_password_and_sign_out(web):
    with client_for(web) as client:
        page = client.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        wrong = client.post("/signin", data={"name": "alice", "password": "nope", "csrf_token": token})
        assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
        unknown = client.post("/signin", data={"name": "mallory", "password": "nope", "csrf_token": token})
        assert unknown.status_code == 401 and "Wrong name or password" in unknown.text
        response = client.post("/signin", data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token},
                               follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert "cc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie  # plain http://127.0.0.1 (docs/web.md: --secure-cookies behind HTTPS)
        session_token = client.cookies.get("cc_session")
        csrf = csrf_of(client)
        assert client.get("/calls").status_code == 200
        out = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/signin"
    # the old cookie is worthless: the session row is gone
    with client_for(web) as replay:
        replay.cookies.set("cc_session", session_token)
        assert replay.get("/calls", follow_redirects=False).status_code == 303
    with client_for(web, secure_cookies=True) as client:
        page = client.get("/signin")
        assert "Secure" in page.headers["set-cookie"]


def test_passwords_are_stored_as_argon2_hashes(web):
    with Store(web["db"]) as store:
        hashes = [row[0] for row in store.db.execute("SELECT password_hash FROM users")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(password in h for h in hashes for password in PASSWORDS.values())


def test_repeated_wrong_passwords_are_throttled(web):
    with client_for(web) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
        codes = [client.post("/signin", data={"name": "bob", "password": f"guess{i}", "csrf_token": token}).status_code
                 for i in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        # even the right password waits now
        assert client.post("/signin", data={"name": "bob", "password": PASSWORDS["bob"], "csrf_token": token}).status_code == 429


async def _burst(app, name: str, n: int, address: str = "203.0.113.7") -> list[int]:
    """n sign-in attempts sent at once from one client address (argon2 runs in threads meanwhile)."""
    import asyncio

    import httpx

    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/signin")).text).group(1)
        responses = await asyncio.gather(*(client.post("/signin", data={"name": name, "password": f"guess{i}", "csrf_token": token})
                                           for i in range(n)))
    return [r.status_code for r in responses]


def test_a_parallel_burst_of_wrong_passwords_is_counted_whole(web):
    """The outside test's attack: 3 bursts of 40 parallel wrong passwords were all checked; now 10 are."""
    import asyncio

    with client_for(web) as client:  # runs the app's lifespan (store ready)
        codes = [code for _ in range(3) for code in asyncio.run(_burst(client.app, "bob", 40))]
    assert codes.count(401) == 10 and codes.count(429) == 110


def test_wrong_passwords_from_elsewhere_do_not_lock_the_rep_out(web):
    """Another client failing on bob's name is throttled; bob, from his own address, still signs in."""
    import asyncio

    with client_for(web) as client:
        assert asyncio.run(_burst(client.app, "bob", 12, address="198.51.100.9")).count(429) == 2
        sign_in(client, "bob")  # TestClient's own address


def test_one_address_spraying_names_is_throttled_too(web):
    import asyncio

    from pipeline.web.throttle import FAILURES_PER_ADDRESS, FAILURES_PER_ADDRESS_AND_NAME

    with client_for(web) as client:
        names = FAILURES_PER_ADDRESS // FAILURES_PER_ADDRESS_AND_NAME
        codes = [code for i in range(names) for code in asyncio.run(_burst(client.app, f"user{i}", FAILURES_PER_ADDRESS_AND_NAME))]
        assert codes.count(401) == FAILURES_PER_ADDRESS
        assert asyncio.run(_burst(client.app, "alice", 1)) == [429]


def test_the_throttle_stays_bounded_without_forgetting_who_is_at_the_limit():
    from pipeline.web.throttle import SigninThrottle

    now = [0.0]
    throttle = SigninThrottle(per_address_and_name=3, per_address=1000, max_keys=100, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.try_attempt("10.0.0.1", "bob") is not None
    assert throttle.try_attempt("10.0.0.1", "bob") is None
    for i in range(5000):  # names sprayed once each from many addresses
        throttle.try_attempt(f"10.1.{i // 250}.{i % 250}", f"name{i}")
    assert len(throttle) <= 100
    assert throttle.try_attempt("10.0.0.1", "bob") is None  # still at its limit: not wiped
    now[0] = 601.0
    assert throttle.try_attempt("10.0.0.1", "bob") is not None  # the window passed
    attempt = throttle.try_attempt("10.0.0.2", "carol")
    attempt.succeeded()
    assert throttle.try_attempt("10.0.0.2", "carol") is not None and len(throttle._times[("address_name", "10.0.0.2", "carol")]) == 1


def _routes(routes):
    """Every route of an app, inside included routers too."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else [route]


def test_every_post_without_the_csrf_token_is_rejected(web):
    app = create_app(web["config"])
    posts = sorted({route.path for route in _routes(app.routes) if "POST" in getattr(route, "methods", set())})
    assert posts == ["/account/language", "/account/password", "/calls/{call_id}/delete", "/calls/{call_id}/feedback",
                     "/calls/{call_id}/feedback/all-correct", "/signin", "/signout", "/uploads"]  # a new form must join this test
    call = web["call_id"]
    with TestClient(app) as client:
        # sign-in: the form token must match the sign-in cookie
        client.get("/signin")
        for bad in ({}, {"csrf_token": "forged"}, {"csrf_token": "größer"}):
            response = client.post("/signin", data={"name": "alice", "password": PASSWORDS["alice"], **bad})
            assert response.status_code == 403 and "security token" in response.text
        for name in ("alice", "carol"):
            client.cookies.clear()
            csrf = sign_in(client, name)
            for bad in ({}, {"csrf_token": "forged"}):
                assert client.post("/signout", data=bad).status_code == 403
                assert client.post(f"/calls/{call}/feedback", data={"finding": "meeting.pushed", "verdict": "wrong", **bad}).status_code == 403
                assert client.post(f"/calls/{call}/delete", data=bad).status_code == 403
                assert client.post(f"/calls/{call}/feedback/all-correct", data=bad).status_code == 403
                assert client.post("/account/language", data={"language": "zh", **bad}).status_code == 403
                assert client.post("/account/password", data={"current": "x", "new": "y" * 12, "repeat": "y" * 12, **bad}).status_code == 403
                headers = {"X-CSRF-Token": bad["csrf_token"]} if bad else {}
                assert client.post("/uploads", content=SAMPLE.read_bytes(), headers=headers).status_code == 403
            # a token that is not even ASCII is refused the same way (not a server error)
            assert client.post("/signout", data={"csrf_token": "größer"}).status_code == 403
            assert client.get("/calls" if name == "alice" else "/dashboard").status_code == 200  # still signed in
            assert csrf
    with Store(web["db"]) as store:
        assert store.db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM uploads WHERE status = 'accepted'").fetchone()[0] == 1  # the fixture's


def test_a_rep_never_sees_another_reps_calls(web):
    call = web["call_id"]
    with client_for(web) as client:
        sign_in(client, "bob")
        for path in [f"/calls/{call}", f"/calls/{call}/report", f"/calls/{call}/audio"]:
            response = client.get(path)
            assert response.status_code == 403, path
            assert "belongs to another rep" in response.text and "Traceback" not in response.text
        assert client.get("/api/calls").json() == {"calls": []}
        assert call not in client.get("/calls").text
        assert client.get("/dashboard").status_code == 403
        assert client.get("/team").status_code == 403
        assert client.get("/feedback.jsonl").status_code == 403
        assert client.get("/calls/0123456789abcdef").status_code == 404
        assert client.get("/calls/../../etc/passwd").status_code == 404
    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        assert client.get(f"/calls/{call}").status_code == 200
        assert client.get(f"/calls/{call}/report").status_code == 200
        assert [c["call_id"] for c in client.get("/api/calls").json()["calls"]] == [call]
        # a rep cannot judge findings, not even on their own call
        assert client.post(f"/calls/{call}/feedback", data={"csrf_token": csrf, "finding": "meeting.pushed", "verdict": "wrong"}).status_code == 403
    with client_for(web) as client:
        sign_in(client, "carol")
        assert client.get(f"/calls/{call}").status_code == 200
        assert call in client.get("/dashboard").text


def test_script_injection_is_rendered_inert(web):
    call = web["call_id"]
    with client_for(web) as client:
        sign_in(client, "carol")
        report = client.get(f"/calls/{call}/report")
        assert report.status_code == 200
        assert '&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;' in report.text or "&lt;script&gt;alert(" in report.text
        assert '<script>alert("pwned")' not in report.text
        # the page's own inline script is allowed by hash, nothing else
        csp = report.headers["content-security-policy"]
        assert "'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        for path in ["/dashboard", f"/calls/{call}"]:
            page = client.get(path)
            assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;.mp3" in page.text, path
            assert "script-src 'self'" in page.headers["content-security-policy"]
        team = client.get("/team")
        assert team.status_code == 200 and "<script" not in team.text
    with client_for(web) as client:
        sign_in(client, "alice")
        assert "&lt;img src=x onerror=alert(1)&gt;.mp3" in client.get("/calls").text


def upload(client, csrf: str, data, name: str = "call.mp3", **headers):
    return client.post("/uploads", content=data, headers={"X-CSRF-Token": csrf, "X-Filename": name, **headers})


def stored_files(web) -> list[Path]:
    folder = web["config"].uploads_dir
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_an_upload_is_queued_under_a_server_chosen_name(web):
    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        response = upload(client, csrf, SAMPLE.read_bytes(), name="..%2F..%2F..%2Fetc%2Fpasswd.mp3")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["name"] == "passwd.mp3" and body["status"] == "queued" and not body["duplicate"]
        again = upload(client, csrf, SAMPLE.read_bytes(), name="copy.mp3")
        assert again.json()["duplicate"] is True and again.json()["call_id"] == body["call_id"]
    files = stored_files(web)
    assert [f.name for f in files] == [f"{__import__('hashlib').sha256(SAMPLE.read_bytes()).hexdigest()}.mp3"]
    assert not (web["tmp"] / "etc").exists()
    with Store(web["db"]) as store:
        row = store.call(body["call_id"])
        assert row.status == "queued" and row.rep == "alice" and row.source == str(files[0])
        task = next_task(store)
        assert task is not None and task.call_id == body["call_id"]
        assert task.report_path == str(web["config"].reports_dir / body["call_id"])


def test_oversized_uploads_are_refused_before_filling_the_disk(web):
    big = SAMPLE.read_bytes() * 3  # ~510 KB, over the 400 KB limit
    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        declared = upload(client, csrf, big)
        assert declared.status_code == 413 and "too large" in declared.json()["error"]

        def chunks():  # no Content-Length: the limit is enforced while streaming
            for start in range(0, len(big), 65536):
                yield big[start:start + 65536]

        streamed = upload(client, csrf, chunks())
        assert streamed.status_code == 413
        page = client.post("/uploads", content=big, headers={"X-CSRF-Token": csrf, "Accept": "text/html"})
        assert page.status_code == 413
    assert stored_files(web) == []
    with Store(web["db"]) as store:
        reasons = [r[0] for r in store.db.execute("SELECT reason FROM uploads WHERE status = 'rejected'")]
    assert len(reasons) == 3 and all("too large" in r for r in reasons)


def test_non_audio_is_refused_by_content(web, tmp_path):
    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        text = upload(client, csrf, b"just some notes about the call\n" * 50, name="notes.mp3")
        assert text.status_code == 415 and "not a recording" in text.json()["error"]
        png = upload(client, csrf, bytes.fromhex("89504e470d0a1a0a") + b"\0" * 200, name="photo.m4a")
        assert png.status_code == 415
        empty = upload(client, csrf, b"", name="empty.wav")
        assert empty.status_code == 400
    assert stored_files(web) == []


def test_uploads_per_user_are_rate_limited(web):
    with client_for(web, uploads_per_hour=3) as client:  # alice uploaded the fixture's call just now: 1 of 3
        csrf = sign_in(client, "alice")
        assert upload(client, csrf, b"not audio").status_code == 415  # refused attempts count too
        assert upload(client, csrf, SAMPLE.read_bytes()).status_code == 201
        limited = upload(client, csrf, SAMPLE.read_bytes())
        assert limited.status_code == 429 and "too many uploads" in limited.json()["error"]
        client.cookies.clear()
        csrf = sign_in(client, "bob")  # per user
        assert upload(client, csrf, SAMPLE.read_bytes()).status_code == 201


def test_coaches_do_not_upload_and_errors_are_short_pages(web):
    with client_for(web) as client:  # an admin both uploads and coaches; "My calls" lists their own uploads
        csrf = sign_in(client, "root")
        mine = upload(client, csrf, SAMPLE.read_bytes(), name="root-call.mp3").json()["call_id"]
        assert [c["call_id"] for c in client.get("/api/calls").json()["calls"]] == [mine]
        assert "root-call.mp3" in client.get("/calls").text and web["call_id"] in client.get("/dashboard").text
    with client_for(web) as client:
        csrf = sign_in(client, "carol")
        assert client.get("/calls", follow_redirects=False).headers["location"] == "/dashboard"
        assert upload(client, csrf, SAMPLE.read_bytes()).status_code == 403
        bad = client.get("/dashboard?from=yesterday")
        assert bad.status_code == 400 and "must be a date" in bad.text and "Traceback" not in bad.text
        assert client.get("/nowhere").status_code == 404
        assert client.get("/dashboard?flag=distracted").status_code == 200
    with client_for(web) as client:
        page = client.get("/signin?next=//evil.example/x")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post("/signin", data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token,
                                                "next": "//evil.example/x"}, follow_redirects=False)
        assert response.headers["location"] == "/"  # no open redirect


def test_expired_sessions_and_disabled_users_are_signed_out(web):
    from pipeline.web import accounts

    with client_for(web) as client:
        sign_in(client, "alice")
        with Store(web["db"]) as store:
            store.db.execute("UPDATE web_sessions SET expires_at = ?", (time.time() - 1,))
        assert client.get("/calls", follow_redirects=False).status_code == 303
        sign_in(client, "alice")
        with Store(web["db"]) as store:
            accounts.set_disabled(store, "alice", True)
        assert client.get("/calls", follow_redirects=False).status_code == 303


def test_the_supervisor_restarts_a_dead_worker_and_fails_a_file_that_kills_it_twice(web):
    """The worker process is real (spawned, pipeline imported; Whisper loads only for a recording, so it
    stays idle here). A claim it holds when it is killed counts as a crash of that file."""
    import os
    import signal

    from pipeline.store import CRASHES_BEFORE_FAILED, DiscoveredCall, Owner
    from pipeline.store.records import _process_start
    from pipeline.web.queue import QueueSupervisor
    from tests.web_helpers import pid_gone, wait_for

    supervisor = QueueSupervisor(web["config"])
    supervisor.start()
    try:
        with Store(web["db"]) as store:
            store.enqueue([DiscoveredCall("feedfacefeedface", "f" * 64, "/nowhere/poison.mp3", "audio", "alice",
                                          "2026-11-20", None, str(web["tmp"] / "poison"))], {"audio": "f" * 16})
        for crash in range(1, CRASHES_BEFORE_FAILED + 1):
            process = supervisor.process
            wait_for(lambda p=process: p.is_alive() and _process_start(p.pid), 30, "the worker to start")
            with Store(web["db"]) as store:  # as if the worker had claimed the file and then crashed on it
                assert store.claim("feedfacefeedface", Owner(process.pid, Owner.current().host, _process_start(process.pid)),
                                   supervisor.run_id)
            os.kill(process.pid, signal.SIGKILL)
            wait_for(lambda p=process: pid_gone(p.pid), 30, "the worker to die")
            wait_for(lambda c=crash, p=process: supervisor.restarts == c and supervisor.process is not p, 30, "a restart")
            with Store(web["db"]) as store:
                row = store.call("feedfacefeedface")
            if crash < CRASHES_BEFORE_FAILED:
                assert (row.status, row.crashes) == ("queued", crash)
        assert row.status == "failed" and "worker process died" in row.error
        assert supervisor.process.is_alive()
    finally:
        supervisor.stop()
    assert not supervisor.process.is_alive()
    with Store(web["db"]) as store:
        assert store.runs()[-1]["status"] == "finished"


def _silent_flac(path: Path, seconds: float) -> Path:
    """Hours of digital silence compress to almost nothing: the outside test's 4 MB / 6 h file, shorter."""
    import av
    import numpy as np

    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=8000, layout="mono")
        block = np.zeros((1, 8000 * 60), dtype=np.int16)
        for _ in range(int(seconds // 60)):
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.rate = 8000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_a_recording_over_the_length_limit_is_refused_at_upload(web, tmp_path):
    long_silence = _silent_flac(tmp_path / "silence.flac", 40 * 60)
    assert long_silence.stat().st_size < 1_000_000  # small on disk: only its audio length gives it away
    with client_for(web, max_call_s=30 * 60.0, max_upload_bytes=2_000_000) as client:
        csrf = sign_in(client, "alice")
        refused = upload(client, csrf, long_silence.read_bytes(), name="silence.flac")
        assert refused.status_code == 413 and "too long" in refused.json()["error"], refused.text
        accepted = upload(client, csrf, SAMPLE.read_bytes(), name="call.mp3")
        assert accepted.status_code == 201
    with Store(web["db"]) as store:
        assert store.call(accepted.json()["call_id"]).duration_s == pytest.approx(43, abs=2)
    assert len(stored_files(web)) == 1


def test_trailing_garbage_does_not_inflate_the_length(web):
    damaged = SAMPLE.read_bytes() + bytes(range(256)) * 2000  # a valid MP3, then 500 KB of junk
    with client_for(web, max_upload_bytes=2_000_000) as client:
        csrf = sign_in(client, "alice")
        response = upload(client, csrf, damaged, name="damaged.mp3")
        assert response.status_code == 201, response.text
    with Store(web["db"]) as store:
        assert store.call(response.json()["call_id"]).duration_s == pytest.approx(43, abs=3)


def test_uploading_a_failed_recording_again_does_not_rerun_it(web):
    from pipeline.fingerprint import fingerprints
    from pipeline.store.records import Owner

    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        first = upload(client, csrf, SAMPLE.read_bytes()).json()
        with Store(web["db"]) as store:
            owner = Owner.current()
            assert store.claim(first["call_id"], owner)
            store.mark_failed(first["call_id"], owner, "call.mp3: cannot decode", "input", "x", "base",
                              fingerprint=fingerprints(web["config"].analyze)["audio"])
        again = upload(client, csrf, SAMPLE.read_bytes()).json()
        assert again["status"] == "failed" and again["duplicate"]
    with Store(web["db"]) as store:
        assert store.call(first["call_id"]).status == "failed" and next_task(store) is None


def test_the_queue_is_fair_across_reps(web, tmp_path):
    """Alice (served before: the fixture's call) drops three calls, then Bob one: Bob's goes first, not fourth;
    each rep's own calls keep their order."""
    from pipeline.store.records import Owner

    files = [SAMPLES / name for name in ("en_video_call.mp3", "en_dist_kids_adapts.mp3", "zh_wechat_downgrade.mp3")]
    files = [f for f in files if f.exists()] or [SAMPLE]
    variants = [f.read_bytes() + bytes(i + 1) for i, f in enumerate((files * 3)[:3])]  # distinct hashes
    with client_for(web, uploads_per_hour=50) as alice:
        csrf = sign_in(alice, "alice")
        alice_ids = [upload(alice, csrf, data, name=f"a{i}.mp3").json()["call_id"] for i, data in enumerate(variants)]
    with client_for(web, uploads_per_hour=50) as bob:
        csrf = sign_in(bob, "bob")
        bob_id = upload(bob, csrf, SAMPLE.read_bytes() + b"\0" * 7, name="b.mp3").json()["call_id"]
    order = []
    with Store(web["db"]) as store:
        owner = Owner.current()
        while (task := next_task(store)) is not None:
            order.append(task.call_id)
            assert store.claim(task.call_id, owner)
            time.sleep(0.01)  # claims in distinct instants
    assert order == [bob_id, *alice_ids]


def test_the_same_recording_from_another_rep_shares_the_analysis_not_the_upload(web):
    """Bob uploads the bytes Alice uploaded: he gets the analysis (no second Whisper run) under his own file
    name and name, and neither Alice's file name nor the coach's notes on Alice's call."""
    call = web["call_id"]
    with client_for(web) as coach:
        csrf = sign_in(coach, "carol")
        saved = coach.post(f"/calls/{call}/feedback", data={"csrf_token": csrf, "finding": "meeting.pushed", "verdict": "wrong",
                                                             "comment": "alice must fix her opener"}, follow_redirects=False)
        assert saved.status_code == 303
    with Store(web["db"]) as store:  # what accepting a duplicate upload records (tests/test_web.py covers the endpoint)
        bob = __import__("pipeline.web.accounts", fromlist=["get_user"]).get_user(store, "bob")
        with store.transaction() as db:
            db.execute("INSERT INTO uploads (user_id, call_id, filename, size, status, uploaded_at) VALUES (?, ?, 'bob-call.mp3', 1, 'accepted', ?)",
                       (bob.user_id, call, time.time()))
    with client_for(web) as client:
        sign_in(client, "bob")
        page = client.get(f"/calls/{call}")
        assert page.status_code == 200 and "bob-call.mp3" in page.text
        assert "alice must fix" not in page.text and "onerror" not in page.text and "alice" not in page.text.lower().split("<main", 1)[-1]
        listed = client.get("/api/calls").json()["calls"]
        assert [(c["name"], c["rep"], c["judgements"]) for c in listed] == [("bob-call.mp3", "bob", 0)]
        report = client.get(f"/calls/{call}/report")
        assert report.status_code == 200 and "bob-call.mp3" in report.text and "onerror" not in report.text
    with client_for(web) as client:  # Alice still sees her call as it was, notes included
        sign_in(client, "alice")
        page = client.get(f"/calls/{call}")
        assert "alice must fix" in page.text and "&lt;img src=x onerror=alert(1)&gt;.mp3" in page.text


def test_a_failure_reason_names_the_file_as_the_rep_called_it(web):
    from pipeline.store.records import Owner

    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        body = upload(client, csrf, SAMPLE.read_bytes(), name="Zhang Wei Tuesday.mp3").json()
        with Store(web["db"]) as store:
            stored = Path(store.call(body["call_id"]).source).name
            owner = Owner.current()
            assert store.claim(body["call_id"], owner)
            store.mark_failed(body["call_id"], owner, f"{stored}: audio damaged after 00:42", "input", "x", "base")
        listed = {c["call_id"]: c for c in client.get("/api/calls").json()["calls"]}
        assert listed[body["call_id"]]["error"] == "Zhang Wei Tuesday.mp3: audio damaged after 00:42"
        assert stored not in client.get(f"/calls/{body['call_id']}").text


def test_the_report_csp_allows_only_the_templates_own_script(web, monkeypatch):
    """Were a script ever to slip into the rendered report (an escaping bug), the CSP must not allow it."""
    import base64
    import hashlib

    from pipeline.web.routes import call as call_routes

    injected = 'alert("pwned")'
    real = call_routes.render_html
    monkeypatch.setattr(call_routes, "render_html", lambda report, audio: real(report, audio).replace("</body>", f"<script>{injected}</script></body>"))
    with client_for(web) as client:
        sign_in(client, "alice")
        csp = client.get(f"/calls/{web['call_id']}/report").headers["content-security-policy"]
    script_src = csp.split("script-src")[1].split(";")[0].split()
    bad = "'sha256-" + base64.b64encode(hashlib.sha256(injected.encode()).digest()).decode() + "'"
    assert len(script_src) == 1 and script_src[0].startswith("'sha256-") and bad not in script_src


def test_a_recording_too_short_to_judge_says_so(web):
    """The outside test's 1.3 s file was reported as a normal call."""
    with Store(web["db"]) as store, store.transaction() as db:
        db.execute("UPDATE calls SET duration_s = 1.3 WHERE call_id = ?", (web["call_id"],))
    with client_for(web) as client:
        sign_in(client, "alice")
        listed = client.get("/api/calls").json()["calls"]
        assert listed[0]["too_short"] is True
        assert "too short to judge" in client.get("/calls").text
        assert "too short to judge" in client.get(f"/calls/{web['call_id']}").text
    with client_for(web) as client:
        sign_in(client, "carol")
        assert "too short to judge" in client.get("/dashboard").text


def test_a_rep_deletes_an_upload_and_everything_of_it_goes(web):
    """Files, rows and reports go together; another rep's copy of the same recording stays until they delete
    it too; another rep cannot delete it; an admin can delete any call."""
    config = web["config"]
    with client_for(web) as alice:
        csrf_a = sign_in(alice, "alice")
        call = upload(alice, csrf_a, SAMPLE.read_bytes(), name="mine.mp3").json()["call_id"]
    with client_for(web) as bob:
        csrf_b = sign_in(bob, "bob")
        assert bob.post(f"/calls/{call}/delete", data={"csrf_token": csrf_b}).status_code == 403  # not his upload
        assert upload(bob, csrf_b, SAMPLE.read_bytes(), name="his.mp3").json()["duplicate"]
    with Store(web["db"]) as store:
        row = store.call(call)
    report_file = Path(f"{row.report_path}.json")
    report_file.parent.mkdir(parents=True, exist_ok=True)
    report_file.write_text("{}")  # as the worker would have written it
    from pipeline.audio.asr import ChannelWords
    from pipeline.audio.asr_cache import AsrCache

    AsrCache(config.asr_cache_dir).put(row.sha256, "k", ([ChannelWords([], 0.0)], "en", 1.0))  # as the worker would
    with client_for(web) as alice:
        csrf_a = sign_in(alice, "alice")
        gone = alice.post(f"/calls/{call}/delete", data={"csrf_token": csrf_a}, headers={"Accept": "application/json"})
        assert gone.json() == {"deleted": True, "call_removed": False}  # Bob's copy keeps the analysis
        assert alice.get(f"/calls/{call}").status_code == 403
    with Store(web["db"]) as store:
        assert store.call(call).rep == "bob" and stored_files(web) and report_file.exists()
    with client_for(web) as bob:
        csrf_b = sign_in(bob, "bob")
        assert bob.post(f"/calls/{call}/delete", data={"csrf_token": csrf_b}, follow_redirects=False).status_code == 303
    with Store(web["db"]) as store:
        assert store.call(call) is None
        assert store.db.execute("SELECT COUNT(*) FROM uploads WHERE call_id = ?", (call,)).fetchone()[0] == 0
    assert stored_files(web) == [] and not report_file.exists()
    assert AsrCache(config.asr_cache_dir).get(row.sha256, "k") is None  # what Whisper wrote of it went too
    with client_for(web) as root:  # an admin deletes another rep's call, notes and all
        csrf_r = sign_in(root, "root")
        assert root.post(f"/calls/{web['call_id']}/delete", data={"csrf_token": csrf_r}, follow_redirects=False).status_code == 303
    with Store(web["db"]) as store:
        assert store.call(web["call_id"]) is None
    assert config.uploads_dir.exists()


def test_each_user_has_a_storage_quota(web):
    size = len(SAMPLE.read_bytes())
    with client_for(web, storage_bytes_per_user=int(size * 1.5)) as client:
        csrf = sign_in(client, "alice")
        first = upload(client, csrf, SAMPLE.read_bytes(), name="one.mp3")
        assert first.status_code == 201
        full = upload(client, csrf, SAMPLE.read_bytes() + b"\0", name="two.mp3")
        assert full.status_code == 413 and "quota" in full.json()["error"]
        assert client.post(f"/calls/{first.json()['call_id']}/delete", data={"csrf_token": csrf}).status_code in (200, 303)
        assert upload(client, csrf, SAMPLE.read_bytes() + b"\0", name="two.mp3").status_code == 201


ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def test_a_chinese_browser_gets_a_chinese_shell_and_a_user_can_switch(web):
    with client_for(web) as client:
        signin_page = client.get("/signin", headers=ZH)
        assert '<html lang="zh-CN">' in signin_page.text and "登录" in signin_page.text and "Sign in" not in signin_page.text
        assert '<html lang="en">' in client.get("/signin", headers={"Accept-Language": "en-US,en;q=0.9"}).text
        csrf = sign_in(client, "alice")
        calls = client.get("/calls", headers=ZH).text
        assert "我的通话" in calls and "上传录音" in calls and "退出登录" in calls and "My calls" not in calls
        assert "Upload recordings" in client.get("/calls").text  # no header: English
        # alice chooses Chinese for herself: it holds whatever the browser says
        assert client.post("/account/language", data={"csrf_token": csrf, "language": "zh"}, follow_redirects=False).status_code == 303
        assert "我的通话" in client.get("/calls", headers={"Accept-Language": "en"}).text
        refused = client.get("/calls/0123456789abcdef", headers={"Accept": "application/json"})
        assert refused.status_code == 404 and refused.json()["error"] == "没有这通电话"
        client.post("/account/language", data={"csrf_token": csrf, "language": ""})
        assert "My calls" in client.get("/calls", headers={"Accept-Language": "en"}).text


def test_coach_notes_read_as_words_in_the_users_language(web):
    """Reps saw `meeting.concrete: wrong → True`; now the finding's name and value, in their language."""
    call = web["call_id"]
    with client_for(web) as coach:
        csrf = sign_in(coach, "carol")
        coach.post(f"/calls/{call}/feedback", data={"csrf_token": csrf, "finding": "meeting.concrete", "verdict": "wrong",
                                                    "comment": "no day was named"})
    with client_for(web) as rep:
        sign_in(rep, "alice")
        english = rep.get(f"/calls/{call}").text
        assert "The proposal was concrete (day, time or place)</b>: wrong → no" in english and "meeting.concrete" not in english.split("<aside", 1)[1].split("</aside>")[0].replace('data-finding="meeting.concrete"', "")
        chinese = rep.get(f"/calls/{call}", headers=ZH).text
        assert "邀约具体（日期、时间或地点）</b>: 错误 → 否" in chinese and "教练点评" in chinese


def test_all_correct_marks_what_the_coach_has_not_judged(web):
    from pipeline.store import feedback as fb

    call = web["call_id"]
    with client_for(web) as coach:
        csrf = sign_in(coach, "carol")
        coach.post(f"/calls/{call}/feedback", data={"csrf_token": csrf, "finding": "meeting.pushed", "verdict": "wrong"})
        done = coach.post(f"/calls/{call}/feedback/all-correct", data={"csrf_token": csrf}, headers={"Accept": "application/json"})
        assert done.status_code == 200 and "meeting.pushed" not in done.json()["marked"]
    with Store(web["db"]) as store:
        verdicts = {j.finding: j.verdict for j in fb.judgements(store, call)}
        findings = [f.key for f in fb.findings_of(store.report(call))]
    assert verdicts.pop("meeting.pushed") == "wrong" and set(verdicts) == set(findings) - {"meeting.pushed"}
    assert set(verdicts.values()) == {"correct"}
    with client_for(web) as rep:
        sign_in(rep, "alice")
        assert rep.post(f"/calls/{call}/feedback/all-correct", data={"csrf_token": csrf_of(rep)}).status_code == 403


def test_a_user_changes_their_password_in_the_browser(web):
    with client_for(web) as client:
        csrf = sign_in(client, "bob")
        wrong = client.post("/account/password", data={"csrf_token": csrf, "current": "nope", "new": "a-new-secret-9", "repeat": "a-new-secret-9"})
        assert wrong.status_code == 400 and "current password" in wrong.text
        differ = client.post("/account/password", data={"csrf_token": csrf, "current": PASSWORDS["bob"], "new": "a-new-secret-9", "repeat": "other-9999"})
        assert differ.status_code == 400
        done = client.post("/account/password", data={"csrf_token": csrf, "current": PASSWORDS["bob"], "new": "a-new-secret-9",
                                                      "repeat": "a-new-secret-9"}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/signin")
        assert client.get("/calls", follow_redirects=False).status_code == 303  # signed out everywhere, here too
        sign_in(client, "bob", "a-new-secret-9")


def test_the_dashboard_searches_by_file_name_and_pages(web):
    from pipeline.analyze import Analyzer

    analyzer = Analyzer()
    with Store(web["db"]) as store:
        for i in range(55):
            add_done_call(store, analyzer, CONCRETE_PUSH, "bob", web["tmp"] / "web" / "reports", source=f"bob-{i}.json",
                          uploader="bob", label=f"客户王总-{i:02d}-{'x' * 90}.mp3")
    with client_for(web) as coach:
        sign_in(coach, "carol")
        first = coach.get("/dashboard")
        assert first.text.count('<tr data-call="') == 50 and "page 1 of 2" in first.text
        second = coach.get("/dashboard?page=2")
        assert second.text.count('<tr data-call="') == 6
        found = coach.get("/dashboard", params={"q": "王总-07"})
        assert found.text.count('<tr data-call="') == 1 and "客户王总-07" in found.text
        assert coach.get("/dashboard", params={"q": "ALICE"}).text.count('<tr data-call="') == 1  # by rep, any case


def test_the_report_is_inline_not_in_a_frame(web):
    """The report sat in a fixed 850 px iframe (two scrollbars, unusable on a phone); now it is part of the
    page, still escaped, its style and script served under the app's CSP."""
    with client_for(web) as client:
        sign_in(client, "alice")
        page = client.get(f"/calls/{web['call_id']}")
        assert "<iframe" not in page.text and 'class="report-inline"' in page.text
        assert 'data-t="' in page.text  # the evidence timestamps the player seeks to
        assert '<script>alert("pwned")</script>' not in page.text and "&lt;script&gt;alert(" in page.text
        assert '<link rel="stylesheet" href="/report.css">' in page.text and '<script src="/report.js"></script>' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        css, js = client.get("/report.css"), client.get("/report.js")
        assert css.status_code == 200 and css.text.startswith(".report-inline {") and ":root" not in css.text
        assert js.status_code == 200 and "player" in js.text and js.headers["content-type"].startswith("text/javascript")


def test_uploads_are_sniffed_in_a_child_process_with_a_timeout(tmp_path):
    """FFmpeg parses untrusted bytes in a child process: a file it cannot finish within the timeout is
    refused, and the server process never opened it."""
    from pipeline.web.sniff import NotAudio, sniff

    found = sniff(SAMPLE, max_s=3600)
    assert found.format_name == "mp3" and 40 < found.duration_s < 46 and not found.over_limit
    with pytest.raises(NotAudio, match="within"):
        sniff(SAMPLE, max_s=3600, timeout_s=0.01)  # the child cannot even start in 10 ms


def test_the_workbench_is_for_coaches_and_escapes_what_it_shows(web):
    call = web["call_id"]
    with client_for(web) as rep:
        sign_in(rep, "alice")
        for path in ("/customers", "/customer?name=x", "/search?q=alert"):
            assert rep.get(path).status_code == 403, path
        page = rep.get(f"/calls/{call}").text
        assert 'id="talk-metrics"' in page  # the rep sees the call's talk figures beside the team's
    with client_for(web) as coach:
        sign_in(coach, "carol")
        found = coach.get("/search", params={"q": "alert"}).text
        hits = found.split('id="hits"', 1)[1]
        assert f'data-call="{call}"' in hits and "<script>" not in hits and "&lt;script&gt;" in hits
        assert "<mark>alert</mark>" in hits
        assert 'href="/calls/' + call + '#t=13.00"' in hits  # opens the call at the turn
        assert coach.get("/search", params={"q": 'NEAR("x'}).status_code == 200  # search syntax is text
        assert coach.get("/search", params={"since": "yesterday", "q": "x"}).status_code == 400
        assert coach.get("/customer", params={"name": "nobody"}).status_code == 404
        median = coach.get(f"/calls/{call}").text.split('id="talk-metrics"', 1)[1].split("</section>", 1)[0]
        assert 'data-metric="rep_talk_share"' in median and "%" in median


def test_an_upload_names_its_customer(web):
    from urllib.parse import quote

    with client_for(web) as client:
        csrf = sign_in(client, "alice")
        response = upload(client, csrf, SAMPLE.read_bytes(), **{"X-Customer": quote("王建国 · 华宫机械\x07")})
        assert response.status_code == 201, response.text
    with Store(web["db"]) as store:
        row = store.call(response.json()["call_id"])
    assert (row.customer, row.customer_source) == ("王建国 · 华宫机械", "upload")
