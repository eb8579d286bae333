"""End to end in a real browser: headless Chromium (the system's, driven by Playwright) against
`callcoach serve` in a subprocess, with real Whisper on a bundled sample.

rep signs in → uploads a recording (drag-and-drop input, progress) → waits for done → opens the report
→ plays from an evidence timestamp; coach signs in → sees the call on the dashboard → marks a finding
wrong → `callcoach feedback export` contains it; then the same pages on a 390 px phone in a Chinese
browser: Chinese shell, nothing wider than the screen, the player still seeks.

Screenshots of each page go to $CALLCOACH_SCREENSHOTS (docs/screenshots when refreshing the committed
ones; CI keeps them under out/screenshots), else to the test's temporary folder.

Without Chromium or the playwright package the test skips, unless CALLCOACH_REQUIRE_BROWSER=1 (set by
.ci/run), where it fails: CI must run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.web_helpers import PASSWORDS, ROOT, Server

pytestmark = pytest.mark.whisper
SAMPLE = SAMPLES / "en_dist_kids_adapts.mp3"  # 37 s, the shortest bundled call


def _unavailable(reason: str):
    if os.environ.get("CALLCOACH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required here (CALLCOACH_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    path = os.environ.get("CALLCOACH_CHROMIUM") or next(
        (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
    )
    if not path:
        _unavailable("no Chromium found (apt-get install chromium, or set CALLCOACH_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True,
                                             args=["--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CALLCOACH_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def callcoach(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=120, check=True)


def sign_in(page, url: str, name: str) -> None:
    page.goto(url + "/")
    page.wait_for_url("**/signin**")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#signin")


def switch_user(page, url: str, name: str) -> None:
    page.click("#signout")
    page.wait_for_url("**/signin")
    sign_in(page, url, name)


def _fits(page) -> bool:
    """Nothing makes the page scroll sideways (tables may scroll inside their own card)."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def _page_collecting_errors(context):
    """A new page and the list its script errors and console errors go to (console errors include
    Content-Security-Policy violations: a blocked script or style of our own)."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page, errors


def test_rep_uploads_coach_reviews_export_has_it(chromium, tmp_path, shots):
    db, data = tmp_path / "calls.db", tmp_path / "web"
    callcoach("users", "add", "alice", "--role", "rep", "--db", str(db), "--password-stdin", stdin=PASSWORDS["alice"] + "\n")
    callcoach("users", "add", "carol", "--role", "coach", "--db", str(db), "--password-stdin", stdin=PASSWORDS["carol"] + "\n")
    server = Server(db, data, tmp_path / "server.log").start()
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page, errors = _page_collecting_errors(context)
    try:
        # ---- rep
        page.goto(server.url + "/calls")
        page.wait_for_url("**/signin?next=%2Fcalls")
        page.screenshot(path=shots / "01-sign-in.png")
        page.fill("#name", "alice")
        page.fill("#password", PASSWORDS["alice"])
        page.click("#signin")
        page.wait_for_url("**/calls")
        page.set_input_files("#files", str(SAMPLE))  # what a drop does: the same handler uploads each file
        page.wait_for_selector(".upload-item.ok")
        assert "uploaded" in page.inner_text(".upload-item.ok .state")
        assert page.get_attribute(".upload-item progress", "value") == "100"
        row = page.locator("#calls-body tr[data-call]")
        row.first.wait_for()  # the list is refreshed by script after the upload answers: wait, do not race it
        assert row.count() == 1 and SAMPLE.name in row.inner_text()
        # Dropping a text file renamed .mp3 onto the drop zone: refused by content, said in the list.
        dropped = page.evaluate_handle(
            """() => { const data = new DataTransfer();
                       data.items.add(new File(["minutes of the meeting, not a recording"], "notes.mp3", {type: "audio/mpeg"}));
                       return data; }"""
        )
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})
        page.wait_for_selector(".upload-item.failed")
        assert "refused (415)" in page.inner_text(".upload-item.failed .state")
        page.screenshot(path=shots / "02-rep-upload.png")
        page.wait_for_selector("#calls-body .status-done", timeout=300_000)  # the list refreshes itself
        page.screenshot(path=shots / "03-rep-calls.png")
        call_id = row.get_attribute("data-call")

        page.click(f"#calls-body tr[data-call='{call_id}'] a")
        page.wait_for_url(f"**/calls/{call_id}")
        report = page.locator("#report")  # inline, not a frame
        evidence = report.locator("table.ev button.ts")
        evidence.first.wait_for()
        assert report.locator("text=" + SAMPLE.name).count() >= 1  # the upload's name, not the server's path
        page.screenshot(path=shots / "04-rep-report.png")
        assert evidence.count() >= 1
        target_s = float(evidence.first.get_attribute("data-t"))
        evidence.first.click()
        page.wait_for_function("() => { const p = document.getElementById('player'); return p && !p.paused && p.currentTime > 0; }")
        position = page.evaluate("() => document.getElementById('player').currentTime")
        assert target_s - 0.5 <= position <= target_s + 5, (target_s, position)  # played from the quoted moment
        assert report.locator("#timeline").count() == 1 and report.locator(".turn").count() > 3
        page.evaluate("() => document.getElementById('player').pause()")
        page.screenshot(path=shots / "05-rep-report-evidence.png")

        # ---- coach
        switch_user(page, server.url, "carol")
        page.wait_for_url("**/dashboard")
        listed = page.locator(f"#calls tr[data-call='{call_id}']")
        assert listed.count() == 1 and "alice" in listed.inner_text() and "done" in listed.inner_text()
        page.frame_locator("iframe.team").locator("h1").wait_for()
        page.screenshot(path=shots / "06-coach-dashboard.png", full_page=True)
        page.select_option("#filter-rep", "alice")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**/dashboard?*rep=alice*")
        assert page.locator(f"#calls tr[data-call='{call_id}']").count() == 1

        page.click(f"#calls tr[data-call='{call_id}'] a")
        page.wait_for_url(f"**/calls/{call_id}")
        finding = page.locator("form[data-finding='meeting.pushed']")
        said = finding.locator(".value").inner_text()
        finding.locator("input[value=wrong]").check()
        finding.locator("textarea[name=comment]").fill("Listen at 0:30: that was a push for a visit.")
        finding.locator("button[type=submit]").click()
        page.wait_for_function("() => document.querySelector(\"form[data-finding='meeting.pushed'] .saved\").textContent === 'saved'")
        page.locator("form[data-finding='meeting.concrete'] input[value=correct]").check()
        page.locator("form[data-finding='meeting.concrete'] button[type=submit]").click()
        page.wait_for_function("() => document.querySelector(\"form[data-finding='meeting.concrete'] .saved\").textContent === 'saved'")
        page.screenshot(path=shots / "07-coach-review.png")
        download = context.request.get(server.url + "/feedback.jsonl")
        assert download.status == 200 and call_id in download.text()
        page.click("#signout")
        page.wait_for_url("**/signin")

        # ---- the same call on a phone (390 px), in a Chinese browser: Chinese shell, nothing wider than the screen
        phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2,
                                     extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        mobile = phone.new_page()
        mobile.set_default_timeout(30_000)
        mobile.on("pageerror", lambda error: errors.append(str(error)))
        mobile.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        try:
            sign_in(mobile, server.url, "alice")
            mobile.wait_for_url("**/calls")
            assert mobile.get_attribute("html", "lang") == "zh-CN" and "我的通话" in mobile.inner_text("h1")
            assert "已完成" in mobile.inner_text(f"#calls-body tr[data-call='{call_id}']")
            assert _fits(mobile), "the call list is wider than the phone"
            mobile.screenshot(path=shots / "08-zh-phone-calls.png", full_page=True)
            mobile.click(f"#calls-body tr[data-call='{call_id}'] a")
            mobile.wait_for_url(f"**/calls/{call_id}")
            assert "教练点评" in mobile.inner_text("#findings") and "销售通话辅导报告" not in mobile.inner_text("#findings")
            assert _fits(mobile), "the report is wider than the phone"
            mobile.locator("#report table.ev button.ts").first.click()
            mobile.wait_for_function("() => { const p = document.getElementById('player'); return p && !p.paused; }")
            mobile.evaluate("() => document.getElementById('player').pause()")
            mobile.screenshot(path=shots / "09-zh-phone-report.png")
            switch_user(mobile, server.url, "carol")
            mobile.wait_for_url("**/dashboard")
            assert "团队看板" in mobile.inner_text("h1") and _fits(mobile), "the dashboard is wider than the phone"
            mobile.screenshot(path=shots / "10-zh-phone-dashboard.png")
            mobile.click(f"#calls tr[data-call='{call_id}'] a")
            mobile.wait_for_url(f"**/calls/{call_id}")
            assert "结论对不对" in mobile.inner_text("#findings") and _fits(mobile)
            mobile.locator("#findings").scroll_into_view_if_needed()
            mobile.screenshot(path=shots / "11-zh-phone-review.png")
        finally:
            phone.close()
    finally:
        context.close()
        server.stop()

    # No JavaScript errors or CSP violations on any page (the refused drop logs its 415 response).
    assert [e for e in errors if "status of 415" not in e] == []
    exported = [json.loads(line) for line in callcoach("feedback", "export", "--db", str(db)).stdout.splitlines()]
    assert [line["id"] for line in exported] == [call_id]
    judgements = {j["finding"]: j for j in exported[0]["feedback"]}
    assert judgements["meeting.pushed"]["verdict"] == "wrong" and judgements["meeting.pushed"]["coach"] == "carol"
    assert judgements["meeting.pushed"]["comment"] == "Listen at 0:30: that was a push for a visit."
    assert exported[0]["labels"]["meeting"]["pushed"] is (said != "yes")  # the coach's correction is the label
    assert judgements["meeting.concrete"]["verdict"] == "correct"


ZH_SAMPLE = SAMPLES / "zh_concrete_visit_accepted.mp3"  # 王总 agrees to 周四下午两点 at his factory


def _word_inside_a_turn(report: dict) -> tuple[str, dict]:
    """A Chinese word of two characters or more from the middle of a turn (not its first word), with the turn:
    taken from what Whisper wrote on this machine, not from one expected wording."""
    import jieba

    for turn in report["turns"]:
        words = [w for w in jieba.cut(turn["text"]) if len(w) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in w)]
        if turn["start"] is not None and turn["start"] > 5 and len(words) >= 3:
            return words[1], turn
    raise AssertionError("no Chinese turn with words to search for")


def test_coach_finds_a_customer_and_a_word_and_plays_from_the_hit(chromium, tmp_path, shots):
    """The workbench: the batch names the customer from the file name; the coach sees them flagged on the
    dashboard (a meeting agreed, no call since), opens the customer page, searches a Chinese word of the
    transcript, and the hit opens the call playing from that turn."""
    archive, db = tmp_path / "archive", tmp_path / "calls.db"
    (archive / "li").mkdir(parents=True)
    shutil.copy(ZH_SAMPLE, archive / "li" / "13812345678_20261201_1030.mp3")
    subprocess.run([sys.executable, "-m", "pipeline.cli", "batch", str(archive), "--db", str(db), "--out",
                    str(tmp_path / "reports"), "--workers", "1", "--customer-pattern", r"(?P<customer>1[3-9]\d{9})_", "-q"],
                   cwd=ROOT, check=True, timeout=600)
    listed = json.loads(callcoach("calls", "--db", str(db), "--format", "json").stdout)
    assert [row["status"] for row in listed] == ["done"]
    call_id = listed[0]["call_id"]
    assert len(list((tmp_path / "calls.asr-cache").rglob("*.json.gz"))) == 1  # kept for a re-analysis
    report = json.loads((tmp_path / "reports" / "li" / "13812345678_20261201_1030.json").read_text("utf-8"))
    word, turn = _word_inside_a_turn(report)
    callcoach("users", "add", "carol", "--role", "coach", "--db", str(db), "--password-stdin", stdin=PASSWORDS["carol"] + "\n")
    server = Server(db, tmp_path / "web", tmp_path / "server.log", "--no-worker").start()
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                   extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page, errors = _page_collecting_errors(context)
    try:
        sign_in(page, server.url, "carol")
        page.wait_for_url("**/dashboard")
        needs_push = page.locator("#needs-push")
        if report["meeting"]["outcome"] == "accepted":  # what the analysis decided on this machine's transcript
            assert "13812345678" in needs_push.inner_text() and "之后没有再通话" in needs_push.inner_text()
        page.click("#nav-customers")
        page.wait_for_url("**/customers")
        page.click("#customers a:has-text('13812345678')")
        page.wait_for_url("**/customer?name=13812345678")
        assert page.locator(f"#customer-calls tr[data-call='{call_id}']").count() == 1
        assert "2026-12-01" in page.inner_text("#customer-calls")
        page.screenshot(path=shots / "12-coach-customer.png", full_page=True)

        page.click("#nav-search")
        page.fill("#search-q", word)
        page.click("#search button[type=submit]")
        page.wait_for_url("**/search?q=*")
        hit = page.locator(f"#hits li[data-call='{call_id}'][data-turn='{turn['index']}']")
        assert hit.count() == 1, (word, page.inner_text("main"))
        assert word in hit.inner_text()
        assert word in hit.locator("mark").all_inner_texts()  # the word is marked in the hit
        page.screenshot(path=shots / "13-coach-search.png")
        hit.locator("a").click()
        page.wait_for_url(f"**/calls/{call_id}#t=*")
        page.wait_for_function("() => { const p = document.getElementById('player'); return p && !p.paused && p.currentTime > 0; }")
        position = page.evaluate("() => document.getElementById('player').currentTime")
        assert turn["start"] - 0.5 <= position <= turn["start"] + 5, (turn["start"], position)
        assert page.locator(f"#turn-{turn['index']}.current").count() == 1  # the turn is shown
        page.evaluate("() => document.getElementById('player').pause()")
    finally:
        context.close()
        server.stop()
    assert errors == []
